/*
 * Remote syscalls through ptrace, used before the parasite runs and
 * after it is gone.
 *
 * The thread runs the call from a trampoline (arch.h) that compel
 * writes into bytes of the vDSO past the end of its ELF image: zero
 * padding of its last page that nothing reads or runs (the write gives
 * the task a private copy of that page, as a debugger's breakpoint
 * does).  Before its registers change, an rt_sigframe holding the
 * thread's own context (registers, signal mask, xsave area) is written
 * below its stack's red zone, and the trampoline's next instructions
 * after the syscall undo what the call made (munmap of a new mapping,
 * close of a new fd) and rt_sigreturn to that frame.  compel, alive,
 * stops the thread at the syscall exit and puts its state back itself,
 * so the thread never runs past the syscall; should compel die, the
 * thread finishes the call, undoes it and is home.
 *
 * Without a vDSO (or with no room in it), the old way: the thread is
 * pointed at a `syscall` instruction that already exists in an
 * executable mapping, and compel's death in there leaves it broken
 * (steps named "window:").
 */
#include <elf.h>
#include <linux/kcmp.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "internal.h"

#define SCAN_MAX	(64 * 1024)

/* Look for a syscall insn and a NUL byte in [start, end) of the victim. */
static int scan_range(struct compel_ctl *ctl, int memfd, unsigned long start,
		      unsigned long end)
{
	size_t len = min(end - start, (unsigned long)SCAN_MAX), i;
	uint8_t *buf = malloc(len);
	ssize_t got;

	if (!buf)
		return -1;
	got = pread(memfd, buf, len, start);
	for (i = 0; got > 1 && i + 1 < (size_t)got; i++) {
		if (!ctl->gadget && !memcmp(buf + i, ARCH_SYSCALL_INSN,
					    ARCH_SYSCALL_INSN_LEN))
			ctl->gadget = start + i;
		if (!ctl->zero_addr && !buf[i])
			ctl->zero_addr = start + i;
	}
	free(buf);
	return ctl->gadget && ctl->zero_addr ? 0 : -1;
}

int cpl_find_gadget(struct compel_ctl *ctl)
{
	char path[64], line[512], perm[8], name[256];
	unsigned long s, e;
	int memfd, pass;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/mem", ctl->pid);
	memfd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/maps", ctl->pid);
	f = fopen(path, "re");
	if (memfd < 0 || !f) {
		pr_perror("cannot open /proc/%d/{mem,maps}", ctl->pid);
		goto err;
	}
	/* vDSO first: its code never changes under us. */
	for (pass = 0; pass < 2 && !(ctl->gadget && ctl->zero_addr); pass++) {
		rewind(f);
		while (fgets(line, sizeof(line), f)) {
			name[0] = '\0';
			if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255s", &s, &e,
				   perm, name) < 3 || perm[2] != 'x')
				continue;
			if (pass == 0 && strcmp(name, "[vdso]"))
				continue;
			if (!scan_range(ctl, memfd, s, e))
				break;
		}
	}
	fclose(f);
	close(memfd);
	if (!ctl->gadget || !ctl->zero_addr) {
		pr_err("no syscall instruction found in %d", ctl->pid);
		return -1;
	}
	pr_debug("syscall gadget of %d at %#lx", ctl->pid, ctl->gadget);
	return 0;
err:
	if (f)
		fclose(f);
	if (memfd >= 0)
		close(memfd);
	return -1;
}

static int wait_syscall_stop(pid_t tid)
{
	int event, sig;

	if (compel_wait_stop(tid, &event, &sig))
		return -1;
	if (sig != (SIGTRAP | 0x80)) {
		pr_err("%d: unexpected stop (sig %d event %d) in remote syscall",
		       tid, sig, event);
		return -1;
	}
	return 0;
}

/* From a syscall-exit stop: the thread's mask and registers, then an
 * interrupt stop (no user code runs in between). */
static int put_back(pid_t tid, uint64_t mask, const compel_regs_t *saved)
{
	if (ptrace(PTRACE_SETSIGMASK, tid, (void *)sizeof(mask), &mask) ||
	    cpl_arch_set_regs(tid, saved))
		return -1;
	compel_step("syscall done");
	return cpl_exit_to_interrupt(tid);
}

