/*
 * /proc/PID/status, /proc/PID/stat and /proc/PID/limits.
 *
 * The maps, fdinfo and the smaller files live in proc_parse_maps.c,
 * proc_parse_fdinfo.c and proc_parse_misc.c; the scanner they all share is
 * proc_parse_text.c.
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_PREFIX "proc: "
#include "log.h"
#include "proc_parse.h"
#include "proc_parse_text.h"
#include "small-file.h"

#define MAX_GROUPS	65536	/* NGROUPS_MAX */

/* ---- status ----------------------------------------------------------------- */

enum st_kind {
	ST_NAME, ST_STATE, ST_PID, ST_UINT, ST_HEX64, ST_IDS, ST_GROUPS,
	ST_NSPID, ST_SIGQ, ST_UMASK,
};

struct st_key {
	const char	*key;
	enum st_kind	kind;
	size_t		off;
	unsigned int	opt;	/* PROC_ST_* bit if optional, 0 if required */
};

#define F(field)	offsetof(struct proc_status, field)

static const struct st_key st_keys[] = {
	{ "Name",		ST_NAME,	F(name),		0 },
	{ "State",		ST_STATE,	F(state),		0 },
	{ "Tgid",		ST_PID,		F(tgid),		0 },
	{ "Ngid",		ST_PID,		F(ngid),		PROC_ST_NGID },
	{ "Pid",		ST_PID,		F(pid),			0 },
	{ "PPid",		ST_PID,		F(ppid),		0 },
	{ "TracerPid",		ST_PID,		F(tracerpid),		0 },
	{ "Uid",		ST_IDS,		F(uid),			0 },
	{ "Gid",		ST_IDS,		F(gid),			0 },
	{ "Groups",		ST_GROUPS,	0,			PROC_ST_GROUPS },
	{ "NSpid",		ST_NSPID,	0,			PROC_ST_NSPID },
	{ "Threads",		ST_UINT,	F(threads),		0 },
	{ "SigQ",		ST_SIGQ,	0,			PROC_ST_SIGQ },
	{ "SigPnd",		ST_HEX64,	F(sigpnd),		0 },
	{ "ShdPnd",		ST_HEX64,	F(shdpnd),		0 },
	{ "SigBlk",		ST_HEX64,	F(sigblk),		0 },
	{ "SigIgn",		ST_HEX64,	F(sigign),		0 },
	{ "SigCgt",		ST_HEX64,	F(sigcgt),		0 },
	{ "CapInh",		ST_HEX64,	F(capinh),		0 },
	{ "CapPrm",		ST_HEX64,	F(capprm),		0 },
	{ "CapEff",		ST_HEX64,	F(capeff),		0 },
	{ "CapBnd",		ST_HEX64,	F(capbnd),		0 },
	{ "CapAmb",		ST_HEX64,	F(capamb),		PROC_ST_CAPAMB },
	{ "NoNewPrivs",		ST_UINT,	F(no_new_privs),	PROC_ST_NONEWPRIVS },
	{ "Seccomp",		ST_UINT,	F(seccomp),		PROC_ST_SECCOMP },
	{ "Seccomp_filters",	ST_UINT,	F(seccomp_filters),	PROC_ST_SECCOMP_FILTERS },
	{ "Umask",		ST_UMASK,	F(umask),		PROC_ST_UMASK },
};

#undef F

/* Name: the rest of the line after one tab, with \n, \t and \\ decoded. */
static int st_name(struct ptext *v, struct proc_status *st)
{
	size_t n = 0;

	while (!pt_eol(v)) {
		char c = *v->p++;

		if (c == '\\' && !pt_eol(v) && strchr("nt\\", *v->p)) {
			c = *v->p == 'n' ? '\n' : *v->p == 't' ? '\t' : '\\';
			v->p++;
		}
		if (n + 1 >= sizeof(st->name))
			return -1;
		st->name[n++] = c;
	}
	st->name[n] = '\0';
	return 0;
}

