/*
 * Descriptor kinds: one table of operations per kind of kernel object.
 *
 * Every descriptor of a task is one fd_entry {fd, kind, id, cloexec} in
 * fds-PID.img. The id names one object (an open file description, a pipe
 * end, an eventfd, ...) stored once in its kind's image (reg-files.img,
 * pipes.img, ...). Ids are unique across the whole dump and all kinds: they
 * come from one counter (dump_files.next_id). Descriptors that share one
 * open file description (dup, fork: kcmp(KCMP_FILE) says equal) share the
 * object, so it is created once on restore and dup'ed into each number.
 *
 * A kind is one criu/files-KIND.c filling one struct fd_ops, one
 * images/KIND.proto, and its rows in criu/include/fd-kinds.def (the kind,
 * its images), from which the kind enum, the image kinds and descriptors
 * and fd_kinds[] (criu/files.c) are made. Several fd kinds may keep their
 * objects in one image (FD_DIR, FD_CHR and FD_TTY use reg-files.img): such
 * ops name the image's owner in .store.
 *
 * Dump, for each descriptor of each task (criu/dump-files.c):
 *   1. struct fd_probe is filled: link target, stat through the link,
 *      parsed fdinfo.
 *   2. The kinds' match() are asked in table order; the first that says
 *      yes owns the fd. None: "unsupported fd type ...: not supported yet",
 *      before anything of the task is touched.
 *   3. If the fd shares its open file description with one already seen,
 *      it takes that object's id. Otherwise dump() adds a new object to the
 *      kind's state (d->priv[kind]) and returns its id from fd_obj_id().
 *      dump() may call fd_probe_local() for criu's own copy of the
 *      descriptor (pidfd_getfd(2)) to inspect the object (pipe contents,
 *      ...). dump() may refuse with "not supported yet".
 *   4. Once every task's fds are collected, before any task is infected:
 *      resolve() (may be NULL) links objects across tasks (socket peers)
 *      and may refuse what it finds (a peer outside the dump).
 *   5. After every task: write() writes the kind's image(s); free() drops
 *      the state.
 *
 * Restore (criu/restore-files.c, criu/restore-fds.c):
 *   1. read() reads and validates the kind's image(s): untrusted input,
 *      bounded, every object registered with fd_rst_add() (duplicate ids
 *      across all kinds are refused there).
 *   2. Each fd_entry is checked: a known kind, an object of that kind's
 *      store, and check() (may be NULL) for what the kind needs.
 *   3. open(), in criu before the fork, once per object: create it and
 *      return a descriptor (O_CLOEXEC, any number) the task inherits and
 *      dup3()s into every number that names it.
 *   4. post() (may be NULL), in the task after every descriptor is at its
 *      number: steps that need the final numbers (epoll registrations).
 *      No logging there: fill @why and return -1.
 *   5. rst_free() drops what read() kept.
 */
#ifndef CRIU_FILES_H
#define CRIU_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "options.h"
#include "proc_parse.h"
#include "files.pb-c.h"

#define FD_KIND_MAX	32	/* > every FdKind value */
#define RST_MAX_OBJECTS	(1 << 20)	/* entries per kind's image */
/* O_LARGEFILE as the x86-64 kernel shows it in fdinfo (glibc's is 0 on 64-bit). */
#define KERNEL_O_LARGEFILE	0100000

struct dump_files;
struct dump_shmems;
struct rst_shmems;
struct fd_rst;

/* What the dump knows about one descriptor before a kind claims it. */
struct fd_probe {
	pid_t			pid;
	int			fd;		/* number in the task */
	const char		*link;		/* readlink of /proc/PID/fd/N */
	struct stat		st;		/* stat through that link */
	struct proc_fdinfo	fi;
	const struct cr_options	*o;
	int			pidfd;		/* the task's pidfd, for fd_probe_local() */
	int			procfd;		/* /proc/PID/fd, for *at() calls on "N" */
	int			local;		/* criu's copy, -1 until fd_probe_local() */
	int			imgdir;		/* the images directory, for data written while collecting */
	const struct dump_shmems *shm;		/* the dump's shared memory objects (mapped memfds) */
};

/* One object on the restore side. */
struct fd_obj {
	uint32_t		id;
	FdKind			store;		/* kind whose image holds it */
	const ProtobufCMessage	*e;		/* its entry in that image */
	unsigned int		users;		/* fd entries naming it */
};

struct fd_ops {
	FdKind		kind;
	const char	*name;
	FdKind		store;		/* image owner; 0: itself */
	/*
	 * Simple kinds: one image (enum img_kind) of entries whose field 1 is
	 * the id. Their objects go to fd_list(d, kind) on dump; write(), free()
	 * and read() may then be NULL: the generic ones write the list, free it,
	 * and read the image calling validate() on every entry.
	 */
	int		img;
	int	(*validate)(const ProtobufCMessage *m, uint32_t *id);

	/* dump */
	bool	(*match)(const struct fd_probe *p);
	/*
	 * May be NULL. A value that differs between two fds only if they are
	 * different objects and never changes for one object (eventfd-id):
	 * fds with different keys are not kcmp'ed.
	 */
	uint64_t (*share_key)(const struct fd_probe *p);
	int	(*dump)(struct dump_files *d, struct fd_probe *p, uint32_t *id);
	int	(*resolve)(struct dump_files *d, const struct cr_options *o);
	int	(*write)(struct dump_files *d, int dirfd);
	void	(*free)(struct dump_files *d);

