/*
 * Seizing, stopping and releasing threads; saving and restoring the
 * per-thread state compel disturbs.
 */
#include <dirent.h>
#include <inttypes.h>
#include <sched.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "kernel-compat.h"
#include "small-file.h"
#include "internal.h"

struct rseq_config {		/* PTRACE_GET_RSEQ_CONFIGURATION, 5.13 */
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size;
	uint32_t signature;
	uint32_t flags;
	uint32_t pad;
};

#define RSEQ_CS_OFF	8	/* offsetof(struct rseq, rseq_cs) */

/* The whole of the small file /proc/<tid>/<file> in @buf (NUL-terminated). */
static int read_proc_line(pid_t tid, const char *file, char *buf, size_t n)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", tid, file);
	return read_small_file(path, buf, n) < 0 ? -1 : 0;
}

/* A vfork parent sleeps until its child execs or exits: it cannot stop. */
static int is_vfork_parent(pid_t tid)
{
	unsigned long flags = 0;
	char buf[256];
	long nr;

	if (read_proc_line(tid, "syscall", buf, sizeof(buf)) ||
	    sscanf(buf, "%ld %lx", &nr, &flags) < 1)
		return 0;
	return nr == 58 /* vfork */ || (nr == 56 /* clone */ && (flags & CLONE_VFORK)) ||
	       (nr == 435 /* clone3 */ && !read_proc_line(tid, "wchan", buf, sizeof(buf)) &&
		strstr(buf, "vfork"));
}

/* The state letter of thread @tid, '?' if unreadable. */
static char thread_state(pid_t tid)
{
	char buf[512], file[32];
	const char *state;

	/*
	 * The thread's own stat: /proc/<tid>/stat adds up the whole thread
	 * group (cputime, faults), which made seizing n threads O(n^2).
	 */
	snprintf(file, sizeof(file), "task/%d/stat", tid);
	if (read_proc_line(tid, file, buf, sizeof(buf)))
		return '?';
	state = proc_stat_state(buf, strlen(buf));
	return state ? *state : '?';
}

static int group_stopped(pid_t tid)
{
	return thread_state(tid) == 'T';
}

int compel_wait_stop(pid_t tid, int *event, int *sig)
{
	int st;

	while (waitpid(tid, &st, __WALL) < 0) {
		if (errno != EINTR) {
			pr_perror("waitpid %d", tid);
			return -1;
		}
	}
	if (!WIFSTOPPED(st)) {
		pr_err("thread %d is gone (status 0x%x)", tid, st);
		errno = ESRCH;
		return -1;
	}
	*sig = WSTOPSIG(st);
	*event = st >> 16;
	return 0;
}

static int job_control_sig(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/*
 * Wait for the PTRACE_EVENT_STOP that PTRACE_INTERRUPT asked for. In a
 * stopped thread group that stop reports the group's stop signal instead
 * of SIGTRAP: taken (into *stop_sig) when the caller allows it.
 */
static int wait_interrupt_stop(pid_t tid, int *crash_sig, int *stop_sig)
{
	int event, sig;

	for (;;) {
		if (compel_wait_stop(tid, &event, &sig))
			return -1;
		if (event == PTRACE_EVENT_STOP) {
			if (sig == SIGTRAP)
				return 0;
			if (stop_sig && job_control_sig(sig)) {
				*stop_sig = sig;
				return 0;
			}
			pr_err("thread %d is in group-stop (%d)", tid, sig);
			errno = EBUSY;
			return -1;
		}
		if (crash_sig && sig != SIGTRAP && (sig & 0x7f) != SIGTRAP) {
			/* Signal-delivery-stop: parasite fault; report it. */
			*crash_sig = sig;
			return 0;
		}
		/* A signal on its way in: let it be delivered as usual. */
		if (ptrace(PTRACE_CONT, tid, NULL, (void *)(long)
			   ((sig & 0x80) ? 0 : sig))) {
			pr_perror("PTRACE_CONT %d", tid);
			return -1;
		}
	}
}

int cpl_interrupt_prepare(pid_t tid)
{
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL)) {
		pr_perror("PTRACE_INTERRUPT %d", tid);
		return -1;
	}
	return 0;
}

int cpl_interrupt_wait(pid_t tid)
{
	int stop_sig;

	return wait_interrupt_stop(tid, NULL, &stop_sig);
}

/* After cpl_interrupt_prepare(): -1, 0 (interrupt stop) or a fault signal. */
int cpl_interrupt_collect(pid_t tid)
{
	int crash = 0, stop_sig;

	if (wait_interrupt_stop(tid, &crash, &stop_sig))
		return -1;
	return crash;
}

