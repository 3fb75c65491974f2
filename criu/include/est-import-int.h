/* Internals of the established-format importer (est-import*.c); see est-import.h. */
#ifndef CRIU_EST_IMPORT_INT_H
#define CRIU_EST_IMPORT_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "est-fd.h"
#include "est-image.h"
#include "image.h"
#include "pagemap-chain.h"

#include "est/core.pb-c.h"
#include "est/fdinfo.pb-c.h"
#include "est/fs.pb-c.h"
#include "est/ids.pb-c.h"
#include "est/inventory.pb-c.h"
#include "est/mm.pb-c.h"
#include "est/pstree.pb-c.h"
#include "file-data.pb-c.h"
#include "files.pb-c.h"
#include "mm.pb-c.h"
#include "sk-opts.pb-c.h"
#include "sk-unix.pb-c.h"

#define IMP_MAX_FILES		4096		/* files in an established directory */
#define IMP_MAX_IMAGE		(64u << 20)	/* bytes of one protobuf image */
#define IMP_MAX_PROCS		1024
#define IMP_MAX_THREADS		1024		/* per process */
#define IMP_MAX_OBJECTS		16384		/* files.img entries (lookups by inode are linear) */

struct imp_file {
	char name[64];
	bool used;
};

/* One process of the tree, as the established images describe it. */
struct imp_proc {
	Est__PstreeEntry *ps;
	Est__TaskKobjIdsEntry *ids;
	Est__FsEntry *fs;
	Est__MmEntry *mm;
	uint32_t uid, euid;		/* the leader's real and effective uid (est-import-fown.c) */
	struct imp_cow *cow;		/* for its children (est-import-cow.c) */
	uint32_t files_of;		/* its parent, whose fd table it shares; or 0 */
};

struct imp {
	int in, out;			/* established dir, our converted dir */
	char in_path[PATH_MAX];		/* the established dir's absolute path, or "" */
	struct imp_file *files;
	size_t nr_files;
	Est__InventoryEntry *inv;
	struct imp_proc *procs;
	size_t nr_procs;
	Est__FileEntry **obj;		/* files.img, sorted by id */
	size_t nr_obj;
	/* unix sockets' queues from sk-queues.img, by socket id (est-import-files.c) */
	void *skq;
	void *locks;			/* filelocks.img (est-import-locks.c) */
	void *ghosts;			/* remap-fpath.img (est-import-ghost.c) */
	void *ttys;			/* tty-info.img, tty-data.img (est-import-tty.c) */
	void *memfds;			/* memfd.img (est-import-shmem.c) */
	void *shm;			/* shared anonymous memory objects (est-import-shmem.c) */
	void *fowns;			/* signal owners of files.img objects (est-import-fown.c) */
	bool no_build_id;		/* est_import.no_build_id */
	bool zpages;			/* est_import.zpages */
	void *seccomp;			/* seccomp.img's entry (est-seccomp.c) */
	/* the tree's pid namespace: the root's pid_ns_id, 0 before the root is read */
	uint32_t tree_pid_ns_id;
	/* the tree's network namespace: the root's net_ns_id (est-import-net.c) */
	uint32_t tree_net_ns_id;
	uint32_t tree_ns_id[4];		/* uts, ipc, time, cgroup: the root's (est-import-utsipc.c) */
	uint32_t tree_mnt_ns_id;	/* the same for the mount namespace (est-import-mnt.c) */
	struct pmc_chain *chain;	/* the parent images of an incremental dump, or NULL */
};

/* est-import-utsipc.c */
/* @field of @img's ids: 1 a uts or ipc id the tree may have, 0 another field, -1 refused. */
int imp_utsipc_ns(struct imp *im, const char *field, bool has, uint32_t v, const char *img);
/* The tree's own uts and ipc namespace images into our dir. */
int imp_utsipc(struct imp *im);

/* est-import.c: reading the established files */
int imp_load(struct imp *im, const char *name, bool optional, uint8_t **buf, size_t *len);
typedef int (*imp_entry_fn)(struct imp *im, const struct est_entry *e, void *ctx);
int imp_read_all(struct imp *im, const char *name, bool optional, imp_entry_fn fn, void *ctx);
/* The one entry of @name (ownership to the caller), NULL on error. */
ProtobufCMessage *imp_read_one(struct imp *im, const char *name);
/* Marks @name as converted: 0 if it exists and was not yet, else -1. */
int imp_mark(struct imp *im, const char *name);
int imp_write(struct imp *im, enum img_kind kind, unsigned int id, ProtobufCMessage **m, size_t n);
const Est__FileEntry *imp_obj(const struct imp *im, uint32_t id);
void *imp_zalloc(size_t n);

