/*
 * Dump: the mount namespace of the tree (Documentation/namespaces.md,
 * "Mount namespace").
 *
 * A tree is in criu's mount namespace, or every process of it is in the
 * root's own one. Then its mountinfo becomes the image's mount entries
 * (mnt-entry.h): a mount that criu's namespace has at the same place (same
 * device, root, file system and a parent that is such a mount too) is the
 * host's, which the restore keeps from the copy of criu's namespace it
 * starts with; a tmpfs, proc, sysfs, devpts or mqueue is made anew (a
 * tmpfs with its files, archived with tar from a detached copy of the
 * mount, so nothing mounted on it hides or adds files); any other mount
 * must be a bind of part of an earlier one. What fits none, and any
 * propagation but private, is refused here, with the tree running.
 */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOG_PREFIX "dump: "
#include "log.h"
#include "dump.h"
#include "image.h"
#include "mnt-entry.h"
#include "options.h"
#include "proc_parse.h"

static struct {
	pid_t			root;	/* the tree's root, when in a namespace of its own */
	struct proc_mounts	pm;	/* its mountinfo */
	Est__MntEntry		*e;
	Est__MntEntry		**pe;
	enum mnt_how		*how;
	size_t			n;
} mns;

static int ns_stat(pid_t pid, struct stat *st)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
	if (stat(path, st)) {
		pr_perror("cannot stat %s", path);
		return -1;
	}
	return 0;
}

/* Every live process of the tree in the root's namespace. */
static int same_ns_everywhere(const struct dump_tree *tr, const struct stat *root)
{
	size_t i;

	for (i = 1; i < tr->nr; i++) {
		struct stat st;

		if (tr->t[i]->zombie)
			continue;
		if (ns_stat(tr->t[i]->pid, &st))
			return -1;
		if (st.st_ino != root->st_ino || st.st_dev != root->st_dev) {
			pr_err("%d is in another mount namespace than the tree's root %d: nested/mixed mount namespaces: not supported yet",
			       tr->t[i]->pid, tr->t[0]->pid);
			return -1;
		}
	}
	return 0;
}

/* The index in @host of the same mount as m[i] (parent too), or -1. */
static int host_twin(const struct proc_mounts *host, size_t i, const int *twin)
{
	const struct proc_mount *m = &mns.pm.m[i];
	size_t k, p;

	for (p = 0; i && p < i && mns.pm.m[p].mnt_id != m->parent_id; p++)
		;
	if (i && (p == i || twin[p] < 0))
		return -1;
	for (k = 0; k < host->nr; k++) {
		const struct proc_mount *h = &host->m[k];

		if (h->major == m->major && h->minor == m->minor && !strcmp(h->root, m->root) &&
		    !strcmp(h->mountpoint, m->mountpoint) && !strcmp(h->fstype, m->fstype) &&
		    (i ? h->parent_id == host->m[twin[p]].mnt_id : !strcmp(h->mountpoint, "/")))
			return (int)k;
	}
	return -1;
}

/* A proc made anew belongs to the pid namespace its maker is in: it must be the tree's. */
static int check_proc(const struct proc_mount *m, pid_t vroot)
{
	char a[2 * MNT_MAX_STR], b[64];
	struct stat sa, sb;
	int ok;

	snprintf(a, sizeof(a), "/proc/%d/root%s/%d/ns/pid", mns.root,
		 strcmp(m->mountpoint, "/") ? m->mountpoint : "", vroot);
	snprintf(b, sizeof(b), "/proc/%d/ns/pid", mns.root);
	ok = !stat(a, &sa) && !stat(b, &sb) && sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
	if (!ok)
		pr_err("not supported yet: mount %d (proc at %s) of another pid namespace than the tree's",
		       m->mnt_id, m->mountpoint);
	return ok ? 0 : -1;
}

static int build_entries(const struct proc_mounts *host, pid_t vroot)
{
	int *twin = calloc(mns.pm.nr, sizeof(*twin));
	size_t i;

	mns.e = calloc(mns.pm.nr, sizeof(*mns.e));
	mns.pe = calloc(mns.pm.nr, sizeof(*mns.pe));
	mns.how = calloc(mns.pm.nr, sizeof(*mns.how));
	if (!twin || !mns.e || !mns.pe || !mns.how)
		goto fail;
	for (i = 0; i < mns.pm.nr; i++) {
		const struct proc_mount *m = &mns.pm.m[i];

		if (mnt_from_proc(m, &mns.e[i]))
			goto fail;
		mns.pe[i] = &mns.e[i];
		mns.n = i + 1;
		if (m->propagation & (PROC_MNT_SHARED | PROC_MNT_MASTER | PROC_MNT_UNBINDABLE)) {
			pr_err("not supported yet: mount %d (%s at %s): shared, slave or unbindable propagation",
			       m->mnt_id, m->fstype, m->mountpoint);
			goto fail;
		}
		twin[i] = host_twin(host, i, twin);
		if (twin[i] >= 0) {
			mns.e[i].has_ext_mount = mns.e[i].ext_mount = true;
			mns.e[i].ext_key = MNT_EXT_AUTO;
		} else if (mns.e[i].fstype == EST__FSTYPE__PROC && check_proc(m, vroot)) {
			goto fail;
		}
	}
	free(twin);
	return mnt_check_entries(mns.pe, mns.n, mns.how);
fail:
	free(twin);
	return -1;
}

