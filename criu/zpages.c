/*
 * Compressed page files (dump --compress): the codec, a dump's page files
 * compressed in its scratch dir, and a compressed dump opened into a
 * private directory at restore (zpages.h, Documentation/images.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <zstd.h>

#define LOG_PREFIX "zpages: "
#include "log.h"
#include "manifest.h"
#include "seal.h"
#include "zpages.h"

#define PACKING	".zpacking"	/* the compressed copy of one file, renamed over it */
#define COPY_BUF (1u << 20)

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, v >> 32);
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* Exactly @n bytes at @off: 0, or -1 (errno, or 0 at a short file). */
static int read_at(int fd, void *buf, size_t n, uint64_t off)
{
	while (n) {
		ssize_t r = pread(fd, buf, n, off);

		if (r <= 0) {
			if (!r)
				errno = 0;
			return -1;
		}
		buf = (char *)buf + r;
		n -= r;
		off += r;
	}
	return 0;
}

static int write_at(int fd, const void *buf, size_t n, uint64_t off)
{
	while (n) {
		ssize_t r = pwrite(fd, buf, n, off);

		if (r <= 0)
			return -1;
		buf = (const char *)buf + r;
		n -= r;
		off += r;
	}
	return 0;
}

int zpages_fd_is_packed(int fd)
{
	char m[8];
	ssize_t r = pread(fd, m, sizeof(m), 0);

	if (r < 0)
		return -1;
	return r == sizeof(m) && !memcmp(m, ZPAGES_MAGIC, sizeof(m));
}

/* ---- the codec --------------------------------------------------------------- */

struct zbufs {
	uint8_t *plain, *z, *index;
	size_t zcap;
};

static int bufs_get(struct zbufs *b, uint64_t nr)
{
	b->zcap = ZSTD_compressBound(ZPAGES_FRAME);
	b->plain = malloc(ZPAGES_FRAME);
	b->z = malloc(b->zcap);
	b->index = malloc(ZPAGES_HDR_SIZE + 4 * (nr ? nr : 1));
	if (b->plain && b->z && b->index)
		return 0;
	pr_err("out of memory");
	return -1;
}

static void bufs_put(struct zbufs *b)
{
	free(b->plain);
	free(b->z);
	free(b->index);
}

static uint32_t frame_len(uint64_t plain, uint64_t i)
{
	uint64_t left = plain - i * ZPAGES_FRAME;

	return left < ZPAGES_FRAME ? (uint32_t)left : ZPAGES_FRAME;
}

static int pack_frames(ZSTD_CCtx *c, int in, int out, struct zbufs *b, uint64_t plain,
		       uint64_t nr, const char *name)
{
	uint64_t pos = ZPAGES_HDR_SIZE + 4 * nr, i;

	for (i = 0; i < nr; i++) {
		uint32_t n = frame_len(plain, i);
		size_t z;

		if (read_at(in, b->plain, n, i * (uint64_t)ZPAGES_FRAME)) {
			pr_perror("cannot read %s to compress it", name);
			return -1;
		}
		z = ZSTD_compress2(c, b->z, b->zcap, b->plain, n);
		if (ZSTD_isError(z)) {
			pr_err("cannot compress %s: %s", name, ZSTD_getErrorName(z));
			return -1;
		}
		if (write_at(out, b->z, z, pos)) {
			pr_perror("cannot write the compressed %s", name);
			return -1;
		}
		put32(b->index + ZPAGES_HDR_SIZE + 4 * i, (uint32_t)z);
		pos += z;
	}
	return 0;
}

int zpages_pack_fd(int in, int out, const char *name)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	struct zbufs b = {};
	struct stat st;
	uint64_t nr = 0;
	int ret = -1;

	if (fstat(in, &st)) {
		pr_perror("cannot stat %s", name);
		goto out;
	}
	nr = ((uint64_t)st.st_size + ZPAGES_FRAME - 1) / ZPAGES_FRAME;
	if ((uint64_t)st.st_size > ZPAGES_MAX_PLAIN) {
		pr_err("not supported yet: --compress of %s, over 1 TiB", name);
		goto out;
	}
	if (!c || bufs_get(&b, nr))
		goto out;
	if (ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1))) {
		pr_err("cannot set up the compressor");
		goto out;
	}
	if (pack_frames(c, in, out, &b, st.st_size, nr, name))
		goto out;
	memcpy(b.index, ZPAGES_MAGIC, 8);
	put32(b.index + 8, ZPAGES_VERSION);
	put32(b.index + 12, ZPAGES_FRAME);
	put64(b.index + 16, st.st_size);
	put32(b.index + 24, (uint32_t)nr);
	put32(b.index + 28, 0);
	if (write_at(out, b.index, ZPAGES_HDR_SIZE + 4 * nr, 0))
		pr_perror("cannot write the compressed %s", name);
	else
		ret = 0;
