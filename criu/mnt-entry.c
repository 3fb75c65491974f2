/*
 * Mount entries: from mountinfo into the image's mnt_entry, and the checks
 * of entries read back (include/mnt-entry.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#define LOG_PREFIX "mnt: "
#include "log.h"
#include "mnt-entry.h"
#include "proc_parse.h"

#ifndef MS_NOSYMFOLLOW
# define MS_NOSYMFOLLOW	256
#endif

static const struct { const char *name; uint32_t type; } fstypes[] = {
	{ "proc", EST__FSTYPE__PROC },		{ "sysfs", EST__FSTYPE__SYSFS },
	{ "devtmpfs", EST__FSTYPE__DEVTMPFS },	{ "binfmt_misc", EST__FSTYPE__BINFMT_MISC },
	{ "tmpfs", EST__FSTYPE__TMPFS },	{ "devpts", EST__FSTYPE__DEVPTS },
	{ "simfs", EST__FSTYPE__SIMFS },	{ "pstore", EST__FSTYPE__PSTORE },
	{ "securityfs", EST__FSTYPE__SECURITYFS }, { "fusectl", EST__FSTYPE__FUSECTL },
	{ "debugfs", EST__FSTYPE__DEBUGFS },	{ "cgroup", EST__FSTYPE__CGROUP },
	{ "aufs", EST__FSTYPE__AUFS },		{ "mqueue", EST__FSTYPE__MQUEUE },
	{ "fuse", EST__FSTYPE__FUSE },		{ "overlay", EST__FSTYPE__OVERLAYFS },
	{ "autofs", EST__FSTYPE__AUTOFS },	{ "tracefs", EST__FSTYPE__TRACEFS },
	{ "cgroup2", EST__FSTYPE__CGROUP2 },
};

/* Per-mount options of mountinfo's sixth field, and the super block's flags. */
static const struct { const char *name; uint32_t flag; } mnt_opts[] = {
	{ "rw", 0 }, { "ro", MS_RDONLY }, { "nosuid", MS_NOSUID }, { "nodev", MS_NODEV },
	{ "noexec", MS_NOEXEC }, { "noatime", MS_NOATIME }, { "nodiratime", MS_NODIRATIME },
	{ "relatime", MS_RELATIME }, { "nosymfollow", MS_NOSYMFOLLOW },
}, sb_opts[] = {
	{ "rw", 0 }, { "ro", MS_RDONLY }, { "sync", MS_SYNCHRONOUS }, { "dirsync", MS_DIRSYNC },
	{ "mand", MS_MANDLOCK }, { "lazytime", MS_LAZYTIME },
};

#define MNT_FLAGS	(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | \
			 MS_NODIRATIME | MS_RELATIME | MS_NOSYMFOLLOW)
#define SB_FLAGS	(MS_RDONLY | MS_SYNCHRONOUS | MS_DIRSYNC | MS_MANDLOCK | MS_LAZYTIME)

uint32_t mnt_fstype(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fstypes); i++)
		if (!strcmp(fstypes[i].name, name))
			return fstypes[i].type;
	return EST__FSTYPE__UNSUPPORTED;
}

const char *mnt_fsname(const Est__MntEntry *e)
{
	size_t i;

	for (i = 0; e->fstype && i < ARRAY_SIZE(fstypes); i++)
		if (fstypes[i].type == e->fstype)
			return fstypes[i].name;
	return e->fstype ? NULL : e->fsname;
}

bool mnt_fresh_kind(uint32_t t)
{
	return t == EST__FSTYPE__TMPFS || t == EST__FSTYPE__PROC || t == EST__FSTYPE__SYSFS ||
	       t == EST__FSTYPE__DEVPTS || t == EST__FSTYPE__MQUEUE;
}

/* The flag of option @o (@len bytes) in @tab; -1 if not there. */
static long opt_flag(const char *o, size_t len, const void *tab, size_t n)
{
	const struct { const char *name; uint32_t flag; } *t = tab;
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(t[i].name) == len && !memcmp(t[i].name, o, len))
			return t[i].flag;
	return -1;
}

/* Per-mount options: all must be known. */
static int parse_mnt_opts(const struct proc_mount *m, uint32_t *flags)
{
	const char *s = m->options;

	*flags = 0;
	while (*s) {
		size_t len = strcspn(s, ",");
		long f = opt_flag(s, len, mnt_opts, ARRAY_SIZE(mnt_opts));

		if (f < 0) {
			pr_err("not supported yet: mount %d (%s at %s): mount option %.*s",
			       m->mnt_id, m->fstype, m->mountpoint, (int)len, s);
			return -1;
		}
		*flags |= (uint32_t)f;
		s += len + (s[len] == ',');
	}
	return 0;
}

