/*
 * A memfd both mapped and still open: the mapping's object and the fd's
 * memfd would come back as two memfds, so the dump refuses it for now and
 * the task keeps running with both intact.
 */
#include <sys/mman.h>

#include "e2e.h"

int main(int argc, char **argv)
{
	char *map, buf[4];
	int fd;

	e2e_init(argc, argv);
	fd = memfd_create("open and mapped", 0);
	if (fd < 0 || ftruncate(fd, 4096))
		e2e_fail("memfd: %s", strerror(errno));
	map = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		e2e_fail("mmap: %s", strerror(errno));
	memcpy(map, "abc", 3);

	e2e_ready();
	e2e_wait_stop();

	if (pread(fd, buf, 3, 0) != 3 || memcmp(buf, "abc", 3))
		e2e_fail("fd and mapping no longer share the memfd");
	e2e_pass();
}
