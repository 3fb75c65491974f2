/*
 * A victim: every thread loads known patterns into its registers, marks
 * memory, sets a signal mask with a pending signal, then blocks in a
 * syscall.  After compel has come and gone, each thread checks for
 * itself that nothing changed and that the syscall ended as it should.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <stddef.h>
#include "victim.h"

struct vregs {
	uint64_t	gpr[16];
	uint8_t		vec[32][64];
	uint64_t	k[8];
	uint32_t	mxcsr;
	uint32_t	mode;
};
_Static_assert(offsetof(struct vregs, k) == 2176, "layout");
_Static_assert(offsetof(struct vregs, mxcsr) == 2240, "layout");

long vsyscall_patterns(struct vregs *in, struct vregs *out, long nr, long a0,
		       long a1, long a2, long a3);

void vrseq_abort(void);

/* A critical section over most of the mmap area, where parasites land. */
static struct {
	uint32_t version, flags;
	uint64_t start_ip, post_commit_offset, abort_ip;
} __attribute__((aligned(32))) hostile_cs;

static struct vshared *vs;
static const struct vconf *conf;
static int vec_mode;
static int fds_before;

void vfill(void *buf, size_t len, uint32_t seed)
{
	uint8_t *p = buf;
	uint32_t x = seed | 1;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

static uint64_t checksum(const uint8_t *p, size_t len)
{
	uint64_t h = 1469598103934665603ULL;

	while (len--)
		h = (h ^ *p++) * 1099511628211ULL;
	return h;
}

static void fail(int idx, const char *fmt, ...)
{
	struct vthread *t = &vs->t[idx];
	va_list ap;

	if (t->status == 1)
		return;		/* keep the first reason */
	t->status = 1;
	va_start(ap, fmt);
	vsnprintf(t->why, sizeof(t->why), fmt, ap);
	va_end(ap);
}

static void make_patterns(struct vregs *r, int idx)
{
	int i, j;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < 8; i++)
		r->gpr[i] = 0x0101010101010101ULL * (i + 1) ^ ((uint64_t)idx << 40);
	for (i = 0; i < 32; i++)
		for (j = 0; j < 64; j++)
			r->vec[i][j] = (uint8_t)(idx * 131 + i * 7 + j * 13 + 0x5a);
	for (i = 0; i < 8; i++)
		r->k[i] = 0x0123456789abcdefULL ^ ((uint64_t)i << 56) ^ idx;
	r->mxcsr = 0xdfc0;	/* FTZ, DAZ, round up, exceptions masked */
	r->mode = vec_mode;
}

static void compare_regs(int idx, const struct vregs *in, const struct vregs *out,
			 const long *a)
{
	static const char *names[] = { "rbx", "rbp", "r8", "r9", "r12", "r13", "r14", "r15" };
	int i, nvec = vec_mode == 2 ? 32 : 16, vlen = vec_mode == 2 ? 64 : vec_mode ? 32 : 16;

	for (i = 0; i < 8; i++)
		if (in->gpr[i] != out->gpr[i])
			fail(idx, "%s changed: %#lx -> %#lx", names[i],
			     (long)in->gpr[i], (long)out->gpr[i]);
	for (i = 0; i < 4; i++)
		if ((long)out->gpr[8 + i] != a[i])
			fail(idx, "syscall argument register %d changed", i);
	for (i = 0; i < nvec; i++)
		if (memcmp(in->vec[i], out->vec[i], vlen))
			fail(idx, "vector register %d changed", i);
	if (vec_mode == 2)
		for (i = 0; i < 8; i++)
			if (in->k[i] != out->k[i])
				fail(idx, "k%d changed", i);
	if (in->mxcsr != out->mxcsr)
		fail(idx, "mxcsr changed: %#x -> %#x", in->mxcsr, out->mxcsr);
}

