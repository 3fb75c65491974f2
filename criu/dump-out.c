/*
 * Where a dump's images go: the images dir gets the established format
 * (Documentation/images.md). The dump writes our own images into a scratch
 * directory inside the images dir (mode 0700), est_export() converts them
 * into a second one, and the converted files are renamed into the images
 * dir with the manifest (criu-manifest, include/manifest.h) and then
 * inventory.img last. (criu dump then writes stats-dump into the
 * work dir, where the established tool puts it.) Page files are moved, not copied, where the
 * layouts agree. A dump that fails before the renames leaves the images dir
 * as it was; one that fails during them leaves it without inventory.img
 * (the old one is removed before the first rename, so old and new files
 * never pass for one dump).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "dump: "
#include "dump-out.h"
#include "est-export.h"
#include "log.h"
#include "manifest.h"
#include "seal.h"
#include "pagemap-chain.h"
#include "page-server.h"
#include "zpages.h"

static int make_scratch(struct dump_dir *d, const char *images_dir)
{
	snprintf(d->path, sizeof(d->path), "%s/.criu-scratch-XXXXXX", images_dir);
	if (strlen(d->path) + 1 >= sizeof(d->path) || !mkdtemp(d->path)) {
		pr_perror("can't make a scratch directory in %s", images_dir);
		d->path[0] = 0;
		return -1;
	}
	d->fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->fd < 0) {
		pr_perror("can't open %s", d->path);
		return -1;
	}
	return 0;
}

/* Removes a scratch directory and the plain files in it. */
void dump_dir_remove(struct dump_dir *d)
{
	struct dirent *de;
	DIR *dir;
	int fd;

	if (d->fd >= 0) {
		fd = dup(d->fd);
		dir = fd >= 0 ? fdopendir(fd) : NULL;
		if (dir)
			rewinddir(dir);	/* the offset is shared with d->fd */
		while (dir && (de = readdir(dir)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
			    unlinkat(d->fd, de->d_name, 0))
				pr_pwarn("can't remove %s/%s", d->path, de->d_name);
		if (dir)
			closedir(dir);
		else if (fd >= 0)
			close(fd);
		close(d->fd);
		d->fd = -1;
	}
	if (d->path[0] && rmdir(d->path))
		pr_pwarn("can't remove %s", d->path);
	d->path[0] = 0;
}

int dump_out_begin(struct dump_out *o, const char *images_dir, const char *work_dir)
{
	memset(o, 0, sizeof(*o));
	o->ours.fd = o->est.fd = o->workfd = o->ps_fd = -1;
	o->dirfd = open(images_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (o->dirfd < 0) {
		pr_perror("can't open the images dir %s", images_dir);
		return -1;
	}
	o->workfd = open(work_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (o->workfd < 0) {
		pr_perror("can't open the work dir %s", work_dir);
		return -1;
	}
	snprintf(o->images_dir, sizeof(o->images_dir), "%s", images_dir);
	return make_scratch(&o->ours, images_dir);
}

static bool moved_last(const char *name)
{
	return !strcmp(name, "inventory.img") || !strcmp(name, MANIFEST_NAME);
}

/*
 * Every file of the converted set into the images dir, then the manifest,
 * inventory.img last. The files an earlier dump of ours left there (its
 * manifest lists them) go first: none of them may pass for this dump's.
 */
static int move_all(struct dump_out *o)
{
	int fd = dup(o->est.fd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	int ret = 0;

	if (!dir) {
		pr_perror("can't list %s", o->est.path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rewinddir(dir);
	if (unlinkat(o->dirfd, "inventory.img", 0) && errno != ENOENT) {
		pr_perror("can't remove the old inventory.img");
		closedir(dir);
		return -1;
	}
	if (manifest_remove_stale(o->dirfd)) {
		closedir(dir);
		return -1;
	}
	while (!ret && (de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || moved_last(de->d_name))
			continue;
		if (renameat(o->est.fd, de->d_name, o->dirfd, de->d_name)) {
			pr_perror("can't move %s into %s", de->d_name, o->images_dir);
			ret = -1;
		}
	}
	closedir(dir);
	if (!ret && (fsync(o->dirfd) ||
		     renameat(o->est.fd, MANIFEST_NAME, o->dirfd, MANIFEST_NAME) ||
		     renameat(o->est.fd, "inventory.img", o->dirfd, "inventory.img") ||
		     fsync(o->dirfd))) {
		pr_perror("can't put inventory.img into %s", o->images_dir);
		ret = -1;
	}
	return ret;
}

/*
 * An incremental dump: the `parent` link to the parent images, as the
 * established tool makes it, and a copy of the parent's manifest, which
 * this dump's manifest covers: a restore refuses a parent that changed.
 */
static int link_parent(struct dump_out *o)
{
	char buf[1 << 16];
	char path[PATH_MAX + 32];
	ssize_t n = 0;
	int in, fd, ret = -1;

	if (unlinkat(o->dirfd, PMC_PARENT_LINK, 0) && errno != ENOENT)
		pr_pwarn("can't remove the old `parent` link");
	if (!o->parent)
		return unlinkat(o->dirfd, PMC_PARENT_MANIFEST, 0) && errno != ENOENT ? -1 : 0;
	if (symlinkat(o->parent, o->est.fd, PMC_PARENT_LINK)) {
		pr_perror("can't link the parent images %s", o->parent);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/" MANIFEST_NAME, o->parent);
	in = openat(o->dirfd, path, O_RDONLY | O_CLOEXEC);
	fd = openat(o->est.fd, PMC_PARENT_MANIFEST, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	while (in >= 0 && fd >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, n) != n)
			break;
	if (in >= 0 && fd >= 0 && !n)
		ret = 0;
	else
		pr_perror("can't copy %s", path);
	if (fd >= 0 && close(fd))
		ret = -1;
	if (in >= 0)
		close(in);
	return ret;
}

int dump_out_commit(struct dump_out *o, unsigned int flags)
{
	if (make_scratch(&o->est, o->images_dir))
		return -1;
	if (est_export(o->ours.fd, o->est.fd, EST_EXPORT_MOVE | flags) || link_parent(o) ||
	    ((flags & EST_EXPORT_ZPAGES) && zpages_pack_dir(o->est.fd)) || manifest_write(o->est.fd) || (o->key && seal_dir(o->est.fd, o->key)))
		return -1;
	if (o->ps_fd >= 0 && ps_send_pages(o->est.fd, o->ps_fd))
		return -1;
	return move_all(o);
}

int dump_out_seal_with(struct dump_out *o, const char *key_path)
{
	o->key = malloc(sizeof(*o->key));
	if (!o->key) {
		pr_err("out of memory");
		return -1;
	}
	return seal_key_load(key_path, o->key);
}

void dump_out_end(struct dump_out *o)
{
	if (o->key) {
		memset(o->key, 0, sizeof(*o->key));
		free(o->key);
		o->key = NULL;
	}
	manifest_track_forget();	/* a dump that failed before its manifest */
	dump_dir_remove(&o->est);
	dump_dir_remove(&o->ours);
	if (o->dirfd >= 0)
		close(o->dirfd);
	if (o->workfd >= 0)
		close(o->workfd);
	if (o->ps_fd >= 0)
		close(o->ps_fd);
	o->dirfd = o->workfd = o->ps_fd = -1;
}
