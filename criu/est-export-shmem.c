/*
 * Our shared memory and memfds -> the established format (plan §2.8, §3.6).
 *
 * shmem.img objects: an anonymous one (MAP_SHARED|MAP_ANONYMOUS, /dev/zero)
 * is named by its vmas' shmid (ANON_SHARED) and has no size field: its size
 * is the furthest end of its vmas, so an object larger than that cannot be
 * written. A memfd object becomes a memfd.img inode plus one files.img MEMFD
 * entry its vmas name (MEMFD | FILE_SHARED or FILE_PRIVATE, fdflags the
 * open mode the mapping needs). The content of both is
 * pagemap-shmem-SHMID.img + pages-N.img (vaddr = byte offset).
 *
 * memfds.img descriptions become files.img MEMFD entries; their inodes
 * (memfd-inodes.img) memfd.img entries, or the mapped object's when the
 * inode is mapped. Byte runs of memfd-data.img become page runs, the last
 * partial page zero-filled (the size cuts it at restore).
 *
 * Ids: shmid and inode_id of object K are K; of an unmapped memfd inode I,
 * (the largest object id) + I. The MEMFD entries of mapped objects get file
 * ids above every id our images use.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define LOG_PREFIX "est-export: "
#include "est-export.h"
#include "est-export-int.h"
#include "files.h"
#include "log.h"
#include "vma.h"

#include "files.pb-c.h"
#include "memfd.pb-c.h"
#include "shmem.pb-c.h"
#include "est/fdinfo.pb-c.h"
#include "est/fown.pb-c.h"
#include "est/memfd.pb-c.h"
#include "est/pagemap.pb-c.h"

#define PAGE		4096ULL
#define WRITE_SEALS	(F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)

struct exp_shm {
	ProtobufCMessage **obj, **ino, **mfd;	/* shmem.img, memfd-inodes.img, memfds.img */
	size_t nr_obj, nr_ino, nr_mfd;
	uint32_t *file_id;	/* per object: the MEMFD entry its vmas name (memfd objects) */
	uint64_t *extent;	/* per object: the furthest end of its vmas */
	uint32_t ino_base;	/* the largest object id */
};

static Est__FownEntry no_fown = EST__FOWN_ENTRY__INIT;

static const ShmemEntry *obj(const struct exp_shm *s, size_t i)
{
	return (const ShmemEntry *)s->obj[i];
}

/* The largest object id our images use: fds-PID.img, reg-files.img, memfds.img. */
static int max_file_id(struct exp *ex, uint32_t *max)
{
	ProtobufCMessage **m;
	size_t nr, i, k;

	*max = 0;
	for (i = 0; i < ex->nr_procs; i++) {
		char name[64];

		snprintf(name, sizeof(name), "fds-%u.img", ex->procs[i].ps->pid);
		if (faccessat(ex->in, name, F_OK, 0))
			continue;
		if (img_read_all(ex->in, IMG_FDS, ex->procs[i].ps->pid, 0, NULL, NULL, &m, &nr))
			return -1;
		for (k = 0; k < nr; k++)
			if (((FdEntry *)m[k])->id > *max)
				*max = ((FdEntry *)m[k])->id;
		img_free_all(m, nr);
	}
	if (exp_read_optional(ex, IMG_REG_FILES, "reg-files.img", &m, &nr))
		return -1;
	for (k = 0; k < nr; k++)
		if (((RegFileEntry *)m[k])->id > *max)
			*max = ((RegFileEntry *)m[k])->id;
	img_free_all(m, nr);
	return 0;
}

