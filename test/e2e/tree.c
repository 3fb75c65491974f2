/*
 * A three-level tree with several sessions and process groups, and zombies:
 *
 *   R (session and group leader, from the harness)
 *   +- A   own group
 *   |  +- A1  in A's group
 *   |  `- Z1  zombie, exited with 7 (A never reaps it before the check)
 *   +- B   own session
 *   |  +- B1  own group in B's session
 *   |  `- B2  in B1's group (a sibling's)
 *   +- C   in R's group
 *   `- Z2  zombie, killed by SIGUSR1
 *
 * After the restore every live process checks its pid, ppid, group and
 * session, stops its children with SIGTERM and checks their exit (a zombie
 * must already be there with its old status), and exits 0 or with the code
 * of what failed; R writes the verdict.
 */
#include "e2e.h"

#define MAX_KIDS 4

struct kid {
	pid_t pid;
	int zombie, want;
};

static int ready_r = -1, ready_w = -1;

/* Set up, tell R, wait for the restore and SIGTERM, check; returns the failure code or 0. */
static int live(const struct kid *kids, int n)
{
	struct e2e_ids me;
	int i, r;

	e2e_member_ready(&me, &ready_w);
	r = e2e_ids_check(&me);
	if (r)
		return 10 + r;
	for (i = 0; i < n; i++) {
		r = e2e_reap(kids[i].pid, kids[i].zombie, kids[i].want);
		if (r)
			return r >= 20 ? r : 20 + i * 10 + (r > 9 ? 9 : r);
	}
	return 0;
}

static pid_t spawn(int (*fn)(void))
{
	return e2e_spawn(fn, &ready_r);
}

static int leaf(void)
{
	return live(NULL, 0);
}

static int zombie_exit(void)
{
	e2e_note_pid();
	return 7;
}

static int zombie_signal(void)
{
	signal(SIGUSR1, SIG_DFL);
	e2e_note_pid();
	kill(getpid(), SIGUSR1);
	return 99;
}

static int proc_a(void)
{
	struct kid k[2];

	setpgid(0, 0);
	k[0] = (struct kid){ spawn(leaf), 0, 0 };
	k[1] = (struct kid){ spawn(zombie_exit), 1, 7 << 8 };
	e2e_wait_zombie(k[1].pid);
	return live(k, 2);
}

static pid_t b1;

static int proc_b2(void)
{
	if (setpgid(0, b1))
		return 2;
	return live(NULL, 0);
}

static int proc_b1(void)
{
	setpgid(0, 0);
	return live(NULL, 0);
}

static int proc_b(void)
{
	struct kid k[2];

	if (setsid() < 0)
		return 2;
	b1 = spawn(proc_b1);
	setpgid(b1, b1);	/* as a shell does: whoever comes first makes the group */
	k[0] = (struct kid){ b1, 0, 0 };
	k[1] = (struct kid){ spawn(proc_b2), 0, 0 };
	return live(k, 2);
}

int main(int argc, char **argv)
{
	struct kid k[MAX_KIDS];
	int r, i;

	e2e_init(argc, argv);
	e2e_tree_pipe(&ready_r, &ready_w);
	k[0] = (struct kid){ spawn(proc_a), 0, 0 };
	k[1] = (struct kid){ spawn(proc_b), 0, 0 };
	k[2] = (struct kid){ spawn(leaf), 0, 0 };
	k[3] = (struct kid){ spawn(zombie_signal), 1, SIGUSR1 };
	e2e_wait_zombie(k[3].pid);
	e2e_tree_wait(&ready_r, &ready_w);
	e2e_root_ready();
	for (i = 0; i < MAX_KIDS; i++) {
		r = e2e_reap(k[i].pid, k[i].zombie, k[i].want);
		if (r)
			e2e_fail("child %d (%d): code %d", i, k[i].pid, r);
	}
	e2e_pass();
}
