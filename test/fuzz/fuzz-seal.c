/*
 * libFuzzer target for the sealed-file reader (criu/seal.c): the input is
 * one sealed file, opened with a fixed key as "criu-manifest" (set id taken
 * from it) and as "pages-1.img" (set id required to be the seed's) into a
 * memfd. It must open or refuse without crashing, leaking or tripping a
 * sanitizer; whatever it opens must be exactly what was sealed under that
 * name (a forgery that authenticates aborts). FUZZ_SEAL_SEED=N writes a
 * sealed file of N bytes, sealed as criu-manifest, to stdout and exits.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "seal.h"

static const struct seal_key key = { .k = "fuzz-seal-key-fuzz-seal-key-0123" };
static const uint8_t seed_set[SEAL_SET_SIZE] = "fuzz-seal-set-1";

/* Byte i of the seeds' plaintext. */
static uint8_t plain(size_t i)
{
	return (uint8_t)(i * 131 + (i >> 8));
}

static void write_seed(size_t n)
{
	int in = memfd_create("plain", MFD_CLOEXEC), out = memfd_create("sealed", MFD_CLOEXEC);
	char buf[4096];
	ssize_t r;
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t b = plain(i);

		if (write(in, &b, 1) != 1)
			abort();
	}
	if (in < 0 || out < 0 || seal_fd(&key, seed_set, "criu-manifest", in, out, false))
		abort();
	lseek(out, 0, SEEK_SET);
	while ((r = read(out, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, r, stdout);
	fflush(stdout);
	exit(0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (getenv("FUZZ_SEAL_SEED"))
		write_seed(strtoul(getenv("FUZZ_SEAL_SEED"), NULL, 10));
	return 0;
}

/* What opened must be the seeds' plaintext: nothing else can authenticate. */
static void check_opened(int out)
{
	uint8_t buf[4096];
	size_t off = 0, i;
	ssize_t n;

	lseek(out, 0, SEEK_SET);
	while ((n = read(out, buf, sizeof(buf))) > 0) {
		for (i = 0; i < (size_t)n; i++)
			if (buf[i] != plain(off + i))
				abort();
		off += n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int in = memfd_create("in", MFD_CLOEXEC), out = memfd_create("out", MFD_CLOEXEC);
	uint8_t set[SEAL_SET_SIZE];

	if (in < 0 || out < 0 || (size && write(in, data, size) != (ssize_t)size))
		abort();
	if (!unseal_fd(&key, set, false, "criu-manifest", in, out))
		check_opened(out);
	if (ftruncate(out, 0) || lseek(out, 0, SEEK_SET))
		abort();
	memcpy(set, seed_set, sizeof(set));
	if (!unseal_fd(&key, set, true, "pages-1.img", in, out))
		abort();	/* sealed as criu-manifest: never opens under another name */
	close(in);
	close(out);
	return 0;
}
