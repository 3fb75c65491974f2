/*
 * Dump: memory tracking for incremental dumps (Documentation/predump.md).
 *
 * This kernel has no soft-dirty bits, so writes are tracked with
 * userfaultfd write-protect in async mode: the parasite makes a userfaultfd
 * in the task (UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED) and
 * registers the task's private mappings with UFFDIO_REGISTER_MODE_WP; the
 * kernel then only clears a page's write-protect bit on a write, without
 * any fault reaching anyone. dump_pages() reads the bits back with
 * PAGEMAP_SCAN (PAGE_IS_WRITTEN) and protects again what it stores in the
 * same call (PM_SCAN_WP_MATCHING).
 *
 * The userfaultfd must stay open in the task (its release unregisters every
 * mapping): it is kept at the highest free descriptor number below the
 * task's RLIMIT_NOFILE, close-on-exec, and a dump leaves it out of the
 * task's descriptors (dump_track_find()).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <compel/compel.h>
#include "kernel-compat.h"

#define LOG_PREFIX "dump: "
#include "log.h"
#include "dump.h"
#include "kerndat.h"
#include "page-read.h"
#include "pagemap-chain.h"
#include "parasite-proto.h"
#include "proc_parse.h"

#define UFFD_LINK	"anon_inode:[userfaultfd]"
#define UFFD_INITIALIZED (1ull << 31)	/* the kernel's own bit in fdinfo's API line */

static bool scanned_kind(const VmaEntry *v)
{
	return v->kind == VMA_KIND__VMA_ANON_PRIVATE || v->kind == VMA_KIND__VMA_FILE_PRIVATE ||
	       v->kind == VMA_KIND__VMA_SHMEM_PRIVATE;
}

/* The features of userfaultfd @fd of @pid (fdinfo "API:\tAPI:FEATURES:IOCTLS"). */
static int uffd_features(pid_t pid, int fd, uint64_t *features)
{
	char path[64], line[256];
	unsigned long long api, f;
	FILE *in;
	int ret = -1;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	in = fopen(path, "re");
	while (in && fgets(line, sizeof(line), in))
		if (sscanf(line, "API:\t%llx:%llx:", &api, &f) == 2) {
			*features = f & ~UFFD_INITIALIZED;
			ret = 0;
		}
	if (in)
		fclose(in);
	if (ret)
		pr_err("%s: no API line for a userfaultfd", path);
	return ret;
}

static bool same_file(pid_t a, int fa, pid_t b, int fb)
{
	return syscall(SYS_kcmp, a, b, 0 /* KCMP_FILE */, fa, fb) == 0;
}

/*
 * Our userfaultfd in @t: one with exactly our features. Another userfaultfd
 * is left to the descriptor dump, which refuses it. One inherited through
 * fork() from a tracked parent names the parent's memory: the child's
 * mappings lost their registration at fork, and a tracking run gives it a
 * new one at the same number.
 */
/*
 * Only looked for where it can be (the fds are not read twice for nothing):
 * a tracking run, a mapping with "uw", a parent that has one.
 */
static bool may_track(const struct dump_task *t)
{
	size_t i;

	if (t->tree->pre || t->o->track_mem || (t->parent && t->parent->track_fd >= 0))
		return true;
	for (i = 0; i < t->pvmas.nr; i++)
		if (t->pvmas.v[i].vmflags & PROC_VMF(UW))
			return true;
	return false;
}

int dump_track_find(struct dump_task *t)
{
	char path[64], link[64];
	struct dirent *de;
	DIR *d;
	int ret = 0;

	t->track_fd = -1;
	t->track_fresh = false;
	if (!may_track(t))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/fd", t->pid);
	d = opendir(path);
	if (!d) {
		pr_perror("can't open %s", path);
		return -1;
	}
	while (!ret && (de = readdir(d))) {
		int fd = atoi(de->d_name);
		uint64_t f;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		if (n <= 0 || (link[n] = 0, strcmp(link, UFFD_LINK)))
			continue;
		if (uffd_features(t->pid, fd, &f)) {
			ret = -1;
		} else if (f == TRACK_FEATURES && t->track_fd >= 0) {
			pr_err("%d holds two memory-tracking userfaultfds (%d, %d): not supported yet",
			       t->pid, t->track_fd, fd);
			ret = -1;
		} else if (f == TRACK_FEATURES) {
			t->track_fd = fd;
		}
	}
	closedir(d);
	if (!ret && t->track_fd >= 0 && t->parent && t->parent->track_fd >= 0 &&
	    same_file(t->pid, t->track_fd, t->parent->pid, t->parent->track_fd))
		t->track_fresh = true;
	if (t->track_fd >= 0)
		pr_info("%d: memory-tracking userfaultfd at fd %d%s", t->pid, t->track_fd,
			t->track_fresh ? " (inherited from its parent)" : "");
	return ret;
}

