/*
 * The established format's thread_info_x86 -> our thread's registers and
 * one standard-format xsave area in this CPU's layout (criu/include/est-regs.h).
 */
#include <cpuid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_PREFIX "est-import: "
#include "est-import-int.h"
#include "est-regs.h"
#include "kerndat.h"
#include "log.h"

/* ---- the split fields -> one standard-format XSAVE area ---- */

struct xcomp {
	unsigned int bit;
	size_t width;	/* bytes per element */
	size_t count;	/* elements the format stores */
};

static int put_comp(uint8_t *x, const struct xcomp *c, const void *data, size_t n,
		    uint64_t *bv, const char *img)
{
	unsigned int a, b, cx, d;

	if (!n) {
		if (*bv & (1ULL << c->bit)) {
			pr_err("%s: xsave: component %u is in use but its data is missing", img,
			       c->bit);
			return -1;
		}
		return 0;
	}
	if (n != c->count) {
		pr_err("%s: xsave: component %u has %zu elements, the format has %zu", img,
		       c->bit, n, c->count);
		return -1;
	}
	if (!(kdat.arch.xfeatures & (1ULL << c->bit))) {
		if (*bv & (1ULL << c->bit)) {
			pr_err("not supported yet: %s: xsave component %u is in use, this CPU does not have it",
			       img, c->bit);
			return -1;
		}
		return 0;	/* in its initial state: nothing lost */
	}
	__cpuid_count(0xd, c->bit, a, b, cx, d);
	(void)cx;
	(void)d;
	if (a < c->width * c->count || b < 576 || b + a > kdat.arch.xsave_size) {
		pr_err("%s: xsave component %u does not fit this CPU's layout", img, c->bit);
		return -1;
	}
	memcpy(x + b, data, c->width * c->count);
	return 0;
}

static uint8_t *build_xsave(const Est__UserX86FpregsEntry *f, const char *img)
{
	static const struct xcomp ymm = { 2, 4, 64 }, bndreg = { 3, 8, 8 }, bndcsr = { 4, 8, 8 },
		opmask = { 5, 8, 8 }, zmm = { 6, 8, 64 }, hi16 = { 7, 8, 128 }, pkru = { 9, 4, 2 };
	const Est__UserX86XsaveEntry *xs = f->xsave;
	uint64_t bv = xs ? xs->xstate_bv : 3;
	uint64_t known = 3 | 1ULL << 2 | 1ULL << 3 | 1ULL << 4 | 1ULL << 5 | 1ULL << 6 |
			 1ULL << 7 | 1ULL << 9;
	uint16_t w[4] = { f->cwd, f->swd, f->twd, f->fop };
	uint8_t *x;

	if (f->n_st_space != 32 || f->n_xmm_space != 64 || f->cwd > 0xffff || f->swd > 0xffff ||
	    f->twd > 0xffff || f->fop > 0xffff || (xs && xs->cet && (xs->cet->cet || xs->cet->ssp))) {
		pr_err("not supported yet: %s: fpregs of an unexpected shape (or shadow stack state)", img);
		return NULL;
	}
	if (bv & ~known) {
		pr_err("not supported yet: %s: xsave components %#llx", img,
		       (unsigned long long)(bv & ~known));
		return NULL;
	}
	x = imp_zalloc(kdat.arch.xsave_size);
	if (!x)
		return NULL;
	memcpy(x, w, sizeof(w));
	memcpy(x + 8, &f->rip, 8);
	memcpy(x + 16, &f->rdp, 8);
	memcpy(x + 24, &f->mxcsr, 4);
	memcpy(x + 28, &f->mxcsr_mask, 4);
	memcpy(x + 32, f->st_space, 128);
	memcpy(x + 160, f->xmm_space, 256);
	if (xs && (put_comp(x, &ymm, xs->ymmh_space, xs->n_ymmh_space, &bv, img) ||
		   put_comp(x, &bndreg, xs->bndreg_state, xs->n_bndreg_state, &bv, img) ||
		   put_comp(x, &bndcsr, xs->bndcsr_state, xs->n_bndcsr_state, &bv, img) ||
		   put_comp(x, &opmask, xs->opmask_reg, xs->n_opmask_reg, &bv, img) ||
		   put_comp(x, &zmm, xs->zmm_upper, xs->n_zmm_upper, &bv, img) ||
		   put_comp(x, &hi16, xs->hi16_zmm, xs->n_hi16_zmm, &bv, img) ||
		   put_comp(x, &pkru, xs->pkru, xs->n_pkru, &bv, img))) {
		free(x);
		return NULL;
	}
	bv &= kdat.arch.xfeatures;
	memcpy(x + 512, &bv, 8);
	return x;
}

