/*
 * Established memfds -> ours (plan §3.6): memfd.img inodes with files.img
 * MEMFD entries, the content in pagemap-shmem-SHMID.img + pages-N.img
 * (page runs at byte offsets, the last page cut by the size), become our
 * memfd-inodes (ids renumbered 1, 2, ...), memfds and memfd-data runs.
 * Shared anonymous memory (ANON_SHARED vmas named by shmid) becomes our
 * shmem objects: the size is the largest extent of its vmas (the format
 * has none), the content the same pagemap-shmem + pages images as page
 * runs. A memfd mapped shared (a MEMFD | FILE_SHARED vma naming its MEMFD
 * file: 4.x dumps every shared anonymous mapping so) becomes a shmem object
 * of kind MEMFD with the inode's name, seals, mode and owner, its content
 * there (an fd of the same memfd then names the object); mapped private,
 * hugetlb memfds, pages in a parent image and runs beyond the size are
 * refused.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define LOG_PREFIX "est-import: "
#include "est-import-int.h"
#include "est-fd.h"
#include "files.h"
#include "log.h"

#include "memfd.pb-c.h"
#include "shmem.pb-c.h"
#include "est/memfd.pb-c.h"
#include "est/pagemap.pb-c.h"

#define MAX_MEMFDS	4096
#define MAX_SIZE	(1ull << 40)	/* ours on restore */
#define NAME_MAX_	249		/* memfd_create: 249 bytes of name */
#define PAGE		4096ull
#define SEALS		0x3fu		/* F_SEAL_SEAL .. F_SEAL_EXEC */
#define MEMFD_FLAGS	(O_ACCMODE | O_APPEND | O_NONBLOCK | KERNEL_O_LARGEFILE | O_PATH | O_NOATIME)

struct imp_memfds {
	Est__MemfdInodeEntry *in[MAX_MEMFDS];	/* ours is index + 1 */
	size_t nr;
};

static int add_inode(struct imp *im, const struct est_entry *e, void *ctx)
{
	Est__MemfdInodeEntry *m = (Est__MemfdInodeEntry *)e->msg;
	struct imp_memfds *t = ctx;
	size_t i;

	(void)im;
	if (t->nr == MAX_MEMFDS) {
		pr_err("not supported yet: memfd.img: more than %d memfds", MAX_MEMFDS);
		return -1;
	}
	if ((m->has_hugetlb_flag && m->hugetlb_flag) || m->size > MAX_SIZE ||
	    strlen(m->name) > NAME_MAX_ || (m->seals & ~SEALS) ||
	    (m->has_mode && (m->mode & ~07777u) != S_IFREG)) {
		pr_err("not supported yet: memfd.img: memfd %s: hugetlb, size %llu, name, seals %#x or mode %o",
		       m->name, (unsigned long long)m->size, m->seals, m->mode);
		return -1;
	}
	for (i = 0; i < t->nr; i++)
		if (t->in[i]->inode_id == m->inode_id || t->in[i]->shmid == m->shmid) {
			pr_err("memfd.img: inode %llu or shmem %u twice",
			       (unsigned long long)m->inode_id, m->shmid);
			return -1;
		}
	t->in[t->nr++] = m;
	((struct est_entry *)e)->msg = NULL;
	return 0;
}

/* ---- content ---------------------------------------------------------------------- */

struct data_ctx {
	uint64_t size;		/* of the object: runs end in its last page */
	bool whole;		/* keep the last page whole (shmem pages), else cut it */
	FileData *d;
	int src, dst;		/* pages-N.img (theirs), memfd-data.img (ours) */
	uint64_t src_size, src_off, prev_end, *dst_off;
	const char *img;
};

static int copy(struct data_ctx *c, uint64_t len)
{
	static uint8_t buf[1 << 16];
	uint64_t off = c->src_off;

	while (len) {
		size_t n = len < sizeof(buf) ? len : sizeof(buf);

		if (pread(c->src, buf, n, off) != (ssize_t)n || write(c->dst, buf, n) != (ssize_t)n) {
			pr_perror("%s: copying memfd data", c->img);
			return -1;
		}
		off += n;
		len -= n;
	}
	return 0;
}

