/*
 * Restore: the tree's own uts, ipc and time namespaces (include/utsipc.h,
 * Documentation/namespaces.md). criu reads their images before the first
 * fork; the root is cloned with CLONE_NEWUTS / CLONE_NEWIPC and, first
 * thing, sets its host and domain names and the ipc sysctls, which
 * /proc/sys shows and takes for the writer's own ipc namespace. A time
 * namespace cannot come with the clone (its clocks must be set before
 * anybody is in it): the root makes it for its children, sets its clocks
 * to go on from the dumped ones, and enters it. Its children inherit all.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>

#define LOG_PREFIX "restore: "
#include "est-image.h"
#include "log.h"
#include "restore.h"
#include "restore-task.h"

#include "est/ipc-msg.pb-c.h"
#include "est/ipc-sem.pb-c.h"
#include "est/ipc-var.pb-c.h"
#include "est/timens.pb-c.h"
#include "est/utsns.pb-c.h"

static int read_time(int dirfd, struct rst_utsipc *u)
{
	ProtobufCMessage *m;
	int ret = utsipc_read(dirfd, UTSIPC_TIME_IMG, &m);
	const Est__TimensEntry *e = (const Est__TimensEntry *)m;

	if (ret <= 0)
		return ret;
	/* checked: nanoseconds under a second, seconds at most UTSIPC_CLOCK_SEC_MAX */
	u->time = true;
	u->mono.tv_sec = (time_t)e->monotonic->tv_sec;
	u->mono.tv_nsec = (long)e->monotonic->tv_nsec;
	u->boot.tv_sec = (time_t)e->boottime->tv_sec;
	u->boot.tv_nsec = (long)e->boottime->tv_nsec;
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}

