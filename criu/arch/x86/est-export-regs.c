/*
 * x86 registers and xsave area of one thread into the established format's
 * thread_info_x86 (criu/include/est-regs.h).
 */
#include <cpuid.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <stdbool.h>
#include <stdint.h>

#define LOG_PREFIX "est-export: "
#include "est-export-int.h"
#include "est-regs.h"
#include "log.h"

#define XSAVE_LEGACY	576	/* legacy region + header */

/* ---- registers ---------------------------------------------------------------- */

/*
 * The format stores registers as the thread must resume (plan §3.4); ours
 * stores them as stopped, with orig_ax, and adjusts at restore. This is
 * that adjustment (restore-threads.c, adjust_for_restart), done here instead.
 */
static void adjust_for_restart(Est__UserX86RegsEntry *r, int64_t orig_ax)
{
	int64_t ax = (int64_t)r->ax;

	if (orig_ax < 0)
		return;
	if (ax == -512 || ax == -513 || ax == -514) {
		r->ax = (uint64_t)orig_ax;
		r->ip -= 2;
	} else if (ax == -516) {	/* ERESTART_RESTARTBLOCK: re-issue what can be */
		if (orig_ax == SYS_poll && (int32_t)r->dx < 0) {
		} else if (orig_ax == SYS_nanosleep && r->si) {
			r->di = r->si;
		} else if (orig_ax == SYS_clock_nanosleep && !(r->si & TIMER_ABSTIME) && r->r10) {
			r->dx = r->r10;
		} else {
			r->ax = (uint64_t)-4;	/* -EINTR */
			return;
		}
		r->ax = (uint64_t)orig_ax;
		r->ip -= 2;
	}
}

static void fill_gpregs(Est__UserX86RegsEntry *g, const UserRegsX86Entry *r)
{
	est__user_x86_regs_entry__init(g);
	g->r15 = r->r15, g->r14 = r->r14, g->r13 = r->r13, g->r12 = r->r12, g->bp = r->bp;
	g->bx = r->bx, g->r11 = r->r11, g->r10 = r->r10, g->r9 = r->r9, g->r8 = r->r8;
	g->ax = r->ax, g->cx = r->cx, g->dx = r->dx, g->si = r->si, g->di = r->di;
	g->orig_ax = r->orig_ax, g->ip = r->ip, g->cs = r->cs, g->flags = r->flags;
	g->sp = r->sp, g->ss = r->ss, g->fs_base = r->fs_base, g->gs_base = r->gs_base;
	g->ds = r->ds, g->es = r->es, g->fs = r->fs, g->gs = r->gs;
	g->has_mode = true;
	g->mode = EST__USER_X86_REGS_MODE__NATIVE;
	adjust_for_restart(g, (int64_t)r->orig_ax);
}

/* ---- the XSAVE area split into the format's fields ----------------------------- */

struct xcomp {
	unsigned int bit;
	size_t width, count;	/* bytes per element, elements */
};

/* Component @c of the raw area @x (standard format) as an array, iff the dump's CPU has it. */
static int get_comp(const uint8_t *x, size_t len, uint64_t xfeatures, const struct xcomp *c,
		    void **out, size_t *n, const char *img)
{
	unsigned int a, b, cx, d;

	*n = 0;
	if (!(xfeatures & (1ULL << c->bit)))
		return 0;
	__cpuid_count(0xd, c->bit, a, b, cx, d);
	(void)cx;
	(void)d;
	if (a < c->width * c->count || b < XSAVE_LEGACY || b + c->width * c->count > len) {
		pr_err("%s: xsave component %u is not where this CPU puts it", img, c->bit);
		return -1;
	}
	*out = (void *)(x + b);
	*n = c->count;
	return 0;
}

