/*
 * x86_64 side of restoring a thread (criu/include/arch.h): the checks of
 * its registers and xsave image, against this CPU and against what this
 * kernel's signal frames carry, the syscall restart rules, and the
 * registers and xsave image handed to the restorer.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <ucontext.h>
#include <sys/syscall.h>

#define LOG_PREFIX "restore: "
#include "log.h"
#include "arch.h"
#include "kerndat.h"
#include "restore-task.h"
#include "sigframe-abi.h"

#define USER_CS		0x33	/* 64-bit user code and data selectors */
#define USER_SS		0x2b

int arch_rst_check_regs(const struct rst_image *ri, const ThreadCoreEntry *t)
{
	const UserRegsX86Entry *rg = t->regs;

	/* Only user code and data selectors; anything else would not sigreturn. */
	if (rg->cs != USER_CS || rg->ss != USER_SS) {
		pr_err("core-%d.img: thread %u: unexpected segment selectors cs %#llx ss %#llx", ri->pid,
		       t->tid, (unsigned long long)rg->cs, (unsigned long long)rg->ss);
		return -1;
	}
	if (rg->ip >= RST_TASK_SIZE || rg->fs_base >= RST_TASK_SIZE || rg->gs_base >= RST_TASK_SIZE) {
		pr_err("core-%d.img: thread %u: ip/fs_base/gs_base outside user space", ri->pid, t->tid);
		return -1;
	}
	if (t->xsave.len < XSAVE_MIN_SIZE || t->xsave.len > RST_MAX_FPU ||
	    t->xsave.len % XSAVE_ALIGN) {
		pr_err("core-%d.img: thread %u: xsave area of %zu bytes is not plausible", ri->pid,
		       t->tid, t->xsave.len);
		return -1;
	}
	return 0;
}

/* One xsave image: this CPU's size, enabled components, standard header. */
int arch_fpu_check(const ProtobufCBinaryData *fpu, const struct arch_fpu_host *host,
		   uint64_t *used, const char *who)
{
	const uint8_t *x = fpu->data;
	uint64_t bv, comp;
	uint32_t mxcsr;
	size_t i;

	if (fpu->len != host->size || fpu->len < XSAVE_MIN_SIZE) {
		pr_err("%s: xsave area is %zu bytes, this CPU's is %u: extended state layouts differ",
		       who, fpu->len, host->size);
		return -1;
	}
	memcpy(&mxcsr, x + XSAVE_MXCSR_OFF, 4);
	memcpy(&bv, x + XSAVE_HDR_OFF, 8);
	memcpy(&comp, x + XSAVE_HDR_OFF + 8, 8);
	if (mxcsr & 0xffff0000u) {
		pr_err("%s: xsave: reserved MXCSR bits set (%#x)", who, mxcsr);
		return -1;
	}
	if (bv & ~host->features) {
		pr_err("%s: xsave: state components %#llx are not enabled on this CPU (%#llx)", who,
		       (unsigned long long)bv, (unsigned long long)host->features);
		return -1;
	}
	for (i = XSAVE_HDR_OFF + 16; i < XSAVE_MIN_SIZE; i++)
		if (x[i])
			comp = 1;
	if (comp) {
		pr_err("%s: xsave header is compacted or has reserved bytes set", who);
		return -1;
	}
	*used |= bv;
	return 0;
}

static volatile uint32_t probe_magic, probe_size;
static volatile uint64_t probe_features;

static void probe_handler(int sig, siginfo_t *si, void *ctx)
{
	const ucontext_t *uc = ctx;
	const uint8_t *fp = (const uint8_t *)uc->uc_mcontext.fpregs;
	struct k_fpx_sw_bytes sw;

	(void)sig;
	(void)si;
	if (!fp)
		return;
	memcpy(&sw, fp + XSAVE_SW_OFF, sizeof(sw));
	probe_magic = sw.magic1;
	probe_features = sw.xfeatures;
	probe_size = sw.xstate_size;
}

/*
 * The xsave size and features the kernel uses in our signal frames: what
 * rt_sigreturn accepts back. It can be smaller than the CPU's full area
 * (AMX tile data is only included once a task asked for permission).
 */
static int probe_sigframe_xstate(struct rst_image *ri)
{
	struct sigaction sa, old;
	sigset_t m, oldm;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = probe_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	if (sigaction(SIGUSR2, &sa, &old) || sigprocmask(SIG_UNBLOCK, &m, &oldm)) {
		pr_perror("sigaction for the xsave probe");
		return -1;
	}
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2);
	sigprocmask(SIG_SETMASK, &oldm, NULL);
	sigaction(SIGUSR2, &old, NULL);
	if (probe_magic != FP_XSTATE_MAGIC1 || probe_size < XSAVE_MIN_SIZE ||
	    probe_size > ri->thread->xsave.len) {
		pr_err("cannot learn the kernel's signal frame xsave layout (magic %#x, size %u)",
		       probe_magic, probe_size);
		return -1;
	}
	ri->sig_fpu_size = probe_size;
	ri->sig_fpu_features = probe_features;
	pr_info("signal frame xsave: %u bytes, features %#llx", probe_size,
		(unsigned long long)probe_features);
	return 0;
}

