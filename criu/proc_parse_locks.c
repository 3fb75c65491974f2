/*
 * File locks: /proc/locks and the "lock:" lines of /proc/PID/fdinfo/N,
 * which share one line format (fs/locks.c, lock_get_status):
 *
 *	ID: [-> ]KIND TYPE RW PID MAJ:MIN:INO START END
 *
 * KIND is POSIX, OFDLCK, FLOCK, LEASE, DELEG (ACCESS, UNKNOWN: other);
 * TYPE ADVISORY, or a lease's state: ACTIVE, BREAKING (RW is then what it
 * is being broken to), BREAKER; RW WRITE, READ or UNLCK; PID -1 for
 * OFD locks; MAJ and MIN hex; END a number or EOF. "->" marks a waiter.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LOG_PREFIX "proc: "
#include "log.h"
#include "proc_parse.h"
#include "proc_parse_text.h"

#define MAX_LOCKS	(1u << 20)

static bool tok_is(const struct ptext *tok, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(tok->end - tok->p) == n && !memcmp(tok->p, s, n);
}

static void next_token(struct ptext *t, struct ptext *tok)
{
	pt_skip_blanks(t);
	pt_token(t, tok);
}

static enum proc_lock_kind lock_kind(const struct ptext *tok)
{
	if (tok_is(tok, "POSIX"))
		return PROC_LOCK_POSIX;
	if (tok_is(tok, "OFDLCK"))
		return PROC_LOCK_OFD;
	if (tok_is(tok, "FLOCK"))
		return PROC_LOCK_FLOCK;
	if (tok_is(tok, "LEASE"))
		return PROC_LOCK_LEASE;	/* DELEG, an NFS server's: other */
	return PROC_LOCK_OTHER;
}

/* "MAJ:MIN:INO START END|EOF" */
static int lock_where(struct ptext *t, struct proc_lock *l)
{
	uint64_t maj, min;

	pt_skip_blanks(t);
	if (pt_unum(t, 16, UINT32_MAX, &maj) || pt_char(t, ':') ||
	    pt_unum(t, 16, UINT32_MAX, &min) || pt_char(t, ':') || pt_u64(t, 10, &l->ino))
		return -1;
	l->maj = (unsigned int)maj;
	l->min = (unsigned int)min;
	pt_skip_blanks(t);
	if (pt_u64(t, 10, &l->start))
		return -1;
	pt_skip_blanks(t);
	if (!pt_str(t, "EOF"))
		l->end = UINT64_MAX;
	else if (pt_u64(t, 10, &l->end) || l->end < l->start)
		return -1;
	pt_skip_blanks(t);
	return pt_eol(t) ? 0 : -1;
}

int proc_parse_lock(struct ptext *t, struct proc_lock *l)
{
	struct ptext tok;
	uint64_t id;
	int64_t pid;

	memset(l, 0, sizeof(*l));
	pt_skip_blanks(t);
	if (pt_unum(t, 10, UINT32_MAX, &id) || pt_char(t, ':'))
		return -1;
	l->id = (unsigned int)id;
	next_token(t, &tok);
	if (tok_is(&tok, "->")) {
		l->blocked = true;
		next_token(t, &tok);
	}
	l->kind = lock_kind(&tok);
	next_token(t, &tok);		/* ADVISORY, or a lease's state */
	l->lease_active = l->kind == PROC_LOCK_LEASE && tok_is(&tok, "ACTIVE");
	next_token(t, &tok);
	if (!tok_is(&tok, "WRITE") && !tok_is(&tok, "READ") && !tok_is(&tok, "UNLCK"))
		return -1;
	l->write = tok_is(&tok, "WRITE");
	pt_skip_blanks(t);
	if (pt_snum(t, -1, INT32_MAX, &pid))
		return -1;
	l->pid = (int)pid;
	return lock_where(t, l);
}

static int lock_line(struct plines *it, struct ptext *line, void *elem, void *ctx)
{
	(void)ctx;
	if (proc_parse_lock(line, elem)) {
		pt_err(it, "expected \"id: kind type rw pid maj:min:ino start end\"");
		return -1;
	}
	return 0;
}

int proc_parse_locks(const char *text, size_t len, const char *name, struct proc_locks *out)
{
	memset(out, 0, sizeof(*out));
	if (pt_parse_lines(text, len, name, (void **)&out->l, &out->nr, &out->cap,
			   sizeof(*out->l), MAX_LOCKS, lock_line, NULL)) {
		proc_locks_free(out);
		return -1;
	}
	return 0;
}

int proc_read_locks(struct proc_locks *out)
{
	char *buf;
	size_t len;
	int ret;

	memset(out, 0, sizeof(*out));
	if (proc_read_file("/proc/locks", 64u << 20, &buf, &len))
		return -1;
	ret = proc_parse_locks(buf, len, "/proc/locks", out);
	free(buf);
	return ret;
}

void proc_locks_free(struct proc_locks *locks)
{
	free(locks->l);
	memset(locks, 0, sizeof(*locks));
}

int proc_fdinfo_locks(const struct proc_fdinfo *fi, struct proc_locks *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < fi->nr_kv; i++) {
		struct ptext t = { fi->kv[i].val, fi->kv[i].val + strlen(fi->kv[i].val) };

		if (strcmp(fi->kv[i].key, "lock"))
			continue;
		if (pt_grow((void **)&out->l, &out->cap, out->nr, sizeof(*out->l), MAX_LOCKS)) {
			pr_err("%s: too many lock lines, or out of memory", fi->src);
			proc_locks_free(out);
			return -1;
		}
		if (proc_parse_lock(&t, &out->l[out->nr])) {
			pr_err("%s:%u: bad lock line '%s'", fi->src, fi->kv[i].line, fi->kv[i].val);
			proc_locks_free(out);
			return -1;
		}
		out->nr++;
	}
	return out->nr ? 0 : 1;
}
