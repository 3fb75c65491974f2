/* The driver side of the compel tests: every API step, checked. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <compel/compel.h>
#include "driver.h"
#include "test-proto.h"
#include "parasite-blob.h"

static struct vshared *vs;
static const struct dplan *plan;
static int kill_at;
static char logbuf[8192];
static size_t loglen;

static void on_log(enum compel_log_level lvl, const char *file, int line,
		   const char *msg)
{
	char tmp[600];
	int n = snprintf(tmp, sizeof(tmp), "%d %s:%d %s\n", lvl, file, line, msg);

	if (n > 0 && loglen + n < sizeof(logbuf)) {
		memcpy(logbuf + loglen, tmp, n);
		loglen += n;
	}
	if (getenv("COMPEL_TEST_VERBOSE"))
		fputs(tmp, stderr);
}

static void on_step(int step, const char *what)
{
	vs->steps = step;
	snprintf(vs->step_name, sizeof(vs->step_name), "%s", what);
	if (step == kill_at)
		kill(getpid(), SIGKILL);
}

static int bad(const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(vs->dwhy, sizeof(vs->dwhy), fmt, ap);
	va_end(ap);
	/* Append the last compel error, if any, for context. */
	n = strlen(vs->dwhy);
	if (loglen && n + 4 < sizeof(vs->dwhy)) {
		char *last = memmem(logbuf, loglen, "\n0 ", 3);
		const char *e = logbuf[0] == '0' ? logbuf : last ? last + 1 : NULL;

		if (e)
			snprintf(vs->dwhy + n, sizeof(vs->dwhy) - n, " [%.*s]",
				 (int)strcspn(e, "\n"), e);
	}
	return -1;
}

static int check_remote_mm(struct compel_ctl *ctl)
{
	long addr, ret;

	if (compel_syscall(ctl, SYS_mmap, &addr, 0, 4096, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) || addr < 0)
		return bad("remote mmap: %ld", addr);
	if (compel_syscall(ctl, SYS_munmap, &ret, addr, 4096, 0, 0, 0, 0) || ret)
		return bad("remote munmap: %ld", ret);
	return 0;
}

/* The victim's pid as it sees it (1 when it is a pid namespace's init). */
static pid_t inner(pid_t pid)
{
	return plan->pidns ? 1 : pid;
}

static int check_echo(struct compel_ctl *ctl, pid_t pid)
{
	char *args = compel_args(ctl);
	long tid;
	int ret;

	strcpy(args, "hello");
	if (compel_rpc_call_sync(ctl, TCMD_ECHO, &ret) || ret != inner(pid) ||
	    strcmp(args, "echo:hello"))
		return bad("echo: ret %d args '%.20s'", ret, args);
	if (compel_syscall(ctl, SYS_gettid, &tid, 0, 0, 0, 0, 0, 0) || tid != inner(pid))
		return bad("gettid through the parasite: %ld", tid);
	if (compel_rpc_call_sync(ctl, TCMD_RELOCS, &ret) ||
	    ret != 'a' + 'b' + 'g' + 1 + 2 * 0x5eed)
		return bad("relocated data/GOT gave %d", ret);
	return 0;
}

static int check_vmsplice(struct compel_ctl *ctl)
{
	size_t len = vs->buf_len < 65536 ? vs->buf_len : 65536, got = 0;
	struct tsplice *s = compel_args(ctl);
	uint8_t *want = malloc(vs->buf_len), *have = malloc(len);
	int p[2], ret = -1, r;
	ssize_t n;

	if (!want || !have || pipe(p))
		goto out;
	fcntl(p[1], F_SETPIPE_SZ, (int)(2 * len));	/* room for unaligned pages */
	s->addr = vs->buf_addr;
	s->len = len;
	if (compel_rpc_call(ctl, TCMD_VMSPLICE, &p[1], 1) ||
	    compel_rpc_wait(ctl, &r) || r != (int)len) {
		bad("vmsplice command: %d", r);
		goto out_p;
	}
	while (got < len && (n = read(p[0], have + got, len - got)) > 0)
		got += n;
	vfill(want, vs->buf_len, vs->buf_seed);
	if (got != len || memcmp(want, have, len))
		bad("vmsplice'd pages differ (%zu bytes)", got);
	else
		ret = 0;
out_p:
	close(p[0]);
	close(p[1]);
out:
	free(want);
	free(have);
	return ret;
}

