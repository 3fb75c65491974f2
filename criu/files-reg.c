/*
 * Regular files, directories, memory character devices and terminals other
 * than ptys (/dev/tty, consoles): four fd kinds keeping their objects in
 * reg-files.img (images/files.proto). Ptys are criu/files-pty.c's.
 *
 * Dump: the path the /proc link names must still lead to the same inode.
 * A file renamed since it was opened is found under its new name, which
 * the link shows. A deleted regular file becomes a ghost (files-ghost.c);
 * a deleted file with other names left, and a path leading elsewhere, are
 * refused. O_PATH fds of any file type are kept as paths (FD_PATH).
 * Restore: the path is opened again and must be the same file
 * (dev/ino, rdev for devices), or the ghost is reopened; regular files and
 * directories get their position back. The terminal (--shell-job) is criu's own.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <linux/magic.h>

#define LOG_PREFIX "files: "
#include "log.h"
#include "dump.h"
#include "files.h"
#include "files-reg.h"
#include "files-locks.h"
#include "image.h"
#include "restore.h"

#define DELETED_SUFFIX " (deleted)"

/* open(2) flags we reproduce; creation flags make no sense on restore. */
#define REOPEN_FLAGS	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME | \
			 O_SYNC | O_DSYNC | O_LARGEFILE | O_DIRECTORY | O_PATH)

/* ---- dump ------------------------------------------------------------------ */

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + ts->tv_nsec;
}

