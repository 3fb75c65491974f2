/*
 * seccomp filters in the established format (Documentation/images.md):
 * seccomp.img lists every filter once; a thread core names the one its
 * thread installed first (`seccomp_filter`, with `seccomp_mode` filter),
 * and each filter the one installed after it (`prev`, absent on the newest). Ours keeps one
 * chain per process, oldest first, in the task core (every thread has it).
 * Export appends a process's chain, or points at an equal chain another
 * process of the dump already put there (filters a tree inherited).
 */
#include <stdlib.h>
#include <string.h>
#include <linux/seccomp.h>

#include "est-export-int.h"
#include "est-import-int.h"
#include "est-seccomp.h"
#include "log.h"
#include "seccomp-rst.h"

#include "est/core.pb-c.h"
#include "est/seccomp.pb-c.h"

#define EST_MAX_SECCOMP	(4 * SECCOMP_MAX_FILTERS)	/* filters of one seccomp.img */

struct exp_seccomp {
	Est__SeccompFilter	*f, **fp;
	size_t			nr, cap;
};

/*
 * The chain starting at @first is @c's filters, exactly: in this format a
 * thread names the filter installed first, and each filter's `prev` the one
 * installed after it; the newest has none (as the reference tool writes and
 * reads it: PTRACE_SECCOMP_GET_FILTER's order, index 0 the oldest).
 */
static bool chain_is(const struct exp_seccomp *s, uint32_t first, const TaskCoreEntry *c)
{
	size_t k, n = c->n_seccomp_filters;
	uint32_t i = first;

	for (k = 0; k < n; k++) {
		const Est__SeccompFilter *f = &s->f[i];
		const SeccompFilterEntry *e = c->seccomp_filters[k];

		if (f->filter.len != e->insns.len || memcmp(f->filter.data, e->insns.data, e->insns.len) ||
		    f->flags != (e->flags | SECCOMP_FILTER_FLAG_TSYNC) || f->has_prev != (k + 1 < n))
			return false;
		i = f->prev;
	}
	return true;
}

/* Newest first, each older one naming the one written before it: the oldest comes last. */
static int add_chain(struct exp_seccomp *s, const TaskCoreEntry *c)
{
	size_t k, n = c->n_seccomp_filters, need = s->nr + n;

	if (need > s->cap) {
		Est__SeccompFilter *f = realloc(s->f, need * 2 * sizeof(*f));

		if (!f) {
			pr_err("out of memory");
			return -1;
		}
		s->f = f;
		s->cap = need * 2;
	}
	for (k = n; k--;) {
		Est__SeccompFilter *f = &s->f[s->nr];

		est__seccomp_filter__init(f);
		f->filter.data = c->seccomp_filters[k]->insns.data;	/* the task core outlives it */
		f->filter.len = c->seccomp_filters[k]->insns.len;
		f->has_flags = true;
		f->flags = c->seccomp_filters[k]->flags | SECCOMP_FILTER_FLAG_TSYNC;
		f->has_prev = k + 1 < n;
		f->prev = f->has_prev ? (uint32_t)s->nr - 1 : 0;
		s->nr++;
	}
	return 0;
}

/*
 * As the reference writes filters every thread shares: the leader names
 * them, each flagged SECCOMP_FILTER_FLAG_TSYNC (installed for every thread
 * at once), and the other threads name none.
 */
int exp_seccomp_thread(struct exp *ex, const TaskCoreEntry *c, bool leader, Est__ThreadCoreEntry *th)
{
	struct exp_seccomp *s = ex->seccomp;
	size_t i;

	if (!c->has_seccomp_mode || !c->seccomp_mode || !leader)
		return 0;
	if (!s && !(s = ex->seccomp = calloc(1, sizeof(*s)))) {
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < s->nr; i++)
		if (chain_is(s, (uint32_t)i, c))
			break;
	if (i == s->nr) {
		if (add_chain(s, c))
			return -1;
		i = s->nr - 1;
	}
	th->has_seccomp_mode = true;
	th->seccomp_mode = EST__SECCOMP_MODE__filter;
	th->has_seccomp_filter = true;
	th->seccomp_filter = (uint32_t)i;
	return 0;
}