int exp_shm_read(struct exp *ex)
{
	struct exp_shm *s = exp_zalloc(sizeof(*s));
	uint32_t id;
	size_t i;

	ex->shm = s;
	if (!s || exp_read_optional(ex, IMG_SHMEM, "shmem.img", &s->obj, &s->nr_obj) ||
	    exp_read_optional(ex, IMG_MEMFD_INODES, "memfd-inodes.img", &s->ino, &s->nr_ino) ||
	    exp_read_optional(ex, IMG_MEMFDS, "memfds.img", &s->mfd, &s->nr_mfd))
		return -1;
	s->file_id = exp_zalloc(s->nr_obj * sizeof(*s->file_id));
	s->extent = exp_zalloc(s->nr_obj * sizeof(*s->extent));
	if (!s->file_id || !s->extent || max_file_id(ex, &id))
		return -1;
	for (i = 0; i < s->nr_mfd; i++)
		if (((MemfdEntry *)s->mfd[i])->id > id)
			id = ((MemfdEntry *)s->mfd[i])->id;
	if (id > ex->max_id)
		ex->max_id = id;	/* new ids, of every kind, come from exp_new_id() */
	for (i = 0; i < s->nr_obj; i++) {
		if (obj(s, i)->id > s->ino_base)
			s->ino_base = obj(s, i)->id;
		if (obj(s, i)->kind == SHMEM_KIND__SHMEM_MEMFD)
			s->file_id[i] = exp_new_id(ex);
	}
	return 0;
}

void exp_shm_release(struct exp *ex)
{
	struct exp_shm *s = ex->shm;

	if (!s)
		return;
	img_free_all(s->obj, s->nr_obj);
	img_free_all(s->ino, s->nr_ino);
	img_free_all(s->mfd, s->nr_mfd);
	free(s->file_id);
	free(s->extent);
	free(s);
	ex->shm = NULL;
}

static ssize_t obj_index(const struct exp_shm *s, uint32_t id)
{
	size_t i;

	for (i = 0; s && i < s->nr_obj; i++)
		if (obj(s, i)->id == id)
			return i;
	return -1;
}

/* ---- vmas ---------------------------------------------------------------------- */

static int anon_vma(Est__VmaEntry *e, const VmaEntry *v, const char *img)
{
	if (vma_max_prot(v) != (PROT_READ | PROT_WRITE | PROT_EXEC) &&
	    exp_cannot(img, "shared anonymous vma [%#llx, %#llx) may not get every protection (max %#x)",
		       (unsigned long long)v->start, (unsigned long long)v->end, vma_max_prot(v)))
		return -1;
	e->status = ST_REGULAR | ST_ANON_SHARED;
	e->flags |= MAP_ANONYMOUS;
	return 0;
}

int exp_shm_vma(struct exp *ex, Est__VmaEntry *e, const VmaEntry *v, const char *img)
{
	struct exp_shm *s = ex->shm;
	ssize_t i = v->has_shmem_id ? obj_index(s, v->shmem_id) : -1;
	const ShmemEntry *o;
	bool shared = v->kind == VMA_KIND__VMA_ANON_SHARED;

	if (i < 0) {
		pr_err("%s: vma [%#llx, %#llx) maps no object of shmem.img", img,
		       (unsigned long long)v->start, (unsigned long long)v->end);
		return -1;
	}
	o = obj(s, i);
	if (shared && v->pgoff + (v->end - v->start) > s->extent[i])
		s->extent[i] = v->pgoff + (v->end - v->start);
	e->shmid = o->id;
	if (o->kind == SHMEM_KIND__SHMEM_ANON) {
		if (!shared) {
			pr_err("%s: vma [%#llx, %#llx) maps anonymous shared memory privately", img,
			       (unsigned long long)v->start, (unsigned long long)v->end);
			return -1;
		}
		return anon_vma(e, v, img);
	}
	/* a memfd: mapped through its MEMFD entry, opened as the mapping needs */
	e->status = ST_REGULAR | ST_MEMFD | (shared ? ST_FILE_SHARED : ST_FILE_PRIVATE);
	e->shmid = s->file_id[i];
	e->has_fdflags = true;
	e->fdflags = O_RDONLY;
	if (shared && ((vma_max_prot(v) & PROT_WRITE) || v->sealed_shared)) {
		e->fdflags = O_RDWR;
		/* the format's restore maps after sealing: a write seal takes "mw" away */
		if ((vma_max_prot(v) & PROT_WRITE) && o->has_seals && (o->seals & WRITE_SEALS) &&
		    exp_cannot(img, "vma [%#llx, %#llx) may be written although its memfd is sealed against writes",
			       (unsigned long long)v->start, (unsigned long long)v->end))
			return -1;
	}
	return 0;
}

