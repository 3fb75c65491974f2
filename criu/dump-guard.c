/*
 * Dump: guard regions (MADV_GUARD_INSTALL, kernel 6.13). They are no
 * VmFlag of their own: a vma that ever had one shows "gu", and each guard
 * page shows in /proc/PID/pagemap as a swap entry with bit 58 set. The
 * page runs leave them out (a guard page has no data: vmsplice() of it
 * fails); this records them, per vma, as [start, end) pairs, for the
 * restorer to install again once the memory is in place.
 */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define LOG_PREFIX "dump: "
#include "log.h"
#include "dump.h"
#include "pagemap-flags.h"

#define PAGE		4096ull
#define BATCH		512
#define GUARDS_MAX	4096	/* runs per vma: Documentation/dump.md, "Guard regions" */

static int add_guard(VmaEntry *v, size_t *cap, uint64_t s, uint64_t e)
{
	if (v->n_guards && v->guards[v->n_guards - 1] == s) {
		v->guards[v->n_guards - 1] = e;
		return 0;
	}
	if (v->n_guards / 2 >= GUARDS_MAX) {
		pr_err("more than %d guard regions in the vma %lx-%lx are not supported yet",
		       GUARDS_MAX, (unsigned long)v->start, (unsigned long)v->end);
		return -1;
	}
	if (v->n_guards + 2 > *cap) {
		size_t n = *cap ? *cap * 2 : 8;
		uint64_t *g = realloc(v->guards, n * sizeof(*g));

		if (!g) {
			pr_err("out of memory");
			return -1;
		}
		v->guards = g;
		*cap = n;
	}
	v->guards[v->n_guards++] = s;
	v->guards[v->n_guards++] = e;
	return 0;
}

/* The guard pages of @v (one with "gu") from the task's pagemap @pm. */
int dump_vma_guards(int pm, VmaEntry *v)
{
	uint64_t buf[BATCH], a = v->start;
	size_t cap = 0, i, n;

	while (a < v->end) {
		n = (v->end - a) / PAGE < BATCH ? (v->end - a) / PAGE : BATCH;
		if (pread(pm, buf, n * 8, (off_t)(a / PAGE * 8)) != (ssize_t)(n * 8)) {
			pr_perror("can't read pagemap at %lx", (unsigned long)a);
			return -1;
		}
		for (i = 0; i < n; i++, a += PAGE)
			if ((buf[i] & PM_GUARD) && add_guard(v, &cap, a, a + PAGE))
				return -1;
	}
	if (v->n_guards && v->has_locked && v->locked) {
		/* the kernel installs no guard in a locked vma: the order cannot be replayed */
		pr_err("guard regions in the mlock'ed vma %lx-%lx are not supported yet",
		       (unsigned long)v->start, (unsigned long)v->end);
		return -1;
	}
	pr_debug("vma %lx-%lx: %zu guard regions", (unsigned long)v->start, (unsigned long)v->end,
		 v->n_guards / 2);
	return 0;
}
