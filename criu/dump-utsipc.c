/*
 * Dump: the uts, ipc and time namespaces of the tree
 * (Documentation/namespaces.md, "uts and ipc namespaces", "Time namespace";
 * include/utsipc.h).
 *
 * A tree's root may have a uts, an ipc or a time namespace of its own (not criu's);
 * every other process of the tree must then share it. Its state is read by
 * a helper child of criu that joins the namespace (setns): uname() for the
 * names, /proc/sys for the ipc sysctls, which are those of the reader's ipc
 * namespace; its semaphore sets (SEM_STAT_ANY, GETALL) and message queues
 * (MSG_STAT_ANY, MSG_COPY), written by the child as ipcns-sem-11.img and
 * ipcns-msg-11.img; the time namespace's CLOCK_MONOTONIC and CLOCK_BOOTTIME
 * as the frozen tree sees them (timens-13.img): its clocks go on from there
 * after the restore. An ipc namespace holding SysV shared memory or POSIX
 * message queues is refused: not carried yet. In criu's own namespaces nothing is
 * dumped: the host's names and objects are not the tree's.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#define LOG_PREFIX "dump: "
#include "cgroup.h"
#include "dump.h"
#include "est-image.h"
#include "log.h"
#include "utsipc.h"

#include "est/ipc-msg.pb-c.h"
#include "est/ipc-sem.pb-c.h"
#include "est/ipc-var.pb-c.h"
#include "est/timens.pb-c.h"
#include "est/utsns.pb-c.h"

/* What the helper child reads inside the namespaces. */
struct ns_state {
	struct utsname uts;
	struct utsipc_vars vars;
	int shm, sem, msg, mq;		/* objects the namespace holds */
	struct timespec mono, boot;	/* the clocks of the time namespace */
	char cg[4096];			/* the root's cgroups seen from its cgroup namespace */
};

static const struct {
	const char *link;
	int flag;
} kinds[] = { { "uts", CLONE_NEWUTS }, { "ipc", CLONE_NEWIPC }, { "time", CLONE_NEWTIME },
	      { "cgroup", CLONE_NEWCGROUP } };

static int ns_stat(pid_t pid, const char *link, struct stat *st)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, link);
	if (stat(path, st)) {
		pr_perror("cannot stat %s", path);
		return -1;
	}
	return 0;
}

bool dump_utsipc_own(const struct dump_tree *tr, const char *link)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(link, kinds[i].link))
			return tr->own_ns & kinds[i].flag;
	return false;
}

static bool same(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev;
}

/* Every thread of @t (a uts, ipc or time namespace is per thread) in @ns. */
static int check_threads(const struct dump_task *t, size_t k, const struct stat *ns)
{
	struct stat st;
	char path[96];
	int i;

	for (i = 0; i < t->nr_tids; i++) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/ns/%s", t->pid, t->tids[i],
			 kinds[k].link);
		if (stat(path, &st)) {
			pr_perror("cannot stat %s", path);
			return -1;
		}
		if (!same(&st, ns)) {
			pr_err("%d (thread %d) is in another %s namespace than the tree's root %d: not supported yet",
			       t->pid, t->tids[i], kinds[k].link, t->tree->t[0]->pid);
			return -1;
		}
	}
	return 0;
}

/* The root's namespace of kind @k: criu's, or its own; every thread of the tree must share it. */
static int check_kind(struct dump_tree *tr, size_t k)
{
	struct stat self, root;
	size_t i;

	if (ns_stat(getpid(), kinds[k].link, &self) || ns_stat(tr->t[0]->pid, kinds[k].link, &root))
		return -1;
	for (i = 0; i < tr->nr; i++)
		if (!tr->t[i]->zombie && check_threads(tr->t[i], k, &root))
			return -1;	/* a zombie has no namespaces left */
	if (same(&self, &root))
		return 0;
	tr->own_ns |= kinds[k].flag;
	pr_info("the tree of %d has a %s namespace of its own", tr->t[0]->pid, kinds[k].link);
	return 0;
}

