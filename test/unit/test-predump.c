/*
 * Incremental dumps: PAGEMAP_SCAN answers folded into runs
 * (criu/pagemap-scan.c), parent pagemaps read and the chain of `parent`
 * links followed (criu/pagemap-chain.c).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "est-image.h"
#include "log.h"
#include "manifest.h"
#include "page-dedup.h"
#include "pagemap-chain.h"
#include "pagemap-scan.h"
#include "est/inventory.pb-c.h"
#include "est/pagemap.pb-c.h"
#include "tmpdir.h"
#include "unit.h"

#define P	4096ull
#define W	(PAGE_IS_PRESENT | PAGE_IS_WRITTEN)

struct runs {
	struct scan_run r[16];
	int n, fail_at;
};

static int take(void *arg, const struct scan_run *r)
{
	struct runs *o = arg;

	if (o->n == o->fail_at || o->n == 16)
		return -1;
	o->r[o->n++] = *r;
	return 0;
}

static int test_fold(void)
{
	struct page_region v[] = {
		{ 0x10000, 0x12000, W }, { 0x12000, 0x13000, W },	/* join */
		{ 0x13000, 0x15000, PAGE_IS_PRESENT },			/* old */
		{ 0x16000, 0x17000, PAGE_IS_PRESENT },			/* a gap: a new run */
	};
	struct page_region next[] = { { 0x17000, 0x18000, PAGE_IS_PRESENT }, { 0x18000, 0x19000, W } };
	struct scan_run cur = { 0 };
	struct runs o = { .fail_at = -1 };

	CHECK(scan_fold(v, 4, 0x10000, 0x20000, true, &cur, take, &o) == 0);
	CHECK(o.n == 2);
	CHECK(o.r[0].start == 0x10000 && o.r[0].end == 0x13000 && !o.r[0].old);
	CHECK(o.r[1].start == 0x13000 && o.r[1].end == 0x15000 && o.r[1].old);
	CHECK(cur.start == 0x16000 && cur.end == 0x17000 && cur.old);
	/* the next answer continues the run it left open */
	CHECK(scan_fold(next, 2, 0x10000, 0x20000, true, &cur, take, &o) == 0);
	CHECK(o.n == 3 && o.r[2].start == 0x16000 && o.r[2].end == 0x18000);
	CHECK(cur.start == 0x18000 && cur.end == 0x19000 && !cur.old);
	/* without tracking every region is written: one run */
	memset(&cur, 0, sizeof(cur));
	o.n = 0;
	CHECK(scan_fold(v, 3, 0x10000, 0x20000, false, &cur, take, &o) == 0);
	CHECK(o.n == 0 && cur.start == 0x10000 && cur.end == 0x15000 && !cur.old);
	return 0;
}

static int test_fold_refuses(void)
{
	static const struct page_region bad[][2] = {
		{ { 0x10000, 0x10000, W } },				/* empty */
		{ { 0x10800, 0x11000, W } },				/* unaligned */
		{ { 0x0f000, 0x11000, W } },				/* below the range */
		{ { 0x1f000, 0x21000, W } },				/* beyond it */
		{ { 0x12000, 0x13000, W }, { 0x11000, 0x12000, W } },	/* backwards */
		{ { 0x12000, 0x14000, W }, { 0x13000, 0x15000, W } },	/* overlapping */
	};
	struct page_region two[] = { { 0x10000, 0x11000, W }, { 0x12000, 0x13000, 0 } };
	struct scan_run cur;
	struct runs o = { .fail_at = -1 };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&cur, 0, sizeof(cur));
		CHECK(scan_fold(bad[i], bad[i][1].end ? 2 : 1, 0x10000, 0x20000, true, &cur, take,
				&o) == -1);
	}
	/* a region before the end of the run already open */
	cur = (struct scan_run){ 0x10000, 0x14000, false };
	CHECK(scan_fold(two, 1, 0x10000, 0x20000, true, &cur, take, &o) == -1);
	/* the sink's failure stops the fold */
	memset(&cur, 0, sizeof(cur));
	o = (struct runs){ .fail_at = 0 };
	CHECK(scan_fold(two, 2, 0x10000, 0x20000, true, &cur, take, &o) == -1);
	return 0;
}

