/*
 * Our ghost-files.img + ghost-data.img and the ghost_id of REG entries ->
 * established remap-fpath.img and one ghost-file-<hex id>.img per deleted
 * file (plan §3.7). Ghost ids carry over (ours count from 1, as the
 * format's). Each ghost is written with chunks: its size, then one
 * ghost_chunk_entry and its bytes per data run of ours, holes between them.
 * The format keeps the access and modification times in microseconds: a
 * time with nanoseconds below that cannot be written (fstat shows them).
 * A --link-remap file (unlinked, linked elsewhere) is a LINKED remap to a
 * REG entry of its temporary name (est-export-files.c). An unnamed temporary file
 * (O_TMPFILE) is a ghost like any other: its REG entry keeps the kernel's
 * O_TMPFILE bit in its flags and "DIR/#INO" as its name.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

#define LOG_PREFIX "est-export: "
#include "est-export-int.h"
#include "log.h"

#include "files.pb-c.h"
#include "ghost.pb-c.h"
#include "est/ghost-file.pb-c.h"
#include "est/remap-file-path.pb-c.h"

#define GHOST_MAX_RUN	(1ull << 30)	/* bytes of one data run kept in memory */

static void timeval_of(Est__Timeval *t, uint64_t ns)
{
	est__timeval__init(t);
	t->tv_sec = ns / 1000000000ull;
	t->tv_usec = ns % 1000000000ull / 1000;
}

/* The runs of @g, read from @data at their offset, as chunks after the entry. */
static int add_chunks(struct exp_img *w, const GhostFileEntry *g, int data)
{
	const FileData *d = g->data;
	uint64_t at = d->off, end = 0;
	Est__GhostChunkEntry c;
	size_t i;

	for (i = 0; i < d->n_runs; i++) {
		const FileRun *r = d->runs[i];
		uint8_t *buf;

		if (!r->len || r->off < end || r->off > g->size || r->len > g->size - r->off ||
		    r->len > GHOST_MAX_RUN) {
			pr_err("ghost-files.img: ghost %u: run %llu+%llu out of order, beyond its size or too large",
			       g->id, (unsigned long long)r->off, (unsigned long long)r->len);
			return -1;
		}
		buf = malloc(r->len);
		if (!buf || pread(data, buf, r->len, (off_t)at) != (ssize_t)r->len) {
			pr_perror("ghost-data.img: cannot read %llu bytes at %llu",
				  (unsigned long long)r->len, (unsigned long long)at);
			free(buf);
			return -1;
		}
		est__ghost_chunk_entry__init(&c);
		c.len = r->len;
		c.off = r->off;
		exp_img_add(w, &c.base, buf, r->len);
		free(buf);
		at += r->len;
		end = r->off + r->len;
	}
	return 0;
}

static int write_ghost(struct exp *ex, const GhostFileEntry *g, int data)
{
	Est__GhostFileEntry e = EST__GHOST_FILE_ENTRY__INIT;
	Est__Timeval at, mt;
	struct exp_img w;
	char name[64];

	if (!(S_ISREG(g->mode) || (S_ISDIR(g->mode) && !g->size)) || !g->data) {
		pr_err("ghost-files.img: ghost %u of mode %o: no regular file or empty directory, or no data",
		       g->id, g->mode);
		return -1;
	}
	if ((g->atime_ns % 1000 || g->mtime_ns % 1000) &&
	    exp_cannot("ghost-files.img", "deleted file %u has access or modification times finer than a microsecond",
		       g->id))
		return -1;
	e.uid = g->uid;
	e.gid = g->gid;
	e.mode = g->mode;
	timeval_of(&at, g->atime_ns);
	timeval_of(&mt, g->mtime_ns);
	e.atim = &at;
	e.mtim = &mt;
	/* a directory: the entry alone, as the format has it */
	e.has_chunks = e.chunks = e.has_size = S_ISREG(g->mode);
	e.size = g->size;
	snprintf(name, sizeof(name), "ghost-file-%x.img", g->id);
	exp_img_open(&w, name);
	exp_img_add(&w, &e.base, NULL, 0);
	if (add_chunks(&w, g, data)) {
		free(w.buf);
		return -1;
	}
	return exp_img_close(ex, &w);
}

