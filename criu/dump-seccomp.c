/*
 * seccomp of a process (Documentation/dump.md, "seccomp"): the filters of
 * its seized threads, read with PTRACE_SECCOMP_GET_FILTER (index 0 is the
 * oldest) and PTRACE_SECCOMP_GET_METADATA (the LOG flag), kept oldest
 * first in the task core. The restore installs them once for all threads
 * (SECCOMP_FILTER_FLAG_TSYNC), so every thread must have the same ones.
 * Refused by name: strict mode, threads with other filters, a filter
 * whose action is computed or hands the call to a user-space listener,
 * and filters that may harm a call the parasite makes (killed mid-dump,
 * criu leaves the parasite under them: dump_seccomp_check_parasite()).
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include <compel/compel.h>

#include "dump.h"
#include "log.h"
#include "parasite-calls.h"
#include "proc_parse.h"
#include "seccomp-rst.h"

struct chain {
	SeccompFilterEntry	**f;	/* oldest first */
	size_t			nr;
};

static void chain_free(struct chain *c)
{
	size_t i;

	for (i = 0; i < c->nr; i++) {
		free(c->f[i]->insns.data);
		free(c->f[i]);
	}
	free(c->f);
	c->f = NULL;
	c->nr = 0;
}

/* An action the restore can give back as it was (see the file's comment). */
static int check_actions(pid_t tid, size_t idx, const struct sock_filter *f, long n)
{
	long i;

	for (i = 0; i < n; i++) {
		if (BPF_CLASS(f[i].code) != BPF_RET)
			continue;
		if (BPF_RVAL(f[i].code) != BPF_K) {
			pr_err("thread %d: seccomp filter %zu returns a computed action: not supported yet",
			       tid, idx);
			return -1;
		}
		if ((f[i].k & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_USER_NOTIF) {
			pr_err("thread %d: seccomp filter %zu hands calls to a user-space listener "
			       "(SECCOMP_RET_USER_NOTIF): not supported yet", tid, idx);
			return -1;
		}
	}
	return 0;
}

/* Filter @idx (0: the oldest) of @tid into a new entry. */
static SeccompFilterEntry *read_filter(pid_t tid, size_t idx, struct sock_filter *buf)
{
	struct __ptrace_seccomp_metadata md = { .filter_off = idx };
	SeccompFilterEntry *e;
	long n;

	n = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)idx, buf);
	if (n <= 0 || n > SECCOMP_MAX_INSNS) {
		pr_perror("thread %d: cannot read seccomp filter %zu (%ld instructions)", tid, idx, n);
		return NULL;
	}
	if (ptrace(PTRACE_SECCOMP_GET_METADATA, tid, sizeof(md), &md) != sizeof(md)) {
		pr_perror("thread %d: cannot read the flags of seccomp filter %zu", tid, idx);
		return NULL;
	}
	if (md.flags & ~(uint64_t)SECCOMP_FILTER_FLAG_LOG) {
		pr_err("thread %d: seccomp filter %zu has flags %#llx: not supported yet", tid, idx,
		       (unsigned long long)md.flags);
		return NULL;
	}
	if (check_actions(tid, idx, buf, n))
		return NULL;
	e = malloc(sizeof(*e));
	if (e)
		seccomp_filter_entry__init(e);
	if (!e || !(e->insns.data = malloc((size_t)n * sizeof(*buf)))) {
		free(e);
		pr_err("out of memory");
		return NULL;
	}
	e->insns.len = (size_t)n * sizeof(*buf);
	memcpy(e->insns.data, buf, e->insns.len);
	e->has_flags = md.flags != 0;
	e->flags = (uint32_t)md.flags;
	return e;
}

/* The @nr filters of @tid, oldest first. */
static int read_chain(pid_t tid, unsigned int nr, struct chain *c)
{
	struct sock_filter *buf = malloc(SECCOMP_MAX_INSNS * sizeof(*buf));
	size_t i;

	c->f = calloc(nr, sizeof(*c->f));
	if (!buf || !c->f) {
		free(buf);
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < nr; i++) {
		c->f[i] = read_filter(tid, i, buf);
		if (!c->f[i])
			break;
	}
	c->nr = i;	/* what chain_free() has to free */
	free(buf);
	if (i == nr && (ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)(long)nr, NULL) >= 0 ||
			errno != ENOENT)) {
		pr_err("thread %d: more seccomp filters than the %u /proc counted", tid, nr);
		return -1;
	}
	return i == nr ? 0 : -1;
}

