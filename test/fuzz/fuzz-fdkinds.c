/*
 * libFuzzer target for the restore side of the fd-kind table: every
 * kind's read() and validate() (criu/include/files.h), including the
 * cross-entry checks (socket peers, pipe data) that fuzz-image does not
 * reach.
 *
 * Input: one byte choosing an fd kind's image (modulo the number listed
 * here), then the file's bytes, written under that image's name into a
 * private directory and read with fd_rst_read() as a restore would.
 * Nothing may crash, leak or trip a sanitizer, whatever the bytes.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compiler.h"
#include "files.h"
#include "image.h"
#include "fuzz-dir.h"

static const enum img_kind kinds[] = {
	IMG_REG_FILES, IMG_PIPES, IMG_FIFOS, IMG_PIPES_DATA, IMG_EVENTFDS, IMG_SIGNALFDS,
	IMG_TIMERFDS, IMG_EPOLLS, IMG_INOTIFYS, IMG_FANOTIFYS, IMG_UNIX_SKS, IMG_INET_SKS,
};

static int dirfd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dirfd = fuzz_dir_init("fuzz-fdkinds");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fd_rst r;
	char name[64];
	int fd;

	if (size < 1)
		return 0;
	snprintf(name, sizeof(name), img_desc(kinds[data[0] % ARRAY_SIZE(kinds)])->fmt, 0u);
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	if (write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	close(fd);
	memset(&r, 0, sizeof(r));
	fd_rst_read(&r, dirfd);
	fd_rst_free(&r);
	unlinkat(dirfd, name, 0);
	return 0;
}
