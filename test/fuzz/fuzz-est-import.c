/*
 * libFuzzer target for the importer (criu/est-import*.c): whole directories
 * of established-format images, as `criu restore` meets them.
 *
 * Input: files, each one byte naming a kind of the table (modulo its
 * size), a u32 for the id in its file name, a u32 length and the file's
 * bytes (all little-endian; cut at the input's end; a raw kind's length may
 * say FUZZ_SPARSE, fuzz-dir.h). Each becomes a file of
 * that kind's name in a private directory; est_import() then converts the
 * directory, and each pagemap is also read as a parent dump's (pmc_load()).
 * Whatever the files hold, it must succeed or refuse without
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
#include "pagemap-chain.h"

static int dir_fd = -1;

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Every image of @dir that the table names, in the input form, to stdout. */
static void write_seed(const char *dir)
{
	unsigned int nk;
	const struct est_kind *kinds = est_kinds(&nk), *k;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	unsigned int id;

	while (d && (de = readdir(d))) {
		k = est_kind_by_name(de->d_name);
		if (!k)
			continue;
		id = 0;
		if (strstr(k->pattern, "%"))
			sscanf(de->d_name, k->pattern, &id);
		fuzz_seed_file(dfd, de->d_name, (int)(k - kinds), id, !strcmp(k->name, "pages"));
	}
	if (d)
		closedir(d);
	fflush(stdout);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int nk;
	const struct est_kind *kinds = est_kinds(&nk);
	struct est_import imp = { 0 };	/* est_import() reads no_build_id */
	char name[128];
	uint32_t len;

	while (size >= 9) {
		const struct est_kind *k = &kinds[data[0] % nk];
		unsigned int id = le32(data + 1);
		struct pmc_map pm;

		name_of(k, id, name, sizeof(name));
		len = le32(data + 5);
		data += 9;
		size -= 9;
		fuzz_put_file(dir_fd, name, !k->magic, len, &data, &size);
		/* read as a parent dump's pagemap too (criu/pagemap-chain.c) */
		if (!strcmp(k->pattern, "pagemap-%u.img") && pmc_load(dir_fd, id, true, &pm) > 0)
			pmc_free(&pm);
	}
	if (est_import(dir_fd, &imp) == 0)
		est_import_release(&imp);
	else if (imp.dirfd != -1 || imp.path[0])
		abort();		/* a refusal leaves nothing behind */
	fuzz_dir_clear(dir_fd);
	return 0;
}
