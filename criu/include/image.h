/*
 * Image files: the framing of everything a dump writes.
 *
 * A protobuf image file is
 *
 *	u32 magic			(little-endian; identifies the kind)
 *	{ u32 size; u8 data[size]; }*	(size little-endian; data is one packed
 *					 protobuf message of the kind's type)
 *
 * Raw page files (pages-ID.img) carry no framing at all: they are page
 * data, so that pages can be spliced in and preadv'd out directly.
 *
 * Writing (dump):
 *   1. img = img_create(dirfd, IMG_x, id)  - opens a hidden ".name.part" file (0600)
 *   2. img_write_entry(img, &msg.base)     - as many times as needed
 *      (raw kinds: write to img_raw_fd(img) instead)
 *   3. img_commit(img)                     - flushes and renames to the final name;
 *      a crash before this leaves only the ".part" file, never a file that
 *      looks complete. img_abort(img) drops it instead.
 *   4. the one file that says a set is complete (inventory.img of a dump,
 *      the only file of a one-file command) is committed last with
 *      img_commit_durable(): syncfs() of the images filesystem, then the
 *      file's data, then its name. After a crash a set either has it and
 *      is whole on disk, or lacks it and is refused.
 *
 * Reading (restore, show):
 *   1. img = img_open(dirfd, IMG_x, id), or img_open_file(dirfd, name) which
 *      finds the kind from the magic (or, for raw files, from the name)
 *   2. img_read_entry(img, &msg) until it returns 0 (clean end) or -1 (error,
 *      already logged); free each message with img_free_entry()
 *   3. img_close(img)
 *   img_read_one() and img_read_all() do all three for a whole image.
 *
 * Everything read is untrusted: a wrong magic, an entry size over the kind's
 * cap, a truncated size or entry, an entry protobuf-c cannot unpack, or more
 * entries than the kind allows are all rejected with an error naming the file
 * and offset. Nothing is allocated from a size before it is checked.
 */
#ifndef CRIU_IMAGE_H
#define CRIU_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

#define IMG_FORMAT_VERSION	1
#define IMG_ENTRY_HARD_MAX	(16u << 20)	/* no kind may allow more than 16 MiB */

enum img_kind {
	IMG_INVENTORY,
	IMG_STATS_DUMP,
	IMG_PSTREE,
	IMG_PAGEMAP,
	IMG_PAGES,		/* raw page data */
	IMG_CORE,		/* head task_core, then thread_core per thread */
	IMG_MM,
	IMG_FDS,
	IMG_SHMEM,		/* shared memory objects, one entry each */
	IMG_SHMEM_PAGEMAP,	/* data runs of one object */
	IMG_SHMEM_PAGES,	/* raw page data of one object */
	/* the fd kinds' images, IMG_REG_FILES, IMG_PIPES, ...: fd-kinds.def */
#define FD_IMG(name, ...)	IMG_##name,
#define FD_RAW(name, ...)	IMG_##name,
#include "fd-kinds.def"
	IMG_NETNS,		/* the tree's network namespace (netns.h) */
	/* after the fd kinds: the fuzz corpora name kinds by their index */
	IMG_CGROUP,		/* cgroup sets and groups: the established schema (est/cgroup.proto) */
	IMG_MNTS,		/* the tree's mount namespace: est mnt_entry, mnt-entry.h */
	IMG_TMPFS,		/* raw: a tmpfs's files, tar.gz, by root_dev */
	IMG_KIND_MAX,
};

struct img_desc {
	const char *name;		/* short name, shown by `criu show` */
	const char *fmt;		/* file name, printf format with one unsigned id */
	uint32_t magic;			/* 0 for raw kinds */
	uint32_t max_entry;		/* cap on one entry's size, bytes */
	uint32_t max_entries;		/* 0: unlimited */
	/* Type of the first entry when it differs from the rest (pagemap head). */
	const ProtobufCMessageDescriptor *head;
	const ProtobufCMessageDescriptor *pb;	/* NULL for raw kinds */
};

struct cr_img;

const struct img_desc *img_desc(enum img_kind kind);
/* The kind of a file: by @magic, or for raw kinds by its @name. NULL if none. */
const struct img_desc *img_desc_find(const char *name, uint32_t magic, bool have_magic);

struct cr_img *img_create(int dirfd, enum img_kind kind, unsigned int id);
int img_write_entry(struct cr_img *img, const ProtobufCMessage *msg);
int img_commit(struct cr_img *img);
int img_commit_durable(struct cr_img *img);
void img_abort(struct cr_img *img);

struct cr_img *img_open(int dirfd, enum img_kind kind, unsigned int id);
struct cr_img *img_open_file(int dirfd, const char *name);
/* Wrap an already open descriptor (e.g. a memfd in the fuzz target); takes @fd. */
struct cr_img *img_open_fd(int fd, const char *name);
/* Returns 1 with *msg set, 0 at a clean end of file, -1 on error. */
int img_read_entry(struct cr_img *img, ProtobufCMessage **msg);
void img_free_entry(ProtobufCMessage *msg);
/* Reads the one entry a single-entry image holds; -1 unless exactly one. */
int img_read_one(int dirfd, enum img_kind kind, unsigned int id, ProtobufCMessage **msg);
/*
 * Reads every entry of an image into a malloc'ed array of messages, at most
 * @max of them (0: no cap; then @check must bound the count). @check, if not
 * NULL, vets each entry before it is kept and logs why it refuses one; *@out
 * and *@nr are kept current while reading, so @check may look at the entries
 * already kept (e.g. for duplicates). On any failure everything read is
 * freed, *@out is NULL, *@nr is 0 and -1 is returned. Free with img_free_all().
 */
int img_read_all(int dirfd, enum img_kind kind, unsigned int id, size_t max,
		 int (*check)(const ProtobufCMessage *m, void *ctx), void *ctx,
		 ProtobufCMessage ***out, size_t *nr);
void img_free_all(ProtobufCMessage **v, size_t nr);
void img_close(struct cr_img *img);

const struct img_desc *img_kind_of(const struct cr_img *img);
const char *img_name(const struct cr_img *img);
int img_raw_fd(const struct cr_img *img);
/* Descriptor the next entry will be decoded with (head or body type). */
const ProtobufCMessageDescriptor *img_next_type(const struct cr_img *img);

#endif /* CRIU_IMAGE_H */