static int check_fds(struct compel_ctl *ctl, pid_t pid)
{
	struct tfds *f = compel_args(ctl);
	struct stat a, b;
	char path[64];
	int fd = -1, r;

	f->n = 1;
	f->fd[0] = vs->read_rd;
	if (compel_rpc_call(ctl, TCMD_SEND_FDS, NULL, 0) ||
	    compel_rpc_recv_fds(ctl, &fd, 1) || compel_rpc_wait(ctl, &r) || r)
		return bad("fd passing failed (%d)", r);
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, vs->read_rd);
	r = fstat(fd, &a) || stat(path, &b) || a.st_ino != b.st_ino;
	close(fd);
	return r ? bad("received fd is not the victim's pipe") : 0;
}

static int check_log(struct compel_ctl *ctl)
{
	static const char *want[] = {
		"0 parasite:0 err -7 x\n", "1 parasite:0 warn 3\n",
		"2 parasite:0 info 42 -1234567890123 beef 00017 str c 0x1000%\n",
		"3 parasite:0 debug 18446744073709551615\n",
	};
	unsigned int i;
	int r;

	loglen = 0;
	if (compel_rpc_call_sync(ctl, TCMD_LOG, &r) || r)
		return bad("log command");
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!memmem(logbuf, loglen, want[i], strlen(want[i])))
			return bad("parasite log line missing: %s", want[i]);
	return 0;
}

/* Victim thread by its TLS pointer (tids differ across pid namespaces). */
static int vthread_of(unsigned long tls)
{
	int i;

	for (i = 0; i < VMAX_THREADS; i++)
		if (vs->t[i].tls == tls)
			return i;
	return -1;
}

/* ret/ti from a thread command run in thread `tid` (our pid ns). */
static int thread_ok(pid_t tid, int ret, const struct tinfo *ti)
{
	int idx = vthread_of(ti->tls);

	return idx >= 0 && ret == ti->tid && ti->tid == vs->t[idx].tid &&
	       (plan->pidns || ret == tid);
}

static int thread_done(void *priv, pid_t tid, int ret, void *args)
{
	struct tinfo *ti = args;

	if (!thread_ok(tid, ret, ti))
		return bad("thread %d (batch): ret %d tls %#lx", tid, ret, ti->tls);
	++*(int *)priv;
	return 0;
}

static int check_batch(struct compel_ctl *ctl, const pid_t *tids, int n, int crash)
{
	int seen = 0;

	if (crash) {
		if (compel_run_in_threads(ctl, tids + 1, n - 1, TCMD_CRASH, NULL, NULL) == 0)
			return bad("faulting thread command succeeded");
		return 0;
	}
	if (compel_run_in_threads(ctl, tids + 1, n - 1, TCMD_THREAD_INFO,
				  thread_done, &seen) || seen != n - 1)
		return bad("batch of %d thread commands: %d done", n - 1, seen);
	return 0;
}

static int check_threads(struct compel_ctl *ctl, const pid_t *tids, int n)
{
	struct tinfo *ti = compel_args(ctl);
	int i, r;

	if (compel_rpc_call_sync(ctl, TCMD_THREAD_INFO, &r) ||
	    !thread_ok(tids[0], r, ti) || ti->tls != vs->t[0].tls)
		return bad("daemon thread info: %d", r);
	for (i = 1; i < n; i++) {
		memset(ti, 0, sizeof(*ti));
		if (compel_run_in_thread(ctl, tids[i], TCMD_THREAD_INFO, &r) ||
		    !thread_ok(tids[i], r, ti))
			return bad("thread %d: ret %d tls %#lx", tids[i], r, ti->tls);
	}
	return 0;
}

static uint64_t peek_victim(pid_t pid, unsigned long addr)
{
	char path[64];
	uint64_t v = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDONLY);
	if (fd >= 0 && pread(fd, &v, sizeof(v), addr) != sizeof(v))
		v = 0;
	if (fd >= 0)
		close(fd);
	return v;
}

/* What the dump trusts comes from /proc, read by the caller. */
static int check_creds(const struct dplan *p)
{
	struct compel_creds c;

	if (compel_task_creds(p->pid, &c))
		return bad("compel_task_creds failed");
	if (c.uid[0] != getuid() || c.uid[1] != geteuid() || c.gid[0] != getgid() ||
	    c.seccomp != (p->seccomp ? 2 : 0) || !c.cap_eff)
		return bad("creds: uid %u/%u gid %u seccomp %d cap_eff %#llx",
			   c.uid[0], c.uid[1], c.gid[0], c.seccomp,
			   (unsigned long long)c.cap_eff);
	return 0;
}