/* --ext-mount-map KEY:VAL and --skip-mnt would change what is recorded: not built. */
static int check_options(const struct cr_options *o)
{
	unsigned int i;

	for (i = 0; i < o->ext_mount_map.n; i++)
		if (strcmp(o->ext_mount_map.v[i], "auto")) {
			pr_err("--ext-mount-map %s: external mounts by key are not supported yet (auto is what is done)",
			       o->ext_mount_map.v[i]);
			return -1;
		}
	if (o->skip_mnt.n) {
		pr_err("--skip-mnt %s: leaving a mount out of the namespace is not supported yet",
		       o->skip_mnt.v[0]);
		return -1;
	}
	return 0;
}

int dump_mntns_check(struct dump_tree *tr)
{
	struct proc_mounts host = { 0 };
	struct stat self, root;
	int ret;

	if (ns_stat(getpid(), &self) || ns_stat(tr->t[0]->pid, &root))
		return -1;
	if (self.st_ino == root.st_ino && self.st_dev == root.st_dev)
		return 0;
	if (same_ns_everywhere(tr, &root) || check_options(tr->o))
		return -1;
	mns.root = tr->t[0]->pid;
	pr_info("the tree of %d has a mount namespace of its own", mns.root);
	if (proc_read_mountinfo(mns.root, &mns.pm) || mnt_order_proc(&mns.pm) ||
	    proc_read_mountinfo(getpid(), &host))
		return -1;
	ret = build_entries(&host, tr->t[0]->vpid);
	proc_mounts_free(&host);
	return ret;
}

bool dump_in_mntns(void)
{
	return mns.root > 0;
}

const char *dump_mntns_path(const char *path, char *buf, size_t len)
{
	if (mns.root <= 0 || path[0] != '/')
		return path;
	snprintf(buf, len, "/proc/%d/root%s", mns.root, path);
	return buf;
}

/*
 * In a child: into the tree's namespace for a detached copy of the mount
 * (no submounts), back into criu's, where tar archives the copy.
 */
static void tar_child(const char *mountpoint, int nsfd, int selffd, int out)
{
	static char *const argv[] = { "tar", "--create", "--gzip", "--file=-", "--numeric-owner",
				      "--sparse", "--acls", "--xattrs", "--xattrs-include=*",
				      "--directory=.", ".", NULL };
	sigset_t all;
	int t;

	if (setns(nsfd, CLONE_NEWNS)) {
		pr_perror("setns into the tree's mount namespace");
		_exit(1);
	}
	t = open_tree(AT_FDCWD, mountpoint, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (t < 0 || setns(selffd, CLONE_NEWNS) || fchdir(t) || dup2(out, 1) != 1) {
		pr_perror("a detached copy of the mount at %s", mountpoint);
		_exit(1);
	}
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	execvp("tar", argv);
	pr_perror("exec tar");
	_exit(1);
}

static int write_tmpfs(int dirfd, const Est__MntEntry *m)
{
	struct cr_img *img = img_create(dirfd, IMG_TMPFS, m->root_dev);
	char ns[64];
	int nsfd, selffd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC), st = -1;
	pid_t pid = -1;

	snprintf(ns, sizeof(ns), "/proc/%d/ns/mnt", mns.root);
	nsfd = open(ns, O_RDONLY | O_CLOEXEC);
	if (img && nsfd >= 0 && selffd >= 0)
		pid = fork();
	if (pid == 0)
		tar_child(m->mountpoint, nsfd, selffd, img_raw_fd(img));
	if (pid > 0 && waitpid(pid, &st, 0) != pid)
		st = -1;
	if (nsfd >= 0)
		close(nsfd);
	if (selffd >= 0)
		close(selffd);
	if (!img)
		return -1;
	if (st != 0) {
		pr_err("tar could not archive the tmpfs at %s (wait status %#x)", m->mountpoint, st);
		img_abort(img);
		return -1;
	}
	return img_commit(img);
}

int dump_mntns_write(const struct dump_tree *tr)
{
	struct cr_img *img;
	size_t i;

	if (mns.root <= 0)
		return 0;
	img = img_create(tr->dirfd, IMG_MNTS, 0);
	for (i = 0; img && i < mns.n; i++)
		if (img_write_entry(img, &mns.e[i].base))
			break;
	if (!img || i < mns.n) {
		if (img)
			img_abort(img);
		return -1;
	}
	if (img_commit(img))
		return -1;
	for (i = 0; i < mns.n; i++)
		if (mns.how[i] == MNT_FRESH && mns.e[i].fstype == EST__FSTYPE__TMPFS &&
		    write_tmpfs(tr->dirfd, &mns.e[i]))
			return -1;
	return 0;
}

void dump_mntns_free(void)
{
	size_t i;

	for (i = 0; i < mns.n; i++)
		free(mns.e[i].options);
	free(mns.e);
	free(mns.pe);
	free(mns.how);
	proc_mounts_free(&mns.pm);
	memset(&mns, 0, sizeof(mns));
}