static int rseq_registered(void)
{
	void *area = (char *)__builtin_thread_pointer() + __rseq_offset;

	if (!__rseq_size)
		return 1;	/* glibc did not register: nothing to check */
	/* Same area/len/sig again: EBUSY means still registered as before. */
	return syscall(__NR_rseq, area, 32, 0, RSEQ_SIG) == -1 && errno == EBUSY;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

static void on_usr1(int sig)
{
	(void)sig;
	__atomic_add_fetch(&vs->usr1_count, 1, __ATOMIC_SEQ_CST);
}

static void check_signals(int idx, const sigset_t *want_mask)
{
	sigset_t m, p;

	pthread_sigmask(SIG_BLOCK, NULL, &m);
	if (memcmp(&m, want_mask, 8))
		fail(idx, "signal mask changed: %#lx -> %#lx",
		     *(long *)want_mask, *(long *)&m);
	sigpending(&p);
	if (!sigismember(&p, SIGUSR2) || !sigismember(&p, SIGRTMIN + 2))
		fail(idx, "pending SIGUSR2/SIGRTMIN+2 lost");
}

/*
 * Arm rseq_cs so that anything run in [0x700000000000, 0x7ff000000000)
 * (libraries, anonymous mmaps: where compel puts a parasite) would be
 * "aborted" to vrseq_abort, which traps.  Our own code (PIE, 0x55...)
 * and the stack/vDSO stay outside.  Only main-binary code runs between
 * here and the blocking syscall, and until the armed field is cleared.
 */
static void arm_hostile_rseq(void)
{
	char *area = (char *)__builtin_thread_pointer() + __rseq_offset;

	hostile_cs.start_ip = 0x700000000000UL;
	hostile_cs.post_commit_offset = 0x7ff000000000UL - 0x700000000000UL;
	hostile_cs.abort_ip = (uint64_t)vrseq_abort;
	vs->rseq_cs_addr = (unsigned long)(area + 8);
	*(volatile uint64_t *)(area + 8) = (uint64_t)&hostile_cs;
}

/* The blocking syscall of thread idx, with its expected outcome. */
static void block_and_check(int idx, enum vkind kind)
{
	struct timespec req = { conf->sleep_ms / 1000, (conf->sleep_ms % 1000) * 1000000 };
	struct vregs in, out;
	long a[4] = { 0 }, nr, ret, t0;
	char c = 0;

	make_patterns(&in, idx);
	out.mode = vec_mode;
	if (kind == VK_READ) {
		nr = SYS_read; a[0] = vs->read_rd; a[1] = (long)&c; a[2] = 1;
	} else if (kind == VK_NANOSLEEP) {
		nr = SYS_nanosleep; a[0] = (long)&req;
	} else {
		nr = SYS_futex; a[0] = (long)&vs->futex; a[1] = FUTEX_WAIT;
	}
	t0 = now_ms();
	if (write(vs->ready_wr, "r", 1) != 1)
		fail(idx, "ready pipe");
	if (idx == 0 && conf->hostile_rseq)
		arm_hostile_rseq();
	ret = vsyscall_patterns(&in, &out, nr, a[0], a[1], a[2], a[3]);
	if (idx == 0 && conf->hostile_rseq)
		*(volatile uint64_t *)vs->rseq_cs_addr = 0;	/* before any libc code */
	compare_regs(idx, &in, &out, a);
	/* The driver may die before it sends SIGUSR1 (kill sweeps). */
	if (kind == VK_READ && conf->eintr && vs->usr1_count) {
		if (ret != -EINTR || vs->usr1_count != 1)
			fail(idx, "read: want EINTR after 1 SIGUSR1, got %ld, %d signals",
			     ret, vs->usr1_count);
	} else if (kind == VK_READ && (ret != 1 || c != 'x')) {
		fail(idx, "read returned %ld '%c'", ret, c);
	} else if (kind == VK_NANOSLEEP && (ret != 0 || now_ms() - t0 < conf->sleep_ms)) {
		fail(idx, "nanosleep returned %ld after %ld ms of %ld", ret,
		     now_ms() - t0, conf->sleep_ms);
	} else if (kind == VK_FUTEX && ((ret != 0 && ret != -EAGAIN) || !vs->futex)) {
		/*
		 * EAGAIN with the word set is a wait restarted (after a cure)
		 * once the waker had already set it: what the call gives any
		 * program that enters it late, not a lost wake-up.
		 */
		fail(idx, "futex wait returned %ld, word %d", ret, vs->futex);
	}
}

static void thread_body(int idx, enum vkind kind)
{
	uint8_t *buf = malloc(conf->buf_size);
	sigset_t mask;
	uint64_t sum;

	vs->t[idx].tid = gettid();
	vs->t[idx].tls = (unsigned long)pthread_self();
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR2);
	sigaddset(&mask, SIGRTMIN + 2);
	pthread_sigmask(SIG_SETMASK, &mask, NULL);
	syscall(SYS_tgkill, getpid(), gettid(), SIGUSR2);
	syscall(SYS_tgkill, getpid(), gettid(), SIGRTMIN + 2);
	vfill(buf, conf->buf_size, 0x1234 + idx);
	sum = checksum(buf, conf->buf_size);
	if (idx == 0) {
		vs->buf_addr = (unsigned long)buf;
		vs->buf_len = conf->buf_size;
		vs->buf_seed = 0x1234;
		fds_before = count_fds();
	}
	block_and_check(idx, kind);
	if (checksum(buf, conf->buf_size) != sum)
		fail(idx, "memory checksum changed");
	check_signals(idx, &mask);
	if (!conf->quiet && !rseq_registered())
		fail(idx, "rseq registration changed");
	if (vs->t[idx].status != 1)
		vs->t[idx].status = 0;
	free(buf);
}