/* "R (running)": one letter, optionally followed by a description. */
static int st_state(struct ptext *v, struct proc_status *st)
{
	char c = pt_eol(v) ? 0 : *v->p;

	if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
		return -1;
	v->p++;
	if (!pt_eol(v) && *v->p != ' ')
		return -1;
	st->state = c;
	v->p = v->end;
	return 0;
}

/* Blank-separated decimal ids into @ids, at most @max of them. */
static int st_id_list(struct ptext *v, unsigned int *ids, size_t max, size_t *nr)
{
	uint32_t x;

	*nr = 0;
	while (pt_skip_blanks(v), !pt_eol(v)) {
		if (*nr >= max || pt_u32(v, 10, &x) || (!pt_eol(v) && *v->p != ' ' && *v->p != '\t'))
			return -1;
		ids[(*nr)++] = x;
	}
	return 0;
}

static int st_groups(struct ptext *v, struct proc_status *st)
{
	size_t cap = 0;
	uint32_t x;

	while (pt_skip_blanks(v), !pt_eol(v)) {
		if (pt_u32(v, 10, &x) || (!pt_eol(v) && *v->p != ' ' && *v->p != '\t'))
			return -1;
		if (pt_grow((void **)&st->groups, &cap, st->ngroups, sizeof(gid_t), MAX_GROUPS))
			return -1;
		st->groups[st->ngroups++] = x;
	}
	return 0;
}

static int st_nspid(struct ptext *v, struct proc_status *st)
{
	unsigned int ids[PROC_NS_LEVELS];
	size_t i, nr;

	if (st_id_list(v, ids, PROC_NS_LEVELS, &nr) || !nr)
		return -1;
	for (i = 0; i < nr; i++) {
		if (ids[i] > INT_MAX)
			return -1;
		st->nspid[i] = (pid_t)ids[i];
	}
	st->nr_nspid = (unsigned int)nr;
	return 0;
}

static int st_value(const struct st_key *k, struct ptext *v, struct proc_status *st)
{
	char *field = (char *)st + k->off;
	unsigned int ids[4];
	uint64_t x;
	size_t nr;

	switch (k->kind) {
	case ST_NAME:
		return st_name(v, st);
	case ST_STATE:
		return st_state(v, st);
	case ST_PID:
		return pt_pid(v, (int *)field);
	case ST_UINT:
		return pt_u32(v, 10, (uint32_t *)field);
	case ST_HEX64:
		return pt_u64(v, 16, (uint64_t *)field);
	case ST_UMASK:
		if (pt_unum(v, 8, 07777, &x))
			return -1;
		*(mode_t *)field = (mode_t)x;
		return 0;
	case ST_IDS:
		if (st_id_list(v, ids, 4, &nr) || nr != 4)
			return -1;
		memcpy(field, ids, sizeof(ids));
		return 0;
	case ST_GROUPS:
		return st_groups(v, st);
	case ST_NSPID:
		return st_nspid(v, st);
	case ST_SIGQ:
		return pt_u64(v, 10, &st->sigq_queued) || pt_char(v, '/') ||
		       pt_u64(v, 10, &st->sigq_limit);
	}
	return -1;
}

static const struct st_key *st_find(const struct ptext *key)
{
	size_t i, n = pt_len(key);

	for (i = 0; i < ARRAY_SIZE(st_keys); i++)
		if (strlen(st_keys[i].key) == n && !memcmp(st_keys[i].key, key->p, n))
			return &st_keys[i];
	return NULL;
}

static int st_line(struct plines *it, struct ptext *l, struct proc_status *st, uint64_t *seen)
{
	const struct st_key *k;
	struct ptext key;
	unsigned int idx;

	if (pt_until(l, ':', &key)) {
		pt_err(it, "expected \"Key:\tvalue\"");
		return -1;
	}
	k = st_find(&key);
	if (!k)
		return 0;	/* a key we do not need */
	idx = (unsigned int)(k - st_keys);
	if (*seen & (1ULL << idx)) {
		pt_err(it, "%s given twice", k->key);
		return -1;
	}
	*seen |= 1ULL << idx;
	if (k->kind == ST_NAME)
		pt_char(l, '\t');
	else
		pt_skip_blanks(l);
	if (st_value(k, l, st) || pt_done(l)) {
		pt_err(it, "bad %s value", k->key);
		return -1;
	}
	st->present |= k->opt;
	return 0;
}