/*
 * Without a trampoline.  The thread is in an interrupt stop
 * (PTRACE_EVENT_STOP) and is left in one, with the registers and signal
 * mask it had before.
 *
 * Window: from the first SETREGS until the registers are put back at
 * the syscall-exit stop, the thread's registers are not its own; if
 * the caller dies in there, the thread runs on from the vDSO with them.
 * Once they are back, a tracer's death is harmless even though the
 * thread sits in a syscall-exit stop: the detach sets TIF_SIGPENDING,
 * so the kernel applies the saved -ERESTART* fix-up on the way out.
 */
static int gadget_syscall(struct compel_ctl *ctl, long nr, long *ret,
			  const unsigned long *args)
{
	pid_t tid = ctl->pid;
	uint64_t block = ~0ULL, mask;
	compel_regs_t r, saved;

	if (!ctl->gadget && cpl_find_gadget(ctl))
		return -1;
	if (cpl_arch_get_regs(tid, &saved) ||
	    ptrace(PTRACE_GETSIGMASK, tid, (void *)sizeof(mask), &mask))
		goto err;
	r = saved;
	cpl_arch_regs_syscall(&r, ctl->gadget, nr, args);
	if (cpl_arch_set_regs(tid, &r))
		goto err;
	compel_step("window: syscall regs set");
	if (ptrace(PTRACE_SETSIGMASK, tid, (void *)sizeof(block), &block) ||
	    ptrace(PTRACE_SYSCALL, tid, NULL, NULL) || wait_syscall_stop(tid))
		goto err;
	compel_step("window: syscall entry");
	if (ptrace(PTRACE_SYSCALL, tid, NULL, NULL) || wait_syscall_stop(tid) ||
	    cpl_arch_get_regs(tid, &r))
		goto err;
	*ret = cpl_arch_regs_result(&r);
	if (put_back(tid, mask, &saved))
		goto err;
	pr_debug("remote syscall %ld in %d = %ld", nr, tid, *ret);
	return 0;
err:
	pr_perror("remote syscall %ld in %d failed", nr, tid);
	return -1;
}

/* ---- the trampoline in the vDSO -------------------------------------- */

static int mem_fd(struct compel_ctl *ctl)
{
	char path[64];

	if (ctl->memfd >= 0)
		return ctl->memfd;
	snprintf(path, sizeof(path), "/proc/%d/mem", ctl->pid);
	ctl->memfd = open(path, O_RDWR | O_CLOEXEC);
	if (ctl->memfd < 0)
		pr_perror("open %s", path);
	return ctl->memfd;
}

static unsigned long span_end(unsigned long end, uint64_t off, uint64_t n,
			      uint64_t size, size_t len)
{
	if (off > len || n > len - off)
		return (unsigned long)len + 1;	/* does not fit: unusable */
	return max(end, (unsigned long)(off + n * size));
}

/* End of the vDSO's ELF image (headers, segments, sections); 0: not ELF. */
static unsigned long vdso_image_end(const uint8_t *img, size_t len)
{
	const Elf64_Ehdr *eh = (const void *)img;
	unsigned long end = sizeof(*eh);
	unsigned int i;

	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    (eh->e_shnum && eh->e_shentsize != sizeof(Elf64_Shdr)))
		return 0;
	end = span_end(end, eh->e_phoff, eh->e_phnum, sizeof(Elf64_Phdr), len);
	end = span_end(end, eh->e_shoff, eh->e_shnum, sizeof(Elf64_Shdr), len);
	if (end > len)
		return 0;
	for (i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, img + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		end = span_end(end, ph.p_offset, ph.p_filesz, 1, len);
	}
	for (i = 0; i < eh->e_shnum; i++) {
		Elf64_Shdr sh;

		memcpy(&sh, img + eh->e_shoff + i * sizeof(sh), sizeof(sh));
		if (sh.sh_type != SHT_NOBITS)
			end = span_end(end, sh.sh_offset, sh.sh_size, 1, len);
	}
	return end > len ? 0 : end;
}

static int vdso_range(pid_t pid, unsigned long *s, unsigned long *e)
{
	char path[64], line[512];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, " [vdso]") &&
			sscanf(line, "%lx-%lx", s, e) == 2;
	fclose(f);
	return found ? 0 : -1;
}

