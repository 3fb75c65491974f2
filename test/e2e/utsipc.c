/*
 * A tree with uts and ipc namespaces of its own (unshare -u -i): host and
 * domain names, ipc sysctls (kernel.* and fs.mqueue.*, the next ids
 * included). After the restore the root and its child check that they are
 * in namespaces other than init's, with the names and sysctls they set.
 *
 * Modes (argv[1] when there are two arguments):
 *   (none)  unshare(CLONE_NEWUTS | CLONE_NEWIPC) in the root
 *   uts     only CLONE_NEWUTS: the ipc namespace stays criu's
 *   pidns   the launcher clones the root with CLONE_NEWPID as well (the
 *           "pidns" flow of run.py: the root is pid 1, its pid in "pids")
 *   sem     two semaphore sets (a key, values, owner, creator, mode; one made
 *           through kernel.sem_next_id): the same ids, keys and values after
 *   msg     two message queues (one with messages of several types, sizes 0
 *           to 100, a qbytes below kernel.msgmnb; one empty, made by another
 *           creator): the same ids, keys, owners, limits and messages after
 *   shm, mq the tree's ipc namespace holds a SysV segment or a POSIX queue:
 *           the dump refuses
 * Every object is gone with the namespace when the tree ends.
 *   child   the child unshares a uts namespace of its own: the dump refuses
 *   thread  no namespace of its own but a thread's: unshare(CLONE_NEWUTS) in
 *           a second thread; the dump refuses (the namespace is per thread)
 *   thread_mnt, thread_cgroup  the same with a mount or a cgroup namespace
 *   host    no namespace of its own; a SysV segment in the host's ipc
 *           namespace, not attached: the dump leaves it alone (it is the
 *           host's), after the restore it is there with its bytes; removed
 */
#include "e2e-ns.h"
#include <mqueue.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#define NODE	"criu-utsipc-node"
#define DOMAIN	"criu-utsipc.domain"

static const struct {
	const char *path, *value;
} sysctls[] = {
	{ "/proc/sys/kernel/msgmax", "4000" },
	{ "/proc/sys/kernel/msgmnb", "20000" },
	{ "/proc/sys/kernel/msgmni", "77" },
	{ "/proc/sys/kernel/shmmax", "123456789" },
	{ "/proc/sys/kernel/shmall", "2097152" },
	{ "/proc/sys/kernel/shmmni", "1000" },
	{ "/proc/sys/kernel/shm_rmid_forced", "1" },
	{ "/proc/sys/kernel/sem", "100\t2000\t40\t50" },
	{ "/proc/sys/kernel/msg_next_id", "5" },
	{ "/proc/sys/kernel/sem_next_id", "6" },
	{ "/proc/sys/kernel/shm_next_id", "77" },
	{ "/proc/sys/fs/mqueue/queues_max", "100" },
	{ "/proc/sys/fs/mqueue/msg_max", "20" },
	{ "/proc/sys/fs/mqueue/msgsize_max", "16384" },
	{ "/proc/sys/fs/mqueue/msg_default", "15" },
	{ "/proc/sys/fs/mqueue/msgsize_default", "4096" },
};

static bool with_ipc;
static bool in_pidns;	/* the root is pid 1 of its own pid namespace: the launcher notes it */
static bool objects;	/* a SysV object was made: it took its next id (-1 again) */
static bool child_own;
static bool with_sems;	/* "sem": the sets below were made */
static bool with_msqs;	/* "msg": the queues below were made */	/* the child is in a uts namespace of its own */

static void put(const char *path, const char *value)
{
	FILE *f = fopen(path, "we");

	if (!f || fputs(value, f) < 0 || fclose(f))
		e2e_fail("writing %s to %s: %m", value, path);
}

/* "" when @path holds @want (one line), else what is wrong. */
static const char *check_one(const char *path, const char *want, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	char line[128] = "";

	if (!f || !fgets(line, sizeof(line), f)) {
		snprintf(buf, size, "cannot read %s", path);
	} else {
		line[strcspn(line, "\n")] = '\0';
		if (strcmp(line, want))
			snprintf(buf, size, "%s is %s, not %s", path, line, want);
	}
	if (f)
		fclose(f);
	return buf;
}