static int read_u64(const char *path, uint64_t *v)
{
	char buf[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	char *end;

	if (fd >= 0)
		close(fd);
	if (n <= 0) {
		pr_perror("cannot read %s", path);
		return -1;
	}
	buf[n] = '\0';
	errno = 0;
	/* the next ids read -1 when none was asked for: kept as a u32 */
	*v = buf[0] == '-' ? (uint32_t)strtol(buf, &end, 10) : strtoull(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n')) {
		pr_err("%s: not a number: %s", path, buf);
		return -1;
	}
	return 0;
}

static int read_sem(uint32_t sem[4])
{
	char buf[128];
	int fd = open(UTSIPC_SEM_PATH, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		goto err;
	buf[n] = '\0';
	if (sscanf(buf, "%" SCNu32 " %" SCNu32 " %" SCNu32 " %" SCNu32, &sem[0], &sem[1], &sem[2],
		   &sem[3]) == 4)
		return 0;
err:
	pr_perror("cannot read " UTSIPC_SEM_PATH);
	return -1;
}

/* POSIX message queues of this ipc namespace: its mqueue file system, in a mount namespace of our own. */
static int count_mq(void)
{
	struct dirent *de;
	int n = 0;
	DIR *d;

	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("mqueue", "/tmp", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) {
		pr_perror("cannot mount the ipc namespace's mqueue file system");
		return -1;
	}
	d = opendir("/tmp");
	if (!d) {
		pr_perror("cannot list the mqueue file system");
		return -1;
	}
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* An established image with entries and payloads, built in memory (ipcns-sem). */
struct img_buf {
	uint8_t *b;
	size_t len, cap;
	int err;
};

static void ib_put(struct img_buf *w, const void *p, size_t n)
{
	if (!w->err && w->len + n > w->cap) {
		size_t cap = (w->len + n) * 2;
		uint8_t *b = realloc(w->b, cap);

		if (b)
			w->b = b, w->cap = cap;
		else
			w->err = -1;
	}
	if (w->err || !n)
		return;
	memcpy(w->b + w->len, p, n);
	w->len += n;
}

static void ib_u32(struct img_buf *w, uint32_t v)
{
	uint8_t b[4] = { v, v >> 8, v >> 16, v >> 24 };

	ib_put(w, b, 4);
}

static void ib_entry(struct img_buf *w, const ProtobufCMessage *m)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *b = malloc(n ? n : 1);

	if (!b) {
		w->err = -1;
		return;
	}
	protobuf_c_message_pack(m, b);
	ib_u32(w, (uint32_t)n);
	ib_put(w, b, n);
	free(b);
}

static void fill_desc(Est__IpcDescEntry *d, const struct ipc_perm *p, int id)
{
	d->key = (uint32_t)p->__key;
	d->uid = p->uid, d->gid = p->gid;
	d->cuid = p->cuid, d->cgid = p->cgid;
	d->mode = p->mode;
	d->id = (uint32_t)id;
}

/* One semaphore set at @idx of the namespace into @w; 0 when the index is unused. */
static int dump_sem(struct img_buf *w, int idx)
{
	Est__IpcDescEntry d = EST__IPC_DESC_ENTRY__INIT;
	Est__IpcSemEntry e = EST__IPC_SEM_ENTRY__INIT;
	static const uint8_t zero[8];
	unsigned short *v;
	struct semid_ds ds;
	int id = semctl(idx, 0, SEM_STAT_ANY, &ds);
	unsigned long i;

	if (id < 0)
		return errno == EINVAL ? 0 : -1;	/* EINVAL: no set at idx */
	v = calloc(ds.sem_nsems, sizeof(*v));
	if (!v || semctl(id, 0, GETALL, v) < 0) {
		free(v);
		return -1;
	}
	fill_desc(&d, &ds.sem_perm, id);
	e.desc = &d;
	e.nsems = (uint32_t)ds.sem_nsems;
	ib_entry(w, &e.base);
	for (i = 0; i < ds.sem_nsems; i++)
		ib_put(w, (uint8_t[]){ v[i] & 0xff, v[i] >> 8 }, 2);
	ib_put(w, zero, (8 - (2 * ds.sem_nsems) % 8) % 8);
	free(v);
	return 0;
}

/* One message queue at @idx into @w, its messages read with MSG_COPY; 0 when unused. */
static int dump_msq(struct img_buf *w, int idx)
{
	static const uint8_t zero[8];
	Est__IpcDescEntry d = EST__IPC_DESC_ENTRY__INIT;
	Est__IpcMsgEntry e = EST__IPC_MSG_ENTRY__INIT;
	struct msqid_ds ds;
	int id = msgctl(idx, MSG_STAT_ANY, &ds);
	struct { long mtype; char text[]; } *m;
	unsigned long i;

	if (id < 0)
		return errno == EINVAL ? 0 : -1;	/* EINVAL: no queue at idx */
	m = malloc(sizeof(*m) + ds.__msg_cbytes + 1);	/* no message is larger than all */
	if (!m)
		return -1;
	fill_desc(&d, &ds.msg_perm, id);
	e.desc = &d;
	e.qbytes = (uint32_t)ds.msg_qbytes;
	e.qnum = (uint32_t)ds.msg_qnum;
	ib_entry(w, &e.base);
	for (i = 0; i < ds.msg_qnum; i++) {
		Est__IpcMsg h = EST__IPC_MSG__INIT;
		ssize_t n = msgrcv(id, m, ds.__msg_cbytes + 1, (long)i, MSG_COPY | IPC_NOWAIT);

		if (n < 0) {
			free(m);
			return -1;
		}
		h.mtype = (uint64_t)m->mtype;
		h.msize = (uint32_t)n;
		ib_entry(w, &h.base);
		ib_put(w, m->text, (size_t)n);
		ib_put(w, zero, (8 - (size_t)n % 8) % 8);
	}
	free(m);
	return 0;
}

/*
 * The objects of kind @k (semaphore sets, message queues) of this ipc
 * namespace into @dirfd/@name: each index up to the highest in use (@max,
 * from *_INFO) that holds one, as @one writes it.
 */
static int dump_objs(int dirfd, const char *name, uint32_t magic, int max,
		     int (*one)(struct img_buf *w, int idx))
{
	struct img_buf w = { 0 };
	int idx, fd, ret = -1;

	ib_u32(&w, EST_MAGIC_COMMON);
	ib_u32(&w, magic);
	for (idx = 0; max >= 0 && idx <= max; idx++)
		if (one(&w, idx))
			break;
	if (max < 0 || idx <= max || w.err) {
		pr_perror("cannot read the objects for %s", name);
		goto out;
	}
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ret = fd >= 0 && write(fd, w.b, w.len) == (ssize_t)w.len ? 0 : -1;
	if (fd >= 0 && close(fd))
		ret = -1;
	if (ret)
		pr_perror("cannot write %s", name);
out:
	free(w.b);
	return ret;
}

static int dump_sems(int dirfd)
{
	struct seminfo si;

	return dump_objs(dirfd, UTSIPC_IPC_SEM_IMG, UTSIPC_SEM_MAGIC,
			 semctl(0, 0, SEM_INFO, &si), dump_sem);
}

static int dump_msqs(int dirfd)
{
	struct msginfo mi;

	return dump_objs(dirfd, UTSIPC_IPC_MSG_IMG, UTSIPC_MSG_MAGIC,
			 msgctl(0, MSG_INFO, (struct msqid_ds *)&mi), dump_msq);
}

static int read_ipc(struct ns_state *s)
{
	struct shm_info shm;
	struct seminfo sem;
	struct msginfo msg;
	int i;

	for (i = 0; i < IV_NR; i++)
		if (read_u64(utsipc_var_path(i), &s->vars.v[i]))
			return -1;
	if (read_sem(s->vars.sem))
		return -1;
	if (shmctl(0, SHM_INFO, (struct shmid_ds *)&shm) < 0 ||
	    semctl(0, 0, SEM_INFO, &sem) < 0 || msgctl(0, MSG_INFO, (struct msqid_ds *)&msg) < 0) {
		pr_perror("cannot count the SysV objects of the ipc namespace");
		return -1;
	}
	s->shm = shm.used_ids;
	s->sem = sem.semusz;
	s->msg = msg.msgpool;
	s->mq = count_mq();
	return s->mq < 0 ? -1 : 0;
}

/* /proc/@root/cgroup as this child sees it, in the root's cgroup namespace. */
static int read_cgns_view(pid_t root, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", root);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, buf, size - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0 || (size_t)n == size - 1) {
		pr_perror("cannot read %s in its cgroup namespace (or over %zu bytes)", path, size - 2);
		return -1;
	}
	buf[n] = '\0';
	return 0;
}

/* The helper child: join the root's namespaces of @own, read, report on @fd. */
static int read_inside(pid_t root, int own, int fd, int dirfd)
{
	struct ns_state s;
	size_t i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		char path[64];
		int nsfd;

		if (!(own & kinds[i].flag))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", root, kinds[i].link);
		nsfd = open(path, O_RDONLY | O_CLOEXEC);
		if (nsfd < 0 || setns(nsfd, kinds[i].flag)) {
			pr_perror("cannot join %s", path);
			return -1;
		}
		close(nsfd);
	}
	if (uname(&s.uts)) {
		pr_perror("uname");
		return -1;
	}
	if ((own & CLONE_NEWCGROUP) && read_cgns_view(root, s.cg, sizeof(s.cg)))
		return -1;
	/* setns() moved this child's clocks into the namespace */
	if ((own & CLONE_NEWTIME) &&
	    (clock_gettime(CLOCK_MONOTONIC, &s.mono) || clock_gettime(CLOCK_BOOTTIME, &s.boot))) {
		pr_perror("cannot read the clocks of the tree's time namespace");
		return -1;
	}
	if ((own & CLONE_NEWIPC) &&
	    (read_ipc(&s) || (s.sem && dump_sems(dirfd)) || (s.msg && dump_msqs(dirfd))))
		return -1;
	return write(fd, &s, sizeof(s)) == sizeof(s) ? 0 : -1;
}

