/*
 * Restore: the tree's own mount namespace (mnts.img; Documentation/
 * namespaces.md, "Mount namespace").
 *
 * criu reads and checks the entries and opens the tmpfs archives before
 * the first fork. The root, right after its fork and before it opens
 * anything, unshares its mount namespace (a copy of criu's), makes every
 * mount private, keeps of the copy exactly the host's mounts the dump
 * recorded (same device, root, place, file system and parent), detaches
 * all others, and then makes the others in the dumped order with the new
 * mount API: a fresh super block (fsopen, fsconfig with the recorded super
 * options, fsmount with the per-mount flags; a tmpfs gets its files from
 * its archive while still detached) or a bind of part of an earlier mount
 * (open_tree with OPEN_TREE_CLONE, mount_setattr), moved into place with
 * move_mount. The children inherit the namespace.
 */
#include <errno.h>
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

#define LOG_PREFIX "restore: "
#include "log.h"
#include "image.h"
#include "mnt-entry.h"
#include "options.h"
#include "proc_parse.h"
#include "restore-task.h"

static struct {
	ProtobufCMessage	**m;
	Est__MntEntry		**e;	/* = m */
	enum mnt_how		*how;
	int			*tar;	/* per entry: its archive's fd, or -1 */
	size_t			n;
} mns;

