/*
 * The smaller /proc files: mountinfo, cgroup, timers, children, the task
 * directory, the binary auxv, the audit ids and the time namespace offsets.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_PREFIX "proc: "
#include "log.h"
#include "proc_parse.h"
#include "proc_parse_text.h"

#define MAX_MOUNTS	(1u << 20)
#define MAX_CGROUPS	4096
#define MAX_TIMERS	(1u << 20)
#define MAX_PIDS	(1u << 22)	/* PID_MAX_LIMIT */


/* ---- mountinfo ------------------------------------------------------------------ */

void proc_mounts_free(struct proc_mounts *mnts)
{
	size_t i;

	for (i = 0; i < mnts->nr; i++)
		free(mnts->m[i].root);
	free(mnts->m);
	memset(mnts, 0, sizeof(*mnts));
}

/* Next single-space separated field; the last one ends the line. */
static int mnt_field(struct ptext *l, struct ptext *f, bool last)
{
	if (last) {
		*f = *l;
		l->p = l->end;
	} else if (pt_until(l, ' ', f)) {
		return -1;
	}
	return pt_len(f) > PROC_STR_MAX ? -1 : 0;
}

/* "shared:N", "master:N", "propagate_from:N", "unbindable"; others skipped. */
static int mnt_optional(const struct ptext *f, struct proc_mount *m)
{
	static const struct {
		const char	*tag;
		unsigned int	bit;
		size_t		off;
	} tags[] = {
		{ "shared:", PROC_MNT_SHARED, offsetof(struct proc_mount, shared_id) },
		{ "master:", PROC_MNT_MASTER, offsetof(struct proc_mount, master_id) },
		{ "propagate_from:", PROC_MNT_PROPAGATE_FROM,
		  offsetof(struct proc_mount, propagate_from) },
	};
	struct ptext t = *f;
	size_t i;

	if (pt_len(f) == 10 && !memcmp(f->p, "unbindable", 10)) {
		m->propagation |= PROC_MNT_UNBINDABLE;
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(tags); i++) {
		if (pt_str(&t, tags[i].tag))
			continue;
		if ((m->propagation & tags[i].bit) || pt_pid(&t, (int *)((char *)m + tags[i].off)) ||
		    !pt_eol(&t))
			return -1;
		m->propagation |= tags[i].bit;
		return 0;
	}
	return 0;
}

/* The six string fields decoded into one heap block owned through m->root. */
static int mnt_strings(struct ptext f[6], struct proc_mount *m)
{
	char **dst[6] = { &m->root, &m->mountpoint, &m->options,
			  &m->fstype, &m->source, &m->super_options };
	size_t i, total = 0;
	char *blk;

	for (i = 0; i < 6; i++)
		total += pt_len(&f[i]) + 1;
	blk = malloc(total);
	if (!blk)
		return -1;
	for (i = 0; i < 6; i++) {
		*dst[i] = blk;
		blk += pt_unescape(&f[i], blk) + 1;
	}
	return 0;
}

static int mnt_ids(struct ptext *l, struct proc_mount *m)
{
	uint32_t maj, min;

	if (pt_pid(l, &m->mnt_id) || pt_char(l, ' ') || pt_pid(l, &m->parent_id) ||
	    pt_char(l, ' ') || pt_u32(l, 10, &maj) || pt_char(l, ':') ||
	    pt_u32(l, 10, &min) || pt_char(l, ' '))
		return -1;
	m->major = maj;
	m->minor = min;
	return 0;
}

static int mnt_line(struct plines *it, struct ptext *l, void *elem, void *ctx)
{
	struct proc_mount *m = elem;
	struct ptext f[6], opt;

	(void)ctx;
	if (mnt_ids(l, m)) {
		pt_err(it, "bad mount ids or device");
		return -1;
	}
	if (mnt_field(l, &f[0], false) || mnt_field(l, &f[1], false) ||
	    mnt_field(l, &f[2], false) || !pt_len(&f[0]) || !pt_len(&f[1])) {
		pt_err(it, "bad root, mount point or options");
		return -1;
	}
	do {
		if (mnt_field(l, &opt, false) || mnt_optional(&opt, m)) {
			pt_err(it, "bad optional fields");
			return -1;
		}
	} while (pt_len(&opt) != 1 || opt.p[0] != '-');
	if (mnt_field(l, &f[3], false) || mnt_field(l, &f[4], false) ||
	    mnt_field(l, &f[5], true) || !pt_len(&f[3])) {
		pt_err(it, "bad fstype, source or super options");
		return -1;
	}
	if (mnt_strings(f, m)) {
		pt_err(it, "out of memory");
		return -1;
	}
	return 0;
}

