/*
 * Established remap-fpath.img + ghost-file-%x.img -> our ghost-files.img,
 * ghost-data.img and the ghost_id of the REG entries (plan §3.7). A deleted
 * regular file's content comes whole (chunks false: the rest of the file)
 * or in chunks with holes between them; ours keeps runs in a raw image.
 * Ghost ids are renumbered 1, 2, ... as ours requires; a ghost may be a
 * deleted directory (no content). A linked remap (a file unlinked from its
 * name but linked elsewhere, reached through the REG entry of a temporary
 * name, --link-remap) becomes the file's link_remap. /proc remaps and
 * ghosts of devices or symlinks are refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define LOG_PREFIX "est-import: "
#include "est-import-int.h"
#include "log.h"

#include "ghost.pb-c.h"
#include "est/ghost-file.pb-c.h"
#include "est/remap-file-path.pb-c.h"

#define MAX_GHOSTS	4096
#define OLD_GHOST_BIT	(1u << 31)	/* remap_id of images without remap_type */
#define MAX_SEC		(UINT64_MAX / 1000000000ull - 1)

struct remap {
	uint32_t orig_id, remap_id;
};

struct imp_ghosts {
	struct remap *v;
	size_t nr;
	struct remap *links;	/* LINKED: the file orig_id is reached through REG remap_id */
	size_t nr_links;
	uint32_t *ids;		/* distinct remap ids, ascending: ours is index + 1 */
	size_t nr_ids;
};

/* A file unlinked but linked elsewhere, reached through the REG entry of its other name. */
static int add_link(struct imp *im, struct imp_ghosts *g, const Est__RemapFilePathEntry *r)
{
	const Est__FileEntry *f = imp_obj(im, r->orig_id), *l = imp_obj(im, r->remap_id);
	size_t i;

	if (!f || !f->reg || !f->reg->has_mode || !S_ISREG(f->reg->mode) || !l || !l->reg ||
	    !l->reg->has_mode || !S_ISREG(l->reg->mode) || l->reg->name[0] != '/' ||
	    r->orig_id == r->remap_id) {
		pr_err("not supported yet: remap-fpath.img: file %u linked through %u: no regular files by path",
		       r->orig_id, r->remap_id);
		return -1;
	}
	for (i = 0; i < g->nr_links; i++)
		if (g->links[i].orig_id == r->orig_id) {
			pr_err("remap-fpath.img: object %u twice", r->orig_id);
			return -1;
		}
	if (g->nr_links == MAX_GHOSTS) {
		pr_err("not supported yet: remap-fpath.img: more than %d linked files", MAX_GHOSTS);
		return -1;
	}
	g->links[g->nr_links++] = (struct remap){ r->orig_id, r->remap_id };
	return 0;
}

