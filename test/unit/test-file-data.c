/*
 * Unit tests for the content of deleted files and memfds
 * (criu/file-data.c): hostile run lists are refused, and a sparse file
 * goes through fdata_save/fdata_fill with its bytes and holes intact.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "file-data.h"
#include "image.h"
#include "log.h"
#include "unit.h"

#define MiB	(1024 * 1024)

static FileRun run_v[FDATA_MAX_RUNS + 1];
static FileRun *run_p[FDATA_MAX_RUNS + 1];

/* A FileData of @n runs given as (off, len) pairs. */
static FileData runs(uint64_t off, size_t n, const uint64_t *pairs)
{
	FileData d = FILE_DATA__INIT;
	size_t i;

	for (i = 0; i < n; i++) {
		file_run__init(&run_v[i]);
		run_v[i].off = pairs[2 * i];
		run_v[i].len = pairs[2 * i + 1];
		run_p[i] = &run_v[i];
	}
	d.off = off;
	d.n_runs = n;
	d.runs = run_p;
	return d;
}

static int test_check(void)
{
	static const uint64_t good[] = { 0, 10, 4096, 100, 9000, 1000 };
	static const uint64_t empty_run[] = { 0, 0 };
	static const uint64_t backwards[] = { 4096, 10, 0, 10 };
	static const uint64_t overlap[] = { 0, 100, 50, 10 };
	static const uint64_t past[] = { 9990, 20 };
	static const uint64_t wrap[] = { 5, UINT64_MAX };
	FileData d;
	size_t i;

	d = runs(0, 3, good);
	CHECK(fdata_check("t", &d, 10000, 1110) == 0);
	CHECK(fdata_check("t", &d, 10000, 1109) == -1);	/* raw image too short */
	d = runs(5, 3, good);
	CHECK(fdata_check("t", &d, 10000, 1114) == -1);
	CHECK(fdata_check("t", &d, 9999, 2000) == -1);		/* last run past the size */
	d = runs(UINT64_MAX, 3, good);
	CHECK(fdata_check("t", &d, 10000, 2000) == -1);
	d = runs(0, 1, empty_run);
	CHECK(fdata_check("t", &d, 10, 10) == -1);
	d = runs(0, 2, backwards);
	CHECK(fdata_check("t", &d, 10000, 100) == -1);
	d = runs(0, 2, overlap);
	CHECK(fdata_check("t", &d, 10000, 1000) == -1);
	d = runs(0, 1, past);
	CHECK(fdata_check("t", &d, 10000, 1000) == -1);
	d = runs(0, 1, wrap);
	CHECK(fdata_check("t", &d, UINT64_MAX, UINT64_MAX) == -1);
	d = runs(0, 0, NULL);
	CHECK(fdata_check("t", &d, 0, 0) == 0);
	for (i = 0; i <= FDATA_MAX_RUNS; i++) {
		file_run__init(&run_v[i]);
		run_v[i].off = 2 * i;
		run_v[i].len = 1;
		run_p[i] = &run_v[i];
	}
	d.off = 0;
	d.runs = run_p;
	d.n_runs = FDATA_MAX_RUNS;
	CHECK(fdata_check("t", &d, 1 << 20, 1 << 20) == 0);
	d.n_runs = FDATA_MAX_RUNS + 1;
	CHECK(fdata_check("t", &d, 1 << 20, 1 << 20) == -1);
	return 0;
}

static unsigned char pattern(uint64_t i)
{
	return (unsigned char)(i * 31 + (i >> 12));
}

static int put(int fd, off_t off, size_t len)
{
	unsigned char *b = malloc(len);
	size_t i;
	int r;

	if (!b)
		return -1;
	for (i = 0; i < len; i++)
		b[i] = pattern((uint64_t)off + i);
	r = pwrite(fd, b, len, off) == (ssize_t)len ? 0 : -1;
	free(b);
	return r;
}

static int same(int a, int b, off_t size)
{
	static unsigned char x[65536], y[65536];
	off_t off;

	for (off = 0; off < size; off += (off_t)sizeof(x)) {
		size_t n = size - off < (off_t)sizeof(x) ? (size_t)(size - off) : sizeof(x);

		if (pread(a, x, n, off) != (ssize_t)n || pread(b, y, n, off) != (ssize_t)n ||
		    memcmp(x, y, n))
			return -1;
	}
	return 0;
}

