/*
 * memfd descriptors (images/memfd.proto): "/memfd:NAME (deleted)" links on
 * the kernel's tmpfs.
 *
 * Dump: one memfd_entry per open file description (flags, position), one
 * memfd_inode_entry per memfd (name, size, mode, owner, seals from
 * F_GET_SEALS) with its data runs in memfd-data.img, both read through a
 * fresh open of /proc/PID/fd/N (the task's position does not move, and an
 * O_PATH fd can be read so too). hugetlbfs
 * memfds are refused. A memfd the task also maps is a shared memory object
 * (dump-shmem.c): its inode entry then only names that object.
 *
 * Restore: each memfd is created once with memfd_create(name,
 * MFD_ALLOW_SEALING and MFD_EXEC or MFD_NOEXEC_SEAL as its mode and seals
 * say), filled, given mode and owner, then sealed; every open
 * file description is reopened from it through /proc/self/fd and seeked.
 * A mapped memfd is the shared memory code's object, created before the
 * files (restore-shmem.c): its descriptions are reopened from that one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include "kernel-compat.h"

#define LOG_PREFIX "memfd: "
#include "log.h"
#include "dump.h"
#include "file-data.h"
#include "files.h"
#include "image.h"
#include "memfd.pb-c.h"
#include "memfd.h"
#include "restore.h"

#define DELETED_SUFFIX	" (deleted)"
#define SETFL_FLAGS	(O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME)
#define HUGETLBFS_MAGIC	0x958458f6
#define MEMFD_FLAGS	(O_ACCMODE | O_APPEND | O_NONBLOCK | KERNEL_O_LARGEFILE | O_PATH | O_NOATIME)
#define RST_MAX_MEMFDS	65536
#define RST_MAX_MEMFD_SIZE (1ull << 40)

/* ---- dump ------------------------------------------------------------------ */

struct memfd_dump {
	struct fd_list		fds, inodes;
	uint64_t		*ino;		/* per inode entry (one tmpfs: ino is enough) */
	struct fdata_out	out;
};

static bool memfd_match(const struct fd_probe *p)
{
	return S_ISREG(p->st.st_mode) && p->st.st_nlink == 0 &&
	       !strncmp(p->link, MEMFD_PREFIX, strlen(MEMFD_PREFIX));
}

static struct memfd_dump *memfd_state(struct dump_files *d)
{
	if (!d->priv[FD_KIND__FD_MEMFD]) {
		d->priv[FD_KIND__FD_MEMFD] = calloc(1, sizeof(struct memfd_dump));
		if (!d->priv[FD_KIND__FD_MEMFD])
			pr_err("out of memory");
	}
	return d->priv[FD_KIND__FD_MEMFD];
}

/* NAME out of "/memfd:NAME (deleted)". */
static char *memfd_name(const struct fd_probe *p)
{
	const char *n = p->link + strlen(MEMFD_PREFIX);
	size_t len = strlen(n), sl = strlen(DELETED_SUFFIX);

	if (len < sl || strcmp(n + len - sl, DELETED_SUFFIX) || len - sl > MEMFD_NAME_MAX) {
		pr_err("fd %d: odd memfd link %s", p->fd, p->link);
		return NULL;
	}
	return strndup(n, len - sl);
}

/* Seals and filesystem through @src, criu's own open of the memfd. */
static int memfd_seals(const struct fd_probe *p, int src, uint32_t *seals)
{
	struct statfs sfs;
	int s;

	if (fstatfs(src, &sfs) || (unsigned long)sfs.f_type == HUGETLBFS_MAGIC) {
		pr_err("fd %d: %s is a hugetlbfs memfd (or unreadable); not supported yet", p->fd,
		       p->link);
		return -1;
	}
	s = fcntl(src, F_GET_SEALS);
	if (s < 0) {
		pr_perror("fd %d: F_GET_SEALS", p->fd);
		return -1;
	}
	*seals = (uint32_t)s;
	return 0;
}

