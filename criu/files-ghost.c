/*
 * Deleted files still open or mapped ("ghosts"): criu/include/files-reg.h.
 *
 * Dump: one ghost_file_entry per inode, with mode, owner, times and the
 * data runs (holes kept; found with FIEMAP under --ghost-fiemap, the
 * default, where the file system has it, else SEEK_DATA/SEEK_HOLE) in
 * ghost-data.img; files holding more data than --ghost-limit are refused
 * (holes are free). Restore: the file is created again where it was (an O_TMPFILE
 * in the same directory if that name is taken now), filled, given its
 * owner, mode and times, and unlinked at once, all in criu before the first
 * fork; every process inherits that descriptor and reopens every open file
 * description, mapping or exe of the ghost from it.
 *
 * A deleted directory is a ghost too (empty, as rmdir left it): made again
 * where it was (refused if that name is taken now), opened, removed, then
 * given its owner, mode and times. A file in a deleted directory has the
 * directories above it made again for as long as it takes to create it.
 *
 * An unnamed temporary file (open(dir, O_TMPFILE)) is a ghost whose old
 * name is "DIR/#INO": the one open file description with the kernel's
 * __O_TMPFILE bit in its flags is the O_TMPFILE open itself. Restore makes the ghost with that
 * very open (same flags for F_GETFL, linkable with linkat() again) in DIR,
 * and hands that description to its fd; the ghost's other descriptions,
 * mappings and the exe reopen it as for any ghost.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define LOG_PREFIX "files: "
#include "log.h"
#include "dump.h"
#include "files-reg.h"
#include "image.h"

#define DELETED_SUFFIX	" (deleted)"
#define RST_MAX_GHOSTS	65536
#define RST_MAX_GHOST_SIZE (1ull << 40)

/*
 * Restore: the ghosts made, by id - 1. criu makes them all before the first
 * fork (rst_ghosts_create), so every process of a tree inherits the same
 * descriptors: one inode, however many processes open or map it.
 */
static int *made;
static size_t nr_made;
/* By id - 1: the O_TMPFILE open of an unnamed temporary file, until handed out. */
static int *tmp_desc;

/* ---- dump ------------------------------------------------------------------ */

static struct ghost_dump *ghost_state(struct dump_files *d)
{
	if (!d->priv[FD_KIND__FD_REG]) {
		d->priv[FD_KIND__FD_REG] = calloc(1, sizeof(struct ghost_dump));
		if (!d->priv[FD_KIND__FD_REG])
			pr_err("out of memory");
	}
	return d->priv[FD_KIND__FD_REG];
}

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

/* The old path: @link without " (deleted)". */
static int old_path(const char *link, char *path, size_t len)
{
	size_t ll = strlen(link), sl = strlen(DELETED_SUFFIX);

	if (link[0] != '/' || ll <= sl || strcmp(link + ll - sl, DELETED_SUFFIX) ||
	    ll - sl >= len) {
		pr_err("deleted file '%s': not a path ending in \"%s\"; not supported yet", link,
		       DELETED_SUFFIX);
		return -1;
	}
	memcpy(path, link, ll - sl);
	path[ll - sl] = '\0';
	return 0;
}

static int remember_inode(struct ghost_dump *g, const struct stat *st)
{
	size_t n = g->list.nr + 1;
	uint64_t *dev = realloc(g->dev, n * sizeof(*dev)), *ino;

	if (dev)
		g->dev = dev;
	ino = dev ? realloc(g->ino, n * sizeof(*ino)) : NULL;
	if (!ino) {
		pr_err("out of memory");
		return -1;
	}
	g->ino = ino;
	g->dev[n - 1] = st->st_dev;
	g->ino[n - 1] = st->st_ino;
	return 0;
}

static GhostFileEntry *new_ghost(const struct stat *st, uint32_t id)
{
	GhostFileEntry *e = malloc(sizeof(*e));

	if (!e) {
		pr_err("out of memory");
		return NULL;
	}
	ghost_file_entry__init(e);
	e->data = fdata_new();
	if (!e->data) {
		free(e);
		return NULL;
	}
	e->id = id;
	e->mode = st->st_mode;
	e->uid = st->st_uid;
	e->gid = st->st_gid;
	e->size = S_ISDIR(st->st_mode) ? 0 : (uint64_t)st->st_size;	/* a deleted directory is empty */
	e->atime_ns = ts_ns(&st->st_atim);
	e->mtime_ns = ts_ns(&st->st_mtim);
	return e;
}

