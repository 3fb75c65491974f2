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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define MANIFEST_NAME		"criu-manifest"
#define MANIFEST_MAX_FILES	65536
#define MANIFEST_MAX_SIZE	(8u << 20)	/* bytes of the manifest itself */
#define MANIFEST_PART_SIZE	(8ull << 20)	/* a file's checksum is a tree over parts of this size */
#define MANIFEST_READ_SIZE	(256u << 10)	/* read at a time: stays in the cache */

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

/* XXH3-64 of @len bytes at @off of @fd (pread, @buf of MANIFEST_READ_SIZE); no logging. */
int manifest_hash_range(int fd, uint64_t off, uint64_t len, void *buf, uint64_t *out);

/*
 * A page file checksummed while it is written (manifest-track.c): start
 * when it is created, say how far it is final after each write, end before
 * it is closed; every later change of it goes through _changed(). NULL
 * trackers are fine everywhere (the file is then read again at the end).
 */
struct mf_track;
struct mf_track *manifest_track_start(int fd);
void manifest_track_written(struct mf_track *t, uint64_t end);
void manifest_track_end(struct mf_track *t, bool keep);
void manifest_track_changed(int fd, uint64_t off, uint64_t len);	/* len UINT64_MAX: to the end */
/* The parts of @st's file known unchanged: digest[i] and have[i] = 1; how many. */
uint64_t manifest_track_lookup(const struct stat *st, uint64_t nr, uint64_t *digest, uint8_t *have);
void manifest_track_forget(void);

/* The manifest of @dirfd parsed (a missing one is an error): 0 or -1 logged. */
int manifest_read(int dirfd, struct manifest *m);
/* A file of @dirfd with an image's name that @m does not list: -1 logged. */
int manifest_check_extra(int dirfd, const struct manifest *m);

int manifest_write(int dirfd);
/* @m (entries hashed) put in place of the manifest of @dirfd with one rename. */
int manifest_replace(int dirfd, const struct manifest *m);
/* Removes the files an older manifest in @dirfd lists, then the manifest itself. */
int manifest_remove_stale(int dirfd);
int manifest_check(int dirfd);
/*
 * manifest_check(), but the page files over one part (8 MiB) are only
 * opened and sized here, and checksummed by a thread while the tree is
 * made: manifest_check_wait() before the tree is released (0, or -1
 * logged: the tree is to be killed); it frees @bg (NULL: 0).
 */
struct manifest_bg;
int manifest_check_start(int dirfd, struct manifest_bg **bg);
int manifest_check_wait(struct manifest_bg *bg);

#endif
