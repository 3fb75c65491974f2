/*
 * libFuzzer target for the restore side of the fd kinds: the images of
 * every kind are read and validated by fd_rst_read() (criu/files.c), as a
 * restore does before opening anything.
 *
 * Input: one byte choosing one of the fd kinds' images (modulo their
 * number, in the order of criu/include/fd-kinds.def), then the file's
 * bytes; or, if the first byte has its top bit set, two images: the
 * second byte chooses the other one and the next two bytes give the first
 * file's length. The files are written under their
 * standard names into a private directory, read back with fd_rst_read(),
 * checked against a one-process pstree (the pty session check), freed and
 * removed. Nothing may crash, leak or trip a sanitizer.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "files.h"
#include "image.h"
#include "tty.h"
#include "fuzz-dir.h"

/* Every fd kind's images, in the order of criu/include/fd-kinds.def. */
static const enum img_kind kinds[] = {
#define FD_IMG(name, ...) IMG_##name,
#define FD_RAW(name, ...) IMG_##name,
#include "fd-kinds.def"
};
#define NR_KINDS (sizeof(kinds) / sizeof(kinds[0]))

static int dir_fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dir_fd = fuzz_dir_init("fuzz-fdimg");
	return 0;
}

static void put(enum img_kind kind, const uint8_t *data, size_t size, char *name, size_t len)
{
	int fd;

	snprintf(name, len, img_desc(kind)->fmt, 0u);
	fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PstreeEntry leader = PSTREE_ENTRY__INIT, *ps[1] = { &leader };
	char a[64], b[64] = "";
	struct fd_rst r;
	size_t first;

	if (size < 1)
		return 0;
	if (data[0] & 0x80) {
		if (size < 4)
			return 0;
		first = (size_t)data[2] | (size_t)data[3] << 8;
		if (first > size - 4 || kinds[(data[0] & 0x7f) % NR_KINDS] == kinds[data[1] % NR_KINDS])
			return 0;
		put(kinds[(data[0] & 0x7f) % NR_KINDS], data + 4, first, a, sizeof(a));
		put(kinds[data[1] % NR_KINDS], data + 4 + first, size - 4 - first, b, sizeof(b));
	} else {
		put(kinds[data[0] % NR_KINDS], data + 1, size - 1, a, sizeof(a));
	}
	memset(&r, 0, sizeof(r));
	leader.pid = leader.sid = leader.pgid = 100;
	if (!fd_rst_read(&r, dir_fd))
		rst_pty_check_sessions(&r, ps, 1, false);
	fd_rst_free(&r);
	unlinkat(dir_fd, a, 0);
	if (b[0])
		unlinkat(dir_fd, b, 0);
	return 0;
}
