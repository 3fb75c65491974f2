/*
 * Dump: scheduling, memory placement and keyrings (criu/include/sched-state.h).
 *
 * From criu, on the stopped task: every thread's CPU affinity and I/O
 * priority (syscalls on its tid), the process's coredump_filter and
 * autogroup (/proc). From the parasite, per thread: its NUMA policy and
 * its keyrings. Refused here, since the restore cannot make them yet: a pid
 * namespace for the children, a NUMA policy of a mapping (mbind), keyrings
 * other than criu's session keyring, and an autogroup shared across
 * sessions.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define LOG_PREFIX "dump: "
#include <compel/compel.h>
#include "log.h"
#include "dump.h"
#include "parasite-proto.h"
#include "sched-state.h"

#define IOPRIO_WHO_PROCESS	1
#define KEYCTL_GET_KEYRING_ID	0
#define KEY_SPEC_SESSION	(-3)
#define KEY_SPEC_USER_SESSION	(-5)

int sched_parse_list(const char *text, uint64_t *mask, size_t words)
{
	const char *p = text;

	memset(mask, 0, words * sizeof(*mask));
	while (*p && *p != '\n') {
		char *end;
		unsigned long lo = strtoul(p, &end, 10), hi = lo;

		if (end == p)
			return -1;
		if (*end == '-') {
			p = end + 1;
			hi = strtoul(p, &end, 10);
			if (end == p || hi < lo)
				return -1;
		}
		if (hi >= words * 64)
			return -1;
		for (; lo <= hi; lo++)
			mask[lo / 64] |= 1ULL << (lo % 64);
		p = end;
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return -1;
	}
	return 0;
}

int sched_parse_autogroup(const char *text, long *id, int *nice)
{
	*id = -1;
	*nice = 0;
	if (!*text)
		return 0;
	return sscanf(text, "/autogroup-%ld nice %d", id, nice) == 2 ? 0 : -1;
}

int sched_read_list(const char *path, uint64_t *mask, size_t words)
{
	char buf[4096];

	if (read_small_file(path, buf, sizeof(buf)) < 0) {
		pr_perror("can't read %s", path);
		return -1;
	}
	if (sched_parse_list(buf, mask, words)) {
		pr_err("%s: not a list of ids below %zu: '%.60s'", path, words * 64, buf);
		return -1;
	}
	return 0;
}

/*
 * Asking for the session keyring installs the user's session keyring as
 * the session keyring when there is none: a child asks, so that criu's own
 * credentials, which the restored tasks inherit, stay as they are.
 */
int sched_own_session_keyring(uint32_t *id)
{
	int p[2], st;
	pid_t kid;
	ssize_t n;

	if (pipe2(p, O_CLOEXEC)) {
		pr_perror("pipe");
		return -1;
	}
	kid = fork();
	if (kid == 0) {
		long s = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION, 0);
		long u = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_SESSION, 0);
		uint32_t own = s > 0 && s != u ? (uint32_t)s : 0;

		_exit(write(p[1], &own, sizeof(own)) == sizeof(own) ? 0 : 1);
	}
	close(p[1]);
	n = kid < 0 ? -1 : read(p[0], id, sizeof(*id));
	close(p[0]);
	if (kid > 0)
		waitpid(kid, &st, 0);
	if (n != sizeof(*id)) {
		pr_perror("can't learn criu's own session keyring");
		return -1;
	}
	return 0;
}

/*
 * unshare(CLONE_NEWPID) made a namespace for the children: before a child
 * entered it, /proc/PID/ns/pid_for_children cannot even be opened.
 */
static int check_pid_for_children(pid_t pid)
{
	char a[64], b[64];
	struct stat own, kids;

	snprintf(a, sizeof(a), "/proc/%d/ns/pid", pid);
	snprintf(b, sizeof(b), "/proc/%d/ns/pid_for_children", pid);
	if (stat(a, &own))
		return 0;	/* no pid namespaces in this kernel */
	if (!stat(b, &kids) && kids.st_ino == own.st_ino && kids.st_dev == own.st_dev)
		return 0;
	pr_err("%d: a pid namespace for children (unshare(CLONE_NEWPID)) is not supported yet", pid);
	return -1;
}

static void refuse_vma_policy(pid_t pid, unsigned long addr, const char *pol)
{
	pr_err("the mapping at %lx of %d has the NUMA policy %s (mbind): NUMA policies of mappings are not supported yet",
	       addr, pid, pol);
}