int dump_files_add(struct dump_files *f, const char *path, const struct stat *stb,
		   unsigned int flags, uint64_t pos, uint32_t *id)
{
	RegFileEntry *e;

	if (f->nr == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 16;
		RegFileEntry **n = realloc(f->e, cap * sizeof(*n));

		if (!n)
			return -1;
		f->e = n;
		f->cap = cap;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -1;
	reg_file_entry__init(e);
	e->path = strdup(path);
	if (!e->path) {
		free(e);
		return -1;
	}
	e->id = fd_obj_id(f);
	e->flags = flags;
	e->pos = pos;
	e->mode = stb->st_mode;
	e->has_size = e->has_dev = e->has_ino = e->has_mtime_ns = true;
	e->size = stb->st_size;
	e->dev = stb->st_dev;
	e->ino = stb->st_ino;
	e->mtime_ns = ts_ns(&stb->st_mtim);
	if (S_ISCHR(stb->st_mode)) {
		e->has_rdev = true;
		e->rdev = stb->st_rdev;
	}
	f->e[f->nr++] = e;
	*id = e->id;
	return 0;
}

static bool has_deleted_suffix(const char *path)
{
	size_t len = strlen(path), sl = strlen(DELETED_SUFFIX);

	return len > sl && !strcmp(path + len - sl, DELETED_SUFFIX);
}

/*
 * The path a link names must still lead to the same file, or a restore
 * would open something else. A renamed file is fine: the link names it by
 * its new name. Deleted files are the callers' (ghosts) or refused here.
 */
int dump_check_path(const char *what, const char *path, const struct stat *stb)
{
	char in_ns[PATH_MAX + 64];
	struct stat now;

	if (path[0] != '/') {
		pr_err("%s: path '%s' is not supported yet", what, path);
		return -1;
	}
	if (!stat(dump_mntns_path(path, in_ns, sizeof(in_ns)), &now) && now.st_dev == stb->st_dev && now.st_ino == stb->st_ino)
		return 0;	/* even if its name really ends in " (deleted)" */
	if (has_deleted_suffix(path) && stb->st_nlink > 0) {
		pr_err("%s: %s was unlinked but the file keeps %lu other name(s), which /proc does not "
		       "tell; such files are not supported yet", what, path, (unsigned long)stb->st_nlink);
		return -1;
	}
	if (has_deleted_suffix(path)) {
		pr_err("%s: deleted %s %s is not supported yet", what,
		       S_ISDIR(stb->st_mode) ? "directory" : "file", path);
		return -1;
	}
	pr_err("%s: %s no longer leads to the file that was opened (another mount or a file put "
	       "over it); not supported yet", what, path);
	return -1;
}

static bool is_tty(const struct fd_probe *p)
{
	unsigned int ma = major(p->st.st_rdev), mi = minor(p->st.st_rdev);

	if (!S_ISCHR(p->st.st_mode))
		return false;
	if (ma >= 137 && ma <= 143)		/* old pts majors; 136 is FD_PTY's */
		return true;
	if (ma == 4)				/* virtual consoles, serial */
		return true;
	return ma == 5 && (mi == 0 || mi == 1);	/* /dev/tty, /dev/console */
}

static bool reg_match(const struct fd_probe *p)
{
	return S_ISREG(p->st.st_mode);
}

static bool dir_match(const struct fd_probe *p)
{
	return S_ISDIR(p->st.st_mode);
}

/* /dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom, ... */
static bool chr_match(const struct fd_probe *p)
{
	return S_ISCHR(p->st.st_mode) && major(p->st.st_rdev) == 1;
}

/* The deleted regular file of @p becomes a ghost. */
static int reg_ghost(struct dump_files *d, struct fd_probe *p, uint32_t *id)
{
	char name[16];
	int src, ret;

	snprintf(name, sizeof(name), "%d", p->fd);
	src = openat(p->procfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	ret = ghost_add_file(d, p->o, p->imgdir, src, p->link, &p->st, p->fi.flags & ~O_CLOEXEC,
			     p->fi.pos < 0 ? 0 : (uint64_t)p->fi.pos, id);
	if (src >= 0)
		close(src);
	return ret;
}

/*
 * A directory's position is the file system's cookie for the next entry
 * (telldir). Where the cookie alone says where the listing goes on (ext4:
 * a hash of the next name, or a byte offset in an unindexed directory;
 * tmpfs: the next entry's fixed offset), a fresh open put there with lseek
 * reads exactly what the dumped fd would have. Elsewhere (a cursor kept
 * in the open file, as devpts and other simple file systems do) it is
 * refused; position 0 is the start everywhere.
 */
static int check_dir_pos(struct fd_probe *p)
{
	struct statfs sf;
	int fd;

	if (p->fi.pos <= 0 || (p->fi.flags & O_PATH))
		return 0;
	fd = fd_probe_local(p);
	if (fd < 0)
		return -1;
	if (fstatfs(fd, &sf)) {
		pr_perror("fd %d: statfs of %s", p->fd, p->link);
		return -1;
	}
	if (sf.f_type == EXT4_SUPER_MAGIC || sf.f_type == TMPFS_MAGIC)
		return 0;
	pr_err("fd %d: position in the listing of directory %s (%lld, file system %#llx) is not "
	       "supported yet", p->fd, p->link, (long long)p->fi.pos, (unsigned long long)sf.f_type);
	return -1;
}

/*
 * A file under /proc/PID of the holder itself comes back: the restored
 * process exists with that pid when it (or an ancestor, for a shared one)
 * opens it. Another process's is refused: a child is made after the
 * objects its parent opens, a thread after every object, and a process
 * outside the dump may be another one by then.
 */
static int check_proc_pid(const struct fd_probe *p)
{
	struct stat proc;
	unsigned long pid, tid;
	char *end;

	if (strncmp(p->link, "/proc/", 6) || stat("/proc", &proc) || proc.st_dev != p->st.st_dev)
		return 0;
	pid = strtoul(p->link + 6, &end, 10);
	if (end == p->link + 6 || (*end && *end != '/'))
		return 0;	/* /proc/meminfo, /proc/sys/...: no process's */
	tid = pid;
	if (!strncmp(end, "/task/", 6))
		tid = strtoul(end + 6, &end, 10);
	if (pid == (unsigned long)p->pid && tid == pid)
		return 0;
	pr_err("fd %d: %s, a file of another process's or thread's /proc directory: not "
	       "supported yet", p->fd, p->link);
	return -1;
}

/* Unlinked from the name its fd shows, linked elsewhere still. */
static bool unlinked_linked(const struct fd_probe *p)
{
	struct stat now;

	return S_ISREG(p->st.st_mode) && p->st.st_nlink > 0 && has_deleted_suffix(p->link) &&
	       p->link[0] == '/' && (stat(p->link, &now) || now.st_dev != p->st.st_dev ||
				     now.st_ino != p->st.st_ino);
}

/*
 * A link remap the restore links back and later removes: only a name of
 * the dump's own making (ours, DIR/.criu-link-remap.INO, or the established
 * tool's, DIR/link_remap.N) in the file's own directory, so an image cannot
 * make criu link or unlink anything else.
 */
bool link_remap_name_ok(const char *path, const char *link)
{
	const char *ps = strrchr(path, '/'), *ls = strrchr(link, '/');
	const char *base = ls ? ls + 1 : "";

	if (!ps || !ls || ps - path != ls - link || strncmp(path, link, (size_t)(ps - path)) ||
	    strnlen(link, PATH_MAX) >= PATH_MAX)
		return false;
	if (!strncmp(base, ".criu-link-remap.", 17))
		base += 17;
	else if (!strncmp(base, "link_remap.", 11))
		base += 11;
	else
		return false;
	if (!*base)
		return false;
	for (; *base; base++)
		if (*base < '0' || *base > '9')
			return false;
	return true;
}

/* A name this dump made, to be taken back if the dump fails. */
static int remember_made_link(struct dump_files *d, const char *link)
{
	char **v = realloc(d->made_links, (d->nr_made_links + 1) * sizeof(*v));

	if (v)
		d->made_links = v;
	if (!v || !(v[d->nr_made_links] = strdup(link))) {
		pr_err("out of memory");
		return -1;
	}
	d->nr_made_links++;
	return 0;
}

/* The dump failed: the names it made for --link-remap go (a name found made is kept). */
void dump_files_unlink_made(struct dump_files *d)
{
	size_t i;

	for (i = 0; i < d->nr_made_links; i++)
		if (unlink(d->made_links[i]) && errno != ENOENT)
			pr_perror("cannot remove the link remap %s", d->made_links[i]);
}

/*
 * --link-remap: such a file gets one more name, DIR/.criu-link-remap.INO
 * beside the one it lost (the fs keeps it until a restore of the dump),
 * which the restore opens it through. /proc tells no other name.
 */
static int reg_link_remap(struct dump_files *d, struct fd_probe *p, uint32_t *id)
{
	size_t l = strlen(p->link) - strlen(DELETED_SUFFIX);
	char path[PATH_MAX], link[PATH_MAX + 48], name[16];
	const char *slash;
	struct stat st;

	if (l >= sizeof(path)) {
		pr_err("fd %d: path too long: %.100s", p->fd, p->link);
		return -1;
	}
	memcpy(path, p->link, l);
	path[l] = '\0';
	slash = strrchr(path, '/');
	snprintf(link, sizeof(link), "%.*s/.criu-link-remap.%llu", (int)(slash - path), path,
		 (unsigned long long)p->st.st_ino);
	snprintf(name, sizeof(name), "%d", p->fd);
	if (linkat(p->procfd, name, AT_FDCWD, link, AT_SYMLINK_FOLLOW)) {
		if (errno != EEXIST) {
			pr_perror("fd %d: cannot link the unlinked file %s as %s", p->fd, p->link, link);
			return -1;
		}
	} else if (remember_made_link(d, link)) {
		unlink(link);
		return -1;
	}
	if (lstat(link, &st) || st.st_dev != p->st.st_dev || st.st_ino != p->st.st_ino) {
		pr_err("fd %d: %s is another file: cannot link %s there", p->fd, link, p->link);
		return -1;
	}
	if (dump_files_add(d, path, &p->st, p->fi.flags & ~O_CLOEXEC,
			   p->fi.pos < 0 ? 0 : (uint64_t)p->fi.pos, id))
		return -1;
	d->e[d->nr - 1]->link_remap = strdup(link);
	if (!d->e[d->nr - 1]->link_remap) {
		pr_err("out of memory");
		return -1;
	}
	pr_info("fd %d: unlinked file %s linked as %s", p->fd, path, link);
	return 0;
}

static int reg_dump(struct dump_files *d, struct fd_probe *p, uint32_t *id)
{
	char what[32];

	snprintf(what, sizeof(what), "fd %d", p->fd);
	if (check_proc_pid(p))
		return -1;
	if (p->o->link_remap && unlinked_linked(p))
		return reg_link_remap(d, p, id);
	if ((S_ISREG(p->st.st_mode) || S_ISDIR(p->st.st_mode)) && p->st.st_nlink == 0)
		return reg_ghost(d, p, id);	/* a deleted file or directory */
	if (dump_check_path(what, p->link, &p->st) || (S_ISDIR(p->st.st_mode) && check_dir_pos(p)))
		return -1;
	return dump_files_add(d, p->link, &p->st, p->fi.flags & ~O_CLOEXEC,
			      p->fi.pos < 0 ? 0 : (uint64_t)p->fi.pos, id);
}

/*
 * An O_PATH fd opens nothing but a path, whatever the file type (FIFO,
 * socket, device, symlink with O_NOFOLLOW): it is kept as a path, checked
 * like any other, without lstat following a symlink it names.
 */
static bool path_match(const struct fd_probe *p)
{
	return (p->fi.flags & O_PATH) && p->link[0] == '/';
}

static int path_dump(struct dump_files *d, struct fd_probe *p, uint32_t *id)
{
	struct stat now;

	if (!S_ISLNK(p->st.st_mode))
		return reg_dump(d, p, id);
	if (lstat(p->link, &now) || now.st_dev != p->st.st_dev || now.st_ino != p->st.st_ino) {
		pr_err("fd %d: symlink %s is gone or another one now: not supported yet", p->fd,
		       p->link);
		return -1;
	}
	return dump_files_add(d, p->link, &p->st, p->fi.flags & ~O_CLOEXEC, 0, id);
}

static int tty_dump(struct dump_files *d, struct fd_probe *p, uint32_t *id)
{
	if (!p->o->shell_job) {
		pr_err("fd %d is the terminal %s: a shell job, needs --shell-job", p->fd, p->link);
		return -1;
	}
	return dump_files_add(d, p->link, &p->st, p->fi.flags & ~O_CLOEXEC, 0, id);
}

static int reg_write(struct dump_files *d, int dirfd)
{
	size_t i;
	struct cr_img *img = img_create(dirfd, IMG_REG_FILES, 0);

	if (!img)
		return -1;
	for (i = 0; i < d->nr; i++)
		if (img_write_entry(img, &d->e[i]->base)) {
			img_abort(img);
			return -1;
		}
	if (img_commit(img))
		return -1;
	return ghost_write(d, dirfd);
}

static void reg_free(struct dump_files *f)
{
	size_t i;

	ghost_free(f);
	for (i = 0; i < f->nr; i++) {
		free(f->e[i]->path);
		free(f->e[i]);
	}
	free(f->e);
	f->e = NULL;
	f->nr = f->cap = 0;
}

/* ---- restore ----------------------------------------------------------------- */

static int check_reg_file(const ProtobufCMessage *m, void *ctx)
{
	const RegFileEntry *rf = (const RegFileEntry *)m;
	struct fd_rst *r = ctx;
	struct reg_rst *rr = r->priv[FD_KIND__FD_REG];
	size_t n = strnlen(rf->path, PATH_MAX);

	if (rr->nr >= RST_MAX_REG_FILES) {
		pr_err("reg-files.img: more than %d entries", RST_MAX_REG_FILES);
		return -1;
	}
	if (rf->path[0] != '/' || n >= PATH_MAX) {
		pr_err("reg-files.img: path is not absolute or too long: '%.100s'", rf->path);
		return -1;
	}
	if (rf->link_remap && (rf->has_ghost_id || !S_ISREG(rf->mode) ||
			       !link_remap_name_ok(rf->path, rf->link_remap))) {
		pr_err("reg-files.img: %s: a link remap of a ghost or no regular file, or not a "
		       "link remap name beside it: '%.100s'", rf->path, rf->link_remap);
		return -1;
	}
	if (!rf->has_ghost_id && (rf->flags & TMPFILE_BIT)) {
		pr_err("reg-files.img: %s: an O_TMPFILE open of a file with a name", rf->path);
		return -1;
	}
	if ((rf->has_ghost_id && ghost_check(&rr->g, rf)) || rst_locks_check(rf))
		return -1;
	return fd_rst_add(r, FD_KIND__FD_REG, rf->id, m);
}

static int reg_read(struct fd_rst *r, int dirfd)
{
	struct reg_rst *rr = calloc(1, sizeof(*rr));

	if (!rr) {
		pr_err("out of memory");
		return -1;
	}
	r->priv[FD_KIND__FD_REG] = rr;
	if (ghost_read(&rr->g, dirfd))
		return -1;
	if (faccessat(dirfd, "reg-files.img", F_OK, 0) && errno == ENOENT)
		return 0;	/* a task with no files at all */
	return img_read_all(dirfd, IMG_REG_FILES, 0, 0, check_reg_file, r,
			    (ProtobufCMessage ***)&rr->e, &rr->nr);
}

static void reg_rst_free(struct fd_rst *r)
{
	struct reg_rst *rr = r->priv[FD_KIND__FD_REG];

	if (!rr)
		return;
	img_free_all((ProtobufCMessage **)rr->e, rr->nr);
	ghost_rst_free(&rr->g);
	free(rr);
	r->priv[FD_KIND__FD_REG] = NULL;
}

static int mode_check(const FdEntry *fe, const struct fd_obj *o, mode_t type)
{
	const RegFileEntry *rf = (const RegFileEntry *)o->e;

	if ((rf->mode & S_IFMT) != type) {
		pr_err("fds: fd %u (%s) names %s of mode %o", fe->fd, fd_kind_str(fe->kind),
		       rf->path, rf->mode);
		return -1;
	}
	return 0;
}

static int reg_check(const struct fd_rst *r, const FdEntry *fe, const struct fd_obj *o)
{
	(void)r;
	return mode_check(fe, o, S_IFREG);
}

static int dir_check(const struct fd_rst *r, const FdEntry *fe, const struct fd_obj *o)
{
	(void)r;
	return mode_check(fe, o, S_IFDIR);
}

static int chr_check(const struct fd_rst *r, const FdEntry *fe, const struct fd_obj *o)
{
	(void)r;
	return mode_check(fe, o, S_IFCHR);
}

int rst_reopen(int pathfd, int flags, const char *what)
{
	char proc[64];
	int fd;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pathfd);
	fd = open(proc, (flags & ~(O_PATH | O_NOFOLLOW)) | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		pr_perror("cannot open %s", what);
	close(pathfd);
	return fd;
}

/*
 * Through its link remap: linked back at its old name for the open (the
 * /proc link names it so again), which is removed at once, as the task
 * had it. A name taken meanwhile fails the restore.
 */
static int link_remap_open(const RegFileEntry *rf, int flags, bool content_matters)
{
	struct stat a, b;
	int fd;

	if (linkat(AT_FDCWD, rf->link_remap, AT_FDCWD, rf->path, 0)) {
		pr_perror("%s: cannot link it back from %s%s", rf->path, rf->link_remap,
			  errno == EEXIST ? " (its old name is taken now)" : "");
		return -1;
	}
	fd = open(rf->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &a) || lstat(rf->path, &b) || a.st_dev != b.st_dev ||
	    a.st_ino != b.st_ino || unlink(rf->path)) {
		pr_perror("%s: cannot open it through its link back and unlink that", rf->path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (rst_check_file_identity(rf, fd, content_matters)) {
		close(fd);
		return -1;
	}
	return rst_reopen(fd, flags, rf->path);
}

int rst_link_remaps_remove(const struct fd_rst *r)
{
	const struct reg_rst *rr = r->priv[FD_KIND__FD_REG];
	size_t i;
	int ret = 0;

	for (i = 0; rr && i < rr->nr; i++)
		if (rr->e[i]->link_remap && unlink(rr->e[i]->link_remap) && errno != ENOENT) {
			pr_perror("cannot remove the link remap %s", rr->e[i]->link_remap);
			ret = -1;
		}
	return ret;
}

int rst_reg_open(const struct fd_rst *r, const RegFileEntry *rf, int flags, bool content_matters)
{
	int fd;

	if (rf->has_ghost_id)
		return ghost_open(r, rf, flags);
	if (rf->link_remap)
		return link_remap_open(rf, flags, content_matters);
	/*
	 * Look before opening: an O_PATH descriptor opens nothing (no FIFO
	 * to block on, no device to wake), is checked, and only then is the
	 * very same inode opened for real through it.
	 */
	fd = open(rf->path, (flags & (O_PATH | O_NOFOLLOW | O_DIRECTORY)) | O_PATH | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("cannot open %s", rf->path);
		return -1;
	}
	if (rst_check_file_identity(rf, fd, content_matters)) {
		close(fd);
		return -1;
	}
	return (flags & O_PATH) ? fd : rst_reopen(fd, flags, rf->path);
}

static int reg_open(struct fd_rst *r, const struct fd_obj *o, const struct cr_options *opt)
{
	const RegFileEntry *rf = (const RegFileEntry *)o->e;
	int fd = rst_reg_open(r, rf, (int)(rf->flags & REOPEN_FLAGS), false);

	(void)opt;
	if (fd < 0)
		return -1;
	/* a directory's position is its file system's cookie (checked at dump) */
	if ((S_ISREG(rf->mode) || (S_ISDIR(rf->mode) && rf->pos)) && !(rf->flags & O_PATH) &&
	    lseek(fd, (off_t)rf->pos, SEEK_SET) != (off_t)rf->pos) {
		pr_perror("cannot seek %s to %llu", rf->path, (unsigned long long)rf->pos);
		close(fd);
		return -1;
	}
	if (rst_locks_take(rf, fd)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* In the task: its own POSIX locks, now that the fds are in place. */
static int reg_post(const struct fd_rst *r, const FdEntry *fe, const struct fd_obj *o,
		    char *why, size_t len)
{
	(void)r;
	return rst_locks_posix((const RegFileEntry *)o->e, (int)fe->fd, why, len);
}

static int path_check(const struct fd_rst *r, const FdEntry *fe, const struct fd_obj *o)
{
	const RegFileEntry *rf = (const RegFileEntry *)o->e;

	(void)r;
	if (!(rf->flags & O_PATH) || rf->n_locks) {
		pr_err("fds: fd %u (O_PATH) names %s, open without O_PATH or locked", fe->fd,
		       rf->path);
		return -1;
	}
	return 0;
}

static int path_open(struct fd_rst *r, const struct fd_obj *o, const struct cr_options *opt)
{
	const RegFileEntry *rf = (const RegFileEntry *)o->e;

	(void)opt;
	return rst_reg_open(r, rf, (int)(rf->flags & (O_PATH | O_NOFOLLOW | O_DIRECTORY)), false);
}

/* The task goes onto criu's terminal (--shell-job) in place of @what. */
int rst_shell_tty_open(const char *what, const struct cr_options *opt)
{
	int fd;

	if (!opt->shell_job) {
		pr_err("%s is a terminal: restore with --shell-job to put the task on criu's terminal",
		       what);
		return -1;
	}
	fd = isatty(STDIN_FILENO) ? fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3) :
		open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		pr_perror("--shell-job: criu has no terminal for %s", what);
	return fd;
}

static int tty_open(struct fd_rst *r, const struct fd_obj *o, const struct cr_options *opt)
{
	(void)r;
	return rst_shell_tty_open(((const RegFileEntry *)o->e)->path, opt);
}

const struct fd_ops fd_reg_ops = {
	.kind = FD_KIND__FD_REG, .name = "regular file",
	.match = reg_match, .dump = reg_dump, .write = reg_write, .free = reg_free,
	.read = reg_read, .check = reg_check, .open = reg_open, .post = reg_post,
	.rst_free = reg_rst_free,
};

const struct fd_ops fd_dir_ops = {
	.kind = FD_KIND__FD_DIR, .name = "directory", .store = FD_KIND__FD_REG,
	.match = dir_match, .dump = reg_dump,
	.check = dir_check, .open = reg_open, .post = reg_post,
};

const struct fd_ops fd_chr_ops = {
	.kind = FD_KIND__FD_CHR, .name = "memory device", .store = FD_KIND__FD_REG,
	.match = chr_match, .dump = reg_dump,
	.check = chr_check, .open = reg_open,
};

const struct fd_ops fd_path_ops = {
	.kind = FD_KIND__FD_PATH, .name = "O_PATH file", .store = FD_KIND__FD_REG,
	.match = path_match, .dump = path_dump,
	.check = path_check, .open = path_open,
};

const struct fd_ops fd_tty_ops = {
	.kind = FD_KIND__FD_TTY, .name = "terminal", .store = FD_KIND__FD_REG,
	.match = is_tty, .dump = tty_dump,
	.check = chr_check, .open = tty_open,
};
