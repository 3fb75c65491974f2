/*
 * The established-format converters of the fd kinds whose objects convert
 * one entry at a time: each kind's FD_EST(KIND, IMG, conv) row of
 * fd-kinds.def names them, and the exporter (est-export-fds.c) and the
 * importer (est-import-fds.c) walk those rows; no other list names them.
 * The exporting side defines `const struct est_fd_exp conv_exp`, the
 * importing side `const struct est_fd_imp conv_imp`, each next to its code.
 */
#ifndef CRIU_EST_FD_H
#define CRIU_EST_FD_H

#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include "files.pb-c.h"
#include "est/fdinfo.pb-c.h"

struct exp;
struct exp_img;
struct imp;

struct est_fd_exp {
	/*
	 * One entry of our image @m -> entries of files.img @w (0, or -1
	 * logged). NULL: the kind's images are exported together by a
	 * converter exp_files() calls (ptys, memfds, sockets).
	 */
	int (*conv)(struct exp *ex, struct exp_img *w, const ProtobufCMessage *m);
};

struct est_fd_imp {
	/* The kind's member of @f, its id and signal owner (NULL: the member is absent). */
	const void *(*member)(const Est__FileEntry *f, uint32_t *id, const Est__FownEntry **fown);
	/* Ours from @f in one allocation (free() releases it); NULL, logged, when not exact. */
	ProtobufCMessage *(*conv)(struct imp *im, const Est__FileEntry *f);
};

#define FD_EST(kind, img, conv) \
	extern const struct est_fd_exp conv##_exp; \
	extern const struct est_fd_imp conv##_imp;
#include "fd-kinds.def"

/* The established fd type of our @kind's descriptors (its FD_KIND row); UND: none. */
Est__FdTypes est_fd_type(FdKind kind);

#endif /* CRIU_EST_FD_H */
