/*
 * criu dedup and --auto-dedup (Documentation/predump.md, "Dedup"): the
 * pages of parent images that the newest dump of the chain no longer reads
 * are punched out of their page files (FALLOC_FL_PUNCH_HOLE), and the
 * manifests of the chain are brought up to date, deepest first, each with
 * one rename, so that the restore's checks pass on the result.
 *
 * Only pre-dumps are punched: they cannot be restored on their own, so
 * nothing but their children reads them. A full dump in the chain (one
 * made with --track-mem and then used as a parent) stays whole: it can
 * still be restored by itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/falloc.h>

#define LOG_PREFIX "dedup: "
#include "log.h"
#include "commands.h"
#include "est-image.h"
#include "manifest.h"
#include "options.h"
#include "page-dedup.h"
#include "pagemap-chain.h"
#include "est/inventory.pb-c.h"

#define PAGE		4096ull
#define MAX_PIDS	65536

/* 1: @dirfd holds a pre-dump (inventory with pre_dump_mode), 0: not, -1 error. */
static int is_pre_dump(int dirfd)
{
	const struct est_kind *kind = est_kind_by_name("inventory.img");
	struct est_parser p;
	struct est_entry e;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if (!kind || est_load_file(dirfd, "inventory.img", 1 << 20, &buf, &len) < 0)
		return -1;
	r = est_parse_init(&p, kind, buf, len, "inventory.img");
	if (!r && (r = est_parse_next(&p, &e)) == 1) {
		r = ((Est__InventoryEntry *)e.msg)->has_pre_dump_mode ? 1 : 0;
		est_entry_release(&e);
	} else {
		pr_err("inventory.img of a parent: no entry");
		r = -1;
	}
	free(buf);
	return r;
}

/*
 * Which stored pages of @lv[@l] the top dump reaches: need[i] = 1 for the
 * i-th stored page of its page file. A PE_PARENT run of @top is followed
 * down the levels, as the restore follows it (pmc_page()).
 */
void dedup_plan(const struct pmc_map *top, const struct pmc_map *lv, unsigned int l, uint8_t *need)
{
	size_t i;

	memset(need, 0, lv[l].stored / PAGE);
	for (i = 0; top->pid && i < top->nr; i++) {
		const struct pmc_run *t = &top->r[i];
		uint64_t a;

		if (!t->parent)
			continue;
		for (a = t->vaddr; a < t->vaddr + t->nr * PAGE; a += PAGE) {
			unsigned int k;

			for (k = 0; k <= l; k++) {
				const struct pmc_run *r = lv[k].pid ? pmc_find(&lv[k], a) : NULL;

				if (!r)
					break;
				if (r->parent)
					continue;
				if (k == l && (r->off + (a - r->vaddr)) / PAGE < lv[l].stored / PAGE)
					need[(r->off + (a - r->vaddr)) / PAGE] = 1;
				break;
			}
		}
	}
}

/* Punch the runs of pages not needed out of @fd: how many pages, or -1. */
static int64_t punch(int fd, const uint8_t *need, uint64_t pages, const char *name)
{
	uint64_t i = 0, done = 0;

	while (i < pages) {
		uint64_t s;

		while (i < pages && need[i])
			i++;
		for (s = i; i < pages && !need[i]; i++)
			;
		if (i == s)
			continue;
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)(s * PAGE),
			      (off_t)((i - s) * PAGE))) {
			pr_perror("%s: cannot punch pages %llu-%llu", name, (unsigned long long)s,
				  (unsigned long long)i);
			return -1;
		}
		done += i - s;
	}
	return (int64_t)done;
}

/* The pids of the pagemap-PID.img files of @dirfd. */
static int pids_of(int dirfd, unsigned int **pids, size_t *nr)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	size_t cap = 0;

	*pids = NULL;
	*nr = 0;
	if (!d) {
		pr_perror("cannot list a parent's images");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rewinddir(d);	/* the offset is shared with @dirfd's, which may have been read */
	while ((de = readdir(d))) {
		unsigned int pid;
		char tail;

		if (sscanf(de->d_name, "pagemap-%u.im%c", &pid, &tail) != 2 || tail != 'g' || !pid)
			continue;
		if (*nr == cap) {
			unsigned int *n = cap < MAX_PIDS ? realloc(*pids, (cap + 64) * sizeof(*n)) : NULL;

			if (!n) {
				pr_err("more than %d pagemaps, or out of memory", MAX_PIDS);
				closedir(d);
				return -1;
			}
			*pids = n;
			cap += 64;
		}
		(*pids)[(*nr)++] = pid;
	}
	closedir(d);
	return 0;
}

