/*
 * The network namespace's knobs (/proc/sys/net, which shows the namespace
 * of whoever opens it): the carried ones by the positional tables of
 * netns-img.c, and, at dump, every other one compared with a fresh
 * namespace's, so that a changed knob nobody carries is refused.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define LOG_PREFIX "netns: "
#include "log.h"
#include "netns.h"
#include "net-sysctl.h"

/* The text of /proc/sys/net/@rel, without its last newline; 1: absent or unreadable by design. */
static int read_text(const char *rel, char *buf, size_t size)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/%s", rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && (errno == ENOENT || errno == EACCES))
		return 1;
	if (fd < 0) {
		pr_perror("cannot open %s", path);
		return -1;
	}
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0 && (errno == EIO || errno == EINVAL || errno == EPERM))
		return 1;	/* e.g. stable_secret never set */
	if (n < 0 || (size_t)n == size - 1) {
		pr_perror("cannot read %s (or longer than %zu bytes)", path, size - 2);
		return -1;
	}
	while (n && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	return 0;
}

static int write_text(const char *rel, const char *val, bool weak)
{
	char path[PATH_MAX], cur[NETNS_STR_MAX + 2];
	size_t n = strlen(val);
	int fd, r;

	r = read_text(rel, cur, sizeof(cur));
	if (r < 0)
		return -1;
	if (!r && !strcmp(cur, val))
		return 0;
	snprintf(path, sizeof(path), "/proc/sys/net/%s", rel);
	if (r && weak && access(path, F_OK)) {
		pr_warn("%s does not exist here: skipped (--weak-sysctls)", path);
		return 0;
	}
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, val, n) != (ssize_t)n) {
		pr_perror("cannot set %s to %s", path, val);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static void knob_dir(const struct netns_knobs *k, const char *link, char *buf, size_t size)
{
	snprintf(buf, size, k->dir, link ? link : "");
}

int netns_knobs_read(const struct netns_knobs *k, const char *link, NetSysctl ***out, size_t *nr)
{
	char dir[64], rel[128], val[NETNS_STR_MAX + 2];
	NetSysctl **v;
	size_t i;

	v = calloc(k->nr, sizeof(*v));
	if (!v) {
		pr_err("out of memory");
		return -1;
	}
	*out = v;
	*nr = 0;
	knob_dir(k, link, dir, sizeof(dir));
	for (i = 0; i < k->nr; i++) {
		int r;

		v[i] = malloc(sizeof(*v[i]));
		if (!v[i]) {
			pr_err("out of memory");
			return -1;	/* the entry's owner frees what is in */
		}
		net_sysctl__init(v[i]);
		*nr = i + 1;
		snprintf(rel, sizeof(rel), "%s/%s", dir, k->names[i]);
		r = read_text(rel, val, sizeof(val));
		if (r < 0)
			return -1;
		if (r)
			continue;
		if (netns_knob_text(k->names[i])) {
			v[i]->sarg = strdup(val);
			if (!v[i]->sarg)
				return -1;
		} else {
			v[i]->has_iarg = true;
			v[i]->iarg = (int32_t)strtol(val, NULL, 10);
		}
	}
	return 0;
}

int netns_knobs_write(const struct netns_knobs *k, const char *link, NetSysctl **v, size_t nr,
		      bool weak)
{
	char dir[64], rel[128], val[16];
	size_t i, last = nr;

	knob_dir(k, link, dir, sizeof(dir));
	/* accept_redirects last: a write of forwarding resets it */
	for (i = 0; i <= nr; i++) {
		size_t j = i < nr ? i : last;

		if (j == nr)
			break;
		if (i < nr && !strcmp(k->names[j], "accept_redirects")) {
			last = j;
			continue;
		}
		snprintf(rel, sizeof(rel), "%s/%s", dir, k->names[j]);
		if (v[j]->has_iarg)
			snprintf(val, sizeof(val), "%d", v[j]->iarg);
		if ((v[j]->has_iarg || v[j]->sarg) && write_text(rel, v[j]->sarg ? v[j]->sarg : val, weak))
			return -1;
	}
	return 0;
}

/* ---- knobs nobody carries: compared with a fresh namespace's ---------------------- */

struct knob_rec {
	char rel[160];		/* in the tree's namespace */
	char fresh[160];	/* the same knob in a fresh one */
	char val[NETNS_STR_MAX + 2];
};

struct knob_recs {
	struct knob_rec *r;
	size_t nr, cap;
};

static bool in_table(const struct netns_knobs *k, const char *name)
{
	size_t i;

	for (i = 0; i < k->nr; i++)
		if (!strcmp(k->names[i], name))
			return true;
	return false;
}

static bool carried(const char *dir, const char *name)
{
	if (!strncmp(dir, "ipv4/conf/", 10))
		return in_table(&netns_conf4, name);
	if (!strncmp(dir, "ipv6/conf/", 10))
		return in_table(&netns_conf6, name);
	/* ip_forward is conf/all/forwarding under another name */
	return in_table(&netns_ipv4, name) || in_table(&netns_unix, name) ||
	       (!strcmp(dir, "ipv4") && !strcmp(name, "ip_forward"));
}

/* Every readable and writable file right in @dir, its fresh twin in @fresh. */
static int collect_dir(struct knob_recs *rs, const char *dir, const char *fresh)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/sys/net/%s", dir);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : (pr_perror("cannot list %s", path), -1);
	while (!ret && (de = readdir(d))) {
		struct knob_rec *r;
		struct stat st;

		if (de->d_name[0] == '.' || strlen(de->d_name) > 63 || carried(dir, de->d_name) ||
		    fstatat(dirfd(d), de->d_name, &st, 0) || !S_ISREG(st.st_mode) ||
		    (st.st_mode & 0600) != 0600)
			continue;
		if (rs->nr == rs->cap) {
			size_t cap = rs->cap ? 2 * rs->cap : 256;
			struct knob_rec *n = realloc(rs->r, cap * sizeof(*n));

			if (!n) {
				ret = -1;
				break;
			}
			rs->r = n;
			rs->cap = cap;
		}
		r = &rs->r[rs->nr];
		snprintf(r->rel, sizeof(r->rel), "%.64s/%.63s", dir, de->d_name);
		snprintf(r->fresh, sizeof(r->fresh), "%.64s/%.63s", fresh, de->d_name);
		ret = read_text(r->rel, r->val, sizeof(r->val));
		if (ret == 1)
			ret = 0;	/* nothing to compare */
		else if (!ret)
			rs->nr++;
	}
	closedir(d);
	return ret;
}

