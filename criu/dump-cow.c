/*
 * Dump: pages a process still shares with its parent since fork().
 *
 * After fork() parent and child map the same physical page until one of
 * them writes to it. Such a page needs storing once, in the parent's
 * images: the child's pagemap names the run with PE_COW and no data, and
 * the restore lets the child inherit the parent's copy by forking it after
 * the parent has put its memory in place, so the page is shared again.
 *
 * Two pages are the same page when both pagemap entries are present (not
 * swapped) and carry the same PFN (visible to criu: it has CAP_SYS_ADMIN).
 * A child page the child maps exclusively cannot be shared; a file page of
 * a private file mapping is not the task's own copy and is never stored.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "dump: "
#include "log.h"
#include "dump.h"
#include "vma.h"
#include "pagemap-flags.h"

#define PAGE		4096ull
#define BATCH		512

int dump_open_pagemap(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		pr_perror("can't open %s", path);
	return fd;
}

static int read_entries(int fd, uint64_t addr, uint64_t *buf, size_t n)
{
	ssize_t r = pread(fd, buf, n * 8, (off_t)(addr / PAGE * 8));

	if (r != (ssize_t)(n * 8)) {
		pr_perror("can't read pagemap at %llx", (unsigned long long)addr);
		return -1;
	}
	return 0;
}

static bool same_page(uint64_t c, uint64_t p)
{
	const uint64_t need = PM_PRESENT;

	if ((c & (need | PM_SWAPPED | PM_FILE | PM_EXCLUSIVE)) != need)
		return false;
	if ((p & (need | PM_SWAPPED | PM_FILE)) != need)
		return false;
	return (c & PM_PFN) && (c & PM_PFN) == (p & PM_PFN);
}

int cow_shared_map(int child_pm, int parent_pm, uint64_t start, uint64_t end, uint8_t *out)
{
	uint64_t c[BATCH], p[BATCH], addr = start;
	size_t i, n;

	if ((start | end) & (PAGE - 1) || end < start)
		return -1;
	while (addr < end) {
		n = (end - addr) / PAGE;
		if (n > BATCH)
			n = BATCH;
		if (read_entries(child_pm, addr, c, n) || read_entries(parent_pm, addr, p, n))
			return -1;
		for (i = 0; i < n; i++)
			*out++ = same_page(c[i], p[i]);
		addr += n * PAGE;
	}
	return 0;
}

static const RegFileEntry *file_by_id(const struct dump_files *f, uint32_t id)
{
	size_t i;

	for (i = 0; i < f->nr; i++)
		if (f->e[i]->id == id)
			return f->e[i];
	return NULL;
}

/* Same file behind two reg-files ids (each process numbers its own). */
static bool same_file(const struct dump_task *a, uint32_t ida, const struct dump_task *b,
		      uint32_t idb)
{
	return vma_same_file(file_by_id(a->files, ida), file_by_id(b->files, idb));
}

const VmaEntry *cow_parent_vma(const struct dump_task *parent, const struct dump_task *child,
			       const VmaEntry *v)
{
	long i = vma_inherited_from(&parent->mm, v);
	const VmaEntry *pv = i < 0 ? NULL : parent->mm.vmas[i];

	if (!pv || v->kind != VMA_KIND__VMA_FILE_PRIVATE)
		return pv;
	if (!pv->has_file_id || !v->has_file_id ||
	    !same_file(parent, pv->file_id, child, v->file_id))
		return NULL;
	return pv;
}
