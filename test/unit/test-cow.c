/*
 * Unit tests for dump-cow.c: which pages a child still shares with its
 * parent since fork(), read from both pagemaps, and which parent vma a
 * child's vma may have been inherited from.
 */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "dump.h"
#include "vma.h"
#include "unit.h"

#define PG	4096ul
#define NPAGES	64

static const unsigned int child_writes[] = { 3, 10, 11, 63 };
#define PARENT_WRITES	20	/* written by the parent after the fork */
#define NEVER_TOUCHED	40	/* neither side ever touched it */

static bool in(unsigned int p, const unsigned int *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == p)
			return true;
	return false;
}

static int test_shared_map(void)
{
	char *m = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t map[NPAGES];
	int ready[2], go[2], cpm = -1, ppm = -1, st, ret = -1;
	unsigned int i;
	pid_t pid;
	char c;

	CHECK(m != MAP_FAILED);
	CHECK(!madvise(m, NPAGES * PG, MADV_NOHUGEPAGE));
	for (i = 0; i < NPAGES; i++)
		if (i != NEVER_TOUCHED)
			m[i * PG] = (char)(i + 1);
	CHECK(!pipe(ready) && !pipe(go));
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		close(go[1]);
		for (i = 0; i < sizeof(child_writes) / sizeof(child_writes[0]); i++)
			m[child_writes[i] * PG] = 'c';
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	if (read(ready[0], &c, 1) != 1)
		goto out;
	m[PARENT_WRITES * PG] = 'p';
	cpm = dump_open_pagemap(pid);
	ppm = dump_open_pagemap(getpid());
	if (cpm < 0 || ppm < 0)
		goto out;
	if (cow_shared_map(cpm, ppm, (uintptr_t)m, (uintptr_t)m + NPAGES * PG, map))
		goto out;
	for (i = 0; i < NPAGES; i++) {
		bool want = !in(i, child_writes, sizeof(child_writes) / sizeof(child_writes[0])) &&
			    i != PARENT_WRITES && i != NEVER_TOUCHED;

		if (map[i] != want) {
			snprintf(unit_why, sizeof(unit_why), "page %u: shared %d, expected %d", i,
				 map[i], want);
			goto out;
		}
	}
	/* Misaligned ranges are refused. */
	if (!cow_shared_map(cpm, ppm, (uintptr_t)m + 1, (uintptr_t)m + PG, map))
		goto out;
	ret = 0;
out:
	if (ret && !unit_why[0])
		snprintf(unit_why, sizeof(unit_why), "setup failed");
	if (cpm >= 0)
		close(cpm);
	if (ppm >= 0)
		close(ppm);
	close(go[1]);
	waitpid(pid, &st, 0);
	close(go[0]);
	close(ready[0]);
	close(ready[1]);
	munmap(m, NPAGES * PG);
	return ret;
}

static void vma(VmaEntry *v, uint64_t s, uint64_t e, VmaKind k, uint64_t pgoff)
{
	vma_entry__init(v);
	v->start = s;
	v->end = e;
	v->kind = k;
	v->pgoff = pgoff;
}

static int test_inherited_from(void)
{
	VmaEntry pv[4], c;
	VmaEntry *pp[4] = { &pv[0], &pv[1], &pv[2], &pv[3] };
	MmEntry mm = MM_ENTRY__INIT;

	vma(&pv[0], 0x1000, 0x3000, VMA_KIND__VMA_ANON_PRIVATE, 0);
	vma(&pv[1], 0x5000, 0x9000, VMA_KIND__VMA_FILE_PRIVATE, 0x2000);
	vma(&pv[2], 0x9000, 0xa000, VMA_KIND__VMA_FILE_SHARED, 0);
	vma(&pv[3], 0x10000, 0x20000, VMA_KIND__VMA_ANON_PRIVATE, 0);
	mm.vmas = pp;
	mm.n_vmas = 4;

	vma(&c, 0x1000, 0x3000, VMA_KIND__VMA_ANON_PRIVATE, 0);
	CHECK(vma_inherited_from(&mm, &c) == 0);
	vma(&c, 0x10000, 0x20000, VMA_KIND__VMA_ANON_PRIVATE, 0);
	CHECK(vma_inherited_from(&mm, &c) == 3);
	vma(&c, 0x10000, 0x18000, VMA_KIND__VMA_ANON_PRIVATE, 0);	/* resized */
	CHECK(vma_inherited_from(&mm, &c) == -1);
	vma(&c, 0x5000, 0x9000, VMA_KIND__VMA_FILE_PRIVATE, 0x2000);
	CHECK(vma_inherited_from(&mm, &c) == 1);
	vma(&c, 0x5000, 0x9000, VMA_KIND__VMA_FILE_PRIVATE, 0x3000);	/* another offset */
	CHECK(vma_inherited_from(&mm, &c) == -1);
	vma(&c, 0x5000, 0x9000, VMA_KIND__VMA_ANON_PRIVATE, 0);	/* another kind */
	CHECK(vma_inherited_from(&mm, &c) == -1);
	vma(&c, 0x9000, 0xa000, VMA_KIND__VMA_FILE_SHARED, 0);	/* shared: never */
	CHECK(vma_inherited_from(&mm, &c) == -1);
	vma(&c, 0x30000, 0x31000, VMA_KIND__VMA_ANON_PRIVATE, 0);	/* nothing there */
	CHECK(vma_inherited_from(&mm, &c) == -1);
	vma(&c, 0x0, 0x1000, VMA_KIND__VMA_ANON_PRIVATE, 0);
	CHECK(vma_inherited_from(&mm, &c) == -1);
	mm.n_vmas = 0;
	vma(&c, 0x1000, 0x3000, VMA_KIND__VMA_ANON_PRIVATE, 0);
	CHECK(vma_inherited_from(&mm, &c) == -1);
	return 0;
}

static const struct unit_case cases[] = {
	{ "pages shared since fork are found by PFN", test_shared_map },
	{ "an inherited vma matches range, kind and offset", test_inherited_from },
};
UNIT_MAIN(cases)
