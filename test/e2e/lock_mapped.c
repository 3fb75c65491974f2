/*
 * A POSIX lock on a file the task also maps: the restorer closes its
 * mapping descriptors, and any close of the file would drop the lock, so
 * the dump refuses it (with --file-locks) and the task keeps both.
 */
#include <sys/mman.h>

#include "e2e.h"

int main(int argc, char **argv)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10 };
	char path[512];
	char *map;
	int fd, probe;

	e2e_init(argc, argv);
	e2e_path(path, sizeof(path), "locked-and-mapped");
	fd = open(path, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || ftruncate(fd, 4096) || fcntl(fd, F_SETLK, &fl))
		e2e_fail("setup: %s", strerror(errno));
	map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		e2e_fail("mmap: %s", strerror(errno));

	e2e_ready();
	e2e_wait_stop();

	probe = open(path, O_RDWR);
	fl.l_type = F_WRLCK;
	if (probe < 0 || fcntl(probe, F_OFD_GETLK, &fl) || fl.l_type != F_WRLCK)
		e2e_fail("the POSIX lock is gone");
	e2e_pass();
}