/* seccomp.img: one entry, empty when no thread has filters (as the reference writes). */
int exp_seccomp_write(struct exp *ex)
{
	struct exp_seccomp *s = ex->seccomp;
	Est__SeccompEntry e = EST__SECCOMP_ENTRY__INIT;
	struct exp_img w;
	size_t i;
	int ret;

	if (s && s->nr) {
		s->fp = calloc(s->nr, sizeof(*s->fp));
		if (!s->fp) {
			pr_err("out of memory");
			return -1;
		}
		for (i = 0; i < s->nr; i++)
			s->fp[i] = &s->f[i];
		e.n_seccomp_filters = s->nr;
		e.seccomp_filters = s->fp;
	}
	exp_img_open(&w, "seccomp.img");
	exp_img_add(&w, &e.base, NULL, 0);
	ret = exp_img_close(ex, &w);
	if (s) {
		free(s->fp);
		free(s->f);
		free(s);
		ex->seccomp = NULL;
	}
	return ret;
}

/* ---- import ---------------------------------------------------------------- */

int imp_seccomp_take(struct imp *im, const struct est_entry *e, void *ctx)
{
	Est__SeccompEntry *s = (Est__SeccompEntry *)e->msg;
	size_t i;

	(void)ctx;
	if (im->seccomp) {
		pr_err("seccomp.img: more than one entry");
		return -1;
	}
	if (s->n_seccomp_filters > EST_MAX_SECCOMP) {
		pr_err("seccomp.img: %zu filters, at most %d are supported", s->n_seccomp_filters,
		       EST_MAX_SECCOMP);
		return -1;
	}
	for (i = 0; i < s->n_seccomp_filters; i++)
		if (s->seccomp_filters[i]->has_prev && s->seccomp_filters[i]->prev >= i) {
			pr_err("seccomp.img: filter %zu follows filter %u, not an earlier one", i,
			       s->seccomp_filters[i]->prev);
			return -1;
		}
	im->seccomp = s;
	((struct est_entry *)e)->msg = NULL;	/* ours now */
	return 0;
}

void imp_seccomp_free(struct imp *im)
{
	if (im->seccomp)
		protobuf_c_message_free_unpacked(&((Est__SeccompEntry *)im->seccomp)->base, NULL);
	im->seccomp = NULL;
}

/* A filter's flags as ours keeps them: the reference adds TSYNC to every one. */
static uint32_t imp_flags(const Est__SeccompFilter *f)
{
	return f->has_flags ? f->flags & ~(uint32_t)SECCOMP_FILTER_FLAG_TSYNC : 0;
}

/* The chains starting at @a and @b hold the same filters (prev < index: both walks end). */
static bool same_chain(const Est__SeccompEntry *s, uint32_t a, uint32_t b)
{
	for (;;) {
		const Est__SeccompFilter *x = s->seccomp_filters[a], *y = s->seccomp_filters[b];

		if (x->filter.len != y->filter.len || imp_flags(x) != imp_flags(y) ||
		    x->has_prev != y->has_prev || memcmp(x->filter.data, y->filter.data, x->filter.len))
			return false;
		if (!x->has_prev)
			return true;
		a = x->prev;
		b = y->prev;
	}
}

/* Every filter of the leader's chain is flagged TSYNC: its threads share them. */
static bool tsync_chain(const Est__SeccompEntry *s, const Est__ThreadCoreEntry *l)
{
	uint32_t i = l->seccomp_filter;

	if (!s || !l->has_seccomp_filter || i >= s->n_seccomp_filters)
		return false;
	for (;;) {
		const Est__SeccompFilter *f = s->seccomp_filters[i];

		if (!f->has_flags || !(f->flags & SECCOMP_FILTER_FLAG_TSYNC))
			return false;
		if (!f->has_prev)
			return true;
		i = f->prev;	/* < i (imp_seccomp_take) */
	}
}