static int read_state(const struct dump_tree *tr, struct ns_state *s)
{
	int p[2], st = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC)) {
		pr_perror("pipe");
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		_exit(read_inside(tr->t[0]->pid, tr->own_ns, p[1], tr->dirfd) ? 1 : 0);
	}
	close(p[1]);
	n = pid < 0 ? -1 : read(p[0], s, sizeof(*s));
	close(p[0]);
	if (pid < 0)
		pr_perror("fork");
	else if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		n = -1;
	if (n != (ssize_t)sizeof(*s)) {
		pr_err("the namespaces of the tree's root %d could not be read", tr->t[0]->pid);
		return -1;
	}
	return 0;
}

static int write_uts(const struct dump_tree *tr, const struct ns_state *s)
{
	Est__UtsnsEntry e = EST__UTSNS_ENTRY__INIT;

	e.nodename = (char *)s->uts.nodename;
	e.domainname = (char *)s->uts.domainname;
	return est_write_one(tr->dirfd, UTSIPC_UTS_IMG, &e.base);
}

static int write_time(const struct dump_tree *tr, const struct ns_state *s)
{
	Est__TimensEntry e = EST__TIMENS_ENTRY__INIT;
	Est__Timespec m = EST__TIMESPEC__INIT, b = EST__TIMESPEC__INIT;

	m.tv_sec = (uint64_t)s->mono.tv_sec;
	m.tv_nsec = (uint64_t)s->mono.tv_nsec;
	b.tv_sec = (uint64_t)s->boot.tv_sec;
	b.tv_nsec = (uint64_t)s->boot.tv_nsec;
	e.monotonic = &m;
	e.boottime = &b;
	pr_info("the tree's time namespace: monotonic %lld.%09ld, boottime %lld.%09ld",
		(long long)s->mono.tv_sec, s->mono.tv_nsec, (long long)s->boot.tv_sec, s->boot.tv_nsec);
	return est_write_one(tr->dirfd, UTSIPC_TIME_IMG, &e.base);
}

