/*
 * Dump: task features the images do not carry yet (task-features.h). A
 * restored thread inherits each from criu, so a thread whose value differs
 * from criu's is refused; and syscall user dispatch is refused when on.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <linux/sched/types.h>
#include "kernel-compat.h"

#include "dump.h"
#include "log.h"
#include "parasite-proto.h"
#include "proc_parse.h"
#include "small-file.h"
#include "task-features.h"

#define PF_MEMALLOC_NOIO	0x00080000	/* PR_SET_IO_FLUSHER sets both */
#define PF_LOCAL_THROTTLE	0x00100000
#define SCHED_CORE_GET		0		/* PR_SCHED_CORE_GET */
#define SCHED_CORE_SCOPE_THREAD	0		/* PIDTYPE_PID */

static const char *const spec_names[TASK_SPEC_NR] = {
	"speculation control of store bypass (PR_SET_SPECULATION_CTRL)",
	"speculation control of indirect branches (PR_SET_SPECULATION_CTRL)",
	"L1D flush on context switch (PR_SET_SPECULATION_CTRL)",
};

/* /proc/PID/task/TID/attr/current; "" when there is no LSM (EINVAL) or it is empty. */
static int read_lsm(pid_t pid, pid_t tid, char *buf)
{
	char path[80];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/attr/current", pid, tid);
	/* ENOENT: a kernel without LSM attributes at all; EINVAL: no LSM */
	if (read_small_file(path, buf, TASK_LSM_MAX) < 0 && errno != ENOENT && errno != EINVAL) {
		pr_perror("can't read %s", path);
		return -1;
	}
	return 0;
}

/*
 * What criu reads from outside the thread: core cookie, PF_ bits, clamps,
 * LSM. The thread's own stat file: /proc/TID/stat is the whole process's,
 * which the kernel sums over every thread.
 */
static int read_outside(pid_t pid, pid_t tid, struct task_features *f)
{
	struct sched_attr sa;
	struct proc_stat st;
	unsigned long long cookie = 0;

	/* EINVAL: no core scheduling in this kernel; ENODEV: no SMT, so no cookies */
	if (prctl(PR_SCHED_CORE, SCHED_CORE_GET, tid, SCHED_CORE_SCOPE_THREAD, &cookie) &&
	    errno != EINVAL && errno != ENODEV) {
		pr_perror("PR_SCHED_CORE_GET of %d", tid);
		return -1;
	}
	f->core_cookie = cookie;
	if (proc_read_task_stat(pid, tid, &st))
		return -1;
	f->io_flusher = st.flags & (PF_MEMALLOC_NOIO | PF_LOCAL_THROTTLE);
	memset(&sa, 0, sizeof(sa));
	if (syscall(SYS_sched_getattr, tid, &sa, sizeof(sa), 0)) {
		pr_perror("sched_getattr(%d)", tid);
		return -1;
	}
	f->util_min = sa.sched_util_min;
	f->util_max = sa.sched_util_max;
	return read_lsm(pid, tid, f->lsm);
}

int task_features_own(struct task_features *f)
{
	int i;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < TASK_SPEC_NR; i++) {
		f->spec[i] = prctl(PR_GET_SPECULATION_CTRL, i, 0, 0, 0);
		if (f->spec[i] < 0)
			f->spec[i] = -errno;
	}
	arch_task_features_own(&f->arch);
	return read_outside(getpid(), (pid_t)syscall(SYS_gettid), f);
}

int task_features_read(pid_t pid, pid_t tid, const struct parasite_thread *p,
		       struct task_features *f)
{
	int i;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < TASK_SPEC_NR; i++)
		f->spec[i] = p->spec[i];
	f->arch = p->arch;
	return read_outside(pid, tid, f);
}

int task_features_diff(const struct task_features *t, const struct task_features *own,
		       char *buf, size_t len)
{
	int i;

	for (i = 0; i < TASK_SPEC_NR; i++)
		if (t->spec[i] != own->spec[i]) {
			snprintf(buf, len, "%s (%d, criu's %d)", spec_names[i], t->spec[i],
				 own->spec[i]);
			return 1;
		}
	if (arch_task_features_diff(&t->arch, &own->arch, buf, len))
		return 1;
	if (t->core_cookie != own->core_cookie)
		snprintf(buf, len, "a core scheduling cookie (PR_SCHED_CORE: %#llx, criu's %#llx)",
			 (unsigned long long)t->core_cookie, (unsigned long long)own->core_cookie);
	else if (t->io_flusher != own->io_flusher)
		snprintf(buf, len, "the I/O flusher flag (PR_SET_IO_FLUSHER: %s, criu's %s)",
			 t->io_flusher ? "set" : "clear", own->io_flusher ? "set" : "clear");
	else if (t->util_min != own->util_min || t->util_max != own->util_max)
		snprintf(buf, len, "utilization clamps (sched_setattr SCHED_FLAG_UTIL_CLAMP: %u..%u, criu's %u..%u)",
			 t->util_min, t->util_max, own->util_min, own->util_max);
	else if (strncmp(t->lsm, own->lsm, TASK_LSM_MAX))
		snprintf(buf, len, "an LSM label (/proc/PID/attr/current: \"%.64s\", criu's \"%.64s\")",
			 t->lsm, own->lsm);
	else
		return 0;
	return 1;
}

/* criu's own features, read once: they do not change while it runs. */
static const struct task_features *own_features(void)
{
	static struct task_features own;
	static bool read;

	if (!read && task_features_own(&own))
		return NULL;
	read = true;
	return &own;
}

/* One thread after the parasite read its part: refuse what criu would not give back. */
int dump_check_features(const struct dump_task *t, pid_t tid, const struct parasite_thread *p)
{
	const struct task_features *own = own_features();
	struct task_features f;
	char what[512];

	if (!own || task_features_read(t->pid, tid, p, &f))
		return -1;
	if (!task_features_diff(&f, own, what, sizeof(what)))
		return 0;
	pr_err("thread %d of %d: %s: a restored task gets criu's, so this is not supported yet",
	       tid, t->pid, what);
	return -1;
}

/*
 * Syscall user dispatch, per thread, read by ptrace before the parasite
 * runs (its syscalls would be diverted to the task's handler).
 */
int dump_check_sud(const struct dump_task *t)
{
	struct ptrace_sud_config c;
	int i;

	for (i = 0; i < t->nr_tids; i++) {
		memset(&c, 0, sizeof(c));
		if (ptrace(PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG, t->tids[i],
			   (void *)sizeof(c), &c)) {
			if (errno == EIO || errno == EINVAL)
				return 0;	/* a kernel before 6.11: nothing to tell */
			pr_perror("PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG of %d", t->tids[i]);
			return -1;
		}
		if (c.mode) {
			pr_err("thread %d of %d: syscall user dispatch (PR_SET_SYSCALL_USER_DISPATCH, mode %llu) is not supported yet",
			       t->tids[i], t->pid, c.mode);
			return -1;
		}
	}
	return 0;
}