/* ---- files.img ----------------------------------------------------------------- */

static uint64_t ino_key(const struct exp_shm *s, const MemfdInodeEntry *in)
{
	return in->has_shmem_id ? in->shmem_id : (uint64_t)s->ino_base + in->id;
}

static void add_memfd(struct exp *ex, struct exp_img *w, uint32_t id, uint32_t flags,
		      uint64_t pos, uint64_t inode)
{
	Est__FileEntry f = EST__FILE_ENTRY__INIT;
	Est__MemfdFileEntry e = EST__MEMFD_FILE_ENTRY__INIT;

	e.id = id;
	e.flags = flags;
	e.pos = pos;
	e.fown = &no_fown;
	e.inode_id = inode;
	f.type = EST__FD_TYPES__MEMFD;
	f.id = id;
	f.memfd = &e;
	exp_file_add(ex, w, &f);	/* with its signal owner and O_ASYNC */
}

int exp_shm_files(struct exp *ex, struct exp_img *w)
{
	const struct exp_shm *s = ex->shm;
	size_t i, k;

	for (i = 0; i < s->nr_mfd; i++) {
		const MemfdEntry *m = (const MemfdEntry *)s->mfd[i];
		const MemfdInodeEntry *in = NULL;

		for (k = 0; k < s->nr_ino; k++)
			if (((const MemfdInodeEntry *)s->ino[k])->id == m->inode_id)
				in = (const MemfdInodeEntry *)s->ino[k];
		if (!in || (in->has_shmem_id && obj_index(s, in->shmem_id) < 0)) {
			pr_err("memfds.img: memfd %u names no inode of memfd-inodes.img or no object",
			       m->id);
			return -1;
		}
		add_memfd(ex, w, m->id, m->flags, m->pos, ino_key(s, in));
	}
	for (i = 0; i < s->nr_obj; i++)
		if (s->file_id[i])	/* what the mappings of a memfd object open */
			add_memfd(ex, w, s->file_id[i], O_RDWR | KERNEL_O_LARGEFILE, 0, obj(s, i)->id);
	return 0;
}

/* ---- content ------------------------------------------------------------------- */

struct content {
	struct exp_img w;	/* pagemap-shmem-SHMID.img */
	int dst;		/* pages-N.img; -1: our page file was moved there */
	const char *img;	/* ours, for messages */
};

/* @len bytes at @off of @src to the page file, the last page zero-filled. */
static int copy_pages(struct content *c, int src, uint64_t off, uint64_t len)
{
	static uint8_t buf[1 << 16];
	uint64_t left = (len + PAGE - 1) / PAGE * PAGE;

	while (left && c->dst >= 0) {
		size_t k = left < sizeof(buf) ? left : sizeof(buf);
		size_t n = k < len ? k : len;

		memset(buf + n, 0, k - n);
		if ((n && pread(src, buf, n, off) != (ssize_t)n) || write(c->dst, buf, k) != (ssize_t)k) {
			pr_perror("%s: copying shared memory data", c->img);
			return -1;
		}
		off += n;
		len -= n;
		left -= k;
	}
	return 0;
}

static void add_run(struct content *c, uint64_t off, uint64_t nr)
{
	Est__PagemapEntry e;

	while (nr) {
		est__pagemap_entry__init(&e);
		e.vaddr = off;
		e.compat_nr_pages = nr < (1u << 31) ? nr : (1u << 31);
		e.has_flags = true;
		e.flags = EPE_PRESENT;
		exp_img_add(&c->w, &e.base, NULL, 0);
		off += e.compat_nr_pages * PAGE;
		nr -= e.compat_nr_pages;
	}
}

