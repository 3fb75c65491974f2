/*
 * libFuzzer target for the compressed page file reader (criu/zpages.c): the
 * input is one compressed file, decompressed into a memfd. It must
 * decompress or refuse without crashing, leaking or tripping a sanitizer;
 * what it decompresses is exactly the size its header says. The input is
 * also compressed and decompressed back, which must give it unchanged.
 * FUZZ_ZPAGES_SEED=N writes N bytes (runs and noise) compressed to stdout.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "zpages.h"

/* Headers that claim more than this are not decompressed here (time, not safety). */
#define FUZZ_MAX_PLAIN	(64u << 20)

static int memfd_with(const void *data, size_t size)
{
	int fd = memfd_create("zpages", MFD_CLOEXEC);

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	return fd;
}

static void write_seed(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	int in, out;
	char buf[4096];
	ssize_t r;
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (i / 512) % 3 ? (uint8_t)(i * 131 + (i >> 8)) : 0;
	in = memfd_with(p, n);
	out = memfd_create("out", MFD_CLOEXEC);
	if (out < 0 || zpages_pack_fd(in, out, "seed"))
		abort();
	lseek(out, 0, SEEK_SET);
	while ((r = read(out, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, r, stdout);
	fflush(stdout);
	free(p);
	exit(0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (getenv("FUZZ_ZPAGES_SEED"))
		write_seed(strtoul(getenv("FUZZ_ZPAGES_SEED"), NULL, 10));
	return 0;
}

static uint64_t claimed(const uint8_t *data, size_t size)
{
	uint64_t v = 0;
	int i;

	if (size < ZPAGES_HDR_SIZE)
		return 0;
	for (i = 7; i >= 0; i--)
		v = v << 8 | data[16 + i];
	return v;
}

/* Compress @data, decompress it back: the same bytes. */
static void round_trip(const uint8_t *data, size_t size)
{
	int in = memfd_with(data, size), z = memfd_create("z", MFD_CLOEXEC);
	int back = memfd_create("back", MFD_CLOEXEC);
	uint8_t *got = malloc(size ? size : 1);

	if (z < 0 || back < 0 || !got || zpages_pack_fd(in, z, "fuzz") ||
	    zpages_unpack_fd(z, back, "fuzz") || (size && pread(back, got, size, 0) != (ssize_t)size) ||
	    memcmp(got, data, size) || lseek(back, 0, SEEK_END) != (off_t)size)
		abort();
	free(got);
	close(in);
	close(z);
	close(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int in, out;
	struct stat st;

	round_trip(data, size);
	if (claimed(data, size) > FUZZ_MAX_PLAIN)
		return 0;
	in = memfd_with(data, size);
	out = memfd_create("out", MFD_CLOEXEC);
	if (out < 0)
		abort();
	if (!zpages_unpack_fd(in, out, "pages-1.img") &&
	    (fstat(out, &st) || (uint64_t)st.st_size != claimed(data, size)))
		abort();	/* decompressed, but not to the size its header says */
	close(in);
	close(out);
	return 0;
}