static bool same_ns(const char *link)
{
	char a[64], b[64], pa[64], pb[64];
	ssize_t n, m;

	snprintf(pa, sizeof(pa), "/proc/self/ns/%s", link);
	snprintf(pb, sizeof(pb), "/proc/%d/ns/%s", 1, link);
	n = readlink(pa, a, sizeof(a) - 1);
	m = readlink(pb, b, sizeof(b) - 1);
	return n > 0 && m > 0 && n == m && !memcmp(a, b, (size_t)n);
}

/* The semaphore sets of "sem": id, key, creator, owner, mode, values. */
static struct sem_want {
	int id;
	key_t key;
	uid_t cuid, uid;
	gid_t cgid, gid;
	unsigned short mode, nsems, val[3];
} sems[2] = {
	{ 6, 0x5eed0001, 0, 0, 0, 0, 0640, 3, { 3, 0, 32767 } },	/* SEMVMX */	/* 6: kernel.sem_next_id */
	{ -1, IPC_PRIVATE, 1001, 1003, 1002, 1004, 0600, 1, { 7 } },
};

static void make_sems(void)
{
	with_sems = true;
	struct semid_ds ds;
	size_t i;

	for (i = 0; i < 2; i++) {
		struct sem_want *w = &sems[i];
		int id;

		if (setegid(w->cgid) || seteuid(w->cuid))
			e2e_fail("seteuid: %m");
		id = semget(w->key, w->nsems, IPC_CREAT | IPC_EXCL | 0600);
		if (seteuid(0) || setegid(0) || id < 0 || (w->id >= 0 && id != w->id))
			e2e_fail("semget %zu: %d: %m", i, id);
		w->id = id;
		memset(&ds, 0, sizeof(ds));
		ds.sem_perm.uid = w->uid;
		ds.sem_perm.gid = w->gid;
		ds.sem_perm.mode = w->mode;
		if (semctl(id, 0, SETALL, w->val) || semctl(id, 0, IPC_SET, &ds))
			e2e_fail("semctl %d: %m", id);
	}
}

/* "" if the sets are as made. */
static const char *check_sems(char *buf, size_t size)
{
	unsigned short val[3];
	struct semid_ds ds;
	size_t i;

	for (i = 0; with_sems && !buf[0] && i < 2; i++) {
		const struct sem_want *w = &sems[i];

		if (semctl(w->id, 0, IPC_STAT, &ds) || semctl(w->id, 0, GETALL, val))
			snprintf(buf, size, "semaphore set %d: %m", w->id);
		else if (ds.sem_perm.__key != w->key || ds.sem_perm.uid != w->uid ||
			 ds.sem_perm.gid != w->gid || ds.sem_perm.cuid != w->cuid ||
			 ds.sem_perm.cgid != w->cgid || (ds.sem_perm.mode & 0777) != w->mode ||
			 ds.sem_nsems != w->nsems)
			snprintf(buf, size, "semaphore set %d: key %#x, ids %u:%u %u:%u, mode %#o, %lu semaphores",
				 w->id, ds.sem_perm.__key, ds.sem_perm.uid, ds.sem_perm.gid,
				 ds.sem_perm.cuid, ds.sem_perm.cgid, ds.sem_perm.mode, ds.sem_nsems);
		else if (memcmp(val, w->val, w->nsems * sizeof(val[0])))
			snprintf(buf, size, "semaphore set %d: values %u %u %u", w->id, val[0],
				 val[1], val[2]);
	}
	return buf;
}

/* The queues of "msg": [0] through kernel.msg_next_id (5), [1] by creator 1001:1002. */
static int msq[2];
static struct msg_want {
	long mtype;
	size_t len;
} msgs[] = { { 1, 5 }, { 2, 0 }, { 5, 100 }, { 1, 5 } };

static void msg_text(size_t i, char *buf)
{
	size_t k;

	for (k = 0; k < msgs[i].len; k++)
		buf[k] = (char)(i * 31 + k);	/* zero bytes too */
}

static void make_msqs(void)
{
	struct { long mtype; char text[128]; } m;
	struct msqid_ds ds;
	size_t i;

	with_msqs = true;
	msq[0] = msgget(0x5eed0002, IPC_CREAT | IPC_EXCL | 0620);
	if (msq[0] != 5 || setegid(1002) || seteuid(1001))
		e2e_fail("msgget: %d: %m", msq[0]);
	msq[1] = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (seteuid(0) || setegid(0) || msq[1] < 0)
		e2e_fail("msgget as 1001: %m");
	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		m.mtype = msgs[i].mtype;
		msg_text(i, m.text);
		if (msgsnd(msq[0], &m, msgs[i].len, IPC_NOWAIT))
			e2e_fail("msgsnd: %m");
	}
	if (msgctl(msq[0], IPC_STAT, &ds))
		e2e_fail("IPC_STAT: %m");
	ds.msg_qbytes = 4000;
	ds.msg_perm.uid = 1005;
	if (msgctl(msq[0], IPC_SET, &ds) || msgctl(msq[1], IPC_STAT, &ds))
		e2e_fail("IPC_SET: %m");
	ds.msg_perm.uid = 1003;
	ds.msg_perm.gid = 1004;
	if (msgctl(msq[1], IPC_SET, &ds))
		e2e_fail("IPC_SET: %m");
}

