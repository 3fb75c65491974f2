/*
 * A mapping's maximum protection (VM_MAYWRITE..., "mr mw me" in VmFlags)
 * survives: a shared read-only mapping of a file opened read-write can be
 * made writable after the restore (and writes reach the file), one of a
 * file opened read-only cannot (EACCES), a private read-only mapping of a
 * read-only file can (copy-on-write), each with the VmFlags it had.
 */
#include <sys/mman.h>

#include "e2e-vma.h"

#define PAGE	4096

int main(int argc, char **argv)
{
	char path[256], flags[3][256], now[256], buf[4];
	char *rw_map, *ro_map, *priv;
	int rw, ro, i;

	e2e_init(argc, argv);
	e2e_path(path, sizeof(path), "mapped");
	rw = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (rw < 0 || ftruncate(rw, 4 * PAGE) || pwrite(rw, "abc", 3, 0) != 3)
		e2e_fail("setup: %s", strerror(errno));
	ro = open(path, O_RDONLY);
	rw_map = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, rw, 0);
	ro_map = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, ro, 2 * PAGE);
	priv = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, ro, PAGE);
	if (ro < 0 || rw_map == MAP_FAILED || ro_map == MAP_FAILED || priv == MAP_FAILED)
		e2e_fail("mmap: %s", strerror(errno));
	close(rw);
	close(ro);
	e2e_vmflags(rw_map, flags[0], sizeof(flags[0]));
	e2e_vmflags(ro_map, flags[1], sizeof(flags[1]));
	e2e_vmflags(priv, flags[2], sizeof(flags[2]));

	e2e_ready();
	e2e_wait_stop();

	for (i = 0; i < 3; i++) {
		e2e_vmflags(i == 0 ? rw_map : i == 1 ? ro_map : priv, now, sizeof(now));
		if (strcmp(now, flags[i]))
			e2e_fail("mapping %d: VmFlags \"%s\", dumped with \"%s\"", i, now, flags[i]);
	}
	if (mprotect(rw_map, 2 * PAGE, PROT_READ | PROT_WRITE))
		e2e_fail("the mapping of the read-write file cannot be made writable: %s",
			 strerror(errno));
	rw_map[1] = 'X';
	if (msync(rw_map, PAGE, MS_SYNC))
		e2e_fail("msync: %s", strerror(errno));
	ro = open(path, O_RDONLY);
	if (ro < 0 || pread(ro, buf, 3, 0) != 3 || memcmp(buf, "aXc", 3))
		e2e_fail("a write through the upgraded mapping does not reach the file");
	close(ro);
	if (mprotect(ro_map, PAGE, PROT_READ | PROT_WRITE) == 0 || errno != EACCES)
		e2e_fail("the shared mapping of the read-only file became writable (%s)",
			 strerror(errno));
	if (mprotect(priv, PAGE, PROT_READ | PROT_WRITE))
		e2e_fail("the private mapping cannot be made writable: %s", strerror(errno));
	priv[0] = 'p';
	e2e_pass();
}
