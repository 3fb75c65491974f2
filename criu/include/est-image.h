/*
 * The established image format (issue 11): which file holds which kind, how
 * its entries are framed, and which message type each entry has. Schemas in
 * images/est/; the whole map in Documentation/image-format-plan.md §1.
 *
 * A file is
 *
 *	[u32 head]	EST_MAGIC_COMMON, or EST_MAGIC_SERVICE for stats-*,
 *			absent for inventory.img (all words little-endian)
 *	u32 magic	the kind (crit names the file by it)
 *	{ u32 size; u8 msg[size]; u8 extra[]; }*
 *
 * "extra" is a payload some kinds put after an entry: pipes-data/fifo-data
 * (pipe_data_entry.bytes), sk-queues (sk_packet_entry.length), tcp-stream
 * (inq_len + outq_len), ghost files (ghost_chunk_entry.len after each chunk,
 * or the whole rest of the file after a ghost_file_entry without chunks),
 * semaphore sets (ipc_sem_entry.nsems u16 values, zero-padded to 8 bytes),
 * message queues (qnum messages, each a u32 size, an ipc_msg and its text
 * zero-padded to 8 bytes).
 * The pagemap's first entry is a pagemap_head, the others pagemap_entry; a
 * ghost file's first is a ghost_file_entry, the others ghost_chunk_entry.
 * pages-N.img is raw page data: a kind without magic or entries.
 *
 * Parsing a file held in memory:
 *   1. kind = est_kind_by_name(file name)	(NULL: not an image we know)
 *   2. est_parse_init(&p, kind, buf, len, name)	checks the magic words
 *   3. est_parse_next(&p, &e) until it returns 0 (clean end) or -1 (error,
 *      logged with the file name and offset); each entry is unpacked with
 *      the kind's type, e.packed/e.extra point into buf;
 *      est_entry_release(&e) frees the message
 *
 * Everything is untrusted: sizes, entry counts and extra lengths are checked
 * against the caps and the bytes left before use.
 */
#ifndef CRIU_EST_IMAGE_H
#define CRIU_EST_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

#define EST_MAGIC_COMMON	0x54564319u
/* inventory.img_version: 2, the format; ours with xt-* extension images (est-export.h) */
#define EST_IMG_VERSION		2u
#define EST_IMG_VERSION_EXT	0x10002u
/* bit of inventory.img_version: the page files are compressed (zpages.h), ours */
#define EST_IMG_VERSION_ZPAGES	0x20000u
#define EST_XT_PREFIX		"xt-"

/* vma_entry.status bits of the format (plan §2.8) */
#define ST_REGULAR	0x1u
#define ST_STACK	0x2u
#define ST_VSYSCALL	0x4u
#define ST_VDSO		0x8u
#define ST_HEAP		0x20u
#define ST_FILE_PRIVATE	0x40u
#define ST_FILE_SHARED	0x80u
#define ST_ANON_SHARED	0x100u
#define ST_ANON_PRIVATE	0x200u
#define ST_SOCKET	0x800u
#define ST_VVAR		0x1000u
#define ST_AIORING	0x2000u
#define ST_MEMFD	0x4000u
#define ST_KNOWN	(ST_REGULAR | ST_STACK | ST_VSYSCALL | ST_VDSO | ST_HEAP | ST_FILE_PRIVATE | \
			 ST_FILE_SHARED | ST_ANON_SHARED | ST_ANON_PRIVATE | ST_VVAR | ST_AIORING | \
			 ST_MEMFD | ST_SOCKET)

/* pagemap_entry.flags of the format (ours are pagemap-flags.h) */
#define EPE_PARENT	1u
#define EPE_LAZY	2u
#define EPE_PRESENT	4u

static inline uint32_t est_le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}
#define EST_MAGIC_SERVICE	0x55105940u
#define EST_ENTRY_MAX		(16u << 20)	/* our cap on one entry's size */

/* What follows an entry, and which of its fields says how long it is. */
enum est_extra {
	EST_EXTRA_NONE,
	EST_EXTRA_PIPE_DATA,	/* pipe_data_entry.bytes */
	EST_EXTRA_SK_QUEUE,	/* sk_packet_entry.length */
	EST_EXTRA_TCP_STREAM,	/* tcp_stream_entry.inq_len + outq_len */
	EST_EXTRA_GHOST,	/* rest of file, or ghost_chunk_entry.len */
	EST_EXTRA_SEM,		/* ipc_sem_entry.nsems u16 values, padded to 8 bytes */
	EST_EXTRA_MSG,		/* ipc_msg_entry.qnum messages (est_msg_next) */
	EST_EXTRA_SHM,		/* ipc_shm_entry.size bytes padded to 4, none if in_pagemaps */
};

/*
 * One message of a queue's payload at @buf (@len bytes left): { u32 size;
 * ipc_msg; msize bytes padded to 8 }. Its bytes in all, its type and size,
 * or -1 when it does not fit or does not unpack.
 */
