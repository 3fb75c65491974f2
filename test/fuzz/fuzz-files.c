/*
 * libFuzzer target for the restore side of the file images this dump
 * carries content for: reg-files.img with ghosts (ghost-files.img,
 * ghost-data.img) and memfds (memfds.img, memfd-inodes.img, memfd-data.img),
 * read through fd_rst_read() like a restore does.
 *
 * Input: six u16 little-endian length-prefixed pieces, one per image in
 * that order. Whatever the bytes, the readers must refuse or accept
 * without crashing, leaking or tripping a sanitizer; small memfds they
 * accept are created and filled. (Ghosts are not: they are created at the
 * absolute path the image names.)
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files.h"
#include "image.h"
#include "memfd.pb-c.h"
#include "fuzz-dir.h"

#define CREATE_MAX	(1u << 20)

static const enum img_kind kinds[] = {
	IMG_REG_FILES, IMG_GHOST_FILES, IMG_GHOST_DATA, IMG_MEMFDS, IMG_MEMFD_INODES,
	IMG_MEMFD_DATA,
};

static int dir_fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dir_fd = fuzz_dir_init("fuzz-files");
	return 0;
}

static void put(enum img_kind kind, const uint8_t *data, size_t size)
{
	const char *name = img_desc(kind)->fmt;
	int fd;

	if (!size) {	/* an empty piece: no such image */
		unlinkat(dir_fd, name, 0);
		return;
	}
	fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
}

/* Create the small memfds the reader accepted. */
static void open_memfds(struct fd_rst *r)
{
	const struct fd_ops *ops = fd_ops(FD_KIND__FD_MEMFD);
	struct cr_options o;
	size_t i;

	memset(&o, 0, sizeof(o));
	for (i = 0; i < r->nr_obj; i++) {
		const struct fd_obj *obj = &r->obj[i];
		int fd;

		if (obj->store != FD_KIND__FD_MEMFD)
			continue;
		fd = ops->open(r, obj, &o);
		if (fd >= 0)
			close(fd);
	}
}

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = NULL;
	struct fd_rst r;
	size_t i, n;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		n = fuzz_piece(&data, &size, &p);
		put(kinds[i], p, n);
	}
	memset(&r, 0, sizeof(r));
	if (!fd_rst_read(&r, dir_fd) && small_memfds())
		open_memfds(&r);
	fd_rst_free(&r);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		unlinkat(dir_fd, img_desc(kinds[i])->fmt, 0);
	return 0;
}