static int open_tar(int dirfd, uint32_t dev)
{
	char name[64];
	struct stat st;
	int fd;

	snprintf(name, sizeof(name), "tmpfs-%u.tar.gz", dev);
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > MNT_MAX_TAR) {
		pr_perror("%s: missing, not a regular file or over %llu bytes", name,
			  (unsigned long long)MNT_MAX_TAR);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int rst_mntns_read(int dirfd, const struct cr_options *o)
{
	unsigned int k;
	size_t i;

	if (faccessat(dirfd, "mnts.img", F_OK, 0))
		return 0;
	for (k = 0; k < o->ext_mount_map.n; k++)
		if (strcmp(o->ext_mount_map.v[k], "auto")) {
			pr_err("--ext-mount-map %s: external mounts by key are not supported yet",
			       o->ext_mount_map.v[k]);
			return -1;
		}
	if (img_read_all(dirfd, IMG_MNTS, 0, MNT_MAX, NULL, NULL, &mns.m, &mns.n))
		return -1;
	mns.e = (Est__MntEntry **)mns.m;
	mns.how = calloc(mns.n, sizeof(*mns.how));
	mns.tar = calloc(mns.n, sizeof(*mns.tar));
	if (!mns.how || !mns.tar || mnt_check_entries(mns.e, mns.n, mns.how))
		return -1;
	for (i = 0; i < mns.n; i++) {
		mns.tar[i] = -1;
		if (mns.how[i] == MNT_FRESH && mns.e[i]->fstype == EST__FSTYPE__TMPFS) {
			mns.tar[i] = open_tar(dirfd, mns.e[i]->root_dev);
			if (mns.tar[i] < 0)
				return -1;
		}
	}
	pr_info("the tree has a mount namespace of its own: %zu mounts", mns.n);
	return 0;
}

void rst_mntns_free(void)
{
	size_t i;

	for (i = 0; mns.tar && i < mns.n; i++)
		if (mns.tar[i] >= 0)
			close(mns.tar[i]);
	img_free_all(mns.m, mns.n);
	free(mns.how);
	free(mns.tar);
	memset(&mns, 0, sizeof(mns));
}

/* ---- in the root -------------------------------------------------------- */

static uint64_t mount_attr_of(uint32_t flags)
{
	uint64_t a = 0;

	a |= flags & MS_RDONLY ? MOUNT_ATTR_RDONLY : 0;
	a |= flags & MS_NOSUID ? MOUNT_ATTR_NOSUID : 0;
	a |= flags & MS_NODEV ? MOUNT_ATTR_NODEV : 0;
	a |= flags & MS_NOEXEC ? MOUNT_ATTR_NOEXEC : 0;
	a |= flags & MS_NODIRATIME ? MOUNT_ATTR_NODIRATIME : 0;
	a |= flags & 256 /* MS_NOSYMFOLLOW */ ? MOUNT_ATTR_NOSYMFOLLOW : 0;
	if (flags & MS_NOATIME)
		a |= MOUNT_ATTR_NOATIME;
	else if (!(flags & MS_RELATIME))
		a |= MOUNT_ATTR_STRICTATIME;
	return a;
}

/* Exactly the entry's per-mount flags on the mount @fd (@path: at that path instead). */
static void set_flags(int fd, const char *path, const Est__MntEntry *e)
{
	struct mount_attr a = {
		.attr_set = mount_attr_of(e->flags),
		.attr_clr = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
			    MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW |
			    MOUNT_ATTR__ATIME,
	};

	if (mount_setattr(fd, path, path[0] ? 0 : AT_EMPTY_PATH, &a, sizeof(a)))
		rst_die("mount_setattr on mount %u (%s): %s", e->mnt_id, e->mountpoint, strerror(errno));
}

static bool same_host_mount(const struct proc_mount *c, const Est__MntEntry *e)
{
	const char *fs = mnt_fsname(e);

	return mnt_kdev(c->major, c->minor) == e->root_dev && !strcmp(c->root, e->root) &&
	       !strcmp(c->mountpoint, e->mountpoint) && fs && !strcmp(c->fstype, fs);
}

static int parent_of(size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (mns.e[j]->mnt_id == mns.e[i]->parent_mnt_id)
			return (int)j;
	return -1;
}

/* twin[i]: the mount of @cur that host entry i is; the flags made the dumped ones. */
static void match_hosts(const struct proc_mounts *cur, int *twin, bool *kept)
{
	size_t i, k;

	for (i = 0; i < mns.n; i++) {
		int p = parent_of(i);

		twin[i] = -1;
		if (mns.how[i] != MNT_HOST)
			continue;
		for (k = 0; k < cur->nr && twin[i] < 0; k++)
			if (!kept[k] && same_host_mount(&cur->m[k], mns.e[i]) &&
			    (p < 0 ? k == 0 : cur->m[k].parent_id == cur->m[twin[p]].mnt_id))
				twin[i] = (int)k;
		if (twin[i] < 0)
			rst_die("the host's mount %s (%s, root %s) the dump recorded is not in criu's mount namespace: not supported yet",
				mns.e[i]->mountpoint, mnt_fsname(mns.e[i]), mns.e[i]->root);
		kept[twin[i]] = true;
	}
}

/* Of the copy of criu's namespace, only the host entries' mounts stay, with their flags. */
static void pare_down(void)
{
	struct proc_mounts cur = { 0 };
	size_t i, k, hosts = 0;
	int *twin;
	bool *kept;

	if (proc_read_mountinfo(rst_proc_pid(), &cur) || mnt_order_proc(&cur))
		rst_die("cannot read the mountinfo of the new mount namespace");
	twin = calloc(mns.n, sizeof(*twin));
	kept = calloc(cur.nr, sizeof(*kept));
	if (!twin || !kept)
		rst_die("out of memory");
	match_hosts(&cur, twin, kept);
	for (k = cur.nr; k-- > 0;)
		if (!kept[k] && umount2(cur.m[k].mountpoint, MNT_DETACH) && errno != EINVAL &&
		    errno != ENOENT)
			rst_die("cannot detach %s from the new mount namespace: %s", cur.m[k].mountpoint,
				strerror(errno));
	for (i = 0; i < mns.n; i++) {
		Est__MntEntry own;

		if (twin[i] < 0)
			continue;
		hosts++;
		if (mnt_from_proc(&cur.m[twin[i]], &own))
			rst_die("mount %s: options this criu does not know", mns.e[i]->mountpoint);
		free(own.options);
		if (own.flags != mns.e[i]->flags)
			set_flags(AT_FDCWD, mns.e[i]->mountpoint, mns.e[i]);
	}
	free(twin);
	free(kept);
	proc_mounts_free(&cur);
	if (proc_read_mountinfo(rst_proc_pid(), &cur) || cur.nr != hosts)
		rst_die("the new mount namespace keeps %zu mounts of criu's, not the %zu the dump recorded",
			cur.nr, hosts);
	proc_mounts_free(&cur);
}

static const struct { uint32_t flag; const char *key; } sb_keys[] = {
	{ MS_RDONLY, "ro" }, { MS_SYNCHRONOUS, "sync" }, { MS_DIRSYNC, "dirsync" },
	{ MS_MANDLOCK, "mand" }, { MS_LAZYTIME, "lazytime" },
};

/* The recorded super options into the context @fs; the read-only flag with @ro only. */
static void config(int fs, const Est__MntEntry *e, bool ro)
{
	char buf[MNT_MAX_STR + 1], *save = NULL, *tok;
	size_t i;
	int r = 0;

	snprintf(buf, sizeof(buf), "%s", e->options);
	for (tok = strtok_r(buf, ",", &save); tok && !r; tok = strtok_r(NULL, ",", &save)) {
		char *v = strchr(tok, '=');

		if (v)
			*v++ = '\0';
		r = v ? fsconfig(fs, FSCONFIG_SET_STRING, tok, v, 0)
		      : fsconfig(fs, FSCONFIG_SET_FLAG, tok, NULL, 0);
	}
	for (i = 0; i < ARRAY_SIZE(sb_keys) && !r; i++)
		if ((e->sb_flags & sb_keys[i].flag) && (ro || sb_keys[i].flag != MS_RDONLY))
			r = fsconfig(fs, FSCONFIG_SET_FLAG, sb_keys[i].key, NULL, 0);
	if (!r)
		r = fsconfig(fs, FSCONFIG_SET_STRING, "source", e->source, 0);
	if (r)
		rst_die("the options %s of mount %u (%s at %s): %s", e->options, e->mnt_id,
			mnt_fsname(e), e->mountpoint, strerror(errno));
}

/* A tmpfs's files from its archive, into the detached mount @mfd. */
static void untar(int mfd, int tar, const Est__MntEntry *e)
{
	static char *const argv[] = { "tar", "--extract", "--gzip", "--file=-", "--numeric-owner",
				      "--same-owner", "--preserve-permissions", "--acls", "--xattrs",
				      "--xattrs-include=*", "--directory=.", NULL };
	int st = -1;
	pid_t pid = fork();

	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		if (fchdir(mfd) || lseek(tar, 0, SEEK_SET) || dup2(tar, 0) != 0)
			_exit(126);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execvp("tar", argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || st)
		rst_die("tar could not restore the files of the tmpfs at %s (wait status %#x)",
			e->mountpoint, st);
}

static int make_fresh(size_t i)
{
	const Est__MntEntry *e = mns.e[i];
	int fs = fsopen(mnt_fsname(e), FSOPEN_CLOEXEC), mfd;

	if (fs < 0)
		rst_die("fsopen(%s): %s", mnt_fsname(e), strerror(errno));
	config(fs, e, mns.tar[i] < 0);
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
		rst_die("a new %s for %s: %s", mnt_fsname(e), e->mountpoint, strerror(errno));
	mfd = fsmount(fs, FSMOUNT_CLOEXEC, 0);
	if (mfd < 0)
		rst_die("fsmount %s: %s", e->mountpoint, strerror(errno));
	if (mns.tar[i] >= 0) {
		untar(mfd, mns.tar[i], e);
		if ((e->sb_flags & MS_RDONLY) &&
		    (fsconfig(fs, FSCONFIG_SET_FLAG, "ro", NULL, 0) ||
		     fsconfig(fs, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0)))
			rst_die("a read-only tmpfs at %s: %s", e->mountpoint, strerror(errno));
	}
	close(fs);
	return mfd;
}

static int make_bind(size_t i)
{
	char path[2 * MNT_MAX_STR + 2];
	int fd;

	if (mnt_bind_source(mns.e, i, path, sizeof(path)) < 0)
		rst_die("mount %u at %s: no mount to bind it from", mns.e[i]->mnt_id, mns.e[i]->mountpoint);
	fd = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (fd < 0)
		rst_die("open_tree(%s) for mount %u at %s: %s", path, mns.e[i]->mnt_id,
			mns.e[i]->mountpoint, strerror(errno));
	return fd;
}

void rst_mntns_build(void)
{
	size_t i;

	if (!mns.n)
		return;
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		rst_die("a new private mount namespace: %s", strerror(errno));
	pare_down();
	for (i = 0; i < mns.n; i++) {
		const Est__MntEntry *e = mns.e[i];
		int fd;

		if (mns.how[i] == MNT_HOST)
			continue;
		fd = mns.how[i] == MNT_FRESH ? make_fresh(i) : make_bind(i);
		set_flags(fd, "", e);
		if (move_mount(fd, "", AT_FDCWD, e->mountpoint, MOVE_MOUNT_F_EMPTY_PATH))
			rst_die("move_mount to %s: %s", e->mountpoint, strerror(errno));
		close(fd);
	}
	for (i = 0; i < mns.n; i++)
		if (mns.tar[i] >= 0)
			close(mns.tar[i]);
}