int proc_parse_mountinfo(const char *text, size_t len, const char *name, struct proc_mounts *out)
{
	memset(out, 0, sizeof(*out));
	if (pt_parse_lines(text, len, name, (void **)&out->m, &out->nr, &out->cap,
			   sizeof(*out->m), MAX_MOUNTS, mnt_line, NULL)) {
		proc_mounts_free(out);
		return -1;
	}
	return 0;
}

int proc_read_mountinfo(pid_t pid, struct proc_mounts *out)
{
	memset(out, 0, sizeof(*out));
	return READ_AND_PARSE(pid, "mountinfo", proc_parse_mountinfo, out);
}

/* ---- cgroup ----------------------------------------------------------------------- */

void proc_cgroups_free(struct proc_cgroups *cgs)
{
	size_t i;

	for (i = 0; i < cgs->nr; i++)
		free(cgs->c[i].controllers);
	free(cgs->c);
	memset(cgs, 0, sizeof(*cgs));
}

/* "ID:CONTROLLERS:PATH"; the path may itself contain ':'. */
static int cg_line(struct plines *it, struct ptext *l, void *elem, void *ctx)
{
	struct proc_cgroup *cg = elem;
	struct ptext ctl;
	size_t cl, pl;

	(void)ctx;
	if (pt_u32(l, 10, &cg->hier_id) || pt_char(l, ':') || pt_until(l, ':', &ctl)) {
		pt_err(it, "expected \"id:controllers:path\"");
		return -1;
	}
	cl = pt_len(&ctl);
	pl = pt_len(l);
	if (!pl || pl > PROC_STR_MAX || cl > PROC_STR_MAX) {
		pt_err(it, "empty or overlong cgroup path");
		return -1;
	}
	cg->controllers = malloc(cl + pl + 2);
	if (!cg->controllers) {
		pt_err(it, "out of memory");
		return -1;
	}
	memcpy(cg->controllers, ctl.p, cl);
	cg->controllers[cl] = '\0';
	cg->path = cg->controllers + cl + 1;
	memcpy(cg->path, l->p, pl);
	cg->path[pl] = '\0';
	return 0;
}

int proc_parse_cgroup(const char *text, size_t len, const char *name, struct proc_cgroups *out)
{
	memset(out, 0, sizeof(*out));
	if (pt_parse_lines(text, len, name, (void **)&out->c, &out->nr, &out->cap,
			   sizeof(*out->c), MAX_CGROUPS, cg_line, NULL)) {
		proc_cgroups_free(out);
		return -1;
	}
	return 0;
}

int proc_read_cgroup(pid_t pid, struct proc_cgroups *out)
{
	memset(out, 0, sizeof(*out));
	return READ_AND_PARSE(pid, "cgroup", proc_parse_cgroup, out);
}

/* ---- timers ----------------------------------------------------------------------- */

void proc_timers_free(struct proc_timers *timers)
{
	free(timers->t);
	memset(timers, 0, sizeof(*timers));
}

/* "notify: HOW/WHO.PID", HOW in signal/none/thread and WHO in pid/tid. */
static int timer_notify(struct ptext *l, struct proc_timer *t)
{
	if (!pt_str(l, "signal/"))
		t->notify = SIGEV_SIGNAL;
	else if (!pt_str(l, "none/"))
		t->notify = SIGEV_NONE;
	else if (!pt_str(l, "thread/"))
		t->notify = SIGEV_THREAD;
	else
		return -1;
	if (!pt_str(l, "tid."))
		t->thread_id = true;
	else if (pt_str(l, "pid."))
		return -1;
	return pt_pid(l, &t->notify_pid);
}

/* Line @i (0..3) of one timer's four-line record. */
static int timer_line(struct ptext *l, unsigned int i, struct proc_timer *t)
{
	switch (i) {
	case 0:
		if (pt_str(l, "ID: ") || pt_pid(l, &t->id))
			return -1;
		break;
	case 1:
		if (pt_str(l, "signal: ") || pt_int(l, &t->signo) || pt_char(l, '/') ||
		    pt_u64(l, 16, &t->sigval))
			return -1;
		break;
	case 2:
		if (pt_str(l, "notify: ") || timer_notify(l, t))
			return -1;
		break;
	case 3:
		if (pt_str(l, "ClockID: ") || pt_int(l, &t->clockid))
			return -1;
		break;
	}
	return pt_eol(l) ? 0 : -1;
}

