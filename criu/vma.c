/*
 * Helpers over the vma lists of mm.proto, shared by dump and restore.
 */
#include <stddef.h>
#include <string.h>

#include "vma.h"

long vma_find(const MmEntry *mm, uint64_t addr)
{
	size_t lo = 0, hi = mm->n_vmas;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const VmaEntry *v = mm->vmas[mid];

		if (addr < v->start)
			hi = mid;
		else if (addr >= v->end)
			lo = mid + 1;
		else
			return (long)mid;
	}
	return -1;
}

long vma_inherited_from(const MmEntry *mm, const VmaEntry *v)
{
	const VmaEntry *pv;
	long i;

	if (v->kind != VMA_KIND__VMA_ANON_PRIVATE && v->kind != VMA_KIND__VMA_FILE_PRIVATE)
		return -1;
	i = vma_find(mm, v->start);
	if (i < 0)
		return -1;
	pv = mm->vmas[i];
	return pv->start == v->start && pv->end == v->end && pv->kind == v->kind &&
	       pv->pgoff == v->pgoff ? i : -1;
}

bool vma_same_file(const RegFileEntry *a, const RegFileEntry *b)
{
	return a && b && a->dev == b->dev && a->ino == b->ino && !strcmp(a->path, b->path);
}

uint32_t vma_max_prot(const VmaEntry *v)
{
	return v->has_max_prot ? v->max_prot : v->prot;
}