static const char *check_msqs(char *buf, size_t size)
{
	struct { long mtype; char text[128]; } m;
	struct msqid_ds a, b;
	char want[128];
	size_t i;

	if (!with_msqs || buf[0])
		return buf;
	if (msgctl(msq[0], IPC_STAT, &a) || msgctl(msq[1], IPC_STAT, &b))
		return snprintf(buf, size, "queues %d %d: %m", msq[0], msq[1]), buf;
	if (a.msg_perm.__key != 0x5eed0002 || a.msg_perm.uid != 1005 || a.msg_perm.cuid ||
	    (a.msg_perm.mode & 0777) != 0620 || a.msg_qbytes != 4000 || a.msg_qnum != 4 ||
	    b.msg_perm.__key || b.msg_perm.uid != 1003 || b.msg_perm.gid != 1004 ||
	    b.msg_perm.cuid != 1001 || b.msg_perm.cgid != 1002 || b.msg_qnum)
		return snprintf(buf, size, "queues: key %#x uid %u mode %#o qbytes %lu qnum %lu; %u:%u %u:%u %lu",
				a.msg_perm.__key, a.msg_perm.uid, a.msg_perm.mode, a.msg_qbytes,
				a.msg_qnum, b.msg_perm.uid, b.msg_perm.gid, b.msg_perm.cuid,
				b.msg_perm.cgid, b.msg_qnum), buf;
	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		ssize_t n = msgrcv(msq[0], &m, sizeof(m.text), (long)i, MSG_COPY | IPC_NOWAIT);

		msg_text(i, want);
		if (n != (ssize_t)msgs[i].len || m.mtype != msgs[i].mtype || memcmp(m.text, want, msgs[i].len))
			return snprintf(buf, size, "message %zu: %zd bytes, type %ld", i, n, m.mtype), buf;
	}
	return buf;
}

/* What the root and its child check after the restore: "" if all is right. */
static const char *check_state(char *buf, size_t size)
{
	struct utsname u;
	size_t i;

	buf[0] = '\0';
	if (uname(&u) || strcmp(u.nodename, NODE) || strcmp(u.domainname, DOMAIN))
		snprintf(buf, size, "names are %s / %s", u.nodename, u.domainname);
	else if (same_ns("uts"))
		snprintf(buf, size, "in init's uts namespace");
	else if (with_ipc && same_ns("ipc"))
		snprintf(buf, size, "in init's ipc namespace");
	for (i = 0; with_ipc && !buf[0] && i < sizeof(sysctls) / sizeof(sysctls[0]); i++)
		if (!objects || !strstr(sysctls[i].path, "next_id"))
			check_one(sysctls[i].path, sysctls[i].value, buf, size);
	check_sems(buf, size);
	return check_msqs(buf, size);
}

static void setup(const char *mode)
{
	size_t i;
	int id;

	if (sethostname(NODE, strlen(NODE)) || setdomainname(DOMAIN, strlen(DOMAIN)))
		e2e_fail("sethostname: %m");
	for (i = 0; with_ipc && i < sizeof(sysctls) / sizeof(sysctls[0]); i++)
		put(sysctls[i].path, sysctls[i].value);
	id = 0;
	if (!strcmp(mode, "sem"))
		make_sems();
	else if (!strcmp(mode, "msg"))
		make_msqs();
	else if (!strcmp(mode, "shm"))
		id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	else if (!strcmp(mode, "mq"))
		id = mq_open("/criu-utsipc", O_CREAT | O_RDWR | O_CLOEXEC, 0600, NULL);
	if (id < 0)
		e2e_fail("creating the %s object: %m", mode);
	objects = strcmp(mode, "") && strcmp(mode, "mq");
	if (!strcmp(mode, "mq"))
		close(id);	/* the queue stays in the namespace without an fd */
}

