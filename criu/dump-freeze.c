/*
 * --freeze-cgroup PATH: the tree is frozen by a cgroup freezer while it is
 * seized, so that no process of it forks faster than the seize goes
 * (Documentation/namespaces.md, "Cgroups").
 *
 *   1. a guardian child is forked: it thaws the group when its pipe from
 *      criu ends, which criu's death does too;
 *   2. the group is frozen (v1 freezer.state FROZEN, v2 cgroup.freeze 1)
 *      and polled until the kernel says it is (bounded by --timeout);
 *   3. every task of it (and of the groups below) must be a process of the
 *      tree, else the dump is refused;
 *   4. v2: ptrace stops frozen tasks, the seize runs while frozen, then the
 *      thaw; v1: a frozen task stops for ptrace only once thawed, so every
 *      thread is PTRACE_SEIZEd and PTRACE_INTERRUPTed while frozen, then
 *      the group is thawed and the seize takes them over (COMPEL_SEIZE_ADOPT):
 *      each stops before it runs a user instruction.
 * The freeze lasts the seize alone; dump_thaw() runs on every path.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <compel/compel.h>

#define LOG_PREFIX "dump-freeze: "
#include "dump.h"
#include "log.h"
#include "proc_parse.h"

#define FREEZE_MAX_TASKS	65536

static int put(const char *dir, const char *name, const char *v)
{
	char path[PATH_MAX + 32];
	int fd, ret = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0 && write(fd, v, strlen(v)) == (ssize_t)strlen(v))
		ret = 0;
	if (ret)
		pr_perror("cannot write %s to %s", v, path);
	if (fd >= 0)
		close(fd);
	return ret;
}

static void thaw_now(const struct dump_freeze *f)
{
	put(f->dir, f->v2 ? "cgroup.freeze" : "freezer.state", f->v2 ? "0" : "THAWED");
}

/* The guardian: the pipe's end (criu closed it, or died) thaws the group. */
static int start_guard(struct dump_freeze *f)
{
	int p[2];
	char c;

	if (pipe2(p, O_CLOEXEC)) {
		pr_perror("pipe");
		return -1;
	}
	f->guard = fork();
	if (f->guard < 0) {
		pr_perror("fork");
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (f->guard == 0) {
		close(p[1]);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		thaw_now(f);
		_exit(0);
	}
	close(p[0]);
	f->guard_w = p[1];
	return 0;
}

/* 1: frozen, 0: not yet, -1: error. */
static int frozen(const struct dump_freeze *f)
{
	char path[PATH_MAX + 32], *buf;
	size_t len;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", f->dir, f->v2 ? "cgroup.events" : "freezer.state");
	if (proc_read_file(path, 4096, &buf, &len))
		return -1;
	ret = f->v2 ? strstr(buf, "\nfrozen 1") != NULL || !strncmp(buf, "frozen 1", 8) :
		      !strncmp(buf, "FROZEN", 6);
	free(buf);
	return ret;
}

static int freeze(struct dump_freeze *f, unsigned int timeout)
{
	const struct timespec ms = { 0, 1000000 };
	uint64_t until = dump_now_us() + timeout * 1000000ull;
	int r;

	if (put(f->dir, f->v2 ? "cgroup.freeze" : "freezer.state", f->v2 ? "1" : "FROZEN"))
		return -1;
	f->frozen = true;
	while (!(r = frozen(f))) {
		if (dump_now_us() > until) {
			pr_err("%s did not freeze within %u s (--timeout)", f->dir, timeout);
			return -1;
		}
		nanosleep(&ms, NULL);
	}
	return r < 0 ? -1 : 0;
}

/* Every task of @dir and the groups below, appended to @out. */
static int members(const char *dir, struct proc_pids *out, unsigned int depth)
{
	char path[PATH_MAX + 32], *buf;
	struct proc_pids p;
	struct dirent *de;
	size_t len, i;
	DIR *d;
	int ret;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	if (depth > 64 || proc_read_file(path, 1 << 20, &buf, &len))
		return -1;
	ret = proc_parse_children(buf, len, path, &p);
	free(buf);
	for (i = 0; !ret && i < p.nr; i++) {
		pid_t *n = out->nr < FREEZE_MAX_TASKS ?
			realloc(out->pid, (out->nr + 1) * sizeof(*n)) : NULL;

		if (!n) {
			ret = -1;
			break;
		}
		out->pid = n;
		out->pid[out->nr++] = p.pid[i];
	}
	proc_pids_free(&p);
	d = ret ? NULL : opendir(dir);
	while (d && (de = readdir(d)))
		if (de->d_type == DT_DIR && de->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			if (members(path, out, depth + 1)) {
				ret = -1;
				break;
			}
		}
	if (d)
		closedir(d);
	return ret;
}

/* @pid is @root or below it, following /proc children (the tree is frozen). */
static bool in_tree(pid_t root, pid_t pid)
{
	struct proc_stat st;

	for (int n = 0; n < 4096 && pid > 1; n++) {
		if (pid == root)
			return true;
		if (proc_read_stat(pid, &st))
			return false;
		pid = st.ppid;
	}
	return pid == root;
}

/* v1: every thread seized and interrupted while frozen (see the top). */
static int preseize(const struct proc_pids *m)
{
	size_t i, k;

	for (i = 0; i < m->nr; i++) {
		struct proc_pids t;

		if (proc_read_tasks(m->pid[i], &t))
			return -1;
		for (k = 0; k < t.nr; k++)
			if (ptrace(PTRACE_SEIZE, t.pid[k], NULL, (void *)PTRACE_O_TRACESYSGOOD) ||
			    ptrace(PTRACE_INTERRUPT, t.pid[k], NULL, NULL)) {
				pr_perror("cannot seize %d (thread %d) in the frozen group", m->pid[i], t.pid[k]);
				proc_pids_free(&t);
				return -1;
			}
		proc_pids_free(&t);
	}
	return 0;
}

static int check_members(const struct dump_freeze *f, pid_t root, struct proc_pids *m)
{
	size_t i;

	memset(m, 0, sizeof(*m));
	if (members(f->dir, m, 0)) {
		pr_err("cannot list the tasks of %s", f->dir);
		return -1;
	}
	for (i = 0; i < m->nr; i++)
		if (!in_tree(root, m->pid[i])) {
			pr_err("%d of the frozen cgroup %s is not in the tree of %d: --freeze-cgroup needs a group of the tree alone",
			       m->pid[i], f->dir, root);
			return -1;
		}
	return 0;
}

int dump_freeze(struct dump_tree *tr, struct dump_freeze *f)
{
	const struct cr_options *o = tr->o;
	struct proc_pids m = { NULL, 0, 0 };
	char probe[PATH_MAX + 32];
	int ret = -1;

	memset(f, 0, sizeof(*f));
	f->guard = -1;
	f->guard_w = -1;
	if (!o->freeze_cgroup)
		return 0;
	if (strlen(o->freeze_cgroup) >= sizeof(f->dir)) {
		pr_err("--freeze-cgroup: too long a path");
		return -1;
	}
	strcpy(f->dir, o->freeze_cgroup);
	snprintf(probe, sizeof(probe), "%s/cgroup.freeze", f->dir);
	f->v2 = !access(probe, F_OK);
	snprintf(probe, sizeof(probe), "%s/freezer.state", f->dir);
	if (!f->v2 && access(probe, F_OK)) {
		pr_perror("--freeze-cgroup %s: neither a v2 group nor a v1 freezer group", f->dir);
		return -1;
	}
	if (start_guard(f) || freeze(f, o->timeout ? o->timeout : 10) ||
	    check_members(f, o->tree_pid, &m))
		goto out;
	dump_fault_die(o, "frozen");	/* the guardian thaws (e2e freeze_cgroup_*) */
	if (!f->v2) {
		if (preseize(&m))
			goto out;
		tr->seize_flags |= COMPEL_SEIZE_ADOPT;
		dump_thaw(f);	/* each stops for ptrace before it runs on */
	}
	pr_info("%s frozen (%s): %zu tasks", f->dir, f->v2 ? "v2" : "v1", m.nr);
	ret = 0;
out:
	proc_pids_free(&m);
	return ret;
}

void dump_thaw(struct dump_freeze *f)
{
	if (f->frozen)
		thaw_now(f);
	f->frozen = false;
	if (f->guard > 0) {
		kill(f->guard, SIGKILL);	/* thawed already: not again later */
		waitpid(f->guard, NULL, 0);
		f->guard = -1;
	}
	if (f->guard_w >= 0)
		close(f->guard_w);
	f->guard_w = -1;
}
