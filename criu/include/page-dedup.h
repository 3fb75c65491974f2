#ifndef CRIU_PAGE_DEDUP_H
#define CRIU_PAGE_DEDUP_H
/*
 * criu dedup, --auto-dedup (page-dedup.c): pages of parent pre-dumps the
 * dump in a directory no longer reads punched out, the chain's manifests
 * kept true.
 */
#include <stdint.h>

struct pmc_map;

/* The chain under the dump in @dirfd punched and its manifests rewritten: 0 or -1 logged. */
int dedup_dir(int dirfd);
/* need[i] = 1 for each stored page i of @lv[@l] that @top reaches through @lv[0..@l]. */
void dedup_plan(const struct pmc_map *top, const struct pmc_map *lv, unsigned int l, uint8_t *need);

#endif
