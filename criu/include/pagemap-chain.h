/*
 * Parent images of incremental dumps (Documentation/predump.md): a dump made
 * with --prev-images-dir has a `parent` symbolic link to that directory, and
 * its pagemap runs with PE_PARENT (established: flags 1, in_parent) have
 * their data somewhere up that chain.
 *
 * Usage:
 *   1. pmc_chain_open(dirfd, &c)        follows the `parent` links: at most
 *                                       PMC_MAX_DEPTH, a loop refused, a
 *                                       missing parent a clear error; each
 *                                       parent checked against its manifest
 *                                       and the copy its child holds of it
 *   2. pmc_page(&c, pid, addr, &fd, &off)  where a page's data lies
 *   3. pmc_chain_close(&c)
 * pmc_load() reads one established pagemap-PID.img (dump-track.c uses it to
 * see what the parent dump holds). Everything read is untrusted.
 */
#ifndef CRIU_PAGEMAP_CHAIN_H
#define CRIU_PAGEMAP_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PMC_MAX_DEPTH		32
#define PMC_PARENT_LINK		"parent"
#define PMC_PARENT_MANIFEST	"parent-manifest"	/* the parent's criu-manifest, copied */

struct pmc_run {
	uint64_t	vaddr, nr;
	uint64_t	off;		/* in the page file; PE_PRESENT runs */
	bool		parent;		/* in_parent: no data here */
};

struct pmc_map {
	unsigned int	pid;		/* 0: nothing loaded */
	struct pmc_run	*r;
	size_t		nr;
	int		pages_fd;	/* -1 unless asked for */
	unsigned int	pages_id;	/* pages-N.img of its head */
	uint64_t	stored;		/* bytes of its stored runs (the page file's size) */
};

/* 1 loaded, 0 no pagemap for @pid there, -1 error (logged). */
int pmc_load(int dirfd, unsigned int pid, bool open_pages, struct pmc_map *m);
/* The run holding @addr, or NULL; pmc_next: the first run ending above @addr, or NULL. */
const struct pmc_run *pmc_find(const struct pmc_map *m, uint64_t addr);
const struct pmc_run *pmc_next(const struct pmc_map *m, uint64_t addr);
void pmc_free(struct pmc_map *m);

struct pmc_chain {
	int		dirfd[PMC_MAX_DEPTH];	/* [0]: the parent, [1] its parent ... */
	struct pmc_map	map[PMC_MAX_DEPTH];
	unsigned int	depth;
};

/* 0 with c->depth parents (0: no `parent` link), -1 refused (logged). */
int pmc_chain_open(int dirfd, struct pmc_chain *c);
/* 1 with *fd, *off; -1 when no parent holds the page (logged). */
int pmc_page(struct pmc_chain *c, unsigned int pid, uint64_t addr, int *fd, uint64_t *off);
void pmc_chain_close(struct pmc_chain *c);

#endif /* CRIU_PAGEMAP_CHAIN_H */
