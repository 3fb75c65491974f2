/*
 * PAGEMAP_SCAN answers into page runs (criu/pagemap-scan.c), for
 * dump-mem.c. The kernel's regions are checked like any input: inside the
 * asked range, ascending, page aligned, not empty.
 */
#ifndef CRIU_PAGEMAP_SCAN_H
#define CRIU_PAGEMAP_SCAN_H

#include <stdbool.h>
#include <stdint.h>
#include "kernel-compat.h"

struct scan_run {
	uint64_t	start, end;	/* end 0: no run yet */
	bool		old;		/* not written since the last tracking run */
};

typedef int (*scan_emit_fn)(void *arg, const struct scan_run *r);

/*
 * Folds @n regions of one answer for [@lo, @hi) into *@cur: adjacent
 * regions of one kind join it, each finished run goes to @emit. With
 * @split, a region without PAGE_IS_WRITTEN is "old"; without, none is.
 * After the last answer the caller emits *@cur when cur->end != 0.
 * 0, or -1 on a bad region (logged) or when @emit fails.
 */
int scan_fold(const struct page_region *vec, long n, uint64_t lo, uint64_t hi, bool split,
	      struct scan_run *cur, scan_emit_fn emit, void *arg);

#endif /* CRIU_PAGEMAP_SCAN_H */
