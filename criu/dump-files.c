/*
 * Dump: descriptors. Every descriptor of the task becomes an fd_entry that
 * names an object of its kind (criu/include/files.h); descriptors sharing
 * one open file description (dup, fork) share the object, found with
 * kcmp(KCMP_FILE) among fds on the same inode. cwd, root, the exe and
 * mapped files get reg-files entries too. A descriptor no kind claims is
 * refused before the task is touched.
 */
#include <dirent.h>
#include <search.h>
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
#include "files.h"
#include "files-reg.h"
#include "files-locks.h"
#include "image.h"
#include "tty.h"

/* readlink of a /proc link into @buf; -1 logged on failure. */
static int read_link_at(int dirfd, const char *link, char *buf, size_t len)
{
	ssize_t n = readlinkat(dirfd, link, buf, len - 1);

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

static int read_link(const char *link, char *buf, size_t len)
{
	return read_link_at(AT_FDCWD, link, buf, len);
}

/*
 * /proc/PID/fdinfo/N through the fdinfo directory's fd (no path walk per
 * fd); long ones (epoll, inotify) go through proc_read_fdinfo().
 */
static int read_fdinfo_at(const struct fd_probe *p, int infofd, const char *name,
			  struct proc_fdinfo *fi)
{
	char buf[4096], src[64];
	ssize_t n = -1;
	int fd = openat(infofd, name, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf));
		close(fd);
	}
	if (n < 0) {
		pr_perror("can't read /proc/%d/fdinfo/%s", p->pid, name);
		return -1;
	}
	if ((size_t)n == sizeof(buf))
		return proc_read_fdinfo(p->pid, p->fd, fi);
	snprintf(src, sizeof(src), "/proc/%d/fdinfo/%s", p->pid, name);
	return proc_parse_fdinfo(buf, (size_t)n, src, fi);
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

/*
 * Order of descriptors by open file description: inode, fd kind and the
 * kind's share key first (anon-inode kinds all share one inode; an
 * immutable per-object id such as eventfd-id spares most kcmp calls), then
 * kcmp(KCMP_FILE), which orders files consistently across processes.
 */
static int seen_cmp(const void *a, const void *b)
{
	const struct dump_fd_seen *x = a, *y = b;
	long r;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	r = syscall(SYS_kcmp, x->pid, y->pid, KCMP_FILE, x->fd, y->fd);
	if (r == 0 || r == 1 || r == 2)
		return r == 0 ? 0 : r == 1 ? -1 : 1;
	/* kcmp failed (logged by nobody): never equal, keep a stable order */
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->fd < y->fd ? -1 : x->fd > y->fd;
}

/*
 * The object of an earlier fd sharing @p's open file description, or 0;
 * @p is remembered otherwise. A search tree keeps this O(log n) kcmp calls
 * per fd even for thousands of anon-inode fds, which all share one inode.
 */
static int shared_id(struct dump_files *f, const struct fd_ops *ops, const struct fd_probe *p,
		     struct dump_fd_seen **mine)
{
	struct dump_fd_seen *s = malloc(sizeof(*s)), **found;

	*mine = NULL;
	if (!s) {
		pr_err("out of memory");
		return -1;
	}
	*s = (struct dump_fd_seen){
		.dev = p->st.st_dev, .ino = p->st.st_ino, .pid = p->pid, .fd = p->fd,
		.kind = (uint64_t)ops->kind, .key = ops->share_key ? ops->share_key(p) : 0,
	};
	found = tsearch(s, &f->seen, seen_cmp);
	if (!found) {
		free(s);
		pr_err("out of memory");
		return -1;
	}
	if (*found != s) {
		free(s);
		return (int)(*found)->id;
	}
	*mine = s;
	return 0;
}

/*
 * Signal-driven I/O of the open file description (every kind): owner and
 * signal through criu's copy (nothing in fdinfo shows them), O_ASYNC from
 * fdinfo. Nothing of it set: no fown_entry. Kept with the description's
 * first fd in the tree only: one process sets it again, with its creds.
 */