/* An established pagemap-@pid.img: head, then @n runs (flags 1: in the parent). */
static int put_pagemap(int dirfd, unsigned int pid, const uint64_t (*runs)[3], size_t n)
{
	uint8_t buf[4096];
	size_t len = 0, i;
	char name[64];
	int fd;
	uint32_t w[2] = { htole32(EST_MAGIC_COMMON), htole32(0x56084025) };
	Est__PagemapHead h = EST__PAGEMAP_HEAD__INIT;

	memcpy(buf, w, 8);
	len = 8;
	h.pages_id = 1;
	for (i = 0; i <= n; i++) {
		Est__PagemapEntry e = EST__PAGEMAP_ENTRY__INIT;
		const ProtobufCMessage *m = &h.base;
		uint32_t sz;

		if (i) {
			e.vaddr = runs[i - 1][0];
			e.compat_nr_pages = (uint32_t)runs[i - 1][1];
			e.has_flags = true;
			e.flags = (uint32_t)runs[i - 1][2];
			m = &e.base;
		}
		sz = htole32((uint32_t)protobuf_c_message_get_packed_size(m));
		memcpy(buf + len, &sz, 4);
		len += 4 + protobuf_c_message_pack(m, buf + len + 4);
	}
	snprintf(name, sizeof(name), "pagemap-%u.img", pid);
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		return -1;
	close(fd);
	return 0;
}

static int put_pages(int dirfd, size_t pages, uint8_t seed)
{
	uint8_t page[P];
	size_t i;
	int fd = openat(dirfd, "pages-1.img", O_WRONLY | O_CREAT | O_TRUNC, 0600);

	for (i = 0; fd >= 0 && i < pages; i++) {
		memset(page, seed + (int)i, sizeof(page));
		if (write(fd, page, P) != (ssize_t)P)
			return -1;
	}
	return fd < 0 ? -1 : close(fd);
}

static int test_load(void)
{
	const uint64_t runs[][3] = { { 0x10000, 2, 4 }, { 0x12000, 3, 1 }, { 0x20000, 1, 4 } };
	const uint64_t backwards[][3] = { { 0x20000, 1, 4 }, { 0x10000, 1, 4 } };
	const uint64_t odd[][3] = { { 0x10000, 1, 8 } };
	struct pmc_map m;
	int dirfd = unit_fresh_dir("predump");

	CHECK(dirfd >= 0 && put_pagemap(dirfd, 7, runs, 3) == 0 && put_pages(dirfd, 3, 1) == 0);
	CHECK(pmc_load(dirfd, 7, true, &m) == 1);
	CHECK(m.nr == 3 && m.r[1].parent && !m.r[2].parent && m.r[2].off == 2 * P);
	CHECK(pmc_find(&m, 0x13000) == &m.r[1] && !pmc_find(&m, 0x15000));
	CHECK(pmc_next(&m, 0x15000) == &m.r[2] && !pmc_next(&m, 0x21000));
	pmc_free(&m);
	CHECK(pmc_load(dirfd, 8, false, &m) == 0);		/* no such process there */
	CHECK(put_pages(dirfd, 2, 1) == 0);			/* less data than the runs */
	CHECK(pmc_load(dirfd, 7, true, &m) == -1);
	CHECK(put_pagemap(dirfd, 9, backwards, 2) == 0 && pmc_load(dirfd, 9, false, &m) == -1);
	CHECK(put_pagemap(dirfd, 9, odd, 1) == 0 && pmc_load(dirfd, 9, false, &m) == -1);
	return 0;
}

/* An established inventory.img; @pre: a pre-dump's (pre_dump_mode 2). */
static int put_inventory(int dirfd, bool pre)
{
	Est__InventoryEntry inv = EST__INVENTORY_ENTRY__INIT;

	inv.img_version = 2;
	inv.has_pre_dump_mode = pre;
	inv.pre_dump_mode = 2;
	return est_write_one(dirfd, "inventory.img", &inv.base);
}

