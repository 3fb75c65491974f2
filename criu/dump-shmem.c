/*
 * Dump: shared memory objects (the shmem inodes behind MAP_SHARED anonymous
 * mappings, /dev/zero shared mappings and memfd mappings).
 *
 * Each object is stored once, however many vmas map it: the table is keyed
 * by the inode (dev, ino) of /proc/PID/map_files/START-END, and every vma
 * gets the object's id. The content is read through a descriptor opened on
 * that map_files link (pread, holes skipped with SEEK_DATA/SEEK_HOLE), not
 * through the parasite, and written as shmem-pagemap-ID.img (runs) plus
 * shmem-pages-ID.img (raw data); shmem.img lists the objects.
 * Documentation/images.md has the framing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#define LOG_PREFIX "dump: "
#include "log.h"
#include "dump.h"
#include "image.h"
#include "memfd.h"

#define PAGE		4096ull
#define COPY_BUF	(1u << 20)

static uint64_t page_up(uint64_t x)
{
	return (x + PAGE - 1) & ~(PAGE - 1);
}

/* What a deleted tmpfs mapping is, from its maps name; -1 (logged) if refused. */
static int shmem_kind_of(const struct proc_vma *pv, ShmemKind *kind)
{
	char range[64];

	snprintf(range, sizeof(range), " at %lx-%lx", (unsigned long)pv->start,
		 (unsigned long)pv->end);
	if (pv->kind == PROC_VMA_ANON_SHMEM) {
		pr_err("named MAP_SHARED anonymous mapping %s%s is not supported yet", pv->path, range);
		return -1;
	}
	if (!strncmp(pv->path, "/SYSV", 5)) {
		pr_err("SysV shared memory segment %s%s is not supported yet", pv->path, range);
		return -1;
	}
	if (pv->deleted && !strcmp(pv->path, "/dev/zero")) {
		*kind = SHMEM_KIND__SHMEM_ANON;
		return 0;
	}
	if (pv->deleted && !strncmp(pv->path, MEMFD_PREFIX, strlen(MEMFD_PREFIX))) {
		*kind = SHMEM_KIND__SHMEM_MEMFD;
		return 0;
	}
	pr_err("mapping of deleted file %s%s is not supported yet", pv->path, range);
	return -1;
}

bool dump_shmem_is_object(const struct proc_vma *pv)
{
	if (pv->kind == PROC_VMA_ANON_SHMEM)
		return true;
	if (pv->kind != PROC_VMA_FILE)
		return false;
	return !strncmp(pv->path, "/SYSV", 5) ||
	       (pv->deleted && (!strcmp(pv->path, "/dev/zero") ||
				!strncmp(pv->path, MEMFD_PREFIX, strlen(MEMFD_PREFIX))));
}

/* The map_files descriptor, checked to be a deleted tmpfs file. */
static int open_object(pid_t pid, const struct proc_vma *pv, struct stat *st)
{
	char link[96];
	struct statfs sfs;
	int fd;

	snprintf(link, sizeof(link), "/proc/%d/map_files/%lx-%lx", pid,
		 (unsigned long)pv->start, (unsigned long)pv->end);
	fd = open(link, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("can't open %s (%s)", link, pv->path);
		return -1;
	}
	if (fstat(fd, st) || fstatfs(fd, &sfs)) {
		pr_perror("can't stat %s", link);
		goto err;
	}
	if (!S_ISREG(st->st_mode) || sfs.f_type != TMPFS_MAGIC || st->st_nlink) {
		pr_err("%s (%s) is not a deleted tmpfs file (hugetlb memfd?): not supported yet",
		       link, pv->path);
		goto err;
	}
	return fd;
err:
	close(fd);
	return -1;
}