static int check_thread_info(const Est__ThreadInfoX86 *ti, const char *img)
{
	size_t i;

	if (ti->gpregs->has_mode && ti->gpregs->mode != EST__USER_X86_REGS_MODE__NATIVE) {
		pr_err("not supported yet: %s: a 32-bit (compat) task", img);
		return -1;
	}
	for (i = 0; i < ti->n_tls; i++)
		if (!ti->tls[i]->seg_not_present) {
			pr_err("not supported yet: %s: a TLS descriptor in the GDT (set_thread_area)",
			       img);
			return -1;
		}
	return 0;
}

/* ---- per thread and per process ------------------------------------------- */

int arch_est_import_check(const Est__CoreEntry *c, const char *img)
{
	return check_thread_info(c->thread_info, img);
}

int arch_est_import_regs(const Est__CoreEntry *c, ThreadCoreEntry *t, const char *img)
{
	const Est__ThreadInfoX86 *ti = c->thread_info;
	const Est__UserX86RegsEntry *g = ti->gpregs;
	UserRegsX86Entry *r = imp_zalloc(sizeof(*r));

	if (!r)
		return -1;
	user_regs_x86_entry__init(r);
	t->regs = r;
	*r = (UserRegsX86Entry){ .base = r->base,
		.r15 = g->r15, .r14 = g->r14, .r13 = g->r13, .r12 = g->r12, .bp = g->bp,
		.bx = g->bx, .r11 = g->r11, .r10 = g->r10, .r9 = g->r9, .r8 = g->r8,
		.ax = g->ax, .cx = g->cx, .dx = g->dx, .si = g->si, .di = g->di,
		.ip = g->ip, .cs = g->cs, .flags = g->flags, .sp = g->sp, .ss = g->ss,
		.fs_base = g->fs_base, .gs_base = g->gs_base, .ds = g->ds, .es = g->es,
		.fs = g->fs, .gs = g->gs,
	};
	/*
	 * The established dump stores the registers already adjusted for a
	 * syscall restart (plan §3.4); ours adjusts at restore when orig_ax
	 * names a syscall. -1: resume exactly as stored.
	 */
	r->orig_ax = (uint64_t)-1;
	t->xsave.data = build_xsave(ti->fpregs, img);
	if (!t->xsave.data)
		return -1;
	t->xsave.len = kdat.arch.xsave_size;
	if (ti->clear_tid_addr) {
		t->has_clear_tid_addr = true;
		t->clear_tid_addr = ti->clear_tid_addr;
	}
	return 0;
}

void arch_est_import_free(ThreadCoreEntry *t)
{
	free(t->regs);
	free(t->xsave.data);
	t->regs = NULL;
	t->xsave.data = NULL;
	t->xsave.len = 0;
}

int arch_est_import_host(void)
{
	kerndat_probe(KD_FPU);
	if (!kdat.has_fpu || kdat.arch.xsave_size < 576 || kdat.arch.xsave_size > (1u << 16)) {
		pr_err("this CPU has no usable xsave");
		return -1;
	}
	return 0;
}