static int fill_fpregs(struct arch_est_thread *t, const ThreadCoreEntry *th, uint64_t xfeatures,
		       const char *img)
{
	static const struct xcomp ymm = { 2, 4, 64 }, bndreg = { 3, 8, 8 }, bndcsr = { 4, 8, 8 },
		opmask = { 5, 8, 8 }, zmm = { 6, 8, 64 }, hi16 = { 7, 8, 128 }, pkru = { 9, 4, 2 };
	const uint64_t known = 3 | 1ULL << 2 | 1ULL << 3 | 1ULL << 4 | 1ULL << 5 | 1ULL << 6 |
			       1ULL << 7 | 1ULL << 9;
	const uint8_t *x = th->xsave.data;
	Est__UserX86FpregsEntry *f = &t->fp;
	Est__UserX86XsaveEntry *xs = &t->xs;
	uint16_t w[4];
	uint64_t bv;

	if (th->xsave.len < XSAVE_LEGACY) {
		pr_err("%s: an xsave area of %zu bytes", img, th->xsave.len);
		return -1;
	}
	memcpy(&bv, x + 512, 8);
	if ((bv | xfeatures) & ~known) {
		/* not droppable: the established xsave layout has no place for them */
		pr_err("%s " EXP_CANNOT "xsave components %#llx (only x87, SSE, AVX, MPX, AVX-512, PKRU)",
		       img, (unsigned long long)((bv | xfeatures) & ~known));
		return -1;
	}
	est__user_x86_fpregs_entry__init(f);
	est__user_x86_xsave_entry__init(xs);
	memcpy(w, x, sizeof(w));
	f->cwd = w[0], f->swd = w[1], f->twd = w[2], f->fop = w[3];
	memcpy(&f->rip, x + 8, 8);
	memcpy(&f->rdp, x + 16, 8);
	memcpy(&f->mxcsr, x + 24, 4);
	memcpy(&f->mxcsr_mask, x + 28, 4);
	f->n_st_space = 32;
	f->st_space = (uint32_t *)(x + 32);
	f->n_xmm_space = 64;
	f->xmm_space = (uint32_t *)(x + 160);
	xs->xstate_bv = bv;
	if (get_comp(x, th->xsave.len, xfeatures, &ymm, (void **)&xs->ymmh_space, &xs->n_ymmh_space, img) ||
	    get_comp(x, th->xsave.len, xfeatures, &bndreg, (void **)&xs->bndreg_state, &xs->n_bndreg_state, img) ||
	    get_comp(x, th->xsave.len, xfeatures, &bndcsr, (void **)&xs->bndcsr_state, &xs->n_bndcsr_state, img) ||
	    get_comp(x, th->xsave.len, xfeatures, &opmask, (void **)&xs->opmask_reg, &xs->n_opmask_reg, img) ||
	    get_comp(x, th->xsave.len, xfeatures, &zmm, (void **)&xs->zmm_upper, &xs->n_zmm_upper, img) ||
	    get_comp(x, th->xsave.len, xfeatures, &hi16, (void **)&xs->hi16_zmm, &xs->n_hi16_zmm, img) ||
	    get_comp(x, th->xsave.len, xfeatures, &pkru, (void **)&xs->pkru, &xs->n_pkru, img))
		return -1;
	f->xsave = xs;
	return 0;
}

/* ---- the thread's thread_info ---------------------------------------------------- */

int arch_est_export_regs(struct arch_est_thread *a, Est__CoreEntry *core,
			 const ThreadCoreEntry *th, const CpuInfoEntry *cpu, const char *img)
{
	uint64_t xfeatures = cpu ? cpu->xfeatures_mask : 3;
	size_t i;

	est__thread_info_x86__init(&a->ti);
	core->mtype = ARCH_EST_MARCH;
	core->thread_info = &a->ti;
	a->ti.clear_tid_addr = th->has_clear_tid_addr ? th->clear_tid_addr : 0;
	fill_gpregs(&a->g, th->regs);
	a->ti.gpregs = &a->g;
	if (fill_fpregs(a, th, xfeatures, img))
		return -1;
	a->ti.fpregs = &a->fp;
	for (i = 0; i < 3; i++) {	/* empty GDT TLS slots: a 64-bit task uses fs_base */
		est__user_desc_t__init(&a->tls[i]);
		a->tls[i].entry_number = 12 + i;
		a->tls[i].read_exec_only = a->tls[i].seg_not_present = true;
		a->tlsp[i] = &a->tls[i];
	}
	a->ti.n_tls = 3;
	a->ti.tls = a->tlsp;
	return 0;
}
