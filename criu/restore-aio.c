/*
 * Restore: AIO rings (mirrors dump-aio.c), in the task while its memory is
 * staged. Each ring is made again with io_setup() in the order of its
 * kernel index (the ring header's id, which io_submit() looks the context
 * up by), with throw-away contexts filling the gaps; its head and tail are
 * replayed with zero-length reads of a pipe, reaped up to the dumped head
 * and left unreaped from there to the tail, so the kernel accounts the
 * completions still in the ring as it did; then the ring is moved into its
 * staging slot (mremap moves the context id along), the dumped pages
 * (header and events) are read over it like any staged vma's, and the
 * restorer moves it to the dumped address: the context id of the dump.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/aio_abi.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define LOG_PREFIX "restore: "
#include "log.h"
#include "image.h"
#include "aio-ring.h"
#include "restore-task.h"

#define AIO_MAX_INDEX	4096	/* contexts made to reach an index */
#define AIO_BATCH	64

struct aio_plan {
	size_t			vma;
	struct aio_ring_hdr	want;	/* the dumped header */
};

/* The dumped header of vma @i: the first bytes of its first page run. */
static void dumped_header(const struct rst_image *ri, size_t i, struct aio_ring_hdr *h)
{
	const VmaEntry *v = ri->mm->vmas[i];
	size_t k;

	for (k = 0; k < ri->nr_runs; k++)
		if (ri->runs[k].vma == i && ri->runs[k].vaddr == v->start)
			break;
	if (k == ri->nr_runs || pread(ri->pages_fd, h, sizeof(*h), (off_t)ri->runs[k].file_off) !=
				       (ssize_t)sizeof(*h))
		rst_die("AIO ring at %#llx: its header is not in the pages image",
			(unsigned long long)v->start);
	if (!aio_ring_sane(h, v->end - v->start))
		rst_die("AIO ring at %#llx: the dumped header (magic %#x, nr %u, head %u, tail %u) does not fit its %llu bytes",
			(unsigned long long)v->start, h->magic, h->nr, h->head, h->tail,
			(unsigned long long)(v->end - v->start));
}

static int cmp_index(const void *a, const void *b)
{
	const struct aio_plan *x = a, *y = b;

	return x->want.id < y->want.id ? -1 : x->want.id > y->want.id;
}

/* @n zero-length reads of @rfd completed on @ctx, reaped when @reap. */
static void complete(aio_context_t ctx, int rfd, uint32_t n, bool reap)
{
	static char byte;
	struct iocb cb[AIO_BATCH], *cbp[AIO_BATCH];
	struct io_event ev[AIO_BATCH];
	uint32_t k, i;

	for (i = 0; i < AIO_BATCH; i++) {
		memset(&cb[i], 0, sizeof(cb[i]));
		cb[i].aio_fildes = (uint32_t)rfd;
		cb[i].aio_lio_opcode = IOCB_CMD_PREAD;
		cb[i].aio_buf = (uint64_t)(unsigned long)&byte;
		cbp[i] = &cb[i];
	}
	for (; n; n -= k) {
		k = n < AIO_BATCH ? n : AIO_BATCH;
		if (syscall(SYS_io_submit, ctx, (long)k, cbp) != (long)k)
			rst_die("cannot replay %u AIO completions: %s", n, strerror(errno));
		if (reap && syscall(SYS_io_getevents, ctx, (long)k, (long)k, ev, NULL) != (long)k)
			rst_die("cannot reap replayed AIO completions: %s", strerror(errno));
	}
}

/* A context of index @p->want.id, with its head and tail, moved to @to. */
static void make_ring(const VmaEntry *v, const struct aio_plan *p, int rfd, uint64_t to,
		      aio_context_t *fillers, size_t *nr_fillers)
{
	uint64_t len = v->end - v->start;
	struct aio_ring_hdr *h;
	aio_context_t ctx;

	for (;;) {
		ctx = 0;
		if (syscall(SYS_io_setup, v->aio_nr_req, &ctx))
			rst_die("io_setup(%u) for the AIO ring at %#llx: %s", v->aio_nr_req,
				(unsigned long long)v->start, strerror(errno));
		h = (struct aio_ring_hdr *)(unsigned long)ctx;
		if (h->id >= p->want.id || *nr_fillers >= AIO_MAX_INDEX)
			break;
		fillers[(*nr_fillers)++] = ctx;	/* an index below the one wanted: kept aside */
	}
	if (h->id != p->want.id || h->nr != p->want.nr)
		rst_die("AIO ring at %#llx: io_setup(%u) gives index %u with %u events here, the dump had index %u with %u",
			(unsigned long long)v->start, v->aio_nr_req, h->id, h->nr, p->want.id, p->want.nr);
	complete(ctx, rfd, p->want.head, true);
	complete(ctx, rfd, (p->want.tail - p->want.head + p->want.nr) % p->want.nr, false);
	if (memcmp(h, &p->want, sizeof(*h)))
		rst_die("AIO ring at %#llx: head %u tail %u after the replay, the dump had %u %u",
			(unsigned long long)v->start, h->head, h->tail, p->want.head, p->want.tail);
	if (mremap(h, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)(unsigned long)to) == MAP_FAILED)
		rst_die("cannot move the AIO ring for %#llx to its staging slot: %s",
			(unsigned long long)v->start, strerror(errno));
}

/* Every AIO ring of @ri into its staging slot (@tmp: absolute), before the pages are read in. */
void rst_aio_stage(const struct rst_image *ri, const uint64_t *tmp)
{
	aio_context_t *fillers = NULL;
	struct aio_plan *plan = NULL;
	size_t i, n = 0, nr_fillers = 0;
	int pfd[2];

	for (i = 0; i < ri->mm->n_vmas; i++)
		n += ri->mm->vmas[i]->kind == VMA_KIND__VMA_AIO_RING;
	if (!n)
		return;
	plan = calloc(n, sizeof(*plan));
	fillers = calloc(AIO_MAX_INDEX, sizeof(*fillers));
	if (!plan || !fillers || pipe2(pfd, O_CLOEXEC))
		rst_die("cannot prepare the AIO rings: %s", strerror(errno));
	for (i = 0, n = 0; i < ri->mm->n_vmas; i++) {
		if (ri->mm->vmas[i]->kind != VMA_KIND__VMA_AIO_RING)
			continue;
		plan[n].vma = i;
		dumped_header(ri, i, &plan[n++].want);
	}
	qsort(plan, n, sizeof(*plan), cmp_index);
	for (i = 0; i < n; i++) {
		if (i && plan[i].want.id == plan[i - 1].want.id)
			rst_die("two AIO rings of index %u", plan[i].want.id);
		make_ring(ri->mm->vmas[plan[i].vma], &plan[i], pfd[0], tmp[plan[i].vma], fillers,
			  &nr_fillers);
	}
	for (i = 0; i < nr_fillers; i++)
		if (syscall(SYS_io_destroy, fillers[i]))
			rst_die("io_destroy of a filler context: %s", strerror(errno));
	close(pfd[0]);
	close(pfd[1]);
	free(plan);
	free(fillers);
}
