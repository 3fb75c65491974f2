/* Image framing: see include/image.h for the format and the steps. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "image: "
#include "image.h"
#include "log.h"

#define IMG_BUF_SIZE	(64u * 1024u)
#define IMG_NAME_MAX	64

struct cr_img {
	int fd;
	int dirfd;			/* writer: where to rename on commit; -1 reader */
	bool writer;
	const struct img_desc *desc;
	uint32_t nr_entries;
	uint64_t offset;		/* file offset of the next byte, for messages */
	char name[IMG_NAME_MAX];
	char part[IMG_NAME_MAX + 8];
	/* Buffer: reader holds [pos, len) unread; writer holds [0, len) unwritten. */
	size_t pos, len;
	uint8_t buf[IMG_BUF_SIZE];
};

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static uint32_t get_le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static struct cr_img *img_alloc(const struct img_desc *desc, const char *name)
{
	struct cr_img *img = calloc(1, sizeof(*img));

	if (!img) {
		pr_err("out of memory");
		return NULL;
	}
	img->fd = img->dirfd = -1;
	img->desc = desc;
	snprintf(img->name, sizeof(img->name), "%s", name);
	return img;
}

static int format_name(const struct img_desc *desc, unsigned int id, char *buf, size_t size)
{
	int n = snprintf(buf, size, desc->fmt, id);

	if (n < 0 || (size_t)n >= size) {
		pr_err("image name for %s too long", desc->name);
		return -1;
	}
	return 0;
}

/* ---- writing ---------------------------------------------------------- */

static int write_all(struct cr_img *img, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len) {
		ssize_t n = write(img->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pr_perror("can't write %s", img->name);
			return -1;
		}
		p += n;
		len -= n;
		img->offset += n;
	}
	return 0;
}

static int img_flush(struct cr_img *img)
{
	int ret = write_all(img, img->buf, img->len);

	img->len = 0;
	return ret;
}

/* Buffered append; large chunks bypass the buffer. */
static int img_put(struct cr_img *img, const void *data, size_t len)
{
	if (img->len + len > IMG_BUF_SIZE && img_flush(img))
		return -1;
	if (len >= IMG_BUF_SIZE)
		return write_all(img, data, len);
	memcpy(img->buf + img->len, data, len);
	img->len += len;
	return 0;
}

struct cr_img *img_create(int dirfd, enum img_kind kind, unsigned int id)
{
	const struct img_desc *desc = img_desc(kind);
	char name[IMG_NAME_MAX];
	struct cr_img *img;
	uint8_t magic[4];