/*
 * d0 <- d1 <- d2 (each one's `parent` link to the one before), manifests
 * written; d0 and d1 pre-dumps when @pre.
 */
static int make_chain_of(int top, int fd[3], bool pre)
{
	static const uint64_t r0[][3] = { { 0x10000, 2, 4 } };
	static const uint64_t r1[][3] = { { 0x10000, 1, 1 }, { 0x11000, 1, 4 } };
	static const uint64_t r2[][3] = { { 0x10000, 2, 1 } };
	const uint64_t (*r[3])[3] = { r0, r1, r2 };
	char name[8], link[8];
	int i;

	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		if (mkdirat(top, name, 0700))
			return -1;
		fd[i] = openat(top, name, O_RDONLY | O_DIRECTORY);
		if (fd[i] < 0 || put_pagemap(fd[i], 5, r[i], i == 1 ? 2 : 1) ||
		    put_pages(fd[i], i == 2 ? 0 : i == 1 ? 1 : 2, (uint8_t)(10 * i)))
			return -1;
		if (i) {
			snprintf(link, sizeof(link), "../d%d", i - 1);
			if (symlinkat(link, fd[i], PMC_PARENT_LINK) ||
			    linkat(fd[i - 1], MANIFEST_NAME, fd[i], PMC_PARENT_MANIFEST, 0))
				return -1;
		}
		if ((i < 2 && put_inventory(fd[i], pre && i < 2)) || manifest_write(fd[i]))
			return -1;
	}
	return 0;
}

static int make_chain(int top, int fd[3])
{
	return make_chain_of(top, fd, true);
}

static int test_chain(void)
{
	int top = unit_fresh_dir("predump"), fd[3], pfd;
	struct pmc_chain c;
	uint64_t off;
	uint8_t b;

	CHECK(top >= 0 && make_chain(top, fd) == 0);
	CHECK(pmc_chain_open(fd[2], &c) == 0 && c.depth == 2);
	/* page 0x10000: d1 leaves it to d0 (its first page), 0x11000: d1's own */
	CHECK(pmc_page(&c, 5, 0x10000, &pfd, &off) == 1 && off == 0);
	CHECK(pread(pfd, &b, 1, off) == 1 && b == 0);
	CHECK(pmc_page(&c, 5, 0x11000, &pfd, &off) == 1 && off == 0);
	CHECK(pread(pfd, &b, 1, off) == 1 && b == 10);
	CHECK(pmc_page(&c, 5, 0x30000, &pfd, &off) == -1);	/* in no parent */
	CHECK(pmc_page(&c, 6, 0x10000, &pfd, &off) == -1);	/* no such process */
	pmc_chain_close(&c);
	/* a changed parent: its manifest says so */
	CHECK(put_pages(fd[0], 2, 99) == 0);
	CHECK(pmc_chain_open(fd[2], &c) == -1);
	CHECK(put_pages(fd[0], 2, 0) == 0 && pmc_chain_open(fd[2], &c) == 0);
	pmc_chain_close(&c);
	/* a parent whose manifest is not the one its child copied */
	CHECK(unlinkat(fd[1], PMC_PARENT_MANIFEST, 0) == 0);
	CHECK(symlinkat("/nonexistent", fd[1], PMC_PARENT_MANIFEST) == 0);
	CHECK(pmc_chain_open(fd[2], &c) == -1);
	CHECK(unlinkat(fd[1], PMC_PARENT_MANIFEST, 0) == 0);
	CHECK(linkat(fd[2], MANIFEST_NAME, fd[1], PMC_PARENT_MANIFEST, 0) == 0);	/* another's */
	CHECK(pmc_chain_open(fd[2], &c) == -1);
	CHECK(unlinkat(fd[1], PMC_PARENT_MANIFEST, 0) == 0);
	CHECK(linkat(fd[0], MANIFEST_NAME, fd[1], PMC_PARENT_MANIFEST, 0) == 0);
	/* a loop, then a missing parent */
	CHECK(symlinkat("../d2", fd[0], PMC_PARENT_LINK) == 0);
	CHECK(pmc_chain_open(fd[2], &c) == -1);
	CHECK(unlinkat(fd[0], PMC_PARENT_LINK, 0) == 0 && renameat(top, "d0", top, "gone") == 0);
	CHECK(pmc_chain_open(fd[2], &c) == -1);
	CHECK(pmc_chain_open(fd[0], &c) == 0 && c.depth == 0);	/* no link: no parents */
	return 0;
}

