/*
 * criu dump end to end, without restore: a victim with known state is dumped
 * through the real binary, the images are read back and compared with what
 * the victim set up, and the victim then checks itself that it is unharmed.
 *
 * The victim talks to the test only through a pipe it closes before the
 * dump and through its exit status: after
 * SIGUSR1 it re-checks its memory, mask, umask and handler and exits 0 when
 * everything is as it was.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/futex.h>

#include "aio-ring.h"
#include "image.h"
#include "core.pb-c.h"
#include "files.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap-flags.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"
#include "pty.pb-c.h"
#include "est-import.h"
#include "unit.h"

#define __stringify_1(x)	#x
#define __stringify_num(x)	__stringify_1(x)
#define PG		4096ul
#define REGION_PAGES	64
#define FILE_PAGES	4
#define VICTIM_UMASK	027
#define FILE_POS	1234

/* Pages of the anonymous region the victim writes; page 20 it only reads. */
static const unsigned int touched[] = { 0, 1, 5, 10, 11, 12 };
#define READ_ONLY_PAGE	20
/* A region with every other page written: more runs than one command takes. */
#define SPARSE_PAGES	3000
/* A vma written, then made PROT_NONE: its page cannot be vmspliced. */
#define NONE_PAGES	4
#define NONE_PAGE	2
#define ALT_SIZE	(64 * 1024)
#define ITIMER_VALUE_S	100
#define ITIMER_IVAL_S	5
#define PTIMER_VALUE_S	1000
#define PTIMER_IVAL_S	7

/* V_SYSV, V_SEALED: shared memory the dump refuses (see shm_victim) */
enum { V_PLAIN, V_PIPE, V_SYSV, V_THREAD, V_CHILD, V_SHELL, V_RSEQ, V_SEALED, V_THREAD_CREDS,
       V_INOTIFY, V_VFORK, V_SIBLINGS, V_PTY_DATA,
       V_PTY_CTTY, V_PTY_OUTSIDE };

/*
 * V_SHELL: the pty slave the victim keeps open, in the test's session;
 * V_PTY_OUTSIDE: the same slave held by a victim leading its own session.
 */
static char pts_path[64];

struct victim_info {
	uint64_t rseq_cs_word, rseq_cs;		/* V_RSEQ */
	uint64_t region, fmap, tls, handler;
	uint64_t sparse, none, altstack;
	int32_t timer_id;
};

struct victim {
	pid_t pid;
	struct victim_info info;
	char dir[64];		/* images dir */
	char file[96];		/* the file the victim maps and keeps open */
};

static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	got_usr1 = 1;
}

static uint8_t pattern(unsigned int page, unsigned int off)
{
	return (uint8_t)(page * 31 + off * 7 + 1);
}

static uint8_t pattern2(unsigned int page, unsigned int off)
{
	return (uint8_t)(page * 13 + off * 3 + 5);
}

static int sparse_ok(const uint8_t *r)
{
	unsigned int p, off;

	for (p = 0; p < SPARSE_PAGES; p += 2)
		for (off = 0; off < PG; off += 512)
			if (r[p * PG + off] != pattern2(p, off))
				return 0;
	return 1;
}

static int region_ok(const uint8_t *r)
{
	unsigned int i, off;

	for (i = 0; i < sizeof(touched) / sizeof(touched[0]); i++)
		for (off = 0; off < PG; off++)
			if (r[touched[i] * PG + off] != pattern(touched[i], off))
				return 0;
	for (off = 0; off < PG; off++)
		if (r[READ_ONLY_PAGE * PG + off])
			return 0;
	return 1;
}

static sigset_t victim_mask(void)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	sigaddset(&s, SIGWINCH);
	return s;
}

/*
 * V_RSEQ: sleep in pause() with the thread's rseq_cs armed, as a thread
 * stopped inside a critical section has it. rdi: the rseq_cs word, rsi: the
 * descriptor. Any abort (preemption before the syscall) re-arms and retries.
 */
struct cs_desc {
	uint32_t version, flags;
	uint64_t start_ip, post_commit_offset, abort_ip;
} __attribute__((aligned(32)));

extern char tdump_cs_start[], tdump_cs_end[], tdump_cs_abort[];
void tdump_rseq_pause(uint64_t *word, const struct cs_desc *d) __attribute__((noreturn));

__asm__(".text\n"
	".type tdump_rseq_pause, @function\n"
	"tdump_rseq_pause:\n"
	"0:	movq %rsi, (%rdi)\n"
	"tdump_cs_start:\n"
	"	movl $" __stringify_num(SYS_pause) ", %eax\n"
	"	syscall\n"
	"	nop\n"
	"tdump_cs_end:\n"
	"	jmp 0b\n"
	"	.long 0x53053053\n"		/* RSEQ_SIG on x86 */
	"tdump_cs_abort:\n"
	"	jmp 0b\n");

static struct cs_desc victim_cs;

static void rseq_victim(int ready)
{
	uint64_t *word = (uint64_t *)((char *)__builtin_thread_pointer() + __rseq_offset + 8);
	struct victim_info info;

	memset(&info, 0, sizeof(info));
	if (!__rseq_size)
		_exit(50);
	victim_cs.start_ip = (uintptr_t)tdump_cs_start;
	victim_cs.post_commit_offset = tdump_cs_end - tdump_cs_start;
	victim_cs.abort_ip = (uintptr_t)tdump_cs_abort;
	info.rseq_cs_word = (uintptr_t)word;
	info.rseq_cs = (uintptr_t)&victim_cs;
	if (write(ready, &info, sizeof(info)) != sizeof(info))
		_exit(51);
	close(ready);
	tdump_rseq_pause(word, &victim_cs);
}

/*
 * V_THREAD: VICTIM_THREADS threads (more than compel runs at once), each
 * with a name, sigaltstack, blocked mask and queued signal of its own,
 * waiting in a futex until the verdict; then each checks its state.
 */
#define VICTIM_THREADS	20

struct vthread {
	pthread_t	th;
	int		idx, own_sig, bad;
	pid_t		tid;
	void		*alt;
};

static struct vthread vth[VICTIM_THREADS];
static int vthreads_go, vthreads_set;

static int vthread_check(struct vthread *me)
{
	char name[16], want[16];
	sigset_t cur, one;
	siginfo_t si;
	struct timespec zero = { 0, 0 };
	stack_t ss;

	snprintf(want, sizeof(want), "vt-%d", me->idx);
	if (prctl(PR_GET_NAME, name, 0, 0, 0) || strcmp(name, want))
		return 1;
	if (sigaltstack(NULL, &ss) || ss.ss_sp != me->alt || ss.ss_size != ALT_SIZE)
		return 2;
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	if (!sigismember(&cur, me->own_sig) || !sigismember(&cur, SIGUSR1) ||
	    sigismember(&cur, SIGRTMIN + (me->idx + 1) % VICTIM_THREADS))
		return 3;
	sigemptyset(&one);
	sigaddset(&one, me->own_sig);
	if (sigtimedwait(&one, &si, &zero) != me->own_sig || si.si_value.sival_int != me->idx + 100)
		return 4;
	if (syscall(SYS_gettid) != me->tid)
		return 5;
	return 0;
}

