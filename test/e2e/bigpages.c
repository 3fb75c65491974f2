/*
 * 40 MiB of private anonymous memory (more than one 8 MiB part of the
 * manifest's checksum, so the page file is checked beside the restore)
 * keeps its contents: every page holds its own pattern, checked whole after
 * the restore. Used plain, tampered and sealed (--encrypt-key).
 */
#include <sys/mman.h>

#include "e2e.h"

#define SIZE	(40ul << 20)

static uint64_t word(size_t i)
{
	uint64_t x = i * 0x9e3779b97f4a7c15ull + 0x1234567;

	x ^= x >> 31;
	return x * 0xbf58476d1ce4e5b9ull;
}

int main(int argc, char **argv)
{
	uint64_t *p, h;
	size_t i;

	e2e_init(argc, argv);
	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		e2e_fail("mmap: %m");
	for (i = 0; i < SIZE / 8; i++)
		p[i] = word(i);
	h = e2e_hash(p, SIZE);
	e2e_ready();
	e2e_wait_stop();
	for (i = 0; i < SIZE / 8; i++)
		if (p[i] != word(i))
			e2e_fail("word %zu is %016llx, not %016llx", i, (unsigned long long)p[i],
				 (unsigned long long)word(i));
	if (e2e_hash(p, SIZE) != h)
		e2e_fail("the memory's hash changed");
	e2e_pass();
}