/*
 * est-import-mnt.c: imp_mnt_ns() checks a process's mnt_ns_id (one for the
 * whole tree); imp_mnt() converts that namespace's mountpoints-ID.img.
 */
int imp_mnt_ns(struct imp *im, const Est__TaskKobjIdsEntry *t, const char *img);
int imp_mnt(struct imp *im);

/* est-import-core.c */
/*
 * est-import-net.c: imp_netns() learns the tree's network namespace from
 * the root's ids and, when it is not criu's, converts its images into our
 * netns.img; imp_net_ns_ok() says whether a socket's ns_id is the tree's.
 */
int imp_netns(struct imp *im);
bool imp_net_ns_ok(const struct imp *im, bool has, uint32_t id);
int imp_core(struct imp *im, struct imp_proc *p);

/* est-import-mm.c: imp_mm_read() reads mm-PID.img, imp_mm() writes mm, pagemap, pages */
int imp_mm_read(struct imp *im, struct imp_proc *p);
int imp_mm(struct imp *im, struct imp_proc *p);

/*
 * est-import-cow.c: a child's pages that are its parent's become PE_COW.
 * imp_cow_begin() before a process's pagemap, imp_cow_note() for each of
 * its runs (@off in its page file), imp_cow_src() gives it that file,
 * imp_cow_keep() takes its converted mm (and the three allocations it
 * lives in) when it has children (true); a child asks imp_cow_parent(), imp_cow_inherited() per vma,
 * imp_cow_same() per batch of pages.
 */
#define IMP_COW_BATCH	256
struct imp_cow;
int imp_cow_begin(const struct imp *im, struct imp_proc *p);
int imp_cow_note(struct imp_proc *p, uint64_t vaddr, uint64_t nr, uint64_t off);
void imp_cow_src(struct imp_proc *p, int src);
bool imp_cow_keep(struct imp_proc *p, MmEntry *mm, void *a, void *b, void *c);
void imp_cow_free(struct imp_proc *p);
const struct imp_cow *imp_cow_parent(const struct imp *im, const struct imp_proc *p);
bool imp_cow_inherited(const struct imp_cow *par, const VmaEntry *v);
int imp_cow_same(const struct imp_cow *par, uint64_t vaddr, uint64_t n, const uint8_t *buf,
		 bool *same);

/* est-import-files.c */
int imp_files_read(struct imp *im);
int imp_files_write(struct imp *im);
int imp_fdinfo(struct imp *im, struct imp_proc *p);
void imp_files_free(struct imp *im);
/* The format keeps an anon file's or socket's whole f_flags (O_RDWR and status
 * flags), ours those of @allowed in *out; -1 (logged) for any other. */
int imp_status_flags(uint32_t fl, uint32_t allowed, uint32_t id, uint32_t *out);

/*
 * est-import-locks.c: imp_locks_read() reads filelocks.img (after files.img
 * and every process's ids); imp_locks_of() gives the locks of REG object
 * @id (ask once per object; they stay the importer's).
 */
int imp_locks_read(struct imp *im);
FileLockEntry **imp_locks_of(const struct imp *im, uint32_t id, size_t *n);
void imp_locks_free(struct imp *im);

/*
 * est-import-data.c: content the dump carries. imp_fdata_add() appends a
 * run of @len bytes at @off of the file to @d (merging an adjacent one);
 * imp_write_data() makes raw image @raw_kind, calls @conv for i = 0..n-1
 * (which writes its bytes to @raw at *off, moves *off, returns ours or NULL
 * logged) and writes @kind; @release frees what @conv returned.
 */
int imp_fdata_add(FileData *d, uint64_t off, uint64_t len, const char *img);
void imp_fdata_release(FileData *d);
typedef ProtobufCMessage *(*imp_data_conv)(struct imp *im, size_t i, int raw, uint64_t *off,
					   void *ctx);
int imp_write_data(struct imp *im, enum img_kind kind, enum img_kind raw_kind, size_t n,
		   imp_data_conv conv, void (*release)(ProtobufCMessage *m), void *ctx);

