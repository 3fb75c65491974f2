/*
 * libFuzzer target for the restore side of shared memory object images
 * (rst_shmem_read and, for small objects, rst_shmem_create).
 *
 * Input: u16 little-endian length + shmem.img bytes, u16 length + bytes used
 * as shmem-pagemap-ID.img for ids 1 to 3, the rest as shmem-pages-ID.img for
 * the same ids. Whatever the bytes, the reader must refuse or accept without
 * crashing, leaking or tripping a sanitizer; what it accepts must create.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "restore.h"
#include "fuzz-dir.h"

#define NR_IDS		3
#define CREATE_MAX	(1u << 20)	/* objects created only up to this size */

static int dir_fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dir_fd = fuzz_dir_init("fuzz-shmem");
	return 0;
}

static void put(const char *name, const uint8_t *data, size_t size)
{
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
}

static void name_of(enum img_kind kind, unsigned int id, char *buf, size_t len)
{
	snprintf(buf, len, img_desc(kind)->fmt, id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = NULL;
	struct rst_shmems s;
	char name[64];
	unsigned int id;
	size_t n, i;
	bool small = true;

	n = fuzz_piece(&data, &size, &p);
	put("shmem.img", p, n);
	n = fuzz_piece(&data, &size, &p);
	for (id = 1; id <= NR_IDS; id++) {
		name_of(IMG_SHMEM_PAGEMAP, id, name, sizeof(name));
		put(name, p, n);
		name_of(IMG_SHMEM_PAGES, id, name, sizeof(name));
		put(name, data, size);
	}
	if (!rst_shmem_read(dir_fd, &s)) {
		for (i = 0; i < s.nr; i++)
			small = small && s.e[i]->size <= CREATE_MAX;
		if (small && rst_shmem_create(&s))
			abort();	/* validated images must create */
	}
	rst_shmem_free(&s);
	unlinkat(dir_fd, "shmem.img", 0);
	for (id = 1; id <= NR_IDS; id++) {
		name_of(IMG_SHMEM_PAGEMAP, id, name, sizeof(name));
		unlinkat(dir_fd, name, 0);
		name_of(IMG_SHMEM_PAGES, id, name, sizeof(name));
		unlinkat(dir_fd, name, 0);
	}
	return 0;
}