out:
	bufs_put(&b);
	ZSTD_freeCCtx(c);
	return ret;
}

/* The header and index of a compressed file of @fsize bytes: 0, or -1 logged. */
static int check_index(const uint8_t *h, const uint8_t *idx, uint64_t nr, uint64_t fsize,
		       const char *name)
{
	uint64_t total = ZPAGES_HDR_SIZE + 4 * nr, i;

	for (i = 0; i < nr; i++) {
		uint32_t z = get32(idx + 4 * i);

		if (!z || z > ZSTD_compressBound(ZPAGES_FRAME)) {
			pr_err("%s: compressed page data is corrupt: frame %llu has length %u",
			       name, (unsigned long long)i, z);
			return -1;
		}
		total += z;
	}
	if (total != fsize) {
		pr_err("%s: compressed page data is corrupt: %llu bytes, its index says %llu",
		       name, (unsigned long long)fsize, (unsigned long long)total);
		return -1;
	}
	(void)h;
	return 0;
}

/* The header of @fd: frames in *nr, plain size in *plain; 0 or -1 logged. */
static int read_header(int fd, uint64_t fsize, uint64_t *plain, uint64_t *nr, const char *name)
{
	uint8_t h[ZPAGES_HDR_SIZE];

	if (fsize < ZPAGES_HDR_SIZE || read_at(fd, h, sizeof(h), 0) || memcmp(h, ZPAGES_MAGIC, 8)) {
		pr_err("%s: not a compressed page file (no " ZPAGES_MAGIC " header)", name);
		return -1;
	}
	*plain = get64(h + 16);
	*nr = get32(h + 24);
	if (get32(h + 8) != ZPAGES_VERSION || get32(h + 12) != ZPAGES_FRAME || get32(h + 28) ||
	    *plain > ZPAGES_MAX_PLAIN || *nr != (*plain + ZPAGES_FRAME - 1) / ZPAGES_FRAME) {
		pr_err("%s: compressed page data is corrupt: version %u, frame size %u, %llu bytes in %llu frames",
		       name, get32(h + 8), get32(h + 12), (unsigned long long)*plain,
		       (unsigned long long)*nr);
		return -1;
	}
	return 0;
}

static int unpack_frame(ZSTD_DCtx *d, struct zbufs *b, uint32_t z, uint32_t n, uint64_t i,
			const char *name)
{
	const char *why = NULL;
	size_t r;

	if (ZSTD_findFrameCompressedSize(b->z, z) != z)
		why = "not one whole frame";
	else if (ZSTD_getFrameContentSize(b->z, z) != n)
		why = "its size is not the frame's";
	else if (ZSTD_isError(r = ZSTD_decompressDCtx(d, b->plain, n, b->z, z)))
		why = ZSTD_getErrorName(r);
	else if (r != n)
		why = "it decompresses short";
	if (why)
		pr_err("%s: compressed page data is corrupt: frame %llu: %s", name,
		       (unsigned long long)i, why);
	return why ? -1 : 0;
}

static int unpack_frames(ZSTD_DCtx *d, int in, int out, struct zbufs *b, uint64_t plain,
			 uint64_t nr, const char *name)
{
	uint64_t pos = ZPAGES_HDR_SIZE + 4 * nr, i;

	for (i = 0; i < nr; i++) {
		uint32_t z = get32(b->index + ZPAGES_HDR_SIZE + 4 * i), n = frame_len(plain, i);

		if (read_at(in, b->z, z, pos)) {
			pr_perror("cannot read %s", name);
			return -1;
		}
		if (unpack_frame(d, b, z, n, i, name))
			return -1;
		if (write_at(out, b->plain, n, i * (uint64_t)ZPAGES_FRAME)) {
			pr_perror("cannot write the decompressed %s", name);
			return -1;
		}
		pos += z;
	}
	return 0;
}

int zpages_unpack_fd(int in, int out, const char *name)
{
	ZSTD_DCtx *d = NULL;
	struct zbufs b = {};
	uint64_t plain, nr;
	struct stat st;
	int ret = -1;

	if (fstat(in, &st)) {
		pr_perror("cannot stat %s", name);
		return -1;
	}
	if (read_header(in, st.st_size, &plain, &nr, name) || bufs_get(&b, nr))
		goto out;
	if (read_at(in, b.index, ZPAGES_HDR_SIZE + 4 * nr, 0)) {
		pr_err("%s: compressed page data is corrupt: its index is cut", name);
		goto out;
	}
	if (check_index(b.index, b.index + ZPAGES_HDR_SIZE, nr, st.st_size, name))
		goto out;
	d = ZSTD_createDCtx();
	if (!d)
		pr_err("out of memory");
	else
		ret = unpack_frames(d, in, out, &b, plain, nr, name);
out:
	ZSTD_freeDCtx(d);
	bufs_put(&b);
	return ret;
}