static int st_check_required(const char *name, uint64_t seen)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(st_keys); i++) {
		if (!st_keys[i].opt && !(seen & (1ULL << i))) {
			pr_err("%s: no %s line", name, st_keys[i].key);
			return -1;
		}
	}
	return 0;
}

void proc_status_free(struct proc_status *st)
{
	free(st->groups);
	st->groups = NULL;
	st->ngroups = 0;
}

int proc_parse_status(const char *text, size_t len, const char *name, struct proc_status *st)
{
	uint64_t seen = 0;
	struct plines it;
	struct ptext l;
	int ret;

	BUILD_BUG_ON(ARRAY_SIZE(st_keys) > 64);
	BUILD_BUG_ON(sizeof(pid_t) != sizeof(int) || sizeof(uid_t) != sizeof(unsigned int));
	memset(st, 0, sizeof(*st));
	plines_init(&it, text, len, name);
	while ((ret = plines_next(&it, &l)) > 0)
		if (st_line(&it, &l, st, &seen))
			goto err;
	if (ret < 0 || st_check_required(name, seen))
		goto err;
	return 0;
err:
	proc_status_free(st);
	memset(st, 0, sizeof(*st));
	return -1;
}

int proc_read_status(pid_t pid, struct proc_status *st)
{
	memset(st, 0, sizeof(*st));
	return READ_AND_PARSE(pid, "status", proc_parse_status, st);
}

/* ---- stat ------------------------------------------------------------------- */

/* Fields of stat, numbered as in proc(5); 1-3 (pid, comm, state) are special. */
#define STAT_MIN_FIELDS	52

enum sf_type { SF_INT, SF_UINT, SF_LONG, SF_S64, SF_U64 };

struct stat_field {
	unsigned int	nr;
	enum sf_type	type;
	size_t		off;
};

#define S(nr, type, field) { nr, type, offsetof(struct proc_stat, field) }

static const struct stat_field stat_fields[] = {
	S(4, SF_INT, ppid),		S(5, SF_INT, pgrp),
	S(6, SF_INT, session),		S(7, SF_INT, tty_nr),
	S(8, SF_INT, tpgid),		S(9, SF_UINT, flags),
	S(18, SF_LONG, priority),	S(19, SF_LONG, nice),
	S(20, SF_LONG, num_threads),	S(22, SF_U64, start_time),
	S(23, SF_U64, vsize),		S(24, SF_S64, rss),
	S(25, SF_U64, rsslim),		S(26, SF_U64, start_code),
	S(27, SF_U64, end_code),	S(28, SF_U64, start_stack),
	S(38, SF_INT, exit_signal),	S(40, SF_UINT, rt_priority),
	S(41, SF_UINT, policy),		S(45, SF_U64, start_data),
	S(46, SF_U64, end_data),	S(47, SF_U64, start_brk),
	S(48, SF_U64, arg_start),	S(49, SF_U64, arg_end),
	S(50, SF_U64, env_start),	S(51, SF_U64, env_end),
	S(52, SF_INT, exit_code),
};

#undef S

/* Store a parsed number (@neg: it had a '-' and @v is its int64 bits) if it fits. */
static int stat_store(const struct stat_field *f, struct proc_stat *st, bool neg, uint64_t v)
{
	char *p = (char *)st + f->off;
	int64_t s = (int64_t)v;

	switch (f->type) {
	case SF_INT:
		if (neg ? s < INT_MIN : v > INT_MAX)
			return -1;
		*(int *)p = (int)s;
		return 0;
	case SF_UINT:
		if (neg || v > UINT_MAX)
			return -1;
		*(unsigned int *)p = (unsigned int)v;
		return 0;
	case SF_LONG:
		if (neg ? s < LONG_MIN : v > LONG_MAX)
			return -1;
		*(long *)p = (long)s;
		return 0;
	case SF_S64:
		if (!neg && v > INT64_MAX)
			return -1;
		*(int64_t *)p = s;
		return 0;
	case SF_U64:
		if (neg)
			return -1;
		*(uint64_t *)p = v;
		return 0;
	}
	return -1;
}

