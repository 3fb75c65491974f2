/*
 * libFuzzer target for the image manifest (criu/manifest.c): the input is
 * the text of criu-manifest, put into a private directory beside two small
 * images; manifest_check() then reads, parses and checks it as a restore
 * does. It must accept or refuse without crashing, leaking or tripping a
 * sanitizer. FUZZ_MANIFEST_SEED=1 fuzz-manifest writes the manifest of
 * that directory (a seed that passes) to stdout and exits.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "manifest.h"
#include "fuzz-dir.h"

static int dir_fd = -1;

static void put(const char *name, const void *data, size_t size)
{
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
}

static void write_seed(void)
{
	char buf[4096];
	int fd;
	ssize_t n;

	if (manifest_write(dir_fd))
		abort();
	fd = openat(dir_fd, MANIFEST_NAME, O_RDONLY);
	while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, n, stdout);
	unlinkat(dir_fd, MANIFEST_NAME, 0);
	fflush(stdout);
	exit(0);
}

static void remove_images(void)
{
	unlinkat(dir_fd, "inventory.img", 0);
	unlinkat(dir_fd, "pages-1.img", 0);
	unlinkat(dir_fd, MANIFEST_NAME, 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dir_fd = fuzz_dir_init("fuzz-manifest");
	atexit(remove_images);
	put("inventory.img", "inventory", 9);
	put("pages-1.img", "page data", 9);
	if (getenv("FUZZ_MANIFEST_SEED"))
		write_seed();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	put(MANIFEST_NAME, data, size);
	manifest_check(dir_fd);
	unlinkat(dir_fd, MANIFEST_NAME, 0);
	return 0;
}