/*
 * Its directory, or the nearest directory above it still there when that
 * was deleted too (the restore makes the ones between again for a moment),
 * must be on the file's filesystem: else the file was no file of a path (a
 * kernel-internal shmem file) and there is nowhere to create it again.
 */
static int check_dir(const char *path, const struct stat *st)
{
	char dir[PATH_MAX];
	struct stat ds;
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	do {
		slash = strrchr(dir, '/');
		if (!slash)
			break;
		slash[slash == dir] = '\0';	/* "/a" -> "/" */
		if (!stat(dir, &ds))
			break;
	} while (errno == ENOENT && slash != dir);
	if (!slash || stat(dir, &ds) || !S_ISDIR(ds.st_mode) || ds.st_dev != st->st_dev) {
		pr_err("deleted file %s: no directory above it on its filesystem "
		       "(a kernel-internal file?); not supported yet", path);
		return -1;
	}
	return 0;
}

int ghost_dump(struct dump_files *d, const struct cr_options *o, int dirfd, const char *link,
	       const struct stat *st, int src, char *path, size_t len, uint32_t *ghost_id)
{
	struct ghost_dump *g;
	GhostFileEntry *e;
	uint64_t bytes;
	size_t i;

	if (old_path(link, path, len) || check_dir(path, st) || !(g = ghost_state(d)))
		return -1;
	for (i = 0; i < g->list.nr; i++)
		if (g->dev[i] == st->st_dev && g->ino[i] == st->st_ino) {
			*ghost_id = ((GhostFileEntry *)g->list.v[i])->id;
			return 0;
		}
	e = new_ghost(st, (uint32_t)g->list.nr + 1);
	if (!e)
		return -1;
	/* reading must not move its atime (relatime would): a --leave-running dump leaves it as it was */
	if (fcntl(src, F_SETFL, fcntl(src, F_GETFL) | O_NOATIME) && errno != EPERM) {
		pr_perror("deleted file %s: cannot read it without touching its atime", path);
		goto err;
	}
	if (fdata_scan(src, e->size, o->ghost_fiemap && S_ISREG(st->st_mode), e->data, &bytes))
		goto err;
	/* holes cost nothing: the data is what the image holds */
	if (bytes > o->ghost_limit) {
		pr_err("deleted file %s holds %llu bytes of data (size %llu), over --ghost-limit "
		       "(%llu bytes): dump with a larger --ghost-limit to carry it", path,
		       (unsigned long long)bytes, (unsigned long long)e->size,
		       (unsigned long long)o->ghost_limit);
		goto err;
	}
	if (fdata_copy(&g->out, dirfd, IMG_GHOST_DATA, src, e->data) || remember_inode(g, st))
		goto err;
	if (fd_list_add(&g->list, e))
		return -1;
	*ghost_id = e->id;
	pr_info("deleted file %s: ghost %u, %llu bytes, %llu of data in %zu runs", path, e->id,
		(unsigned long long)e->size, (unsigned long long)bytes, e->data->n_runs);
	return 0;
err:
	protobuf_c_message_free_unpacked(&e->base, NULL);
	return -1;
}

int ghost_add_file(struct dump_files *d, const struct cr_options *o, int dirfd, int src,
		   const char *link, const struct stat *st, unsigned int flags, uint64_t pos,
		   uint32_t *id)
{
	char path[PATH_MAX];
	uint32_t ghost;

	if (src < 0) {
		pr_perror("cannot open deleted file %s to read it", link);
		return -1;
	}
	if (ghost_dump(d, o, dirfd, link, st, src, path, sizeof(path), &ghost) ||
	    dump_files_add(d, path, st, flags, pos, id))
		return -1;
	d->e[d->nr - 1]->has_ghost_id = true;
	d->e[d->nr - 1]->ghost_id = ghost;
	return 0;
}

int ghost_write(struct dump_files *d, int dirfd)
{
	struct ghost_dump *g = d->priv[FD_KIND__FD_REG];

	if (!g || !g->list.nr) {	/* no ghost: drop an earlier dump's */
		unlinkat(dirfd, img_desc(IMG_GHOST_FILES)->fmt, 0);
		unlinkat(dirfd, img_desc(IMG_GHOST_DATA)->fmt, 0);
		return 0;
	}
	if (fd_write_entries(dirfd, IMG_GHOST_FILES, g->list.v, g->list.nr))
		return -1;
	return fdata_commit(&g->out);
}