/* Zero padding past the vDSO's image, or a trampoline left by a dead caller. */
static int tramp_find(struct compel_ctl *ctl)
{
	static const uint8_t code[] = ARCH_TRAMPOLINE;
	unsigned long s, e, at;
	uint8_t *img = NULL;
	ssize_t got;
	size_t i;

	if (vdso_range(ctl->pid, &s, &e) || e - s > SCAN_MAX || mem_fd(ctl) < 0)
		goto none;
	img = malloc(e - s);
	got = img ? pread(ctl->memfd, img, e - s, s) : -1;
	if (got != (ssize_t)(e - s))
		goto none;
	at = round_up(vdso_image_end(img, e - s), 16UL);
	if (at < 16 || at + ARCH_TRAMPOLINE_LEN > e - s)
		goto none;
	for (i = 0; i < ARCH_TRAMPOLINE_LEN && !img[at + i]; i++)
		;
	if (i < ARCH_TRAMPOLINE_LEN && memcmp(img + at, code, ARCH_TRAMPOLINE_LEN))
		goto none;
	memset(ctl->tramp_orig, 0, sizeof(ctl->tramp_orig));
	ctl->tramp = s + at;
	ctl->tramp_state = 1;
	free(img);
	pr_debug("trampoline of %d at %#lx", ctl->pid, ctl->tramp);
	return 0;
none:
	free(img);
	ctl->tramp_state = -1;
	pr_info("no room for a trampoline in the vDSO of %d: remote syscalls are "
		"not safe against the caller's death", ctl->pid);
	return -1;
}

/*
 * Controls with a trampoline written, so that of two tasks sharing an
 * mm (CLONE_VM without CLONE_THREAD) the first one cured does not pull
 * the trampoline from under the other: the last one puts the bytes back.
 */
static struct compel_ctl **tramp_users;
static unsigned int nr_tramp_users;

static int tramp_user(struct compel_ctl *ctl, int on)
{
	struct compel_ctl **more;
	unsigned int i;

	for (i = 0; i < nr_tramp_users; i++) {
		if (on && !tramp_users[i]) {
			tramp_users[i] = ctl;
			return 0;
		}
		if (!on && tramp_users[i] == ctl)
			tramp_users[i] = NULL;
	}
	if (!on)
		return 0;
	more = realloc(tramp_users, (nr_tramp_users + 16) * sizeof(*more));
	if (!more)
		return -1;
	memset(more + nr_tramp_users, 0, 16 * sizeof(*more));
	tramp_users = more;
	tramp_users[nr_tramp_users] = ctl;
	nr_tramp_users += 16;
	return 0;
}

static int tramp_shared(struct compel_ctl *ctl)
{
	unsigned int i;

	for (i = 0; i < nr_tramp_users; i++)
		if (tramp_users[i] && tramp_users[i] != ctl &&
		    tramp_users[i]->tramp == ctl->tramp &&
		    syscall(SYS_kcmp, ctl->pid, tramp_users[i]->pid, KCMP_VM, 0, 0) == 0)
			return 1;
	return 0;
}

unsigned long cpl_tramp(struct compel_ctl *ctl)
{
	static const uint8_t code[] = ARCH_TRAMPOLINE;

	if (!ctl->tramp_state)
		tramp_find(ctl);
	if (ctl->tramp_state < 0)
		return 0;
	if (!ctl->tramp_in) {
		if (tramp_user(ctl, 1) ||
		    pwrite(ctl->memfd, code, ARCH_TRAMPOLINE_LEN, ctl->tramp) !=
		    ARCH_TRAMPOLINE_LEN) {
			pr_perror("cannot write the trampoline into %d", ctl->pid);
			tramp_user(ctl, 0);
			ctl->tramp_state = -1;
			return 0;
		}
		ctl->tramp_in = 1;
		compel_step("trampoline written");
	}
	return ctl->tramp;
}

void cpl_tramp_remove(struct compel_ctl *ctl)
{
	if (!ctl->tramp_in)
		return;
	tramp_user(ctl, 0);
	if (tramp_shared(ctl)) {
		ctl->tramp_in = 0;	/* the other one puts it back */
		return;
	}
	if (pwrite(ctl->memfd, ctl->tramp_orig, ARCH_TRAMPOLINE_LEN, ctl->tramp) !=
	    ARCH_TRAMPOLINE_LEN) {
		pr_perror("cannot remove the trampoline from %d", ctl->pid);
		return;
	}
	ctl->tramp_in = 0;
	compel_step("trampoline removed");
}

/* ---- the home frame below the stack ----------------------------------- */

