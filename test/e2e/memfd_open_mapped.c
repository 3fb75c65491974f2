/*
 * A memfd both mapped and still open: after restore the fd and the mapping
 * are one memfd again (a write through either is seen through the other),
 * with the fd's position and flags and the memfd's seals and name.
 */
#include <sys/mman.h>

#include "e2e.h"

int main(int argc, char **argv)
{
	char *map, buf[4], link[64], target[128];
	int fd, ro;
	ssize_t n;

	e2e_init(argc, argv);
	fd = memfd_create("open and mapped", MFD_ALLOW_SEALING);
	if (fd < 0 || ftruncate(fd, 8192))
		e2e_fail("memfd: %s", strerror(errno));
	map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW))
		e2e_fail("mmap/seal: %s", strerror(errno));
	memcpy(map, "abc", 3);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ro = open(link, O_RDONLY);
	if (ro < 0 || lseek(fd, 4100, SEEK_SET) != 4100 || lseek(ro, 2, SEEK_SET) != 2)
		e2e_fail("setup: %s", strerror(errno));

	e2e_ready();
	e2e_wait_stop();

	if (pread(fd, buf, 3, 0) != 3 || memcmp(buf, "abc", 3))
		e2e_fail("content lost");
	if (pwrite(fd, "X", 1, 5000) != 1 || map[5000] != 'X')
		e2e_fail("a write through the fd does not reach the mapping");
	map[1] = 'Y';
	if (pread(ro, buf, 1, 1) != 1 || buf[0] != 'Y')
		e2e_fail("a write through the mapping does not reach the reopened fd");
	if (lseek(fd, 0, SEEK_CUR) != 4100 || lseek(ro, 0, SEEK_CUR) != 2)
		e2e_fail("positions lost");
	if (fcntl(fd, F_GET_SEALS) != (F_SEAL_SHRINK | F_SEAL_GROW))
		e2e_fail("seals %#x", fcntl(fd, F_GET_SEALS));
	if ((fcntl(ro, F_GETFL) & O_ACCMODE) != O_RDONLY)
		e2e_fail("the read-only fd is not read-only");
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0 || (target[n] = '\0', strcmp(target, "/memfd:open and mapped (deleted)")))
		e2e_fail("name: %s", n < 0 ? strerror(errno) : target);
	e2e_pass();
}