void ghost_free(struct dump_files *d)
{
	struct ghost_dump *g = d->priv[FD_KIND__FD_REG];
	size_t i;

	if (!g)
		return;
	fdata_abort(&g->out);
	for (i = 0; i < g->list.nr; i++)
		protobuf_c_message_free_unpacked(g->list.v[i], NULL);
	free(g->list.v);
	free(g->dev);
	free(g->ino);
	free(g);
	d->priv[FD_KIND__FD_REG] = NULL;
}

/* ---- restore ----------------------------------------------------------------- */

static int check_ghost(const ProtobufCMessage *m, void *ctx)
{
	const GhostFileEntry *e = (const GhostFileEntry *)m;
	const struct ghost_rst *g = ctx;
	char what[64];

	if (g->nr >= RST_MAX_GHOSTS || e->id != g->nr + 1) {
		pr_err("ghost-files.img: entry %zu has id %u (ids are 1, 2, ... up to %d)", g->nr,
		       e->id, RST_MAX_GHOSTS);
		return -1;
	}
	if (!(S_ISREG(e->mode) || (S_ISDIR(e->mode) && !e->size)) || e->size > RST_MAX_GHOST_SIZE) {
		pr_err("ghost-files.img: ghost %u: mode %o or size %llu is not a plain file's "
		       "or an empty directory's", e->id, e->mode, (unsigned long long)e->size);
		return -1;
	}
	snprintf(what, sizeof(what), "ghost-files.img: ghost %u", e->id);
	return fdata_check(what, e->data, e->size, g->raw_size);
}

int ghost_read(struct ghost_rst *g, int dirfd)
{
	memset(g, 0, sizeof(*g));
	if (faccessat(dirfd, img_desc(IMG_GHOST_FILES)->fmt, F_OK, 0) && errno == ENOENT)
		return 0;
	g->raw = fdata_open(dirfd, IMG_GHOST_DATA, &g->raw_size);
	if (!g->raw || img_read_all(dirfd, IMG_GHOST_FILES, 0, 0, check_ghost, g,
				    (ProtobufCMessage ***)&g->e, &g->nr))
		return -1;
	return 0;
}

int ghost_check(const struct ghost_rst *g, const RegFileEntry *rf)
{
	if (!rf->ghost_id || rf->ghost_id > g->nr ||
	    (rf->mode & S_IFMT) != (g->e[rf->ghost_id - 1]->mode & S_IFMT)) {
		pr_err("reg-files.img: %s names ghost %u, which ghost-files.img lacks "
		       "(or it is another type of file)", rf->path, rf->ghost_id);
		return -1;
	}
	if ((rf->flags & TMPFILE_BIT) && ((rf->flags & O_ACCMODE) == O_RDONLY ||
	    (rf->flags & O_TMPFILE) != O_TMPFILE || (rf->flags & ~GHOST_TMPFILE_FLAGS & ~O_CLOEXEC))) {
		pr_err("reg-files.img: %s: O_TMPFILE open with flags %#o", rf->path, rf->flags);
		return -1;
	}
	return 0;
}

static int set_attrs(const GhostFileEntry *e, int fd, const char *path)
{
	struct timespec ts[2] = {
		{ (time_t)(e->atime_ns / 1000000000ull), (long)(e->atime_ns % 1000000000ull) },
		{ (time_t)(e->mtime_ns / 1000000000ull), (long)(e->mtime_ns % 1000000000ull) },
	};

	/* chown before chmod: chown drops set-id bits */
	if (fchown(fd, e->uid, e->gid) || fchmod(fd, e->mode & 07777) || futimens(fd, ts)) {
		pr_perror("deleted file %s: cannot give it back owner %u:%u, mode %o or times",
			  path, e->uid, e->gid, e->mode & 07777);
		return -1;
	}
	return 0;
}

/*
 * Directories made for the ghosts, in the order made: deleted directories
 * (ghosts themselves) and the deleted directories above a ghost. Each is
 * removed again once every ghost is made (rst_ghosts_create), deepest
 * first, if it is still the one made.
 */
#define MAX_MADE_DIRS	4096
static struct made_dir {
	char *path;
	dev_t dev;
	ino_t ino;
} made_dirs[MAX_MADE_DIRS];
static size_t nr_made_dirs;

static bool dir_made(const char *path)
{
	size_t i;

	for (i = 0; i < nr_made_dirs; i++)
		if (!strcmp(made_dirs[i].path, path))
			return true;
	return false;
}