static int fill_object(struct dump_shmem *o, const struct proc_vma *pv, ShmemKind kind,
		       const struct stat *st)
{
	uint32_t id = o->e.id;

	shmem_entry__init(&o->e);
	o->e.id = id;
	o->e.kind = kind;
	o->e.size = (uint64_t)st->st_size;
	if (kind == SHMEM_KIND__SHMEM_ANON) {
		if (o->e.size != page_up(o->e.size)) {
			pr_err("shared anonymous object at %lx has odd size %llu",
			       (unsigned long)pv->start, (unsigned long long)o->e.size);
			return -1;
		}
		return 0;
	}
	o->e.name = strdup(pv->path + strlen(MEMFD_PREFIX));
	if (!o->e.name)
		return -1;
	o->e.has_mode = o->e.has_uid = o->e.has_gid = true;
	o->e.mode = st->st_mode & 07777;
	o->e.uid = st->st_uid;
	o->e.gid = st->st_gid;
	o->e.has_seals = true;
	o->e.seals = (uint32_t)fcntl(o->fd, F_GET_SEALS);
	if ((int)o->e.seals < 0) {
		pr_perror("F_GET_SEALS of memfd %s", pv->path);
		return -1;
	}
	return 0;
}

static struct dump_shmem *find_object(struct dump_shmems *s, const struct stat *st)
{
	size_t i;

	for (i = 0; i < s->nr; i++)
		if (s->v[i].dev == st->st_dev && s->v[i].ino == st->st_ino)
			return &s->v[i];
	return NULL;
}

static struct dump_shmem *new_object(struct dump_shmems *s)
{
	if (s->nr == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		void *p = realloc(s->v, cap * sizeof(*s->v));

		if (!p) {
			pr_err("out of memory");
			return NULL;
		}
		s->v = p;
		s->cap = cap;
	}
	memset(&s->v[s->nr], 0, sizeof(s->v[0]));
	s->v[s->nr].fd = -1;
	return &s->v[s->nr++];
}

/* A writable shared mapping of an object whose future writes are sealed
 * could not be mapped again on restore. */
static int check_seals(const struct dump_shmem *o, const struct proc_vma *pv)
{
	if (o->e.has_seals && (o->e.seals & F_SEAL_FUTURE_WRITE) && pv->shared &&
	    (pv->prot & PROT_WRITE)) {
		pr_err("writable mapping at %lx of memfd %s sealed against future writes is not supported yet",
		       (unsigned long)pv->start, o->e.name);
		return -1;
	}
	return 0;
}

int dump_shmem_add(struct dump_shmems *s, pid_t pid, const struct proc_vma *pv, uint32_t *id)
{
	struct dump_shmem *o;
	struct stat st;
	ShmemKind kind;
	int fd;

	if (shmem_kind_of(pv, &kind))
		return -1;
	fd = open_object(pid, pv, &st);
	if (fd < 0)
		return -1;
	o = find_object(s, &st);
	if (o) {
		close(fd);
	} else {
		o = new_object(s);
		if (!o) {
			close(fd);
			return -1;
		}
		o->fd = fd;
		o->dev = st.st_dev;
		o->ino = st.st_ino;
		o->e.id = (uint32_t)s->nr;
		if (fill_object(o, pv, kind, &st))
			return -1;
	}
	if (pv->pgoff > page_up(o->e.size) ||
	    pv->end - pv->start > page_up(o->e.size) - pv->pgoff) {
		pr_err("mapping at %lx-%lx reaches past the end of its shared memory object (%llu bytes): not supported yet",
		       (unsigned long)pv->start, (unsigned long)pv->end,
		       (unsigned long long)o->e.size);
		return -1;
	}
	if (check_seals(o, pv))
		return -1;
	*id = o->e.id;
	return 0;
}

/* ---- content ------------------------------------------------------------- */