/* Byte @off of @name in @dirfd, or -1. */
static int byte_at(int dirfd, const char *name, off_t off)
{
	int fd = openat(dirfd, name, O_RDONLY);
	uint8_t b;
	ssize_t n = fd >= 0 ? pread(fd, &b, 1, off) : -1;

	if (fd >= 0)
		close(fd);
	return n == 1 ? b : -1;
}

static int test_dedup(void)
{
	int top = unit_fresh_dir("predump"), fd[3], pfd;
	struct pmc_map t, lv[2];
	struct pmc_chain c;
	uint8_t need[2];
	uint64_t off;
	uint8_t b;

	CHECK(top >= 0 && make_chain(top, fd) == 0);
	/* d2 reads 0x10000 from d0 (its page 0) and 0x11000 from d1: d0's page 1 is superseded */
	CHECK(pmc_load(fd[2], 5, false, &t) == 1 && pmc_load(fd[1], 5, false, &lv[0]) == 1 &&
	      pmc_load(fd[0], 5, false, &lv[1]) == 1);
	dedup_plan(&t, lv, 1, need);
	CHECK(need[0] == 1 && need[1] == 0);
	dedup_plan(&t, lv, 0, need);
	CHECK(need[0] == 1);
	pmc_free(&t);
	CHECK(pmc_load(fd[2], 6, false, &t) == 0);	/* a process gone since: nothing reached */
	dedup_plan(&t, lv, 1, need);
	CHECK(need[0] == 0 && need[1] == 0);
	pmc_free(&lv[0]);
	pmc_free(&lv[1]);
	CHECK(byte_at(fd[0], "pages-1.img", P) == 1 && dedup_dir(fd[2]) == 0);
	CHECK(byte_at(fd[0], "pages-1.img", P) == 0 && byte_at(fd[0], "pages-1.img", 0) == 0);
	/* the manifests of the chain are true again: it opens, the pages are where they were */
	CHECK(pmc_chain_open(fd[2], &c) == 0 && c.depth == 2);
	CHECK(pmc_page(&c, 5, 0x11000, &pfd, &off) == 1 && pread(pfd, &b, 1, off) == 1 && b == 10);
	pmc_chain_close(&c);
	CHECK(dedup_dir(fd[2]) == 0 && pmc_chain_open(fd[2], &c) == 0);	/* again: the same */
	pmc_chain_close(&c);
	return 0;
}

/* A parent that is a full dump stays whole: it can be restored by itself. */
static int test_dedup_full(void)
{
	int top = unit_fresh_dir("predump"), fd[3];
	struct pmc_chain c;

	CHECK(top >= 0 && make_chain_of(top, fd, false) == 0);
	CHECK(dedup_dir(fd[2]) == 0 && byte_at(fd[0], "pages-1.img", P) == 1);
	CHECK(pmc_chain_open(fd[2], &c) == 0);
	pmc_chain_close(&c);
	return 0;
}

static const struct unit_case cases[] = {
	{ "PAGEMAP_SCAN regions fold into written and old runs", test_fold },
	{ "bad PAGEMAP_SCAN regions are refused", test_fold_refuses },
	{ "a parent pagemap is read and checked", test_load },
	{ "the parent chain is followed, checked and bounded", test_chain },
	{ "dedup punches what the top does not reach, manifests kept true", test_dedup },
	{ "dedup leaves a full dump whole", test_dedup_full },
};

int main(int argc, char **argv)
{
	(void)argc;
	log_init(NULL, NULL, getenv("UNIT_LOG") ? LOG_ERROR : LOG_NONE);
	return unit_run(argv[0], cases, ARRAY_SIZE(cases));
}
