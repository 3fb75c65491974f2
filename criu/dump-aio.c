/*
 * Dump: AIO rings (io_setup). A context is a shared mapping of an inode of
 * the kernel's aio file system ("/[aio] (deleted)" in smaps, file mode 0
 * through map_files), whose start address is the context id. Its pages are dumped like
 * private memory: the ring header (kernel index, nr, head, tail) and the
 * completions. Refused: a ring this process does not own (a copy of the
 * mapping inherited by fork(): io_submit() does not know it), a header
 * that is not the kernel's, and a ring whose tail moves while the dump
 * runs (requests in flight: their completions would land after the pages
 * were read). Requests still in flight at the end of the dump cannot be
 * seen from outside the kernel (Documentation/dump.md, "AIO rings").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <compel/compel.h>

#define LOG_PREFIX "dump: "
#include "log.h"
#include "dump.h"
#include "aio-ring.h"

/* Is @pv an aio ring (path and the inode's mode 0, as the aio file system makes it)? */
bool dump_is_aio_ring(const struct dump_task *t, const struct proc_vma *pv)
{
	char link[96];
	struct stat st;

	if (strcmp(pv->path, AIO_RING_PATH) || !pv->deleted || !pv->shared)
		return false;
	snprintf(link, sizeof(link), "/proc/%d/map_files/%lx-%lx", t->pid,
		 (unsigned long)pv->start, (unsigned long)pv->end);
	return !stat(link, &st) && (st.st_mode & S_IFMT) == 0;
}

static int read_header(const struct dump_task *t, uint64_t at, struct aio_ring_hdr *h)
{
	char path[64];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/mem", t->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("can't open %s", path);
		return -1;
	}
	n = pread(fd, h, sizeof(*h), (off_t)at);
	close(fd);
	if (n != (ssize_t)sizeof(*h)) {
		pr_perror("can't read the AIO ring header at %lx", (unsigned long)at);
		return -1;
	}
	return 0;
}

/* @v (filled from @pv): the ring at its start, checked; io_setup's argument for it. */
int dump_aio_vma(struct dump_task *t, const struct proc_vma *pv, VmaEntry *v)
{
	uint64_t len = pv->end - pv->start;
	struct aio_ring_hdr h;

	if (read_header(t, pv->start, &h))
		return -1;
	if (!aio_ring_sane(&h, len)) {
		pr_err("AIO ring at %lx: header (magic %#x, nr %u, head %u, tail %u) does not fit its %lu bytes: not supported yet",
		       (unsigned long)pv->start, h.magic, h.nr, h.head, h.tail, (unsigned long)len);
		return -1;
	}
	v->kind = VMA_KIND__VMA_AIO_RING;
	v->has_aio_nr_req = true;
	v->aio_nr_req = aio_ring_nr_req(len);
	pr_info("%d: AIO ring %lx, %u events, head %u tail %u (io_setup(%u))", t->pid,
		(unsigned long)pv->start, h.nr, h.head, h.tail, v->aio_nr_req);
	t->aio_tail_sum += h.tail;
	return 0;
}

/*
 * Once the task can run syscalls for us (compel): each ring is a context of
 * its own mm, which answers io_submit(ctx, 0, NULL) with 0; a copy of the
 * mapping inherited by fork() gets EINVAL.
 */
int dump_aio_owned(struct dump_task *t)
{
	size_t i;
	long ret;

	for (i = 0; i < t->mm.n_vmas; i++) {
		uint64_t at = t->mm.vmas[i]->start;

		if (t->mm.vmas[i]->kind != VMA_KIND__VMA_AIO_RING)
			continue;
		if (compel_syscall(t->ctl, SYS_io_submit, &ret, (long)at, 0, 0, 0, 0, 0)) {
			pr_err("can't run io_submit() in %d", t->pid);
			return -1;
		}
		if (ret) {
			pr_err("AIO ring at %lx is a copy inherited by fork(), no context of %d (io_submit: %ld): not supported yet",
			       (unsigned long)at, t->pid, ret);
			return -1;
		}
	}
	return 0;
}

/* After the pages: a tail that moved means completions arrived meanwhile. */
int dump_aio_recheck(struct dump_task *t)
{
	uint64_t sum = 0;
	struct aio_ring_hdr h;
	size_t i;

	for (i = 0; i < t->mm.n_vmas; i++) {
		if (t->mm.vmas[i]->kind != VMA_KIND__VMA_AIO_RING)
			continue;
		if (read_header(t, t->mm.vmas[i]->start, &h))
			return -1;
		sum += h.tail;
	}
	if (sum != t->aio_tail_sum) {
		pr_err("%d: AIO requests in flight (completions arrived during the dump): not supported yet",
		       t->pid);
		return -1;
	}
	return 0;
}