/* Is the vma @pv (smaps) tracked since the last tracking run? */
bool dump_track_vma_old(const struct dump_task *t, const struct proc_vma *pv)
{
	return t->track_fd >= 0 && !t->track_fresh && (pv->vmflags & PROC_VMF(UW));
}

/* The highest free descriptor number below the task's RLIMIT_NOFILE. */
static int pick_fd(struct dump_task *t)
{
	struct proc_limits l;
	rlim_t top;
	int fd;

	if (proc_read_limits(t->pid, &l))
		return -1;
	top = l.lim[RLIMIT_NOFILE].rlim_cur;
	if (top > (1 << 20))
		top = 1 << 20;
	for (fd = (int)top - 1; fd > 2; fd--) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/fd/%d", t->pid, fd);
		if (access(path, F_OK) && errno == ENOENT)
			return fd;
	}
	pr_err("%d has no free descriptor for memory tracking: not supported yet", t->pid);
	return -1;
}

static int need_kernel(void)
{
	kerndat_probe(KD_UFFD_WP_ASYNC);
	kerndat_probe(KD_PAGEMAP_SCAN);
	if (kdat.has_uffd_wp_async && kdat.has_pagemap_scan &&
	    (kdat.uffd_features & TRACK_FEATURES) == TRACK_FEATURES)
		return 0;
	pr_err("memory tracking needs userfaultfd write-protect in async mode (UFFD_FEATURE_WP_ASYNC, "
	       "6.7) and PAGEMAP_SCAN; this kernel lacks them, and soft-dirty tracking is not "
	       "supported yet");
	return -1;
}

static int call_parasite(struct dump_task *t)
{
	int ret = -1;

	if (compel_rpc_call(t->ctl, PARASITE_CMD_TRACK_MEM, NULL, 0) ||
	    compel_rpc_wait(t->ctl, &ret) || ret) {
		pr_err("%d: the parasite could not set up memory tracking: %d", t->pid, ret);
		return -1;
	}
	return 0;
}

/*
 * Infected, before the pages: every scanned vma gets its state (old:
 * tracked since the last run; new: registered now; none), and what is not
 * tracked yet is registered, so the next run finds it tracked.
 */
int dump_track_begin(struct dump_task *t)
{
	struct parasite_track *a = compel_args(t->ctl);
	size_t i, nr = t->mm.n_vmas;
	int *idx;

	if (need_kernel() || (t->tree->pre && page_read_mode(t->o) && page_read_begin(t)))
		return -1;
	t->track_st = calloc(nr ? nr : 1, sizeof(*t->track_st));
	idx = calloc(nr ? nr : 1, sizeof(*idx));
	if (!t->track_st || !idx) {
		free(idx);
		return -1;
	}
	memset(a, 0, sizeof(*a));
	a->features = TRACK_FEATURES;
	a->create = t->track_fd < 0 || t->track_fresh;
	a->fd = t->track_fd >= 0 ? t->track_fd : pick_fd(t);
	for (i = 0; i < nr && a->fd >= 0; i++) {
		const VmaEntry *v = t->mm.vmas[i];

		if (!scanned_kind(v))
			continue;
		if (!a->create && dump_track_vma_old(t, &t->pvmas.v[i])) {
			t->track_st[i] = TRACK_OLD;
			continue;
		}
		if (a->nr == PARASITE_MAX_TRACK)
			continue;	/* stays untracked: dumped whole next time too */
		idx[a->nr] = (int)i;
		a->range[a->nr].base = v->start;
		a->range[a->nr].len = v->end - v->start;
		a->nr++;
	}
	if (a->fd < 0 || call_parasite(t)) {
		free(idx);
		return -1;
	}
	for (i = 0; i < a->nr; i++) {
		if (a->res[i])
			pr_info("%d: %llx-%llx cannot be tracked (%d): dumped whole each time", t->pid,
				(unsigned long long)a->range[i].base,
				(unsigned long long)(a->range[i].base + a->range[i].len), a->res[i]);
		else
			t->track_st[idx[i]] = TRACK_NEW;
	}
	t->track_fd = a->fd;
	t->track_fresh = false;
	free(idx);
	return 0;
}

/* The parent dump's pagemap of this process (none: it was not in it). */
int dump_track_parent(struct dump_task *t, int prev_fd)
{
	int r;

	if (prev_fd < 0)
		return 0;
	r = pmc_load(prev_fd, (unsigned int)t->vpid, false, &t->track_parent);
	if (r == 0)
		pr_info("%d is not in the parent images: all its pages are written", t->pid);
	return r < 0 ? -1 : 0;
}

void dump_track_free(struct dump_task *t)
{
	free(t->track_st);
	t->track_st = NULL;
	pmc_free(&t->track_parent);
	page_read_free(t);
}