/* A filter that kills on socket(): refused by name, before any change. */
static int refused(struct compel_ctl *ctl)
{
	static const char want[] = "may answer socket() with SECCOMP_RET_KILL_PROCESS";

	if (!compel_infect(ctl, &parasite_blob, 1 << 20))
		return bad("infected a victim whose filter kills on socket()");
	if (!memmem(logbuf, loglen, want, sizeof(want) - 1))
		return bad("refused without naming socket() and its action");
	return 0;
}

/* Thread 1's own filter kills on sendto(), which the parasite's log makes. */
static int thread_refused(struct compel_ctl *ctl, const pid_t *tids)
{
	static const char want[] = "may answer sendto() with SECCOMP_RET_KILL_PROCESS";
	int r;

	if (!compel_run_in_thread(ctl, tids[1], TCMD_THREAD_INFO, &r))
		return bad("ran a command in a thread whose filter kills on sendto()");
	if (!memmem(logbuf, loglen, want, sizeof(want) - 1))
		return bad("thread refused without naming sendto() and its action");
	return 0;
}

static int run(const struct dplan *p, struct compel_ctl *ctl, const pid_t *tids, int n)
{
	long ret, nr = -1;
	int r;

	if (check_creds(p))
		return -1;
	if (p->expect_nr >= 0 && (!compel_in_syscall(ctl, &nr) || nr != p->expect_nr))
		return bad("leader not stopped in syscall %ld (%ld)", p->expect_nr, nr);
	if (compel_syscall(ctl, SYS_getpid, &ret, 0, 0, 0, 0, 0, 0) || ret != inner(p->pid))
		return bad("remote getpid: %ld", ret);
	if (p->full && check_remote_mm(ctl))
		return -1;
	if (p->eintr && syscall(SYS_tgkill, p->pid, p->pid, SIGUSR1))
		return bad("tgkill SIGUSR1: %m");
	if (p->refused)
		return refused(ctl);
	if (compel_infect(ctl, &parasite_blob, 1 << 20))
		return bad("infect failed");
	if (check_echo(ctl, p->pid))
		return -1;
	if (p->full && (check_vmsplice(ctl) || check_fds(ctl, p->pid) ||
			check_log(ctl) || check_remote_mm(ctl)))
		return -1;
	if (p->per_thread && !p->batch && check_threads(ctl, tids, n))
		return -1;
	if (p->thread_refused && thread_refused(ctl, tids))
		return -1;
	if ((p->batch || p->thread_crash) && check_batch(ctl, tids, n, p->thread_crash))
		return -1;
	if (p->crash) {
		if (compel_rpc_call_sync(ctl, TCMD_CRASH, &r) == 0)
			return bad("crashing command returned %d", r);
	}
	if (compel_cure(ctl))
		return bad("cure failed");
	return 0;
}

int drive(struct vshared *shared, const struct dplan *p)
{
	struct compel_ctl *ctl;
	uint64_t rseq_cs = 0;
	pid_t *tids;
	int n, ret;

	vs = shared;
	plan = p;
	kill_at = p->kill_at;
	compel_log_init(on_log, COMPEL_LOG_DEBUG);
	compel_set_step_hook(on_step);
	if (compel_seize_task(p->pid, p->seccomp ? COMPEL_SEIZE_SUSPEND_SECCOMP : 0,
			      &tids, &n))
		return bad("seize failed");
	if (n != p->nthreads) {
		ret = bad("seized %d threads, want %d", n, p->nthreads);
		goto out;
	}
	if (p->hostile_rseq) {
		rseq_cs = peek_victim(p->pid, vs->rseq_cs_addr);
		if (!rseq_cs) {
			ret = bad("victim did not arm rseq_cs");
			goto out;
		}
	}
	ctl = compel_prepare(p->pid);
	if (!ctl) {
		ret = bad("prepare failed");
		goto out;
	}
	ret = run(p, ctl, tids, n);
	compel_release(ctl);
	if (!ret && p->hostile_rseq && peek_victim(p->pid, vs->rseq_cs_addr) != rseq_cs)
		ret = bad("rseq_cs not put back: %#lx, want %#lx",
			  (long)peek_victim(p->pid, vs->rseq_cs_addr), (long)rseq_cs);
out:
	if (compel_detach_task(tids, n))
		ret = bad("detach failed");
	free(tids);
	return ret;
}
