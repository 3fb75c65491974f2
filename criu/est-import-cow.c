/*
 * Pages a child shares with its parent since fork(): the format stores
 * them in each process (plan §3.6). The established restore shares them
 * again by comparing a child's page with its parent's at the same address
 * of a vma the child inherited; so does this importer: such a child page
 * whose content is the parent's becomes one of our PE_COW runs, which our
 * restore takes from the parent's copy. That holds where our restore takes
 * PE_COW (restore-tree.c, link_cow()): the parent is a live process before
 * the child in the tree, its vma has the child's range, kind and offset (a
 * private file mapping: the same file), and it stores a page there (one it
 * does not is zero or the file's, never shared).
 *
 * Each converted process with children keeps its vmas and its runs in the
 * format's page file (kept open) until the end of the import, for them.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "est-import: "
#include "est-import-int.h"
#include "log.h"
#include "vma.h"

#define PAGE		4096ULL
#define MAX_RUNS	(1u << 22)

struct cow_run {
	uint64_t vaddr, nr, off;	/* off: in the page file */
};

struct imp_cow {
	MmEntry *mm;			/* ours, converted */
	void *mem[3];			/* what mm's vmas live in */
	struct cow_run *r;
	size_t nr, cap;
	int src;			/* the format's pages-N.img */
};

int imp_cow_begin(const struct imp *im, struct imp_proc *p)
{
	struct imp_cow *c;
	size_t i;

	for (i = 0; i < im->nr_procs && im->procs[i].ps->ppid != p->ps->pid; i++)
		;
	if (i == im->nr_procs)
		return 0;	/* no children: nothing to keep */
	c = imp_zalloc(sizeof(*c));
	if (!c)
		return -1;
	c->src = -1;
	p->cow = c;
	return 0;
}

void imp_cow_src(struct imp_proc *p, int src)
{
	struct imp_cow *c = p->cow;

	if (!c) {
		if (src >= 0)
			close(src);
		return;
	}
	if (c->src >= 0 && c->src != src)
		close(c->src);
	c->src = src;
}

int imp_cow_note(struct imp_proc *p, uint64_t vaddr, uint64_t nr, uint64_t off)
{
	struct imp_cow *c = p->cow;

	if (!c)
		return 0;
	if (c->nr == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		struct cow_run *n = cap <= MAX_RUNS ? realloc(c->r, cap * sizeof(*n)) : NULL;

		if (!n) {
			pr_err("pagemap-%u.img: too many page runs", p->ps->pid);
			return -1;
		}
		c->r = n;
		c->cap = cap;
	}
	c->r[c->nr++] = (struct cow_run){ vaddr, nr, off };
	return 0;
}

bool imp_cow_keep(struct imp_proc *p, MmEntry *mm, void *a, void *b, void *d)
{
	struct imp_cow *c = p->cow;

	if (!c)
		return false;
	c->mm = mm;
	c->mem[0] = a;
	c->mem[1] = b;
	c->mem[2] = d;
	return true;
}

void imp_cow_free(struct imp_proc *p)
{
	struct imp_cow *c = p->cow;

	if (!c)
		return;
	if (c->src >= 0)
		close(c->src);
	free(c->mem[0]);
	free(c->mem[1]);
	free(c->mem[2]);
	free(c->mm);
	free(c->r);
	free(c);
	p->cow = NULL;
}

const struct imp_cow *imp_cow_parent(const struct imp *im, const struct imp_proc *p)
{
	size_t i;

	for (i = 0; i < im->nr_procs && &im->procs[i] != p; i++)
		if (im->procs[i].ps->pid == p->ps->ppid)
			return im->procs[i].cow && im->procs[i].cow->mm ? im->procs[i].cow : NULL;
	return NULL;
}

bool imp_cow_inherited(const struct imp_cow *par, const VmaEntry *v)
{
	long i = par ? vma_inherited_from(par->mm, v) : -1;

	return i >= 0 && (v->kind != VMA_KIND__VMA_FILE_PRIVATE ||
			  par->mm->vmas[i]->file_id == v->file_id);
}

/* The parent's run holding @addr, or NULL. */
static const struct cow_run *run_at(const struct imp_cow *par, uint64_t addr)
{
	size_t lo = 0, hi = par->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (par->r[mid].vaddr + par->r[mid].nr * PAGE <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < par->nr && par->r[lo].vaddr <= addr ? &par->r[lo] : NULL;
}

/*
 * @n pages (at most IMP_COW_BATCH) of the child at @vaddr, in @buf: same[i]
 * says whether page i is the parent's. -1 when the parent's file cannot be
 * read.
 */
int imp_cow_same(const struct imp_cow *par, uint64_t vaddr, uint64_t n, const uint8_t *buf,
		 bool *same)
{
	static uint8_t pbuf[IMP_COW_BATCH * PAGE];
	uint64_t i = 0, j;

	while (i < n) {
		uint64_t addr = vaddr + i * PAGE, m;
		const struct cow_run *r = run_at(par, addr);

		if (!r) {
			same[i++] = false;
			continue;
		}
		m = (r->vaddr + r->nr * PAGE - addr) / PAGE;
		if (m > n - i)
			m = n - i;
		if (pread(par->src, pbuf, m * PAGE, r->off + (addr - r->vaddr)) != (ssize_t)(m * PAGE)) {
			pr_perror("cannot read the parent's pages at %#llx", (unsigned long long)addr);
			return -1;
		}
		for (j = 0; j < m; j++, i++)
			same[i] = !memcmp(buf + i * PAGE, pbuf + j * PAGE, PAGE);
	}
	return 0;
}