/* Copy [off, off + len) of the object; bytes past its end are zeros. */
static int copy_run(const struct dump_shmem *o, int out, uint64_t off, uint64_t len, char *buf)
{
	while (len) {
		size_t n = len < COPY_BUF ? (size_t)len : COPY_BUF, got = 0;
		ssize_t r;

		while (got < n) {
			r = pread(o->fd, buf + got, n - got, (off_t)(off + got));
			if (r < 0) {
				pr_perror("can't read shared memory object %u at %llu", o->e.id,
					  (unsigned long long)(off + got));
				return -1;
			}
			if (r == 0)
				break;
			got += (size_t)r;
		}
		memset(buf + got, 0, n - got);
		if (write(out, buf, n) != (ssize_t)n) {
			pr_perror("can't write shmem-pages-%u.img", o->e.id);
			return -1;
		}
		off += n;
		len -= n;
	}
	return 0;
}

/* The next run of data at or after @off: [*start, *end), page aligned; 0 if none. */
static int next_data(const struct dump_shmem *o, uint64_t off, uint64_t *start, uint64_t *end)
{
	uint64_t lim = page_up(o->e.size);
	off_t d, h;

	if (off >= lim)
		return 0;
	d = lseek(o->fd, (off_t)off, SEEK_DATA);
	if (d < 0) {
		if (errno == ENXIO)
			return 0;
		pr_perror("SEEK_DATA in shared memory object %u", o->e.id);
		return -1;
	}
	h = lseek(o->fd, d, SEEK_HOLE);
	if (h < 0) {
		pr_perror("SEEK_HOLE in shared memory object %u", o->e.id);
		return -1;
	}
	*start = (uint64_t)d & ~(PAGE - 1);
	*end = page_up((uint64_t)h);
	if (*end > lim)
		*end = lim;
	if (*start >= *end)
		return 0;
	return 1;
}

static int write_content(struct dump_shmem *o, int dirfd, char *buf)
{
	struct cr_img *map = img_create(dirfd, IMG_SHMEM_PAGEMAP, o->e.id);
	struct cr_img *pages = img_create(dirfd, IMG_SHMEM_PAGES, o->e.id);
	uint64_t off = 0, s, e;
	int r = -1;

	if (!map || !pages)
		goto out;
	while ((r = next_data(o, off, &s, &e)) > 0) {
		ShmemRun run = SHMEM_RUN__INIT;

		run.offset = s;
		run.nr_pages = (e - s) / PAGE;
		if (img_write_entry(map, &run.base) || copy_run(o, img_raw_fd(pages), s, e - s, buf)) {
			r = -1;
			break;
		}
		o->e.nr_pages += run.nr_pages;
		off = e;
	}
	if (r < 0)
		goto out;
	r = img_commit(map);
	map = NULL;
	if (!r)
		r = img_commit(pages);
	pages = NULL;
out:
	if (map)
		img_abort(map);
	if (pages)
		img_abort(pages);
	return r ? -1 : 0;
}

int dump_shmem_write(struct dump_shmems *s, int dirfd)
{
	struct cr_img *img;
	char *buf;
	size_t i;

	if (!s->nr) {
		/* an earlier dump's list here would name objects this one lacks */
		if (unlinkat(dirfd, img_desc(IMG_SHMEM)->fmt, 0) && errno != ENOENT) {
			pr_perror("can't remove the old %s", img_desc(IMG_SHMEM)->fmt);
			return -1;
		}
		return 0;
	}
	buf = malloc(COPY_BUF);
	if (!buf) {
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < s->nr; i++) {
		if (write_content(&s->v[i], dirfd, buf)) {
			free(buf);
			return -1;
		}
		pr_info("shared memory object %u: %llu bytes, %llu pages of data", s->v[i].e.id,
			(unsigned long long)s->v[i].e.size, (unsigned long long)s->v[i].e.nr_pages);
	}
	free(buf);
	img = img_create(dirfd, IMG_SHMEM, 0);
	if (!img)
		return -1;
	for (i = 0; i < s->nr; i++)
		if (img_write_entry(img, &s->v[i].e.base)) {
			img_abort(img);
			return -1;
		}
	return img_commit(img);
}

void dump_shmem_free(struct dump_shmems *s)
{
	size_t i;

	for (i = 0; i < s->nr; i++) {
		if (s->v[i].fd >= 0)
			close(s->v[i].fd);
		free(s->v[i].e.name);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}