int64_t est_msg_next(const uint8_t *buf, size_t len, uint64_t *mtype, uint32_t *msize);

struct est_kind {
	const char *name;	/* crit's name of the kind ("CORE"); "pages" for raw */
	const char *pattern;	/* file name; one %u (decimal) or %x (hex) at most */
	uint32_t head;		/* head word, 0 = none */
	uint32_t magic;		/* kind word, 0 = raw file */
	const ProtobufCMessageDescriptor *first;	/* type of entry 0 */
	const ProtobufCMessageDescriptor *rest;		/* type of the others */
	unsigned int max_entries;	/* 0 = no limit */
	enum est_extra extra;
};

/* The rows of the table, for iterating; n set to their number. */
const struct est_kind *est_kinds(unsigned int *n);
/* The kind whose pattern @name matches, or NULL. */
const struct est_kind *est_kind_by_name(const char *name);
/* The kind of a kind word (the first row that has it), or NULL. */
const struct est_kind *est_kind_by_magic(uint32_t magic);

struct est_parser {
	const struct est_kind *kind;
	const char *name;		/* for messages */
	const uint8_t *buf;
	size_t len, off;
	unsigned int nr;		/* entries returned so far */
	bool rest_is_extra;		/* a ghost without chunks: done after entry 0 */
};

struct est_entry {
	const ProtobufCMessageDescriptor *desc;
	ProtobufCMessage *msg;
	size_t offset;			/* file offset of the size word */
	const uint8_t *packed;		/* the message bytes as read */
	size_t packed_len;
	const uint8_t *extra;		/* NULL when the kind has none */
	size_t extra_len;
};

int est_parse_init(struct est_parser *p, const struct est_kind *kind,
		   const void *buf, size_t len, const char *name);
int est_parse_next(struct est_parser *p, struct est_entry *e);
void est_entry_release(struct est_entry *e);

/*
 * Unknown fields anywhere in @m and its sub-messages: fields of the
 * established format our schemas leave out (or that a newer tool added).
 */
size_t est_unknown_fields(const ProtobufCMessage *m);

/*
 * How crit prints a field in its pretty JSON. The established schemas carry
 * this as custom field options; protobuf-c drops those, so they live here.
 * Messages not listed print plainly; a hex note on a message-typed field
 * applies to every integer inside it.
 */
enum est_json_kind {
	EST_JSON_HEX,		/* "0x%x" */
	EST_JSON_FLAGS,		/* names from map @arg, then "0x" remainder */
	EST_JSON_DEV,		/* "major:minor", kernel encoding */
	EST_JSON_ODEV,		/* "major:minor", glibc (old) encoding */
	EST_JSON_DICT,		/* value names from dict @arg */
	EST_JSON_IPADD,		/* IPv4 / IPv6 address text */
	EST_JSON_CONV,		/* converter @arg (unix_name: quoted-printable) */
};

struct est_json_note {
	const ProtobufCMessageDescriptor *msg;
	const char *field;
	enum est_json_kind kind;
	const char *arg;
};

/*
 * getsockopt(@name) (SO_SNDBUF, SO_RCVBUF) of a fresh socket of (@family,
 * @type, @proto): what the format's required buffer sizes are when nothing
 * changed them; -1 if it cannot be read.
 */
int est_sk_default_buf(int family, int type, int proto, int name);
/* getsockopt(@level, @name) of such a fresh socket, an int; -1 if unreadable */
int est_sk_default_opt(int family, int type, int proto, int level, int name);
/* unix_sk_entry.uflags: the entry stands for a peer outside the dump */
#define EST_USK_EXTERN	1

/*
 * The fown_entry and the file flags of @f's member (the exporter sets the
 * one, the importer reads it): every kind of ours has both but FIFO, whose
 * REG path entry has them. False when @f has none or its member is absent.
 */
struct Est__FileEntry;
struct Est__FownEntry;
bool est_file_fown(struct Est__FileEntry *f, struct Est__FownEntry ***fown, uint32_t **flags);

const struct est_json_note *est_json_notes(unsigned int *n);

/*
 * Writes @dirfd/@name (a kind of the table, found by name) holding the one
 * entry @m, through @name.part renamed into place, mode 0600: 0 or -1.
 */
int est_write_one(int dirfd, const char *name, const ProtobufCMessage *m);
/* The whole of @name in @dirfd, at most @max bytes, into *@buf (malloc'ed): 0 or -1 (logged). */
int est_load_file(int dirfd, const char *name, size_t max, uint8_t **buf, size_t *len);
/* The note of @field of @msg, or NULL. */
const struct est_json_note *est_json_note(const ProtobufCMessageDescriptor *msg,
					  const char *field);

#endif /* CRIU_EST_IMAGE_H */
