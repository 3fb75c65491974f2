/*
 * Compressed page files, our addition to the format (dump --compress,
 * Documentation/images.md "Compressed page files"). A compressed
 * pages-N.img is:
 *
 *   header (32 bytes)  "CRIUZSTD", u32 version 1, u32 frame size (plain
 *                      bytes per frame), u64 plain size, u32 frames, u32 0
 *   index              u32 per frame: its compressed length
 *   frames             independent zstd frames, each of frame size plain
 *                      bytes (the last: the rest), content size and
 *                      checksum included
 *
 * Frame N's plain data starts at N * frame size, its bytes after the header,
 * the index and the frames before it: a reader can seek. The dump's
 * inventory.img says so with img_version bit EST_IMG_VERSION_ZPAGES, which
 * the established tool refuses. The restore opens every file of such a dump
 * into a private directory under $TMPDIR, page files decompressed, before
 * anything is created.
 */
#ifndef CRIU_ZPAGES_H
#define CRIU_ZPAGES_H

#include <stddef.h>
#include <stdint.h>

#define ZPAGES_MAGIC		"CRIUZSTD"
#define ZPAGES_VERSION		1u
#define ZPAGES_FRAME		(4u << 20)
#define ZPAGES_MAX_PLAIN	(1ull << 40)	/* refused above: 1 TiB of pages in one file */
#define ZPAGES_HDR_SIZE		32u

/* @in (read from its start) compressed into @out (empty): 0 or -1 logged. */
int zpages_pack_fd(int in, int out, const char *name);
/* Compressed @in (untrusted) decompressed into @out (empty): 0, or -1 naming @name. */
int zpages_unpack_fd(int in, int out, const char *name);
/* 1: @fd starts with the magic, 0: not, -1: read error. */
int zpages_fd_is_packed(int fd);

/* Dump: every pages-*.img of the scratch dir @dirfd compressed in place. */
int zpages_pack_dir(int dirfd);
/* 1: the page files of @dirfd are compressed, 0: none is, -1: a mix (logged). */
int zpages_dir_packed(int dirfd);
/*
 * Restore of a compressed dump (checked against its manifest first): every
 * file the manifest lists opened into a new private directory under $TMPDIR
 * (its name in @tmp, an fd in *opened), page files decompressed. Remove it
 * with seal_dir_remove().
 */
int zpages_open_dir(int dirfd, char *tmp, size_t tmp_size, int *opened);

#endif /* CRIU_ZPAGES_H */
