/*
 * Dump: open files. Every descriptor of the task becomes an fd_entry that
 * names a reg_file_entry; descriptors sharing one open file description
 * (dup, fork) share the entry, found with kcmp(KCMP_FILE). cwd, root, the
 * exe and mapped files get entries too. Anything that is not a regular
 * file, a directory, a memory character device or (with --shell-job) the
 * terminal is refused before the task is touched.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <linux/kcmp.h>

#define LOG_PREFIX "dump: "
#include "log.h"
#include "dump.h"
#include "image.h"

#define DELETED_SUFFIX " (deleted)"

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
	e->id = f->id_base + (uint32_t)f->nr + 1;
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

void dump_files_free(struct dump_files *f)
{
	size_t i;

	for (i = 0; i < f->nr; i++) {
		free(f->e[i]->path);
		free(f->e[i]);
	}
	free(f->e);
	free(f->fd);
	memset(f, 0, sizeof(*f));
}

/* readlink of a /proc link into @buf; -1 logged on failure. */
static int read_link(const char *link, char *buf, size_t len)
{
	ssize_t n = readlink(link, buf, len - 1);

	if (n < 0) {
		pr_perror("can't readlink %s", link);
		return -1;
	}
	if ((size_t)n >= len - 1) {
		pr_err("%s: target too long", link);
		return -1;
	}
	buf[n] = '\0';
	return 0;
}

/*
 * The path a link names must still lead to the same file, or a restore
 * would open something else: deleted and replaced files are refused.
 */
static int check_path(const char *what, const char *path, const struct stat *stb)
{
	size_t len = strlen(path), sl = strlen(DELETED_SUFFIX);
	struct stat now;

	if (path[0] != '/') {
		pr_err("%s: path '%s' is not supported yet", what, path);
		return -1;
	}
	if (len > sl && !strcmp(path + len - sl, DELETED_SUFFIX)) {
		pr_err("%s: deleted file %s is not supported yet", what, path);
		return -1;
	}
	if (stat(path, &now) || now.st_dev != stb->st_dev || now.st_ino != stb->st_ino) {
		pr_err("%s: %s was replaced or moved since it was opened; "
		       "such files are not supported yet", what, path);
		return -1;
	}
	return 0;
}

/* Name of a kind we refuse, for the message. */
static void fd_kind_name(const char *link, const struct stat *stb, char *buf, size_t len)
{
	const char *br = strstr(link, ":[");

	if (!strncmp(link, "anon_inode:", 11))
		snprintf(buf, len, "%s", link);
	else if (br && link[0] != '/')
		snprintf(buf, len, "%.*s", (int)(br - link), link);
	else if (S_ISFIFO(stb->st_mode))
		snprintf(buf, len, "fifo");
	else if (S_ISSOCK(stb->st_mode))
		snprintf(buf, len, "socket");
	else if (S_ISBLK(stb->st_mode))
		snprintf(buf, len, "block device");
	else if (S_ISCHR(stb->st_mode))
		snprintf(buf, len, "chr:%u:%u", major(stb->st_rdev), minor(stb->st_rdev));
	else
		snprintf(buf, len, "%s", link);
}

static bool is_tty(const struct stat *stb)
{
	unsigned int ma = major(stb->st_rdev), mi = minor(stb->st_rdev);

	if (!S_ISCHR(stb->st_mode))
		return false;
	if (ma >= 136 && ma <= 143)		/* /dev/pts/N */
		return true;
	if (ma == 4)				/* virtual consoles, serial */
		return true;
	return ma == 5 && (mi == 0 || mi == 1);	/* /dev/tty, /dev/console */
}

/* /dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom, ... */
static bool is_mem_chr(const struct stat *stb)
{
	return S_ISCHR(stb->st_mode) && major(stb->st_rdev) == 1;
}

static int fd_same_file(pid_t pid, int a, int b)
{
	return syscall(SYS_kcmp, pid, pid, KCMP_FILE, a, b) == 0;
}

