/*
 * Restore: guard regions (mirrors dump-guard.c). The image's guard pages
 * are checked here, in criu, with the rest of mm-PID.img; the restorer
 * installs them with MADV_GUARD_INSTALL once every vma is in place, before
 * anything of the tree runs. A vma that had guards and has none left keeps
 * VmFlags "gu": a guard installed and removed again over its staged copy
 * before its pages are read in (a private one), or by the restorer over
 * its first page (a shared one: only the page table entry goes).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define LOG_PREFIX "restore: "
#include "log.h"
#include "image.h"
#include "kernel-compat.h"
#include "restore-task.h"

#define GUARDS_MAX	4096	/* per vma, as dump-guard.c takes */

/* Guards in [start, end) pairs, ascending, page aligned, inside @v. */
int rst_guard_check(const struct rst_image *ri, size_t i, const VmaEntry *v)
{
	uint64_t prev = v->start;
	size_t k;

	if (!v->n_guards)
		return 0;
	if (!v->guard_vma || v->n_guards % 2 || v->n_guards / 2 > GUARDS_MAX ||
	    (v->kind != VMA_KIND__VMA_ANON_PRIVATE && v->kind != VMA_KIND__VMA_FILE_PRIVATE &&
	     v->kind != VMA_KIND__VMA_FILE_SHARED && v->kind != VMA_KIND__VMA_ANON_SHARED &&
	     v->kind != VMA_KIND__VMA_SHMEM_PRIVATE) || v->locked) {
		pr_err("mm-%d.img: vma %zu has %zu guard words without guard_vma, or too many, or in a vma of kind %d or mlock'ed",
		       ri->pid, i, v->n_guards, v->kind);
		return -1;
	}
	for (k = 0; k < v->n_guards; k += 2) {
		uint64_t s = v->guards[k], e = v->guards[k + 1];

		if ((s | e) & (RST_PAGE - 1) || s < prev || s >= e || e > v->end) {
			pr_err("mm-%d.img: vma %zu: guard region %zu [%#llx, %#llx) is not page aligned, ascending and inside it",
			       ri->pid, i, k / 2, (unsigned long long)s, (unsigned long long)e);
			return -1;
		}
		prev = e;
	}
	return 0;
}

/* Mapped by the restorer from a descriptor (restore-mem.c, mapped_from_fd). */
static bool fd_mapped(const VmaEntry *v)
{
	return v->kind == VMA_KIND__VMA_FILE_SHARED || v->kind == VMA_KIND__VMA_ANON_SHARED;
}

static bool gu_only(const VmaEntry *v)
{
	return v->guard_vma && !v->n_guards;
}

/* Entries of the restorer's guard table for @mm (bounded: rst_guard_check). */
size_t rst_guard_count(const MmEntry *mm)
{
	size_t i, n = 0;

	for (i = 0; i < mm->n_vmas; i++)
		n += mm->vmas[i]->n_guards / 2 + (gu_only(mm->vmas[i]) && fd_mapped(mm->vmas[i]));
	return n;
}

/* A staged private copy at @at, before its pages are read in: "gu" without guards. */
void rst_guard_stage(const VmaEntry *v, void *at)
{
	if (!gu_only(v))
		return;
	if (madvise(at, RST_PAGE, MADV_GUARD_INSTALL) || madvise(at, RST_PAGE, MADV_GUARD_REMOVE))
		rst_die("vma [%#llx, %#llx): cannot mark it as having had guard regions: %s",
			(unsigned long long)v->start, (unsigned long long)v->end, strerror(errno));
}

/* The restorer's guard table at @g (room for rst_guard_count() entries). */
void rst_guard_fill(const MmEntry *mm, struct rst_guard *g, struct restorer_args *a)
{
	size_t i, k;

	a->guards = (uint64_t)(unsigned long)g;
	a->nr_guards = 0;
	for (i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *v = mm->vmas[i];

		for (k = 0; k < v->n_guards; k += 2)
			g[a->nr_guards++] = (struct rst_guard){ v->guards[k], v->guards[k + 1], 0, 0 };
		if (gu_only(v) && fd_mapped(v))
			g[a->nr_guards++] = (struct rst_guard){ v->start, v->start + RST_PAGE, 1, 0 };
	}
}