/* Super options: the flags into @sb, the others kept in @rest (as long as the input). */
static void split_sb_opts(const char *s, uint32_t *sb, char *rest)
{
	char *o = rest;

	*sb = 0;
	while (*s) {
		size_t len = strcspn(s, ",");
		long f = opt_flag(s, len, sb_opts, ARRAY_SIZE(sb_opts));

		if (f >= 0) {
			*sb |= (uint32_t)f;
		} else {
			if (o != rest)
				*o++ = ',';
			memcpy(o, s, len);
			o += len;
		}
		s += len + (s[len] == ',');
	}
	*o = '\0';
}

int mnt_from_proc(const struct proc_mount *m, Est__MntEntry *e)
{
	char *rest = malloc(strlen(m->super_options) + 1);

	if (!rest)
		return -1;
	est__mnt_entry__init(e);
	if (parse_mnt_opts(m, &e->flags)) {
		free(rest);
		return -1;
	}
	split_sb_opts(m->super_options, &e->sb_flags, rest);
	e->has_sb_flags = true;
	e->fstype = mnt_fstype(m->fstype);
	if (e->fstype == EST__FSTYPE__UNSUPPORTED)
		e->fsname = m->fstype;
	e->mnt_id = (uint32_t)m->mnt_id;
	e->parent_mnt_id = (uint32_t)m->parent_id;
	e->root_dev = mnt_kdev(m->major, m->minor);
	e->root = m->root;
	e->mountpoint = m->mountpoint;
	e->source = m->source;
	e->options = rest;	/* the caller frees it */
	return 0;
}

/* The index of @m's parent in @pm, or -1 when it is not listed. */
static long parent_index(const struct proc_mounts *pm, const struct proc_mount *m)
{
	size_t k;

	for (k = 0; k < pm->nr; k++)
		if (pm->m[k].mnt_id == m->parent_id && &pm->m[k] != m)
			return (long)k;
	return -1;
}

/*
 * Each mount in mountinfo's order, but after the parents not placed yet
 * (which come in their own order from the top): a mount's order among
 * those of its parent stays as the kernel lists it.
 */
int mnt_order_proc(struct proc_mounts *pm)
{
	size_t n = 0, i, k, cap = pm->nr ? pm->nr : 1;
	struct proc_mount *out = calloc(cap, sizeof(*out));
	long *chain = calloc(cap, sizeof(*chain));
	bool *done = calloc(cap, sizeof(*done));
	bool root = false;

	if (!out || !chain || !done)
		goto fail;
	for (i = 0; i < pm->nr; i++) {
		long c = (long)i;
		size_t len = 0;

		while (c >= 0 && !done[c] && len < pm->nr) {
			chain[len++] = c;
			c = parent_index(pm, &pm->m[c]);
		}
		if ((c >= 0 && !done[c]) || (c < 0 && root)) {
			pr_err("mountinfo has mounts in a cycle or below no root mount");
			goto fail;
		}
		root = root || len;
		for (k = len; k-- > 0;) {
			out[n++] = pm->m[chain[k]];
			done[chain[k]] = true;
		}
	}
	free(pm->m);
	free(chain);
	free(done);
	pm->m = out;
	return 0;
fail:
	free(out);
	free(chain);
	free(done);
	return -1;
}

/* The part of @p below @base ("" for @base itself), NULL if @p is not under it. */
static const char *path_under(const char *base, const char *p)
{
	size_t l = strlen(base);

	if (!strcmp(base, "/"))
		return p;
	if (strncmp(base, p, l) || (p[l] && p[l] != '/'))
		return NULL;
	return p + l;
}

static bool path_ok(const char *p)
{
	const char *s;

	if (!p || p[0] != '/' || strlen(p) > MNT_MAX_STR)
		return false;
	for (s = p; (s = strstr(s, "/..")); s += 3)
		if (s[3] == '/' || !s[3])
			return false;
	return !strstr(p, "//");
}

int mnt_bind_source(Est__MntEntry *const *e, size_t i, char *path, size_t len)
{
	size_t j, k;

	for (j = 0; j < i; j++) {
		const char *rest = e[j]->root_dev == e[i]->root_dev ? path_under(e[j]->root, e[i]->root)
								     : NULL;
		char src[2 * MNT_MAX_STR + 2];
		bool hidden = false;

		if (!rest)
			continue;
		snprintf(src, sizeof(src), "%s%s", strcmp(e[j]->mountpoint, "/") ? e[j]->mountpoint : "",
			 rest);
		/* a mount on the way to it (on e[j] or over it) would be reached instead */
		for (k = 0; k < i && !hidden; k++)
			hidden = k != j && path_under(e[k]->mountpoint, src[0] ? src : "/") &&
				 (e[k]->parent_mnt_id == e[j]->mnt_id ||
				  (e[k]->parent_mnt_id == e[j]->parent_mnt_id &&
				   !strcmp(e[k]->mountpoint, e[j]->mountpoint)));
		if (hidden)
			continue;
		if (path)
			snprintf(path, len, "%s", src[0] ? src : "/");
		return (int)j;
	}
	return -1;
}