/* mkdir @path (0700, attributes come later), noted to be removed again. */
static int make_dir(const char *path)
{
	struct made_dir *m = &made_dirs[nr_made_dirs];
	struct stat st;

	if (nr_made_dirs == MAX_MADE_DIRS) {
		pr_err("deleted directory %s: more than %d to make again", path, MAX_MADE_DIRS);
		return -1;
	}
	if (mkdir(path, 0700) || lstat(path, &st)) {
		pr_perror("deleted directory %s: cannot make it again%s", path,
			  errno == EEXIST ? " (its name is taken now)" : "");
		return -1;
	}
	m->path = strdup(path);
	if (!m->path) {
		pr_err("out of memory");
		rmdir(path);
		return -1;
	}
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	nr_made_dirs++;
	return 0;
}

/* The directories above @path that are gone, made again (outermost first). */
static int make_parents(const char *path)
{
	char dir[PATH_MAX];
	char *p;

	snprintf(dir, sizeof(dir), "%s", path);
	for (p = strchr(dir + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (!dir_made(dir) && access(dir, F_OK) && (errno != ENOENT || make_dir(dir)))
			return -1;
		*p = '/';
	}
	return 0;
}

/* Remove the directories made, deepest (last made) first. */
static int remove_made_dirs(void)
{
	struct stat st;
	int ret = 0;

	while (nr_made_dirs) {
		struct made_dir *m = &made_dirs[--nr_made_dirs];

		if (lstat(m->path, &st) || st.st_dev != m->dev || st.st_ino != m->ino ||
		    rmdir(m->path)) {
			pr_perror("deleted directory %s: cannot remove it again (or it is "
				  "another one now)", m->path);
			ret = -1;
		}
		free(m->path);
	}
	return ret;
}

/* A deleted directory again: made (or made already as a parent), opened read-only. */
static int dir_create(const char *path)
{
	int fd;

	if (!dir_made(path) && make_dir(path))
		return -1;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		pr_perror("deleted directory %s: cannot open it", path);
	return fd;
}

/* Create the file at @path, or nameless beside it if @path is taken. */
static int create_at(const char *path, bool *linked)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	*linked = fd >= 0;
	if (fd >= 0 || errno != EEXIST)
		goto out;
	snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	/* O_EXCL: a deleted file must not be linkable again, as before */
	fd = open(dir, O_TMPFILE | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
out:
	if (fd < 0)
		pr_perror("deleted file %s: cannot create it again (is its directory gone?)", path);
	return fd;
}

/* Remove the name we gave the file, if it still is ours. */
static int unlink_ours(const char *path, int fd)
{
	struct stat a, b;

	if (fstat(fd, &a) || lstat(path, &b) || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		pr_err("deleted file %s: its new name was taken over while restoring", path);
		return -1;
	}
	if (unlink(path)) {
		pr_perror("deleted file %s: cannot unlink it again", path);
		return -1;
	}
	return 0;
}

/*
 * Keep a read-only descriptor: one open for writing would stop the file
 * from becoming an exe (PR_SET_MM_MAP denies write access to it).
 */
static int keep_readonly(int fd, const char *path)
{
	char self[64];
	int ro;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	ro = open(self, O_RDONLY | O_CLOEXEC);
	if (ro < 0)
		pr_perror("deleted file %s: cannot reopen it", path);
	close(fd);
	return ro;
}

/* The entry of ghost @k opened with O_TMPFILE, or NULL (a second one fails in ghost_open). */
static const RegFileEntry *tmpfile_of(const struct reg_rst *rr, size_t k)
{
	size_t i;

	for (i = 0; i < rr->nr; i++)
		if (rr->e[i]->has_ghost_id && rr->e[i]->ghost_id == k + 1 &&
		    (rr->e[i]->flags & TMPFILE_BIT))
			return rr->e[i];
	return NULL;
}

/*
 * An unnamed temporary file again, in the directory of "DIR/#INO" (@path),
 * with the dumped open's flags; @fd gets a read-write open of it to fill.
 */
static int tmpfile_create(size_t k, const RegFileEntry *rf, const char *path, int *fd)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX], self[64];

	snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	tmp_desc[k] = open(dir, (int)(rf->flags & GHOST_TMPFILE_FLAGS) | O_CLOEXEC, 0600);
	if (tmp_desc[k] < 0) {
		pr_perror("unnamed temporary file of %s: cannot make it again", dir);
		return -1;
	}
	snprintf(self, sizeof(self), "/proc/self/fd/%d", tmp_desc[k]);
	*fd = open(self, O_RDWR | O_CLOEXEC);
	if (*fd < 0)
		pr_perror("unnamed temporary file of %s: cannot open it to fill it", dir);
	return *fd < 0 ? -1 : 0;
}