static int dump_fown(struct fd_probe *p, FdEntry *e)
{
	struct f_owner_ex own = { 0 };
	int fd, sig;

	if (p->fi.flags & O_PATH)
		return 0;	/* opens nothing: no owner, no signal (fcntl says EBADF) */
	fd = fd_probe_local(p);
	if (fd < 0)
		return -1;
	sig = fcntl(fd, F_GETSIG);
	if (sig < 0 || fcntl(fd, F_GETOWN_EX, &own)) {
		pr_perror("fd %d of %d: cannot read its signal owner", p->fd, p->pid);
		return -1;
	}
	if (!own.pid && !sig && !(p->fi.flags & O_ASYNC))
		return 0;
	if (own.pid > 0 && dump_in_pidns()) {
		pr_err("fd %d of %d: a signal owner (F_SETOWN) in a tree with a pid namespace of its own: not supported yet",
		       p->fd, p->pid);
		return -1;
	}
	if (S_ISDIR(p->st.st_mode) && own.pid) {
		/* F_NOTIFY makes its caller the owner; the watch itself shows nowhere */
		pr_err("fd %d of %d: directory %s has a signal owner (%d), as F_NOTIFY sets one: "
		       "its directory notifications cannot be read, not supported yet", p->fd,
		       p->pid, p->link, own.pid);
		return -1;
	}
	e->fown = malloc(sizeof(*e->fown));
	if (!e->fown) {
		pr_err("out of memory");
		return -1;
	}
	fown_entry__init(e->fown);
	e->fown->type = own.pid > 0 ? (uint32_t)own.type : 0;
	e->fown->pid = own.pid > 0 ? (uint32_t)own.pid : 0;
	e->fown->signum = (uint32_t)sig;
	e->fown->async = !!(p->fi.flags & O_ASYNC);
	return 0;
}

/*
 * fdinfo's flags are the file's flags with O_CLOEXEC added when the fd is
 * close-on-exec. open(2) never leaves O_CLOEXEC in a file's flags, but
 * TIOCGPTPEER keeps it there for good: then fdinfo shows O_CLOEXEC whatever
 * the fd's own flag, which nothing else shows from outside the task.
 */
static int check_file_flags(struct fd_probe *p)
{
	int fd, fl;

	if (p->fi.flags & O_PATH)
		return 0;	/* F_GETFL on O_PATH tells nothing more */
	fd = fd_probe_local(p);
	if (fd < 0)
		return -1;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0) {
		pr_perror("fd %d of %d: F_GETFL", p->fd, p->pid);
		return -1;
	}
	if (fl & O_CLOEXEC) {
		pr_err("fd %d of %d (%s) has O_CLOEXEC among its file flags (made by TIOCGPTPEER "
		       "with O_CLOEXEC): whether the fd is close-on-exec cannot be read, not "
		       "supported yet", p->fd, p->pid, p->link);
		return -1;
	}
	return 0;
}

/*
 * The write-life hint (F_SET_RW_HINT) lives in the inode, which the restore
 * makes anew for most kinds (pipes, sockets, ghosts, memfds) and may find
 * evicted from memory for the others: it goes with the description's first
 * fd, as its owner does, and is set again through it.
 */
static int dump_write_hint(struct fd_probe *p, FdEntry *e)
{
	uint64_t hint = RWH_WRITE_LIFE_NOT_SET;
	int fd;

	if (p->fi.flags & O_PATH)
		return 0;	/* fcntl says EBADF */
	fd = fd_probe_local(p);
	if (fd < 0)
		return -1;
	if (fcntl(fd, F_GET_RW_HINT, &hint)) {
		pr_perror("fd %d of %d: F_GET_RW_HINT", p->fd, p->pid);
		return -1;
	}
	e->has_write_hint = hint != RWH_WRITE_LIFE_NOT_SET;
	e->write_hint = hint;
	return 0;
}

/* Link, stat and fdinfo of descriptor p->fd through /proc/PID/fd and fdinfo. */
static int probe_fd(struct fd_probe *p, int infofd)
{
	char link[16];

	snprintf(link, sizeof(link), "%d", p->fd);
	if (read_link_at(p->procfd, link, (char *)p->link, PATH_MAX + 32))
		return -1;
	if (fstatat(p->procfd, link, &p->st, 0)) {
		pr_perror("can't stat /proc/%d/fd/%s (%s)", p->pid, link, p->link);
		return -1;
	}
	return read_fdinfo_at(p, infofd, link, &p->fi);
}

/*
 * The object of @p: an earlier fd's that shares its open file description,
 * or a new one of @ops's kind, with the description's owner and hint in @e.
 */
