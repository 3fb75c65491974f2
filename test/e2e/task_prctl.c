/*
 * Task attributes set with prctl, sched_*, setpriority, capset and
 * /proc/self come back: nice 5 under SCHED_BATCH with SCHED_RESET_ON_FORK,
 * oom_score_adj 123, not dumpable, child subreaper, THP disabled,
 * no_new_privs, CAP_SYS_BOOT dropped from the bounding set, CAP_NET_RAW
 * from the effective set, CAP_NET_BIND_SERVICE ambient, three
 * supplementary groups, personality UNAME26, RLIMIT_CORE 4096; the
 * ITIMER_VIRTUAL and ITIMER_PROF timers armed far away and the robust futex
 * list head. (The harness also compares /proc.)
 */
#include <grp.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <linux/capability.h>

#include "e2e.h"

#define CAP_BIT(c)	(1u << (c))

static struct {
	void	*next;
	long	offset;
	void	*pending;
} robust_head = { &robust_head, 0, NULL };

static void set_more(void)
{
	struct itimerval far = { { 1000, 0 }, { 2000, 0 } };

	if (setitimer(ITIMER_VIRTUAL, &far, NULL) || setitimer(ITIMER_PROF, &far, NULL))
		e2e_fail("setitimer: %s", strerror(errno));
	if (syscall(SYS_set_robust_list, &robust_head, sizeof(robust_head)))
		e2e_fail("set_robust_list: %s", strerror(errno));
}

static void check_more(void)
{
	struct itimerval now;
	void *head = NULL;
	size_t len = 0;
	int which;

	for (which = ITIMER_VIRTUAL; which <= ITIMER_PROF; which++) {
		getitimer(which, &now);
		if (now.it_interval.tv_sec != 1000 || now.it_value.tv_sec < 1990 ||
		    now.it_value.tv_sec > 2000)
			e2e_fail("itimer %d: interval %ld, value %ld", which,
				 (long)now.it_interval.tv_sec, (long)now.it_value.tv_sec);
	}
	if (syscall(SYS_get_robust_list, 0, &head, &len) || head != &robust_head ||
	    len != sizeof(robust_head))
		e2e_fail("robust list %p/%zu, not %p", head, len, (void *)&robust_head);
}

static void caps(struct __user_cap_data_struct *d, int set)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };

	if (syscall(set ? SYS_capset : SYS_capget, &h, d))
		e2e_fail("cap%s: %s", set ? "set" : "get", strerror(errno));
}

static int read_int(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY);

	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) < 0)
		e2e_fail("%s: %s", path, strerror(errno));
	close(fd);
	return atoi(buf);
}

static void set_all(void)
{
	struct __user_cap_data_struct d[2];
	struct sched_param sp = { 0 };
	gid_t groups[3] = { 11, 22, 33 };
	struct rlimit core = { 4096, RLIM_INFINITY };
	int fd;

	if (sched_setscheduler(0, SCHED_BATCH | SCHED_RESET_ON_FORK, &sp) ||
	    setpriority(PRIO_PROCESS, 0, 5))
		e2e_fail("sched: %s", strerror(errno));
	fd = open("/proc/self/oom_score_adj", O_WRONLY);
	if (fd < 0 || write(fd, "123", 3) != 3)
		e2e_fail("oom_score_adj: %s", strerror(errno));
	close(fd);
	if (setgroups(3, groups) || setrlimit(RLIMIT_CORE, &core))
		e2e_fail("setgroups/setrlimit: %s", strerror(errno));
	personality(PER_LINUX | UNAME26);
	caps(d, 0);
	d[0].inheritable |= CAP_BIT(CAP_NET_BIND_SERVICE);
	d[0].effective &= ~CAP_BIT(CAP_NET_RAW);
	caps(d, 1);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0) ||
	    prctl(PR_CAPBSET_DROP, CAP_SYS_BOOT, 0, 0, 0) ||
	    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) || prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		e2e_fail("prctl: %s", strerror(errno));
}

static void check_all(void)
{
	struct __user_cap_data_struct d[2];
	struct sched_param sp;
	gid_t groups[8];
	struct rlimit core;
	int n, sub = 0;

	errno = 0;
	if (sched_getscheduler(0) != (SCHED_BATCH | SCHED_RESET_ON_FORK) || sched_getparam(0, &sp) ||
	    sp.sched_priority)
		e2e_fail("policy %d", sched_getscheduler(0));
	if (getpriority(PRIO_PROCESS, 0) != 5)
		e2e_fail("nice %d", getpriority(PRIO_PROCESS, 0));
	if (read_int("/proc/self/oom_score_adj") != 123)
		e2e_fail("oom_score_adj %d", read_int("/proc/self/oom_score_adj"));
	n = getgroups(8, groups);
	if (n != 3 || groups[0] != 11 || groups[1] != 22 || groups[2] != 33)
		e2e_fail("%d groups", n);
	getrlimit(RLIMIT_CORE, &core);
	if (core.rlim_cur != 4096 || core.rlim_max != RLIM_INFINITY)
		e2e_fail("RLIMIT_CORE %lu", (unsigned long)core.rlim_cur);
	if (personality(0xffffffff) != (PER_LINUX | UNAME26))
		e2e_fail("personality %#x", personality(0xffffffff));
	caps(d, 0);
	if (!(d[0].inheritable & CAP_BIT(CAP_NET_BIND_SERVICE)) ||
	    (d[0].effective & CAP_BIT(CAP_NET_RAW)) || !(d[0].permitted & CAP_BIT(CAP_NET_RAW)))
		e2e_fail("capabilities eff %#x prm %#x inh %#x", d[0].effective, d[0].permitted,
			 d[0].inheritable);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE, 0, 0) != 1)
		e2e_fail("CAP_NET_BIND_SERVICE not ambient");
	if (prctl(PR_CAPBSET_READ, CAP_SYS_BOOT, 0, 0, 0) != 0)
		e2e_fail("CAP_SYS_BOOT back in the bounding set");
	prctl(PR_GET_CHILD_SUBREAPER, &sub, 0, 0, 0);
	if (sub != 1)
		e2e_fail("not a child subreaper");
	if (prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) != 1)
		e2e_fail("THP not disabled");
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		e2e_fail("no_new_privs lost");
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		e2e_fail("dumpable again");
}

int main(int argc, char **argv)
{
	e2e_init(argc, argv);
	set_all();
	set_more();
	check_all();
	check_more();
	e2e_ready();
	e2e_wait_stop();
	check_all();
	check_more();
	e2e_pass();
}