static const char * const timer_keys[] = { "ID", "signal", "notify", "ClockID" };

int proc_parse_timers(const char *text, size_t len, const char *name, struct proc_timers *out)
{
	unsigned int i = 0;
	struct plines it;
	struct ptext l;
	int ret;

	memset(out, 0, sizeof(*out));
	plines_init(&it, text, len, name);
	while ((ret = plines_next(&it, &l)) > 0) {
		if (i == 0) {
			if (pt_grow((void **)&out->t, &out->cap, out->nr, sizeof(*out->t), MAX_TIMERS))
				goto err;
			memset(&out->t[out->nr], 0, sizeof(*out->t));
		}
		if (timer_line(&l, i, &out->t[out->nr])) {
			pt_err(&it, "expected a valid \"%s:\" line", timer_keys[i]);
			goto err;
		}
		if (++i == ARRAY_SIZE(timer_keys)) {
			i = 0;
			out->nr++;
		}
	}
	if (ret < 0)
		goto err;
	if (i) {
		pr_err("%s: last timer record is incomplete", name);
		goto err;
	}
	return 0;
err:
	proc_timers_free(out);
	return -1;
}

int proc_read_timers(pid_t pid, struct proc_timers *out)
{
	memset(out, 0, sizeof(*out));
	return READ_AND_PARSE(pid, "timers", proc_parse_timers, out);
}

/* ---- children and threads ----------------------------------------------------------- */

void proc_pids_free(struct proc_pids *pids)
{
	free(pids->pid);
	memset(pids, 0, sizeof(*pids));
}

static int add_pid(struct proc_pids *out, pid_t pid)
{
	if (pt_grow((void **)&out->pid, &out->cap, out->nr, sizeof(*out->pid), MAX_PIDS))
		return -1;
	out->pid[out->nr++] = pid;
	return 0;
}

/* "PID PID ... " with the kernel's trailing blank and no newline. */
int proc_parse_children(const char *text, size_t len, const char *name, struct proc_pids *out)
{
	struct ptext t = { text, text + len };
	const char *at;
	int pid;

	memset(out, 0, sizeof(*out));
	for (;;) {
		while (!pt_eol(&t) && (*t.p == ' ' || *t.p == '\n'))
			t.p++;
		if (pt_eol(&t))
			return 0;
		at = t.p;
		if (pt_pid(&t, &pid) || pid == 0 || (!pt_eol(&t) && *t.p != ' ' && *t.p != '\n')) {
			pr_err("%s: bad pid at offset %zu", name, (size_t)(at - text));
			goto err;
		}
		if (add_pid(out, pid))
			goto err;
	}
err:
	proc_pids_free(out);
	return -1;
}