static int write_ipc(const struct dump_tree *tr, const struct ns_state *s)
{
	Est__IpcVarEntry e;

	if (s->shm || s->mq) {
		pr_err("not supported yet: the tree's ipc namespace holds objects (%d SysV shared memory segments, %d POSIX message queues)",
		       s->shm, s->mq);
		return -1;
	}
	utsipc_var_to_entry(&s->vars, &e);
	return est_write_one(tr->dirfd, UTSIPC_IPC_VAR_IMG, &e.base);
}

int dump_utsipc(struct dump_tree *tr)
{
	struct ns_state s;
	size_t k;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (check_kind(tr, k))
			return -1;
	if (!tr->own_ns)
		return 0;
	if ((tr->own_ns & CLONE_NEWCGROUP) && cg_mode_of(tr->o) == CG_IGNORE) {
		pr_err("the tree of %d has a cgroup namespace of its own, which needs its groups: not supported yet with --manage-cgroups=ignore",
		       tr->t[0]->pid);
		return -1;
	}
	if (read_state(tr, &s))
		return -1;
	if ((tr->own_ns & CLONE_NEWUTS) && write_uts(tr, &s))
		return -1;
	if ((tr->own_ns & CLONE_NEWTIME) && write_time(tr, &s))
		return -1;
	if (tr->own_ns & CLONE_NEWCGROUP)
		memcpy(tr->cgns_view, s.cg, sizeof(tr->cgns_view));
	return (tr->own_ns & CLONE_NEWIPC) ? write_ipc(tr, &s) : 0;
}
