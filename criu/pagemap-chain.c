/*
 * Parent images of incremental dumps: reading established pagemaps up the
 * chain of `parent` links (include/pagemap-chain.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define LOG_PREFIX "parent: "
#include "log.h"
#include "est-image.h"
#include "manifest.h"
#include "pagemap-chain.h"
#include "est/pagemap.pb-c.h"

#define PAGE		4096ull
#define PMC_MAX_IMAGE	(64u << 20)
#define PMC_MAX_RUNS	(1u << 22)
#define TASK_TOP	(1ull << 47)

/* The whole of @name in @dirfd: 1 read, 0 absent, -1 error. */
static int read_whole(int dirfd, const char *name, uint8_t **buf, size_t *len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	size_t got = 0;

	*buf = NULL;
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > PMC_MAX_IMAGE) {
		pr_perror("%s: not a readable regular file of at most %u bytes", name, PMC_MAX_IMAGE);
		goto err;
	}
	*buf = malloc(st.st_size ? st.st_size : 1);
	while (*buf && got < (size_t)st.st_size) {
		ssize_t n = read(fd, *buf + got, st.st_size - got);

		if (n <= 0) {
			pr_perror("cannot read %s", name);
			goto err;
		}
		got += n;
	}
	if (!*buf)
		goto err;
	close(fd);
	*len = got;
	return 1;
err:
	if (fd >= 0)
		close(fd);
	free(*buf);
	*buf = NULL;
	return -1;
}

static int add_run(struct pmc_map *m, const Est__PagemapEntry *pe, uint64_t *off, const char *name)
{
	uint64_t nr = pe->has_nr_pages ? pe->nr_pages : pe->compat_nr_pages;
	bool parent = (pe->has_in_parent && pe->in_parent) ||
		      (pe->has_flags && (pe->flags & EPE_PARENT));
	uint64_t prev = m->nr ? m->r[m->nr - 1].vaddr + m->r[m->nr - 1].nr * PAGE : 0;
	struct pmc_run *r;

	if (!nr || pe->vaddr & (PAGE - 1) || pe->vaddr >= TASK_TOP || nr > (TASK_TOP - pe->vaddr) / PAGE ||
	    pe->vaddr < prev || m->nr == PMC_MAX_RUNS ||
	    (pe->has_flags && (pe->flags & ~(EPE_PARENT | EPE_PRESENT | EPE_LAZY)))) {
		pr_err("%s: run at %#llx of %llu pages: out of order, out of range or odd flags", name,
		       (unsigned long long)pe->vaddr, (unsigned long long)nr);
		return -1;
	}
	if (!(m->nr & (m->nr + 1)) || !m->r) {	/* grow at 0, 1, 3, 7 ... */
		struct pmc_run *n = realloc(m->r, (2 * m->nr + 2) * sizeof(*n));

		if (!n)
			return -1;
		m->r = n;
	}
	r = &m->r[m->nr++];
	r->vaddr = pe->vaddr;
	r->nr = nr;
	r->parent = parent;
	r->off = *off;
	if (!parent)
		*off += nr * PAGE;
	return 0;
}

static int open_pages(int dirfd, struct pmc_map *m, unsigned int id, uint64_t need, const char *img)
{
	char name[64];
	struct stat st;

	snprintf(name, sizeof(name), "pages-%u.img", id);
	m->pages_fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (m->pages_fd < 0 || fstat(m->pages_fd, &st) || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size < need) {
		pr_err("%s: %s is missing or does not hold the %llu bytes of the runs", img, name,
		       (unsigned long long)need);
		return -1;
	}
	return 0;
}

int pmc_load(int dirfd, unsigned int pid, bool want_pages, struct pmc_map *m)
{
	const struct est_kind *kind;
	struct est_parser p;
	struct est_entry e;
	unsigned int pages_id = 0;
	uint64_t off = 0;
	char name[64];
	uint8_t *buf;
	size_t len;
	int r;

	memset(m, 0, sizeof(*m));
	m->pages_fd = -1;
	snprintf(name, sizeof(name), "pagemap-%u.img", pid);
	kind = est_kind_by_name(name);
	r = read_whole(dirfd, name, &buf, &len);
	if (r <= 0 || !kind)
		return r < 0 || !kind ? -1 : 0;
	r = est_parse_init(&p, kind, buf, len, name);
	while (!r && (r = est_parse_next(&p, &e)) == 1) {
		bool head = e.desc == &est__pagemap_head__descriptor;

		if (head != !pages_id) {
			pr_err("%s: a run before the head, or two heads", name);
			r = -1;
		} else if (head) {
			pages_id = ((Est__PagemapHead *)e.msg)->pages_id;
			r = pages_id ? 0 : -1;
		} else {
			r = add_run(m, (Est__PagemapEntry *)e.msg, &off, name);
		}
		est_entry_release(&e);
	}
	free(buf);
	if (!r && !pages_id) {
		pr_err("%s: no head", name);
		r = -1;
	}
	if (!r && want_pages && open_pages(dirfd, m, pages_id, off, name))
		r = -1;
	if (r) {
		pmc_free(m);
		return -1;
	}
	m->pid = pid;
	m->pages_id = pages_id;
	m->stored = off;
	return 1;
}