static int claim(struct dump_files *f, const struct fd_ops *ops, struct fd_probe *p, FdEntry *e,
		 uint32_t *id)
{
	struct dump_fd_seen *seen;
	int ret = shared_id(f, ops, p, &seen);

	if (ret < 0)
		return -1;
	*id = (uint32_t)ret;
	if (!seen)
		return 0;
	/* the first holder (parents come first) sets the owner again */
	if (check_file_flags(p) || dump_fown(p, e) || dump_write_hint(p, e) ||
	    ops->dump(f, p, id)) {
		tdelete(seen, &f->seen, seen_cmp);
		free(seen);
		return -1;
	}
	seen->id = *id;
	return 0;
}

/* Classify fd @fd and give it an object; the probe is released by the caller. */
static int collect_one(struct dump_task *t, struct fd_probe *p, int infofd, FdEntry *e)
{
	char kind[PATH_MAX + 32];
	const struct fd_ops *ops;
	uint32_t id;

	if (probe_fd(p, infofd))
		return -1;
	ops = fd_ops_match(p);
	if (!ops) {
		fd_kind_name(p->link, &p->st, kind, sizeof(kind));
		pr_err("unsupported fd type %s (fd %d): not supported yet", kind, p->fd);
		return -1;
	}
	fd_entry__init(e);
	e->fd = p->fd;
	e->kind = ops->kind;
	e->cloexec = !!(p->fi.flags & O_CLOEXEC);
	if (claim(t->files, ops, p, e, &id))
		return -1;
	e->id = id;
	if (dump_fd_locks(t, p, ops->kind, id))
		return -1;
	pr_debug("fd %d: %s kind %s id %u%s", p->fd, p->link, ops->name, id,
		 e->cloexec ? " cloexec" : "");
	return 0;
}

static int open_pidfd(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (fd < 0)
		pr_perror("pidfd_open %d", pid);
	return fd;
}

static int open_dir(pid_t pid, const char *name)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		pr_perror("can't open %s", path);
	return fd;
}

static void close_probe_dirs(int pidfd, int procfd, int infofd)
{
	if (pidfd >= 0)
		close(pidfd);
	if (procfd >= 0)
		close(procfd);
	if (infofd >= 0)
		close(infofd);
}

/* ---- descriptor tables shared by processes (CLONE_FILES) -------------------- */

static int kcmp_files(pid_t a, pid_t b)
{
	long r = syscall(SYS_kcmp, a, b, KCMP_FILES, 0, 0);

	return r == 0 ? 0 : r == 1 ? -1 : r == 2 ? 1 : 3;
}

static int table_cmp(const void *a, const void *b)
{
	const struct dump_task *x = *(struct dump_task *const *)a, *y = *(struct dump_task *const *)b;
	int r = kcmp_files(x->pid, y->pid);

	/* kcmp failed: never equal (checked again below), a stable order */
	return r != 3 ? r : x->pid < y->pid ? -1 : 1;
}

static bool has_children(const struct dump_tree *tr, pid_t pid)
{
	size_t i;

	for (i = 0; i < tr->nr; i++)
		if (tr->t[i]->ppid == pid)
			return true;
	return false;
}

/*
 * One table shared by the processes @g[0..n): the restore makes the
 * sharers with CLONE_FILES from the one whose parent is not among them,
 * once that one's fds are in place: they must be its children, without
 * children of their own (they would be forked before it, with a table of
 * its own), in its session and in its group or their own.
 */
static int check_table(const struct dump_tree *tr, struct dump_task **g, size_t n)
{
	struct dump_task *owner = NULL;
	size_t i, k;

	for (i = 0; i < n; i++) {
		for (k = 0; k < n && g[k]->pid != g[i]->ppid; k++)
			;
		if (k < n)
			continue;
		if (owner) {
			pr_err("descriptor table shared by %d and %d, which are not parent and child, "
			       "is not supported yet", owner->pid, g[i]->pid);
			return -1;
		}
		owner = g[i];
	}
	for (i = 0; owner && i < n; i++) {
		struct dump_task *m = g[i];
		const char *why = NULL;

		if (m == owner)
			continue;
		if (m->ppid != owner->pid)
			why = "the second is a grandchild of the first";
		else if (has_children(tr, m->pid))
			why = "the child has children of its own";
		else if (m->stat.session != owner->stat.session ||
			 (m->stat.pgrp != owner->stat.pgrp && m->stat.pgrp != m->pid))
			why = "the child is in another session or process group";
		if (why) {
			pr_err("descriptor table shared by %d and %d (%s) is not supported yet",
			       owner->pid, m->pid, why);
			return -1;
		}
		m->files_of = owner->pid;
		pr_info("%d shares the descriptor table of its parent %d", m->pid, owner->pid);
	}
	if (!owner) {	/* a cycle of parents: cannot happen */
		pr_err("descriptor table shared by %d and %d is not supported yet", g[0]->pid, g[1]->pid);
		return -1;
	}
	return 0;
}

