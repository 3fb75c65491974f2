/*
 * libFuzzer target for the page server's decoder (criu/page-server-proto.c):
 * the input is a dump's byte stream as the server reads it from the
 * network, served by ps_serve() from a memfd into a private directory. It
 * must accept or refuse without crashing, leaking or tripping a sanitizer,
 * and leave no temporary file. FUZZ_PAGE_SERVER_SEED=1 fuzz-page-server
 * writes a stream that passes (two page files) to stdout and exits.
 */
#include <endian.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <xxhash.h>

#include "page-server.h"
#include "fuzz-dir.h"

static int dir_fd = -1;
static int in_fd = -1;

static void hdr(FILE *f, uint32_t kind, uint32_t id, uint64_t off, uint64_t len)
{
	struct ps_hdr h = { htole32(kind), htole32(id), htole64(off), htole64(len) };

	fwrite(&h, sizeof(h), 1, f);
}

static void seed_file(FILE *f, uint32_t id, const char *name, const char *data)
{
	size_t n = strlen(data);

	hdr(f, PS_OPEN, id, 0, strlen(name));
	fputs(name, f);
	hdr(f, PS_DATA, id, 0, n);
	fwrite(data, 1, n, f);
	hdr(f, PS_CLOSE, id, n, XXH3_64bits(data, n));
}

static void write_seed(void)
{
	hdr(stdout, PS_HELLO, PS_VERSION, PS_MAGIC, 0);
	seed_file(stdout, 0, "pages-1.img", "page data of the first file");
	seed_file(stdout, 3, "pages-2.img", "second");
	hdr(stdout, PS_END, 2, 0, 0);
	fflush(stdout);
	exit(0);
}

static void remove_files(void)
{
	fuzz_dir_clear(dir_fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (getenv("FUZZ_PAGE_SERVER_SEED"))
		write_seed();
	dir_fd = fuzz_dir_init("fuzz-page-server");
	in_fd = memfd_create("stream", MFD_CLOEXEC);
	if (in_fd < 0)
		abort();
	atexit(remove_files);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (ftruncate(in_fd, 0) || pwrite(in_fd, data, size, 0) != (ssize_t)size ||
	    lseek(in_fd, 0, SEEK_SET))
		abort();
	/* a refusal removes every file it wrote */
	if (ps_serve(in_fd, -1, dir_fd) && fuzz_dir_clear(dir_fd))
		abort();
	fuzz_dir_clear(dir_fd);
	return 0;
}