/*
 * Every thread's xsave image against this CPU and what this kernel's
 * signal frames carry (sets ri->sig_fpu_size and sig_fpu_features).
 */
int arch_rst_check_fpu(struct rst_image *ri)
{
	struct arch_fpu_host host;
	uint64_t bv = 0;
	char who[64];
	size_t i;

	kerndat_probe(KD_FPU);
	if (!kdat.has_fpu) {
		pr_err("this CPU has no xsave: cannot restore the extended register state");
		return -1;
	}
	host.size = kdat.arch.xsave_size;
	host.features = kdat.arch.xfeatures;
	for (i = 0; i < ri->nr_threads; i++) {
		snprintf(who, sizeof(who), "core-%d.img: thread %u", ri->pid, ri->threads[i]->tid);
		if (arch_fpu_check(&ri->threads[i]->xsave, &host, &bv, who))
			return -1;
	}
	/* AMX tile data is there only if the task had asked for it: ask too. */
	if ((bv & XFEATURE_MASK_XTILE_DATA) &&
	    syscall(SYS_arch_prctl, K_ARCH_REQ_XCOMP_PERM, XFEATURE_XTILE_DATA)) {
		pr_perror("the task used AMX tile data; permission for it");
		return -1;
	}
	if (probe_sigframe_xstate(ri))
		return -1;
	if (bv & ~ri->sig_fpu_features) {
		pr_err("core-%d.img: xsave: state components %#llx cannot go through a signal frame (%#llx)",
		       ri->pid, (unsigned long long)bv, (unsigned long long)ri->sig_fpu_features);
		return -1;
	}
	return 0;
}

size_t arch_rst_fpu_len(const ThreadCoreEntry *t)
{
	return t->xsave.len;
}

/*
 * The kernel finishes these calls through the thread's restart block, which
 * does not survive a checkpoint. A relative sleep is the common case, and
 * when the caller passed a buffer for the time left the kernel has already
 * written it there before stopping: issue the call again with that buffer
 * as the request, so the task sleeps what it had left. poll() always
 * stops this way; one without a timeout (negative) is simply issued again
 * with its arguments, still in their registers. Anything else returns
 * EINTR, as if a handled signal had arrived.
 */
static void restart_block(struct rst_regs *r, int64_t orig_ax)
{
	if (orig_ax == SYS_poll && (int32_t)r->dx < 0) {	/* (fds, nfds, timeout) */
		/* nothing to change: wait again, for ever */
	} else if (orig_ax == SYS_nanosleep && r->si) {		/* (req, rem) */
		r->di = r->si;
	} else if (orig_ax == SYS_clock_nanosleep && !(r->si & TIMER_ABSTIME) && r->r10) {
		r->dx = r->r10;					/* (clock, flags, req, rem) */
	} else {
		r->ax = (uint64_t)-EINTR;
		return;
	}
	r->ax = (uint64_t)orig_ax;
	r->ip -= 2;
}

static void adjust_for_restart(struct rst_regs *r, int64_t orig_ax)
{
	int64_t ax = (int64_t)r->ax;

	if (orig_ax < 0)
		return;
	if (ax == -512 || ax == -513 || ax == -514) {	/* ERESTARTSYS/NOINTR/NOHAND */
		r->ax = (uint64_t)orig_ax;
		r->ip -= 2;
	} else if (ax == -516) {			/* ERESTART_RESTARTBLOCK */
		restart_block(r, orig_ax);
	}
}

/* The dumped registers, as the restorer's final frame takes them. */
static void regs_from_image(const UserRegsX86Entry *g, struct rst_regs *r)
{
	*r = (struct rst_regs){
		.r15 = g->r15, .r14 = g->r14, .r13 = g->r13, .r12 = g->r12, .bp = g->bp,
		.bx = g->bx, .r11 = g->r11, .r10 = g->r10, .r9 = g->r9, .r8 = g->r8,
		.ax = g->ax, .cx = g->cx, .dx = g->dx, .si = g->si, .di = g->di, .ip = g->ip,
		.cs = g->cs, .flags = g->flags, .sp = g->sp, .ss = g->ss,
		.fs_base = g->fs_base, .gs_base = g->gs_base,
	};
	adjust_for_restart(r, (int64_t)g->orig_ax);
}

void arch_rst_fill_thread(const ThreadCoreEntry *t, struct rst_thread *d, uint64_t fpu_at)
{
	regs_from_image(t->regs, &d->regs);
	d->fpu = fpu_at;
	memcpy((void *)(unsigned long)fpu_at, t->xsave.data, t->xsave.len);
}

void arch_rst_fill_args(const struct rst_image *ri, struct restorer_args *a)
{
	a->fpu_size = ri->sig_fpu_size;
	a->fpu_features = ri->sig_fpu_features;
}
