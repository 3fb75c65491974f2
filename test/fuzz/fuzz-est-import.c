/*
 * libFuzzer target for the importer (criu/est-import*.c): whole directories
 * of established-format images, as `criu restore` meets them.
 *
 * Input: files, each one byte naming a kind of the table (modulo its
 * size), a u32 for the id in its file name, a u32 length and the file's
 * bytes (all little-endian; cut at the input's end). Each becomes a file of
 * that kind's name in a private directory; est_import() then converts the
 * directory. Whatever the files hold, it must succeed or refuse without
 * crashing, leaking or tripping a sanitizer, and leave no converted
 * directory behind when it refuses.
 *
 * Seeds (test/fuzz/corpus/fuzz-est-import) are dumps of our own e2e
 * programs: FUZZ_EST_SEED_FROM=DIR fuzz-est-import > SEED writes the images
 * of DIR in this input form and exits.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "est-image.h"
#include "est-import.h"
#include "fuzz-dir.h"

static int dir_fd = -1;

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint32_t v)
{
	uint8_t b[4] = { v, v >> 8, v >> 16, v >> 24 };

	fwrite(b, 1, 4, stdout);
}

/* Every image of @dir that the table names, in the input form, to stdout. */
static void write_seed(const char *dir)
{
	unsigned int nk;
	const struct est_kind *kinds = est_kinds(&nk), *k;
	static uint8_t buf[16 << 20];
	char path[4096];
	struct dirent *de;
	DIR *d = opendir(dir);
	unsigned int id;
	size_t n;
	FILE *f;

	while (d && (de = readdir(d))) {
		k = est_kind_by_name(de->d_name);
		if (!k)
			continue;
		id = 0;
		if (strstr(k->pattern, "%"))
			sscanf(de->d_name, k->pattern, &id);
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "rb");
		n = f ? fread(buf, 1, sizeof(buf), f) : 0;
		if (f)
			fclose(f);
		fputc((int)(k - kinds), stdout);
		put32(id);
		put32(n);
		fwrite(buf, 1, n, stdout);
	}
	if (d)
		closedir(d);
	exit(0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (getenv("FUZZ_EST_SEED_FROM"))
		write_seed(getenv("FUZZ_EST_SEED_FROM"));
	dir_fd = fuzz_dir_init("fuzz-est-import");
	return 0;
}

/* The file name of kind @k with id @id ("%u"/"%x" patterns), or none. */
static void name_of(const struct est_kind *k, unsigned int id, char *buf, size_t size)
{
	if (strstr(k->pattern, "%"))
		snprintf(buf, size, k->pattern, id);
	else
		snprintf(buf, size, "%s", k->pattern);
}

static void clear_dir(void)
{
	int fd = dup(dir_fd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d)
		abort();
	rewinddir(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(dir_fd, de->d_name, 0);
	closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int nk;
	const struct est_kind *kinds = est_kinds(&nk);
	struct est_import imp;
	char name[128];
	size_t n;
	int fd;

	while (size >= 9) {
		const struct est_kind *k = &kinds[data[0] % nk];

		name_of(k, le32(data + 1), name, sizeof(name));
		n = le32(data + 5);
		data += 9;
		size -= 9;
		if (n > size)
			n = size;
		fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || (n && write(fd, data, n) != (ssize_t)n))
			abort();
		close(fd);
		data += n;
		size -= n;
	}
	if (est_import(dir_fd, &imp) == 0)
		est_import_release(&imp);
	else if (imp.dirfd != -1 || imp.path[0])
		abort();		/* a refusal leaves nothing behind */
	clear_dir();
	return 0;
}
