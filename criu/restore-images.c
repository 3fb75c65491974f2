/*
 * Restore, step 1: read and validate every image of one process (the
 * tree's own images, inventory and pstree, are read by restore-tree.c).
 *
 * Everything here is untrusted input. Each check rejects with a message
 * naming the image and what is wrong; nothing is created (no process, no
 * mapping) before all of them pass. Images are only ever opened read-only.
 * Each object's checks are in its own file: core-PID.img in restore-core.c
 * (threads: restore-threads.c, scheduling: restore-sched.c), mm-PID.img and
 * pagemap-PID.img in restore-mem.c; the fds' here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define LOG_PREFIX "restore: "
#include "log.h"
#include "image.h"
#include "inventory.h"
#include "restore.h"

RegFileEntry *rst_reg_file(const struct rst_image *ri, uint32_t id)
{
	const struct fd_obj *o = fd_rst_find(&ri->fdr, id);

	return o && o->store == FD_KIND__FD_REG ? (RegFileEntry *)o->e : NULL;
}

int rst_check_file_identity(const RegFileEntry *rf, int fd, bool content_matters)
{
	struct stat st;

	if (fstat(fd, &st)) {
		pr_perror("cannot stat %s", rf->path);
		return -1;
	}
	if ((st.st_mode & S_IFMT) != (rf->mode & S_IFMT)) {
		pr_err("%s: file type changed since the dump (mode %o, was %o)", rf->path,
		       st.st_mode, rf->mode);
		return -1;
	}
	if ((rf->has_dev && (uint64_t)st.st_dev != rf->dev) ||
	    (rf->has_ino && (uint64_t)st.st_ino != rf->ino)) {
		pr_err("%s: not the file of the dump (dev/ino %llx/%llu, was %llx/%llu)", rf->path,
		       (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
		       (unsigned long long)rf->dev, (unsigned long long)rf->ino);
		return -1;
	}
	if (S_ISCHR(st.st_mode) && rf->has_rdev && (uint64_t)st.st_rdev != rf->rdev) {
		pr_err("%s: another device than at dump time (rdev %llx, was %llx)", rf->path,
		       (unsigned long long)st.st_rdev, (unsigned long long)rf->rdev);
		return -1;
	}
	if (!content_matters)
		return 0;
	if (rf->has_size && (uint64_t)st.st_size != rf->size) {
		pr_err("%s: size changed since the dump (%lld, was %llu)", rf->path,
		       (long long)st.st_size, (unsigned long long)rf->size);
		return -1;
	}
	if (rf->has_mtime_ns &&
	    (uint64_t)st.st_mtim.tv_sec * 1000000000ULL + (uint64_t)st.st_mtim.tv_nsec != rf->mtime_ns) {
		pr_err("%s: modified since the dump (mtime differs)", rf->path);
		return -1;
	}
	return 0;
}

/* Room for one more thread entry (doubling: reading stays linear). */
static int grow_threads(struct rst_image *ri)
{
	size_t n = ri->nr_threads, cap;
	ThreadCoreEntry **t;

	/* capacity: 8, then the next power of two */
	if (n && (n < 8 || (n & (n - 1))))
		return 0;
	cap = n ? 2 * n : 8;
	t = realloc(ri->threads, cap * sizeof(*t));
	if (!t) {
		pr_err("core-%d.img: out of memory for %zu threads", ri->pid, ri->nr_threads + 1);
		return -1;
	}
	ri->threads = t;
	return 0;
}

struct cr_img *rst_img_open_first(const struct rst_image *ri, int kind,
				  const char *name, const char *empty, ProtobufCMessage **m)
{
	struct cr_img *img = img_open(ri->dirfd, (enum img_kind)kind, ri->pid);
	int r;

	if (!img)
		return NULL;
	r = img_read_entry(img, m);
	if (r == 1)
		return img;
	if (r == 0)
		pr_err("%s-%d.img: %s", name, ri->pid, empty);
	img_close(img);
	return NULL;
}