/* One number field: "-N" as int64, else u64. */
static int stat_number(struct ptext *t, bool *neg, uint64_t *v)
{
	int64_t s;

	*neg = !pt_eol(t) && *t->p == '-';
	if (*neg) {
		if (pt_snum(t, INT64_MIN, INT64_MAX, &s))
			return -1;
		*v = (uint64_t)s;
		return 0;
	}
	return pt_u64(t, 10, v);
}

/* Fields 4 and up, after "STATE". */
static int stat_numbers(const char *name, struct ptext *t, struct proc_stat *st)
{
	unsigned int nr = 3, next = 0;
	uint64_t v;
	bool neg;

	while (!pt_eol(t)) {
		nr++;
		if (pt_char(t, ' ') || stat_number(t, &neg, &v) ||
		    (!pt_eol(t) && *t->p != ' ')) {
			pr_err("%s: bad field %u", name, nr);
			return -1;
		}
		if (next < ARRAY_SIZE(stat_fields) && stat_fields[next].nr == nr) {
			if (stat_store(&stat_fields[next], st, neg, v)) {
				pr_err("%s: field %u out of range", name, nr);
				return -1;
			}
			next++;
		}
	}
	if (nr < STAT_MIN_FIELDS) {
		pr_err("%s: only %u fields, expected %d", name, nr, STAT_MIN_FIELDS);
		return -1;
	}
	return 0;
}

/* "PID (COMM) S ...": COMM is raw (any byte but NUL); proc_stat_state() finds S. */
static int stat_head(const char *name, struct ptext *t, struct proc_stat *st)
{
	const char *state;
	struct ptext comm;

	if (pt_pid(t, &st->pid) || pt_str(t, " (") || !memrchr(t->p, ')', pt_len(t))) {
		pr_err("%s: bad \"pid (comm)\" head", name);
		return -1;
	}
	state = proc_stat_state(t->p, pt_len(t));
	if (!state) {
		pr_err("%s: no state after comm", name);
		return -1;
	}
	comm.p = t->p;
	comm.end = state - 2;	/* the last ')' */
	if (pt_copy(&comm, st->comm, sizeof(st->comm))) {
		pr_err("%s: comm longer than %d bytes", name, PROC_COMM_MAX - 1);
		return -1;
	}
	st->state = *state;
	t->p = state + 1;
	return 0;
}

int proc_parse_stat(const char *text, size_t len, const char *name, struct proc_stat *st)
{
	struct ptext t = { text, text + len };

	memset(st, 0, sizeof(*st));
	if (!len || text[len - 1] != '\n' || memchr(text, '\0', len)) {
		pr_err("%s: truncated or binary", name);
		goto err;
	}
	t.end--;	/* the final newline */
	if (stat_head(name, &t, st))
		goto err;
	if (memchr(t.p, '\n', pt_len(&t))) {
		pr_err("%s: more than one line", name);
		goto err;
	}
	if (stat_numbers(name, &t, st))
		goto err;
	return 0;
err:
	memset(st, 0, sizeof(*st));
	return -1;
}

int proc_read_stat(pid_t pid, struct proc_stat *st)
{
	memset(st, 0, sizeof(*st));
	return READ_AND_PARSE(pid, "stat", proc_parse_stat, st);
}

int proc_read_task_stat(pid_t pid, pid_t tid, struct proc_stat *st)
{
	char rest[32];

	memset(st, 0, sizeof(*st));
	snprintf(rest, sizeof(rest), "task/%d/stat", tid);
	return READ_AND_PARSE(pid, rest, proc_parse_stat, st);
}

