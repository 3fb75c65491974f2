/*
 * membarrier(2) registrations are per process (per mm) and come back
 * exactly: R registers private expedited, rseq and global expedited; its
 * child S, forked before that, registers sync-core only (which this kernel
 * counts as private expedited too); its child N, forked before that too,
 * none. After the restore each one's registrations
 * (MEMBARRIER_CMD_GET_REGISTRATIONS) are what they were, each expedited
 * command works where it was registered and fails with EPERM where not: a
 * registration made for every process, or inherited from its parent by a
 * fork, fails the case.
 */
#include "e2e.h"

#define CMD_PRIVATE		(1 << 3)	/* MEMBARRIER_CMD_PRIVATE_EXPEDITED */
#define REG_GLOBAL		(1 << 2)	/* ..._REGISTER_GLOBAL_EXPEDITED */
#define REG_PRIVATE		(1 << 4)
#define REG_SYNC_CORE		(1 << 6)
#define REG_RSEQ		(1 << 8)
#define CMD_GET_REGISTRATIONS	(1 << 9)	/* 6.3 */

static int ready_r = -1, ready_w = -1;

static long mb(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0, 0);
}

/* Register @mask; returns what the kernel reports then, or -1. */
static int do_register(int mask)
{
	int bit;
	long now;

	for (bit = 0; bit < 10; bit++)
		if ((mask & (1 << bit)) && mb(1 << bit))
			return -1;
	now = mb(CMD_GET_REGISTRATIONS);
	return now >= 0 && (now & mask) == mask && !(now & REG_RSEQ & ~mask) &&
	       !(now & REG_GLOBAL & ~mask) ? (int)now : -1;
}

/*
 * 0 when exactly @mask is registered, else 1 (the registrations differ) or
 * 2 + n: expedited command n (a register bit >> 1) misbehaved.
 */
static int check(int mask)
{
	static const int reg[] = { REG_PRIVATE, REG_SYNC_CORE, REG_RSEQ };
	long r;
	int i;

	if (mb(CMD_GET_REGISTRATIONS) != mask)
		return 1;
	for (i = 0; i < 3; i++) {
		errno = 0;
		r = mb(reg[i] >> 1);	/* the command each registration allows */
		if ((mask & reg[i]) ? r != 0 : r != -1 || errno != EPERM)
			return 2 + i;
	}
	return 0;
}

static int member(int mask)
{
	struct e2e_ids me;
	int r;

	mask = do_register(mask);
	if (mask < 0)
		return 9;
	e2e_member_ready(&me, &ready_w);
	r = e2e_ids_check(&me);
	if (r)
		return 10 + r;
	return check(mask) ? 20 + check(mask) : 0;
}

static int proc_none(void)
{
	return member(0);
}

static int proc_sync_core(void)
{
	return member(REG_SYNC_CORE);
}

int main(int argc, char **argv)
{
	pid_t n, s;
	int mine;
	int r;

	e2e_init(argc, argv);
	if (mb(CMD_GET_REGISTRATIONS) != 0)
		e2e_fail("registrations before any: %s", strerror(errno));
	e2e_tree_pipe(&ready_r, &ready_w);
	n = e2e_spawn(proc_none, &ready_r);
	s = e2e_spawn(proc_sync_core, &ready_r);
	mine = do_register(REG_PRIVATE | REG_RSEQ | REG_GLOBAL);
	if (mine < 0)
		e2e_fail("register: %s", strerror(errno));
	e2e_tree_wait(&ready_r, &ready_w);
	e2e_root_ready();

	r = check(mine);
	if (r)
		e2e_fail("root: registrations %ld instead of %d (check %d)",
			 mb(CMD_GET_REGISTRATIONS), mine, r);
	r = e2e_reap(n, 0, 0);
	if (r)
		e2e_fail("the child that registered nothing: %d", r);
	r = e2e_reap(s, 0, 0);
	if (r)
		e2e_fail("the child that registered sync-core: %d", r);
	e2e_pass();
}