/* A sparse file through the images and back: bytes equal, the holes kept. */
static int test_round_trip(void)
{
	char dir[] = "/tmp/criu-test-fdata.XXXXXX", src_p[64], dst_p[64];
	struct fdata_out out = { 0 };
	FileData *d = fdata_new(), *d2 = fdata_new();
	struct cr_img *raw;
	uint64_t raw_size;
	int dirfd, src, dst, ret = -1;

	CHECK(d && d2 && mkdtemp(dir));
	snprintf(src_p, sizeof(src_p), "%s/src", dir);
	snprintf(dst_p, sizeof(dst_p), "%s/dst", dir);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	src = open(src_p, O_RDWR | O_CREAT, 0600);
	dst = open(dst_p, O_RDWR | O_CREAT, 0600);
	CHECK(dirfd >= 0 && src >= 0 && dst >= 0);
	CHECK(put(src, 0, 100) == 0 && put(src, MiB, 3 * MiB) == 0 && ftruncate(src, 6 * MiB) == 0);
	CHECK(fdata_save(&out, dirfd, IMG_GHOST_DATA, src, 6 * MiB, d) == 0);
	CHECK(d->off == 0 && d->n_runs == 2 && d->runs[0]->off == 0 && d->runs[1]->off == MiB);
	CHECK(fdata_save(&out, dirfd, IMG_GHOST_DATA, src, 100, d2) == 0);	/* a second file */
	CHECK(d2->off == d->runs[0]->len + d->runs[1]->len && d2->n_runs == 1);
	CHECK(fdata_commit(&out) == 0);
	raw = fdata_open(dirfd, IMG_GHOST_DATA, &raw_size);
	CHECK(raw && raw_size == d2->off + 100);
	CHECK(fdata_check("src", d, 6 * MiB, raw_size) == 0);
	CHECK(fdata_fill("dst", dst, img_raw_fd(raw), d, 6 * MiB) == 0);
	img_close(raw);
	CHECK(lseek(dst, 0, SEEK_END) == 6 * MiB && same(src, dst, 6 * MiB) == 0);
	CHECK(lseek(dst, 8192, SEEK_DATA) == MiB);			/* the hole is a hole */
	CHECK(lseek(dst, 4 * MiB, SEEK_DATA) == -1);		/* and so is the tail */
	ret = 0;
	close(src);
	close(dst);
	unlink(src_p);
	unlink(dst_p);
	unlinkat(dirfd, img_desc(IMG_GHOST_DATA)->fmt, 0);
	close(dirfd);
	rmdir(dir);
	protobuf_c_message_free_unpacked(&d->base, NULL);
	protobuf_c_message_free_unpacked(&d2->base, NULL);
	return ret;
}

/* FIEMAP and SEEK_DATA find the same runs, in @dir (tmpfs has no FIEMAP: SEEK_DATA then). */
static int scan_both(const char *dir)
{
	char p[PATH_MAX];
	FileData *a = fdata_new(), *b = fdata_new();
	uint64_t ba = 0, bb = 0;
	size_t i;
	int fd, ret = -1;

	snprintf(p, sizeof(p), "%s/criu-test-fdata-scan.XXXXXX", dir);
	fd = mkstemp(p);
	CHECK(a && b && fd >= 0);
	unlink(p);
	CHECK(put(fd, 4096, 100) == 0 && put(fd, 2 * MiB, 8192) == 0 &&
	      put(fd, 5 * MiB - 50, 50) == 0 && ftruncate(fd, 5 * MiB - 10) == 0);
	CHECK(fdata_scan(fd, 5 * MiB - 10, true, a, &ba) == 0);
	CHECK(fdata_scan(fd, 5 * MiB - 10, false, b, &bb) == 0);
	CHECK(ba == bb && a->n_runs == 3 && b->n_runs == 3 && ba <= 4 * 4096 + 8192);
	for (i = 0; i < 3; i++)
		CHECK(a->runs[i]->off == b->runs[i]->off && a->runs[i]->len == b->runs[i]->len);
	CHECK(a->runs[2]->off + a->runs[2]->len == 5 * MiB - 10);	/* cut at the size */
	ret = 0;
	close(fd);
	protobuf_c_message_free_unpacked(&a->base, NULL);
	protobuf_c_message_free_unpacked(&b->base, NULL);
	return ret;
}

static int test_scan(void)
{
	return scan_both("/tmp") || scan_both("/dev/shm") ? -1 : 0;
}

static int setup(void)
{
	log_init(NULL, NULL, LOG_NONE);
	return 0;
}

static const struct unit_case cases[] = {
	{ "quiet logging", setup },
	{ "run lists: bounds, order, raw image size, run count", test_check },
	{ "a sparse file round trip keeps bytes and holes", test_round_trip },
	{ "FIEMAP finds the runs SEEK_DATA finds, and counts their bytes", test_scan },
};

UNIT_MAIN(cases)
