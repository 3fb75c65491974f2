/*
 * A dump's files sealed (the dump's scratch dir, after the manifest) and
 * opened again (restore, before anything is created) into a private
 * directory the restore then reads (Documentation/images.md "Sealed images").
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define LOG_PREFIX "seal: "
#include "log.h"
#include "manifest.h"
#include "seal.h"

#define SEALING	".sealing"	/* the sealed copy of one file, renamed over it */

/* The names of the regular files in @dirfd (a scratch dir of ours). */
int seal_dir_list(int dirfd, char ***names, size_t *nr)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	size_t cap = 0;

	*names = NULL;
	*nr = 0;
	if (!d) {
		pr_perror("cannot list the scratch dir");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		struct stat st;

		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;
		if (*nr == cap) {
			char **n = realloc(*names, (cap = cap ? cap * 2 : 64) * sizeof(*n));

			if (!n)
				goto oom;
			*names = n;
		}
		if (!((*names)[*nr] = strdup(de->d_name)))
			goto oom;
		(*nr)++;
	}
	closedir(d);
	return 0;
oom:
	pr_err("out of memory");
	closedir(d);
	return -1;
}

void seal_dir_free_names(char **names, size_t nr)
{
	while (nr)
		free(names[--nr]);
	free(names);
}

int seal_dir_rewrite(int dirfd, const char *name, const char *tmp,
		     int (*fn)(int in, int out, const char *name, void *arg), void *arg)
{
	int in = openat(dirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	int out = openat(dirfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int ret = -1;

	if (in < 0 || out < 0)
		pr_perror("cannot rewrite %s", name);
	else if (!fn(in, out, name, arg) && !close(out)) {
		out = -1;
		if (renameat(dirfd, tmp, dirfd, name))
			pr_perror("cannot put the new %s in place", name);
		else
			ret = 0;
	}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (ret)
		unlinkat(dirfd, tmp, 0);
	return ret;
}

struct seal_arg {
	const struct seal_key *key;
	const uint8_t *set;
};

static int seal_cb(int in, int out, const char *name, void *arg)
{
	const struct seal_arg *a = arg;

	return seal_fd(a->key, a->set, name, in, out, true);
}

static int seal_one(int dirfd, const struct seal_key *key, const uint8_t *set, const char *name)
{
	struct seal_arg a = { key, set };

	return seal_dir_rewrite(dirfd, name, SEALING, seal_cb, &a);
}

int seal_dir(int dirfd, const struct seal_key *key)
{
	uint8_t set[SEAL_SET_SIZE];
	char **names;
	size_t nr, i;
	int ret = 0;

	if (seal_new_set(set) || seal_dir_list(dirfd, &names, &nr))
		return -1;
	for (i = 0; i < nr && !ret; i++)
		ret = seal_one(dirfd, key, set, names[i]);
	seal_dir_free_names(names, nr);
	if (!ret && syncfs(dirfd)) {
		pr_perror("cannot sync the sealed images");
		ret = -1;
	}
	if (!ret)
		pr_info("%zu files sealed", nr);
	return ret;
}

/* ---- restore --------------------------------------------------------------- */

/* 1: the dump in @dirfd is sealed (its manifest, or else its inventory), 0: not, -1. */
static int dir_sealed(int dirfd)
{
	int fd = openat(dirfd, MANIFEST_NAME, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r;

	if (fd < 0 && errno == ENOENT)
		fd = openat(dirfd, "inventory.img", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	r = seal_fd_is_sealed(fd);
	close(fd);
	return r;
}

/* Sealed @name of @from opened into @to (new file): 0 or -1 logged. */
static int open_one(int from, int to, const struct seal_key *key, uint8_t *set, bool set_known,
		    const char *name)
{
	int in = openat(from, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), out = -1, ret = -1;

	if (in < 0) {
		if (errno == ENOENT && !set_known)
			pr_err("%s is missing: a sealed dump always has one", name);
		else if (errno == ENOENT)
			pr_err("%s is missing: " MANIFEST_NAME " lists it", name);
		else
			pr_perror("cannot open %s", name);
		return -1;
	}
	out = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0)
		pr_perror("cannot create the opened %s", name);
	else
		ret = unseal_fd(key, set, set_known, name, in, out);
	close(in);
	if (out >= 0 && close(out) && !ret) {
		pr_perror("cannot write the opened %s", name);
		ret = -1;
	}
	return ret;
}

/* The manifest first (its set id is the dump's), then every file it lists. */
static int open_all(int from, int to, const struct seal_key *key)
{
	uint8_t set[SEAL_SET_SIZE];
	struct manifest m;
	size_t i;
	int ret;

	if (open_one(from, to, key, set, false, MANIFEST_NAME))
		return -1;
	if (manifest_read(to, &m))
		return -1;
	ret = manifest_check_extra(from, &m);
	for (i = 0; !ret && i < m.nr; i++)
		ret = open_one(from, to, key, set, true, m.e[i].name);
	manifest_free(&m);
	return ret;
}

static int no_key(int sealed, const char *key_path)
{
	if (sealed < 0) {
		pr_perror("cannot read the images dir");
		return -1;
	}
	if (sealed && !key_path) {
		pr_err("the images are sealed: --encrypt-key needed");
		return -1;
	}
	if (!sealed && key_path) {
		pr_err("--encrypt-key is given, but the images are not sealed: refused");
		return -1;
	}
	return 0;
}

int seal_dir_private(char *tmp, size_t tmp_size, const char *prefix)
{
	const char *td = getenv("TMPDIR");
	int fd;

	snprintf(tmp, tmp_size, "%s/%s.XXXXXX", td && *td ? td : "/tmp", prefix);
	if (!mkdtemp(tmp)) {
		pr_perror("cannot make a private dir in %s", td && *td ? td : "/tmp");
		tmp[0] = 0;
		return -1;
	}
	fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		pr_perror("cannot open %s", tmp);
	return fd;
}

int unseal_dir(int dirfd, const char *key_path, char *tmp, size_t tmp_size, int *opened)
{
	int sealed = dir_sealed(dirfd), fd = -1;
	struct seal_key key;

	tmp[0] = 0;
	*opened = -1;
	if (no_key(sealed, key_path))
		return -1;
	if (!sealed)
		return 0;
	if (seal_key_load(key_path, &key))
		return -1;
	fd = seal_dir_private(tmp, tmp_size, "criu-unseal");
	if (fd >= 0 && open_all(dirfd, fd, &key)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		pr_err("the sealed images are refused: nothing restored");
	else
		pr_info("the sealed images opened into %s", tmp);
	memset(&key, 0, sizeof(key));
	if (fd < 0) {
		seal_dir_remove(tmp);
		tmp[0] = 0;
		return -1;
	}
	*opened = fd;
	return 0;
}

void seal_dir_remove(const char *tmp)
{
	int fd;
	char **names;
	size_t nr, i;

	if (!tmp || !tmp[0])
		return;
	fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && !seal_dir_list(fd, &names, &nr)) {
		for (i = 0; i < nr; i++)
			unlinkat(fd, names[i], 0);
		seal_dir_free_names(names, nr);
	}
	if (fd >= 0)
		close(fd);
	if (rmdir(tmp))
		pr_pwarn("cannot remove %s", tmp);
}