#define ERESTARTSYS	512
#define ERESTARTNOINTR	513

/* Would the kernel fail the interrupted syscall with EINTR on resume? */
static int frame_wants_eintr(struct compel_ctl *ctl, const struct thread_state *ts,
			     const struct compel_cure_info *ci)
{
	uint64_t deliver, first;

	if (!ci->restart || !(ctl->caught & ~ts->sigmask))
		return 0;
	deliver = (cpl_read_pending(ts->tid) | ts->pending) & ~ts->sigmask & ctl->caught;
	first = deliver & -deliver;
	if (!deliver)
		return 0;
	if (ci->restart == ERESTARTSYS)
		return !(ctl->sa_restart & first);
	return ci->restart != ERESTARTNOINTR;
}

/*
 * [lo, hi) inside one writable mapping of the task (the thread's
 * stack).  The task is stopped, its mappings only change by our hand:
 * they are read once per control (a task with many threads has many).
 */
static int in_one_vma(struct compel_ctl *ctl, unsigned long lo, unsigned long hi)
{
	char path[64], line[512], perm[8];
	unsigned long s, e, *more;
	unsigned int i;
	FILE *f;

	if (!ctl->wr) {
		snprintf(path, sizeof(path), "/proc/%d/maps", ctl->pid);
		f = fopen(path, "re");
		if (!f)
			return 0;
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%lx-%lx %7s", &s, &e, perm) != 3 || perm[1] != 'w')
				continue;
			more = realloc(ctl->wr, (ctl->nr_wr + 1) * 2 * sizeof(*more));
			if (!more)
				break;
			ctl->wr = more;
			ctl->wr[2 * ctl->nr_wr] = s;
			ctl->wr[2 * ctl->nr_wr++ + 1] = e;
		}
		fclose(f);
	}
	for (i = 0; i < ctl->nr_wr; i++)
		if (ctl->wr[2 * i] <= lo && hi <= ctl->wr[2 * i + 1])
			return 1;
	return 0;
}

/*
 * The frame goes where the kernel would put a signal frame without an
 * alternate stack, but only inside the mapping the stack pointer is in.
 */
unsigned long cpl_stack_frame(struct compel_ctl *ctl, const struct thread_state *ts,
			      struct compel_cure_info *ci)
{
	size_t len = cpl_arch_frame_len(ts->fpu_len);
	unsigned long at = cpl_arch_frame_addr(&ts->regs, len);
	struct compel_cure_info own;
	uint8_t *buf;
	ssize_t put;

	if (mem_fd(ctl) < 0)
		return 0;
	if (!in_one_vma(ctl, at, cpl_arch_regs_sp(&ts->regs))) {
		pr_info("no room for a frame below the stack of %d at %#lx", ts->tid, at);
		return 0;
	}
	buf = calloc(1, cpl_arch_frame_size(ts->fpu_len));
	if (!buf)
		return 0;
	if (!ci)
		ci = &own;
	cpl_arch_build_frame(ts, buf, at, ci);
	/* as the parasite would decide going home (daemon.c) */
	if (frame_wants_eintr(ctl, ts, ci))
		cpl_arch_frame_eintr(buf, ci);
	put = pwrite(ctl->memfd, buf, len, at);
	free(buf);
	if (put != (ssize_t)len) {
		pr_info("no room for a frame below the stack of %d at %#lx", ts->tid, at);
		return 0;
	}
	return at;
}

/* Which signals with a handler restart an ERESTARTSYS syscall. */
int cpl_sa_restart_probe(struct compel_ctl *ctl)
{
	size_t len = cpl_arch_frame_len(ctl->st.fpu_len);
	unsigned long a[6] = { 0 }, flags;
	long restart = -cpl_arch_regs_result(&ctl->st.regs), ret;
	int sig;

	ctl->caught = cpl_read_caught(ctl->pid);
	if (!cpl_arch_in_restartable_syscall(&ctl->st.regs, NULL) ||
	    restart != ERESTARTSYS || !ctl->caught)
		return 0;
	/* struct sigaction of the kernel: handler, flags, ... (below the frame) */
	a[2] = cpl_arch_frame_addr(&ctl->st.regs, len) - 64;
	a[3] = 8;
	for (sig = 1; sig <= 64; sig++) {
		if (!(ctl->caught & (1ULL << (sig - 1))))
			continue;
		a[0] = sig;
		if (cpl_ptrace_syscall(ctl, __NR_rt_sigaction, &ret, a) || ret ||
		    pread(ctl->memfd, &flags, sizeof(flags), a[2] + 8) != sizeof(flags))
			return -1;
		if (flags & 0x10000000UL)	/* SA_RESTART */
			ctl->sa_restart |= 1ULL << (sig - 1);
	}
	return 0;
}