/* The reg-files entry @id, whichever process of the tree added it. */
static const RegFileEntry *tree_reg_file(const struct dump_tree *tr, uint32_t id)
{
	size_t k;

	for (k = 0; k < tr->nr; k++) {
		const struct dump_files *f = &tr->t[k]->files;

		if (id > f->id_base && id <= f->id_base + f->nr)
			return f->e[id - f->id_base - 1];
	}
	return NULL;
}

/*
 * @fd of @t shares its open file description with a process dumped before
 * (kcmp, tried only on the same file): with its parent, it takes the
 * parent's id and the restore lets the child inherit it (0 and *id set);
 * with another process only, the restore could not share it: refused (-1).
 * 0 and *id 0: shared with nobody before.
 */
static int shared_in_tree(const struct dump_task *t, int fd, const struct stat *stb, uint32_t *id)
{
	const struct dump_tree *tr = t->tree;
	pid_t other = 0;
	size_t k, j;

	*id = 0;
	for (k = 0; tr && k < tr->nr && tr->t[k] != t; k++) {
		const struct dump_task *o = tr->t[k];

		for (j = 0; j < o->files.nr_fd; j++) {
			const FdEntry *pe = &o->files.fd[j];
			const RegFileEntry *rf = tree_reg_file(tr, pe->id);

			if (!rf || rf->dev != stb->st_dev || rf->ino != stb->st_ino ||
			    syscall(SYS_kcmp, o->pid, t->pid, KCMP_FILE, pe->fd, fd) != 0)
				continue;
			if (o->pid == t->ppid) {
				*id = pe->id;
				return 0;
			}
			other = o->pid;
		}
	}
	if (other) {
		pr_err("fd %d of %d shares its open file with %d, which is not its parent: "
		       "not supported yet", fd, t->pid, other);
		return -1;
	}
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static int list_fds(pid_t pid, int **out, size_t *nr)
{
	char path[64];
	struct dirent *de;
	size_t cap = 0;
	int *v = NULL;
	DIR *d;

	*nr = 0;
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!d) {
		pr_perror("can't open %s", path);
		return -1;
	}
	while ((de = readdir(d))) {
		char *end;
		long fd;

		if (de->d_name[0] == '.')
			continue;
		fd = strtol(de->d_name, &end, 10);
		if (*end || fd < 0 || fd > 0x7fffffff)
			continue;
		if (*nr == cap) {
			int *n;

			cap = cap ? 2 * cap : 32;
			n = realloc(v, cap * sizeof(*v));
			if (!n) {
				closedir(d);
				free(v);
				return -1;
			}
			v = n;
		}
		v[(*nr)++] = (int)fd;
	}
	closedir(d);
	if (*nr)
		qsort(v, *nr, sizeof(*v), cmp_int);
	*out = v;
	return 0;
}

