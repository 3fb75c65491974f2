/*
 * The uts, ipc and time namespace images: paths of the ipc sysctls, the checks
 * of what an image holds, reading and copying (include/utsipc.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define LOG_PREFIX "utsipc: "
#include "est-image.h"
#include "log.h"
#include "utsipc.h"

#include "est/ipc-msg.pb-c.h"
#include "est/ipc-sem.pb-c.h"
#include "est/ipc-shm.pb-c.h"
#include "est/ipc-var.pb-c.h"
#include "est/timens.pb-c.h"
#include "est/utsns.pb-c.h"

#define UTSIPC_FILE_MAX	(16u << 20)	/* 128 semaphore sets of 32000 values, and more */

static const char *const var_path[IV_NR] = {
	[IV_MSGMAX]		= "/proc/sys/kernel/msgmax",
	[IV_MSGMNB]		= "/proc/sys/kernel/msgmnb",
	[IV_MSGMNI]		= "/proc/sys/kernel/msgmni",
	[IV_AUTO_MSGMNI]	= "/proc/sys/kernel/auto_msgmni",
	[IV_SHMMAX]		= "/proc/sys/kernel/shmmax",
	[IV_SHMALL]		= "/proc/sys/kernel/shmall",
	[IV_SHMMNI]		= "/proc/sys/kernel/shmmni",
	[IV_SHM_RMID_FORCED]	= "/proc/sys/kernel/shm_rmid_forced",
	[IV_MQ_QUEUES_MAX]	= "/proc/sys/fs/mqueue/queues_max",
	[IV_MQ_MSG_MAX]		= "/proc/sys/fs/mqueue/msg_max",
	[IV_MQ_MSGSIZE_MAX]	= "/proc/sys/fs/mqueue/msgsize_max",
	[IV_MQ_MSG_DEFAULT]	= "/proc/sys/fs/mqueue/msg_default",
	[IV_MQ_MSGSIZE_DEFAULT]	= "/proc/sys/fs/mqueue/msgsize_default",
	[IV_MSG_NEXT_ID]	= "/proc/sys/kernel/msg_next_id",
	[IV_SEM_NEXT_ID]	= "/proc/sys/kernel/sem_next_id",
	[IV_SHM_NEXT_ID]	= "/proc/sys/kernel/shm_next_id",
};

const char *utsipc_var_path(enum ipc_var v)
{
	return var_path[v];
}

int utsipc_uts_check(const Est__UtsnsEntry *e, const char *img)
{
	if (strlen(e->nodename) > UTSIPC_NAME_MAX || strlen(e->domainname) > UTSIPC_NAME_MAX) {
		pr_err("%s: a host or domain name longer than %d bytes", img, UTSIPC_NAME_MAX);
		return -1;
	}
	return 0;
}

/* The clocks a time namespace showed: each one a time the kernel lets a namespace show. */
static int time_check(const Est__TimensEntry *e, const char *img)
{
	const Est__Timespec *t[2] = { e->monotonic, e->boottime };
	int i;

	for (i = 0; i < 2; i++)
		if (t[i]->tv_nsec >= 1000000000ULL || t[i]->tv_sec > UTSIPC_CLOCK_SEC_MAX) {
			pr_err("%s: a clock of %llu.%llu s, not a time a time namespace shows", img,
			       (unsigned long long)t[i]->tv_sec, (unsigned long long)t[i]->tv_nsec);
			return -1;
		}
	return 0;
}

/* A sysctl the kernel keeps as an int: at most INT_MAX, or -1 where @minus_one. */
static bool int_ok(uint32_t v, bool minus_one)
{
	return v <= INT_MAX || (minus_one && v == UINT32_MAX);
}

int utsipc_var_check(const Est__IpcVarEntry *e, const char *img)
{
	const uint32_t ints[] = { e->msg_ctlmax, e->msg_ctlmnb, e->msg_ctlmni, e->auto_msgmni,
				  e->shm_ctlmni, e->shm_rmid_forced, e->mq_queues_max,
				  e->mq_msg_max, e->mq_msgsize_max, e->mq_msg_default,
				  e->mq_msgsize_default };
	size_t i;

	if (e->n_sem_ctls != 4) {
		pr_err("%s: %zu values of kernel.sem, not 4", img, e->n_sem_ctls);
		return -1;
	}
	for (i = 0; i < 4; i++)
		if (!int_ok(e->sem_ctls[i], false))
			goto range;
	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		if (!int_ok(ints[i], false))
			goto range;
	if (!e->has_mq_msg_default || !e->has_mq_msgsize_default) {
		pr_err("not supported yet: %s: no fs.mqueue defaults (a kernel before 3.5 dumped it)", img);
		return -1;
	}
	if (!int_ok(e->has_msg_next_id ? e->msg_next_id : UINT32_MAX, true) ||
	    !int_ok(e->has_sem_next_id ? e->sem_next_id : UINT32_MAX, true) ||
	    !int_ok(e->has_shm_next_id ? e->shm_next_id : UINT32_MAX, true))
		goto range;
	return 0;
range:
	pr_err("%s: an ipc sysctl beyond the range of an int", img);
	return -1;
}