static MemfdInodeEntry *new_inode(struct fd_probe *p, int src, uint32_t id)
{
	MemfdInodeEntry *e = calloc(1, sizeof(*e));

	if (!e) {
		pr_err("out of memory");
		return NULL;
	}
	memfd_inode_entry__init(e);
	e->id = id;
	e->name = memfd_name(p);
	e->data = fdata_new();
	e->size = (uint64_t)p->st.st_size;
	e->mode = p->st.st_mode & 07777;
	e->uid = p->st.st_uid;
	e->gid = p->st.st_gid;
	if (!e->name || !e->data || memfd_seals(p, src, &e->seals)) {
		protobuf_c_message_free_unpacked(&e->base, NULL);
		return NULL;
	}
	return e;
}

/*
 * The id of the shared memory object (dump-shmem.c) that @p's memfd is
 * when the task also maps it, or 0: the object then carries the content.
 */
static uint32_t mapped_object(const struct fd_probe *p)
{
	size_t i;

	for (i = 0; p->shm && i < p->shm->nr; i++)
		if (p->shm->v[i].dev == p->st.st_dev && p->shm->v[i].ino == p->st.st_ino)
			return p->shm->v[i].e.id;
	return 0;
}

/* A new open of @p's memfd (O_PATH fds too), which criu may seek. */
static int open_src(const struct fd_probe *p)
{
	char name[16];
	int src;

	snprintf(name, sizeof(name), "%d", p->fd);
	src = openat(p->procfd, name, O_RDONLY | O_CLOEXEC);
	if (src < 0)
		pr_perror("fd %d: cannot open %s to read it", p->fd, p->link);
	return src;
}

static MemfdInodeEntry *save_inode(struct memfd_dump *m, struct fd_probe *p, uint32_t id)
{
	int src = open_src(p);
	MemfdInodeEntry *e = src < 0 ? NULL : new_inode(p, src, id);

	if (e) {
		e->shmem_id = mapped_object(p);
		e->has_shmem_id = e->shmem_id != 0;
	}
	if (e && !e->has_shmem_id &&
	    fdata_save(&m->out, p->imgdir, IMG_MEMFD_DATA, src, e->size, e->data)) {
		protobuf_c_message_free_unpacked(&e->base, NULL);
		e = NULL;
	}
	if (src >= 0)
		close(src);
	return e;
}

/* The inode entry of @p's memfd, new or already seen through another fd. */
static int memfd_inode(struct memfd_dump *m, struct fd_probe *p, uint32_t *id)
{
	MemfdInodeEntry *e;
	uint64_t *ino;
	size_t i;

	for (i = 0; i < m->inodes.nr; i++)
		if (m->ino[i] == p->st.st_ino) {
			*id = ((MemfdInodeEntry *)m->inodes.v[i])->id;
			return 0;
		}
	ino = realloc(m->ino, (m->inodes.nr + 1) * sizeof(*ino));
	if (!ino) {
		pr_err("out of memory");
		return -1;
	}
	m->ino = ino;
	e = save_inode(m, p, (uint32_t)m->inodes.nr + 1);
	if (!e)
		return -1;
	m->ino[m->inodes.nr] = p->st.st_ino;
	if (fd_list_add(&m->inodes, e))
		return -1;
	*id = e->id;
	pr_info("fd %d: memfd '%s', %llu bytes in %zu runs, seals %#x%s", p->fd, e->name,
		(unsigned long long)e->size, e->data->n_runs, e->seals,
		e->has_shmem_id ? ", mapped: the shmem object's" : "");
	return 0;
}