static void *vthread_main(void *arg)
{
	struct vthread *me = arg;
	char name[16];
	sigset_t m;
	stack_t ss = { .ss_size = ALT_SIZE };

	me->tid = (pid_t)syscall(SYS_gettid);
	snprintf(name, sizeof(name), "vt-%d", me->idx);
	prctl(PR_SET_NAME, name, 0, 0, 0);
	me->alt = ss.ss_sp = malloc(ALT_SIZE);
	if (!me->alt || sigaltstack(&ss, NULL))
		me->bad = 10;
	me->own_sig = SIGRTMIN + me->idx;
	m = victim_mask();		/* the process's queue is the main thread's */
	sigaddset(&m, SIGUSR1);
	sigaddset(&m, me->own_sig);
	pthread_sigmask(SIG_SETMASK, &m, NULL);
	pthread_sigqueue(pthread_self(), me->own_sig, (union sigval){ .sival_int = me->idx + 100 });
	__atomic_add_fetch(&vthreads_set, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&vthreads_go, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, &vthreads_go, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	if (!me->bad)
		me->bad = vthread_check(me);
	return NULL;
}

/* V_THREAD_CREDS: a thread with another effective gid (raw syscall: glibc would set all). */
static int other_gid_set;

static void *other_gid_thread(void *arg)
{
	(void)arg;
	if (syscall(SYS_setresgid, -1, 4242, -1))
		_exit(47);
	__atomic_store_n(&other_gid_set, 1, __ATOMIC_SEQ_CST);
	for (;;)
		pause();
	return NULL;
}

/*
 * V_PTY_DATA: a pty pair with a line the slave has not read;
 * V_PTY_CTTY: a pty pair whose slave is the victim's controlling terminal.
 */
static int victim_pty(int kind)
{
	char name[64];
	int m = posix_openpt(O_RDWR | O_NOCTTY), s;

	if (m < 0 || grantpt(m) || unlockpt(m) || ptsname_r(m, name, sizeof(name)))
		return -1;
	s = open(name, O_RDWR | (kind == V_PTY_DATA ? O_NOCTTY : 0));
	if (s < 0)
		return -1;
	return kind == V_PTY_DATA && write(m, "queued\n", 7) != 7 ? -1 : 0;
}

static void vthreads_start(void)
{
	sigset_t usr1, old;
	int i;

	/* SIGUSR1 must reach the main thread, the one in pause(). */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old);
	for (i = 0; i < VICTIM_THREADS; i++) {
		vth[i].idx = i;
		if (pthread_create(&vth[i].th, NULL, vthread_main, &vth[i]))
			_exit(44);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	while (__atomic_load_n(&vthreads_set, __ATOMIC_SEQ_CST) < VICTIM_THREADS)
		usleep(1000);
}

/* Wake the threads, join them (their clear-tid words must work): 0 if all are fine. */
static int vthreads_verdict(void)
{
	int i, bad = 0;

	__atomic_store_n(&vthreads_go, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &vthreads_go, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	for (i = 0; i < VICTIM_THREADS; i++) {
		pthread_join(vth[i].th, NULL);
		bad |= vth[i].bad;
	}
	return bad;
}

/* A child of the victim: dies with it, whatever happens to the test. */
static __attribute__((noreturn)) void victim_child(int ready, int kind)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(0);
	close(ready);
	/* V_VFORK: the child waits in vfork for a grandchild that never execs */
	if (kind == V_VFORK && vfork() == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	for (;;)
		pause();
}

/* An inotify watch on @file with one event queued and never read. */
static int inotify_queued(const char *file)
{
	int in = inotify_init1(0), fd;

	if (in < 0 || inotify_add_watch(in, file, IN_OPEN) < 0)
		return -1;
	fd = open(file, O_RDONLY);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/*
 * Shared memory the dump must refuse: a SysV segment (removed at once, it
 * lives while attached), a memfd mapped writable and then sealed against future writes (a restore could not map
 * it writable again).
 */
static int shm_victim(int kind)
{
	void *p;
	int id, fd;

	switch (kind) {
	case V_SYSV:
		id = shmget(IPC_PRIVATE, PG, IPC_CREAT | 0600);
		p = id < 0 ? (void *)-1 : shmat(id, NULL, 0);
		if (id >= 0)
			shmctl(id, IPC_RMID, NULL);
		return p == (void *)-1 ? -1 : 0;
	case V_SEALED:
		fd = memfd_create("victim", MFD_ALLOW_SEALING);
		if (fd < 0 || ftruncate(fd, PG))
			return -1;
		p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED || fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE))
			return -1;
		close(fd);
		return 0;
	}
	return 0;
}

/* The victim's body; never returns. */
static void victim_main(int ready, int kind, const char *file)
{
	struct sigaction sa;
	struct victim_info info;
	sigset_t mask = victim_mask(), cur;
	volatile uint8_t sink;
	uint8_t *r, *fm, *sp, *none;
	struct itimerval itv = { { ITIMER_IVAL_S, 0 }, { ITIMER_VALUE_S, 0 } };
	struct itimerspec its = { { PTIMER_IVAL_S, 0 }, { PTIMER_VALUE_S, 0 } };
	struct sigevent sev;
	timer_t timer;
	stack_t ss;
	pid_t child = -1;
	mode_t um;
	int fd, keep[2] = { -1, -1 }, i;

	if (kind == V_SHELL)
		setpgid(0, 0);		/* a job of the test's "shell" */
	else
		setsid();
	fd = open("/dev/null", O_RDWR);
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	for (i = 3; i < 1024; i++)
		if (i != ready)
			close(i);
	if (kind == V_RSEQ)
		rseq_victim(ready);
	if (kind == V_PIPE && pipe2(keep, O_DIRECT))	/* packet mode: still refused */
		_exit(20);
	if (kind == V_INOTIFY && inotify_queued(file))	/* an unread event: refused */
		_exit(20);
	if ((kind == V_SHELL || kind == V_PTY_OUTSIDE) && open(pts_path, O_RDWR | O_NOCTTY) < 0)
		_exit(19);
	if ((kind == V_PTY_DATA || kind == V_PTY_CTTY) && victim_pty(kind))
		_exit(22);
	if (shm_victim(kind))
		_exit(21);

	r = mmap(NULL, REGION_PAGES * PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		_exit(22);
	for (i = 0; i < (int)(sizeof(touched) / sizeof(touched[0])); i++) {
		unsigned int off;

		for (off = 0; off < PG; off++)
			r[touched[i] * PG + off] = pattern(touched[i], off);
	}
	sink = r[READ_ONLY_PAGE * PG];

	fd = open(file, O_RDWR | O_APPEND);
	if (fd < 0)
		_exit(23);
	fm = mmap(NULL, FILE_PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (fm == MAP_FAILED)
		_exit(24);
	sink = fm[0];
	sink = fm[2 * PG];
	(void)sink;
	memset(fm + PG, 0xa5, PG);		/* the one private copy */
	if (lseek(fd, FILE_POS, SEEK_SET) != FILE_POS)
		_exit(25);

	sp = mmap(NULL, SPARSE_PAGES * PG, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	none = mmap(NULL, NONE_PAGES * PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sp == MAP_FAILED || none == MAP_FAILED)
		_exit(28);
	for (i = 0; i < SPARSE_PAGES; i += 2) {
		unsigned int off;

		for (off = 0; off < PG; off++)
			sp[i * PG + off] = pattern2(i, off);
	}
	memset(none + NONE_PAGE * PG, 0x5a, PG);
	if (mprotect(none, NONE_PAGES * PG, PROT_NONE))
		_exit(29);

	ss.ss_sp = malloc(ALT_SIZE);
	ss.ss_size = ALT_SIZE;
	ss.ss_flags = 0;
	if (!ss.ss_sp || sigaltstack(&ss, NULL))
		_exit(40);
	if (setitimer(ITIMER_VIRTUAL, &itv, NULL))
		_exit(41);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGUSR2;
	sev.sigev_value.sival_int = 77;
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer) || timer_settime(timer, 0, &its, NULL))
		_exit(42);

	umask(VICTIM_UMASK);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaddset(&sa.sa_mask, SIGTERM);
	if (sigaction(SIGUSR1, &sa, NULL))
		_exit(26);
	sigprocmask(SIG_SETMASK, &mask, NULL);
	if (kind == V_THREAD)
		vthreads_start();
	if (kind == V_THREAD_CREDS) {
		sigset_t usr1, old;
		pthread_t th;

		sigemptyset(&usr1);
		sigaddset(&usr1, SIGUSR1);
		sigprocmask(SIG_BLOCK, &usr1, &old);
		if (pthread_create(&th, NULL, other_gid_thread, NULL))
			_exit(44);
		sigprocmask(SIG_SETMASK, &old, NULL);
		while (!__atomic_load_n(&other_gid_set, __ATOMIC_SEQ_CST))
			usleep(1000);
	}
	if (kind == V_CHILD || kind == V_VFORK) {
		child = fork();
		if (child < 0)
			_exit(45);
		if (child == 0)
			victim_child(ready, kind);
	}
	if (kind == V_SIBLINGS) {
		/* two children share an epoll set that the victim itself closed */
		int s = epoll_create1(EPOLL_CLOEXEC), k;

		for (k = 0; k < 2; k++) {
			child = fork();
			if (child < 0)
				_exit(45);
			if (child == 0)
				victim_child(ready, kind);
		}
		close(s);
	}
	/* One signal in each queue, blocked so they stay there. */
	kill(getpid(), SIGUSR2);
	syscall(SYS_tgkill, getpid(), gettid(), SIGWINCH);

	info.sparse = (uintptr_t)sp;
	info.none = (uintptr_t)none;
	info.altstack = (uintptr_t)ss.ss_sp;
	info.timer_id = (int32_t)(intptr_t)timer;
	info.region = (uintptr_t)r;
	info.fmap = (uintptr_t)fm;
	info.tls = (uintptr_t)pthread_self();
	info.handler = (uintptr_t)on_usr1;
	if (write(ready, &info, sizeof(info)) != sizeof(info))
		_exit(27);
	close(ready);

	while (!got_usr1)
		pause();
	if (kind == V_THREAD && vthreads_verdict())
		_exit(46);
	if (child > 0) {	/* reap it: a zombie left to the test would be a stray */
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}

	/* Self-check: everything the dump could have disturbed. */
	if (!region_ok(r))
		_exit(30);
	for (i = 0; i < (int)PG; i++)
		if (fm[PG + i] != 0xa5)
			_exit(31);
	um = umask(0);
	if (um != VICTIM_UMASK)
		_exit(32);
	sigprocmask(SIG_SETMASK, NULL, &cur);
	if (!sigismember(&cur, SIGUSR2) || !sigismember(&cur, SIGWINCH) ||
	    sigismember(&cur, SIGUSR1))
		_exit(33);
	if (sigaction(SIGUSR1, NULL, &sa) || sa.sa_sigaction != on_usr1 ||
	    !(sa.sa_flags & SA_SIGINFO))
		_exit(34);
	if (lseek(fd, 0, SEEK_CUR) != FILE_POS)
		_exit(35);
	if (!sparse_ok(sp))
		_exit(36);
	if (mprotect(none, NONE_PAGES * PG, PROT_READ) || none[NONE_PAGE * PG] != 0x5a ||
	    none[NONE_PAGE * PG + PG - 1] != 0x5a || none[0])
		_exit(37);
	sigpending(&cur);
	if (!sigismember(&cur, SIGUSR2) || !sigismember(&cur, SIGWINCH))
		_exit(38);
	if (sigaltstack(NULL, &ss) || ss.ss_size != ALT_SIZE)
		_exit(39);
	if (timer_gettime(timer, &its) || its.it_value.tv_sec < PTIMER_VALUE_S - 100 ||
	    its.it_interval.tv_sec != PTIMER_IVAL_S)
		_exit(43);
	_exit(0);
}

static int make_file(const char *path)
{
	uint8_t buf[PG];
	int fd, i;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	for (i = 0; i < FILE_PAGES; i++) {
		memset(buf, 0x10 + i, sizeof(buf));
		if (write(fd, buf, sizeof(buf)) != sizeof(buf)) {
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

static int victim_start(struct victim *v, int kind)
{
	char path[64], c;
	int p[2], i;
	ssize_t n;

	memset(v, 0, sizeof(*v));
	snprintf(v->dir, sizeof(v->dir), "/tmp/criu-test-dump.XXXXXX");
	if (!mkdtemp(v->dir))
		return -1;
	snprintf(v->file, sizeof(v->file), "%s.file", v->dir);
	if (make_file(v->file) || pipe(p))
		return -1;
	v->pid = fork();
	if (v->pid < 0)
		return -1;
	if (v->pid == 0) {
		close(p[0]);
		victim_main(p[1], kind, v->file);
	}
	close(p[1]);
	n = read(p[0], &v->info, sizeof(v->info));
	/* EOF: the victim closed its end, so the dump will not see the pipe. */
	if (n == sizeof(v->info) && read(p[0], &c, 1) != 0)
		n = -1;
	close(p[0]);
	if (n != sizeof(v->info))
		return -1;
	/* ... and wait until it sleeps in pause(). */
	snprintf(path, sizeof(path), "/proc/%d/syscall", v->pid);
	for (i = 0; i < 5000; i++) {
		FILE *f = fopen(path, "r");
		long nr = -1;

		if (f) {
			if (fscanf(f, "%ld", &nr) != 1)
				nr = -1;
			fclose(f);
		}
		if (nr == SYS_pause)
			return 0;
		usleep(1000);
	}
	return -1;
}

static void rm_dir(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d) {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.' || (de->d_name[1] && strcmp(de->d_name, "..")))
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	rmdir(dir);
}

/* Kill (if still there) and reap the victim, drop its files. */
static void victim_end(struct victim *v)
{
	int st;

	if (v->pid > 0) {
		kill(v->pid, SIGKILL);
		waitpid(v->pid, &st, 0);
		v->pid = 0;
	}
	if (getenv("TEST_DUMP_KEEP"))	/* for debugging: keep the images */
		return;
	rm_dir(v->dir);
	unlink(v->file);
}

/* SIGUSR1, then the victim's verdict: its exit code (0: unharmed). */
static int victim_verdict(struct victim *v)
{
	int st;

	if (kill(v->pid, SIGUSR1))
		return -1;
	if (waitpid(v->pid, &st, 0) != v->pid)
		return -1;
	v->pid = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static int task_free(const char *path)
{
	char line[256];
	int tracer = -1, stopped = 1;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "TracerPid:", 10))
			tracer = atoi(line + 10);
		if (!strncmp(line, "State:", 6)) {
			const char *c = line + 6;

			while (*c == ' ' || *c == '\t')
				c++;
			stopped = *c == 'T' || *c == 't';
		}
	}
	fclose(f);
	return tracer == 0 && !stopped;
}

/* Not traced, not stopped: every thread of it. */
static int victim_free(const struct victim *v)
{
	char path[300];
	struct dirent *de;
	DIR *d;
	int ok = 1, n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", v->pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)) && ok) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status", v->pid, de->d_name);
		ok = task_free(path);
		n++;
	}
	closedir(d);
	return ok && n > 0;
}

static const char *criu_path(void)
{
	static char path[PATH_MAX + 32];
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return "criu/criu";
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	snprintf(path, sizeof(path), "%s/../../criu/criu", self);
	return path;
}

/* Run criu dump on the victim; extra options in @opt (may be NULL). */
static int run_dump2(const struct victim *v, const char *fault, const char *opt,
		     const char *opt2)
{
	char pid[16];
	pid_t c;
	int st;

	snprintf(pid, sizeof(pid), "%d", v->pid);
	c = fork();
	if (c < 0)
		return -1;
	if (c == 0) {
		int fd = open("/dev/null", O_RDWR);
		char out[96];

		snprintf(out, sizeof(out), "%s/stdout", v->dir);
		dup2(fd, 0);
		dup2(fd, 2);
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		if (fault)
			setenv("CRIU_FAULT", fault, 1);
		else
			unsetenv("CRIU_FAULT");
		execl(criu_path(), "criu", "dump", "-t", pid, "-D", v->dir, "-v4",
		      "-o", "dump.log", opt ? opt : "-v4", opt2 ? opt2 : "-v4", (char *)NULL);
		_exit(127);
	}
	if (waitpid(c, &st, 0) != c)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int run_dump(const struct victim *v, const char *fault, const char *opt)
{
	return run_dump2(v, fault, opt, NULL);
}

static int dir_has(const struct victim *v, const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", v->dir, name);
	return access(path, F_OK) == 0;
}

/* A scratch dir of a dump (criu/dump-out.c) left in the images dir. */
static int scratch_left(const struct victim *v)
{
	struct dirent *de;
	DIR *d = opendir(v->dir);
	int found = 0;

	while (d && (de = readdir(d)))
		found |= !strncmp(de->d_name, ".criu-scratch-", 14);
	if (d)
		closedir(d);
	return found;
}

static int log_has(const struct victim *v, const char *what)
{
	char path[128], *buf;
	long n;
	FILE *f;
	int found;

	snprintf(path, sizeof(path), "%s/dump.log", v->dir);
	f = fopen(path, "r");
	if (!f)
		return 0;
	buf = calloc(1, 1 << 20);
	n = buf ? (long)fread(buf, 1, (1 << 20) - 1, f) : 0;
	fclose(f);
	found = n > 0 && strstr(buf, what);
	free(buf);
	return found;
}

/* ---- reading the images back ---------------------------------------------- */

struct run { uint64_t vaddr, nr, off; };

static int read_pagemap(const struct victim *v, int dfd, struct run *runs, int max, int *nr)
{
	ProtobufCMessage *m;
	struct cr_img *img = img_open(dfd, IMG_PAGEMAP, v->pid);
	uint64_t off = 0, last = 0;
	int r, first = 1;

	*nr = 0;
	if (!img)
		return -1;
	while ((r = img_read_entry(img, &m)) == 1) {
		if (first) {
			first = 0;
			if (((PagemapHead *)m)->pages_id != (uint32_t)v->pid)
				r = -1;
		} else {
			PagemapEntry *e = (PagemapEntry *)m;

			if (*nr == max || e->vaddr < last || e->flags != 1)
				r = -1;
			else {
				runs[*nr].vaddr = e->vaddr;
				runs[*nr].nr = e->nr_pages;
				runs[*nr].off = off;
				off += e->nr_pages * PG;
				last = e->vaddr + e->nr_pages * PG;
				(*nr)++;
			}
		}
		img_free_entry(m);
		if (r < 0)
			break;
	}
	img_close(img);
	return r;
}

/* Is page @addr stored, and at which offset of the pages image. */
static int64_t page_off(const struct run *runs, int nr, uint64_t addr)
{
	int i;

	for (i = 0; i < nr; i++)
		if (addr >= runs[i].vaddr && addr < runs[i].vaddr + runs[i].nr * PG)
			return runs[i].off + (addr - runs[i].vaddr);
	return -1;
}

/*
 * Does a read fault map the shared zero page? Some hypervisor guests boot with
 * the zero page turned off (e.g. pvm_no_zero_page=1): then a page the victim
 * only read is a real page of zeros, and storing it is right.
 */
static bool read_fault_maps_zero_page(void)
{
	volatile const uint8_t *a, *b;
	uint64_t ea = 0, eb = 0;
	bool shared = false;
	int pm;

	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm < 0)
		return true;
	a = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	b = mmap(NULL, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a != MAP_FAILED && b != MAP_FAILED) {
		(void)a[0];
		(void)b[0];
		if (pread(pm, &ea, 8, (uintptr_t)a / PG * 8) == 8 &&
		    pread(pm, &eb, 8, (uintptr_t)b / PG * 8) == 8)
			shared = (ea & PM_PFN) && (ea & PM_PFN) == (eb & PM_PFN);
	}
	if (a != MAP_FAILED)
		munmap((void *)a, PG);
	if (b != MAP_FAILED)
		munmap((void *)b, PG);
	close(pm);
	return shared;
}

/* A page the victim only read: not stored, or (no zero page) stored as zeros. */
static int check_read_only_page(int pfd, int64_t o)
{
	uint8_t buf[PG];
	unsigned int off;

	if (o < 0)
		return 0;
	if (read_fault_maps_zero_page()) {
		snprintf(unit_why, sizeof(unit_why), "page %lu stored, never written",
			 (unsigned long)READ_ONLY_PAGE);
		return -1;
	}
	if (pread(pfd, buf, PG, o) != (ssize_t)PG)
		return -1;
	for (off = 0; off < PG; off++)
		if (buf[off]) {
			snprintf(unit_why, sizeof(unit_why), "read-only page stored not as zeros");
			return -1;
		}
	return 0;
}

static int check_pages(const struct victim *v, int dfd)
{
	static struct run runs[4096];
	uint8_t buf[PG];
	char name[64];
	int nr, pfd, i;
	unsigned int p, t, off;

	CHECK(read_pagemap(v, dfd, runs, 4096, &nr) == 0);
	snprintf(name, sizeof(name), "pages-%d.img", v->pid);
	pfd = openat(dfd, name, O_RDONLY);
	CHECK(pfd >= 0);
	for (p = 0; p < REGION_PAGES; p++) {
		int64_t o = page_off(runs, nr, v->info.region + p * PG);
		int want = 0;

		for (t = 0; t < sizeof(touched) / sizeof(touched[0]); t++)
			want |= touched[t] == p;
		if (p == READ_ONLY_PAGE) {
			if (check_read_only_page(pfd, o)) {
				close(pfd);
				return -1;
			}
			continue;
		}
		if (!want) {
			if (o >= 0) {
				close(pfd);
				snprintf(unit_why, sizeof(unit_why), "page %u stored, never written", p);
				return -1;
			}
			continue;
		}
		if (o < 0 || pread(pfd, buf, PG, o) != (ssize_t)PG) {
			close(pfd);
			snprintf(unit_why, sizeof(unit_why), "written page %u not stored", p);
			return -1;
		}
		for (off = 0; off < PG; off++)
			if (buf[off] != pattern(p, off)) {
				close(pfd);
				snprintf(unit_why, sizeof(unit_why), "page %u differs at %u", p, off);
				return -1;
			}
	}
	/* The private file mapping: only the written page is the task's own. */
	for (i = 0; i < FILE_PAGES; i++) {
		int64_t o = page_off(runs, nr, v->info.fmap + i * PG);

		if ((i == 1) != (o >= 0)) {
			close(pfd);
			snprintf(unit_why, sizeof(unit_why), "file page %d: stored %d", i, o >= 0);
			return -1;
		}
		if (o >= 0 && (pread(pfd, buf, PG, o) != (ssize_t)PG || buf[0] != 0xa5 ||
			       buf[PG - 1] != 0xa5)) {
			close(pfd);
			snprintf(unit_why, sizeof(unit_why), "file page 1 content");
			return -1;
		}
	}
	for (p = 0; p < SPARSE_PAGES; p++) {
		int64_t o = page_off(runs, nr, v->info.sparse + p * PG);

		if ((p % 2 == 0) != (o >= 0)) {
			close(pfd);
			snprintf(unit_why, sizeof(unit_why), "sparse page %u: stored %d", p, o >= 0);
			return -1;
		}
		if (o >= 0 && (pread(pfd, buf, PG, o) != (ssize_t)PG ||
			       buf[0] != pattern2(p, 0) || buf[PG - 1] != pattern2(p, PG - 1))) {
			close(pfd);
			snprintf(unit_why, sizeof(unit_why), "sparse page %u content", p);
			return -1;
		}
	}
	for (p = 0; p < NONE_PAGES; p++) {
		int64_t o = page_off(runs, nr, v->info.none + p * PG);

		if ((p == NONE_PAGE) != (o >= 0) ||
		    (o >= 0 && (pread(pfd, buf, PG, o) != (ssize_t)PG || buf[0] != 0x5a ||
				buf[PG - 1] != 0x5a))) {
			close(pfd);
			snprintf(unit_why, sizeof(unit_why), "PROT_NONE page %u", p);
			return -1;
		}
	}
	close(pfd);
	return 0;
}

static int siginfo_signo(const ProtobufCBinaryData *d)
{
	int32_t signo;

	if (d->len != 128)
		return -1;
	memcpy(&signo, d->data, sizeof(signo));
	return signo;
}

static int check_core(const struct victim *v, int dfd)
{
	ProtobufCMessage *m1 = NULL, *m2 = NULL;
	struct cr_img *img = img_open(dfd, IMG_CORE, v->pid);
	TaskCoreEntry *tc;
	ThreadCoreEntry *th;
	sigset_t want = victim_mask();
	uint64_t mask = 0;
	size_t i;
	int sig, found = 0;

	CHECK(img);
	CHECK(img_read_entry(img, &m1) == 1);
	CHECK(img_read_entry(img, &m2) == 1);
	img_close(img);
	tc = (TaskCoreEntry *)m1;
	th = (ThreadCoreEntry *)m2;
	for (sig = 1; sig <= 64; sig++)
		if (sigismember(&want, sig) == 1)
			mask |= 1ull << (sig - 1);

	CHECK(tc->umask == VICTIM_UMASK);
	CHECK(tc->n_sigactions == 62);
	for (i = 0; i < tc->n_sigactions; i++) {
		SigactionEntry *s = tc->sigactions[i];

		if (s->signo != SIGUSR1)
			continue;
		found = 1;
		CHECK(s->handler == v->info.handler);
		CHECK(s->flags & SA_SIGINFO);
		CHECK(s->flags & SA_RESTART);
		CHECK(s->mask & (1ull << (SIGTERM - 1)));
	}
	CHECK(found);
	CHECK(tc->n_itimers == 3);
	CHECK(tc->n_rlimits == 16);
	CHECK(tc->creds && tc->creds->n_uid == 4);
	CHECK(tc->has_cwd_id && tc->has_root_id);
	CHECK(th->tid == (uint32_t)v->pid);
	CHECK(th->blocked == mask);
	CHECK(th->regs->fs_base == v->info.tls);
	/*
	 * Stopped in pause() (-ERESTARTNOHAND): the images (the established
	 * format, imported) hold the registers that issue pause() again.
	 */
	CHECK(th->regs->orig_ax == (uint64_t)-1);
	CHECK(th->regs->ax == SYS_pause);
	CHECK(th->xsave.len >= 576);
	CHECK(th->has_clear_tid_addr && th->clear_tid_addr);
	CHECK(th->n_pending == 1 && siginfo_signo(&th->pending[0]) == SIGWINCH);
	CHECK(tc->n_shared_pending == 1 && siginfo_signo(&tc->shared_pending[0]) == SIGUSR2);
	CHECK(th->altstack && th->altstack->sp == v->info.altstack &&
	      th->altstack->size == ALT_SIZE && th->altstack->flags == 0);
	CHECK(th->rseq && th->rseq->ptr && th->rseq->len >= 32);
	CHECK(tc->itimers[ITIMER_VIRTUAL]->interval_us == ITIMER_IVAL_S * 1000000ull);
	CHECK(tc->itimers[ITIMER_VIRTUAL]->value_us > (ITIMER_VALUE_S - 1) * 1000000ull);
	/* the kernel rounds CPU-time timers up to its tick */
	CHECK(tc->itimers[ITIMER_VIRTUAL]->value_us <= (ITIMER_VALUE_S + 1) * 1000000ull);
	CHECK(tc->itimers[ITIMER_REAL]->value_us == 0);
	CHECK(tc->n_posix_timers == 1);
	CHECK(tc->posix_timers[0]->id == v->info.timer_id);
	CHECK(tc->posix_timers[0]->clock == CLOCK_MONOTONIC);
	CHECK(tc->posix_timers[0]->signo == SIGUSR2);
	CHECK(tc->posix_timers[0]->notify == SIGEV_SIGNAL);
	CHECK(tc->posix_timers[0]->sival == 77);
	CHECK(tc->posix_timers[0]->interval_ns == PTIMER_IVAL_S * 1000000000ull);
	CHECK(tc->posix_timers[0]->value_ns > (PTIMER_VALUE_S - 100) * 1000000000ull);
	img_free_entry(m1);
	img_free_entry(m2);
	return 0;
}

static int check_mm_files(const struct victim *v, int dfd)
{
	ProtobufCMessage *m = NULL, *e;
	struct cr_img *img;
	MmEntry *mm;
	uint32_t fid = 0, file_fd_id = 0;
	size_t i;
	int seen_region = 0, seen_vdso = 0, seen_stack = 0, reg_ok = 0, r;

	CHECK(img_read_one(dfd, IMG_MM, v->pid, &m) == 0);
	mm = (MmEntry *)m;
	for (i = 0; i < mm->n_vmas; i++) {
		VmaEntry *vm = mm->vmas[i];

		CHECK(!i || vm->start >= mm->vmas[i - 1]->end);
		/* anonymous neighbours may have merged with the region */
		if (vm->start <= v->info.region && v->info.region < vm->end) {
			seen_region = vm->kind == VMA_KIND__VMA_ANON_PRIVATE;
			CHECK(vm->end >= v->info.region + REGION_PAGES * PG);
		}
		if (vm->start == v->info.fmap) {
			CHECK(vm->kind == VMA_KIND__VMA_FILE_PRIVATE && vm->has_file_id);
			fid = vm->file_id;
		}
		seen_vdso |= vm->kind == VMA_KIND__VMA_VDSO;
		seen_stack |= vm->has_stack && vm->stack && vm->kind == VMA_KIND__VMA_ANON_PRIVATE;
	}
	CHECK(seen_region && seen_vdso && seen_stack && fid);
	CHECK(mm->has_exe_file_id && mm->n_auxv >= 2);
	img_free_entry(m);

	img = img_open(dfd, IMG_FDS, v->pid);
	CHECK(img);
	while ((r = img_read_entry(img, &e)) == 1) {
		FdEntry *f = (FdEntry *)e;

		if (f->fd == 3 && f->kind == FD_KIND__FD_REG)
			file_fd_id = f->id;
		if (f->fd <= 2 && f->kind != FD_KIND__FD_CHR)
			r = -1;
		img_free_entry(e);
		if (r < 0)
			break;
	}
	img_close(img);
	CHECK(r == 0 && file_fd_id);

	img = img_open(dfd, IMG_REG_FILES, 0);
	CHECK(img);
	while ((r = img_read_entry(img, &e)) == 1) {
		RegFileEntry *f = (RegFileEntry *)e;

		if (f->id == file_fd_id)
			reg_ok = !strcmp(f->path, v->file) && f->pos == FILE_POS &&
				 (f->flags & O_APPEND) && (f->flags & O_ACCMODE) == O_RDWR;
		if (f->id == fid && strcmp(f->path, v->file))
			reg_ok = 0, r = -1;
		img_free_entry(e);
		if (r < 0)
			break;
	}
	img_close(img);
	CHECK(r == 0 && reg_ok);
	return 0;
}

static struct est_import imported = { .dirfd = -1 };

/*
 * The dump in v->dir (the established format) as our own images: imported
 * into a scratch dir, which stays until the next call. A dir fd, or -1.
 */
static int images_fd(const struct victim *v)
{
	int in, ret;

	if (imported.path[0])
		est_import_release(&imported);
	in = open(v->dir, O_RDONLY | O_DIRECTORY);
	if (in < 0)
		return -1;
	ret = est_import(in, &imported);
	close(in);
	return ret ? -1 : dup(imported.dirfd);
}

__attribute__((destructor)) static void drop_imported(void)
{
	if (imported.path[0])
		est_import_release(&imported);
}

static int check_images(const struct victim *v)
{
	int dfd = images_fd(v), ret;

	CHECK(dfd >= 0);
	ret = check_pages(v, dfd);
	if (!ret)
		ret = check_core(v, dfd);
	if (!ret)
		ret = check_mm_files(v, dfd);
	close(dfd);
	return ret;
}

/* ---- cases ---------------------------------------------------------------- */

static int body_leave_running(struct victim *v)
{
	CHECK(run_dump(v, NULL, "--leave-running") == 0);
	CHECK(dir_has(v, "inventory.img"));
	CHECK(dir_has(v, "pstree.img") && dir_has(v, "stats-dump"));
	CHECK(victim_free(v));
	if (check_images(v))
		return -1;
	CHECK(victim_verdict(v) == 0);
	return 0;
}

static const char *const faults[] = {
	"after-seize", "after-collect", "after-infect", "after-parasite", "mid-pages",
	"after-pages", "before-cure", "after-cure", "before-inventory",
};

static int body_faults(struct victim *v)
{
	char name[64];
	size_t i;

	for (i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		if (run_dump(v, faults[i], "--leave-running") == 0) {
			snprintf(unit_why, sizeof(unit_why), "fault %s: dump succeeded", faults[i]);
			return -1;
		}
		snprintf(name, sizeof(name), "core-%d.img", v->pid);
		if (dir_has(v, "inventory.img") || dir_has(v, name) ||
		    !log_has(v, faults[i]) || !victim_free(v)) {
			snprintf(unit_why, sizeof(unit_why), "fault %s: images left, no log "
				 "line or victim still held", faults[i]);
			return -1;
		}
	}
	/* And a good dump still works after all that. */
	CHECK(run_dump(v, NULL, "--leave-running") == 0);
	CHECK(dir_has(v, "inventory.img"));
	CHECK(victim_verdict(v) == 0);
	return 0;
}

/*
 * Over a complete dump: a dump that fails, early or late, leaves it whole
 * (ours are written to a scratch dir, which goes), so it still restores.
 */
static int body_over_old(struct victim *v)
{
	int dfd;

	CHECK(run_dump(v, NULL, "--leave-running") == 0);
	CHECK(dir_has(v, "inventory.img"));
	CHECK(run_dump(v, "after-parasite", "--leave-running") != 0);
	CHECK(dir_has(v, "inventory.img"));
	CHECK(run_dump(v, "mid-pages", "--leave-running") != 0);
	CHECK(run_dump(v, "before-inventory", "--leave-running") != 0);
	CHECK(dir_has(v, "inventory.img") && !scratch_left(v));
	dfd = images_fd(v);
	CHECK(dfd >= 0);
	close(dfd);
	CHECK(victim_free(v));
	CHECK(victim_verdict(v) == 0);
	return 0;
}

static int body_pipe(struct victim *v)
{
	CHECK(run_dump(v, NULL, "--leave-running") != 0);
	CHECK(log_has(v, "packet-mode (O_DIRECT) pipe: not supported yet"));
	CHECK(!dir_has(v, "inventory.img"));
	CHECK(victim_free(v));
	CHECK(victim_verdict(v) == 0);
	return 0;
}

static int body_inotify(struct victim *v)
{
	CHECK(run_dump(v, NULL, "--leave-running") != 0);
	CHECK(log_has(v, "inotify with "));
	CHECK(log_has(v, "bytes of unread events: not supported yet"));
	CHECK(!dir_has(v, "inventory.img"));
	CHECK(victim_free(v));
	CHECK(victim_verdict(v) == 0);
	return 0;
}

static int body_pty_data(struct victim *v)
{
	CHECK(run_dump(v, NULL, "--leave-running") != 0);
	CHECK(log_has(v, "a pty holding data is not supported yet"));
	CHECK(!dir_has(v, "inventory.img"));
	CHECK(victim_free(v));
	CHECK(victim_verdict(v) == 0);
	return 0;
}

/* Its own pty as controlling terminal: refused with --shell-job, dumped without. */
static int body_pty_ctty(struct victim *v)
{
	ProtobufCMessage **e = NULL;
	size_t nr = 0;
	int dfd, ok;

	CHECK(run_dump2(v, NULL, "--leave-running", "--shell-job") != 0);
	CHECK(log_has(v, "--shell-job (which keeps criu's terminal) is not supported with it"));
	CHECK(victim_free(v));
	CHECK(run_dump(v, NULL, "--leave-running") == 0);
	dfd = images_fd(v);
	CHECK(dfd >= 0);
	ok = !img_read_all(dfd, IMG_PTYS, 0, 0, NULL, NULL, &e, &nr) && nr == 1 &&
	     ((PtyEntry *)e[0])->sid == (uint32_t)v->pid &&
	     ((PtyEntry *)e[0])->fg_pgrp == (uint32_t)v->pid;
	img_free_all(e, nr);
	close(dfd);
	CHECK(ok);
	CHECK(victim_verdict(v) == 0);
	return 0;
}

static int refused_shm(struct victim *v, const char *what)
{
	CHECK(run_dump(v, NULL, "--leave-running") != 0);
	CHECK(log_has(v, what));
	CHECK(log_has(v, "is not supported yet"));
	CHECK(!dir_has(v, "inventory.img") && !dir_has(v, "shmem.img"));
	CHECK(victim_verdict(v) == 0);
	return 0;
}

static int body_sysv(struct victim *v) { return refused_shm(v, "SysV shared memory segment /SYSV"); }
static int body_sealed(struct victim *v) { return refused_shm(v, "sealed against future writes"); }

/* Every thread's entry is in core-PID.img, leader first, in pstree.img's order. */
static int check_thread_images(const struct victim *v)
{
	ProtobufCMessage *m;
	struct cr_img *img;
	PstreeEntry *ps;
	int dfd, r, n = 0, i, named = 0;

	dfd = images_fd(v);
	CHECK(dfd >= 0);
	img = img_open(dfd, IMG_PSTREE, 0);
	CHECK(img && img_read_entry(img, &m) == 1);
	img_close(img);
	ps = (PstreeEntry *)m;
	CHECK(ps->n_threads == VICTIM_THREADS + 1 && ps->threads[0] == (uint32_t)v->pid);
	img = img_open(dfd, IMG_CORE, v->pid);
	close(dfd);
	CHECK(img && img_read_entry(img, &m) == 1);
	img_free_entry(m);
	while ((r = img_read_entry(img, &m)) == 1) {
		ThreadCoreEntry *th = (ThreadCoreEntry *)m;

		CHECK(n < (int)ps->n_threads && th->tid == ps->threads[n]);
		CHECK(th->altstack && th->has_clear_tid_addr && th->xsave.len >= 576);
		for (i = 0; n && i < VICTIM_THREADS; i++)
			if (th->comm && !strncmp(th->comm, "vt-", 3) &&
			    atoi(th->comm + 3) == i && th->n_pending == 1 &&
			    (th->blocked & (1ull << (SIGRTMIN + i - 1))))
				named++;
		img_free_entry(m);
		n++;
	}
	img_close(img);
	img_free_entry(&ps->base);
	CHECK(r == 0 && n == VICTIM_THREADS + 1);
	CHECK(named == VICTIM_THREADS);
	return 0;
}

/*
 * A failed dump at every fault point leaves every thread as it was (not
 * traced, not stopped, its own state intact); a good one has them all.
 */
static int body_thread(struct victim *v)
{
	size_t i;

	for (i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		if (run_dump(v, faults[i], "--leave-running") == 0 || dir_has(v, "inventory.img") ||
		    !victim_free(v)) {
			snprintf(unit_why, sizeof(unit_why), "fault %s: dump succeeded, images left "
				 "or a thread still held", faults[i]);
			return -1;
		}
	}
	CHECK(run_dump(v, NULL, "--leave-running") == 0);
	CHECK(dir_has(v, "inventory.img"));
	CHECK(victim_free(v));
	if (check_thread_images(v))
		return -1;
	CHECK(victim_verdict(v) == 0);
	return 0;
}

static int body_thread_creds(struct victim *v)
{
	CHECK(run_dump(v, NULL, "--leave-running") != 0);
	CHECK(log_has(v, "other credentials than its leader"));
	CHECK(log_has(v, "not supported yet"));
	CHECK(!dir_has(v, "inventory.img"));
	CHECK(victim_free(v));
	CHECK(victim_verdict(v) == 0);
	return 0;
}

static int body_child(struct victim *v)
{
	CHECK(run_dump(v, NULL, "--leave-running") == 0);
	CHECK(log_has(v, "2 processes"));
	CHECK(dir_has(v, "inventory.img"));
	CHECK(victim_free(v));
	CHECK(victim_verdict(v) == 0);
	return 0;
}

/*
 * A dump of the victim's tree is refused with @msg and nothing is left
 * behind: the victim (and its descendants, adopted and reaped here once it
 * ends) ran on unharmed.
 */
static int tree_refused(struct victim *v, const char *msg)
{
	int dumped, logged, inv, free_, verdict;

	CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
	dumped = run_dump(v, NULL, "--leave-running");
	logged = log_has(v, msg);
	inv = dir_has(v, "inventory.img");
	free_ = victim_free(v);
	verdict = victim_verdict(v);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	CHECK(dumped != 0);
	CHECK(logged);
	CHECK(!inv);
	CHECK(free_);
	CHECK(verdict == 0);
	return 0;
}

/* A vfork parent in the tree is refused by name. */
static int body_vfork(struct victim *v)
{
	return tree_refused(v, "is a vfork parent waiting for its child");
}

/* An epoll set two processes hold: each would register its targets again. */
static int body_siblings(struct victim *v)
{
	return tree_refused(v, "epoll sets shared by processes are not supported yet");
}

static int body_shell(struct victim *v)
{
	ProtobufCMessage *m, *e;
	struct cr_img *img;
	uint32_t tty_id = 0;
	int dfd, r, ok = 0;

	CHECK(run_dump(v, NULL, "--leave-running") != 0);
	CHECK(log_has(v, "needs --shell-job"));
	CHECK(victim_free(v));
	CHECK(run_dump2(v, NULL, "--leave-running", "--shell-job") == 0);
	dfd = images_fd(v);
	CHECK(dfd >= 0);
	img = img_open(dfd, IMG_FDS, v->pid);
	while (img && (r = img_read_entry(img, &e)) == 1) {
		FdEntry *f = (FdEntry *)e;

		if (f->kind == FD_KIND__FD_PTY)
			tty_id = f->id;
		img_free_entry(e);
	}
	if (img)
		img_close(img);
	/* the pty's master is the test's: an external slave, criu's terminal on restore */
	img = img_open(dfd, IMG_PTY_FILES, 0);
	while (img && (r = img_read_entry(img, &e)) == 1) {
		PtyFileEntry *f = (PtyFileEntry *)e;
		char path[64];

		snprintf(path, sizeof(path), "/dev/pts/%u", f->index);
		if (f->id == tty_id && !strcmp(path, pts_path) && f->external && !f->master)
			ok = 1;
		img_free_entry(e);
	}
	if (img)
		img_close(img);
	r = img_read_one(dfd, IMG_PSTREE, 0, &m);
	close(dfd);
	CHECK(tty_id && ok);
	CHECK(r == 0);
	r = ((PstreeEntry *)m)->sid == (uint32_t)getsid(0) &&
	    ((PstreeEntry *)m)->pgid == (uint32_t)v->pid;
	img_free_entry(m);
	CHECK(r);
	CHECK(victim_verdict(v) == 0);
	return 0;
}

/* The image holds the task's rseq_cs, not the 0 compel keeps there meanwhile. */
static int body_rseq(struct victim *v)
{
	struct run *runs = calloc(4096, sizeof(*runs));
	uint64_t word = 0, now = 0;
	char name[64], mem[64];
	int64_t off;
	int dfd, fd, nr = 0, r;

	CHECK(runs);
	r = run_dump(v, NULL, "--leave-running");
	dfd = images_fd(v);
	if (!r && dfd >= 0)
		r = read_pagemap(v, dfd, runs, 4096, &nr);
	off = r ? -1 : page_off(runs, nr, v->info.rseq_cs_word);
	free(runs);
	snprintf(name, sizeof(name), "pages-%d.img", v->pid);
	fd = dfd >= 0 ? openat(dfd, name, O_RDONLY) : -1;
	if (fd >= 0 && off >= 0 && pread(fd, &word, 8, off) != 8)
		word = 0;
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	/* and the live task has it back too */
	snprintf(mem, sizeof(mem), "/proc/%d/mem", v->pid);
	fd = open(mem, O_RDONLY);
	if (fd >= 0 && pread(fd, &now, 8, v->info.rseq_cs_word) != 8)
		now = 0;
	if (fd >= 0)
		close(fd);
	CHECK(r == 0 && off >= 0);
	CHECK(word == v->info.rseq_cs);
	CHECK(now == v->info.rseq_cs);
	CHECK(victim_free(v));
	return 0;
}

static int body_kill(struct victim *v)
{
	int st;

	CHECK(run_dump(v, NULL, "--display-stats") == 0);
	CHECK(dir_has(v, "inventory.img"));
	CHECK(waitpid(v->pid, &st, 0) == v->pid);
	v->pid = 0;
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	return 0;
}

static int body_leave_stopped(struct victim *v)
{
	int st;

	CHECK(run_dump(v, NULL, "--leave-stopped") == 0);
	CHECK(dir_has(v, "inventory.img"));
	CHECK(waitpid(v->pid, &st, WUNTRACED) == v->pid);
	CHECK(WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP);
	CHECK(kill(v->pid, SIGCONT) == 0);
	CHECK(victim_verdict(v) == 0);
	return 0;
}

static int with_victim(int kind, int (*body)(struct victim *))
{
	struct victim v;
	int ret;

	if (victim_start(&v, kind)) {
		victim_end(&v);
		snprintf(unit_why, sizeof(unit_why), "victim did not start");
		return -1;
	}
	ret = body(&v);
	victim_end(&v);
	return ret;
}

static int test_leave_running(void) { return with_victim(V_PLAIN, body_leave_running); }
/* The same images from the /proc/PID/pagemap fallback. */
static int test_no_pagemap_scan(void)
{
	int ret;

	setenv("CRIU_DUMP_NO_PAGEMAP_SCAN", "1", 1);
	ret = with_victim(V_PLAIN, body_leave_running);
	unsetenv("CRIU_DUMP_NO_PAGEMAP_SCAN");
	return ret;
}

static int test_faults(void) { return with_victim(V_PLAIN, body_faults); }
static int test_over_old(void) { return with_victim(V_PLAIN, body_over_old); }
static int test_pipe(void) { return with_victim(V_PIPE, body_pipe); }
static int test_sysv(void) { return with_victim(V_SYSV, body_sysv); }
static int test_sealed(void) { return with_victim(V_SEALED, body_sealed); }
static int test_inotify(void) { return with_victim(V_INOTIFY, body_inotify); }
static int test_thread(void) { return with_victim(V_THREAD, body_thread); }
static int test_child(void) { return with_victim(V_CHILD, body_child); }
static int test_thread_creds(void) { return with_victim(V_THREAD_CREDS, body_thread_creds); }
static int test_vfork(void) { return with_victim(V_VFORK, body_vfork); }
static int test_siblings(void) { return with_victim(V_SIBLINGS, body_siblings); }

/*
 * A slave whose master is outside, in a victim leading its session: refused
 * when the images are written, and what was written is removed.
 */
static int body_pty_outside(struct victim *v)
{
	CHECK(run_dump(v, NULL, "--leave-running") != 0);
	CHECK(log_has(v, "its master is not in the dump: the terminal of a shell job, "
		      "needs --shell-job"));
	CHECK(!dir_has(v, "inventory.img") && !dir_has(v, "reg-files.img") &&
	      !dir_has(v, "pty-files.img"));
	CHECK(victim_free(v));
	CHECK(victim_verdict(v) == 0);
	return 0;
}

static int with_test_pty(int kind, int (*body)(struct victim *))
{
	int master = posix_openpt(O_RDWR | O_NOCTTY), ret;

	if (master < 0 || grantpt(master) || unlockpt(master) ||
	    ptsname_r(master, pts_path, sizeof(pts_path))) {
		if (master >= 0)
			close(master);
		snprintf(unit_why, sizeof(unit_why), "no pty: %s", strerror(errno));
		return -1;
	}
	ret = with_victim(kind, body);
	close(master);
	return ret;
}

static int test_shell(void) { return with_test_pty(V_SHELL, body_shell); }
static int test_pty_outside(void) { return with_test_pty(V_PTY_OUTSIDE, body_pty_outside); }

static int test_rseq(void) { return with_victim(V_RSEQ, body_rseq); }
static int test_pty_data(void) { return with_victim(V_PTY_DATA, body_pty_data); }
static int test_pty_ctty(void) { return with_victim(V_PTY_CTTY, body_pty_ctty); }
static int test_kill(void) { return with_victim(V_PLAIN, body_kill); }
static int test_leave_stopped(void) { return with_victim(V_PLAIN, body_leave_stopped); }

/*
 * The kernel's ring for io_setup(@nr) on a host with @cpus CPUs (fs/aio.c:
 * raised to 4 per CPU, doubled, 2 more, header and events over whole pages).
 */
static uint64_t kernel_ring_len(uint32_t nr, uint32_t cpus)
{
	uint64_t events = (uint64_t)(nr > 4 * cpus ? nr : 4 * cpus) * 2 + 2;
	uint64_t bytes = sizeof(struct aio_ring_hdr) + events * AIO_EVENT_SIZE;

	return (bytes + AIO_RING_PAGE - 1) / AIO_RING_PAGE * AIO_RING_PAGE;
}

static int test_aio_ring(void)
{
	struct aio_ring_hdr h = { 0, 127, 5, 9, AIO_RING_MAGIC, 1, 0, 32 };
	uint64_t len;

	for (len = AIO_RING_PAGE; len <= 256 * AIO_RING_PAGE; len += AIO_RING_PAGE)
		CHECK(kernel_ring_len(aio_ring_nr_req(len), 8) == len);
	CHECK(aio_ring_events(AIO_RING_PAGE) == 127 && aio_ring_sane(&h, AIO_RING_PAGE));
	CHECK(!aio_ring_sane(&h, 2 * AIO_RING_PAGE));	/* nr of another size */
	CHECK(!aio_ring_sane(&h, 100) && !aio_ring_sane(&h, 0));
	h.tail = 127;
	CHECK(!aio_ring_sane(&h, AIO_RING_PAGE));		/* tail past the ring */
	h.tail = 9;
	h.magic = 0;
	CHECK(!aio_ring_sane(&h, AIO_RING_PAGE));
	return 0;
}

static const struct unit_case cases[] = {
	{ "--leave-running: images hold the victim's pages, registers, signals, files",
	  test_leave_running },
	{ "without PAGEMAP_SCAN, /proc/PID/pagemap gives the same pages", test_no_pagemap_scan },
	{ "AIO rings: the io_setup argument for a size, the header checks", test_aio_ring },
	{ "every fault point leaves the victim running and no inventory", test_faults },
	{ "a failed dump over an earlier one: intact before pages, no inventory after",
	  test_over_old },
	{ "a packet-mode pipe is refused and the victim survives", test_pipe },
	{ "inotify with an unread event is refused and the victim survives", test_inotify },
	{ "a pty with a line queued is refused and the victim survives", test_pty_data },
	{ "a pty as controlling terminal: refused with --shell-job, its session dumped", test_pty_ctty },
	{ "an outside pty slave is refused at write time and the written images removed",
	  test_pty_outside },
	{ "a SysV shared memory segment is refused", test_sysv },
	{ "a writable memfd mapping sealed against future writes is refused", test_sealed },
	{ "threads: failed dumps leave all unharmed; a good one has every thread", test_thread },
	{ "a thread with its own credentials is refused, all threads unharmed", test_thread_creds },
	{ "a child is dumped with its parent, both run on", test_child },
	{ "a vfork parent in the tree is refused, the tree runs on", test_vfork },
	{ "an epoll set shared by two processes is refused, the tree runs on", test_siblings },
	{ "a job of another session needs --shell-job; its pty is an external FD_PTY slave", test_shell },
	{ "rseq_cs armed in the task is in the image, not compel's 0", test_rseq },
	{ "a plain dump kills the victim", test_kill },
	{ "--leave-stopped leaves it stopped", test_leave_stopped },
};

UNIT_MAIN(cases)
