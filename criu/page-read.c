/*
 * pre-dump --pre-dump-mode read (Documentation/predump.md, "Read mode").
 *
 * While the tree is frozen, dump_pages() only scans: PAGEMAP_SCAN takes the
 * pages written since the last step and protects them again in the same
 * call, the pagemap is written, and the runs to store are noted here. The
 * tree is released; then criu copies the noted runs itself with
 * process_vm_readv() into pages-PID.img while the tree runs.
 *
 * A page written after its protection was taken again (during or after the
 * copy) is marked written by the kernel, so the next step stores it again:
 * whatever the copy read for it is superseded. A page not written since
 * holds, when it is copied, what it held while the tree was frozen: that is
 * what the copy stores. A page that can no longer be read
 * (PROT_NONE since: /proc/PID/mem, which reads through protections) or is
 * gone (munmap: zeros) cannot be taken from this step by the next one: a
 * mapping made there since is not tracked and is stored whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>

#define LOG_PREFIX "pre-dump: "
#include "log.h"
#include "dump.h"
#include "image.h"
#include "manifest.h"
#include "page-read.h"

#define PR_BUF		(4u << 20)	/* bytes read per process_vm_readv */
#define PR_IOVS		512		/* remote runs per call (IOV_MAX is 1024) */
#define PAGE		4096ul

struct page_read {
	struct cr_img	*pages;		/* pages-PID.img, created, not committed */
	struct iovec	*run;
	size_t		nr, cap;
	uint64_t	bytes;
};

bool page_read_mode(const struct cr_options *o)
{
	return o->pre_dump_mode && !strcmp(o->pre_dump_mode, "read");
}

int page_read_begin(struct dump_task *t)
{
	if (t->rd)
		return 0;
	t->rd = calloc(1, sizeof(*t->rd));
	if (!t->rd) {
		pr_err("out of memory");
		return -1;
	}
	return 0;
}

int page_read_add(struct dump_task *t, uint64_t start, uint64_t len)
{
	struct page_read *r = t->rd;
	struct iovec *last = r->nr ? &r->run[r->nr - 1] : NULL;

	if (last && (uint64_t)(uintptr_t)last->iov_base + last->iov_len == start) {
		last->iov_len += len;
	} else {
		if (r->nr == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 256;
			struct iovec *n = realloc(r->run, cap * sizeof(*n));

			if (!n) {
				pr_err("out of memory noting %zu runs", cap);
				return -1;
			}
			r->run = n;
			r->cap = cap;
		}
		r->run[r->nr].iov_base = (void *)(uintptr_t)start;
		r->run[r->nr].iov_len = len;
		r->nr++;
	}
	r->bytes += len;
	return 0;
}

void page_read_hold(struct dump_task *t, struct cr_img *pages)
{
	t->rd->pages = pages;
}

/* One page process_vm_readv() did not give: /proc/PID/mem, else zeros (see above). */
static int read_page_slow(struct dump_task *t, int *mem_fd, uint64_t addr, char *dst)
{
	char path[64];

	if (*mem_fd < 0) {
		snprintf(path, sizeof(path), "/proc/%d/mem", t->pid);
		*mem_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (*mem_fd < 0) {
			pr_perror("%d: can't open %s", t->pid, path);
			return -1;
		}
	}
	if (pread(*mem_fd, dst, PAGE, (off_t)addr) == (ssize_t)PAGE)
		return 0;
	if (errno == ESRCH || kill(t->pid, 0)) {
		pr_err("%d exited while its pages were copied", t->pid);
		return -1;
	}
	pr_debug("%d: page %lx gone since the scan: zeros", t->pid, (unsigned long)addr);
	memset(dst, 0, PAGE);
	return 0;
}

/* Fill @buf with @len bytes of the runs from run *i, offset *off on; they advance. */
static int read_chunk(struct dump_task *t, size_t *i, uint64_t *off, char *buf, size_t len,
		      int *mem_fd)
{
	struct page_read *r = t->rd;
	struct iovec local = { buf, len }, remote[PR_IOVS];
	size_t n = 0, got = 0, j = *i, slow = 0;
	uint64_t o = *off, left = len;
	ssize_t rd;

	while (left && j < r->nr && n < PR_IOVS) {
		uint64_t take = r->run[j].iov_len - o < left ? r->run[j].iov_len - o : left;

		remote[n].iov_base = (char *)r->run[j].iov_base + o;
		remote[n].iov_len = take;
		n++;
		left -= take;
		o += take;
		if (o == r->run[j].iov_len) {
			j++;
			o = 0;
		}
	}
	local.iov_len = len - left;
	rd = process_vm_readv(t->pid, &local, 1, remote, n, 0);
	got = rd > 0 ? (size_t)rd : 0;
	got -= got % PAGE;
	/* the rest page by page, in order */
	for (; got < local.iov_len; got += PAGE) {
		size_t at = got, k;

		for (k = 0; at >= remote[k].iov_len; k++)
			at -= remote[k].iov_len;
		if (read_page_slow(t, mem_fd, (uint64_t)(uintptr_t)remote[k].iov_base + at,
				   buf + got))
			return -1;
		slow++;
	}
	if (slow)
		pr_info("%d: %zu pages read through /proc/PID/mem", t->pid, slow);
	*i = j;
	*off = o;
	return (int)(local.iov_len / PAGE);
}

static int copy_task(struct dump_task *t, char *buf)
{
	struct page_read *r = t->rd;
	int fd = img_raw_fd(r->pages), mem_fd = -1, ret = -1;
	struct mf_track *track = manifest_track_start(fd);
	uint64_t done = 0, t0 = dump_now_us(), off = 0;
	size_t i = 0;

	while (done < r->bytes) {
		uint64_t want = r->bytes - done < PR_BUF ? r->bytes - done : PR_BUF;
		int pages = read_chunk(t, &i, &off, buf, want, &mem_fd);
		size_t len = (size_t)pages * PAGE, w = 0;

		if (pages <= 0)
			goto out;
		while (w < len) {
			ssize_t n = write(fd, buf + w, len - w);

			if (n <= 0) {
				pr_perror("writing pages-%d.img", t->pid);
				goto out;
			}
			w += n;
		}
		done += len;
		manifest_track_written(track, done);
	}
	ret = 0;
out:
	manifest_track_end(track, ret == 0);
	if (mem_fd >= 0)
		close(mem_fd);
	t->stats.memwrite_us += dump_now_us() - t0;
	pr_info("%d: %lu bytes copied while the tree runs", t->pid, (unsigned long)done);
	return ret;
}

/* The tree released: every noted run copied, the page files committed. */
int page_read_copy(struct dump_tree *tr)
{
	char *buf = NULL;
	size_t k;

	for (k = 0; k < tr->nr; k++) {
		struct dump_task *t = tr->t[k];
		struct cr_img *pages;

		if (!t->rd || !t->rd->pages)
			continue;
		if (!buf && !(buf = malloc(PR_BUF))) {
			pr_err("out of memory");
			return -1;
		}
		if (copy_task(t, buf)) {
			free(buf);
			return -1;
		}
		pages = t->rd->pages;
		t->rd->pages = NULL;
		if (img_commit(pages)) {
			free(buf);
			return -1;
		}
	}
	free(buf);
	return 0;
}

void page_read_free(struct dump_task *t)
{
	if (!t->rd)
		return;
	if (t->rd->pages)
		img_abort(t->rd->pages);
	free(t->rd->run);
	free(t->rd);
	t->rd = NULL;
}