/*
 * est-import-ghost.c: imp_ghosts() reads remap-fpath.img and the ghost
 * files, writes ours (after files.img is read); imp_ghost_of() gives our
 * ghost id of REG object @id, 0 for none.
 */
int imp_ghosts(struct imp *im);
uint32_t imp_ghost_of(const struct imp *im, uint32_t reg_id);
/* --link-remap: the temporary name REG entry @reg_id is reached through, or NULL */
const char *imp_link_of(const struct imp *im, uint32_t reg_id);
/* Is REG entry @reg_id such a temporary name (no file of its own)? */
bool imp_is_link(const struct imp *im, uint32_t reg_id);
void imp_ghosts_free(struct imp *im);

/*
 * est-import-sk.c: imp_sk_opts() turns the format's fixed options of a
 * socket of (@family, @type, @proto) into our list in @o (its pointers stay
 * valid with @o and the est message); imp_unix_name() fills the name, file
 * attributes and file identity of our unix socket @e; the INETSK row.
 */
#define IMP_SK_OPTS	32
struct imp_sk_opts {
	SkOpt opt[IMP_SK_OPTS], *p[IMP_SK_OPTS];
	size_t n;
	uint64_t filter[4096];	/* so_filter, up to BPF_MAXINSNS instructions */
};
int imp_sk_opts(struct imp_sk_opts *o, const Est__SkOptsEntry *s, int family, int type,
		int proto, uint32_t id);
int imp_unix_name(const struct imp *im, const Est__UnixSkEntry *s, UnixSkEntry *e);
size_t imp_unix_name_len(const ProtobufCBinaryData *n);
const void *imp_isk_member(const Est__FileEntry *f, uint32_t *id, const Est__FownEntry **fown);
ProtobufCMessage *imp_conv_inet(struct imp *im, const Est__FileEntry *f);

/*
 * est-import-tty.c: imp_ttys() reads tty-info.img and tty-data.img and
 * writes our ptys (after files.img is read); imp_tty_path() says whether
 * REG object @id is only a tty file's path; est_fd_pty_imp, the PTY row.
 */
int imp_ttys(struct imp *im);
void imp_ttys_free(struct imp *im);
bool imp_tty_path(const struct imp *im, uint32_t reg_id);

/*
 * est-import-shmem.c: imp_memfds() reads memfd.img and the memfds' content,
 * writes ours (after files.img is read); est_fd_memfd_imp, the MEMFD row.
 */
int imp_memfds(struct imp *im);
void imp_memfds_free(struct imp *im);
/*
 * imp_shm_vma() notes a shared vma at @pgoff of @len bytes of an anonymous
 * object (@key: its shmid) or a memfd (@memfd, @key: its inode_id) and
 * gives our object id; imp_shm_write() writes the objects and their content
 * once every process's mm is converted and memfd.img is read.
 */
int imp_shm_vma(struct imp *im, bool memfd, uint64_t key, uint64_t pgoff, uint64_t len,
		uint32_t *id);
int imp_shm_write(struct imp *im);
void imp_shm_free(struct imp *im);

/*
 * est-import-fown.c: imp_fowns_read() takes the signal owners and O_ASYNC
 * out of the files.img entries (once all are read); imp_fown_take() gives
 * the owner of @fe's object to @fe if it is the object's first fd in the
 * tree (-1, logged, when ours cannot set it as the format says).
 */
int imp_fowns_read(struct imp *im);
int imp_fown_take(struct imp *im, const struct imp_proc *p, FdEntry *fe, const char *img);
void imp_fowns_free(struct imp *im);

/*
 * est-import-fds.c: the kinds with an FD_EST row (fd-kinds.def): each files.img
 * entry of the row's established type, est_fd_type(kind), is converted by its
 * est_fd_imp into our image of the row.
 */
struct imp_fd_kind {
	FdKind kind;			/* ours in fd_entry */
	enum img_kind img;		/* ours */
	const struct est_fd_imp *conv;
};
/* The row of @type, or NULL; with @n, the whole table and its size in *n. */
const struct imp_fd_kind *imp_fd_kind(int type, unsigned int *n);
/* Is REG object @id only the path of another object (a FIFO's, a tty file's)? */
bool imp_reg_is_aux(const struct imp *im, uint32_t id);

#endif /* CRIU_EST_IMPORT_INT_H */
