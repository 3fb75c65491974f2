/*
 * The page server (criu/page-server*.c): the server's decoder refuses every
 * malformed stream and leaves no file behind; a dump's page files sent
 * through a socket arrive whole and the merged directory passes the manifest.
 */
#include <endian.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <xxhash.h>

#include "log.h"
#include "manifest.h"
#include "options.h"
#include "page-server.h"
#include "tmpdir.h"
#include "unit.h"

struct stream {
	char buf[8192];
	size_t len;
};

static void put(struct stream *s, const void *p, size_t n)
{
	if (s->len + n <= sizeof(s->buf)) {
		memcpy(s->buf + s->len, p, n);
	}
	s->len += n;
}

static void hdr(struct stream *s, uint32_t kind, uint32_t id, uint64_t off, uint64_t len)
{
	struct ps_hdr h = { htole32(kind), htole32(id), htole64(off), htole64(len) };

	put(s, &h, sizeof(h));
}

static void hello(struct stream *s)
{
	s->len = 0;
	hdr(s, PS_HELLO, PS_VERSION, PS_MAGIC, 0);
}

static void open_file(struct stream *s, uint32_t id, const char *name)
{
	hdr(s, PS_OPEN, id, 0, strlen(name));
	put(s, name, strlen(name));
}

static void data(struct stream *s, uint32_t id, uint64_t off, const char *text)
{
	hdr(s, PS_DATA, id, off, strlen(text));
	put(s, text, strlen(text));
}

/* A whole stream: pages-1.img holding "page data" (written in two pieces and one overwrite). */
static void good(struct stream *s)
{
	hello(s);
	open_file(s, 7, "pages-1.img");
	data(s, 7, 0, "page ");
	data(s, 7, 5, "dat?");
	data(s, 7, 8, "a");
	hdr(s, PS_CLOSE, 7, 9, XXH3_64bits("page data", 9));
	hdr(s, PS_END, 1, 0, 0);
}

/* Serves @s from a memfd into a fresh dir; returns ps_serve()'s answer, *nr = files left. */
static int serve(const struct stream *s, int *dir, int *nr)
{
	int in = memfd_create("stream", MFD_CLOEXEC), r, sk[2];
	struct ps_hdr ack;
	struct stat st;

	*dir = unit_fresh_dir("page-server");
	if (in < 0 || *dir < 0 || write(in, s->buf, s->len) != (ssize_t)s->len ||
	    lseek(in, 0, SEEK_SET) || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sk))
		return -2;
	r = ps_serve(in, sk[0], *dir);
	if (!r && (read(sk[1], &ack, sizeof(ack)) != sizeof(ack) || le32toh(ack.kind) != PS_ACK))
		r = -2;
	*nr = !fstatat(*dir, "pages-1.img", &st, 0) + !fstatat(*dir, ".ps-pages-1.img", &st, 0) +
	      !fstatat(*dir, "pages-2.img", &st, 0) + !fstatat(*dir, ".ps-pages-2.img", &st, 0);
	close(in);
	close(sk[0]);
	close(sk[1]);
	return r;
}

static int test_good(void)
{
	struct stream s;
	char buf[16] = { 0 };
	int dir, nr, fd;

	good(&s);
	CHECK(serve(&s, &dir, &nr) == 0 && nr == 1);
	fd = openat(dir, "pages-1.img", O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == 9 && !strcmp(buf, "page data"));
	close(fd);
	return 0;
}

