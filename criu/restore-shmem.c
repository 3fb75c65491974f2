/*
 * Restore: shared memory objects (shmem.img, shmem-pagemap-ID.img,
 * shmem-pages-ID.img; Documentation/images.md).
 *
 * Every object is created once, in criu, before any task is forked:
 * anonymous ones as a MAP_SHARED|MAP_ANONYMOUS area whose shmem file is
 * reopened through /proc/self/map_files (so the task's mappings show as
 * "/dev/zero (deleted)" again), memfds with memfd_create() under their name.
 * The content is written through the descriptor, then memfd seals are put
 * back. Tasks inherit the descriptors and map them at their vmas through the
 * shared-file path of the restorer (rst_shmem_vma_fds()).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#define LOG_PREFIX "restore: "
#include "log.h"
#include "image.h"
#include "memfd.h"
#include "restore.h"
#include "vma.h"

#define PAGE		4096ULL
#define COPY_BUF	(1u << 20)

static uint64_t page_up(uint64_t x)
{
	return (x + PAGE - 1) & ~(PAGE - 1);
}

const ShmemEntry *rst_shmem_find(const struct rst_shmems *s, uint32_t id, size_t *idx)
{
	size_t i;

	for (i = 0; i < s->nr; i++)
		if (s->e[i]->id == id) {
			if (idx)
				*idx = i;
			return s->e[i];
		}
	return NULL;
}

/* ---- reading and validation ---------------------------------------------- */

static int check_entry(const ProtobufCMessage *m, void *ctx)
{
	const ShmemEntry *e = (const ShmemEntry *)m;
	const struct rst_shmems *s = ctx;
	bool memfd = e->kind == SHMEM_KIND__SHMEM_MEMFD;

	if (s->nr >= RST_MAX_SHMEM) {
		pr_err("shmem.img: more than %d objects", RST_MAX_SHMEM);
		return -1;
	}
	if (!e->id || rst_shmem_find(s, e->id, NULL)) {
		pr_err("shmem.img: object id %u is zero or repeated", e->id);
		return -1;
	}
	if (e->kind != SHMEM_KIND__SHMEM_ANON && !memfd) {
		pr_err("shmem.img: object %u has unknown kind %d", e->id, e->kind);
		return -1;
	}
	if (!e->size || e->size > RST_MAX_SHMEM_SIZE || e->nr_pages > page_up(e->size) / PAGE ||
	    (!memfd && page_up(e->size) != e->size)) {
		pr_err("shmem.img: object %u: size %llu with %llu pages is zero, over %llu, not page aligned or too small",
		       e->id, (unsigned long long)e->size, (unsigned long long)e->nr_pages,
		       (unsigned long long)RST_MAX_SHMEM_SIZE);
		return -1;
	}
	if (memfd != !!e->name || memfd != e->has_seals ||
	    (e->name && strlen(e->name) > MEMFD_NAME_MAX) || (e->seals & ~(uint32_t)MEMFD_KNOWN_SEALS) ||
	    (!memfd && (e->has_mode || e->has_uid || e->has_gid)) || (e->mode & ~07777u)) {
		pr_err("shmem.img: object %u: name or seals (%#x), mode (%o) or owner missing, unexpected or invalid",
		       e->id, e->seals, e->mode);
		return -1;
	}
	return 0;
}

/* One object's runs: ascending, inside the object, adding up to nr_pages. */
static int read_runs(int dirfd, const ShmemEntry *e, struct rst_shmem_runs *r)
{
	struct cr_img *img = img_open(dirfd, IMG_SHMEM_PAGEMAP, e->id);
	uint64_t prev_end = 0, pages = 0, lim = page_up(e->size);
	ProtobufCMessage *m;
	int ret;

	if (!img)
		return -1;
	while ((ret = img_read_entry(img, &m)) == 1) {
		const ShmemRun *run = (const ShmemRun *)m;
		bool bad = r->nr >= RST_MAX_PAGE_RUNS || !run->nr_pages || run->offset & (PAGE - 1) ||
			   run->offset < prev_end || run->offset >= lim ||
			   run->nr_pages > (lim - run->offset) / PAGE;

		if (bad) {
			pr_err("shmem-pagemap-%u.img: run %zu (offset %llu, %llu pages) is empty, out of order or outside the object",
			       e->id, r->nr, (unsigned long long)run->offset,
			       (unsigned long long)run->nr_pages);
		} else if (r->nr == r->cap) {
			void *p = realloc(r->v, (r->cap = r->cap ? 2 * r->cap : 16) * sizeof(*r->v));

			bad = !p;
			if (p)
				r->v = p;
		}
		if (bad) {
			img_free_entry(m);
			ret = -1;
			break;
		}
		r->v[r->nr].offset = run->offset;
		r->v[r->nr].nr_pages = run->nr_pages;
		r->nr++;
		prev_end = run->offset + run->nr_pages * PAGE;
		pages += run->nr_pages;
		img_free_entry(m);
	}
	img_close(img);
	if (ret < 0)
		return -1;
	if (pages != e->nr_pages) {
		pr_err("shmem-pagemap-%u.img: runs hold %llu pages, shmem.img says %llu", e->id,
		       (unsigned long long)pages, (unsigned long long)e->nr_pages);
		return -1;
	}
	return 0;
}