int proc_read_stat_or_gone(pid_t pid, struct proc_stat *st)
{
	char path[32], buf[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	n = read_small_file(path, buf, sizeof(buf));
	if (n <= 0)
		return 1;
	return proc_parse_stat(buf, (size_t)n, path, st) ? -1 : 0;
}

/* ---- limits ----------------------------------------------------------------- */

static const struct {
	const char	*row;
	int		res;
} limit_rows[] = {
	{ "Max cpu time",		RLIMIT_CPU },
	{ "Max file size",		RLIMIT_FSIZE },
	{ "Max data size",		RLIMIT_DATA },
	{ "Max stack size",		RLIMIT_STACK },
	{ "Max core file size",		RLIMIT_CORE },
	{ "Max resident set",		RLIMIT_RSS },
	{ "Max processes",		RLIMIT_NPROC },
	{ "Max open files",		RLIMIT_NOFILE },
	{ "Max locked memory",		RLIMIT_MEMLOCK },
	{ "Max address space",		RLIMIT_AS },
	{ "Max file locks",		RLIMIT_LOCKS },
	{ "Max pending signals",	RLIMIT_SIGPENDING },
	{ "Max msgqueue size",		RLIMIT_MSGQUEUE },
	{ "Max nice priority",		RLIMIT_NICE },
	{ "Max realtime priority",	RLIMIT_RTPRIO },
	{ "Max realtime timeout",	RLIMIT_RTTIME },
};

/* A row name, followed by at least one blank. -1 if none matches. */
static int limit_row(struct ptext *l)
{
	size_t i, n;

	for (i = 0; i < ARRAY_SIZE(limit_rows); i++) {
		n = strlen(limit_rows[i].row);
		if (pt_len(l) > n && !memcmp(l->p, limit_rows[i].row, n) &&
		    (l->p[n] == ' ' || l->p[n] == '\t')) {
			l->p += n;
			return (int)i;
		}
	}
	return -1;
}

static int limit_value(struct ptext *l, rlim_t *v)
{
	uint64_t x;

	pt_skip_blanks(l);
	if (!pt_str(l, "unlimited")) {
		*v = RLIM_INFINITY;
	} else {
		if (pt_u64(l, 10, &x))
			return -1;
		*v = (rlim_t)x;
	}
	return pt_eol(l) || *l->p == ' ' || *l->p == '\t' ? 0 : -1;
}

static int limit_line(struct plines *it, struct ptext *l, struct proc_limits *lim, unsigned int *seen)
{
	struct rlimit *r;
	int i = limit_row(l);

	if (i < 0) {
		pr_debug("%s:%u: unknown limit row, skipped", it->name, it->lineno);
		return 0;
	}
	if (*seen & (1u << i)) {
		pt_err(it, "%s given twice", limit_rows[i].row);
		return -1;
	}
	*seen |= 1u << i;
	r = &lim->lim[limit_rows[i].res];
	if (limit_value(l, &r->rlim_cur) || limit_value(l, &r->rlim_max)) {
		pt_err(it, "bad value for %s", limit_rows[i].row);
		return -1;
	}
	if (r->rlim_cur > r->rlim_max) {
		pt_err(it, "soft limit above hard for %s", limit_rows[i].row);
		return -1;
	}
	return 0;
}

int proc_parse_limits(const char *text, size_t len, const char *name, struct proc_limits *lim)
{
	unsigned int seen = 0;
	struct plines it;
	struct ptext l;
	size_t i;
	int ret;

	BUILD_BUG_ON(ARRAY_SIZE(limit_rows) != PROC_NR_LIMITS);
	memset(lim, 0, sizeof(*lim));
	plines_init(&it, text, len, name);
	ret = plines_next(&it, &l);
	if (ret <= 0 || !pt_starts(&l, "Limit ")) {
		pr_err("%s: no \"Limit\" header line", name);
		goto err;
	}
	while ((ret = plines_next(&it, &l)) > 0)
		if (limit_line(&it, &l, lim, &seen))
			goto err;
	if (ret < 0)
		goto err;
	for (i = 0; i < ARRAY_SIZE(limit_rows); i++) {
		if (!(seen & (1u << i))) {
			pr_err("%s: no \"%s\" row", name, limit_rows[i].row);
			goto err;
		}
	}
	return 0;
err:
	memset(lim, 0, sizeof(*lim));
	return -1;
}

int proc_read_limits(pid_t pid, struct proc_limits *lim)
{
	memset(lim, 0, sizeof(*lim));
	return READ_AND_PARSE(pid, "limits", proc_parse_limits, lim);
}