static int read_core(struct rst_image *ri)
{
	ProtobufCMessage *m = NULL;
	struct cr_img *img = rst_img_open_first(ri, IMG_CORE, "core", "empty (no task_core_entry)", &m);
	int r;

	if (!img)
		return -1;
	ri->core = (TaskCoreEntry *)m;
	while ((r = img_read_entry(img, &m)) == 1) {
		if (ri->nr_threads == RST_MAX_THREADS_IMG) {
			pr_err("core-%d.img: more than %d threads are not supported", ri->pid,
			       RST_MAX_THREADS_IMG);
			img_free_entry(m);
			r = -1;
			break;
		}
		if (grow_threads(ri)) {
			img_free_entry(m);
			r = -1;
			break;
		}
		ri->threads[ri->nr_threads++] = (ThreadCoreEntry *)m;
	}
	img_close(img);
	if (r == 0 && !ri->nr_threads && !ri->zombie) {
		pr_err("core-%d.img: no thread_core_entry", ri->pid);
		r = -1;
	}
	if (r < 0)
		return -1;
	ri->thread = ri->nr_threads ? ri->threads[0] : NULL;
	return 0;
}

struct fds_ctx {
	struct rst_image	*ri;
	uint8_t			*used;	/* bitmap of fd numbers seen */
	char			img[32];
};

#define RST_FD_LIMIT	(1u << 20)

static int check_fd(const ProtobufCMessage *m, void *ctx)
{
	const FdEntry *fe = (const FdEntry *)m;
	struct fds_ctx *c = ctx;

	if (c->ri->nr_fds >= RST_MAX_FDS || fe->fd >= RST_FD_LIMIT ||
	    (c->used[fe->fd / 8] & (1u << (fe->fd % 8)))) {
		pr_err("%s: fd %u is repeated, out of range or one too many (at most %d)",
		       c->img, fe->fd, RST_MAX_FDS);
		return -1;
	}
	c->used[fe->fd / 8] |= (uint8_t)(1u << (fe->fd % 8));
	return fd_rst_check(&c->ri->fdr, fe, c->img);
}

static int read_fds(struct rst_image *ri)
{
	struct fds_ctx c = { .ri = ri, .used = calloc(RST_FD_LIMIT / 8, 1) };
	int ret;

	if (!c.used) {
		pr_err("out of memory");
		return -1;
	}
	snprintf(c.img, sizeof(c.img), "fds-%d.img", ri->pid);
	/* No cap here: check_fd() refuses entry RST_MAX_FDS with its own message. */
	ret = img_read_all(ri->dirfd, IMG_FDS, ri->pid, 0, check_fd, &c,
			   (ProtobufCMessage ***)&ri->fds, &ri->nr_fds);
	free(c.used);
	return ret;
}

/*
 * The images of one process of the tree. @ri has dirfd, inv, pstree and
 * pid (the tree's) set; a pstree entry without threads is a zombie, which
 * has only its core image.
 */
int rst_images_read(struct rst_image *ri)
{
	ProtobufCMessage *m;

	ri->pages_fd = -1;
	ri->zombie = ri->pstree->n_threads == 0;
	if (read_core(ri))
		return -1;
	if (ri->zombie)
		return rst_core_check_zombie(ri);
	if (rst_core_check(ri))
		return -1;
	/* every process reads the objects: it opens those it is the first to use */
	if (fd_rst_read(&ri->fdr, ri->dirfd))
		return -1;
	if (img_read_one(ri->dirfd, IMG_MM, ri->pid, &m)) {
		pr_err("mm-%d.img must hold exactly one entry", ri->pid);
		return -1;
	}
	ri->mm = (MmEntry *)m;
	if (rst_mem_check(ri) || read_fds(ri) || rst_mem_read_pagemap(ri))
		return -1;
	if ((ri->core->has_cwd_id && !rst_reg_file(ri, ri->core->cwd_id)) ||
	    (ri->core->has_root_id && !rst_reg_file(ri, ri->core->root_id))) {
		pr_err("core-%d.img: cwd or root names an unknown file", ri->pid);
		return -1;
	}
	return 0;
}

/* Frees what rst_images_read() read; inv and pstree belong to the tree. */
void rst_images_free(struct rst_image *ri)
{
	size_t i;

	if (ri->core)
		img_free_entry(&ri->core->base);
	for (i = 0; i < ri->nr_threads; i++)
		img_free_entry(&ri->threads[i]->base);
	free(ri->threads);
	if (ri->mm)
		img_free_entry(&ri->mm->base);
	for (i = 0; i < ri->nr_fds; i++)
		img_free_entry(&ri->fds[i]->base);
	free(ri->fds);
	fd_rst_free(&ri->fdr);
	free(ri->runs);
	free(ri->cow);
	free(ri->inherit);
	if (ri->pages_img)
		img_close(ri->pages_img);
	memset(ri, 0, sizeof(*ri));
	ri->pages_fd = -1;
}
