/* Internals of the established-format exporter (est-export*.c); see est-export.h. */
#ifndef CRIU_EST_EXPORT_INT_H
#define CRIU_EST_EXPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "est-image.h"
#include "image.h"

#include "core.pb-c.h"
#include "est/fdinfo.pb-c.h"
#include "inventory.pb-c.h"
#include "mm.pb-c.h"
#include "pstree.pb-c.h"
#include "est/mm.pb-c.h"

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
	struct exp_fown *fowns;		/* signal owners by object id (est-export-fown.c) */
	size_t nr_fowns;
	uint32_t max_id;		/* largest object id so far (exp_new_id) */
	uint64_t *fifo_ino;		/* FIFOs' inodes: their data goes to fifo-data.img */
	size_t nr_fifo_ino;
	void *shm;			/* shared memory and memfds (est-export-shmem.c) */
	bool tcp_close;			/* a connection without its stream: --tcp-close */
	void *seccomp;			/* seccomp.img's filters (est-seccomp.c) */
	uint32_t net_ns_id;		/* the tree's network namespace (est-export-net.c) */
	int own_ns;			/* CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWTIME: the tree's own (est-export-utsipc.c) */
	uint32_t mnt_ns_id;		/* the tree's own mount namespace, else 0 (est-export-mnt.c) */
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

/*
 * est-export-net.c: our netns.img, when the tree has its own network
 * namespace, into netdev-, netns-, ifaddr-, route- and route6-ID.img; sets
 * ex->net_ns_id (criu's own otherwise). Before any socket is converted.
 */
#define EXP_CRIU_NET_NS_ID	2
#define EXP_TREE_NET_NS_ID	10
#define EST_IFADDR_MAGIC	0x47361222u	/* `ip addr save` */
#define EST_ROUTE_MAGIC		0x45311224u	/* `ip route save` */
int exp_netns(struct exp *ex);

/* est-export-core.c: core-TID.img of every thread of @p */
int exp_core(struct exp *ex, struct exp_proc *p);
/* est-export-mm.c: mm-PID, pagemap-PID, pages-N */
int exp_mm(struct exp *ex, struct exp_proc *p);
/* A pre-dump's pagemap and pages only (no mm). */
int exp_pagemap(struct exp *ex, struct exp_proc *p);
void exp_mm_release(struct exp_proc *p);
/* est-export-files.c: files.img, pipes-data.img (once), fdinfo-N.img per process */
int exp_files(struct exp *ex);
int exp_fdinfo(struct exp *ex, struct exp_proc *p);
/* Our image @name of @kind, all its entries; none (and 0) if it does not exist. */
int exp_read_optional(struct exp *ex, enum img_kind kind, const char *name,
		      ProtobufCMessage ***m, size_t *nr);
/* est-export-sk.c: the UNIXSK and INETSK entries into files.img @w, sk-queues.img */
int exp_sockets(struct exp *ex, struct exp_img *w);
/* est-export-tty.c: TTY and their REG entries into @files, tty-info.img, tty-data.img */
int exp_ttys(struct exp *ex, struct exp_img *files);
/*
 * est-export-fown.c: exp_fown_read() collects the signal owners of every
 * fds-PID.img (before any files.img entry); exp_file_add() adds @f to
 * files.img with its member's owner and O_ASYNC; exp_fown() gives the owner
 * of object @id (a zero one if none), adding O_ASYNC to *@flags if set;
 * exp_new_id() a new object id, above every id of ours.
 */
int exp_fown_read(struct exp *ex);
void exp_file_add(struct exp *ex, struct exp_img *w, Est__FileEntry *f);
const Est__FownEntry *exp_fown(const struct exp *ex, uint32_t id, uint32_t *flags);
uint32_t exp_new_id(struct exp *ex);
void exp_fown_release(struct exp *ex);
/*
 * est-export-fds.c: the entries of every kind with an FD_EST row
 * (fd-kinds.def) into files.img @w; exp_fifo_ino() says whether a
 * pipes-data.img entry is a FIFO's (fifo-data.img).
 */
int exp_fd_kinds(struct exp *ex, struct exp_img *w);
bool exp_fifo_ino(const struct exp *ex, uint64_t ino);
/*
 * est-export-shmem.c: exp_shm_read() reads our shmem and memfd images
 * (before files.img); exp_shm_files() adds the MEMFD entries to files.img;
 * exp_shm_vma() fills a shared memory or memfd vma; exp_shm_write() writes
 * memfd.img and the objects' content after every process's mm.
 */
int exp_shm_read(struct exp *ex);
int exp_shm_files(struct exp *ex, struct exp_img *w);
int exp_shm_vma(struct exp *ex, Est__VmaEntry *e, const VmaEntry *v, const char *img);
int exp_shm_write(struct exp *ex);
void exp_shm_release(struct exp *ex);
/* A --link-remap: REG entry @orig is reached through REG entry @link (its temporary name). */
struct exp_link {
	uint32_t orig, link;
};
/* est-export-ghost.c: remap-fpath.img (GHOST and LINKED), ghost-file-N.img of the REG entries @reg */
int exp_ghosts(struct exp *ex, ProtobufCMessage **reg, size_t nr_reg, const struct exp_link *links,
	       size_t nr_links);
/* est-export-mnt.c: mountpoints-ID.img and the tmpfs archives of the tree's mount namespace */
#define EXP_TREE_MNT_NS_ID	10
int exp_mnt(struct exp *ex);
/* est-export-locks.c: filelocks.img, the locks of the REG entries @reg */
int exp_locks(struct exp *ex, ProtobufCMessage **reg, size_t nr_reg);

/* est-export-utsipc.c: the tree's uts and ipc namespace images, and the ids naming them */
struct Est__TaskKobjIdsEntry;
int exp_utsipc(struct exp *ex);
void exp_utsipc_ids(const struct exp *ex, struct Est__TaskKobjIdsEntry *ids);

#endif /* CRIU_EST_EXPORT_INT_H */