/*
 * The process of @v[0..n) (sorted by table) whose table task @tid uses, in
 * @in (NULL: none); -1 if kcmp cannot tell (logged). A task criu may not
 * inspect (EPERM: it holds capabilities criu lacks) counts 1 in @hidden.
 */
static int table_of(struct dump_task **v, size_t n, pid_t tid, struct dump_task **in,
		    unsigned int *hidden)
{
	size_t lo = 0, hi = n;

	*in = NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = kcmp_files(v[mid]->pid, tid);

		if (r == 0) {
			*in = v[mid];
			return 0;
		}
		if (r == 3 && errno == ESRCH)
			return 0;	/* gone meanwhile: it shares nothing now */
		if (r == 3 && errno == EPERM) {
			(*hidden)++;
			return 0;
		}
		if (r == 3) {
			pr_perror("kcmp(KCMP_FILES) of %d and %d", v[mid]->pid, tid);
			return -1;
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* A thread of process @pid, outside the tree, using a table of @v: refused. */
static int check_outside_task(struct dump_task **v, size_t n, pid_t pid, unsigned int *hidden)
{
	char path[64];
	struct dirent *de;
	int ret = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return 0;	/* gone meanwhile */
	while (!ret && (de = readdir(d))) {
		pid_t tid = (pid_t)atoi(de->d_name);
		struct dump_task *in = NULL;

		if (tid > 0 && table_of(v, n, tid, &in, hidden))
			ret = -1;
		else if (in) {
			pr_err("descriptor table of %d is also used by task %d of process %d, "
			       "outside the dump: not supported yet", in->pid, tid, pid);
			ret = -1;
		}
	}
	closedir(d);
	return ret;
}

/*
 * A table that a process outside the tree also uses would come back split
 * (the outsider keeps the old one). Nothing in /proc counts a table's
 * users, so every task on the system is compared with kcmp(KCMP_FILES):
 * threads too, as one may keep a table its leader has unshared. @v is
 * sorted by table: log2(n) calls per task. The tree is frozen, so only an
 * outside sharer can make a new one, and it is found itself (unless it
 * exits between the making and its turn, after the new one's turn).
 */
static int check_outside_sharers(const struct dump_tree *tr, struct dump_task **v, size_t n)
{
	unsigned int hidden = 0;
	struct dirent *de;
	int ret = 0;
	DIR *d;

	if (!n)
		return 0;
	d = opendir("/proc");
	if (!d) {
		pr_perror("can't open /proc");
		return -1;
	}
	while (!ret && (de = readdir(d))) {
		pid_t pid = (pid_t)atoi(de->d_name);

		if (pid > 0 && !dump_tree_find(tr, pid))
			ret = check_outside_task(v, n, pid, &hidden);
	}
	closedir(d);
	if (hidden)
		pr_info("%u tasks with capabilities criu lacks (kcmp: EPERM) could not be "
			"compared with the tree's descriptor tables", hidden);
	return ret;
}

int dump_check_fd_tables(struct dump_tree *tr)
{
	struct dump_task **v = calloc(tr->nr + 1, sizeof(*v));
	size_t n = 0, i, j;
	int ret;

	if (!v) {
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < tr->nr; i++)
		if (!tr->t[i]->zombie)
			v[n++] = tr->t[i];
	qsort(v, n, sizeof(*v), table_cmp);
	ret = check_outside_sharers(tr, v, n);
	for (i = 0; i < n && !ret; i = j) {
		for (j = i + 1; j < n && kcmp_files(v[i]->pid, v[j]->pid) == 0; j++)
			;
		if (j - i > 1)
			ret = check_table(tr, v + i, j - i);
	}
	free(v);
	return ret;
}

int dump_collect_fds(struct dump_task *t)
{
	char target[PATH_MAX + 32];
	int *fds = NULL, ret = -1, pidfd, procfd, infofd;
	size_t nr, i;

	if (dump_pty_note_task(t->files, t->o, t->pid, &t->stat) || list_fds(t->pid, &fds, &nr))
		return -1;
	pidfd = open_pidfd(t->pid);
	procfd = open_dir(t->pid, "fd");
	infofd = open_dir(t->pid, "fdinfo");
	t->fds = calloc(nr ? nr : 1, sizeof(*t->fds));
	if (!t->fds || pidfd < 0 || procfd < 0 || infofd < 0)
		goto out;
	for (i = 0; i < nr; i++) {
		struct fd_probe p = {
			.pid = t->pid, .fd = fds[i], .link = target, .o = t->o,
			.pidfd = pidfd, .procfd = procfd, .local = -1,
			.imgdir = t->dirfd, .shm = t->shm,
		};
		int err;

		if (fds[i] == t->track_fd)
			continue;	/* criu's memory tracking (dump-track.c), not the task's */
		err = collect_one(t, &p, infofd, &t->fds[t->nr_fds]);

		proc_fdinfo_free(&p.fi);
		if (p.local >= 0)
			close(p.local);
		if (err) {
			free(t->fds[t->nr_fds].fown);
			goto out;
		}
		t->nr_fds++;
	}
	ret = dump_check_locks(t);
out:
	close_probe_dirs(pidfd, procfd, infofd);
	free(fds);
	return ret;
}

static int add_link(struct dump_task *t, const char *name, unsigned int flags, uint32_t *id)
{
	char link[64], target[PATH_MAX + 32];
	struct stat stb;
	int src, ret;

	snprintf(link, sizeof(link), "/proc/%d/%s", t->pid, name);
	if (read_link(link, target, sizeof(target)))
		return -1;
	if (stat(link, &stb)) {
		pr_perror("can't stat %s", link);
		return -1;
	}
	if (!S_ISREG(stb.st_mode) || stb.st_nlink)
		return dump_check_path(name, target, &stb) ? -1 :
			dump_files_reuse(t->files, target, &stb, flags, id);
	/* a deleted executable (replaced by an upgrade, say): a ghost */
	src = open(link, O_RDONLY | O_CLOEXEC);
	ret = ghost_add_file(t->files, t->o, t->dirfd, src, target, &stb, flags, 0, id);
	if (src >= 0)
		close(src);
	return ret;
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

int dump_files_reuse(struct dump_files *f, const char *path, const struct stat *stb,
		     unsigned int flags, uint32_t *id)
{
	size_t i;

	for (i = 0; i < f->nr; i++) {
		const RegFileEntry *e = f->e[i];

		if (e->dev == stb->st_dev && e->ino == stb->st_ino && e->flags == flags &&
		    e->pos == 0 && !strcmp(e->path, path)) {
			*id = e->id;
			return 0;
		}
	}
	return dump_files_add(f, path, stb, flags, 0, id);
}

static void inflight_free(struct dump_files *d);

void dump_files_free(struct dump_files *f)
{
	size_t i;

	for (i = 0; i < f->nr_made_links; i++)
		free(f->made_links[i]);
	free(f->made_links);
	fd_kinds_free(f);
	tdestroy(f->seen, free);
	inflight_free(f);
	memset(f, 0, sizeof(*f));
}

int dump_write_fds(struct dump_task *t)
{
	struct cr_img *img = img_create(t->dirfd, IMG_FDS, t->vpid);
	size_t i;

	if (!img)
		return -1;
	for (i = 0; i < t->nr_fds; i++)
		if (img_write_entry(img, &t->fds[i].base)) {
			img_abort(img);
			return -1;
		}
	return img_commit(img);
}

void dump_fds_free(struct dump_task *t)
{
	size_t i;

	for (i = 0; t->fds && i < t->nr_fds; i++)
		free(t->fds[i].fown);
	free(t->fds);
	t->fds = NULL;
}

int dump_write_fd_objects(struct dump_tree *tr)
{
	return fd_kinds_write(&tr->files, tr->dirfd);
}

/* ---- descriptors in flight (SCM_RIGHTS queued on unix sockets) ------------ */

#define DUMP_MAX_INFLIGHT	4096	/* descriptors in flight in one dump */

struct inflight {
	int			fd;		/* criu's copy, open until dump_files_free() */
	uint32_t		*id;		/* where its object's id goes */
	pid_t			pid;		/* the carrier's holder and fd, for messages */
	int			carrier;
	int			imgdir;
	const struct dump_shmems *shm;
	const struct cr_options	*o;
};

struct inflights {
	struct inflight		*v;
	size_t			nr, cap;
};

int dump_inflight_add(struct dump_files *d, const struct fd_probe *carrier, int fd, uint32_t *id)
{
	struct inflights *l = d->inflight;

	if (!l && !(l = d->inflight = calloc(1, sizeof(*l))))
		goto oom;
	if (l->nr == DUMP_MAX_INFLIGHT) {
		pr_err("fd %d of %d: more than %d descriptors in flight (SCM_RIGHTS) in the dump: "
		       "not supported yet", carrier->fd, carrier->pid, DUMP_MAX_INFLIGHT);
		close(fd);
		return -1;
	}
	if (l->nr == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct inflight *n = realloc(l->v, cap * sizeof(*n));

		if (!n)
			goto oom;
		l->v = n;
		l->cap = cap;
	}
	l->v[l->nr++] = (struct inflight){ fd, id, carrier->pid, carrier->fd, carrier->imgdir,
					   carrier->shm, carrier->o };
	return 0;
oom:
	pr_err("out of memory");
	close(fd);
	return -1;
}

static int inflight_one(struct dump_files *d, const struct inflight *x, int pidfd, int procfd,
			int infofd)
{
	char target[PATH_MAX + 32];
	struct fd_probe p = {
		.pid = getpid(), .fd = x->fd, .link = target, .o = x->o, .pidfd = pidfd,
		.procfd = procfd, .local = -1, .imgdir = x->imgdir, .shm = x->shm,
	};
	const struct fd_ops *ops;
	FdEntry e;
	int ret = -1;

	fd_entry__init(&e);
	if (probe_fd(&p, infofd))
		goto out;
	ops = fd_ops_match(&p);
	if (!ops || !fd_inflight_kind(ops->kind)) {
		pr_err("fd %d of %d: a %s (%s) in flight in its queue (SCM_RIGHTS): not supported yet",
		       x->carrier, x->pid, ops ? ops->name : "descriptor", target);
		goto out;
	}
	if (claim(d, ops, &p, &e, x->id))
		goto out;
	if (e.fown || e.has_write_hint) {
		pr_err("fd %d of %d: %s in flight in its queue (SCM_RIGHTS) has a signal owner or a "
		       "write hint that no fd of the dump holds: not supported yet", x->carrier,
		       x->pid, target);
		goto out;
	}
	pr_debug("in flight on fd %d of %d: %s kind %s id %u", x->carrier, x->pid, target,
		 ops->name, *x->id);
	ret = 0;
out:
	free(e.fown);
	proc_fdinfo_free(&p.fi);
	if (p.local >= 0)
		close(p.local);
	return ret;
}

int dump_inflight_resolve(struct dump_files *d)
{
	struct inflights *l = d->inflight;
	int pidfd, procfd, infofd, ret = -1;
	size_t i;

	if (!l || !l->nr)
		return 0;
	pidfd = open_pidfd(getpid());
	procfd = open_dir(getpid(), "fd");
	infofd = open_dir(getpid(), "fdinfo");
	if (pidfd < 0 || procfd < 0 || infofd < 0)
		goto out;
	/* a unix socket in flight may add its own: l->v grows meanwhile */
	for (i = 0; i < l->nr; i++) {
		struct inflight x = l->v[i];

		if (inflight_one(d, &x, pidfd, procfd, infofd))
			goto out;
	}
	ret = 0;
out:
	close_probe_dirs(pidfd, procfd, infofd);
	return ret;
}

static void inflight_free(struct dump_files *d)
{
	struct inflights *l = d->inflight;
	size_t i;

	for (i = 0; l && i < l->nr; i++)
		close(l->v[i].fd);
	if (l)
		free(l->v);
	free(l);
	d->inflight = NULL;
}

/* ---- objects shared by processes ------------------------------------------ */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The ids a process's descriptors name, sorted, each once. */
static uint32_t *task_ids(const struct dump_task *t, size_t *nr)
{
	uint32_t *v = malloc((t->nr_fds + 1) * sizeof(*v));
	size_t i, n = 0;

	if (!v)
		return NULL;
	for (i = 0; i < t->nr_fds; i++)
		v[i] = t->fds[i].id;
	qsort(v, t->nr_fds, sizeof(*v), cmp_u32);
	for (i = 0; i < t->nr_fds; i++)
		if (!n || v[n - 1] != v[i])
			v[n++] = v[i];
	*nr = n;
	return v;
}

/* The thread @tid of a process of the tree other than its leader. */
static bool tree_thread(const struct dump_tree *tr, pid_t tid)
{
	size_t i;
	int k;

	for (i = 0; i < tr->nr; i++)
		for (k = 1; k < tr->t[i]->nr_tids; k++)
			if (tr->t[i]->tids[k] == tid)
				return true;
	return false;
}

static bool tree_group(const struct dump_tree *tr, pid_t pgid)
{
	size_t i;

	for (i = 0; i < tr->nr; i++)
		if (tr->t[i]->stat.pgrp == pgid)
			return true;
	return false;
}

/*
 * The owner of a file's signals is set again in the restored process: it
 * must be a process the restore makes (threads come only later, in the
 * restorer) or the group of one. With --shell-job the root's group becomes
 * criu's, another number.
 */
static int check_owner(const struct dump_tree *tr, const struct dump_task *t, const FdEntry *e)
{
	pid_t who = (pid_t)e->fown->pid;
	const char *what = "process";

	if (!who)
		return 0;
	if (e->fown->type == F_OWNER_PGRP) {
		if (tree_group(tr, who) && !(tr->o->shell_job && who == tr->t[0]->stat.pgrp &&
					     who != tr->t[0]->pid))
			return 0;
		what = "process group";
	} else if (dump_tree_find(tr, who)) {
		return 0;
	} else if (tree_thread(tr, who)) {
		pr_err("fd %u of %d: its signals go to thread %d (F_OWNER_TID), not a process's "
		       "main thread: not supported yet", e->fd, t->pid, who);
		return -1;
	}
	pr_err("fd %u of %d: its signals go to %s %d (F_SETOWN), which the dump does not "
	       "restore: not supported yet", e->fd, t->pid, what, who);
	return -1;
}

/*
 * Objects several processes use are opened once on restore, by their
 * nearest common ancestor, and handed down through the forks: any sharing
 * works, except an epoll set (its targets are registered by fd number in
 * each process that holds it, which would register them twice).
 */
int dump_check_shared_fds(const struct dump_tree *tr)
{
	uint32_t max = tr->files.next_id;
	pid_t *first = calloc((size_t)max + 1, sizeof(*first));
	size_t i, k, j, n;
	int ret = 0;

	if (!first || dump_pidfds_check(tr)) {
		free(first);
		return -1;
	}
	for (i = 0; i < tr->nr && !ret; i++) {
		const struct dump_task *t = tr->t[i];
		uint32_t *ids;

		if (t->files_of)
			continue;	/* its parent's table, restored once */
		ids = task_ids(t, &n);

		if (!ids) {
			ret = -1;
			break;
		}
		for (k = 0; k < t->nr_fds && !ret; k++)
			if (t->fds[k].fown && check_owner(tr, t, &t->fds[k]))
				ret = -1;
		for (k = 0; k < n && !ret; k++) {
			if (ids[k] > max) {
				pr_err("fd object id %u out of range", ids[k]);
				ret = -1;
			} else if (!first[ids[k]]) {
				first[ids[k]] = t->pid;
			} else {
				for (j = 0; j < t->nr_fds && t->fds[j].id != ids[k]; j++)
					;
				if (t->fds[j].kind == FD_KIND__FD_EPOLL) {
					pr_err("an epoll set of %d (fd %u) is also %d's: epoll sets "
					       "shared by processes are not supported yet", t->pid,
					       t->fds[j].fd, first[ids[k]]);
					ret = -1;
				} else if (t->fds[j].kind == FD_KIND__FD_PIDFD &&
					   dump_pidfd_live(tr, ids[k])) {
					pr_err("a pidfd of %d (fd %u) is also %d's: pidfds of live "
					       "processes shared by processes are not supported yet",
					       t->pid, t->fds[j].fd, first[ids[k]]);
					ret = -1;
				}
			}
		}
		free(ids);
	}
	free(first);
	return ret;
}