void utsipc_var_from_entry(const Est__IpcVarEntry *e, struct utsipc_vars *out)
{
	memcpy(out->sem, e->sem_ctls, sizeof(out->sem));
	out->v[IV_MSGMAX] = e->msg_ctlmax;
	out->v[IV_MSGMNB] = e->msg_ctlmnb;
	out->v[IV_MSGMNI] = e->msg_ctlmni;
	out->v[IV_AUTO_MSGMNI] = e->auto_msgmni;
	out->v[IV_SHMMAX] = e->shm_ctlmax;
	out->v[IV_SHMALL] = e->shm_ctlall;
	out->v[IV_SHMMNI] = e->shm_ctlmni;
	out->v[IV_SHM_RMID_FORCED] = e->shm_rmid_forced;
	out->v[IV_MQ_QUEUES_MAX] = e->mq_queues_max;
	out->v[IV_MQ_MSG_MAX] = e->mq_msg_max;
	out->v[IV_MQ_MSGSIZE_MAX] = e->mq_msgsize_max;
	out->v[IV_MQ_MSG_DEFAULT] = e->mq_msg_default;
	out->v[IV_MQ_MSGSIZE_DEFAULT] = e->mq_msgsize_default;
	/* absent (an older dump): none asked for, as a fresh namespace has */
	out->v[IV_MSG_NEXT_ID] = e->has_msg_next_id ? e->msg_next_id : UINT32_MAX;
	out->v[IV_SEM_NEXT_ID] = e->has_sem_next_id ? e->sem_next_id : UINT32_MAX;
	out->v[IV_SHM_NEXT_ID] = e->has_shm_next_id ? e->shm_next_id : UINT32_MAX;
}

void utsipc_var_to_entry(const struct utsipc_vars *in, Est__IpcVarEntry *e)
{
	est__ipc_var_entry__init(e);
	e->n_sem_ctls = 4;
	e->sem_ctls = (uint32_t *)in->sem;
	e->msg_ctlmax = in->v[IV_MSGMAX];
	e->msg_ctlmnb = in->v[IV_MSGMNB];
	e->msg_ctlmni = in->v[IV_MSGMNI];
	e->auto_msgmni = in->v[IV_AUTO_MSGMNI];
	e->shm_ctlmax = in->v[IV_SHMMAX];
	e->shm_ctlall = in->v[IV_SHMALL];
	e->shm_ctlmni = in->v[IV_SHMMNI];
	e->shm_rmid_forced = in->v[IV_SHM_RMID_FORCED];
	e->mq_queues_max = in->v[IV_MQ_QUEUES_MAX];
	e->mq_msg_max = in->v[IV_MQ_MSG_MAX];
	e->mq_msgsize_max = in->v[IV_MQ_MSGSIZE_MAX];
	e->has_mq_msg_default = e->has_mq_msgsize_default = true;
	e->mq_msg_default = in->v[IV_MQ_MSG_DEFAULT];
	e->mq_msgsize_default = in->v[IV_MQ_MSGSIZE_DEFAULT];
	e->has_msg_next_id = e->has_sem_next_id = e->has_shm_next_id = true;
	e->msg_next_id = in->v[IV_MSG_NEXT_ID];
	e->sem_next_id = in->v[IV_SEM_NEXT_ID];
	e->shm_next_id = in->v[IV_SHM_NEXT_ID];
}

static const Est__IpcDescEntry *desc_of(const ProtobufCMessage *m)
{
	if (m->descriptor == &est__ipc_sem_entry__descriptor)
		return ((const Est__IpcSemEntry *)m)->desc;
	return ((const Est__IpcMsgEntry *)m)->desc;
}

/* Object @i of @f (untrusted): its mode and id, an id and key no other object of @f has. */
static int desc_check(const struct utsipc_file *f, size_t i, const char *img)
{
	const Est__IpcDescEntry *d = desc_of(f->m[i]);
	size_t j;

	if (d->mode & ~0777u || d->id > INT_MAX) {
		pr_err("%s: object %u: mode %#o or id out of range", img, d->id, d->mode);
		return -1;
	}
	for (j = 0; j < i; j++) {
		const Est__IpcDescEntry *o = desc_of(f->m[j]);

		if (o->id == d->id || (o->key && o->key == d->key)) {
			pr_err("%s: two objects with id %u or key %#x", img, o->id, o->key);
			return -1;
		}
	}
	return 0;
}

static int sem_check(const struct utsipc_file *f, size_t i, const char *img)
{
	const Est__IpcSemEntry *e = (const Est__IpcSemEntry *)f->m[i];

	if (!e->nsems || e->nsems > UTSIPC_SEM_MAX) {
		pr_err("%s: semaphore set %u: %u semaphores (at most %d)", img, e->desc->id,
		       e->nsems, UTSIPC_SEM_MAX);
		return -1;
	}
	return desc_check(f, i, img);
}