/* ---- a dump's page files ------------------------------------------------------ */

static bool page_file(const char *n)
{
	size_t l = strlen(n);

	return l > 10 && !strncmp(n, "pages-", 6) && !strcmp(n + l - 4, ".img");
}

/* The pages-*.img names of @dirfd, collected before any is replaced. */
static int list_pages(int dirfd, char ***names, size_t *nr)
{
	size_t i, n = 0;

	if (seal_dir_list(dirfd, names, nr))
		return -1;
	for (i = 0; i < *nr; i++) {
		if (page_file((*names)[i]))
			(*names)[n++] = (*names)[i];
		else
			free((*names)[i]);
	}
	*nr = n;
	return 0;
}

static int pack_cb(int in, int out, const char *name, void *arg)
{
	(void)arg;
	if (zpages_pack_fd(in, out, name))
		return -1;
	/* its inode goes: no checksum taken while it was written may stay */
	manifest_track_changed(in, 0, UINT64_MAX);
	return 0;
}

int zpages_pack_dir(int dirfd)
{
	char **names;
	size_t nr, i;
	int ret = 0;

	if (list_pages(dirfd, &names, &nr))
		return -1;
	for (i = 0; i < nr && !ret; i++)
		ret = seal_dir_rewrite(dirfd, names[i], PACKING, pack_cb, NULL);
	seal_dir_free_names(names, nr);
	if (!ret)
		pr_info("%zu page files compressed", nr);
	return ret;
}

/* ---- restore ------------------------------------------------------------------- */

/* 1: the page files of @dirfd are compressed, 0: none is, -1: a mix or an error. */
int zpages_dir_packed(int dirfd)
{
	size_t nr, i, packed = 0;
	char **names;
	int r = 0;

	if (list_pages(dirfd, &names, &nr))
		return -1;
	for (i = 0; i < nr && r >= 0; i++) {
		int fd = openat(dirfd, names[i], O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

		r = fd < 0 ? -1 : zpages_fd_is_packed(fd);
		if (r < 0)
			pr_perror("cannot read %s", names[i]);
		packed += r > 0;
		if (fd >= 0)
			close(fd);
	}
	for (i = 0; r >= 0 && packed && i < nr; i++) {
		int fd = openat(dirfd, names[i], O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

		if (fd >= 0 && zpages_fd_is_packed(fd) == 0) {
			pr_err("%s is not compressed, but other page files are: refused", names[i]);
			r = -1;
		}
		if (fd >= 0)
			close(fd);
	}
	seal_dir_free_names(names, nr);
	return r < 0 ? -1 : packed > 0;
}

static int copy_fd(int in, int out, const char *name)
{
	char *buf = malloc(COPY_BUF);
	ssize_t n = 0;

	while (buf && (n = read(in, buf, COPY_BUF)) > 0)
		if (write(out, buf, n) != n)
			break;
	free(buf);
	if (buf && !n)
		return 0;
	pr_perror("cannot copy %s", name);
	return -1;
}

/* @name of @from into @to (a new file), decompressed when a page file. */
static int open_one(int from, int to, const char *name)
{
	int in = openat(from, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), out = -1, ret = -1;

	if (in < 0) {
		pr_perror("cannot open %s", name);
		return -1;
	}
	out = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0)
		pr_perror("cannot create the opened %s", name);
	else
		ret = page_file(name) ? zpages_unpack_fd(in, out, name) : copy_fd(in, out, name);
	close(in);
	if (out >= 0 && close(out) && !ret) {
		pr_perror("cannot write the opened %s", name);
		ret = -1;
	}
	return ret;
}

int zpages_open_dir(int dirfd, char *tmp, size_t tmp_size, int *opened)
{
	struct manifest m;
	int fd, ret;
	size_t i;

	*opened = -1;
	tmp[0] = 0;
	if (manifest_read(dirfd, &m)) {
		pr_err("compressed page files come with " MANIFEST_NAME ": refused");
		return -1;
	}
	fd = seal_dir_private(tmp, tmp_size, "criu-unpack");
	for (i = 0, ret = fd < 0; !ret && i < m.nr; i++)
		ret = open_one(dirfd, fd, m.e[i].name);
	manifest_free(&m);
	if (ret) {
		pr_err("the compressed images are refused: nothing restored");
		if (fd >= 0)
			close(fd);
		seal_dir_remove(tmp);
		tmp[0] = 0;
		return -1;
	}
	pr_info("the compressed images opened into %s", tmp);
	*opened = fd;
	return 0;
}