/* Returns -1, 0 (interrupt stop) or a signal the thread stopped with. */
/* From a syscall-exit stop to an interrupt stop, no user code run. */
int cpl_exit_to_interrupt(pid_t tid)
{
	if (cpl_interrupt_prepare(tid) || ptrace(PTRACE_CONT, tid, NULL, NULL))
		return -1;
	return cpl_interrupt_wait(tid);
}

int cpl_interrupt_and_wait(pid_t tid)
{
	int crash = 0, stop_sig;

	if (cpl_interrupt_prepare(tid) || wait_interrupt_stop(tid, &crash, &stop_sig))
		return -1;
	return crash;
}

#define SEIZE_STOPPED	0x80000000u	/* internal: a stopped group is taken */

/* Checks, PTRACE_SEIZE and PTRACE_INTERRUPT; the stop is still to be waited for. */
static int seize_start(pid_t tid, unsigned int flags)
{
	long opts = PTRACE_O_TRACESYSGOOD;

	if (is_vfork_parent(tid)) {
		pr_warn("%d is a vfork parent; retry once its child has "
			"exec'ed or exited", tid);
		errno = EAGAIN;
		return -1;
	}
	if (!(flags & SEIZE_STOPPED) && group_stopped(tid)) {
		pr_err("%d is stopped (group-stop); not supported", tid);
		errno = EBUSY;
		return -1;
	}
	if (flags & COMPEL_SEIZE_SUSPEND_SECCOMP)
		opts |= PTRACE_O_SUSPEND_SECCOMP;
	if (ptrace(PTRACE_SEIZE, tid, NULL, (void *)opts)) {
		if (errno != ESRCH)
			pr_perror("PTRACE_SEIZE %d", tid);
		return -1;
	}
	/*
	 * Seizing a thread in group-stop makes it trap (PTRACE_EVENT_STOP
	 * with the stop signal) before PTRACE_SEIZE returns; an interrupt on
	 * top would make a second trap, at its next resume.
	 */
	if ((flags & SEIZE_STOPPED) && thread_state(tid) == 't')
		return 0;
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL)) {
		int err = errno;

		pr_perror("cannot stop %d", tid);
		ptrace(PTRACE_DETACH, tid, NULL, NULL);
		errno = err;
		return -1;
	}
	return 0;
}

/*
 * Wait for the stop seize_start() asked for; on failure the thread is let
 * go. With @stop_sig, a thread of a stopped group is taken and its group's
 * stop signal stored there (0: running).
 */
static int seize_finish(pid_t tid, int *stop_sig)
{
	if (stop_sig)
		*stop_sig = 0;
	if (wait_interrupt_stop(tid, NULL, stop_sig)) {
		int err = errno;

		pr_perror("cannot stop %d", tid);
		ptrace(PTRACE_DETACH, tid, NULL, NULL);
		errno = err;
		return -1;
	}
	compel_step("seized");
	return 0;
}

int compel_seize(pid_t tid, unsigned int flags)
{
	if (seize_start(tid, flags & ~SEIZE_STOPPED))
		return -1;
	return seize_finish(tid, NULL);
}

int compel_detach(pid_t tid)
{
	if (ptrace(PTRACE_DETACH, tid, NULL, NULL)) {
		pr_perror("PTRACE_DETACH %d", tid);
		return -1;
	}
	return 0;
}

int compel_detach_task(const pid_t *tids, int nr)
{
	int i, ret = 0;

	for (i = 0; i < nr; i++)
		ret |= compel_detach(tids[i]);
	return ret ? -1 : 0;
}

static int tid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* The thread ids in /proc/<pid>/task not in t[0..n): malloc'ed in *fresh. */
static int list_new(pid_t pid, const pid_t *t, int n, pid_t **fresh, int *nr)
{
	pid_t *known = malloc((n ? n : 1) * sizeof(*known));
	char path[64];
	struct dirent *de;
	int cap = 0, ret = -1;
	DIR *d = NULL;

	*fresh = NULL;
	*nr = 0;
	if (!known)
		return -1;
	/* sorted, for a lookup per entry that stays cheap with thousands of threads */
	memcpy(known, t, n * sizeof(*known));
	qsort(known, n, sizeof(*known), tid_cmp);
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d) {
		pr_perror("opendir %s", path);
		goto out;
	}
	while ((de = readdir(d))) {
		pid_t tid = atoi(de->d_name), *f;

		if (tid <= 0 || bsearch(&tid, known, n, sizeof(*known), tid_cmp))
			continue;
		if (*nr == cap) {
			cap = cap ? 2 * cap : 64;
			f = realloc(*fresh, cap * sizeof(*f));
			if (!f)
				goto out;
			*fresh = f;
		}
		(*fresh)[(*nr)++] = tid;
	}
	ret = 0;
