/* Internals of the established-format exporter (est-export*.c); see est-export.h. */
#ifndef CRIU_EST_EXPORT_INT_H
#define CRIU_EST_EXPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "est-image.h"
#include "image.h"

#include "core.pb-c.h"
#include "inventory.pb-c.h"
#include "pstree.pb-c.h"

#define EXP_CANNOT	"cannot be written in the established format: "

struct exp_proc {
	PstreeEntry *ps;
	uint32_t ids;			/* vm, fs and sighand id (one each) */
	uint32_t files_id;		/* = ids, or its parent's when it shares that fd table */
	TaskCoreEntry *tc;		/* our core's head entry */
	struct exp_pages *pages;	/* our page runs, for the children's PE_COW (est-export-mm.c) */
};

struct exp {
	int in, out;
	InventoryEntry *inv;
	ProtobufCMessage **ps;		/* pstree entries */
	struct exp_proc *procs;
	size_t nr_procs;
	uint32_t pages_id;		/* last pages-N.img written */
	char (*names)[64];		/* files of the input directory */
	bool *used;
	bool *xt;			/* to be kept whole as xt-NAME (--image-ext) */
	size_t nr_names;
	unsigned int flags;		/* EST_EXPORT_* */
};

/* An established image being written: kept in memory, written at exp_img_close(). */
struct exp_img {
	char name[64];
	uint8_t *buf;
	size_t len, cap;
	int err;
};

/* est-export.c */
void exp_img_open(struct exp_img *w, const char *name);
void exp_img_add(struct exp_img *w, const ProtobufCMessage *m, const void *extra, size_t extra_len);
int exp_img_close(struct exp *ex, struct exp_img *w);
/* Marks our file @name as converted (it need not exist). */
void exp_used(struct exp *ex, const char *name);
void *exp_zalloc(size_t n);
/*
 * State of our image @native that the format cannot express (a restore
 * needs it): -1 with "@native cannot be written in the established format:
 * <why>" unless the export keeps extensions (EST_EXPORT_EXT); then @native
 * is kept whole as xt-@native, the established image is written without
 * that state and 0 is returned. One export at a time.
 */
int exp_cannot(const char *native, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* est-export-core.c: core-TID.img of every thread of @p */
int exp_core(struct exp *ex, struct exp_proc *p);
/* est-export-mm.c: mm-PID, pagemap-PID, pages-N */
int exp_mm(struct exp *ex, struct exp_proc *p);
void exp_mm_release(struct exp_proc *p);
/* est-export-files.c: files.img, pipes-data.img (once), fdinfo-N.img per process */
int exp_files(struct exp *ex);
int exp_fdinfo(struct exp *ex, struct exp_proc *p);
/* est-export-ghost.c: remap-fpath.img, ghost-file-N.img of the REG entries @reg */
int exp_ghosts(struct exp *ex, ProtobufCMessage **reg, size_t nr_reg);
/* est-export-locks.c: filelocks.img, the locks of the REG entries @reg */
int exp_locks(struct exp *ex, ProtobufCMessage **reg, size_t nr_reg);

#endif /* CRIU_EST_EXPORT_INT_H */
