/*
 * Helpers over the vma lists of mm.proto, shared by dump and restore.
 */
#include <stddef.h>

#include "vma.h"

long vma_inherited_from(const MmEntry *mm, const VmaEntry *v)
{
	size_t lo = 0, hi = mm->n_vmas;

	if (v->kind != VMA_KIND__VMA_ANON_PRIVATE && v->kind != VMA_KIND__VMA_FILE_PRIVATE)
		return -1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const VmaEntry *pv = mm->vmas[mid];

		if (pv->end <= v->start)
			lo = mid + 1;
		else if (pv->start >= v->end)
			hi = mid;
		else
			return pv->start == v->start && pv->end == v->end && pv->kind == v->kind &&
			       pv->pgoff == v->pgoff ? (long)mid : -1;
	}
	return -1;
}