static int pm_entry(struct imp *im, const struct est_entry *e, void *ctx)
{
	struct data_ctx *c = ctx;
	char name[64];
	struct stat st;

	if (e->desc == &est__pagemap_head__descriptor) {
		snprintf(name, sizeof(name), "pages-%u.img",
			 ((const Est__PagemapHead *)e->msg)->pages_id);
		if (imp_mark(im, name)) {
			pr_err("%s: %s is missing or named by another pagemap too", c->img, name);
			return -1;
		}
		c->src = openat(im->in, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (c->src < 0 || fstat(c->src, &st) || !S_ISREG(st.st_mode)) {
			pr_perror("%s: cannot open %s", c->img, name);
			return -1;
		}
		c->src_size = st.st_size;
		return 0;
	}
	{
		const Est__PagemapEntry *pe = (const Est__PagemapEntry *)e->msg;
		uint64_t nr = pe->has_nr_pages ? pe->nr_pages : pe->compat_nr_pages, len;
		uint32_t fl = pe->has_flags ? pe->flags :
			      (pe->has_in_parent && pe->in_parent ? EPE_PARENT : EPE_PRESENT);

		if ((fl & ~(EPE_LAZY | EPE_PRESENT)) || !(fl & EPE_PRESENT) ||
		    (pe->has_in_parent && pe->in_parent)) {
			pr_err("not supported yet: %s: page run flags %#x (a parent image, no data)",
			       c->img, fl);
			return -1;
		}
		/* the last page may be cut by the size, no page lies wholly beyond it */
		if (!nr || pe->vaddr & (PAGE - 1) || pe->vaddr < c->prev_end ||
		    pe->vaddr >= c->size || nr > (c->size - pe->vaddr + PAGE - 1) / PAGE ||
		    nr * PAGE > c->src_size - c->src_off) {
			pr_err("%s: run at %llu of %llu pages: out of order, beyond the size %llu or the page file",
			       c->img, (unsigned long long)pe->vaddr, (unsigned long long)nr,
			       (unsigned long long)c->size);
			return -1;
		}
		len = nr * PAGE;
		if (pe->vaddr + len > c->size && !c->whole)
			len = c->size - pe->vaddr;	/* the last page, cut by the size */
		c->prev_end = pe->vaddr + nr * PAGE;
		if (copy(c, len) || imp_fdata_add(c->d, pe->vaddr, len, c->img))
			return -1;
		*c->dst_off += len;
		c->src_off += nr * PAGE;
		return 0;
	}
}

/* The content of shmem object @shmid (none without its pagemap) through @c; src closed. */
static int read_content(struct imp *im, struct data_ctx *c, uint64_t shmid, char *name,
			size_t len)
{
	int ret = -1;

	snprintf(name, len, "pagemap-shmem-%llu.img", (unsigned long long)shmid);
	if (imp_read_all(im, name, true, pm_entry, c))
		goto out;
	if (c->src >= 0 && c->src_off != c->src_size) {
		pr_err("%s: the page file holds %llu bytes, the runs %llu", name,
		       (unsigned long long)c->src_size, (unsigned long long)c->src_off);
		goto out;
	}
	ret = 0;
out:
	if (c->src >= 0)
		close(c->src);
	c->src = -1;
	return ret;
}

static uint32_t shm_of_memfd(const struct imp *im, uint64_t inode_id);

struct inode_out {
	MemfdInodeEntry e;
	FileData d;
};

static void free_inode(ProtobufCMessage *m)
{
	struct inode_out *o = (struct inode_out *)m;

	if (!o)
		return;
	imp_fdata_release(&o->d);
	free(o);
}

static struct inode_out *conv_inode(struct imp *im, const Est__MemfdInodeEntry *in, uint32_t id,
				    int dst, uint64_t *dst_off)
{
	struct inode_out *o = imp_zalloc(sizeof(*o));
	char name[64];
	struct data_ctx c = { .size = in->size, .src = -1, .dst = dst, .dst_off = dst_off, .img = name };

	if (!o)
		return NULL;
	memfd_inode_entry__init(&o->e);
	file_data__init(&o->d);
	o->e.id = id;
	o->e.name = in->name;
	o->e.size = in->size;
	o->e.seals = in->seals;
	o->e.mode = in->has_mode ? in->mode & 07777 : 0777;	/* memfd_create's */
	o->e.uid = in->uid;
	o->e.gid = in->gid;
	o->e.data = &o->d;
	o->d.off = *dst_off;
	c.d = &o->d;
	o->e.shmem_id = shm_of_memfd(im, in->inode_id);
	o->e.has_shmem_id = o->e.shmem_id != 0;
	/* mapped: the content is the shmem object's (imp_shm_write) */
	if (!o->e.has_shmem_id && read_content(im, &c, in->shmid, name, sizeof(name)))
		goto err;
	return o;
err:
	free_inode(&o->e.base);
	return NULL;
}

static ProtobufCMessage *inode_i(struct imp *im, size_t i, int raw, uint64_t *off, void *ctx)
{
	const struct imp_memfds *t = ctx;
	struct inode_out *o = conv_inode(im, t->in[i], i + 1, raw, off);

	return o ? &o->e.base : NULL;
}

int imp_memfds(struct imp *im)
{
	struct imp_memfds *t = imp_zalloc(sizeof(*t));

	im->memfds = t;
	if (!t || imp_read_all(im, "memfd.img", true, add_inode, t))
		return -1;
	return t->nr ? imp_write_data(im, IMG_MEMFD_INODES, IMG_MEMFD_DATA, t->nr, inode_i,
				      free_inode, t) : 0;
}

void imp_memfds_free(struct imp *im)
{
	struct imp_memfds *t = im->memfds;
	size_t i;

	for (i = 0; t && i < t->nr; i++)
		protobuf_c_message_free_unpacked(&t->in[i]->base, NULL);
	free(t);
	im->memfds = NULL;
}

/* ---- the MEMFD row ----------------------------------------------------------------- */

static const void *memfd_member(const Est__FileEntry *f, uint32_t *id, const Est__FownEntry **fown)
{
	if (!f->memfd)
		return NULL;
	*id = f->memfd->id;
	*fown = f->memfd->fown;
	return f->memfd;
}

static ProtobufCMessage *conv_memfd(struct imp *im, const Est__FileEntry *f)
{
	const Est__MemfdFileEntry *s = f->memfd;
	const struct imp_memfds *t = im->memfds;
	MemfdEntry *o;
	size_t i;

	for (i = 0; t && i < t->nr; i++)
		if (t->in[i]->inode_id == s->inode_id)
			break;
	if (!t || i == t->nr || (s->flags & ~(uint32_t)MEMFD_FLAGS) || (s->flags & O_ACCMODE) == 3) {
		pr_err("files.img: memfd file %u: inode %llu not in memfd.img, or file flags %#x",
		       s->id, (unsigned long long)s->inode_id, s->flags);
		return NULL;
	}
	o = imp_zalloc(sizeof(*o));
	if (!o)
		return NULL;
	memfd_entry__init(o);
	o->id = s->id;
	o->inode_id = i + 1;
	o->flags = s->flags;
	o->pos = s->pos;
	return &o->base;
}

/* ---- shared anonymous memory ------------------------------------------------------- */

#define MAX_SHM		1024

/* Objects by key: the shmid of anonymous ones, the inode of mapped memfds. */
struct imp_shm {
	uint64_t key[MAX_SHM], size[MAX_SHM];		/* ours is index + 1 */
	bool memfd[MAX_SHM];
	size_t nr;
};

/* Our object id of memfd inode @inode_id if a vma maps it, else 0. */
static uint32_t shm_of_memfd(const struct imp *im, uint64_t inode_id)
{
	const struct imp_shm *s = im->shm;
	size_t i;

	for (i = 0; s && i < s->nr; i++)
		if (s->memfd[i] && s->key[i] == inode_id)
			return i + 1;
	return 0;
}

int imp_shm_vma(struct imp *im, bool memfd, uint64_t key, uint64_t pgoff, uint64_t len,
		uint32_t *id)
{
	struct imp_shm *s = im->shm;
	size_t i;

	if (!s && !(s = im->shm = imp_zalloc(sizeof(*s))))
		return -1;
	if ((pgoff & (PAGE - 1)) || pgoff > MAX_SIZE || len > MAX_SIZE - pgoff) {
		pr_err("shared memory %llu: a vma at offset %llu of %llu bytes", (unsigned long long)key,
		       (unsigned long long)pgoff, (unsigned long long)len);
		return -1;
	}
	for (i = 0; i < s->nr && (s->key[i] != key || s->memfd[i] != memfd); i++)
		;
	if (i == s->nr) {
		if (s->nr == MAX_SHM) {
			pr_err("not supported yet: more than %d shared memory objects", MAX_SHM);
			return -1;
		}
		s->memfd[s->nr] = memfd;
		s->key[s->nr++] = key;
	}
	if (pgoff + len > s->size[i])
		s->size[i] = pgoff + len;
	*id = i + 1;
	return 0;
}

/*
 * Our shmem-pagemap-ID and shmem-pages-ID of object @i (@size bytes, its
 * content in pagemap-shmem-@shmid): whole pages; the page count into *pages.
 */
static int write_shm(struct imp *im, size_t i, uint64_t size, uint64_t shmid, uint64_t *pages)
{
	struct cr_img *raw = img_create(im->out, IMG_SHMEM_PAGES, i + 1);
	FileData d = FILE_DATA__INIT;
	ShmemRun *r = NULL;
	ProtobufCMessage **m = NULL;
	uint64_t off = 0;
	char name[64];
	struct data_ctx c = { .size = size, .whole = true, .d = &d, .src = -1, .dst_off = &off,
			      .img = name };
	size_t k;
	int ret = -1;

	if (!raw)
		return -1;
	c.dst = img_raw_fd(raw);
	if (read_content(im, &c, shmid, name, sizeof(name)))
		goto out;
	r = imp_zalloc((d.n_runs + 1) * sizeof(*r));
	m = imp_zalloc((d.n_runs + 1) * sizeof(*m));
	if (!r || !m)
		goto out;
	for (k = 0; k < d.n_runs; k++) {	/* whole pages */
		shmem_run__init(&r[k]);
		r[k].offset = d.runs[k]->off;
		r[k].nr_pages = d.runs[k]->len / PAGE;
		m[k] = &r[k].base;
	}
	*pages = off / PAGE;
	if (imp_write(im, IMG_SHMEM_PAGEMAP, i + 1, m, d.n_runs))
		goto out;
	ret = img_commit(raw);
	raw = NULL;
out:
	if (raw)
		img_abort(raw);
	imp_fdata_release(&d);
	free(r);
	free(m);
	return ret;
}

/* A mapped memfd: our object of kind MEMFD from its inode in memfd.img. */
static int shm_memfd(const struct imp *im, size_t i, ShmemEntry *e, uint64_t *shmid)
{
	const struct imp_shm *s = im->shm;
	const struct imp_memfds *t = im->memfds;
	const Est__MemfdInodeEntry *in = NULL;
	size_t k;

	for (k = 0; t && k < t->nr; k++)
		if (t->in[k]->inode_id == s->key[i])
			in = t->in[k];
	if (!in || !in->size || s->size[i] > (in->size + PAGE - 1) / PAGE * PAGE) {
		pr_err("mapped memfd %llu: not in memfd.img, empty, or mapped past its size",
		       (unsigned long long)s->key[i]);
		return -1;
	}
	e->kind = SHMEM_KIND__SHMEM_MEMFD;
	e->size = in->size;
	e->name = in->name;
	e->has_seals = true;
	e->seals = in->seals;
	e->has_mode = e->has_uid = e->has_gid = true;
	e->mode = in->has_mode ? in->mode & 07777 : 0777;
	e->uid = in->uid;
	e->gid = in->gid;
	*shmid = in->shmid;
	return 0;
}

int imp_shm_write(struct imp *im)
{
	const struct imp_shm *s = im->shm;
	const struct imp_memfds *t = im->memfds;
	ShmemEntry *e;
	ProtobufCMessage **m;
	uint64_t shmid;
	size_t i, k;
	int ret = -1;

	if (!s || !s->nr)
		return 0;
	for (i = 0; i < s->nr; i++)
		for (k = 0; t && k < t->nr; k++)
			if (!s->memfd[i] && t->in[k]->shmid == s->key[i]) {
				pr_err("not supported yet: shared memory %llu is also a memfd of memfd.img",
				       (unsigned long long)s->key[i]);
				return -1;
			}
	e = imp_zalloc(s->nr * sizeof(*e));
	m = imp_zalloc(s->nr * sizeof(*m));
	if (!e || !m)
		goto out;
	for (i = 0; i < s->nr; i++) {
		shmem_entry__init(&e[i]);
		e[i].id = i + 1;
		e[i].kind = SHMEM_KIND__SHMEM_ANON;
		e[i].size = s->size[i];
		shmid = s->key[i];
		if ((s->memfd[i] && shm_memfd(im, i, &e[i], &shmid)) ||
		    write_shm(im, i, e[i].size, shmid, &e[i].nr_pages))
			goto out;
		m[i] = &e[i].base;
	}
	ret = imp_write(im, IMG_SHMEM, 0, m, s->nr);
out:
	free(e);
	free(m);
	return ret;
}

void imp_shm_free(struct imp *im)
{
	free(im->shm);
	im->shm = NULL;
}

const struct est_fd_imp est_fd_memfd_imp = { memfd_member, conv_memfd };