/* Each case: a good stream with one thing wrong. */
static void bad_stream(struct stream *s, int i)
{
	uint64_t h = XXH3_64bits("page data", 9);

	hello(s);
	switch (i) {
	case 0: s->buf[8] ^= 1; open_file(s, 0, "pages-1.img"); break;	/* magic */
	case 1: s->len = 0; hdr(s, PS_HELLO, 2, PS_MAGIC, 0); break;		/* version */
	case 2: open_file(s, 0, "../pages-1.img"); break;
	case 3: open_file(s, 0, "pages-01.img"); break;
	case 4: open_file(s, 0, "inventory.img"); break;
	case 5: open_file(s, 0, "pages-99999999999.img"); break;
	case 6: open_file(s, PS_MAX_FILES, "pages-1.img"); break;
	case 7: open_file(s, 0, "pages-1.img"); open_file(s, 0, "pages-2.img"); break;
	case 8: open_file(s, 0, "pages-1.img"); open_file(s, 1, "pages-1.img"); break;
	case 9: hdr(s, PS_OPEN, 0, 0, 100); put(s, "pages-1.img", 11); break;	/* short */
	case 10: hdr(s, PS_OPEN, 0, 0, 11); put(s, "pages-\0.img", 11); break;
	case 11: open_file(s, 0, "pages-1.img"); data(s, 1, 0, "x"); break;
	case 12: open_file(s, 0, "pages-1.img"); hdr(s, PS_DATA, 0, 0, 0); break;
	case 13: open_file(s, 0, "pages-1.img"); hdr(s, PS_DATA, 0, 0, PS_MAX_CHUNK + 1); break;
	case 14: open_file(s, 0, "pages-1.img"); data(s, 0, 1, "x"); break;	/* a hole */
	case 15: open_file(s, 0, "pages-1.img"); hdr(s, PS_DATA, 0, UINT64_MAX, 1); break;
	case 16: open_file(s, 0, "pages-1.img"); hdr(s, PS_DATA, 0, 0, 9); put(s, "page", 4); break;
	case 17: open_file(s, 0, "pages-1.img"); data(s, 0, 0, "page data");
		 hdr(s, PS_CLOSE, 0, 8, h); break;				/* size */
	case 18: open_file(s, 0, "pages-1.img"); data(s, 0, 0, "page Data");
		 hdr(s, PS_CLOSE, 0, 9, h); break;				/* checksum */
	case 19: open_file(s, 0, "pages-1.img"); data(s, 0, 0, "page data");
		 hdr(s, PS_CLOSE, 0, 9, h); hdr(s, PS_CLOSE, 0, 9, h); break;
	case 20: open_file(s, 0, "pages-1.img"); data(s, 0, 0, "page data");
		 hdr(s, PS_CLOSE, 0, 9, h); data(s, 0, 9, "x"); break;	/* after CLOSE */
	case 21: open_file(s, 0, "pages-1.img"); data(s, 0, 0, "page data");
		 hdr(s, PS_CLOSE, 0, 9, h); hdr(s, PS_END, 2, 0, 0); break;	/* count */
	case 22: open_file(s, 0, "pages-1.img"); data(s, 0, 0, "page data");
		 hdr(s, PS_CLOSE, 0, 9, h); open_file(s, 1, "pages-2.img");
		 hdr(s, PS_END, 1, 0, 0); break;				/* one left open */
	case 23: open_file(s, 0, "pages-1.img"); data(s, 0, 0, "page data");
		 hdr(s, PS_CLOSE, 0, 9, h); break;				/* no END */
	case 24: hdr(s, 9, 0, 0, 0); break;					/* kind */
	case 25: hdr(s, PS_ACK, 0, 0, 0); break;
	case 26: hdr(s, PS_END, 0, 1, 0); break;
	default: s->len -= 3; break;						/* cut header */
	}
}

static int test_bad(void)
{
	struct stream s;
	int i, dir, nr;

	for (i = 0; i <= 27; i++) {
		bad_stream(&s, i);
		if (serve(&s, &dir, &nr) != -1 || nr) {
			snprintf(unit_why, sizeof(unit_why), "stream %d: not refused, or %d files left",
				 i, nr);
			return -1;
		}
	}
	return 0;
}

static int fill(int dir, const char *name, size_t size)
{
	int fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	char *buf = malloc(size);
	size_t i;
	int ret;

	if (fd < 0 || !buf)
		return -1;
	for (i = 0; i < size; i++)
		buf[i] = (char)(i * 7 + i / 4096);
	ret = write(fd, buf, size) == (ssize_t)size ? 0 : -1;
	free(buf);
	close(fd);
	return ret;
}

/* The dump's side against the server's through a socket pair: a file of two chunks and a small one. */
static int test_roundtrip(void)
{
	struct cr_options o;
	int top = unit_fresh_dir("page-server"), a, b, c, sk[2], status, st;
	uint64_t size, h1, h2;
	pid_t pid;

	CHECK(top >= 0 && !mkdirat(top, "a", 0700) && !mkdirat(top, "b", 0700));
	a = openat(top, "a", O_RDONLY | O_DIRECTORY);
	b = openat(top, "b", O_RDONLY | O_DIRECTORY);
	CHECK(a >= 0 && b >= 0 && !fill(a, "pages-1.img", PS_MAX_CHUNK + 12288) &&
	      !fill(a, "pages-2.img", 4096) && !fill(a, "inventory.img", 44) && !manifest_write(a));
	CHECK(!manifest_hash_file(a, "pages-1.img", &size, &h1));
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sk) == 0);
	pid = fork();
	if (pid == 0)
		_exit(ps_serve(sk[1], sk[1], b) ? 1 : 0);
	close(sk[1]);
	opts_init(&o);
	o.ps_socket = sk[0];
	c = ps_client_open(&o);	/* its own copy: sk[0] stays ours */
	st = c >= 0 && c != sk[0] ? ps_send_pages(a, c) : -1;
	if (c >= 0)
		close(c);
	close(sk[0]);
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && status == 0 && st == 0);
	CHECK(faccessat(a, "pages-1.img", F_OK, 0) && faccessat(a, "pages-2.img", F_OK, 0));
	CHECK(!manifest_hash_file(b, "pages-1.img", &size, &h2) && h1 == h2 &&
	      size == PS_MAX_CHUNK + 12288);
	/* merged: the page server's directory with the local images */
	CHECK(manifest_check(a) == -1);
	CHECK(!renameat(a, "inventory.img", b, "inventory.img") &&
	      !renameat(a, MANIFEST_NAME, b, MANIFEST_NAME) && manifest_check(b) == 0);
	close(a);
	close(b);
	return 0;
}

static const struct unit_case cases[] = {
	{ "a whole stream is written and answered", test_good },
	{ "malformed streams are refused and leave no file", test_bad },
	{ "a dump's page files cross a socket and pass the manifest merged", test_roundtrip },
};

int main(int argc, char **argv)
{
	(void)argc;
	log_init(NULL, NULL, getenv("UNIT_LOG") ? LOG_ERROR : LOG_NONE);
	return unit_run(argv[0], cases, ARRAY_SIZE(cases));
}