static int find_id(Est__MntEntry *const *e, size_t n, uint32_t id)
{
	size_t j;

	for (j = 0; j < n; j++)
		if (e[j]->mnt_id == id)
			return (int)j;
	return -1;
}

/* One entry's own fields. */
static int check_one(const Est__MntEntry *m)
{
	const char *fs = mnt_fsname(m);

	if (!path_ok(m->root) || !path_ok(m->mountpoint) || !fs || !*fs ||
	    strlen(fs) > 64 || strlen(m->source) > MNT_MAX_STR || strlen(m->options) > MNT_MAX_STR ||
	    (m->ext_key && strlen(m->ext_key) > MNT_MAX_STR)) {
		pr_err("mount %u: a path, file system name, source or options out of bounds", m->mnt_id);
		return -1;
	}
	if ((m->flags & ~MNT_FLAGS) || (m->sb_flags & ~SB_FLAGS)) {
		pr_err("not supported yet: mount %u (%s at %s): flags %#x, super block flags %#x",
		       m->mnt_id, fs, m->mountpoint, m->flags, m->sb_flags);
		return -1;
	}
	if (m->has_shared_id || m->has_master_id || (m->has_with_plugin && m->with_plugin) ||
	    (m->has_deleted && m->deleted)) {
		pr_err("not supported yet: mount %u (%s at %s): shared or slave propagation, a plugin's or a deleted mount point",
		       m->mnt_id, fs, m->mountpoint);
		return -1;
	}
	if (m->has_ext_mount && m->ext_mount && (!m->ext_key || strcmp(m->ext_key, MNT_EXT_AUTO))) {
		pr_err("not supported yet: mount %u at %s: an external mount with key %s (--external mnt[])",
		       m->mnt_id, m->mountpoint, m->ext_key ? m->ext_key : "(none)");
		return -1;
	}
	return 0;
}

/* What a restore does for e[i], whose parent is e[p] (p < 0: the root). */
static int classify(Est__MntEntry *const *e, size_t i, int p, enum mnt_how *how)
{
	const Est__MntEntry *m = e[i];
	size_t j;

	if (m->has_ext_mount && m->ext_mount) {
		if (p >= 0 && how[p] != MNT_HOST) {
			pr_err("not supported yet: mount %u at %s: a host mount on a mount the restore makes",
			       m->mnt_id, m->mountpoint);
			return -1;
		}
		how[i] = MNT_HOST;
		return 0;
	}
	for (j = 0; j < i && e[j]->root_dev != m->root_dev; j++)
		;
	if (j == i && mnt_fresh_kind(m->fstype) && !strcmp(m->root, "/")) {
		how[i] = MNT_FRESH;
		return 0;
	}
	how[i] = MNT_BIND;
	if (mnt_bind_source(e, i, NULL, 0) >= 0)
		return 0;
	pr_err("not supported yet: mount %u (fstype %s) at %s", m->mnt_id, mnt_fsname(m), m->mountpoint);
	return -1;
}

int mnt_check_entries(Est__MntEntry *const *e, size_t n, enum mnt_how *how)
{
	size_t i;

	if (!n || n > MNT_MAX) {
		pr_err("%zu mounts in the namespace (1 to %u)", n, MNT_MAX);
		return -1;
	}
	for (i = 0; i < n; i++) {
		int p = find_id(e, i, e[i]->parent_mnt_id);

		if (check_one(e[i]))
			return -1;
		if (!e[i]->mnt_id || find_id(e, i, e[i]->mnt_id) >= 0 || (i && p < 0) ||
		    (!i && (find_id(e, n, e[i]->parent_mnt_id) >= 0 || strcmp(e[i]->mountpoint, "/")))) {
			pr_err("mount %u: a repeated id, a parent %u not listed before it, or a root not at /",
			       e[i]->mnt_id, e[i]->parent_mnt_id);
			return -1;
		}
		if (!i && !(e[i]->has_ext_mount && e[i]->ext_mount)) {
			pr_err("not supported yet: a root mount (%s) other than the one of criu's namespace",
			       mnt_fsname(e[i]));
			return -1;
		}
		if (classify(e, i, p, how))
			return -1;
	}
	return 0;
}