/* Level @l's page file of @pid: the pages the top does not reach punched. */
static int dedup_pid(int topfd, const struct pmc_chain *c, unsigned int l, unsigned int pid,
		     uint64_t *punched)
{
	struct pmc_map top, lv[PMC_MAX_DEPTH];
	uint8_t *need = NULL;
	char name[64];
	unsigned int k;
	int fd = -1, ret = -1;
	int64_t n = 0;
	struct stat st;

	memset(lv, 0, sizeof(lv));
	if (pmc_load(topfd, pid, false, &top) < 0)
		return -1;
	for (k = 0; k <= l; k++)
		if (pmc_load(c->dirfd[k], pid, false, &lv[k]) < 0)
			goto out;
	if (!lv[l].pid || !lv[l].stored) {
		ret = 0;
		goto out;
	}
	snprintf(name, sizeof(name), "pages-%u.img", lv[l].pages_id);
	fd = openat(c->dirfd[l], name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	need = malloc(lv[l].stored / PAGE);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < lv[l].stored ||
	    !need) {
		pr_perror("parent level %u: %s cannot be opened for writing, or is short", l + 1, name);
		goto out;
	}
	dedup_plan(&top, lv, l, need);
	n = punch(fd, need, lv[l].stored / PAGE, name);
	if (n >= 0) {
		*punched += (uint64_t)n;
		pr_info("level %u: %lld of %llu pages of %s punched", l + 1, (long long)n,
			(unsigned long long)(lv[l].stored / PAGE), name);
		ret = 0;
	}
out:
	free(need);
	if (fd >= 0)
		close(fd);
	pmc_free(&top);
	for (k = 0; k <= l; k++)
		pmc_free(&lv[k]);
	return ret;
}

/* @dst's copy of its parent's manifest replaced by @src's manifest (tmp, rename). */
static int copy_manifest(int src, int dst)
{
	static const char part[] = "." PMC_PARENT_MANIFEST ".part";
	uint8_t *buf = NULL;
	size_t len = 0, off = 0;
	int fd, ret = -1;

	if (faccessat(dst, PMC_PARENT_MANIFEST, F_OK, AT_SYMLINK_NOFOLLOW))
		return 0;	/* a dump made without one: nothing to keep in step */
	if (est_load_file(src, MANIFEST_NAME, MANIFEST_MAX_SIZE, &buf, &len) < 0)
		return -1;
	unlinkat(dst, part, 0);
	fd = openat(dst, part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	while (fd >= 0 && off < len) {
		ssize_t w = write(fd, buf + off, len - off);

		if (w <= 0)
			break;
		off += w;
	}
	if (fd >= 0 && off == len && !fsync(fd) && !close(fd)) {
		fd = -1;
		ret = renameat(dst, part, dst, PMC_PARENT_MANIFEST);
	}
	if (ret)
		pr_perror("cannot replace " PMC_PARENT_MANIFEST);
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

/*
 * The manifest of @dirfd again: the page files punched (@pages) and the
 * copy of its parent's manifest (@parent_changed) hashed anew.
 */
static int fix_manifest(int dirfd, bool pages, bool parent_changed)
{
	struct manifest m;
	size_t i;
	int ret = 0;

	if (manifest_read(dirfd, &m))
		return -1;
	for (i = 0; i < m.nr && !ret; i++) {
		const char *n = m.e[i].name;

		if ((pages && !strncmp(n, "pages-", 6)) ||
		    (parent_changed && !strcmp(n, PMC_PARENT_MANIFEST)))
			ret = manifest_hash_file(dirfd, n, &m.e[i].size, &m.e[i].hash);
	}
	if (!ret)
		ret = manifest_replace(dirfd, &m);
	manifest_free(&m);
	return ret;
}

/* Level @l (0: the top's parent) punched where it is a pre-dump; *changed says so. */
static int dedup_level(int topfd, const struct pmc_chain *c, unsigned int l, uint64_t *punched,
		       bool *changed)
{
	unsigned int *pids;
	size_t i, nr;
	int r = is_pre_dump(c->dirfd[l]), ret = 0;

	*changed = false;
	if (r <= 0) {
		if (!r)
			pr_info("level %u is a full dump: left whole (it can be restored by itself)",
				l + 1);
		return r;
	}
	if (pids_of(c->dirfd[l], &pids, &nr))
		return -1;
	for (i = 0; i < nr && !ret; i++)
		ret = dedup_pid(topfd, c, l, pids[i], punched);
	free(pids);
	*changed = !ret;
	return ret;
}

int dedup_dir(int topfd)
{
	struct pmc_chain c;
	bool changed = false, below = false;
	uint64_t punched = 0;
	int l, ret = -1;

	if (pmc_chain_open(topfd, &c))
		return -1;
	if (!c.depth) {
		pr_info("no parent images: nothing to punch");
		return 0;
	}
	/* deepest first: a level's manifest is final before its child copies it */
	for (l = (int)c.depth - 1; l >= 0; l--) {
		if (dedup_level(topfd, &c, (unsigned int)l, &punched, &changed))
			goto out;
		if (below && l + 1 < (int)c.depth && copy_manifest(c.dirfd[l + 1], c.dirfd[l]))
			goto out;
		if ((changed || below) && fix_manifest(c.dirfd[l], changed, below))
			goto out;
		below = changed || below;
	}
	if (below && (copy_manifest(c.dirfd[0], topfd) || fix_manifest(topfd, false, true)))
		goto out;
	pr_info("%llu pages punched out of %u parent levels", (unsigned long long)punched, c.depth);
	ret = 0;
out:
	pmc_chain_close(&c);
	return ret;
}

/* criu dedup -D DIR */
int cmd_dedup(struct cr_options *o)
{
	const char *dir = o->images_dir ? o->images_dir : ".";
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret;

	if (fd < 0) {
		pr_perror("cannot open the images dir %s", dir);
		return -1;
	}
	/* a dump (or pre-dump) always leaves its inventory: else -D names the wrong dir */
	if (faccessat(fd, "inventory.img", F_OK, 0)) {
		pr_err("no dump in %s (no inventory.img): nothing to deduplicate", dir);
		close(fd);
		return -1;
	}
	ret = dedup_dir(fd);
	close(fd);
	return ret;
}