	/* restore */
	int	(*read)(struct fd_rst *r, int dirfd);
	int	(*check)(const struct fd_rst *r, const FdEntry *fe, const struct fd_obj *o);
	int	(*open)(struct fd_rst *r, const struct fd_obj *o, const struct cr_options *opt);
	int	(*post)(const struct fd_rst *r, const FdEntry *fe, const struct fd_obj *o,
			char *why, size_t len);
	/* post() replaces the descriptor: it runs before every other kind's (pidfds) */
	bool	post_first;
	/*
	 * May be NULL. Objects of this kind with the same nonzero group are
	 * made together by one open() state (the two ends of one pipe, every
	 * open of one FIFO, a unix socket and its peer): in a process tree one
	 * process opens all of them and hands them down through the forks.
	 * Called after read(), with what it kept in @r.
	 */
	uint64_t (*group)(const struct fd_rst *r, const struct fd_obj *o);
	void	(*rst_free)(struct fd_rst *r);
};

/* Every object of a dump, by id. */
struct fd_rst {
	struct fd_obj	*obj;		/* sorted by id once fd_rst_index() ran */
	size_t		nr_obj, cap_obj;
	void		*priv[FD_KIND_MAX];	/* each kind's images */
	/* the dump's shared memory objects, created before open() (mapped memfds) */
	const struct rst_shmems *shm;
	/*
	 * While a process opens its objects (restore-files.c): its descriptor
	 * per object (-1: not open), for fd_rst_open_id().
	 */
	int		*obj_fd;
	const struct cr_options *opt;
};

/* A growing list of image entries a kind owns (freed as unpacked messages). */
struct fd_list {
	ProtobufCMessage	**v;
	size_t			nr, cap;
};

/* criu/files.c */
const struct fd_ops *fd_ops(FdKind kind);	/* NULL: unknown kind */
const struct fd_ops *fd_ops_match(const struct fd_probe *p);
/* The kind's name for messages, also for unknown kinds. */
const char *fd_kind_str(FdKind kind);

/* Dump: is the probed fd the anon inode "anon_inode:@name"? */
bool fd_probe_anon(const struct fd_probe *p, const char *name);
/* Dump: criu's own copy of the probed descriptor (pidfd_getfd); -1 logged. */
int fd_probe_local(struct fd_probe *p);
/* Dump: a new id, unique across the dump. */
uint32_t fd_obj_id(struct dump_files *d);
/* Dump: the list of simple kind @kind (created on first use); NULL logged. */
struct fd_list *fd_list(struct dump_files *d, FdKind kind);
/* Add @msg (malloc'ed, with malloc'ed fields) to @l, which then owns it. */
int fd_list_add(struct fd_list *l, void *msg);
void fd_list_free(struct fd_list *l);
/*
 * Restore: open the inode behind O_PATH descriptor @pathfd (which is
 * closed) with @flags, once it has been checked; -1 logged. Opening a path
 * from an image only after looking at it through O_PATH means a FIFO or a
 * device put there is never opened by mistake.
 */
int rst_reopen(int pathfd, int flags, const char *what);
/*
 * Descriptors in flight (SCM_RIGHTS queued on a unix socket) may be of the
 * kinds opened from their object alone, without fd-number steps (post()),
 * whose image is their own (reg-files.img: regular files only), so that
 * the restore knows how to open one no fd names.
 */
bool fd_inflight_kind(FdKind kind);
/*
 * Restore, while a process opens its objects: criu's descriptor of object
 * @id, opened now if it is not yet (as a descriptor in flight is, when the
 * socket whose queue holds it is made); -1 logged.
 */
int fd_rst_open_id(struct fd_rst *r, uint32_t id);
/* Restore: the entries read for simple kind @kind. */
const struct fd_list *fd_rst_list(const struct fd_rst *r, FdKind kind);

/* Dump: every kind's resolve(), once all tasks are collected. */
int fd_kinds_resolve(struct dump_files *d, const struct cr_options *o);
/* Dump: every kind's write(), free(). */
int fd_kinds_write(struct dump_files *d, int dirfd);
void fd_kinds_free(struct dump_files *d);
/* Dump: write @nr entries of @v into image @kind (0 entries: no file). */
int fd_write_entries(int dirfd, int kind, ProtobufCMessage **v, size_t nr);

/* Restore: register object @id of image @store; -1 logged on a duplicate. */
int fd_rst_add(struct fd_rst *r, FdKind store, uint32_t id, const ProtobufCMessage *e);
/* Restore: sort the objects; -1 logged if an id is used twice. */
int fd_rst_index(struct fd_rst *r);
/* Restore: object @id (after fd_rst_index), or NULL. */
struct fd_obj *fd_rst_find(const struct fd_rst *r, uint32_t id);
/* Restore: read every kind's images, then index them. */
int fd_rst_read(struct fd_rst *r, int dirfd);
/* Restore: is @fe acceptable (kind, object, check())? -1 logged if not. */
int fd_rst_check(const struct fd_rst *r, const FdEntry *fe, const char *img);
void fd_rst_free(struct fd_rst *r);

/* criu/files-pidfd.c: the pidfds of reaped processes, made before the first fork */
int rst_pidfds_create(const struct fd_rst *r);
void rst_pidfds_close(void);

#endif /* CRIU_FILES_H */
