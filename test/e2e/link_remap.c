/*
 * --link-remap: a file open by the name "a", then unlinked from it, keeps
 * its other name "b". After the restore the fd is that file again (the
 * inode "b" names, one link), its /proc link reads "a (deleted)", its
 * position and content are kept, and no temporary name is left behind.
 */
#include <dirent.h>
#include <sys/stat.h>

#include "e2e.h"

static const char text[] = "one file, two names, one taken away";

int main(int argc, char **argv)
{
	char a[512], b[512], want[600], dir[512], buf[64];
	struct stat fs, bs;
	struct dirent *de;
	DIR *d;
	int fd;

	e2e_init(argc, argv);
	e2e_path(a, sizeof(a), "a");
	e2e_path(b, sizeof(b), "b");
	e2e_path(dir, sizeof(dir), ".");
	fd = open(a, O_RDWR | O_CREAT | O_EXCL, 0640);
	if (fd < 0 || write(fd, text, sizeof(text)) != sizeof(text) || link(a, b) || unlink(a) ||
	    lseek(fd, 5, SEEK_SET) != 5)
		e2e_fail("setup: %s", strerror(errno));

	e2e_ready();
	e2e_wait_stop();

	snprintf(want, sizeof(want), "%s (deleted)", a);
	e2e_check_fd_link(fd, want);
	if (fstat(fd, &fs) || stat(b, &bs) || fs.st_ino != bs.st_ino || fs.st_dev != bs.st_dev ||
	    fs.st_nlink != 1)
		e2e_fail("not the file named b, or %lu links", (unsigned long)fs.st_nlink);
	if (lseek(fd, 0, SEEK_CUR) != 5 || pread(fd, buf, sizeof(text), 0) != sizeof(text) ||
	    memcmp(buf, text, sizeof(text)))
		e2e_fail("position or content lost");
	if (!access(a, F_OK))
		e2e_fail("%s is back", a);
	d = opendir(dir);
	while (d && (de = readdir(d)))
		if (!strncmp(de->d_name, ".criu-link-remap.", 17))
			e2e_fail("%s left behind", de->d_name);
	if (!d)
		e2e_fail("%s: %s", dir, strerror(errno));
	closedir(d);
	e2e_pass();
}