static int memfd_dump(struct dump_files *d, struct fd_probe *p, uint32_t *id)
{
	struct memfd_dump *m = memfd_state(d);
	MemfdEntry *e;
	uint32_t inode;

	if (!m || memfd_inode(m, p, &inode))
		return -1;
	e = malloc(sizeof(*e));
	if (!e) {
		pr_err("out of memory");
		return -1;
	}
	memfd_entry__init(e);
	e->id = fd_obj_id(d);
	e->inode_id = inode;
	e->flags = p->fi.flags & ~O_CLOEXEC;
	e->pos = p->fi.pos < 0 ? 0 : (uint64_t)p->fi.pos;
	if (fd_list_add(&m->fds, e))
		return -1;
	*id = e->id;
	return 0;
}

static int memfd_write(struct dump_files *d, int dirfd)
{
	struct memfd_dump *m = d->priv[FD_KIND__FD_MEMFD];

	if (!m || !m->fds.nr) {	/* none: drop an earlier dump's */
		unlinkat(dirfd, img_desc(IMG_MEMFDS)->fmt, 0);
		unlinkat(dirfd, img_desc(IMG_MEMFD_INODES)->fmt, 0);
		unlinkat(dirfd, img_desc(IMG_MEMFD_DATA)->fmt, 0);
		return 0;
	}
	if (fd_write_entries(dirfd, IMG_MEMFD_INODES, m->inodes.v, m->inodes.nr) ||
	    fd_write_entries(dirfd, IMG_MEMFDS, m->fds.v, m->fds.nr) ||
	    fdata_start(&m->out, dirfd, IMG_MEMFD_DATA))	/* all mapped: an empty one */
		return -1;
	return fdata_commit(&m->out);
}

static void free_list(struct fd_list *l)
{
	size_t i;

	for (i = 0; i < l->nr; i++)
		protobuf_c_message_free_unpacked(l->v[i], NULL);
	free(l->v);
}

static void memfd_free(struct dump_files *d)
{
	struct memfd_dump *m = d->priv[FD_KIND__FD_MEMFD];

	if (!m)
		return;
	fdata_abort(&m->out);
	free_list(&m->fds);
	free_list(&m->inodes);
	free(m->ino);
	free(m);
	d->priv[FD_KIND__FD_MEMFD] = NULL;
}

/* ---- restore ----------------------------------------------------------------- */

struct memfd_rst {
	MemfdInodeEntry	**inode;
	size_t		nr_inode;
	int		*fd;		/* per inode: created memfd, -1 */
	bool		*creator_given;	/* per inode: its creating description went to a task */
	MemfdEntry	**e;
	size_t		nr;
	struct cr_img	*raw;
	uint64_t	raw_size;
	struct fd_rst	*r;
};

static int check_inode(const ProtobufCMessage *msg, void *ctx)
{
	const MemfdInodeEntry *e = (const MemfdInodeEntry *)msg;
	const struct memfd_rst *m = ctx;
	char what[64];

	if (m->nr_inode >= RST_MAX_MEMFDS || e->id != m->nr_inode + 1) {
		pr_err("memfd-inodes.img: entry %zu has id %u (ids are 1, 2, ... up to %d)",
		       m->nr_inode, e->id, RST_MAX_MEMFDS);
		return -1;
	}
	if (strlen(e->name) > MEMFD_NAME_MAX || e->size > RST_MAX_MEMFD_SIZE ||
	    (e->seals & ~(uint32_t)MEMFD_KNOWN_SEALS) || (e->mode & ~07777u)) {
		pr_err("memfd-inodes.img: memfd %u: name, size %llu, seals %#x or mode %o invalid",
		       e->id, (unsigned long long)e->size, e->seals, e->mode);
		return -1;
	}
	if (e->has_shmem_id && (!e->shmem_id || e->data->n_runs)) {
		pr_err("memfd-inodes.img: memfd %u is shmem object %u and has %zu runs of its own",
		       e->id, e->shmem_id, e->data->n_runs);
		return -1;
	}
	snprintf(what, sizeof(what), "memfd-inodes.img: memfd %u", e->id);
	return fdata_check(what, e->data, e->size, m->raw_size);
}