/*
 * Checked once every thread is back from its syscall: the last one home
 * closes the parasite's fds; under seccomp too, a caller dying after
 * making the daemon's socket leaves it to the trampoline's undo.
 */
static void check_fd_count(void)
{
	int now = count_fds();

	if (now != fds_before)
		fail(0, "fd count changed: %d -> %d", fds_before, now);
}

static void install_seccomp(long nr, int kill);

static void *thread_fn(void *arg)
{
	int idx = (int)(long)arg;

	if (conf->seccomp == 3 && idx == 1)	/* one of the daemon's calls */
		install_seccomp(SYS_sendto, 1);
	thread_body(idx, idx % 2 ? VK_NANOSLEEP : VK_FUTEX);
	return NULL;
}

/*
 * A filter on @nr: an errno (harmless), a kill (refused).  Without TSYNC:
 * the calling thread's (and those it starts) alone.
 */
static void install_seccomp(long nr, int kill)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, kill ? SECCOMP_RET_KILL_PROCESS :
				       SECCOMP_RET_ERRNO | EACCES),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		_exit(3);
}

void victim_main(struct vshared *shared, const struct vconf *c)
{
	pthread_t th[VMAX_THREADS];
	struct sigaction sa = { .sa_handler = on_usr1 };	/* no SA_RESTART */
	int i, bad = 0;

	vs = shared;
	conf = c;
	vec_mode = __builtin_cpu_supports("avx512f") ? 2 :
		   __builtin_cpu_supports("avx") ? 1 : 0;
	for (i = 0; i < c->nthreads; i++)
		vs->t[i].status = -1;
	if (c->eintr)
		sigaction(SIGUSR1, &sa, NULL);
	signal(SIGINT, SIG_IGN);	/* a victim that ignores signals */
	if (c->seccomp)
		install_seccomp(SYS_socket, c->seccomp == 2);
	for (i = 1; i < c->nthreads; i++)
		if (pthread_create(&th[i], NULL, thread_fn, (void *)(long)i))
			_exit(4);
	thread_body(0, c->main_kind);
	for (i = 1; i < c->nthreads; i++)
		pthread_join(th[i], NULL);
	check_fd_count();
	for (i = 0; i < c->nthreads; i++)
		bad |= vs->t[i].status != 0;
	_exit(bad ? 1 : 0);
}
