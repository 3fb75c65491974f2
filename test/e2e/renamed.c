/*
 * Files renamed since they were opened are reopened under their new name:
 * a file moved to another directory, a file whose directory was renamed.
 * O_PATH descriptors of a file and a directory come back as O_PATH.
 */
#include <sys/stat.h>

#include "e2e.h"

static void mkpath(char *buf, size_t len, const char *name)
{
	e2e_path(buf, len, name);
}

static void same_file(int fd, const char *path, const char *what)
{
	struct stat a, b;

	if (fstat(fd, &a) || stat(path, &b) || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
		e2e_fail("%s: fd is not %s any more", what, path);
}

static int open_in(const char *dir, const char *name, int flags)
{
	char p[600];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return open(p, flags | O_CREAT, 0600);
}

int main(int argc, char **argv)
{
	char d1[512], d2[512], moved[512], from[600], to[600], buf[16];
	int f, h, opath, odir, sub;

	e2e_init(argc, argv);
	mkpath(d1, sizeof(d1), "d1");
	mkpath(d2, sizeof(d2), "d2");
	mkpath(moved, sizeof(moved), "d1-renamed");
	if (mkdir(d1, 0700) || mkdir(d2, 0700))
		e2e_fail("mkdir: %s", strerror(errno));
	f = open_in(d1, "f", O_RDWR);
	h = open_in(d1, "h", O_RDWR | O_APPEND);
	if (f < 0 || h < 0 || write(f, "hello world", 11) != 11 || write(h, "abc", 3) != 3)
		e2e_fail("setup: %s", strerror(errno));
	lseek(f, 6, SEEK_SET);
	snprintf(from, sizeof(from), "%s/f", d1);
	snprintf(to, sizeof(to), "%s/g", d2);
	opath = open(from, O_PATH);
	odir = open(d2, O_PATH | O_DIRECTORY);
	if (opath < 0 || odir < 0 || rename(from, to) || rename(d1, moved))
		e2e_fail("rename: %s", strerror(errno));

	e2e_ready();
	e2e_wait_stop();

	same_file(f, to, "moved file");
	same_file(opath, to, "O_PATH file");
	same_file(odir, d2, "O_PATH directory");
	snprintf(from, sizeof(from), "%s/h", moved);
	same_file(h, from, "file in the renamed directory");
	if (lseek(f, 0, SEEK_CUR) != 6 || read(f, buf, 5) != 5 || memcmp(buf, "world", 5))
		e2e_fail("moved file: position or content lost");
	if (write(h, "def", 3) != 3 || pread(h, buf, 6, 0) != 6 || memcmp(buf, "abcdef", 6))
		e2e_fail("renamed directory's file: append lost");
	if (!(fcntl(opath, F_GETFL) & O_PATH) || !(fcntl(odir, F_GETFL) & O_PATH))
		e2e_fail("O_PATH lost: %o %o", fcntl(opath, F_GETFL), fcntl(odir, F_GETFL));
	if (read(opath, buf, 1) != -1 || errno != EBADF)
		e2e_fail("an O_PATH fd can read");
	sub = openat(odir, "g", O_RDONLY);
	if (sub < 0 || read(sub, buf, 5) != 5 || memcmp(buf, "hello", 5))
		e2e_fail("openat through the O_PATH directory: %s", strerror(errno));
	e2e_pass();
}
