/*
 * libFuzzer target for the whole restore read path on images of our own
 * format, as `criu restore` meets them once est_import() has converted a
 * dump: rst_tree_read() (inventory, pstree with its session and group
 * rules, then per process core and threads, every fd kind's image and
 * validator, mm, fds and pagemap, shared memory objects, copy-on-write
 * links, who opens which object), the pty session check and the host
 * checks of scheduling state; then what can be created without touching
 * the file system: the shared memory objects and memfds it accepted, when
 * they are small, filled from their data runs.
 *
 * Input: one byte of options (bit 0: --shell-job), then files, each one
 * byte naming a kind of the image table (modulo its size), a u32 for the
 * id in its file name, a u32 length and the file's bytes (little-endian;
 * cut at the input's end; a raw kind's length may say FUZZ_SPARSE). Each
 * becomes a file of that kind's name in a private directory. Nothing may
 * crash, leak or trip a sanitizer; an accepted shared memory object must
 * create. (Ghost files are not created: they go to the absolute path the
 * image names; their data runs are checked by the reader.)
 *
 * Seeds (test/fuzz/corpus/fuzz-restore) are dumps of our e2e programs:
 * FUZZ_RESTORE_SEED_FROM=DIR fuzz-restore > SEED writes the images of DIR
 * (converted by est_import() when DIR holds the established format) in
 * this input form and exits; FUZZ_RESTORE_SHELL_JOB=1 sets bit 0 (--shell-job),
 * FUZZ_RESTORE_EMPTY_NET=1 bit 1 (--empty-ns net).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "est-import.h"
#include "image.h"
#include "restore.h"
#include "sched-state.h"
#include "tty.h"
#include "memfd.pb-c.h"
#include "fuzz-dir.h"
#include "netns.h"

#define CREATE_MAX	(1u << 20)	/* objects created only up to this size */

static int dir_fd = -1;

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool raw_kind(int kind)
{
	return !img_desc(kind)->pb;
}

/* The kind whose file name @name is (its id in @id), or -1. */
static int kind_of(const char *name, unsigned int *id)
{
	char again[128];
	int k;

	for (k = 0; k < IMG_KIND_MAX; k++) {
		const char *fmt = img_desc(k)->fmt;

		*id = 0;
		if (strchr(fmt, '%') && sscanf(name, fmt, id) != 1)
			continue;
		snprintf(again, sizeof(again), fmt, *id);
		if (!strcmp(again, name))
			return k;
	}
	return -1;
}

/* Every image of @dir (ours, or converted), in the input form, to stdout. */
static void write_seed(const char *dir)
{
	struct est_import imp = { .dirfd = -1 };
	int dfd = open(dir, O_RDONLY | O_DIRECTORY), fd;
	struct dirent *de;
	unsigned int id;
	DIR *d;
	int k;

	if (dfd < 0)
		exit(1);
	if (est_import_detect(dfd) == 1) {
		if (est_import(dfd, &imp))
			exit(1);
		close(dfd);
		dfd = dup(imp.dirfd);
	}
	/* bit 0: --shell-job; bit 1: --empty-ns net (a veth then needs no outside name) */
	fputc((getenv("FUZZ_RESTORE_SHELL_JOB") ? 1 : 0) | (getenv("FUZZ_RESTORE_EMPTY_NET") ? 2 : 0),
	      stdout);
	fd = dup(dfd);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	while (d && (de = readdir(d)))
		if ((k = kind_of(de->d_name, &id)) >= 0)
			fuzz_seed_file(dfd, de->d_name, k, id, raw_kind(k));
	if (d)
		closedir(d);
	fflush(stdout);
	if (imp.dirfd >= 0)
		est_import_release(&imp);
	exit(0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (getenv("FUZZ_RESTORE_SEED_FROM"))
		write_seed(getenv("FUZZ_RESTORE_SEED_FROM"));
	dir_fd = fuzz_dir_init("fuzz-restore");
	return 0;
}

static void put_files(const uint8_t *data, size_t size)
{
	char name[128];
	uint32_t len;
	int kind;

	while (size >= 9) {
		kind = data[0] % IMG_KIND_MAX;
		snprintf(name, sizeof(name), img_desc(kind)->fmt, le32(data + 1));
		len = le32(data + 5);
		data += 9;
		size -= 9;
		fuzz_put_file(dir_fd, name, raw_kind(kind), len, &data, &size);
	}
}

/* Every memfd inode no larger than CREATE_MAX (or none). */
static bool small_memfds(void)
{
	ProtobufCMessage **v = NULL;
	size_t nr = 0, i;
	bool small = true;

	if (faccessat(dir_fd, img_desc(IMG_MEMFD_INODES)->fmt, F_OK, 0))
		return true;
	if (img_read_all(dir_fd, IMG_MEMFD_INODES, 0, 0, NULL, NULL, &v, &nr))
		return false;
	for (i = 0; i < nr; i++)
		small = small && ((MemfdInodeEntry *)v[i])->size <= CREATE_MAX;
	img_free_all(v, nr);
	return small;
}

/* Create the shared memory objects, then open the memfds, when all are small. */
static void create(struct rst_tree *tr)
{
	const struct fd_ops *ops = fd_ops(FD_KIND__FD_MEMFD);
	struct fd_rst *r = &tr->ri[0].fdr;
	struct cr_options o;
	size_t i;

	for (i = 0; i < tr->shm.nr; i++)
		if (tr->shm.e[i]->size > CREATE_MAX)
			return;
	if (rst_shmem_create(&tr->shm))
		abort();	/* validated images must create */
	if (!ops || !ops->open || !small_memfds())
		return;
	memset(&o, 0, sizeof(o));
	for (i = 0; i < r->nr_obj; i++) {
		int fd;

		if (r->obj[i].store != FD_KIND__FD_MEMFD)
			continue;
		fd = ops->open(r, &r->obj[i], &o);
		if (fd >= 0)
			close(fd);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cr_options o;
	struct rst_tree tr;

	if (size < 1)
		return 0;
	memset(&o, 0, sizeof(o));
	o.shell_job = data[0] & 1;
	/* a tree's network namespace, whose veths then need no outside names */
	o.empty_ns = data[0] & 2 ? "net" : NULL;
	put_files(data + 1, size - 1);
	if (!rst_netns_read(dir_fd, &o))
		pr_debug("netns.img accepted");
	rst_netns_release();
	if (!rst_tree_read(dir_fd, &o, &tr) &&
	    !rst_pty_check_sessions(&tr.ri[0].fdr, tr.ps, tr.nr, o.shell_job) &&
	    !rst_check_sched_host(&tr))
		create(&tr);
	rst_tree_free(&tr);
	fuzz_dir_clear(dir_fd);
	return 0;
}
