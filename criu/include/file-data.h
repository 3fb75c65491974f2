/*
 * Content of files the dump carries itself: deleted files (ghosts) and
 * memfds. A file_data message (images/file-data.proto) lists the runs of
 * data; their bytes follow each other in a raw image of the kind.
 *
 * Dump:
 *   1. fdata_save(&out, dirfd, kind, src, size, &data) for each file: finds
 *      data with SEEK_DATA/SEEK_HOLE on @src (an fd criu may seek) and
 *      appends the runs to raw image @kind, created on first use. Or in two
 *      steps, to look at the runs first: fdata_scan(), then fdata_copy().
 *   2. fdata_commit(&out) when the kind writes its images (fdata_start()
 *      first if the raw image must exist even with no file saved), or
 *      fdata_abort(&out) on failure (no file left behind).
 * Restore:
 *   0. fdata_open() the raw image (its size bounds every entry);
 *      fdata_fds_new() for the files to create, fdata_fds_free() at the end.
 *   1. fdata_check() on every entry read, against the raw image's size.
 *   2. fdata_fill(dst, raw, &data, size): writes the runs, sizes the file.
 */
#ifndef CRIU_FILE_DATA_H
#define CRIU_FILE_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "file-data.pb-c.h"

#define FDATA_MAX_RUNS	4096	/* more: the rest is stored as one run, holes included */

struct cr_img;

struct fdata_out {
	struct cr_img	*img;		/* NULL until the first file */
	uint64_t	off;		/* bytes written so far */
};

/* Fills @d (runs malloc'ed, freed with the message). -1 logged. */
int fdata_save(struct fdata_out *w, int dirfd, int kind, int src, uint64_t size, FileData *d);
/*
 * The runs of data of @src's first @size bytes into @d, and their total
 * bytes: found with FIEMAP when @fiemap and the file system has it, else
 * with SEEK_DATA/SEEK_HOLE. Neighbouring runs are joined; past
 * FDATA_MAX_RUNS - 1 runs the last takes the rest. -1 logged.
 */
int fdata_scan(int src, uint64_t size, bool fiemap, FileData *d, uint64_t *bytes);
/* Append @d's runs (fdata_scan()) of @src to raw image @kind, setting d->off; -1 logged. */
int fdata_copy(struct fdata_out *w, int dirfd, int kind, int src, FileData *d);
/* Create raw image @kind now if no file did (an empty one); -1 logged. */
int fdata_start(struct fdata_out *w, int dirfd, int kind);
int fdata_commit(struct fdata_out *w);
void fdata_abort(struct fdata_out *w);
/* Append the run [@off, @off + @len) to @d (heap, freed with it); -1 logged. */
int fdata_add_run(FileData *d, uint64_t off, uint64_t len);
/* A heap FileData with no runs, or NULL (logged). */
FileData *fdata_new(void);

/* Raw image @kind and its size; NULL logged. */
struct cr_img *fdata_open(int dirfd, int kind, uint64_t *size);
/* @n descriptors, all -1 (one per file to create); NULL logged. */
int *fdata_fds_new(size_t n);
/* Close the open ones, free the table. */
void fdata_fds_free(int *fds, size_t n);

/* Runs ascending, inside @size, their bytes inside @raw_size. -1 logged. */
int fdata_check(const char *what, const FileData *d, uint64_t size, uint64_t raw_size);
/* Write @d's runs from @raw into @dst and make it @size bytes. -1 logged. */
int fdata_fill(const char *what, int dst, int raw, const FileData *d, uint64_t size);

#endif /* CRIU_FILE_DATA_H */
