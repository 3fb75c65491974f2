/*
 * The image manifest: one text file, criu-manifest, beside the images of a
 * dump, listing every file of the dump with its size and an XXH3-64
 * checksum (Documentation/images.md, "The manifest"). The established tool
 * never opens it; our restore checks it before it creates anything.
 *
 * Dump:    1. manifest_write(scratch_dirfd)   every file there, then the manifest
 *          2. move the files into the images dir, the manifest just before
 *             inventory.img (manifest_remove_stale() first clears an older dump)
 * Restore: manifest_check(images_dirfd)       1: no manifest, 0: all match, -1: refused
 */
#ifndef CRIU_MANIFEST_H
#define CRIU_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#define MANIFEST_NAME		"criu-manifest"
#define MANIFEST_MAX_FILES	65536
#define MANIFEST_MAX_SIZE	(8u << 20)	/* bytes of the manifest itself */

struct manifest_entry {
	char name[256];
	uint64_t size;
	uint64_t hash;
};

struct manifest {
	struct manifest_entry *e;
	size_t nr;
};

/* Parse a manifest's text (untrusted): 0, or -1 with the reason logged. */
int manifest_parse(const char *buf, size_t len, struct manifest *m);
void manifest_free(struct manifest *m);
/* XXH3-64 of the regular file @name in @dirfd; its size in *size. */
int manifest_hash_file(int dirfd, const char *name, uint64_t *size, uint64_t *hash);
/* A name that may stand in a manifest: one plain path component, printable. */
int manifest_name_ok(const char *name);

int manifest_write(int dirfd);
/* Removes the files an older manifest in @dirfd lists, then the manifest itself. */
int manifest_remove_stale(int dirfd);
int manifest_check(int dirfd);

#endif