/* pagemap-shmem-@shmid.img with its pages-N.img opened (or ours moved there) into @c. */
static int content_open(struct exp *ex, struct content *c, uint64_t shmid, const char *moved)
{
	Est__PagemapHead head = EST__PAGEMAP_HEAD__INIT;
	char name[64];

	snprintf(name, sizeof(name), "pages-%u.img", ++ex->pages_id);
	c->dst = -1;
	if (moved) {
		if (renameat(ex->in, moved, ex->out, name)) {
			pr_perror("cannot move %s to %s", moved, name);
			return -1;
		}
	} else {
		c->dst = openat(ex->out, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (c->dst < 0) {
			pr_perror("cannot create %s", name);
			return -1;
		}
	}
	snprintf(name, sizeof(name), "pagemap-shmem-%llu.img", (unsigned long long)shmid);
	exp_img_open(&c->w, name);
	head.pages_id = ex->pages_id;
	exp_img_add(&c->w, &head.base, NULL, 0);
	return 0;
}

static int content_close(struct exp *ex, struct content *c, int ret)
{
	if (c->dst >= 0 && close(c->dst) && !ret) {
		pr_perror("%s: cannot write its pages", c->w.name);
		ret = -1;
	}
	if (ret) {
		free(c->w.buf);
		return -1;
	}
	return exp_img_close(ex, &c->w);
}

/* Object @i's runs and pages (shmem-pagemap-ID, shmem-pages-ID). */
static int obj_content(struct exp *ex, size_t i)
{
	const struct exp_shm *s = ex->shm;
	const ShmemEntry *o = obj(s, i);
	ProtobufCMessage **m = NULL;
	char img[64], pages[64];
	struct content c = { .img = img };
	uint64_t end = 0, off = 0;
	struct stat st;
	size_t nr = 0, k;
	int src = -1, ret = -1;
	bool whole;

	snprintf(img, sizeof(img), "shmem-pagemap-%u.img", o->id);
	snprintf(pages, sizeof(pages), "shmem-pages-%u.img", o->id);
	if (img_read_all(ex->in, IMG_SHMEM_PAGEMAP, o->id, 0, NULL, NULL, &m, &nr))
		return -1;
	exp_used(ex, img);
	exp_used(ex, pages);
	for (k = 0; k < nr; k++)
		end = ((ShmemRun *)m[k])->offset + ((ShmemRun *)m[k])->nr_pages * PAGE;
	src = openat(ex->in, pages, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (src < 0 || fstat(src, &st) || (uint64_t)st.st_size != o->nr_pages * PAGE) {
		pr_err("%s is missing or does not hold the %llu pages of object %u", pages,
		       (unsigned long long)o->nr_pages, o->id);
		goto out;
	}
	/* anonymous: the format's size is the vmas' extent */
	whole = o->kind != SHMEM_KIND__SHMEM_ANON || (o->size == s->extent[i] && end <= s->extent[i]);
	if (!whole && exp_cannot("shmem.img", "shared memory object %u has %llu bytes, its vmas reach %llu",
		       o->id, (unsigned long long)o->size, (unsigned long long)s->extent[i]))
		goto out;
	if (content_open(ex, &c, o->id, whole && ex->flags & EST_EXPORT_MOVE ? pages : NULL))
		goto out;
	for (k = 0; k < nr; k++) {
		const ShmemRun *r = (const ShmemRun *)m[k];

		if (o->kind == SHMEM_KIND__SHMEM_ANON && r->offset >= s->extent[i])
			break;	/* kept in xt-shmem.img only */
		add_run(&c, r->offset, r->nr_pages);
		if (copy_pages(&c, src, off, r->nr_pages * PAGE))
			break;
		off += r->nr_pages * PAGE;
	}
	ret = content_close(ex, &c, k < nr && o->kind != SHMEM_KIND__SHMEM_ANON ? -1 : 0);
out:
	if (src >= 0)
		close(src);
	img_free_all(m, nr);
	return ret;
}

/* Unmapped memfd inode @in: its byte runs of memfd-data.img as page runs. */
static int ino_content(struct exp *ex, const MemfdInodeEntry *in, int src)
{
	const struct exp_shm *s = ex->shm;
	struct content c = { .img = "memfd-data.img" };
	uint64_t off = in->data ? in->data->off : 0;
	size_t k;
	int ret = 0;

	if (content_open(ex, &c, ino_key(s, in), NULL))
		return -1;
	for (k = 0; in->data && k < in->data->n_runs && !ret; k++) {
		const FileRun *r = in->data->runs[k];

		/* tmpfs data is whole pages; only the size cuts the last one */
		if ((r->off & (PAGE - 1)) || (r->len & (PAGE - 1) && r->off + r->len != in->size)) {
			pr_err("memfd-inodes.img: memfd %u: a run [%llu, +%llu) within pages", in->id,
			       (unsigned long long)r->off, (unsigned long long)r->len);
			ret = -1;
			break;
		}
		add_run(&c, r->off, (r->len + PAGE - 1) / PAGE);
		ret = copy_pages(&c, src, off, r->len);
		off += r->len;
	}
	return content_close(ex, &c, ret);
}

static void add_inode(struct exp_img *w, const char *name, uint64_t size, uint32_t seals,
		      uint32_t mode, uint32_t uid, uint32_t gid, uint64_t key)
{
	Est__MemfdInodeEntry e = EST__MEMFD_INODE_ENTRY__INIT;

	e.name = (char *)name;
	e.size = size;
	e.seals = seals;
	e.has_mode = (mode & 07777) != 0777;	/* absent: memfd_create()'s (crit knows no mode) */
	e.mode = S_IFREG | (mode & 07777);
	e.uid = uid;
	e.gid = gid;
	e.shmid = key;
	e.inode_id = key;
	exp_img_add(w, &e.base, NULL, 0);
}

static int write_inodes(struct exp *ex)
{
	const struct exp_shm *s = ex->shm;
	struct exp_img w;
	size_t i, n = s->nr_ino;

	for (i = 0; i < s->nr_obj; i++)
		n += obj(s, i)->kind == SHMEM_KIND__SHMEM_MEMFD;
	if (!n)
		return 0;
	exp_img_open(&w, "memfd.img");
	for (i = 0; i < s->nr_obj; i++) {
		const ShmemEntry *o = obj(s, i);

		if (o->kind == SHMEM_KIND__SHMEM_MEMFD)
			add_inode(&w, o->name ? o->name : "", o->size, o->has_seals ? o->seals : 0,
				  o->has_mode ? o->mode : 0777, o->has_uid ? o->uid : geteuid(),
				  o->has_gid ? o->gid : getegid(), o->id);
	}
	for (i = 0; i < s->nr_ino; i++) {
		const MemfdInodeEntry *in = (const MemfdInodeEntry *)s->ino[i];

		if (!in->has_shmem_id)
			add_inode(&w, in->name, in->size, in->seals, in->mode, in->uid, in->gid,
				  ino_key(s, in));
	}
	return exp_img_close(ex, &w);
}

int exp_shm_write(struct exp *ex)
{
	const struct exp_shm *s = ex->shm;
	size_t i;
	int src = -1, ret = -1;

	if (!s->nr_obj && !s->nr_ino)
		return 0;
	for (i = 0; i < s->nr_obj; i++)
		if (obj_content(ex, i))
			return -1;
	if (s->nr_ino) {
		exp_used(ex, "memfd-data.img");
		src = openat(ex->in, "memfd-data.img", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (src < 0) {
			pr_perror("cannot open memfd-data.img");
			return -1;
		}
	}
	for (i = 0; i < s->nr_ino; i++)
		if (!((const MemfdInodeEntry *)s->ino[i])->has_shmem_id &&
		    ino_content(ex, (const MemfdInodeEntry *)s->ino[i], src))
			goto out;
	ret = write_inodes(ex);
out:
	if (src >= 0)
		close(src);
	return ret;
}
