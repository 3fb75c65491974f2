/*
 * Marks of inotify and fanotify instances: from what fdinfo shows to a path
 * checked to lead to the marked object. See criu/include/fsnotify.h.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#define LOG_PREFIX "fsnotify: "
#include "log.h"
#include "fsnotify.h"

dev_t fsn_dev(unsigned int sdev)
{
	return makedev(sdev >> 20, sdev & 0xfffff);
}

/* Mount point (heap) of the first mount of @pid for which @want says yes. */
static char *find_mount(pid_t pid, bool (*want)(const struct proc_mount *m, const void *arg),
			const void *arg, dev_t *dev)
{
	struct proc_mounts mm = { 0 };
	char *path = NULL;
	size_t i;

	if (proc_read_mountinfo(pid, &mm))
		return NULL;
	for (i = 0; i < mm.nr && !path; i++)
		if (want(&mm.m[i], arg)) {
			path = strdup(mm.m[i].mountpoint);
			if (dev)
				*dev = makedev(mm.m[i].major, mm.m[i].minor);
		}
	proc_mounts_free(&mm);
	return path;
}

static bool dev_is(const struct proc_mount *m, const void *arg)
{
	return makedev(m->major, m->minor) == *(const dev_t *)arg;
}

static bool id_is(const struct proc_mount *m, const void *arg)
{
	return m->mnt_id == *(const int *)arg;
}

char *fsn_dev_path(const char *what, dev_t dev)
{
	char *path = find_mount(getpid(), dev_is, &dev, NULL);

	if (!path)
		pr_err("%s: no mount of device %u:%u: not supported yet", what, major(dev), minor(dev));
	return path;
}

char *fsn_mnt_path(const char *what, pid_t pid, int mnt_id, dev_t *dev)
{
	char *path = find_mount(pid, id_is, &mnt_id, dev);

	if (!path)
		pr_err("%s: mount %d is not in the task's mountinfo", what, mnt_id);
	return path;
}

int fsn_check_path(const char *path, uint64_t ino, uint64_t dev)
{
	struct stat st;

	if (path[0] != '/' || stat(path, &st) || (uint64_t)st.st_dev != dev ||
	    (ino && (uint64_t)st.st_ino != ino)) {
		pr_err("%s is not the %s marked at dump time", path, ino ? "inode" : "file system");
		return -1;
	}
	return 0;
}

/* The path behind an O_PATH fd, heap. */
static char *fd_path(int fd)
{
	char link[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, sizeof(buf) - 1);
	if (n <= 0 || n >= (ssize_t)sizeof(buf) - 1)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

char *fsn_handle_path(const char *what, const struct proc_fhandle *h, uint64_t ino, dev_t dev)
{
	struct file_handle *fh = NULL;
	char *mnt = NULL, *path = NULL;
	int mfd = -1, fd = -1;

	if (!h->bytes) {
		pr_err("%s: no file handle in fdinfo: not supported yet", what);
		return NULL;
	}
	mnt = fsn_dev_path(what, dev);
	fh = malloc(sizeof(*fh) + h->bytes);
	if (!mnt || !fh)
		goto out;
	mfd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);	/* O_PATH is refused */
	if (mfd < 0) {
		pr_perror("%s: cannot open %s", what, mnt);
		goto out;
	}
	fh->handle_bytes = h->bytes;
	fh->handle_type = h->type;
	memcpy(fh->f_handle, h->handle, h->bytes);
	fd = open_by_handle_at(mfd, fh, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("%s: open_by_handle_at", what);
		goto out;
	}
	path = fd_path(fd);
	if (!path || fsn_check_path(path, ino, dev)) {
		pr_err("%s: inode %llu has no path leading to it (%s): not supported yet", what,
		       (unsigned long long)ino, path ? path : "?");
		free(path);
		path = NULL;
	}
out:
	if (fd >= 0)
		close(fd);
	if (mfd >= 0)
		close(mfd);
	free(mnt);
	free(fh);
	return path;
}

int fsn_no_queued_events(struct fd_probe *p, const char *kind)
{
	int fd = fd_probe_local(p), n = 0;

	if (fd < 0)
		return -1;
	if (ioctl(fd, FIONREAD, &n)) {
		pr_perror("fd %d: FIONREAD", p->fd);
		return -1;
	}
	if (n) {
		pr_err("fd %d: %s with %d bytes of unread events: not supported yet", p->fd, kind, n);
		return -1;
	}
	return 0;
}