/* remap-fpath.img: one GHOST remap per REG entry of a deleted file. */
/* LINKED remaps: each file unlinked but linked elsewhere, through its temporary name. */
static void add_links(struct exp_img *w, const struct exp_link *links, size_t nr)
{
	Est__RemapFilePathEntry e;
	size_t i;

	for (i = 0; i < nr; i++) {
		est__remap_file_path_entry__init(&e);
		e.orig_id = links[i].orig;
		e.remap_id = links[i].link;
		e.has_remap_type = true;
		e.remap_type = EST__REMAP_TYPE__LINKED;
		exp_img_add(w, &e.base, NULL, 0);
	}
}

static int write_remaps(struct exp *ex, ProtobufCMessage **reg, size_t nr_reg,
			ProtobufCMessage **g, size_t nr_g, const struct exp_link *links, size_t nr_links)
{
	Est__RemapFilePathEntry e;
	struct exp_img w;
	size_t i, k, n = 0;
	bool *named = exp_zalloc(nr_g);

	if (!named)
		return -1;
	exp_img_open(&w, "remap-fpath.img");
	for (i = 0; i < nr_reg; i++) {
		const RegFileEntry *r = (const RegFileEntry *)reg[i];

		if (!r->has_ghost_id)
			continue;
		for (k = 0; k < nr_g && ((const GhostFileEntry *)g[k])->id != r->ghost_id; k++)
			;
		if (k == nr_g || !(S_ISREG(r->mode) || S_ISDIR(r->mode))) {
			pr_err("reg-files.img: file %u (%s): ghost %u unknown, or no regular file or directory",
			       r->id, r->path, r->ghost_id);
			goto drop;
		}
		named[k] = true;
		est__remap_file_path_entry__init(&e);
		e.orig_id = r->id;
		e.remap_id = r->ghost_id;
		e.has_remap_type = true;
		e.remap_type = EST__REMAP_TYPE__GHOST;
		exp_img_add(&w, &e.base, NULL, 0);
		n++;
	}
	for (k = 0; k < nr_g; k++)
		if (!named[k]) {	/* the importer would leave it out */
			pr_err("ghost-files.img: ghost %u is no file's", ((const GhostFileEntry *)g[k])->id);
			goto drop;
		}
	free(named);
	add_links(&w, links, nr_links);
	if (!n && !nr_links) {
		free(w.buf);
		return 0;
	}
	return exp_img_close(ex, &w);
drop:
	free(named);
	free(w.buf);
	return -1;
}

int exp_ghosts(struct exp *ex, ProtobufCMessage **reg, size_t nr_reg, const struct exp_link *links,
	       size_t nr_links)
{
	ProtobufCMessage **g = NULL;
	size_t nr = 0, i;
	int data = -1, ret = -1;

	if (faccessat(ex->in, "ghost-files.img", F_OK, 0))
		return write_remaps(ex, reg, nr_reg, NULL, 0, links, nr_links);
	exp_used(ex, "ghost-files.img");
	exp_used(ex, "ghost-data.img");
	if (img_read_all(ex->in, IMG_GHOST_FILES, 0, 0, NULL, NULL, &g, &nr))
		return -1;
	data = openat(ex->in, "ghost-data.img", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (data < 0 && nr) {
		pr_perror("cannot open ghost-data.img");
		goto out;
	}
	for (i = 0; i < nr; i++) {
		const GhostFileEntry *e = (const GhostFileEntry *)g[i];

		/* 1, 2, ...: the importer numbers them so, in the order of their remap ids */
		if (e->id != i + 1) {
			pr_err("ghost-files.img: ghost id %u where %zu was due", e->id, i + 1);
			goto out;
		}
		if (write_ghost(ex, e, data))
			goto out;
	}
	ret = write_remaps(ex, reg, nr_reg, g, nr, links, nr_links);
out:
	if (data >= 0)
		close(data);
	img_free_all(g, nr);
	return ret;
}
