/*
 * Memory for the page server's cases: 72 MiB of anonymous memory (more than
 * four of the page server's 16 MiB messages), every page different, and a
 * sparse mapping, checked whole after the restore.
 */
#include <sys/mman.h>

#include "e2e.h"

#define PAGE	4096ul
#define BIG	(72ul << 20)
#define SPARSE	(64 * PAGE)

static void fill(uint64_t *p, size_t len, uint64_t seed)
{
	size_t i;

	for (i = 0; i < len / 8; i++)
		p[i] = seed ^ (i * 0x9e3779b97f4a7c15ull);
}

int main(int argc, char **argv)
{
	unsigned char *big, *sparse;
	uint64_t h_big, h_sparse;

	e2e_init(argc, argv);
	big = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sparse = mmap(NULL, SPARSE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (big == MAP_FAILED || sparse == MAP_FAILED)
		e2e_fail("mmap: %s", strerror(errno));
	fill((uint64_t *)big, BIG, 0x5eed);
	sparse[7 * PAGE] = 0x77;
	sparse[40 * PAGE + 5] = 0x40;
	h_big = e2e_hash(big, BIG);
	h_sparse = e2e_hash(sparse, SPARSE);

	e2e_ready();
	e2e_wait_stop();

	if (e2e_hash(big, BIG) != h_big)
		e2e_fail("the 72 MiB mapping changed");
	if (e2e_hash(sparse, SPARSE) != h_sparse || sparse[7 * PAGE] != 0x77)
		e2e_fail("the sparse mapping changed");
	e2e_pass();
}
