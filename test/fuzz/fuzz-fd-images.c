/*
 * libFuzzer target for the restore-side reading of the fd kinds' images
 * (fd_rst_read: every kind's read() and validation, the object index) and
 * the pty session check.
 *
 * Input: chunks of [image kind byte][length, 2 bytes little-endian][bytes];
 * each is written as that kind's image (id 0: the images of the whole
 * dump, as reg-files.img, pipes.img, pty-files.img, ptys.img ...), then
 * the directory is read as a restore would. Several chunks make images
 * that must agree with each other (pty ends and pairs, pipes and their
 * data). Nothing may crash, leak or trip a sanitizer, whatever the bytes.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files.h"
#include "image.h"
#include "tty.h"
#include "fuzz-dir.h"

#define MAX_CHUNKS	8

static int dirfd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dirfd = fuzz_dir_init("fuzz-fd-images");
	return 0;
}

static void image_name(enum img_kind kind, char *name, size_t len)
{
	snprintf(name, len, img_desc(kind)->fmt, 0u);
}

static void write_image(enum img_kind kind, const uint8_t *data, size_t size)
{
	char name[64];
	int fd;

	image_name(kind, name, sizeof(name));
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PstreeEntry leader = PSTREE_ENTRY__INIT, *ps[1] = { &leader };
	enum img_kind used[MAX_CHUNKS];
	struct fd_rst r = { 0 };
	size_t n = 0, i;
	char name[64];

	while (size >= 3 && n < MAX_CHUNKS) {
		size_t len = (size_t)data[1] | (size_t)data[2] << 8;

		used[n] = (enum img_kind)(data[0] % IMG_KIND_MAX);
		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		write_image(used[n++], data, len);
		data += len;
		size -= len;
	}
	leader.pid = leader.sid = leader.pgid = 100;
	if (!fd_rst_read(&r, dirfd))
		rst_pty_check_sessions(&r, ps, 1, false);
	fd_rst_free(&r);
	for (i = 0; i < n; i++) {
		image_name(used[i], name, sizeof(name));
		unlinkat(dirfd, name, 0);
	}
	return 0;
}