static int open_pages(int dirfd, const ShmemEntry *e, struct cr_img **img)
{
	struct stat st;

	*img = img_open(dirfd, IMG_SHMEM_PAGES, e->id);
	if (!*img)
		return -1;
	if (fstat(img_raw_fd(*img), &st)) {
		pr_perror("shmem-pages-%u.img: stat", e->id);
		return -1;
	}
	if ((uint64_t)st.st_size != e->nr_pages * PAGE) {
		pr_err("shmem-pages-%u.img: %lld bytes, but %llu pages are announced (truncated or corrupt)",
		       e->id, (long long)st.st_size, (unsigned long long)e->nr_pages);
		return -1;
	}
	return 0;
}

int rst_shmem_read(int dirfd, struct rst_shmems *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	s->dirfd = dirfd;
	if (faccessat(dirfd, img_desc(IMG_SHMEM)->fmt, F_OK, 0) && errno == ENOENT)
		return 0;	/* no shared memory in this dump */
	if (img_read_all(dirfd, IMG_SHMEM, 0, 0, check_entry, s, (ProtobufCMessage ***)&s->e,
			 &s->nr))
		return -1;
	s->runs = calloc(s->nr, sizeof(*s->runs));
	s->pages = calloc(s->nr, sizeof(*s->pages));
	s->fd = malloc(s->nr * sizeof(*s->fd));
	if (s->nr && (!s->runs || !s->pages || !s->fd)) {
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < s->nr; i++)
		s->fd[i] = -1;
	/* each page file is checked now and opened again to fill its object:
	 * thousands of objects must not hold thousands of descriptors */
	for (i = 0; i < s->nr; i++) {
		if (read_runs(dirfd, s->e[i], &s->runs[i]) || open_pages(dirfd, s->e[i], &s->pages[i]))
			return -1;
		img_close(s->pages[i]);
		s->pages[i] = NULL;
	}
	return 0;
}

int rst_shmem_check_mm(const struct rst_shmems *s, const MmEntry *mm, pid_t pid)
{
	size_t i;

	for (i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *v = mm->vmas[i];
		const ShmemEntry *e;
		uint64_t lim;

		if (v->kind != VMA_KIND__VMA_ANON_SHARED && v->kind != VMA_KIND__VMA_SHMEM_PRIVATE)
			continue;
		e = v->has_shmem_id ? rst_shmem_find(s, v->shmem_id, NULL) : NULL;
		if (!e) {
			pr_err("mm-%d.img: vma %zu names no shared memory object", pid, i);
			return -1;
		}
		lim = page_up(e->size);
		if (v->pgoff > lim || v->end - v->start > lim - v->pgoff) {
			pr_err("mm-%d.img: vma %zu (offset %llu, %llu bytes) reaches past object %u (%llu bytes)",
			       pid, i, (unsigned long long)v->pgoff,
			       (unsigned long long)(v->end - v->start), e->id,
			       (unsigned long long)e->size);
			return -1;
		}
	}
	return 0;
}

/* ---- creation -------------------------------------------------------------- */