static int collect_all(struct knob_recs *rs, const char *const *links, size_t nr_links)
{
	static const char *const top[] = { "ipv4", "ipv6", "core", "unix",
					   "ipv4/conf/all", "ipv4/conf/default",
					   "ipv6/conf/all", "ipv6/conf/default" };
	char dir[64], fresh[64];
	size_t i;
	int f;

	for (i = 0; i < sizeof(top) / sizeof(top[0]); i++)
		if (collect_dir(rs, top[i], top[i]))
			return -1;
	/* a link made by the restore takes the defaults; the loopback is the fresh one's */
	for (i = 0; i < nr_links; i++)
		for (f = 4; f <= 6; f += 2) {
			snprintf(dir, sizeof(dir), "ipv%d/conf/%s", f, links[i]);
			snprintf(fresh, sizeof(fresh), "ipv%d/conf/%s", f,
				 strcmp(links[i], "lo") ? "default" : "lo");
			if (collect_dir(rs, dir, fresh))
				return -1;
		}
	return 0;
}

static int compare_fresh(const struct knob_recs *rs)
{
	char val[NETNS_STR_MAX + 2];
	size_t i;
	int r;

	for (i = 0; i < rs->nr; i++) {
		r = read_text(rs->r[i].fresh, val, sizeof(val));
		if (r < 0)
			return -1;
		if (!r && strcmp(val, rs->r[i].val)) {
			pr_err("net.%s is %s where a new network namespace has %s: not supported yet: this sysctl is not carried",
			       rs->r[i].rel, rs->r[i].val, val);
			return -1;
		}
	}
	return 0;
}

int netns_knobs_unchanged(const char *const *links, size_t nr_links)
{
	struct knob_recs rs = { 0 };
	int tree = -1, ret = -1;

	if (collect_all(&rs, links, nr_links))
		goto out;
	tree = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (tree < 0 || unshare(CLONE_NEWNET)) {
		pr_perror("cannot make a fresh network namespace to compare sysctls with");
		goto out;
	}
	ret = compare_fresh(&rs);
	if (setns(tree, CLONE_NEWNET)) {
		pr_perror("cannot go back to the tree's network namespace");
		ret = -1;
	}
out:
	if (tree >= 0)
		close(tree);
	free(rs.r);
	return ret;
}
