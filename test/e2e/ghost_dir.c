/*
 * Deleted directories still open, and a file open in a deleted directory:
 * "gone" (mode 0751, owner 1000:1001, set times) open and removed; "outer/inner"
 * open, with "outer/inner/file" open at position 3; file, inner and outer
 * removed. After the restore each fd is its deleted object again: type,
 * no links, /proc link, owner, mode, times, the file's content and position,
 * and no name left behind.
 */
#include <sys/stat.h>

#include "e2e.h"

static const char text[] = "kept in a deleted directory";
static const struct timespec times[2] = { { 1700000100, 250000000 }, { 1700000200, 500000000 } };

static void check(int fd, const char *path, mode_t type, mode_t mode, bool owned)
{
	char link[64], target[600], want[600];
	struct stat st;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	snprintf(want, sizeof(want), "%s (deleted)", path);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0 || fstat(fd, &st))
		e2e_fail("%s: %s", path, strerror(errno));
	target[n] = '\0';
	if (strcmp(target, want) || (st.st_mode & S_IFMT) != type || st.st_nlink != 0)
		e2e_fail("%s: link %s, mode %o, %lu links", path, target, st.st_mode,
			 (unsigned long)st.st_nlink);
	if ((st.st_mode & 07777) != mode || (owned && (st.st_uid != 1000 || st.st_gid != 1001)))
		e2e_fail("%s: mode %o, owner %u:%u", path, st.st_mode & 07777, st.st_uid, st.st_gid);
	if (st.st_mtim.tv_sec != times[1].tv_sec || st.st_mtim.tv_nsec != times[1].tv_nsec)
		e2e_fail("%s: mtime %lld.%09ld", path, (long long)st.st_mtim.tv_sec,
			 st.st_mtim.tv_nsec);
	if (!access(path, F_OK))
		e2e_fail("%s: a name is left behind", path);
}

int main(int argc, char **argv)
{
	char gone[512], outer[512], inner[600], file[700], buf[64];
	int dfd, ifd, ffd;

	e2e_init(argc, argv);
	e2e_path(gone, sizeof(gone), "gone");
	e2e_path(outer, sizeof(outer), "outer");
	snprintf(inner, sizeof(inner), "%s/inner", outer);
	snprintf(file, sizeof(file), "%s/file", inner);
	if (mkdir(gone, 0700) || mkdir(outer, 0700) || mkdir(inner, 0700))
		e2e_fail("mkdir: %s", strerror(errno));
	dfd = open(gone, O_RDONLY | O_DIRECTORY);
	ifd = open(inner, O_RDONLY | O_DIRECTORY);
	ffd = open(file, O_RDWR | O_CREAT | O_EXCL, 0640);
	if (dfd < 0 || ifd < 0 || ffd < 0 || write(ffd, text, sizeof(text)) != sizeof(text) ||
	    lseek(ffd, 3, SEEK_SET) != 3)
		e2e_fail("setup: %s", strerror(errno));
	if (fchown(dfd, 1000, 1001) || fchmod(dfd, 0751) || rmdir(gone) || unlink(file) ||
	    rmdir(inner) || rmdir(outer))
		e2e_fail("remove: %s", strerror(errno));
	if (futimens(dfd, times) || futimens(ifd, times) || futimens(ffd, times))
		e2e_fail("futimens: %s", strerror(errno));

	e2e_ready();
	e2e_wait_stop();

	check(dfd, gone, S_IFDIR, 0751, true);
	check(ifd, inner, S_IFDIR, 0700, false);
	check(ffd, file, S_IFREG, 0640, false);
	if (access(outer, F_OK) == 0)
		e2e_fail("%s is back", outer);
	if (lseek(ffd, 0, SEEK_CUR) != 3 || pread(ffd, buf, sizeof(text), 0) != sizeof(text) ||
	    memcmp(buf, text, sizeof(text)))
		e2e_fail("the file in the deleted directory lost its content or position");
	e2e_pass();
}