	if (!desc || format_name(desc, id, name, sizeof(name)))
		return NULL;
	img = img_alloc(desc, name);
	if (!img)
		return NULL;
	img->writer = true;
	snprintf(img->part, sizeof(img->part), ".%s.part", name);
	unlinkat(dirfd, img->part, 0);
	img->fd = openat(dirfd, img->part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (img->fd < 0) {
		pr_perror("can't create %s", img->part);
		free(img);
		return NULL;
	}
	img->dirfd = dirfd;
	if (desc->magic) {
		put_le32(magic, desc->magic);
		if (img_put(img, magic, sizeof(magic))) {
			img_abort(img);
			return NULL;
		}
	}
	return img;
}

int img_write_entry(struct cr_img *img, const ProtobufCMessage *msg)
{
	const struct img_desc *d = img->desc;
	const ProtobufCMessageDescriptor *want = img_next_type(img);
	uint8_t hdr[4], stack[4096], *data = stack;
	size_t size;
	int ret;

	if (!want || msg->descriptor != want) {
		pr_err("%s: entry of type %s where %s belongs", img->name,
		       msg->descriptor->name, want ? want->name : "raw data");
		return -1;
	}
	if (d->max_entries && img->nr_entries >= d->max_entries) {
		pr_err("%s: more than %u entries", img->name, d->max_entries);
		return -1;
	}
	size = protobuf_c_message_get_packed_size(msg);
	if (size > d->max_entry) {
		pr_err("%s: entry of %zu bytes exceeds the %u byte cap", img->name, size, d->max_entry);
		return -1;
	}
	if (size > sizeof(stack)) {
		data = malloc(size);
		if (!data) {
			pr_err("out of memory");
			return -1;
		}
	}
	put_le32(hdr, size);
	protobuf_c_message_pack(msg, data);
	ret = img_put(img, hdr, sizeof(hdr)) ?: img_put(img, data, size);
	if (data != stack)
		free(data);
	if (!ret)
		img->nr_entries++;
	return ret;
}

/* Make a rename durable: the directory entry lives in the directory. */
static int sync_dir(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0;

	if (fd < 0 || fsync(fd)) {
		pr_perror("can't sync the images directory");
		ret = -1;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Flush, optionally sync, close and rename .part to the final name. */
static int commit(struct cr_img *img, bool durable)
{
	int ret = 0;

	if (img_flush(img))
		ret = -1;
	if (!ret && durable && fdatasync(img->fd)) {
		pr_perror("can't sync %s", img->name);
		ret = -1;
	}
	if (close(img->fd) && !ret) {
		pr_perror("can't close %s", img->name);
		ret = -1;
	}
	img->fd = -1;
	if (!ret && renameat(img->dirfd, img->part, img->dirfd, img->name)) {
		pr_perror("can't rename %s to %s", img->part, img->name);
		ret = -1;
	}
	if (!ret && durable && sync_dir(img->dirfd))
		ret = -1;
	if (ret)
		unlinkat(img->dirfd, img->part, 0);
	free(img);
	return ret;
}

int img_commit(struct cr_img *img)
{
	return commit(img, false);
}

/*
 * The file that vouches for the others: everything written to the images
 * filesystem so far (every image of the dump, raw page files included) is
 * made durable first with one syncfs(), then this file's data, then its
 * name. One sync for the whole dump instead of two per image.
 */
int img_commit_durable(struct cr_img *img)
{
	/* @dirfd may be O_PATH or AT_FDCWD: syncfs() needs a real descriptor */
	int fd = openat(img->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || syncfs(fd)) {
		pr_perror("can't sync the images filesystem before %s", img->name);
		if (fd >= 0)
			close(fd);
		img_abort(img);
		return -1;
	}
	close(fd);
	return commit(img, true);
}

void img_abort(struct cr_img *img)
{
	if (!img)
		return;
	if (img->fd >= 0)
		close(img->fd);
	unlinkat(img->dirfd, img->part, 0);
	free(img);
}

/* ---- reading ---------------------------------------------------------- */

/* Fill the buffer until @want bytes are unread; returns the bytes available. */
static ssize_t img_fill(struct cr_img *img, size_t want)
{
	if (img->len - img->pos >= want)
		return want;
	memmove(img->buf, img->buf + img->pos, img->len - img->pos);
	img->len -= img->pos;
	img->pos = 0;
	while (img->len < want) {
		ssize_t n = read(img->fd, img->buf + img->len, IMG_BUF_SIZE - img->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pr_perror("can't read %s", img->name);
			return -1;
		}
		if (n == 0)
			break;
		img->len += n;
	}
	return min(img->len, want);
}

/* Copy exactly @len bytes out; returns the bytes copied (less at EOF) or -1. */
static ssize_t img_get(struct cr_img *img, void *dst, size_t len)
{
	uint8_t *p = dst;
	size_t done = 0;

	while (done < len) {
		size_t chunk = min(len - done, (size_t)IMG_BUF_SIZE);
		ssize_t got = img_fill(img, chunk);

		if (got < 0)
			return -1;
		memcpy(p + done, img->buf + img->pos, got);
		img->pos += got;
		img->offset += got;
		done += got;
		if ((size_t)got < chunk)
			break;
	}
	return done;
}

static struct cr_img *img_start_read(struct cr_img *img, const struct img_desc *want)
{
	uint8_t m[4];
	ssize_t n;

	if (img->desc && !img->desc->magic)
		return img;		/* raw kind, known by name: no header */
	n = img_get(img, m, sizeof(m));
	if (n != sizeof(m)) {
		if (n >= 0)
			pr_err("%s: too short for an image (%zd bytes)", img->name, n);
		goto err;
	}
	if (want && get_le32(m) != want->magic) {
		pr_err("%s: wrong magic 0x%08x, expected 0x%08x (%s)", img->name,
		       get_le32(m), want->magic, want->name);
		goto err;
	}
	if (!want) {
		img->desc = img_desc_find(img->name, get_le32(m), true);
		if (!img->desc) {
			pr_err("%s: unknown magic 0x%08x", img->name, get_le32(m));
			goto err;
		}
	}
	return img;
err:
	img_close(img);
	return NULL;
}

struct cr_img *img_open_fd(int fd, const char *name)
{
	struct cr_img *img = img_alloc(NULL, name);

	if (!img) {
		close(fd);
		return NULL;
	}
	img->fd = fd;
	/* Raw kinds are known by name; everything else by its magic. */
	img->desc = img_desc_find(name, 0, false);
	return img_start_read(img, NULL);
}

struct cr_img *img_open_file(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		pr_perror("can't open %s", name);
		return NULL;
	}
	return img_open_fd(fd, name);
}

struct cr_img *img_open(int dirfd, enum img_kind kind, unsigned int id)
{
	const struct img_desc *desc = img_desc(kind);
	char name[IMG_NAME_MAX];
	struct cr_img *img;

	if (!desc || format_name(desc, id, name, sizeof(name)))
		return NULL;
	img = img_alloc(desc, name);
	if (!img)
		return NULL;
	img->fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (img->fd < 0) {
		pr_perror("can't open %s", name);
		free(img);
		return NULL;
	}
	return img_start_read(img, desc);
}

int img_read_entry(struct cr_img *img, ProtobufCMessage **msg)
{
	const ProtobufCMessageDescriptor *type = img_next_type(img);
	uint64_t at = img->offset;
	uint8_t hdr[4], *data;
	uint32_t size;
	ssize_t n;

	*msg = NULL;
	if (!type) {
		pr_err("%s: raw image has no entries", img->name);
		return -1;
	}
	n = img_get(img, hdr, sizeof(hdr));
	if (n == 0)
		return 0;
	if (n != sizeof(hdr)) {
		if (n > 0)
			pr_err("%s: truncated entry size at offset %llu", img->name,
			       (unsigned long long)at);
		return -1;
	}
	if (img->desc->max_entries && img->nr_entries >= img->desc->max_entries) {
		pr_err("%s: trailing data at offset %llu after %u entries", img->name,
		       (unsigned long long)at, img->nr_entries);
		return -1;
	}
	size = get_le32(hdr);
	if (size > img->desc->max_entry) {
		pr_err("%s: entry at offset %llu claims %u bytes, cap is %u", img->name,
		       (unsigned long long)at, size, img->desc->max_entry);
		return -1;
	}
	data = malloc(size ? size : 1);
	if (!data) {
		pr_err("out of memory");
		return -1;
	}
	n = img_get(img, data, size);
	if (n != (ssize_t)size) {
		if (n >= 0)
			pr_err("%s: truncated entry at offset %llu: %zd of %u bytes", img->name,
			       (unsigned long long)at, n, size);
		free(data);
		return -1;
	}
	*msg = protobuf_c_message_unpack(type, NULL, size, data);
	free(data);
	if (!*msg) {
		pr_err("%s: malformed %s entry at offset %llu", img->name, type->name,
		       (unsigned long long)at);
		return -1;
	}
	img->nr_entries++;
	return 1;
}

void img_free_entry(ProtobufCMessage *msg)
{
	if (msg)
		protobuf_c_message_free_unpacked(msg, NULL);
}

int img_read_one(int dirfd, enum img_kind kind, unsigned int id, ProtobufCMessage **msg)
{
	struct cr_img *img = img_open(dirfd, kind, id);
	int ret;

	*msg = NULL;
	if (!img)
		return -1;
	ret = img_read_entry(img, msg);
	if (ret == 0)
		pr_err("%s: no entry", img->name);
	if (ret == 1) {
		ProtobufCMessage *extra;

		ret = img_read_entry(img, &extra);
		if (ret == 1) {
			pr_err("%s: more than one entry", img->name);
			img_free_entry(extra);
		}
		ret = ret ? -1 : 0;
	} else {
		ret = -1;
	}
	if (ret) {
		img_free_entry(*msg);
		*msg = NULL;
	}
	img_close(img);
	return ret;
}

int img_read_all(int dirfd, enum img_kind kind, unsigned int id, size_t max,
		 int (*check)(const ProtobufCMessage *m, void *ctx), void *ctx,
		 ProtobufCMessage ***out, size_t *nr)
{
	struct cr_img *img = img_open(dirfd, kind, id);
	ProtobufCMessage *m;
	size_t cap = 0;
	int r;

	*out = NULL;
	*nr = 0;
	if (!img)
		return -1;
	while ((r = img_read_entry(img, &m)) == 1) {
		if (max && *nr >= max) {
			pr_err("%s: more than %zu entries", img->name, max);
			r = -1;
		} else if (check && check(m, ctx)) {
			r = -1;
		} else if (*nr == cap) {
			void *p = realloc(*out, (cap = cap ? cap * 2 : 16) * sizeof(**out));

			if (p) {
				*out = p;
			} else {
				pr_err("out of memory");
				r = -1;
			}
		}
		if (r < 0) {
			img_free_entry(m);
			break;
		}
		(*out)[(*nr)++] = m;
	}
	img_close(img);
	if (r < 0) {
		img_free_all(*out, *nr);
		*out = NULL;
		*nr = 0;
		return -1;
	}
	return 0;
}

void img_free_all(ProtobufCMessage **v, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++)
		img_free_entry(v[i]);
	free(v);
}

void img_close(struct cr_img *img)
{
	if (!img)
		return;
	if (img->writer) {
		img_abort(img);
		return;
	}
	if (img->fd >= 0)
		close(img->fd);
	free(img);
}

const struct img_desc *img_kind_of(const struct cr_img *img)
{
	return img->desc;
}

const char *img_name(const struct cr_img *img)
{
	return img->name;
}

int img_raw_fd(const struct cr_img *img)
{
	return img->fd;
}

const ProtobufCMessageDescriptor *img_next_type(const struct cr_img *img)
{
	if (!img->desc)
		return NULL;
	if (img->desc->head && img->nr_entries == 0)
		return img->desc->head;
	return img->desc->pb;
}
