/*
 * Restoring images written in the established format (issue 11, step 3).
 *
 * The importer reads an established image directory and writes the same
 * dump in our own format into a private temporary directory; the normal
 * restore then runs on that directory unchanged.
 *
 *   1. est_import_detect(dirfd): 1 if inventory.img has the established
 *      magic, 0 if not (ours, or none), -1 on a read error
 *   2. est_import(dirfd, &imp): converts; imp.dirfd is the converted
 *      directory (read it like an images dir), imp.path its name
 *   3. est_import_release(&imp): closes it and removes it with its files
 *
 * Everything read is untrusted: sizes, counts, ids and offsets are checked,
 * and what the converter does not understand (a file it does not convert,
 * a field whose meaning it cannot keep) is refused with a
 * "not supported yet: ..." error rather than restored differently.
 */
#ifndef CRIU_EST_IMPORT_H
#define CRIU_EST_IMPORT_H

#include <limits.h>
#include <stdbool.h>

struct est_import {
	int dirfd;		/* the converted images, ours; -1 when none */
	char path[PATH_MAX];	/* its name ("" when none) */
	/* in: --file-validation filesize, files are checked by size, not build-id */
	bool no_build_id;
	/* in: the page files were compressed and are opened (zpages.h) */
	bool zpages;
};

int est_import_detect(int dirfd);
int est_import(int dirfd, struct est_import *imp);
void est_import_release(struct est_import *imp);

#endif /* CRIU_EST_IMPORT_H */