int dump_collect_fds(struct dump_task *t)
{
	struct dump_files *f = &t->files;
	int *fds = NULL, ret = -1;
	size_t nr, i, j;

	if (list_fds(t->pid, &fds, &nr))
		return -1;
	f->fd = calloc(nr ? nr : 1, sizeof(*f->fd));
	if (!f->fd)
		goto out;
	for (i = 0; i < nr; i++) {
		char link[64], target[PATH_MAX + 32], kind[PATH_MAX + 32], what[32];
		struct proc_fdinfo fi = { 0 };
		struct stat stb;
		FdEntry *e = &f->fd[f->nr_fd];
		FdKind k;
		uint32_t id = 0;

		snprintf(link, sizeof(link), "/proc/%d/fd/%d", t->pid, fds[i]);
		snprintf(what, sizeof(what), "fd %d", fds[i]);
		if (read_link(link, target, sizeof(target)))
			goto out;
		if (stat(link, &stb)) {
			pr_perror("can't stat %s (%s)", link, target);
			goto out;
		}
		if (S_ISREG(stb.st_mode))
			k = FD_KIND__FD_REG;
		else if (S_ISDIR(stb.st_mode))
			k = FD_KIND__FD_DIR;
		else if (is_tty(&stb) && t->o->shell_job)
			k = FD_KIND__FD_TTY;
		else if (is_tty(&stb)) {
			pr_err("fd %d is the terminal %s: a shell job, needs --shell-job",
			       fds[i], target);
			goto out;
		} else if (is_mem_chr(&stb))
			k = FD_KIND__FD_CHR;
		else {
			fd_kind_name(target, &stb, kind, sizeof(kind));
			pr_err("unsupported fd type %s (fd %d): not supported yet", kind, fds[i]);
			goto out;
		}
		if (k != FD_KIND__FD_TTY && check_path(what, target, &stb))
			goto out;
		if (proc_read_fdinfo(t->pid, fds[i], &fi))
			goto out;
		fd_entry__init(e);
		e->fd = fds[i];
		e->kind = k;
		e->cloexec = !!(fi.flags & O_CLOEXEC);
		/* An fd sharing its open file description with an earlier one. */
		for (j = 0; j < f->nr_fd; j++)
			if (fd_same_file(t->pid, f->fd[j].fd, fds[i])) {
				id = f->fd[j].id;
				break;
			}
		if (!id && (k == FD_KIND__FD_REG || k == FD_KIND__FD_DIR) &&
		    shared_in_tree(t, fds[i], &stb, &id)) {
			proc_fdinfo_free(&fi);
			goto out;
		}
		if (!id && dump_files_add(f, target, &stb, fi.flags & ~O_CLOEXEC,
					  fi.pos < 0 ? 0 : (uint64_t)fi.pos, &id)) {
			proc_fdinfo_free(&fi);
			goto out;
		}
		proc_fdinfo_free(&fi);
		e->id = id;
		f->nr_fd++;
		pr_debug("fd %d: %s kind %d id %u%s", fds[i], target, k, id,
			 e->cloexec ? " cloexec" : "");
	}
	ret = 0;
out:
	free(fds);
	return ret;
}

static int add_link(struct dump_task *t, const char *name, unsigned int flags, uint32_t *id)
{
	char link[64], target[PATH_MAX + 32];
	struct stat stb;

	snprintf(link, sizeof(link), "/proc/%d/%s", t->pid, name);
	if (read_link(link, target, sizeof(target)))
		return -1;
	if (stat(link, &stb)) {
		pr_perror("can't stat %s", link);
		return -1;
	}
	if (check_path(name, target, &stb))
		return -1;
	return dump_files_add(&t->files, target, &stb, flags, 0, id);
}

int dump_collect_fs(struct dump_task *t)
{
	uint32_t id;

	if (add_link(t, "cwd", O_RDONLY | O_DIRECTORY, &id))
		return -1;
	t->core.has_cwd_id = true;
	t->core.cwd_id = id;
	if (add_link(t, "root", O_RDONLY | O_DIRECTORY, &id))
		return -1;
	t->core.has_root_id = true;
	t->core.root_id = id;
	if (add_link(t, "exe", O_RDONLY, &id))
		return -1;
	t->mm.has_exe_file_id = true;
	t->mm.exe_file_id = id;
	return 0;
}

int dump_write_fds(struct dump_task *t)
{
	struct cr_img *img;
	size_t i;

	img = img_create(t->dirfd, IMG_FDS, t->pid);
	if (!img)
		return -1;
	for (i = 0; i < t->files.nr_fd; i++)
		if (img_write_entry(img, &t->files.fd[i].base)) {
			img_abort(img);
			return -1;
		}
	return img_commit(img);
}

int dump_write_reg_files(const struct dump_tree *tr)
{
	struct cr_img *img;
	size_t i, k;

	img = img_create(tr->dirfd, IMG_REG_FILES, 0);
	if (!img)
		return -1;
	for (k = 0; k < tr->nr; k++) {
		const struct dump_files *f = &tr->t[k]->files;

		for (i = 0; i < f->nr; i++)
			if (img_write_entry(img, &f->e[i]->base)) {
				img_abort(img);
				return -1;
			}
	}
	return img_commit(img);
}