int proc_read_children(pid_t pid, pid_t tid, struct proc_pids *out)
{
	char rest[48];

	memset(out, 0, sizeof(*out));
	snprintf(rest, sizeof(rest), "task/%d/children", tid);
	return READ_AND_PARSE(pid, rest, proc_parse_children, out);
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

int proc_read_tasks(pid_t pid, struct proc_pids *out)
{
	struct dirent *de;
	struct ptext t;
	char path[64];
	DIR *d;
	int tid;

	memset(out, 0, sizeof(*out));
	if (pt_proc_path(path, sizeof(path), pid, "task"))
		return -1;
	d = opendir(path);
	if (!d) {
		pr_perror("Can't open %s", path);
		return -1;
	}
	while ((errno = 0, de = readdir(d))) {
		t.p = de->d_name;
		t.end = de->d_name + strlen(de->d_name);
		if (pt_pid(&t, &tid) || !pt_eol(&t))
			continue;	/* "." and ".." */
		if (add_pid(out, tid))
			goto err;
	}
	if (errno) {
		pr_perror("Can't read %s", path);
		goto err;
	}
	closedir(d);
	qsort(out->pid, out->nr, sizeof(*out->pid), cmp_pid);
	return 0;
err:
	closedir(d);
	proc_pids_free(out);
	return -1;
}

/* ---- auxv --------------------------------------------------------------------------- */

int proc_parse_auxv(const void *data, size_t len, const char *name, struct proc_auxv *av)
{
	const size_t pair = 2 * sizeof(unsigned long);
	size_t i;

	memset(av, 0, sizeof(*av));
	if (len % pair) {
		pr_err("%s: %zu bytes is not a whole number of entries", name, len);
		return -1;
	}
	for (i = 0; i < len / pair; i++) {
		if (i == PROC_AUXV_MAX) {
			pr_err("%s: more than %d entries", name, PROC_AUXV_MAX);
			goto err;
		}
		memcpy(&av->a[2 * i], (const char *)data + i * pair, pair);
		if (av->a[2 * i] == 0) {	/* AT_NULL */
			av->a[2 * i + 1] = 0;
			av->nr = i + 1;
			return 0;
		}
	}
	pr_err("%s: no AT_NULL entry (truncated?)", name);
err:
	memset(av, 0, sizeof(*av));
	return -1;
}

int proc_read_auxv(pid_t pid, struct proc_auxv *av)
{
	memset(av, 0, sizeof(*av));
	return READ_AND_PARSE(pid, "auxv", proc_parse_auxv, av);
}

int proc_auxv_get(const struct proc_auxv *av, unsigned long type, unsigned long *val)
{
	size_t i;

	for (i = 0; i + 1 < av->nr; i++) {
		if (av->a[2 * i] == type) {
			*val = av->a[2 * i + 1];
			return 0;
		}
	}
	return -1;
}

/* ---- audit ids ------------------------------------------------------------------ */

int proc_parse_audit_id(const char *text, size_t len, const char *name, uint32_t *id)
{
	struct ptext t = { text, text + len };

	if (pt_u32(&t, 10, id) || (!pt_eol(&t) && pt_char(&t, '\n')) || !pt_eol(&t)) {
		pr_err("%s: not one number", name);
		return -1;
	}
	return 0;
}

int proc_read_audit(pid_t pid, pid_t tid, struct proc_audit *a)
{
	char path[64], login[48], session[48];

	memset(a, 0, sizeof(*a));
	snprintf(login, sizeof(login), "task/%d/loginuid", tid);
	snprintf(session, sizeof(session), "task/%d/sessionid", tid);
	if (pt_proc_path(path, sizeof(path), pid, login))
		return -1;
	if (access(path, F_OK) && errno == ENOENT)
		return 0;	/* a kernel without audit: no ids to carry */
	if (READ_AND_PARSE(pid, login, proc_parse_audit_id, &a->loginuid) ||
	    READ_AND_PARSE(pid, session, proc_parse_audit_id, &a->sessionid))
		return -1;
	a->present = true;
	return 0;
}

/* ---- timens_offsets ---------------------------------------------------------------- */

#define TIMENS_SEC_MAX	9223372036LL	/* KTIME_SEC_MAX */

/* "<clock> <sec> <nsec>" */
static int timens_line(struct plines *it, struct ptext *l, struct proc_timens *out,
		       unsigned int *seen)
{
	struct ptext clock;
	int64_t sec;
	uint32_t nsec;
	bool mono;

	pt_skip_blanks(l);
	pt_token(l, &clock);
	pt_skip_blanks(l);
	if (pt_snum(l, -TIMENS_SEC_MAX, TIMENS_SEC_MAX, &sec) || !pt_skip_blanks(l) ||
	    pt_u32(l, 10, &nsec) || nsec >= 1000000000u || pt_done(l)) {
		pt_err(it, "bad offset line");
		return -1;
	}
	mono = pt_len(&clock) == 9 && pt_starts(&clock, "monotonic");
	if (!mono && !(pt_len(&clock) == 8 && pt_starts(&clock, "boottime"))) {
		pt_err(it, "an offset of clock '%.*s' is not supported yet", (int)pt_len(&clock),
		       clock.p);
		return -1;
	}
	if (*seen & (mono ? 1 : 2)) {
		pt_err(it, "a clock appears twice");
		return -1;
	}
	*seen |= mono ? 1 : 2;
	if (mono) {
		out->mono_sec = sec;
		out->mono_nsec = nsec;
	} else {
		out->boot_sec = sec;
		out->boot_nsec = nsec;
	}
	return 0;
}

int proc_parse_timens_offsets(const char *text, size_t len, const char *name,
			      struct proc_timens *out)
{
	struct plines it;
	struct ptext l;
	unsigned int seen = 0;
	int r;

	memset(out, 0, sizeof(*out));
	plines_init(&it, text, len, name);
	while ((r = plines_next(&it, &l)) > 0)
		if (timens_line(&it, &l, out, &seen))
			return -1;
	if (r < 0)
		return -1;
	if (seen != 3) {
		pr_err("%s: the monotonic or the boottime offset is missing", name);
		return -1;
	}
	return 0;
}

int proc_read_timens_offsets(pid_t pid, struct proc_timens *out)
{
	return READ_AND_PARSE(pid, "timens_offsets", proc_parse_timens_offsets, out);
}