out:
	if (d)
		closedir(d);
	free(known);
	return ret;
}

/*
 * One pass over /proc/<pid>/task: seize what is new.  Every new thread is
 * interrupted before the first stop is waited for, so that they stop in
 * parallel instead of one wake-up after the other.  Returns #new or -1
 * (then the new threads of this pass are let go again).
 */
static int seize_pass(pid_t pid, unsigned int flags, pid_t **tids, int *nr)
{
	pid_t *fresh, *t;
	int n, i, started = 0, err = 0, added = 0, saved = 0, stop_sig;

	if (list_new(pid, *tids, *nr, &fresh, &n))
		return -1;
	t = n ? realloc(*tids, (*nr + n) * sizeof(*t)) : *tids;
	if (!t) {
		free(fresh);
		return -1;
	}
	*tids = t;
	for (i = 0; i < n && !err; i++, started++)
		if (seize_start(fresh[i], flags)) {
			if (errno == ESRCH)
				fresh[i] = 0;	/* exited meanwhile */
			else
				err = -1, saved = errno, fresh[i] = 0;
		}
	for (i = 0; i < started; i++) {
		if (!fresh[i])
			continue;
		if (seize_finish(fresh[i], (flags & SEIZE_STOPPED) ? &stop_sig : NULL)) {
			if (!err && errno != ESRCH)
				err = -1, saved = errno;
			continue;
		}
		t[*nr + added++] = fresh[i];
	}
	free(fresh);
	if (err) {
		compel_detach_task(t + *nr, added);
		errno = saved;
		return -1;
	}
	*nr += added;
	return added;
}

static int seize_task(pid_t pid, unsigned int flags, pid_t **tids, int *nr, int *stop_sig)
{
	int ret;

	*tids = malloc(sizeof(pid_t));
	*nr = 0;
	if (!*tids)
		return -1;
	if (seize_start(pid, flags) || seize_finish(pid, stop_sig))
		goto err;
	(*tids)[(*nr)++] = pid;
	do
		ret = seize_pass(pid, flags, tids, nr);
	while (ret > 0);
	if (ret < 0)
		goto err;
	return 0;
err:
	compel_detach_task(*tids, *nr);
	free(*tids);
	*tids = NULL;
	*nr = 0;
	return -1;
}

int compel_seize_task(pid_t pid, unsigned int flags, pid_t **tids, int *nr)
{
	return seize_task(pid, flags & ~SEIZE_STOPPED, tids, nr, NULL);
}

int compel_seize_task_stopped(pid_t pid, unsigned int flags, pid_t **tids, int *nr, int *stop_sig)
{
	return seize_task(pid, flags | SEIZE_STOPPED, tids, nr, stop_sig);
}

static int peek(pid_t tid, uint64_t addr, uint64_t *val)
{
	errno = 0;
	*val = ptrace(PTRACE_PEEKDATA, tid, (void *)addr, NULL);
	if (errno) {
		pr_perror("PTRACE_PEEKDATA %d at %#llx", tid, (unsigned long long)addr);
		return -1;
	}
	return 0;
}

/* The hex value after "\nKEY:" in a status text, 0 if absent. */
static uint64_t status_hex(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	return p ? strtoull(p + strlen(key), NULL, 16) : 0;
}

/*
 * One read of the status file and two lookups: this runs for every
 * thread a command runs in, and line-by-line sscanf over the whole file
 * was most of the CPU time of a 1000-thread batch.
 */