static int create_anon(const ShmemEntry *e)
{
	char link[80];
	void *p = mmap(NULL, e->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int fd;

	if (p == MAP_FAILED) {
		pr_perror("cannot create shared memory object %u (%llu bytes)", e->id,
			  (unsigned long long)e->size);
		return -1;
	}
	snprintf(link, sizeof(link), "/proc/self/map_files/%lx-%lx", (unsigned long)p,
		 (unsigned long)p + (unsigned long)e->size);
	fd = open(link, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		pr_perror("cannot open %s for shared memory object %u", link, e->id);
	munmap(p, e->size);
	return fd;
}

static int create_memfd(const ShmemEntry *e)
{
	int fd = memfd_create_like(e->name, e->has_mode ? e->mode : 0777, e->seals);

	if (fd < 0) {
		pr_perror("cannot create memfd '%s' (object %u)", e->name, e->id);
		return -1;
	}
	if (ftruncate(fd, (off_t)e->size)) {
		pr_perror("cannot size memfd '%s' to %llu", e->name, (unsigned long long)e->size);
		close(fd);
		return -1;
	}
	return fd;
}

/* Write the runs into the object; the last page is cut at the object's size. */
static int fill_object(const ShmemEntry *e, const struct rst_shmem_runs *r, int pages_fd,
		       int fd, char *buf)
{
	uint64_t file_off = 0;
	size_t i;

	for (i = 0; i < r->nr; i++) {
		uint64_t off = r->v[i].offset, len = r->v[i].nr_pages * PAGE;

		while (len) {
			size_t n = len < COPY_BUF ? (size_t)len : COPY_BUF, w = n;

			if (pread(pages_fd, buf, n, (off_t)file_off) != (ssize_t)n) {
				pr_perror("shmem-pages-%u.img: short read at %llu", e->id,
					  (unsigned long long)file_off);
				return -1;
			}
			if (off + w > e->size)
				w = (size_t)(e->size - off);
			if (pwrite(fd, buf, w, (off_t)off) != (ssize_t)w) {
				pr_perror("cannot fill shared memory object %u at %llu", e->id,
					  (unsigned long long)off);
				return -1;
			}
			file_off += n;
			off += n;
			len -= n;
		}
	}
	return 0;
}

static int create_one(struct rst_shmems *s, size_t i, char *buf)
{
	const ShmemEntry *e = s->e[i];
	int fd = e->kind == SHMEM_KIND__SHMEM_MEMFD ? create_memfd(e) : create_anon(e), r;

	if (fd < 0)
		return -1;
	s->fd[i] = fd;
	if (open_pages(s->dirfd, e, &s->pages[i]))
		return -1;
	r = fill_object(e, &s->runs[i], img_raw_fd(s->pages[i]), fd, buf);
	img_close(s->pages[i]);
	s->pages[i] = NULL;
	if (r)
		return -1;
	if (e->has_uid && e->has_gid && fchown(fd, e->uid, e->gid)) {
		pr_perror("cannot give memfd '%s' owner %u:%u", e->name, e->uid, e->gid);
		return -1;
	}
	if (e->has_mode && fchmod(fd, e->mode)) {
		pr_perror("cannot give memfd '%s' mode %o", e->name, e->mode);
		return -1;
	}
	if (e->has_seals && e->seals && fcntl(fd, F_ADD_SEALS, (int)e->seals)) {
		pr_perror("cannot seal memfd '%s' with %#x", e->name, e->seals);
		return -1;
	}
	pr_info("shared memory object %u: %llu bytes, %llu pages filled", e->id,
		(unsigned long long)e->size, (unsigned long long)e->nr_pages);
	return 0;
}

int rst_shmem_create(struct rst_shmems *s)
{
	char *buf;
	size_t i;

	if (!s->nr)
		return 0;
	buf = malloc(COPY_BUF);
	if (!buf) {
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < s->nr; i++)
		if (create_one(s, i, buf)) {
			free(buf);
			return -1;
		}
	free(buf);
	return 0;
}

/*
 * The descriptor vma @v maps object @fd from: a shared mapping that may
 * not be made writable (no VmFlags "mw": mapped from a read-only
 * descriptor, unless "sh" says the memfd's write seals forbid it) gets a
 * read-only one, anything else the object's own
 * (read-write, and for a memfd not counted as a writer: fexecve() of it
 * works, as it did with the task's own memfd_create() descriptor).
 */
static int vma_object_fd(int fd, const VmaEntry *v)
{
	char self[64];
	int ret;

	if (v->kind != VMA_KIND__VMA_ANON_SHARED || (vma_max_prot(v) & PROT_WRITE) ||
	    v->sealed_shared) {
		ret = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (ret < 0)
			pr_perror("dup of shared memory object %u", v->shmem_id);
		return ret;
	}
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	ret = open(self, O_RDONLY | O_CLOEXEC);
	if (ret < 0)
		pr_perror("read-only open of shared memory object %u", v->shmem_id);
	return ret;
}

int rst_shmem_vma_fds(const struct rst_shmems *s, const MmEntry *mm, int *vma_fd)
{
	size_t i, k;

	for (i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *v = mm->vmas[i];

		if (v->kind != VMA_KIND__VMA_ANON_SHARED && v->kind != VMA_KIND__VMA_SHMEM_PRIVATE)
			continue;
		if (!rst_shmem_find(s, v->shmem_id, &k) || s->fd[k] < 0) {
			pr_err("vma %zu: shared memory object %u was not created", i, v->shmem_id);
			return -1;
		}
		vma_fd[i] = vma_object_fd(s->fd[k], v);
		if (vma_fd[i] < 0)
			return -1;
	}
	return 0;
}

void rst_shmem_free(struct rst_shmems *s)
{
	size_t i;

	for (i = 0; i < s->nr; i++) {
		if (s->fd && s->fd[i] >= 0)
			close(s->fd[i]);
		if (s->runs)
			free(s->runs[i].v);
		if (s->pages && s->pages[i])
			img_close(s->pages[i]);
	}
	img_free_all((ProtobufCMessage **)s->e, s->nr);
	free(s->fd);
	free(s->runs);
	free(s->pages);
	memset(s, 0, sizeof(*s));
}