static int check_fd(const ProtobufCMessage *msg, void *ctx)
{
	const MemfdEntry *e = (const MemfdEntry *)msg;
	struct memfd_rst *m = ctx;

	if (m->nr >= RST_MAX_MEMFDS || !e->inode_id || e->inode_id > m->nr_inode ||
	    (e->flags & ~(uint32_t)MEMFD_FLAGS)) {
		pr_err("memfds.img: entry %u names memfd %u (of %zu) or has flags %o", e->id,
		       e->inode_id, m->nr_inode, e->flags);
		return -1;
	}
	return fd_rst_add(m->r, FD_KIND__FD_MEMFD, e->id, msg);
}

static int memfd_read(struct fd_rst *r, int dirfd)
{
	struct memfd_rst *m = calloc(1, sizeof(*m));

	if (!m) {
		pr_err("out of memory");
		return -1;
	}
	r->priv[FD_KIND__FD_MEMFD] = m;
	m->r = r;
	if (faccessat(dirfd, img_desc(IMG_MEMFDS)->fmt, F_OK, 0) && errno == ENOENT)
		return 0;
	m->raw = fdata_open(dirfd, IMG_MEMFD_DATA, &m->raw_size);
	if (!m->raw ||
	    img_read_all(dirfd, IMG_MEMFD_INODES, 0, 0, check_inode, m,
			 (ProtobufCMessage ***)&m->inode, &m->nr_inode) ||
	    img_read_all(dirfd, IMG_MEMFDS, 0, 0, check_fd, m, (ProtobufCMessage ***)&m->e, &m->nr))
		return -1;
	m->fd = fdata_fds_new(m->nr_inode);
	m->creator_given = calloc(m->nr_inode + 1, sizeof(*m->creator_given));
	if (!m->fd || !m->creator_given) {
		pr_err("out of memory");
		return -1;
	}
	return 0;
}

static int seal(int fd, const MemfdInodeEntry *e)
{
	if (fchown(fd, e->uid, e->gid) || fchmod(fd, e->mode)) {
		pr_perror("memfd '%s': cannot give it owner %u:%u and mode %o", e->name, e->uid,
			  e->gid, e->mode);
		return -1;
	}
	if (e->seals && fcntl(fd, F_ADD_SEALS, (int)e->seals)) {
		pr_perror("memfd '%s': cannot add seals %#x", e->name, e->seals);
		return -1;
	}
	return 0;
}

int memfd_create_like(const char *name, uint32_t mode, uint32_t seals)
{
	unsigned int exec = (seals & F_SEAL_EXEC) && !(mode & 0111) ? MFD_NOEXEC_SEAL : MFD_EXEC;
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | exec);

	/* before 6.3 neither flag is known (EINVAL), and every memfd may be executed */
	if (fd < 0 && errno == EINVAL)
		fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	return fd;
}

static int create_memfd(struct memfd_rst *m, size_t k)
{
	const MemfdInodeEntry *e = m->inode[k];
	char what[300];
	int fd = memfd_create_like(e->name, e->mode, e->seals);

	if (fd < 0) {
		pr_perror("memfd_create('%s')", e->name);
		return -1;
	}
	snprintf(what, sizeof(what), "memfd '%s'", e->name);
	if (fdata_fill(what, fd, img_raw_fd(m->raw), e->data, e->size) || seal(fd, e)) {
		close(fd);
		return -1;
	}
	m->fd[k] = fd;
	return 0;
}

/* The descriptor of the (mapped) memfd @e, created by the shmem code. */
static int shmem_fd(const struct fd_rst *r, const MemfdInodeEntry *e)
{
	const ShmemEntry *se = r->shm ? rst_shmem_find(r->shm, e->shmem_id, NULL) : NULL;
	size_t k = 0;

	if (se)
		rst_shmem_find(r->shm, e->shmem_id, &k);
	if (!se || se->kind != SHMEM_KIND__SHMEM_MEMFD || r->shm->fd[k] < 0) {
		pr_err("memfd '%s' names shared memory object %u, which is no memfd created here",
		       e->name, e->shmem_id);
		return -1;
	}
	return r->shm->fd[k];
}