static uint64_t read_status(pid_t tid, const char *k1, const char *k2)
{
	char buf[4096], file[32], path[64], *big = NULL;
	uint64_t ret;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd;

	snprintf(file, sizeof(file), "task/%d/status", tid);
	if (read_proc_line(tid, file, buf, sizeof(buf)))
		return 0;
	if (strstr(buf, "\nSigCgt:") || strlen(buf) < sizeof(buf) - 1)
		return status_hex(buf, k1) | status_hex(buf, k2);
	/* Past 4 KiB (hundreds of supplementary groups): read it all. */
	snprintf(path, sizeof(path), "/proc/%d/%s", tid, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	do {
		if (cap - len < 4096) {
			char *b = realloc(big, cap = cap ? 2 * cap : 16384);

			if (!b) {
				len = 0;
				break;
			}
			big = b;
		}
		n = read(fd, big + len, cap - len - 1);
		if (n > 0)
			len += (size_t)n;
	} while (n > 0);
	close(fd);
	if (!big)
		return 0;
	big[len] = '\0';
	ret = status_hex(big, k1) | status_hex(big, k2);
	free(big);
	return ret;
}

/* Pending signals of a thread (its own and its process's). */
uint64_t cpl_read_pending(pid_t tid)
{
	return read_status(tid, "\nSigPnd:", "\nShdPnd:");
}

uint64_t cpl_read_caught(pid_t tid)
{
	return read_status(tid, "\nSigCgt:", "\nSigCgt:");
}

int cpl_thread_state_save(struct thread_state *ts, pid_t tid)
{
	struct rseq_config rc;

	memset(ts, 0, sizeof(*ts));
	ts->tid = tid;
	if (cpl_arch_get_regs(tid, &ts->regs) ||
	    cpl_arch_get_fpu(tid, &ts->fpu, &ts->fpu_len))
		return -1;
	if (ptrace(PTRACE_GETSIGMASK, tid, (void *)sizeof(ts->sigmask), &ts->sigmask)) {
		pr_perror("PTRACE_GETSIGMASK %d", tid);
		goto err;
	}
	ts->pending = cpl_read_pending(tid);
	memset(&rc, 0, sizeof(rc));
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, tid, (void *)sizeof(rc), &rc) < 0) {
		pr_warn("no rseq configuration for %d: %m", tid);
		rc.rseq_abi_pointer = 0;
	}
	if (rc.rseq_abi_pointer) {
		ts->rseq_cs_ptr = rc.rseq_abi_pointer + RSEQ_CS_OFF;
		if (peek(tid, ts->rseq_cs_ptr, &ts->rseq_cs_val))
			goto err;
	}
	return 0;
err:
	cpl_thread_state_free(ts);
	return -1;
}

void cpl_thread_state_free(struct thread_state *ts)
{
	free(ts->fpu);
	ts->fpu = NULL;
}

/* Keep any rseq critical section from covering code compel runs. */
int cpl_rseq_clear(struct thread_state *ts)
{
	if (!ts->rseq_cs_ptr || !ts->rseq_cs_val || ts->rseq_cleared)
		return 0;
	if (ptrace(PTRACE_POKEDATA, ts->tid, (void *)ts->rseq_cs_ptr, NULL)) {
		pr_perror("clearing rseq_cs of %d", ts->tid);
		return -1;
	}
	ts->rseq_cleared = 1;
	return 0;
}

int cpl_rseq_restore(struct thread_state *ts)
{
	if (!ts->rseq_cleared)
		return 0;
	if (ptrace(PTRACE_POKEDATA, ts->tid, (void *)ts->rseq_cs_ptr,
		   (void *)ts->rseq_cs_val)) {
		pr_perror("restoring rseq_cs of %d", ts->tid);
		return -1;
	}
	ts->rseq_cleared = 0;
	return 0;
}

/* Order matters for kill-safety: see Documentation/compel.md. */
int cpl_thread_state_restore(struct thread_state *ts)
{
	if (cpl_arch_set_fpu(ts->tid, ts->fpu, ts->fpu_len))
		return -1;
	if (ptrace(PTRACE_SETSIGMASK, ts->tid, (void *)sizeof(ts->sigmask), &ts->sigmask)) {
		pr_perror("PTRACE_SETSIGMASK %d", ts->tid);
		return -1;
	}
	return cpl_arch_set_regs(ts->tid, &ts->regs);
}

static int parse_ids(const char *line, const char *key, unsigned int *v)
{
	size_t n = strlen(key);

	if (strncmp(line, key, n))
		return 0;
	return sscanf(line + n, "%u %u %u %u", &v[0], &v[1], &v[2], &v[3]) == 4;
}

int compel_task_creds(pid_t pid, struct compel_creds *c)
{
	char path[64], line[256];
	int got = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f) {
		pr_perror("open %s", path);
		return -1;
	}
	memset(c, 0, sizeof(*c));
	while (fgets(line, sizeof(line), f)) {
		got += parse_ids(line, "Uid:", c->uid);
		got += parse_ids(line, "Gid:", c->gid);
		got += sscanf(line, "CapInh: %" SCNx64, &c->cap_inh) == 1;
		got += sscanf(line, "CapPrm: %" SCNx64, &c->cap_prm) == 1;
		got += sscanf(line, "CapEff: %" SCNx64, &c->cap_eff) == 1;
		got += sscanf(line, "CapBnd: %" SCNx64, &c->cap_bnd) == 1;
		got += sscanf(line, "CapAmb: %" SCNx64, &c->cap_amb) == 1;
		got += sscanf(line, "Seccomp: %d", &c->seccomp) == 1;
		got += sscanf(line, "NoNewPrivs: %d", &c->no_new_privs) == 1;
	}
	fclose(f);
	if (got < 9) {
		pr_err("%s: missing fields", path);
		return -1;
	}
	return 0;
}
