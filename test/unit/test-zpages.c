/*
 * Compressed page files (criu/zpages.c): a file compressed and decompressed
 * gives its bytes back, across frames; a changed byte, a cut, an extension
 * or a changed header is refused; a directory's page files compressed in
 * place and opened into a private directory with the manifest's files.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "log.h"
#include "manifest.h"
#include "seal.h"
#include "tmpdir.h"
#include "unit.h"
#include "zpages.h"

static int memfd_with(const void *data, size_t len)
{
	int fd = memfd_create("zpages-test", MFD_CLOEXEC);

	if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len))
		return -1;
	return fd;
}

/* @fd decompressed: 0 with its bytes equal to @want, 1 refused, -1 other. */
static int unpacks_to(int fd, const uint8_t *want, size_t len)
{
	int out = memfd_create("out", MFD_CLOEXEC), ret = 1;
	uint8_t *got = malloc(len + 1);
	struct stat st;

	if (out < 0 || !got)
		ret = -1;
	else if (!zpages_unpack_fd(fd, out, "pages-1.img"))
		ret = fstat(out, &st) || (size_t)st.st_size != len ||
		      (len && (pread(out, got, len, 0) != (ssize_t)len || memcmp(got, want, len))) ? -1 : 0;
	free(got);
	if (out >= 0)
		close(out);
	return ret;
}

static int copy_of(int fd)
{
	struct stat st;
	uint8_t *b;
	int c;

	if (fstat(fd, &st) || !(b = malloc(st.st_size + 1)) || pread(fd, b, st.st_size, 0) != st.st_size)
		return -1;
	c = memfd_with(b, st.st_size);
	free(b);
	return c;
}

static int test_round_trip(void)
{
	size_t sizes[] = { 0, 1, 4096, ZPAGES_FRAME, 2 * ZPAGES_FRAME + 12345 }, i, j;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		uint8_t *p = malloc(n + 1);
		int in, z = memfd_create("z", MFD_CLOEXEC);

		CHECK(p && z >= 0);
		for (j = 0; j < n; j++)
			p[j] = (j / 4096) % 2 ? (uint8_t)(j * 7 + (j >> 9)) : 0;
		in = memfd_with(p, n);
		CHECK(in >= 0 && zpages_pack_fd(in, z, "pages-1.img") == 0);
		CHECK(zpages_fd_is_packed(z) == 1 && zpages_fd_is_packed(in) == 0);
		CHECK(unpacks_to(z, p, n) == 0);
		close(in);
		close(z);
		free(p);
	}
	return 0;
}

static int test_corrupt(void)
{
	size_t n = 2 * ZPAGES_FRAME + 999, j;
	uint8_t *p = malloc(n), b;
	int in, z = memfd_create("z", MFD_CLOEXEC), c;
	struct stat st;

	CHECK(p && z >= 0);
	for (j = 0; j < n; j++)
		p[j] = (uint8_t)(j * 131 + (j >> 8));
	in = memfd_with(p, n);
	CHECK(in >= 0 && zpages_pack_fd(in, z, "pages-1.img") == 0 && !fstat(z, &st));
	/* a byte of the middle frame, of the index, of the header's sizes */
	for (j = 0; j < 3; j++) {
		off_t at = j == 0 ? st.st_size / 2 : j == 1 ? ZPAGES_HDR_SIZE + 4 : 17;

		c = copy_of(z);
		CHECK(c >= 0 && pread(c, &b, 1, at) == 1);
		b ^= 1;
		CHECK(pwrite(c, &b, 1, at) == 1 && unpacks_to(c, p, n) == 1);
		close(c);
	}
	/* cut, extended, not compressed at all */
	c = copy_of(z);
	CHECK(c >= 0 && ftruncate(c, st.st_size - 1) == 0 && unpacks_to(c, p, n) == 1);
	CHECK(ftruncate(c, 10) == 0 && unpacks_to(c, p, n) == 1);
	close(c);
	c = copy_of(z);
	CHECK(c >= 0 && pwrite(c, "x", 1, st.st_size) == 1 && unpacks_to(c, p, n) == 1);
	close(c);
	CHECK(unpacks_to(in, p, n) == 1);
	close(in);
	close(z);
	free(p);
	return 0;
}

static int put(int dirfd, const char *name, const char *text)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t n = fd >= 0 ? write(fd, text, strlen(text)) : -1;

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int test_dir(void)
{
	int d = unit_fresh_dir("zpages-dir"), fd = -1, k;
	char tmp[4096], buf[16];

	CHECK(d >= 0);
	CHECK(zpages_dir_packed(d) == 0);
	CHECK(put(d, "inventory.img", "inventory") == 0 && put(d, "pages-1.img", "page data") == 0 &&
	      put(d, "pages-2.img", "more") == 0);
	CHECK(zpages_pack_dir(d) == 0 && manifest_write(d) == 0);
	CHECK(zpages_dir_packed(d) == 1 && manifest_check(d) == 0);
	CHECK(zpages_open_dir(d, tmp, sizeof(tmp), &fd) == 0 && fd >= 0);
	k = openat(fd, "pages-1.img", O_RDONLY);
	CHECK(k >= 0 && read(k, buf, 10) == 9 && !memcmp(buf, "page data", 9));
	close(k);
	k = openat(fd, "inventory.img", O_RDONLY);
	CHECK(k >= 0 && read(k, buf, 10) == 9 && !memcmp(buf, "inventory", 9));
	close(k);
	CHECK(faccessat(fd, MANIFEST_NAME, F_OK, 0) != 0);
	close(fd);
	seal_dir_remove(tmp);
	CHECK(access(tmp, F_OK) != 0);
	/* one page file not compressed among compressed ones */
	CHECK(put(d, "pages-3.img", "raw") == 0 && zpages_dir_packed(d) == -1);
	/* no manifest */
	CHECK(unlinkat(d, "pages-3.img", 0) == 0 && unlinkat(d, MANIFEST_NAME, 0) == 0);
	CHECK(zpages_open_dir(d, tmp, sizeof(tmp), &fd) == -1 && fd == -1 && !tmp[0]);
	return 0;
}

static const struct unit_case cases[] = {
	{ "a compressed file decompresses to its bytes, across frames", test_round_trip },
	{ "changed, cut, extended or plain: refused", test_corrupt },
	{ "a directory's page files compressed and opened with the manifest's files", test_dir },
};

int main(int argc, char **argv)
{
	(void)argc;
	log_init(NULL, NULL, getenv("UNIT_LOG") ? LOG_ERROR : LOG_NONE);
	return unit_run(argv[0], cases, ARRAY_SIZE(cases));
}