/* A queue's messages (the parser walked them): types a message may have, all within qbytes. */
static int msg_check(const struct utsipc_file *f, size_t i, const char *img)
{
	const Est__IpcMsgEntry *e = (const Est__IpcMsgEntry *)f->m[i];
	const uint8_t *x = f->extra[i];
	uint64_t mtype, total = 0;
	uint32_t k, msize;
	int64_t n;

	for (k = 0; k < e->qnum; k++, x += n) {
		n = est_msg_next(x, f->buf + f->len - x, &mtype, &msize);
		total += msize;
		if (n < 0 || !mtype || mtype > LONG_MAX)
			break;
	}
	if (k < e->qnum || total > e->qbytes || e->qbytes > INT_MAX) {
		pr_err("%s: message queue %u: a message type out of range, or more than its %u bytes",
		       img, e->desc->id, e->qbytes);
		return -1;
	}
	return desc_check(f, i, img);
}

static int check_entry(const struct utsipc_file *f, size_t i, const char *name)
{
	const ProtobufCMessage *m = f->m[i];

	if (est_unknown_fields(m)) {
		pr_err("not supported yet: %s has fields this criu does not know", name);
		return -1;
	}
	if (m->descriptor == &est__utsns_entry__descriptor)
		return utsipc_uts_check((const Est__UtsnsEntry *)m, name);
	if (m->descriptor == &est__ipc_var_entry__descriptor)
		return utsipc_var_check((const Est__IpcVarEntry *)m, name);
	if (m->descriptor == &est__timens_entry__descriptor)
		return time_check((const Est__TimensEntry *)m, name);
	if (m->descriptor == &est__ipc_sem_entry__descriptor)
		return sem_check(f, i, name);
	if (m->descriptor == &est__ipc_msg_entry__descriptor)
		return msg_check(f, i, name);
	if (m->descriptor == &est__ipc_shm_entry__descriptor) {
		pr_err("not supported yet: %s: SysV shared memory segment %u of the tree's ipc namespace",
		       name, ((const Est__IpcShmEntry *)m)->desc->id);
		return -1;
	}
	pr_err("%s: not a uts, ipc or time namespace image", name);
	return -1;
}

void utsipc_file_release(struct utsipc_file *f)
{
	size_t i;

	for (i = 0; i < f->nr; i++)
		protobuf_c_message_free_unpacked(f->m[i], NULL);
	free(f->m);
	free(f->extra);
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

/* Every entry of @f->buf, each checked. */
static int parse_all(struct utsipc_file *f, const struct est_kind *k, const char *name)
{
	struct est_parser p;
	struct est_entry e;
	int ret;

	if (est_parse_init(&p, k, f->buf, f->len, name))
		return -1;
	while ((ret = est_parse_next(&p, &e)) == 1) {
		void *m = realloc(f->m, (f->nr + 1) * sizeof(*f->m));
		void *x = realloc(f->extra, (f->nr + 1) * sizeof(*f->extra));

		if (m)
			f->m = m;
		if (x)
			f->extra = x;
		if (!m || !x) {
			pr_err("%s: out of memory", name);
			est_entry_release(&e);
			return -1;
		}
		f->m[f->nr] = e.msg;
		f->extra[f->nr++] = e.extra;
		if (check_entry(f, f->nr - 1, name))
			return -1;
	}
	return ret ? -1 : 0;	/* no entry: uts and var need one (utsipc_read), objects none */
}

int utsipc_load(int dirfd, const char *name, struct utsipc_file *f)
{
	const struct est_kind *k = est_kind_by_name(name);
	struct stat st;

	memset(f, 0, sizeof(*f));
	if (!k || !k->magic) {
		pr_err("%s: not an image of the established format", name);
		return -1;
	}
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW)) {
		if (errno == ENOENT)
			return 0;
		pr_perror("%s", name);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		pr_err("%s: not a regular file", name);
		return -1;
	}
	if (est_load_file(dirfd, name, UTSIPC_FILE_MAX, &f->buf, &f->len) ||
	    parse_all(f, k, name)) {
		utsipc_file_release(f);
		return -1;
	}
	return 1;
}

int utsipc_read(int dirfd, const char *name, ProtobufCMessage **m)
{
	struct utsipc_file f;
	int ret = utsipc_load(dirfd, name, &f);

	*m = NULL;
	if (ret <= 0)
		return ret;
	if (f.nr != 1) {
		pr_err("%s: %zu entries, not one", name, f.nr);
		utsipc_file_release(&f);
		return -1;
	}
	*m = f.m[0];
	f.nr = 0;
	utsipc_file_release(&f);
	return 1;
}

int utsipc_copy(int in, const char *name, int out, const char *out_name)
{
	struct utsipc_file f;
	int fd, ret = utsipc_load(in, name, &f);

	if (ret == 0)
		pr_err("%s is missing", name);
	if (ret <= 0)
		return -1;
	/* checked: the same bytes go out */
	fd = openat(out, out_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ret = fd >= 0 && write(fd, f.buf, f.len) == (ssize_t)f.len ? 0 : -1;
	if (fd >= 0 && close(fd))
		ret = -1;
	if (ret)
		pr_perror("cannot write %s", out_name);
	utsipc_file_release(&f);
	return ret;
}
