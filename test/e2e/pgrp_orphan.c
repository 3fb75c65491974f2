/*
 * A process group whose leader has exited: R makes L lead a group, puts M
 * in it (M's child M1 follows), then kills and reaps L. The group lives on
 * without a process of its pid; the restore recreates it with a helper that
 * takes L's pid. After the restore M and M1 check they are in group L,
 * that the group is alive (kill(-L, 0)) and that no process L exists.
 */
#include "e2e.h"

static int ready_r = -1, ready_w = -1;
static pid_t leader;

static pid_t spawn(int (*fn)(void))
{
	return e2e_spawn(fn, &ready_r);
}

static int proc_m1(void)
{
	struct e2e_ids me;

	e2e_member_ready(&me, &ready_w);
	return e2e_check_leaderless(&me, leader);
}

static int proc_m(void)
{
	struct e2e_ids me;
	pid_t m1;
	int r;

	if (setpgid(0, leader) && getpgid(0) != leader)
		return 2;
	m1 = spawn(proc_m1);
	e2e_member_ready(&me, &ready_w);
	r = e2e_check_leaderless(&me, leader);
	if (r)
		return r;
	r = e2e_reap(m1, 0, 0);
	return r ? 30 + (r > 9 ? 9 : r) : 0;
}

static int proc_l(void)
{
	setpgid(0, 0);
	while (!e2e_stopped())
		pause();
	return 0;
}

int main(int argc, char **argv)
{
	pid_t m;
	int r;

	e2e_init(argc, argv);
	e2e_tree_pipe(&ready_r, &ready_w);
	leader = spawn(proc_l);
	setpgid(leader, leader);
	m = spawn(proc_m);
	setpgid(m, leader);
	kill(leader, SIGKILL);
	waitpid(leader, NULL, 0);
	e2e_tree_wait(&ready_r, &ready_w);
	e2e_root_ready();
	r = e2e_reap(m, 0, 0);
	if (r)
		e2e_fail("member %d: code %d", m, r);
	e2e_pass();
}
