/*
 * The user-visible header of an AIO ring (io_setup(), fs/aio.c's struct
 * aio_ring), shared by the dump (dump-aio.c) and the restore
 * (restore-aio.c). The ring is the header, then nr io_events of 32 bytes,
 * over whole pages.
 */
#ifndef CRIU_AIO_RING_H
#define CRIU_AIO_RING_H

#include <stdbool.h>
#include <stdint.h>

#define AIO_RING_PATH		"/[aio]"
#define AIO_RING_MAGIC		0xa10a10a1u
#define AIO_RING_PAGE		4096u
#define AIO_EVENT_SIZE		32u
#define AIO_RING_MAX_LEN	(64u << 20)	/* what criu takes: 2M events */
#define AIO_MAX_NR_REQ		(AIO_RING_MAX_LEN / AIO_EVENT_SIZE)

struct aio_ring_hdr {
	uint32_t	id;		/* the context's index in the mm's table */
	uint32_t	nr;		/* events the ring holds */
	uint32_t	head;		/* next to reap, written by the reaper */
	uint32_t	tail;		/* next to fill, written by the kernel */
	uint32_t	magic;
	uint32_t	compat_features;
	uint32_t	incompat_features;
	uint32_t	header_length;	/* the size of this header */
};

static inline uint32_t aio_ring_events(uint64_t len)
{
	return (uint32_t)((len - sizeof(struct aio_ring_hdr)) / AIO_EVENT_SIZE);
}

/* A header the kernel made for a ring of @len bytes. */
static inline bool aio_ring_sane(const struct aio_ring_hdr *h, uint64_t len)
{
	return len && !(len % AIO_RING_PAGE) && len <= AIO_RING_MAX_LEN &&
	       h->magic == AIO_RING_MAGIC && h->nr == aio_ring_events(len) && h->head < h->nr &&
	       h->tail < h->nr && h->compat_features == 1 && h->incompat_features == 0 &&
	       h->header_length == sizeof(*h);
}

/*
 * The io_setup() argument that gives a ring of @len bytes: the kernel
 * doubles it, adds 2 and rounds the ring up to pages ((nr + 1) * 32 bytes
 * with the header); 64 events a page less 2 fills the pages exactly. (The
 * kernel raises a smaller argument to 4 per possible CPU first: a small
 * ring on a host with many CPUs comes out bigger, and the restore says so.)
 */
static inline uint32_t aio_ring_nr_req(uint64_t len)
{
	return (uint32_t)(len / AIO_RING_PAGE * (AIO_RING_PAGE / AIO_EVENT_SIZE / 2) - 2);
}

#endif /* CRIU_AIO_RING_H */
