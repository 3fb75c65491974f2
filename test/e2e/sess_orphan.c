/*
 * A session whose leader has exited, the shape a daemon leaves: R (a child
 * subreaper, as a container's init or a service manager) forks D; D calls
 * setsid, forks T and exits; T (in D's session and group, leader gone) is
 * handed to R and forks T1 (same session and group) and a zombie. The
 * restore makes the session with a helper that takes D's pid. After the
 * restore T and T1 check their ids, that the session's group is alive
 * (kill(-D, 0)) and that no process D exists; T checks its zombie.
 */
#include <sys/prctl.h>
#include "e2e.h"

static int ready_r = -1, ready_w = -1;
static pid_t leader;

static pid_t spawn(int (*fn)(void))
{
	return e2e_spawn(fn, &ready_r);
}

/* ids, group as for a group whose leader exited, and the session is the leader's too */
static int check_session(const struct e2e_ids *me)
{
	int r = e2e_check_leaderless(me, leader);

	return r ? r : getsid(0) != leader ? 18 : 0;
}

static int proc_t1(void)
{
	struct e2e_ids me;

	e2e_member_ready(&me, &ready_w);
	return check_session(&me);
}

static int proc_zombie(void)
{
	e2e_note_pid();
	return 5;
}

static int proc_t(void)
{
	struct e2e_ids me;
	pid_t t1, z;
	int r;

	/* wait until D has gone and R adopted us */
	while (getppid() == leader)
		usleep(1000);
	t1 = spawn(proc_t1);
	z = spawn(proc_zombie);
	e2e_wait_zombie(z);
	e2e_member_ready(&me, &ready_w);
	r = check_session(&me);
	if (r)
		return r;
	r = e2e_reap(t1, 0, 0);
	if (r)
		return 30 + (r > 9 ? 9 : r);
	return e2e_reap(z, 1, 5 << 8) ? 40 : 0;
}

static int proc_d(void)
{
	if (setsid() < 0)
		return 2;
	leader = getpid();
	spawn(proc_t);
	return 0;
}

int main(int argc, char **argv)
{
	int st, r;
	pid_t d, t;

	e2e_init(argc, argv);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		e2e_fail("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	e2e_tree_pipe(&ready_r, &ready_w);
	d = spawn(proc_d);
	leader = d;
	if (waitpid(d, &st, 0) != d || st != 0)
		e2e_fail("the session leader did not exit cleanly (%#x)", st);
	e2e_tree_wait(&ready_r, &ready_w);
	/* T is ours now: the only child left */
	{
		char path[64], line[64];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/children", getpid(), getpid());
		f = fopen(path, "re");
		if (!f || !fgets(line, sizeof(line), f))
			e2e_fail("no adopted child");
		fclose(f);
		t = atoi(line);
	}
	e2e_root_ready();
	r = e2e_reap(t, 0, 0);
	if (r)
		e2e_fail("first member %d: code %d", t, r);
	e2e_pass();
}