/*
 * numa_maps: "ADDR POLICY ..." per mapping, the task's own policy for one
 * without a policy of its own: with the task's the default, "default" is
 * no policy of its own (mbind(MPOL_DEFAULT) drops one).
 */
static int check_vma_policies_proc(pid_t pid)
{
	char path[64], line[1024];
	int ret = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/numa_maps", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;	/* a kernel without NUMA: no policies */
	while (!ret && fgets(line, sizeof(line), f)) {
		unsigned long addr;
		char pol[128];

		if (sscanf(line, "%lx %127s", &addr, pol) != 2 || !strcmp(pol, "default"))
			continue;
		refuse_vma_policy(pid, addr, pol);
		ret = -1;
	}
	fclose(f);
	return ret;
}

/* A task with a policy of its own: the parasite asks the policy of each mapping. */
static int check_vma_policies_parasite(struct dump_task *t)
{
	struct parasite_vma_policies *v = compel_args(t->ctl);
	size_t i = 0, k;
	int r;

	while (i < t->pvmas.nr) {
		for (v->nr = 0; i < t->pvmas.nr && v->nr < PARASITE_MAX_VMA_POLICIES; i++)
			if (t->pvmas.v[i].kind != PROC_VMA_VSYSCALL)
				v->addr[v->nr++] = t->pvmas.v[i].start;
		if (compel_rpc_call_sync(t->ctl, PARASITE_CMD_VMA_POLICIES, &r) || r) {
			pr_err("parasite could not read the NUMA policies of mappings: %d", r);
			return -1;
		}
		for (k = 0; k < v->nr; k++) {
			char mode[16];

			if (v->mode[k] <= 0)
				continue;	/* MPOL_DEFAULT, or gone */
			snprintf(mode, sizeof(mode), "mode %d", v->mode[k]);
			refuse_vma_policy(t->pid, (unsigned long)v->addr[k], mode);
			return -1;
		}
	}
	return 0;
}

int dump_check_sched(const struct dump_task *t)
{
	return check_pid_for_children(t->pid);
}

/* Trailing zero words left out: an empty mask means every cpu. */
static size_t trim(const uint64_t *w, size_t n)
{
	while (n && !w[n - 1])
		n--;
	return n;
}

static int collect_thread(struct dump_thread *th, pid_t tid, const uint64_t *every)
{
	ThreadCoreEntry *c = &th->core;
	long n, prio;

	n = syscall(SYS_sched_getaffinity, tid, sizeof(th->cpus), th->cpus);
	if (n < 0) {
		if (errno == EINVAL)
			pr_err("thread %d: a machine of more than %d cpus is not supported yet", tid,
			       SCHED_MAX_CPUS);
		else
			pr_perror("sched_getaffinity(%d)", tid);
		return -1;
	}
	memset((char *)th->cpus + n, 0, sizeof(th->cpus) - (size_t)n);
	if (memcmp(th->cpus, every, sizeof(th->cpus))) {
		c->cpus_allowed = th->cpus;
		c->n_cpus_allowed = trim(th->cpus, SCHED_MASK_WORDS);
	}
	prio = syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, tid);
	if (prio < 0) {
		pr_perror("ioprio_get(%d)", tid);
		return -1;
	}
	c->has_ioprio = true;
	c->ioprio = (uint32_t)prio;
	return 0;
}

/* "/autogroup-ID nice N", or nothing for the root task group. */
static int collect_autogroup(struct dump_task *t)
{
	char path[64], buf[128];
	int nice;

	t->autogroup = -1;
	snprintf(path, sizeof(path), "/proc/%d/autogroup", t->pid);
	if (read_small_file(path, buf, sizeof(buf)) < 0) {
		if (errno == ENOENT)
			return 0;	/* no CONFIG_SCHED_AUTOGROUP */
		pr_perror("can't read %s", path);
		return -1;
	}
	if (sched_parse_autogroup(buf, &t->autogroup, &nice)) {
		pr_err("%s: unexpected '%.60s'", path, buf);
		return -1;
	}
	if (t->autogroup < 0)
		return 0;
	t->core.has_autogroup_nice = true;
	t->core.autogroup_nice = nice;
	return 0;
}

