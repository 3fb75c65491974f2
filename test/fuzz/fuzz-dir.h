/*
 * A private scratch directory for a fuzz target (tmpfs when there is one),
 * made once in LLVMFuzzerInitialize and removed at exit. Log output is
 * silenced: the inputs are meant to be rejected (FUZZ_LOG=1 shows errors,
 * to see why a seed is refused).
 */
#ifndef FUZZ_DIR_H
#define FUZZ_DIR_H

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

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
	log_init(NULL, NULL, getenv("FUZZ_LOG") ? LOG_ERROR : LOG_NONE);
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

/* Empties the scratch directory @dfd (flat: the targets make no subdirectories); how many it held. */
static inline int fuzz_dir_clear(int dfd)
{
	int fd = dup(dfd), n = 0;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d)
		abort();
	rewinddir(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			unlinkat(dfd, de->d_name, 0);
			n++;
		}
	closedir(d);
	return n;
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

/*
 * Bit 31 of a raw file's length in a directory input (fuzz-restore,
 * fuzz-est-import): the file is that many zero bytes (sparse) and takes
 * nothing from the input. Seeds keep page data this way: what the readers
 * check is its size, and a seed stays small.
 */
#define FUZZ_SPARSE	0x80000000u

/*
 * Write file @name of @dfd: @len bytes taken from *@data (cut at its end),
 * or, for a @raw kind with FUZZ_SPARSE in @len, a sparse file; aborts when
 * it cannot.
 */
static inline void fuzz_put_file(int dfd, const char *name, bool raw, uint32_t len,
				 const uint8_t **data, size_t *size)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t n = len;

	if (fd < 0)
		abort();
	if (raw && (len & FUZZ_SPARSE)) {
		if (ftruncate(fd, len & ~FUZZ_SPARSE))
			abort();
		close(fd);
		return;
	}
	if (n > *size)
		n = *size;
	if (n && write(fd, *data, n) != (ssize_t)n)
		abort();
	close(fd);
	*data += n;
	*size -= n;
}

static inline void fuzz_put32(FILE *f, uint32_t v)
{
	uint8_t b[4] = { v, v >> 8, v >> 16, v >> 24 };

	fwrite(b, 1, 4, f);
}

/*
 * Write file @name of @dfd to stdout in the directory input form: byte
 * @kind, u32 @id, u32 length (sparse for a @raw file of more than a page),
 * its bytes.
 */
static inline void fuzz_seed_file(int dfd, const char *name, int kind, uint32_t id, bool raw)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *buf;

	if (fd < 0 || fstat(fd, &st) || st.st_size >= FUZZ_SPARSE)
		abort();
	fputc(kind, stdout);
	fuzz_put32(stdout, id);
	if (raw && st.st_size > 4096) {
		fuzz_put32(stdout, (uint32_t)st.st_size | FUZZ_SPARSE);
		close(fd);
		return;
	}
	buf = malloc(st.st_size + 1);
	if (!buf || read(fd, buf, st.st_size) != st.st_size)
		abort();
	fuzz_put32(stdout, (uint32_t)st.st_size);
	fwrite(buf, 1, st.st_size, stdout);
	free(buf);
	close(fd);
}

#endif /* FUZZ_DIR_H */