static int add_remap(struct imp *im, const struct est_entry *e, void *ctx)
{
	const Est__RemapFilePathEntry *r = (const Est__RemapFilePathEntry *)e->msg;
	struct imp_ghosts *g = ctx;
	const Est__FileEntry *f = imp_obj(im, r->orig_id);
	uint32_t id = r->remap_id;
	size_t i;

	if (r->has_remap_type && r->remap_type == EST__REMAP_TYPE__LINKED)
		return add_link(im, g, r);
	if (r->has_remap_type ? r->remap_type != EST__REMAP_TYPE__GHOST : !(id & OLD_GHOST_BIT)) {
		pr_err("not supported yet: remap-fpath.img: file %u is remapped %s, not as a deleted file",
		       r->orig_id, r->has_remap_type && r->remap_type == EST__REMAP_TYPE__PROCFS ?
		       "to a /proc directory" : "in an unknown way");
		return -1;
	}
	if (!r->has_remap_type)
		id &= ~OLD_GHOST_BIT;
	if (!f || !f->reg || !f->reg->has_mode || !(S_ISREG(f->reg->mode) || S_ISDIR(f->reg->mode)) ||
	    !id) {
		pr_err("not supported yet: remap-fpath.img: ghost %u of object %u, which is no regular file or directory",
		       id, r->orig_id);
		return -1;
	}
	for (i = 0; i < g->nr; i++)
		if (g->v[i].orig_id == r->orig_id) {
			pr_err("remap-fpath.img: object %u twice", r->orig_id);
			return -1;
		}
	if (g->nr == MAX_GHOSTS) {
		pr_err("not supported yet: remap-fpath.img: more than %d entries", MAX_GHOSTS);
		return -1;
	}
	g->v[g->nr++] = (struct remap){ r->orig_id, id };
	return 0;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Ours for one ghost; free_ghost() releases it. */
struct ghost_out {
	GhostFileEntry e;
	FileData d;
};

static void free_ghost(ProtobufCMessage *m)
{
	struct ghost_out *o = (struct ghost_out *)m;

	if (!o)
		return;
	imp_fdata_release(&o->d);
	free(o);
}

static int tv_ns(const Est__Timeval *t, uint64_t *ns)
{
	if (!t || t->tv_usec >= 1000000 || t->tv_sec > MAX_SEC)
		return -1;
	*ns = t->tv_sec * 1000000000ull + t->tv_usec * 1000;
	return 0;
}

struct ghost_ctx {
	struct ghost_out *o;
	int raw;		/* our ghost-data.img */
	uint64_t *raw_off;	/* bytes in it so far */
	const char *img;
	bool whole;		/* the content is the rest of the file */
};

static int put_run(struct ghost_ctx *c, uint64_t off, const uint8_t *data, size_t len)
{
	struct ghost_out *o = c->o;
	const FileRun *last = o->d.n_runs ? o->d.runs[o->d.n_runs - 1] : NULL;

	if (!len)
		return 0;
	if ((last && off < last->off + last->len) || off > o->e.size || len > o->e.size - off) {
		pr_err("%s: chunk at %llu of %zu bytes: out of order or beyond the size", c->img,
		       (unsigned long long)off, len);
		return -1;
	}
	if (write(c->raw, data, len) != (ssize_t)len) {
		pr_perror("cannot write ghost-data.img");
		return -1;
	}
	*c->raw_off += len;
	return imp_fdata_add(&o->d, off, len, c->img);
}

static int ghost_entry(struct imp *im, const struct est_entry *e, void *ctx)
{
	struct ghost_ctx *c = ctx;
	GhostFileEntry *o = &c->o->e;

	(void)im;
	if (e->desc == &est__ghost_chunk_entry__descriptor) {
		const Est__GhostChunkEntry *k = (const Est__GhostChunkEntry *)e->msg;

		return put_run(c, k->off, e->extra, e->extra_len);
	}
	{
		const Est__GhostFileEntry *g = (const Est__GhostFileEntry *)e->msg;

		if (!(S_ISREG(g->mode) || S_ISDIR(g->mode)) || g->symlnk_target) {
			pr_err("not supported yet: %s: a deleted file of mode %o (not a regular file or directory)",
			       c->img, g->mode);
			return -1;
		}
		if (tv_ns(g->atim, &o->atime_ns) || tv_ns(g->mtim, &o->mtime_ns)) {
			pr_err("%s: no or bad access and modification times", c->img);
			return -1;
		}
		o->mode = g->mode;
		o->uid = g->uid;
		o->gid = g->gid;
		c->whole = !(g->has_chunks && g->chunks);
		if (c->whole && g->has_size && g->size != e->extra_len) {
			pr_err("%s: size %llu, content of %zu bytes", c->img,
			       (unsigned long long)g->size, e->extra_len);
			return -1;
		}
		if (!c->whole && !g->has_size) {
			pr_err("%s: chunks without the file's size", c->img);
			return -1;
		}
		if (S_ISDIR(g->mode)) {	/* empty, as rmdir left it: no content */
			if (e->extra_len || (g->has_chunks && g->chunks) || (g->has_size && g->size)) {
				pr_err("%s: a deleted directory with content", c->img);
				return -1;
			}
			return 0;
		}
		o->size = c->whole ? e->extra_len : g->size;
		return c->whole ? put_run(c, 0, e->extra, e->extra_len) : 0;
	}
}

static struct ghost_out *conv_ghost(struct imp *im, uint32_t remap_id, uint32_t ours, int raw,
				    uint64_t *raw_off)
{
	struct ghost_out *o = imp_zalloc(sizeof(*o));
	char name[64];
	struct ghost_ctx c = { o, raw, raw_off, name, false };

	if (!o)
		return NULL;
	snprintf(name, sizeof(name), "ghost-file-%x.img", remap_id);
	ghost_file_entry__init(&o->e);
	file_data__init(&o->d);
	o->e.id = ours;
	o->e.data = &o->d;
	o->d.off = *raw_off;
	if (imp_read_all(im, name, false, ghost_entry, &c))
		goto err;
	if (!o->e.mode) {
		pr_err("%s: no entry", name);
		goto err;
	}
	return o;
err:
	free_ghost(&o->e.base);
	return NULL;
}

static ProtobufCMessage *ghost_i(struct imp *im, size_t i, int raw, uint64_t *off, void *ctx)
{
	const struct imp_ghosts *g = ctx;
	struct ghost_out *o = conv_ghost(im, g->ids[i], i + 1, raw, off);

	return o ? &o->e.base : NULL;
}

int imp_ghosts(struct imp *im)
{
	struct imp_ghosts *g = imp_zalloc(sizeof(*g));
	size_t i;

	im->ghosts = g;
	if (!g)
		return -1;
	g->v = imp_zalloc(MAX_GHOSTS * sizeof(*g->v));
	g->links = imp_zalloc(MAX_GHOSTS * sizeof(*g->links));
	g->ids = imp_zalloc(MAX_GHOSTS * sizeof(*g->ids));
	if (!g->v || !g->links || !g->ids || imp_read_all(im, "remap-fpath.img", true, add_remap, g))
		return -1;
	for (i = 0; i < g->nr; i++)
		g->ids[i] = g->v[i].remap_id;
	qsort(g->ids, g->nr, sizeof(*g->ids), u32_cmp);
	for (i = 0; i < g->nr; i++)
		if (!i || g->ids[i] != g->ids[g->nr_ids - 1])
			g->ids[g->nr_ids++] = g->ids[i];
	return g->nr_ids ? imp_write_data(im, IMG_GHOST_FILES, IMG_GHOST_DATA, g->nr_ids, ghost_i,
					  free_ghost, g) : 0;
}

uint32_t imp_ghost_of(const struct imp *im, uint32_t reg_id)
{
	const struct imp_ghosts *g = im->ghosts;
	const uint32_t *k;
	size_t i;

	for (i = 0; g && i < g->nr; i++)
		if (g->v[i].orig_id == reg_id) {
			k = bsearch(&g->v[i].remap_id, g->ids, g->nr_ids, sizeof(*k), u32_cmp);
			return k ? (uint32_t)(k - g->ids) + 1 : 0;
		}
	return 0;
}

const char *imp_link_of(const struct imp *im, uint32_t reg_id)
{
	const struct imp_ghosts *g = im->ghosts;
	size_t i;

	for (i = 0; g && i < g->nr_links; i++)
		if (g->links[i].orig_id == reg_id)
			return imp_obj(im, g->links[i].remap_id)->reg->name;	/* checked in add_link */
	return NULL;
}

bool imp_is_link(const struct imp *im, uint32_t reg_id)
{
	const struct imp_ghosts *g = im->ghosts;
	size_t i;

	for (i = 0; g && i < g->nr_links; i++)
		if (g->links[i].remap_id == reg_id)
			return true;
	return false;
}

void imp_ghosts_free(struct imp *im)
{
	struct imp_ghosts *g = im->ghosts;

	if (g) {
		free(g->links);
		free(g->v);
		free(g->ids);
		free(g);
	}
	im->ghosts = NULL;
}
