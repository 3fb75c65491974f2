/*
 * Remote syscalls through ptrace, used before the parasite runs and
 * after it is gone.  No code is patched: the thread is pointed at a
 * `syscall` instruction that already exists in its vDSO (or in another
 * executable mapping) and stopped at syscall exit with PTRACE_SYSCALL,
 * so it never executes a byte after that instruction.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
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

/*
 * The thread is in an interrupt stop (PTRACE_EVENT_STOP) and is left in
 * one, with the registers and signal mask it had before.
 *
 * Window: from the first SETREGS until the registers are put back at
 * the syscall-exit stop, the thread's registers are not its own; if
 * the caller dies in there, the thread runs on from the vDSO with them.
 * Once they are back, a tracer's death is harmless even though the
 * thread sits in a syscall-exit stop: the detach sets TIF_SIGPENDING,
 * so the kernel applies the saved -ERESTART* fix-up on the way out.
 */
int cpl_ptrace_syscall(struct compel_ctl *ctl, long nr, long *ret,
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
	if (ptrace(PTRACE_SETSIGMASK, tid, (void *)sizeof(mask), &mask) ||
	    cpl_arch_set_regs(tid, &saved))
		goto err;
	compel_step("syscall done");
	/* From syscall-exit-stop back to an interrupt stop. */
	if (cpl_interrupt_prepare(tid) || ptrace(PTRACE_CONT, tid, NULL, NULL) ||
	    cpl_interrupt_wait(tid))
		goto err;
	pr_debug("remote syscall %ld in %d = %ld", nr, tid, *ret);
	return 0;
err:
	pr_perror("remote syscall %ld in %d failed", nr, tid);
	return -1;
}