static int collect_coredump_filter(struct dump_task *t)
{
	char path[64], buf[32];

	snprintf(path, sizeof(path), "/proc/%d/coredump_filter", t->pid);
	if (read_small_file(path, buf, sizeof(buf)) <= 0) {
		pr_perror("can't read %s", path);
		return -1;
	}
	t->core.has_coredump_filter = true;
	t->core.coredump_filter = (uint32_t)strtoul(buf, NULL, 16);
	return 0;
}

int dump_collect_sched(struct dump_task *t)
{
	uint64_t every[SCHED_MASK_WORDS];
	int i;

	if (sched_read_list("/sys/devices/system/cpu/possible", every, SCHED_MASK_WORDS))
		return -1;
	for (i = 0; i < t->nr_tids; i++)
		if (collect_thread(&t->th[i], t->tids[i], every))
			return -1;
	return collect_coredump_filter(t) || collect_autogroup(t);
}

void dump_sched_thread(struct dump_thread *th, const struct parasite_thread *p)
{
	BUILD_BUG_ON(sizeof(th->nodes) * 8 != SCHED_MAX_NODES);
	BUILD_BUG_ON(sizeof(p->mempolicy_nodes) * 8 != SCHED_MAX_NODES);
	th->core.has_mempolicy = true;
	th->core.mempolicy = (uint32_t)p->mempolicy;
	memcpy(th->nodes, p->mempolicy_nodes, sizeof(th->nodes));
	th->core.mempolicy_nodes = th->nodes;
	th->core.n_mempolicy_nodes = trim(th->nodes, SCHED_MASK_WORDS);
	th->key_thread = p->keyring_thread;
	th->key_process = p->keyring_process;
	th->key_session = p->keyring_session;
	th->key_user_session = p->keyring_user_session;
	th->key_child = p->keyring_child;
}

/*
 * The restored task gets criu's session keyring (by inheritance), nothing
 * else: the task must have had exactly that, and no process or thread
 * keyring.
 */
static int check_keyrings(struct dump_task *t)
{
	static uint32_t criu;	/* criu's, asked once per dump */
	static bool known;
	int i;

	if (!known && sched_own_session_keyring(&criu))
		return -1;
	known = true;
	for (i = 0; i < t->nr_tids; i++) {
		const struct dump_thread *th = &t->th[i];
		uint32_t own = th->key_session > 0 && th->key_session != th->key_user_session ?
			       (uint32_t)th->key_session : 0;

		if (th->key_child) {
			pr_err("thread %d of %d: its child asking for the session keyring failed (%d; asking in the thread would give it one): such a task is not supported yet",
			       t->tids[i], t->pid, th->key_child);
			return -1;
		}
		if (th->key_thread > 0 || th->key_process > 0) {
			pr_err("thread %d of %d has a %s keyring (%d): keyrings are not supported yet",
			       t->tids[i], t->pid, th->key_thread > 0 ? "thread" : "process",
			       th->key_thread > 0 ? th->key_thread : th->key_process);
			return -1;
		}
		if (own != criu) {
			pr_err("thread %d of %d has %s session keyring %u, criu %s %u: a session keyring (keyctl JOIN_SESSION_KEYRING) other than criu's is not supported yet",
			       t->tids[i], t->pid, own ? "the" : "no", own, criu ? "has" : "none",
			       criu);
			return -1;
		}
	}
	t->core.has_session_keyring = true;
	t->core.session_keyring = criu;
	return 0;
}

int dump_finish_sched(struct dump_task *t)
{
	if (check_keyrings(t))
		return -1;
	if (!t->th[0].core.mempolicy)
		return check_vma_policies_proc(t->pid);
	return check_vma_policies_parasite(t);
}

/*
 * An autogroup is made by setsid() and inherited: one per session. The
 * restore makes the session again, and its autogroup with it, and sets the
 * nice value in it; that is exact only if no autogroup spans sessions.
 */
int dump_check_autogroups(const struct dump_tree *tr)
{
	size_t i, j;

	for (i = 0; i < tr->nr; i++)
		for (j = 0; j < i; j++) {
			const struct dump_task *a = tr->t[i], *b = tr->t[j];

			if (a->zombie || b->zombie || a->stat.session != b->stat.session)
				continue;
			if (a->autogroup != b->autogroup) {
				pr_err("%d and %d are in session %d but in autogroups %ld and %ld: such autogroups are not supported yet",
				       a->pid, b->pid, a->stat.session, a->autogroup, b->autogroup);
				return -1;
			}
		}
	return 0;
}
