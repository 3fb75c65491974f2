/*
 * The page server's side of the wire protocol (Documentation/page-server.md):
 * ps_serve() reads one dump's messages, writes each page file under a
 * temporary name (".ps-NAME"), checks its size and checksum at CLOSE and
 * renames it into place, and answers END with ACK. The stream comes from
 * the network: every field is checked before it is used, and a refusal
 * removes every file of this stream.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <endian.h>

#define LOG_PREFIX "page-server: "
#include "log.h"
#include "manifest.h"
#include "page-server.h"

struct ps_file {
	char name[PS_MAX_NAME];
	int fd;			/* -1: closed (done) */
	uint64_t size;
	bool done;
};

#define TLS_BUF		(1u << 20)	/* decrypted data gathered per write */

struct ps_state {
	int in, dirfd;
	struct ps_tls *tls;	/* NULL: plain */
	char *buf;		/* TLS_BUF bytes, with tls */
	int pipe[2];
	struct ps_file *f;	/* PS_MAX_FILES slots, by id */
	uint32_t nr_open, nr_done;
};

static int read_full(struct ps_state *s, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = s->tls ? ps_tls_recv(s->tls, p, len) : read(s->in, p, len);

		if (!s->tls && n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!n)
				pr_err("the stream ended before END: the dump died or gave up");
			else if (!s->tls)	/* ps_tls_recv() said why */
				pr_perror("can't read the stream");
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

static void tmp_name(char *buf, size_t sz, const char *name)
{
	snprintf(buf, sz, ".ps-%s", name);
}

/* "pages-N.img", N decimal without a leading zero, 1 .. 2^32-1. */
static int page_file_name(const char *s, size_t len)
{
	size_t i;

	if (len < 11 || len >= PS_MAX_NAME || strncmp(s, "pages-", 6) ||
	    strncmp(s + len - 4, ".img", 4) || s[6] == '0' || len - 10 > 10)
		return -1;
	for (i = 6; i < len - 4; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	return strtoull(s + 6, NULL, 10) <= UINT32_MAX ? 0 : -1;
}

static int do_open(struct ps_state *s, const struct ps_hdr *h)
{
	char name[PS_MAX_NAME], tmp[PS_MAX_NAME + 8];
	struct ps_file *f;
	uint32_t i;

	if (h->id >= PS_MAX_FILES || s->f[h->id].name[0] || h->off || !h->len ||
	    h->len >= PS_MAX_NAME) {
		pr_err("OPEN %u: a file id used twice or out of range, or a bad name length", h->id);
		return -1;
	}
	if (read_full(s, name, h->len))
		return -1;
	name[h->len] = 0;
	if (strlen(name) != h->len || page_file_name(name, h->len)) {
		pr_err("OPEN %u: not the name of a page file (pages-N.img)", h->id);
		return -1;
	}
	for (i = 0; i < PS_MAX_FILES; i++)
		if (!strcmp(s->f[i].name, name)) {
			pr_err("OPEN %u: %s is opened twice", h->id, name);
			return -1;
		}
	f = &s->f[h->id];
	tmp_name(tmp, sizeof(tmp), name);
	f->fd = openat(s->dirfd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (f->fd < 0) {
		pr_perror("can't create %s", tmp);
		return -1;
	}
	memcpy(f->name, name, h->len + 1);
	s->nr_open++;
	pr_debug("receiving %s", name);
	return 0;
}

static struct ps_file *open_file(struct ps_state *s, const struct ps_hdr *h, const char *what)
{
	if (h->id >= PS_MAX_FILES || !s->f[h->id].name[0] || s->f[h->id].done) {
		pr_err("%s %u: no such open file", what, h->id);
		return NULL;
	}
	return &s->f[h->id];
}

/* Under TLS: decrypted records gathered into TLS_BUF-sized writes. */
static int data_tls(struct ps_state *s, struct ps_file *f, uint64_t off, uint64_t len)
{
	while (len) {
		size_t n = len < TLS_BUF ? len : TLS_BUF, got = 0;

		while (got < n) {
			ssize_t r = ps_tls_recv(s->tls, s->buf + got, n - got);

			if (r <= 0) {
				if (!r)
					pr_err("the stream ended inside the data of %s", f->name);
				return -1;
			}
			got += r;
		}
		if (pwrite(f->fd, s->buf, n, off) != (ssize_t)n) {
			pr_perror("can't write %s", f->name);
			return -1;
		}
		off += n;
		len -= n;
	}
	return 0;
}

/* @len bytes of the stream into @f at @off: spliced through a pipe, not copied. */
static int do_data(struct ps_state *s, const struct ps_hdr *h)
{
	struct ps_file *f = open_file(s, h, "DATA");
	loff_t off = h->off;
	uint64_t len = h->len;

	if (!f)
		return -1;
	if (!len || len > PS_MAX_CHUNK || h->off > f->size || h->off + len > PS_MAX_FILE) {
		pr_err("DATA %u: %lu bytes at %lu: out of bounds (%s has %lu)", h->id,
		       (unsigned long)len, (unsigned long)h->off, f->name, (unsigned long)f->size);
		return -1;
	}
	if (s->tls) {
		if (data_tls(s, f, off, len))
			return -1;
		off += len;
		len = 0;
	}
	while (len) {
		ssize_t n = splice(s->in, NULL, s->pipe[1], NULL, len, SPLICE_F_MOVE);

		if (n <= 0) {
			if (n < 0)
				pr_perror("can't read page data for %s", f->name);
			else
				pr_err("the stream ended inside the data of %s", f->name);
			return -1;
		}
		len -= n;
		while (n) {
			ssize_t w = splice(s->pipe[0], NULL, f->fd, &off, n, SPLICE_F_MOVE);

			if (w <= 0) {
				pr_perror("can't write %s", f->name);
				return -1;
			}
			n -= w;
		}
	}
	if ((uint64_t)off > f->size)
		f->size = off;
	pr_debug("%s: %lu bytes at %lu", f->name, (unsigned long)h->len, (unsigned long)h->off);
	return 0;
}

static int do_close(struct ps_state *s, const struct ps_hdr *h)
{
	struct ps_file *f = open_file(s, h, "CLOSE");
	char tmp[PS_MAX_NAME + 8];
	uint64_t size, hash;

	if (!f)
		return -1;
	tmp_name(tmp, sizeof(tmp), f->name);
	if (fsync(f->fd)) {
		pr_perror("can't sync %s", tmp);
		return -1;
	}
	close(f->fd);
	f->fd = -1;
	f->done = true;
	if (manifest_hash_file(s->dirfd, tmp, &size, &hash))
		return -1;
	if (size != h->off || hash != h->len) {
		pr_err("%s: %lu bytes, checksum %016llx; the dump says %lu, %016llx: damaged in transit",
		       f->name, (unsigned long)size, (unsigned long long)hash,
		       (unsigned long)h->off, (unsigned long long)h->len);
		return -1;
	}
	if (renameat(s->dirfd, tmp, s->dirfd, f->name)) {
		pr_perror("can't rename %s to %s", tmp, f->name);
		return -1;
	}
	s->nr_done++;
	pr_info("%s: %lu bytes received, checksum %016llx", f->name, (unsigned long)size,
		(unsigned long long)hash);
	return 0;
}

static int send_ack(struct ps_state *s, uint32_t id)
{
	struct ps_hdr ack = { .kind = htole32(PS_ACK), .id = htole32(id) };

	return ps_tls_send(s->tls, &ack, sizeof(ack));
}

static int do_end(struct ps_state *s, const struct ps_hdr *h, int out)
{
	struct ps_hdr ack = { .kind = htole32(PS_ACK), .id = htole32(s->nr_done) };

	if (h->off || h->len || h->id != s->nr_done || s->nr_open != s->nr_done) {
		pr_err("END: %u files said, %u received whole of %u opened", h->id, s->nr_done,
		       s->nr_open);
		return -1;
	}
	if (fsync(s->dirfd)) {
		pr_perror("can't sync the images dir");
		return -1;
	}
	if (s->tls ? send_ack(s, s->nr_done) :
	    out >= 0 && write(out, &ack, sizeof(ack)) != sizeof(ack)) {
		pr_perror("can't answer END");
		return -1;
	}
	return 0;
}

static int serve_loop(struct ps_state *s, int out)
{
	struct ps_hdr h;

	if (read_full(s, &h, sizeof(h)))
		return -1;
	if (!s->tls && ((uint8_t *)&h)[0] == 0x16 && ((uint8_t *)&h)[1] == 3) {
		pr_err("the dump speaks TLS: run the page server with --tls");
		return -1;
	}
	if (le32toh(h.kind) != PS_HELLO || le32toh(h.id) != PS_VERSION ||
	    le64toh(h.off) != PS_MAGIC || h.len) {
		pr_err("not a page-server stream of version %d", PS_VERSION);
		return -1;
	}
	/* under TLS the dump waits for this before it seizes its tree */
	if (s->tls && send_ack(s, 0))
		return -1;
	for (;;) {
		int r;

		if (read_full(s, &h, sizeof(h)))
			return -1;
		h.kind = le32toh(h.kind);
		h.id = le32toh(h.id);
		h.off = le64toh(h.off);
		h.len = le64toh(h.len);
		switch (h.kind) {
		case PS_OPEN:
			r = do_open(s, &h);
			break;
		case PS_DATA:
			r = do_data(s, &h);
			break;
		case PS_CLOSE:
			r = do_close(s, &h);
			break;
		case PS_END:
			return do_end(s, &h, out);
		default:
			pr_err("a message of unknown kind %u", h.kind);
			r = -1;
		}
		if (r)
			return -1;
	}
}

/* After a refusal: no file of this stream stays, whole or not. */
static void remove_files(struct ps_state *s)
{
	char tmp[PS_MAX_NAME + 8];
	uint32_t i;

	for (i = 0; i < PS_MAX_FILES; i++) {
		struct ps_file *f = &s->f[i];

		if (!f->name[0])
			continue;
		tmp_name(tmp, sizeof(tmp), f->name);
		unlinkat(s->dirfd, tmp, 0);
		if (f->done)
			unlinkat(s->dirfd, f->name, 0);
	}
}

static int serve(int in, int out, int dirfd, struct ps_tls *tls)
{
	struct ps_state s = { .in = in, .dirfd = dirfd, .tls = tls, .pipe = { -1, -1 } };
	uint32_t i;
	int ret = -1;

	s.f = calloc(PS_MAX_FILES, sizeof(*s.f));
	if (tls)
		s.buf = malloc(TLS_BUF);
	if (!s.f || (tls && !s.buf)) {
		pr_err("out of memory");
		free(s.f);
		free(s.buf);
		return -1;
	}
	for (i = 0; i < PS_MAX_FILES; i++)
		s.f[i].fd = -1;
	if (pipe2(s.pipe, O_CLOEXEC)) {
		pr_perror("can't make a pipe");
		goto out;
	}
	fcntl(s.pipe[1], F_SETPIPE_SZ, 1 << 20);	/* fewer turns; the default will do */
	ret = serve_loop(&s, out);
	if (ret)
		remove_files(&s);
out:
	for (i = 0; i < PS_MAX_FILES; i++)
		if (s.f[i].fd >= 0)
			close(s.f[i].fd);
	if (s.pipe[0] >= 0) {
		close(s.pipe[0]);
		close(s.pipe[1]);
	}
	free(s.f);
	free(s.buf);
	return ret;
}

int ps_serve(int in, int out, int dirfd)
{
	return serve(in, out, dirfd, NULL);
}

int ps_serve_tls(int sk, struct ps_tls *tls, int dirfd)
{
	return serve(sk, -1, dirfd, tls);
}