static int ghost_create(struct reg_rst *rr, size_t k, const char *path)
{
	const GhostFileEntry *e = rr->g.e[k];
	const RegFileEntry *tmp = tmpfile_of(rr, k);
	bool linked = false;
	int fd = -1;

	if (make_parents(path))
		return -1;
	if (S_ISDIR(e->mode)) {	/* its attributes once all inside it are made */
		made[k] = dir_create(path);
		return made[k] < 0 ? -1 : 0;
	}
	if (tmp ? tmpfile_create(k, tmp, path, &fd) : (fd = create_at(path, &linked)) < 0)
		return -1;
	if (fdata_fill(path, fd, img_raw_fd(rr->g.raw), e->data, e->size) ||
	    set_attrs(e, fd, path)) {
		if (linked && unlink_ours(path, fd))
			pr_warn("left %s behind", path);
		close(fd);
		return -1;
	}
	if (linked && unlink_ours(path, fd)) {
		close(fd);
		return -1;
	}
	pr_info("deleted file %s: ghost %u created%s", path, e->id,
		tmp ? " as an unnamed temporary file" : linked ? "" : " nameless");
	made[k] = keep_readonly(fd, path);
	return made[k] < 0 ? -1 : 0;
}

/* The table of made ghosts, sized for @g's. */
static int made_table(const struct ghost_rst *g)
{
	if (made && nr_made == g->nr)
		return 0;
	if (made) {
		pr_err("ghosts of two different dumps in one restore");
		return -1;
	}
	made = fdata_fds_new(g->nr);
	tmp_desc = made ? fdata_fds_new(g->nr) : NULL;
	if (!tmp_desc) {
		free(made);
		made = NULL;
		return -1;
	}
	nr_made = g->nr;
	return 0;
}

/* Ghost @k of @rr, made now if it is not yet. */
static int ghost_fd(struct reg_rst *rr, size_t k, const char *path)
{
	if (made_table(&rr->g))
		return -1;
	if (made[k] < 0 && ghost_create(rr, k, path))
		return -1;
	return made[k];
}

int rst_ghosts_create(const struct fd_rst *r)
{
	struct reg_rst *rr = r->priv[FD_KIND__FD_REG];
	size_t i;
	int ret = 0;

	for (i = 0; !ret && rr && i < rr->nr; i++)
		if (rr->e[i]->has_ghost_id &&
		    ghost_fd(rr, rr->e[i]->ghost_id - 1, rr->e[i]->path) < 0)
			ret = -1;
	if (remove_made_dirs())
		ret = -1;
	for (i = 0; !ret && rr && i < rr->nr; i++) {
		const GhostFileEntry *e;

		if (!rr->e[i]->has_ghost_id)
			continue;
		e = rr->g.e[rr->e[i]->ghost_id - 1];	/* checked by ghost_check() */
		if (S_ISDIR(e->mode) && set_attrs(e, made[e->id - 1], rr->e[i]->path))
			ret = -1;
	}
	return ret;
}

void rst_ghosts_close(void)
{
	fdata_fds_free(made, nr_made);
	fdata_fds_free(tmp_desc, nr_made);
	made = tmp_desc = NULL;
	nr_made = 0;
}

int ghost_open(const struct fd_rst *r, const RegFileEntry *rf, int flags)
{
	struct reg_rst *rr = r->priv[FD_KIND__FD_REG];
	int gfd = ghost_fd(rr, rf->ghost_id - 1, rf->path);	/* id checked by ghost_check() */
	char self[64];
	int fd;

	if (gfd < 0)
		return -1;
	if (rf->flags & TMPFILE_BIT) {
		/* the O_TMPFILE open itself: one object, opened once */
		fd = tmp_desc[rf->ghost_id - 1];
		tmp_desc[rf->ghost_id - 1] = -1;
		if (fd < 0)
			pr_err("unnamed temporary file %s: its O_TMPFILE open was handed out already",
			       rf->path);
		return fd;
	}
	snprintf(self, sizeof(self), "/proc/self/fd/%d", gfd);
	fd = open(self, flags | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		pr_perror("deleted file %s: cannot open it again", rf->path);
	return fd;
}

void ghost_rst_free(struct ghost_rst *g)
{
	if (g->raw)
		img_close(g->raw);
	img_free_all((ProtobufCMessage **)g->e, g->nr);
	memset(g, 0, sizeof(*g));
}