static bool same_chain(const struct chain *a, const struct chain *b)
{
	size_t i;

	if (a->nr != b->nr)
		return false;
	for (i = 0; i < a->nr; i++)
		if (a->f[i]->insns.len != b->f[i]->insns.len || a->f[i]->flags != b->f[i]->flags ||
		    memcmp(a->f[i]->insns.data, b->f[i]->insns.data, a->f[i]->insns.len))
			return false;
	return true;
}

/* Thread @k has the leader's mode and filters. */
static int check_thread(struct dump_task *t, int k, const struct chain *leader)
{
	struct proc_status st;
	struct chain c = { NULL, 0 };
	int ret = -1;

	if (proc_read_status(t->tids[k], &st))
		return -1;
	proc_status_free(&st);	/* only the numbers are used */
	if (st.seccomp != t->st.seccomp || st.seccomp_filters != t->st.seccomp_filters) {
		pr_err("thread %d of %d has other seccomp filters than its leader (mode %u, %u filters; "
		       "the leader %u, %u): per-thread seccomp is not supported yet", t->tids[k], t->pid,
		       st.seccomp, st.seccomp_filters, t->st.seccomp, t->st.seccomp_filters);
		return -1;
	}
	if (!st.seccomp || !read_chain(t->tids[k], st.seccomp_filters, &c)) {
		ret = same_chain(&c, leader) ? 0 : -1;
		if (ret)
			pr_err("thread %d of %d has other seccomp filters than its leader: per-thread "
			       "seccomp is not supported yet", t->tids[k], t->pid);
	}
	chain_free(&c);
	return ret;
}

/* Filter mode with a count seccomp allows. */
static int check_mode(const struct dump_task *t)
{
	if (t->st.seccomp != SECCOMP_MODE_FILTER) {
		pr_err("%d: seccomp strict mode is not supported yet (the restore would have to leave "
		       "its code under it)", t->pid);
		return -1;
	}
	if (!t->st.seccomp_filters || t->st.seccomp_filters > SECCOMP_MAX_FILTERS) {
		pr_err("%d: %u seccomp filters: not supported yet", t->pid, t->st.seccomp_filters);
		return -1;
	}
	return 0;
}

void dump_seccomp_free(TaskCoreEntry *c)
{
	struct chain ch = { c->seccomp_filters, c->n_seccomp_filters };

	chain_free(&ch);
	c->seccomp_filters = NULL;
	c->n_seccomp_filters = 0;
}

int dump_collect_seccomp(struct dump_task *t)
{
	struct chain c = { NULL, 0 };
	int k;

	if (!t->st.seccomp) {
		for (k = 1; k < t->nr_tids; k++)
			if (check_thread(t, k, &c))
				return -1;
		return 0;
	}
	if (check_mode(t))
		return -1;
	if (read_chain(t->pid, t->st.seccomp_filters, &c))
		goto fail;
	for (k = 1; k < t->nr_tids; k++)
		if (check_thread(t, k, &c))
			goto fail;
	t->core.has_seccomp_mode = true;
	t->core.seccomp_mode = SECCOMP_MODE_FILTER;
	t->core.seccomp_filters = c.f;
	t->core.n_seccomp_filters = c.nr;
	pr_info("%d: %zu seccomp filters", t->pid, c.nr);
	return rst_seccomp_check_filters(&t->core, "dump") ? -1 : 0;
fail:
	chain_free(&c);
	return -1;
}

#define ANY(n)	{ .nr = __NR_##n, .name = #n },
static const struct compel_sc_call parasite_calls[] = { PARASITE_SYSCALLS(ANY) };
#undef ANY

#define PARASITE_HARM \
	"which the parasite makes: were criu killed mid-call the filter would apply; not supported yet"

/* The chain of @t's leader: the one collected, else read now (pre-dump). */
static int parasite_check(struct dump_task *t, const struct chain *c)
{
	const struct compel_sc_call *own;
	char what[32];
	int nr_own = compel_seccomp_own_calls(&own);

	snprintf(what, sizeof(what), "%d", t->pid);
	return seccomp_check_calls(c->f, c->nr, parasite_calls, ARRAY_SIZE(parasite_calls), what,
				   PARASITE_HARM) ||
	       seccomp_check_calls(c->f, c->nr, own, (size_t)nr_own, what, PARASITE_HARM) ? -1 : 0;
}

int dump_seccomp_check_parasite(struct dump_task *t)
{
	struct chain c = { t->core.seccomp_filters, t->core.n_seccomp_filters };
	int ret;

	if (!t->st.seccomp)
		return 0;
	if (c.nr)
		return parasite_check(t, &c);
	if (check_mode(t))
		return -1;
	ret = read_chain(t->pid, t->st.seccomp_filters, &c) ? -1 : parasite_check(t, &c);
	chain_free(&c);
	return ret;
}
