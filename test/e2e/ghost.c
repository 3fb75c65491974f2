/*
 * Deleted files keep content, holes, mode, owner, sharing and positions: a sparse
 * 600 KiB file open twice (read-write at 12345 with a dup, write-only
 * O_APPEND) and mapped shared, then unlinked; and a deleted file whose name now belongs to a
 * new file, which must stay untouched; an empty deleted file.
 */
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "e2e.h"

#define SIZE	(600 * 1024)
#define HOLE_AT	10000
#define DATA2	(300 * 1024)

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 13 + i / 4099);
}

static void fill(int fd, off_t off, size_t len)
{
	static unsigned char buf[16384];
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = pattern((size_t)off + i);
	if (pwrite(fd, buf, len, off) != (ssize_t)len)
		e2e_fail("pwrite: %s", strerror(errno));
}

static void check_range(int fd, off_t off, size_t len, bool zero)
{
	static unsigned char buf[16384];
	size_t i;

	if (pread(fd, buf, len, off) != (ssize_t)len)
		e2e_fail("pread %zu at %lld: %s", len, (long long)off, strerror(errno));
	for (i = 0; i < len; i++)
		if (buf[i] != (zero ? 0 : pattern((size_t)off + i)))
			e2e_fail("byte %lld is %u", (long long)off + (long long)i, buf[i]);
}

static void check_deleted(int fd, const char *what)
{
	char link[64], target[512];
	struct stat st;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (fstat(fd, &st) || n < 0)
		e2e_fail("%s: stat/readlink: %s", what, strerror(errno));
	target[n] = '\0';
	if (st.st_nlink != 0 || !strstr(target, " (deleted)"))
		e2e_fail("%s: nlink %lu, link %s: not deleted", what, (unsigned long)st.st_nlink, target);
}

int main(int argc, char **argv)
{
	char path[512], reused[512], buf[16];
	int rw, dup_rw, app, old, now, empty;
	unsigned char *map;
	struct stat st;
	bool us = false;
	off_t d;

	/* "us" first: times of whole microseconds, which the established format keeps */
	if (argc > 2 && !strcmp(argv[1], "us")) {
		us = true;
		argc--, argv++;
	}
	e2e_init(argc, argv);
	e2e_path(path, sizeof(path), "ghost");
	e2e_path(reused, sizeof(reused), "reused");
	rw = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	app = open(path, O_WRONLY | O_APPEND);
	old = open(reused, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (rw < 0 || app < 0 || old < 0)
		e2e_fail("open: %s", strerror(errno));
	fill(rw, 0, HOLE_AT);
	fill(rw, DATA2, 10000);
	if (ftruncate(rw, SIZE) || fchown(rw, 1000, 1001) || fchmod(rw, 0640) ||
	    write(old, "old file", 8) != 8)
		e2e_fail("setup: %s", strerror(errno));
	dup_rw = dup(rw);
	map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, rw, 0);
	if (map == MAP_FAILED)
		e2e_fail("mmap: %s", strerror(errno));
	if (lseek(rw, 12345, SEEK_SET) != 12345 || unlink(path) || unlink(reused))
		e2e_fail("setup: %s", strerror(errno));
	e2e_path(path, sizeof(path), "empty");
	empty = open(path, O_RDONLY | O_CREAT | O_EXCL, 0644);
	if (empty < 0 || unlink(path))
		e2e_fail("empty file: %s", strerror(errno));
	now = open(reused, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (now < 0 || write(now, "new file", 8) != 8)
		e2e_fail("new file: %s", strerror(errno));
	close(now);
	if (us) {
		const struct timespec t[2] = { { 1700000000, 123456000 }, { 1700000001, 654321000 } };

		if (futimens(rw, t) || futimens(empty, t) || futimens(old, t))
			e2e_fail("futimens: %s", strerror(errno));
	}

	e2e_ready();
	e2e_wait_stop();

	if (lseek(dup_rw, 0, SEEK_CUR) != 12345)
		e2e_fail("position %lld, not 12345", (long long)lseek(rw, 0, SEEK_CUR));
	check_deleted(rw, "rw");
	check_deleted(app, "append");
	check_deleted(old, "reused");
	check_deleted(empty, "empty");
	if (fstat(empty, &st) || st.st_size != 0 || (st.st_mode & 07777) != 0644)
		e2e_fail("empty: size %lld mode %o", (long long)st.st_size, st.st_mode & 07777);
	if (fstat(rw, &st) || st.st_size != SIZE || (st.st_mode & 07777) != 0640 ||
	    st.st_uid != 1000 || st.st_gid != 1001)
		e2e_fail("size %lld mode %o owner %u:%u", (long long)st.st_size,
			 st.st_mode & 07777, st.st_uid, st.st_gid);
	check_range(rw, 0, HOLE_AT, false);
	check_range(rw, HOLE_AT, 4096, true);
	check_range(rw, DATA2, 10000, false);
	if (map[4097] != pattern(4097))
		e2e_fail("mapping lost its content");
	map[100] = 0xa5;
	if (pread(rw, buf, 1, 100) != 1 || (unsigned char)buf[0] != 0xa5)
		e2e_fail("the mapping is not the restored file any more");
	map[100] = pattern(100);
	check_range(rw, SIZE - 4096, 4096, true);
	d = lseek(rw, HOLE_AT + 8192, SEEK_DATA);
	if (d <= HOLE_AT || d > DATA2)
		e2e_fail("hole lost: SEEK_DATA from %d gives %lld", HOLE_AT + 8192, (long long)d);
	lseek(rw, 5, SEEK_SET);
	if (lseek(dup_rw, 0, SEEK_CUR) != 5)
		e2e_fail("dup no longer shares the position");
	if ((fcntl(app, F_GETFL) & (O_ACCMODE | O_APPEND)) != (O_WRONLY | O_APPEND))
		e2e_fail("append fd flags %o", fcntl(app, F_GETFL));
	if (write(app, "tail", 4) != 4 || fstat(rw, &st) || st.st_size != SIZE + 4)
		e2e_fail("append did not reach the shared file");
	if (pread(old, buf, 8, 0) != 8 || memcmp(buf, "old file", 8))
		e2e_fail("deleted 'reused' lost its content");
	now = open(reused, O_RDONLY);
	if (now < 0 || read(now, buf, 8) != 8 || memcmp(buf, "new file", 8))
		e2e_fail("the new file at the old name was touched");
	close(now);
	e2e_pass();
}