const struct pmc_run *pmc_next(const struct pmc_map *m, uint64_t addr)
{
	size_t lo = 0, hi = m->nr;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (m->r[mid].vaddr + m->r[mid].nr * PAGE <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < m->nr ? &m->r[lo] : NULL;
}

const struct pmc_run *pmc_find(const struct pmc_map *m, uint64_t addr)
{
	const struct pmc_run *r = pmc_next(m, addr);

	return r && r->vaddr <= addr ? r : NULL;
}

void pmc_free(struct pmc_map *m)
{
	free(m->r);
	if (m->pages_fd >= 0)
		close(m->pages_fd);
	memset(m, 0, sizeof(*m));
	m->pages_fd = -1;
}

/* The child's copy of its parent's manifest must be the parent's manifest, byte for byte. */
static int check_parent_manifest(int child, int parent, unsigned int level)
{
	uint8_t *a = NULL, *b = NULL;
	size_t la = 0, lb = 0;
	int ra = read_whole(child, PMC_PARENT_MANIFEST, &a, &la);
	int rb = ra > 0 ? read_whole(parent, MANIFEST_NAME, &b, &lb) : 0;
	int ret = 0;

	if (ra < 0 || rb < 0)
		ret = -1;
	else if (ra > 0 && (!rb || la != lb || memcmp(a, b, la))) {
		pr_err("parent images (level %u) are not the ones this dump was made on: their "
		       MANIFEST_NAME " differs from " PMC_PARENT_MANIFEST, level);
		ret = -1;
	}
	free(a);
	free(b);
	return ret;
}

static int open_level(struct pmc_chain *c, int child, struct stat *seen)
{
	unsigned int i, l = c->depth;
	int fd = openat(child, PMC_PARENT_LINK, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT && faccessat(child, PMC_PARENT_LINK, F_OK, AT_SYMLINK_NOFOLLOW))
		return 0;
	if (fd < 0) {
		pr_perror("the parent images (level %u, the `" PMC_PARENT_LINK "` link) are missing", l + 1);
		return -1;
	}
	if (l == PMC_MAX_DEPTH) {
		pr_err("a chain of parent images deeper than %d is not supported", PMC_MAX_DEPTH);
		goto err;
	}
	if (fstat(fd, &seen[l + 1]))
		goto err;
	for (i = 0; i <= l; i++)
		if (seen[i].st_dev == seen[l + 1].st_dev && seen[i].st_ino == seen[l + 1].st_ino) {
			pr_err("the parent images (level %u) loop back to a dump of the chain", l + 1);
			goto err;
		}
	if (check_parent_manifest(child, fd, l + 1) || manifest_check(fd) < 0)
		goto err;
	c->dirfd[l] = fd;
	c->map[l].pages_fd = -1;
	c->depth++;
	return 1;
err:
	close(fd);
	return -1;
}

int pmc_chain_open(int dirfd, struct pmc_chain *c)
{
	struct stat seen[PMC_MAX_DEPTH + 2];
	int r;

	memset(c, 0, sizeof(*c));
	if (fstat(dirfd, &seen[0]))
		return -1;
	do
		r = open_level(c, c->depth ? c->dirfd[c->depth - 1] : dirfd, seen);
	while (r > 0);
	if (r < 0)
		pmc_chain_close(c);
	return r < 0 ? -1 : 0;
}

int pmc_page(struct pmc_chain *c, unsigned int pid, uint64_t addr, int *fd, uint64_t *off)
{
	unsigned int l;

	for (l = 0; l < c->depth; l++) {
		struct pmc_map *m = &c->map[l];
		const struct pmc_run *r;

		if (m->pid != pid) {
			pmc_free(m);
			if (pmc_load(c->dirfd[l], pid, true, m) <= 0)
				break;
		}
		r = pmc_find(m, addr);
		if (!r)
			break;
		if (!r->parent) {
			*fd = m->pages_fd;
			*off = r->off + (addr - r->vaddr);
			return 1;
		}
	}
	pr_err("page %#llx of %u is in no parent image (%u levels looked at)",
	       (unsigned long long)addr, pid, l < c->depth ? l + 1 : c->depth);
	return -1;
}

void pmc_chain_close(struct pmc_chain *c)
{
	unsigned int l;

	for (l = 0; l < c->depth; l++) {
		pmc_free(&c->map[l]);
		close(c->dirfd[l]);
	}
	c->depth = 0;
}