/*
 * Thread @t has the leader's (@l) mode and filters: the leader's flagged
 * TSYNC and @t naming none, or the same chain in this image or a copy.
 */
static bool same_filters(const Est__SeccompEntry *s, const Est__ThreadCoreEntry *l,
			 const Est__ThreadCoreEntry *t)
{
	uint32_t lm = l->has_seccomp_mode ? l->seccomp_mode : 0, tm = t->has_seccomp_mode ? t->seccomp_mode : 0;

	if (lm == EST__SECCOMP_MODE__filter && !tm && !t->has_seccomp_filter)
		return tsync_chain(s, l);	/* the leader installs them for it */
	if (lm != tm || l->has_seccomp_filter != t->has_seccomp_filter)
		return false;
	if (lm != EST__SECCOMP_MODE__filter || !l->has_seccomp_filter ||
	    l->seccomp_filter == t->seccomp_filter)
		return true;
	return s && l->seccomp_filter < s->n_seccomp_filters && t->seccomp_filter < s->n_seccomp_filters &&
	       same_chain(s, l->seccomp_filter, t->seccomp_filter);
}

int imp_seccomp_task(struct imp *im, Est__CoreEntry *const *in, size_t nr, struct imp_seccomp *out,
		     TaskCoreEntry *tc, const char *img)
{
	const Est__SeccompEntry *s = im->seccomp;
	const Est__ThreadCoreEntry *l = in[0]->thread_core;
	size_t k, n = 0;
	uint32_t i;

	for (k = 1; k < nr; k++)
		if (!same_filters(s, l, in[k]->thread_core)) {
			pr_err("not supported yet: %s: threads with different seccomp filters", img);
			return -1;
		}
	if (!l->has_seccomp_mode || l->seccomp_mode == EST__SECCOMP_MODE__disabled)
		return 0;
	if (l->seccomp_mode != EST__SECCOMP_MODE__filter || !l->has_seccomp_filter || !s ||
	    l->seccomp_filter >= s->n_seccomp_filters) {
		pr_err("%s: seccomp mode %d with filter %u of %zu in seccomp.img: not supported", img,
		       l->seccomp_mode, l->seccomp_filter, s ? s->n_seccomp_filters : 0);
		return -1;
	}
	/* prev < index (imp_seccomp_take): the walk ends */
	for (i = l->seccomp_filter, n = 1; s->seccomp_filters[i]->has_prev && n <= SECCOMP_MAX_FILTERS; n++)
		i = s->seccomp_filters[i]->prev;
	if (n > SECCOMP_MAX_FILTERS) {
		pr_err("not supported yet: %s: %zu seccomp filters", img, n);
		return -1;
	}
	out->e = imp_zalloc(n * sizeof(*out->e));
	out->ep = imp_zalloc(n * sizeof(*out->ep));
	if (!out->e || !out->ep)
		return -1;
	for (i = l->seccomp_filter, k = 0; k < n; k++, i = s->seccomp_filters[i]->prev) {
		const Est__SeccompFilter *f = s->seccomp_filters[i];

		seccomp_filter_entry__init(&out->e[k]);
		out->e[k].insns = f->filter;	/* im->seccomp outlives the task core */
		out->e[k].flags = imp_flags(f);
		out->e[k].has_flags = out->e[k].flags != 0;
		out->ep[k] = &out->e[k];
	}
	tc->has_seccomp_mode = true;
	tc->seccomp_mode = 2;	/* SECCOMP_MODE_FILTER */
	tc->n_seccomp_filters = n;
	tc->seccomp_filters = out->ep;
	return rst_seccomp_check_filters(tc, img);
}