/* ---- remote syscalls from the trampoline ------------------------------ */

/*
 * The call enters with the filter suspended, but the filter is back the
 * moment we die, and the kernel runs it after the entry stop: a call the
 * victim's filter may harm is refused (seccomp.c), one it answers
 * harmlessly (an errno) just runs.
 */
static int enter_syscall(struct compel_ctl *ctl, compel_regs_t *r)
{
	uint64_t block = ~0ULL;

	if (cpl_arch_set_regs(ctl->pid, r))
		return -1;
	compel_step("syscall regs set");
	if (ptrace(PTRACE_SETSIGMASK, ctl->pid, (void *)sizeof(block), &block) ||
	    ptrace(PTRACE_SYSCALL, ctl->pid, NULL, NULL) || wait_syscall_stop(ctl->pid))
		return -1;
	compel_step("syscall entry");
	return 0;
}

/* Would the victim's filters harm this call (or its undo) should we die? */
static int rsys_check(struct compel_ctl *ctl, long nr, const unsigned long *args,
		      const struct cpl_undo *u, unsigned long tramp)
{
	struct compel_sc_call c = { .nr = nr, .known = 0x3f | (tramp ? COMPEL_SC_IP : 0),
				    .ip = tramp };
	char name[32];
	int i;

	if (!ctl->seccomp)
		return 0;
	c.name = cpl_sc_name(nr, name, sizeof(name));
	for (i = 0; i < 6; i++)
		c.args[i] = args[i];
	if (cpl_seccomp_check(ctl, &c))
		return -1;
	/* then the trampoline's undo and its way home, with any arguments */
	for (i = 0; i < 3; i++) {
		long unr = i < 2 && u ? u->nr[i] : ARCH_NR_SIGRETURN;
		struct compel_sc_call undo = { .nr = unr,
					       .name = cpl_sc_name(unr, name, sizeof(name)),
					       .must_run = unr == ARCH_NR_SIGRETURN };

		if (tramp && cpl_seccomp_check(ctl, &undo))
			return -1;
	}
	return 0;
}

int cpl_rsys(struct compel_ctl *ctl, long nr, long *ret,
	     const unsigned long *args, const struct cpl_undo *u, int keep)
{
	static const struct cpl_undo none = { { ARCH_NR_SIGRETURN, ARCH_NR_SIGRETURN },
					      { 0, 0 }, 0 };
	unsigned long tramp = cpl_tramp(ctl), frame = 0;
	uint64_t mask;
	compel_regs_t r, saved;
	pid_t tid = ctl->pid;

	if (rsys_check(ctl, nr, args, u, tramp))
		return -1;
	if (tramp)
		frame = cpl_stack_frame(ctl, &ctl->st, NULL);
	if (!frame)
		return gadget_syscall(ctl, nr, ret, args);
	if (cpl_arch_get_regs(tid, &saved) ||
	    ptrace(PTRACE_GETSIGMASK, tid, (void *)sizeof(mask), &mask))
		goto err;
	r = saved;
	cpl_arch_regs_tramp(&r, tramp, frame + 8, nr, args, u ? u : &none);
	if (enter_syscall(ctl, &r) ||
	    ptrace(PTRACE_SYSCALL, tid, NULL, NULL) || wait_syscall_stop(tid) ||
	    cpl_arch_get_regs(tid, &r))
		goto err;
	*ret = cpl_arch_regs_result(&r);
	pr_debug("remote syscall %ld in %d = %ld", nr, tid, *ret);
	if (keep) {
		ctl->kept = 1;
		compel_step("syscall done, undo armed");
		return 0;
	}
	if (put_back(tid, mask, &saved))
		goto err;
	return 0;
err:
	pr_perror("remote syscall %ld in %d failed", nr, tid);
	return -1;
}

int cpl_ptrace_syscall(struct compel_ctl *ctl, long nr, long *ret,
		       const unsigned long *args)
{
	return cpl_rsys(ctl, nr, ret, args, NULL, 0);
}