int rst_utsipc_read(int dirfd, struct rst_tree *tr)
{
	struct rst_utsipc *u = &tr->utsipc;
	ProtobufCMessage *m;
	int ret;

	memset(u, 0, sizeof(*u));
	ret = utsipc_read(dirfd, UTSIPC_UTS_IMG, &m);
	if (ret < 0)
		return -1;
	if (ret) {
		const Est__UtsnsEntry *e = (const Est__UtsnsEntry *)m;

		u->flags |= CLONE_NEWUTS;
		strcpy(u->nodename, e->nodename);	/* checked: at most UTSIPC_NAME_MAX */
		strcpy(u->domainname, e->domainname);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	ret = utsipc_read(dirfd, UTSIPC_IPC_VAR_IMG, &m);
	if (ret < 0)
		return -1;
	if (ret) {
		u->flags |= CLONE_NEWIPC;
		utsipc_var_from_entry((const Est__IpcVarEntry *)m, &u->vars);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	if ((u->flags & CLONE_NEWIPC) && (utsipc_load(dirfd, UTSIPC_IPC_SEM_IMG, &u->sems) < 0 ||
					   utsipc_load(dirfd, UTSIPC_IPC_MSG_IMG, &u->msqs) < 0))
		return -1;
	if (read_time(dirfd, u) < 0)
		return -1;
	if (u->time)
		pr_info("the root gets a new time namespace: monotonic %lld.%09ld, boottime %lld.%09ld as dumped",
			(long long)u->mono.tv_sec, u->mono.tv_nsec, (long long)u->boot.tv_sec,
			u->boot.tv_nsec);
	if (u->flags)
		pr_info("the root gets a new%s%s namespace", u->flags & CLONE_NEWUTS ? " uts" : "",
			u->flags & CLONE_NEWIPC ? " ipc" : "");
	return 0;
}

static void write_sysctl(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t len = (ssize_t)strlen(text);

	if (fd < 0 || write(fd, text, (size_t)len) != len)
		rst_die("cannot write %s to %s: %s", text, path, strerror(errno));
	close(fd);
}

static void apply_ipc(const struct utsipc_vars *v)
{
	char buf[96];
	int i;

	snprintf(buf, sizeof(buf), "%u %u %u %u", v->sem[0], v->sem[1], v->sem[2], v->sem[3]);
	write_sysctl(UTSIPC_SEM_PATH, buf);
	for (i = 0; i < IV_NR; i++) {
		/* a next id nobody asked for reads -1, which the kernel takes from nobody */
		if ((i == IV_MSG_NEXT_ID || i == IV_SEM_NEXT_ID || i == IV_SHM_NEXT_ID) &&
		    v->v[i] == UINT32_MAX)
			continue;
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v->v[i]);
		write_sysctl(utsipc_var_path(i), buf);
	}
}

/*
 * Semaphore set @e with its values @val, as the image says: its id through
 * kernel.sem_next_id, its creator by creating it with those effective ids,
 * then the values, the owner and the mode.
 */
/* semget or msgget (@get) of the object @d with its creator's effective ids and its id. */
static int get_as_creator(const Est__IpcDescEntry *d, const char *next_id, int (*get)(key_t, int, int),
			  int nr)
{
	uid_t euid = geteuid();
	gid_t egid = getegid();
	char buf[16];
	int id;

	snprintf(buf, sizeof(buf), "%u", d->id);
	write_sysctl(next_id, buf);
	if (setegid(d->cgid) || seteuid(d->cuid))
		rst_die("cannot take creator %u:%u of ipc object %u: %s", d->cuid, d->cgid,
			d->id, strerror(errno));
	id = get((key_t)d->key, nr, IPC_CREAT | IPC_EXCL | (int)d->mode);
	if (seteuid(euid) || setegid(egid))
		rst_die("cannot take back uid %u: %s", euid, strerror(errno));
	if (id != (int)d->id)
		rst_die("ipc object %u (key %#x) came back as %d: %s", d->id, d->key, id,
			id < 0 ? strerror(errno) : "another id");
	return id;
}

static int msgget3(key_t key, int nr, int flags)
{
	(void)nr;
	return msgget(key, flags);
}

/*
 * Message queue @k of @f with its messages: kernel.msgmnb and msgmax first
 * raised to its qbytes, so that it gets that limit and every message fits
 * (raising a queue's limit later needs CAP_SYS_RESOURCE); the dumped
 * values are written back after.
 */
static void make_msq(const struct utsipc_file *f, size_t k)
{
	const Est__IpcMsgEntry *e = (const Est__IpcMsgEntry *)f->m[k];
	const Est__IpcDescEntry *d = e->desc;
	const uint8_t *x = f->extra[k];
	struct { long mtype; char text[]; } *m = malloc(sizeof(*m) + e->qbytes + 1);
	struct msqid_ds ds;
	char buf[16];
	uint32_t i, msize;
	uint64_t mtype;
	int id;

	if (!m)
		rst_die("out of memory for message queue %u", d->id);
	snprintf(buf, sizeof(buf), "%u", e->qbytes);
	write_sysctl(utsipc_var_path(IV_MSGMNB), buf);
	write_sysctl(utsipc_var_path(IV_MSGMAX), buf);
	id = get_as_creator(d, utsipc_var_path(IV_MSG_NEXT_ID), msgget3, 0);
	for (i = 0; i < e->qnum; i++) {
		int64_t n = est_msg_next(x, (size_t)(f->buf + f->len - x), &mtype, &msize);

		if (n < 0)	/* walked at load: not reached */
			rst_die("message %u of queue %u does not fit", i, d->id);

		m->mtype = (long)mtype;
		memcpy(m->text, x + n - ((msize + 7ull) & ~7ull), msize);
		if (msgsnd(id, m, msize, IPC_NOWAIT))
			rst_die("cannot send message %u to queue %u: %s", i, d->id, strerror(errno));
		x += n;
	}
	free(m);
	if (msgctl(id, IPC_STAT, &ds))
		rst_die("cannot read queue %u: %s", d->id, strerror(errno));
	ds.msg_perm.uid = d->uid;
	ds.msg_perm.gid = d->gid;
	ds.msg_perm.mode = (unsigned short)d->mode;
	if (msgctl(id, IPC_SET, &ds))
		rst_die("cannot set queue %u: %s", d->id, strerror(errno));
}

/* Semaphore set @e with its values @val, as the image says; then the owner and mode. */
static void make_sem(const Est__IpcSemEntry *e, const uint8_t *val)
{
	const Est__IpcDescEntry *d = e->desc;
	unsigned short *v = calloc(e->nsems, sizeof(*v));
	struct semid_ds ds;
	uint32_t i;
	int id;

	if (!v)
		rst_die("out of memory for semaphore set %u", d->id);
	for (i = 0; i < e->nsems; i++)
		v[i] = (unsigned short)(val[2 * i] | val[2 * i + 1] << 8);
	id = get_as_creator(d, utsipc_var_path(IV_SEM_NEXT_ID), semget, (int)e->nsems);
	memset(&ds, 0, sizeof(ds));
	ds.sem_perm.uid = d->uid;
	ds.sem_perm.gid = d->gid;
	ds.sem_perm.mode = (unsigned short)d->mode;
	if (semctl(id, 0, SETALL, v) || semctl(id, 0, IPC_SET, &ds))
		rst_die("cannot set semaphore set %u: %s", d->id, strerror(errno));
	free(v);
}

/* @want - @now + @base, normalised: the offset that shows @want now, from a namespace at @base. */
static struct timespec offset(struct timespec want, struct timespec now, struct timespec base)
{
	struct timespec r = { want.tv_sec - now.tv_sec + base.tv_sec,
			      want.tv_nsec - now.tv_nsec + base.tv_nsec };

	while (r.tv_nsec < 0) {
		r.tv_nsec += 1000000000L;
		r.tv_sec--;
	}
	while (r.tv_nsec >= 1000000000L) {
		r.tv_nsec -= 1000000000L;
		r.tv_sec++;
	}
	return r;
}

/*
 * The new time namespace, made for the root's children and then entered:
 * its offsets (relative to the host's clocks) make it show the dumped
 * clocks now. A new namespace starts with its maker's offsets, which are
 * read back as @base: criu may itself be in a time namespace.
 */
static void enter_time(const struct rst_utsipc *u)
{
	struct timespec mono, boot, base[2];
	char buf[160];
	int fd, n;

	if (unshare(CLONE_NEWTIME))
		rst_die("cannot make a time namespace: %s", strerror(errno));
	fd = open("/proc/self/timens_offsets", O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : (int)read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	if (sscanf(buf, "monotonic %ld %ld boottime %ld %ld", &base[0].tv_sec, &base[0].tv_nsec,
		   &base[1].tv_sec, &base[1].tv_nsec) != 4)
		rst_die("cannot read /proc/self/timens_offsets: %s", n < 0 ? strerror(errno) : buf);
	if (clock_gettime(CLOCK_MONOTONIC, &mono) || clock_gettime(CLOCK_BOOTTIME, &boot))
		rst_die("clock_gettime: %s", strerror(errno));
	mono = offset(u->mono, mono, base[0]);
	boot = offset(u->boot, boot, base[1]);
	n = snprintf(buf, sizeof(buf), "monotonic %ld %ld\nboottime %ld %ld\n", (long)mono.tv_sec,
		     mono.tv_nsec, (long)boot.tv_sec, boot.tv_nsec);
	write_sysctl("/proc/self/timens_offsets", buf);
	fd = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWTIME))
		rst_die("cannot enter the new time namespace: %s", strerror(errno));
	close(fd);
}

void rst_utsipc_apply(const struct rst_tree *tr)
{
	const struct rst_utsipc *u = &tr->utsipc;
	size_t i;

	if (u->time)
		enter_time(u);

	if ((u->flags & CLONE_NEWUTS) &&
	    (sethostname(u->nodename, strlen(u->nodename)) ||
	     setdomainname(u->domainname, strlen(u->domainname))))
		rst_die("cannot set the host or domain name: %s", strerror(errno));
	if (!(u->flags & CLONE_NEWIPC))
		return;
	/* the objects first: the sysctls then set the next ids as dumped */
	for (i = 0; i < u->sems.nr; i++)
		make_sem((const Est__IpcSemEntry *)u->sems.m[i], u->sems.extra[i]);
	for (i = 0; i < u->msqs.nr; i++)
		make_msq(&u->msqs, i);
	apply_ipc(&u->vars);
}