/* The memfd of inode @k: created here, or the mapped one's object. */
static int inode_fd(struct fd_rst *r, struct memfd_rst *m, size_t k)
{
	if (m->inode[k]->has_shmem_id)
		return shmem_fd(r, m->inode[k]);
	if (m->fd[k] < 0 && create_memfd(m, k))
		return -1;
	return m->fd[k];
}

/*
 * memfd_create()'s own description is read-write but not counted as a
 * writer of the inode (fexecve() of the memfd works while it is open);
 * one reopened read-write through /proc is (ETXTBSY). So the first
 * read-write description of a memfd is the creating one, a dup of @fd with
 * the status flags of @e; -1 when they cannot be given to it (reopen then).
 */
static int creator_description(int fd, const MemfdEntry *e)
{
	int want = (int)e->flags & ~O_CLOEXEC, dup;

	if ((want & O_ACCMODE) != O_RDWR)
		return -1;
	dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (dup < 0)
		return -1;
	if (fcntl(dup, F_SETFL, want & SETFL_FLAGS) || (fcntl(dup, F_GETFL) | O_LARGEFILE) !=
							 (want | O_LARGEFILE)) {
		close(dup);
		return -1;
	}
	return dup;
}

static int memfd_open(struct fd_rst *r, const struct fd_obj *o, const struct cr_options *opt)
{
	struct memfd_rst *m = r->priv[FD_KIND__FD_MEMFD];
	const MemfdEntry *e = (const MemfdEntry *)o->e;
	size_t k = e->inode_id - 1;	/* checked on reading */
	int src = inode_fd(r, m, k), fd = -1;
	char self[64];

	(void)opt;
	if (src < 0)
		return -1;
	if (!m->creator_given[k]) {
		fd = creator_description(src, e);
		m->creator_given[k] = fd >= 0;
	}
	if (fd < 0) {
		snprintf(self, sizeof(self), "/proc/self/fd/%d", src);
		fd = open(self, (int)e->flags | O_CLOEXEC);
	}
	if (fd < 0) {
		pr_perror("memfd '%s': cannot open it again with flags %o", m->inode[k]->name,
			  e->flags);
		return -1;
	}
	if (!(e->flags & O_PATH) && lseek(fd, (off_t)e->pos, SEEK_SET) != (off_t)e->pos) {
		pr_perror("memfd '%s': cannot seek to %llu", m->inode[k]->name,
			  (unsigned long long)e->pos);
		close(fd);
		return -1;
	}
	return fd;
}

/* Every open file description of one memfd is opened by one process. */
static uint64_t memfd_group(const struct fd_rst *r, const struct fd_obj *o)
{
	(void)r;
	return ((const MemfdEntry *)o->e)->inode_id;
}

static void memfd_rst_free(struct fd_rst *r)
{
	struct memfd_rst *m = r->priv[FD_KIND__FD_MEMFD];

	if (!m)
		return;
	fdata_fds_free(m->fd, m->nr_inode);
	free(m->creator_given);
	if (m->raw)
		img_close(m->raw);
	img_free_all((ProtobufCMessage **)m->inode, m->nr_inode);
	img_free_all((ProtobufCMessage **)m->e, m->nr);
	free(m);
	r->priv[FD_KIND__FD_MEMFD] = NULL;
}

const struct fd_ops fd_memfd_ops = {
	.kind = FD_KIND__FD_MEMFD, .name = "memfd",
	.img = IMG_MEMFDS,
	.match = memfd_match, .dump = memfd_dump, .write = memfd_write, .free = memfd_free,
	.read = memfd_read, .open = memfd_open, .group = memfd_group,
	.rst_free = memfd_rst_free,
};
