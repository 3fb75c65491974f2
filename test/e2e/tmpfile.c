/*
 * An unnamed temporary file (open(dir, O_TMPFILE | O_RDWR), as InnoDB
 * makes them) keeps its data, size, mode, owner, F_GETFL flags and offset,
 * and can still be given a name with linkat() through /proc/self/fd.
 */
#include <sys/stat.h>

#include "e2e.h"

#define DATA	"unnamed temporary data"

int main(int argc, char **argv)
{
	char dir[512], name[600], self[64], buf[64];
	struct stat st, named;
	int fd, flags;

	e2e_init(argc, argv);
	e2e_path(dir, sizeof(dir), "");
	fd = open(dir, O_TMPFILE | O_RDWR, 0640);
	if (fd < 0 || write(fd, DATA, strlen(DATA)) != (ssize_t)strlen(DATA) ||
	    fchown(fd, 1000, 1000) || fchmod(fd, 0640) || lseek(fd, 5, SEEK_SET) != 5 ||
	    ftruncate(fd, 8192))
		e2e_fail("setup: %s", strerror(errno));
	flags = fcntl(fd, F_GETFL);

	e2e_ready();
	e2e_wait_stop();

	if (fcntl(fd, F_GETFL) != flags)
		e2e_fail("F_GETFL %#o, was %#o", fcntl(fd, F_GETFL), flags);
	if (lseek(fd, 0, SEEK_CUR) != 5)
		e2e_fail("offset %lld, was 5", (long long)lseek(fd, 0, SEEK_CUR));
	if (fstat(fd, &st) || st.st_size != 8192 || (st.st_mode & 07777) != 0640 ||
	    st.st_uid != 1000 || st.st_gid != 1000 || st.st_nlink != 0)
		e2e_fail("size %lld mode %o owner %u:%u links %lu", (long long)st.st_size,
			 st.st_mode & 07777, st.st_uid, st.st_gid, (unsigned long)st.st_nlink);
	if (pread(fd, buf, strlen(DATA), 0) != (ssize_t)strlen(DATA) || memcmp(buf, DATA, strlen(DATA)))
		e2e_fail("data lost");
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	snprintf(name, sizeof(name), "%s/linked", dir);
	if (linkat(AT_FDCWD, self, AT_FDCWD, name, AT_SYMLINK_FOLLOW))
		e2e_fail("linkat: %s", strerror(errno));
	if (stat(name, &named) || named.st_ino != st.st_ino || unlink(name))
		e2e_fail("the new name leads elsewhere");
	e2e_pass();
}
