/*
 * A private scratch directory for a fuzz target (tmpfs when there is one),
 * made once in LLVMFuzzerInitialize and removed at exit. Log output is
 * silenced: the inputs are meant to be rejected.
 */
#ifndef FUZZ_DIR_H
#define FUZZ_DIR_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"

static char fuzz_dir[64];
static int fuzz_dirfd = -1;

static void fuzz_dir_remove(void)
{
	rmdir(fuzz_dir);
}

/* Returns the directory's fd; aborts when none can be made. */
static inline int fuzz_dir_init(const char *name)
{
	log_init(NULL, NULL, LOG_NONE);
	snprintf(fuzz_dir, sizeof(fuzz_dir), "/dev/shm/criu-%s.XXXXXX", name);
	if (!mkdtemp(fuzz_dir)) {
		snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/criu-%s.XXXXXX", name);
		if (!mkdtemp(fuzz_dir))
			abort();
	}
	fuzz_dirfd = open(fuzz_dir, O_RDONLY | O_DIRECTORY);
	if (fuzz_dirfd < 0)
		abort();
	atexit(fuzz_dir_remove);
	return fuzz_dirfd;
}

/*
 * The next u16-little-endian-length-prefixed piece of the input (cut at its
 * end): its length, *out pointing at it; 0 when nothing is left.
 */
static inline size_t fuzz_piece(const uint8_t **data, size_t *size, const uint8_t **out)
{
	size_t n;

	if (*size < 2)
		return 0;
	n = (size_t)(*data)[0] | (size_t)(*data)[1] << 8;
	*data += 2;
	*size -= 2;
	if (n > *size)
		n = *size;
	*out = *data;
	*data += n;
	*size -= n;
	return n;
}

#endif /* FUZZ_DIR_H */