static int child_main(int r, int ready)
{
	char buf[256], c;

	e2e_child();
	if (!in_pidns)
		e2e_note_pid();
	if (child_own && unshare(CLONE_NEWUTS))
		return 5;
	close(ready);
	if (read(r, &c, 1) != 1)	/* the root says: restored */
		return 3;
	return check_state(buf, sizeof(buf))[0] ? 4 : 0;
}

static int tree_main(const char *mode)
{
	char buf[256];
	int p[2], st, rr, rw;
	pid_t kid;

	if (in_pidns && setsid() < 0)
		e2e_fail("setsid: %m");
	if (!in_pidns)
		e2e_note_pid();
	setup(mode);
	if (pipe(p))
		e2e_fail("pipe: %m");
	e2e_tree_pipe(&rr, &rw);
	kid = fork();
	if (kid == 0) {
		close(p[1]);
		close(rr);
		_exit(child_main(p[0], rw));
	}
	close(p[0]);
	if (kid < 0)
		e2e_fail("fork: %m");
	e2e_tree_wait(&rr, &rw);
	e2e_ready();
	e2e_wait_stop();
	if (check_state(buf, sizeof(buf))[0])
		e2e_fail("root: %s", buf);
	if (write(p[1], "G", 1) != 1 || waitpid(kid, &st, 0) != kid || !WIFEXITED(st) ||
	    WEXITSTATUS(st))
		e2e_fail("the child's check failed: %#x", st);
	e2e_pass();
}

/* The host's ipc namespace: a segment that is not the tree's. */
static int host_main(void)
{
	static const char text[] = "the host's segment";
	int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	char *p;

	if (id < 0)
		e2e_fail("shmget: %m");
	p = shmat(id, NULL, 0);
	if (p == (void *)-1) {
		shmctl(id, IPC_RMID, NULL);
		e2e_fail("shmat: %m");
	}
	memcpy(p, text, sizeof(text));
	shmdt(p);	/* not attached at the dump */
	e2e_ready();
	e2e_wait_stop();
	p = shmat(id, NULL, SHM_RDONLY);
	if (p == (void *)-1)
		e2e_fail("the host's segment %d is gone: %m", id);
	if (memcmp(p, text, sizeof(text))) {
		shmdt(p);
		shmctl(id, IPC_RMID, NULL);
		e2e_fail("the host's segment lost its bytes");
	}
	shmdt(p);
	if (shmctl(id, IPC_RMID, NULL))
		e2e_fail("IPC_RMID: %m");
	e2e_pass();
}

static int thread_flag = CLONE_NEWUTS;

static void *thread_main(void *arg)
{
	int *w = arg;

	if (unshare(thread_flag))
		e2e_fail("unshare in a thread: %m");
	close(*w);
	for (;;)
		pause();
	return NULL;
}

/* A thread in a uts namespace of its own, the process in criu's. */
static int thread_ns_main(void)
{
	int r, w;
	pthread_t th;

	e2e_note_pid();
	e2e_tree_pipe(&r, &w);
	if (pthread_create(&th, NULL, thread_main, &w))
		e2e_fail("pthread_create");
	e2e_tree_wait(&r, &w);
	e2e_ready();
	e2e_wait_stop();
	e2e_pass();
}

/* "pidns": the root is pid 1 of its own pid namespace too */
static int pidns_root(void)
{
	in_pidns = true;
	return tree_main("");
}

static int pidns_root_arg(void *unused)
{
	(void)unused;
	return pidns_root();
}

int main(int argc, char **argv)
{
	const char *mode = argc > 2 ? argv[1] : "";
	int flags = CLONE_NEWUTS | CLONE_NEWIPC;

	e2e_init(argc - (argc > 2), argv + (argc > 2));
	if (!strcmp(mode, "host"))
		return host_main();
	if (!strncmp(mode, "thread", 6)) {
		if (!strcmp(mode, "thread_mnt"))
			thread_flag = CLONE_NEWNS;
		else if (!strcmp(mode, "thread_cgroup"))
			thread_flag = CLONE_NEWCGROUP;
		return thread_ns_main();
	}
	with_ipc = strcmp(mode, "uts");
	child_own = !strcmp(mode, "child");
	if (!strcmp(mode, "pidns"))
		return e2e_ns_launch(CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC, pidns_root_arg, NULL);
	if (!with_ipc)
		flags = CLONE_NEWUTS;
	if (unshare(flags))
		e2e_fail("unshare: %m");
	return tree_main(mode);
}
