/*
 * A pre-dump chain in read mode (predump_flow.py "read"): the program
 * writes all the time, while criu copies its pages. A window of WIN pages
 * is rewritten HAMMER times, then the next one, round the region: a
 * window written while a step copies the pages moves on and is not
 * written again before the final dump, which then takes those pages from
 * the step (PE_PARENT). Every write of page i bumps gen[i] after the page;
 * after the restore every page must hold what gen[] says (a write the
 * dump cut in the middle is finished first: the check comes after).
 */
#include <sys/mman.h>

#include "e2e.h"

#define PAGE	4096
#define NP	16384		/* 64 MiB */
#define WIN	16
#define HAMMER	256

static volatile uint64_t *R;
static volatile uint32_t *gen;

static uint64_t word(unsigned int page, uint32_t g, unsigned int i)
{
	return ((uint64_t)page << 40 | (uint64_t)g << 8 | (i & 0xff)) ^ (i * 0x9e3779b97f4a7c15ull);
}

static void write_page(unsigned int page)
{
	volatile uint64_t *w = R + (size_t)page * (PAGE / 8);
	uint32_t g = gen[page] + 1;
	unsigned int i;

	for (i = 0; i < PAGE / 8; i++)
		w[i] = word(page, g, i);
	gen[page] = g;
}

static void *map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		e2e_fail("mmap: %s", strerror(errno));
	return p;
}

int main(int argc, char **argv)
{
	unsigned int win = 0, k, i;
	uint64_t writes = 0;

	e2e_init(argc, argv);
	R = map((size_t)NP * PAGE);
	gen = map(NP * sizeof(*gen));
	for (i = 0; i < NP; i++)
		write_page(i);
	e2e_ready();
	while (!e2e_stopped()) {
		for (k = 0; k < HAMMER && !e2e_stopped(); k++)
			for (i = 0; i < WIN; i++, writes++)
				write_page(win * WIN + i);
		win = (win + 1) % (NP / WIN);
	}
	for (i = 0; i < NP; i++) {
		volatile uint64_t *w = R + (size_t)i * (PAGE / 8);
		unsigned int j;

		for (j = 0; j < PAGE / 8; j++)
			if (w[j] != word(i, gen[i], j))
				e2e_fail("page %u word %u is not generation %u's (window %u, %llu writes)",
					 i, j, gen[i], win, (unsigned long long)writes);
	}
	e2e_pass();
}
