/* Test victims: processes that check themselves after compel is done. */
#ifndef COMPEL_TEST_VICTIM_H
#define COMPEL_TEST_VICTIM_H

#include <stdint.h>
#include <sys/types.h>

#define VMAX_THREADS	128

enum vkind { VK_READ, VK_NANOSLEEP, VK_FUTEX };

struct vconf {
	enum vkind	main_kind;	/* what the leader blocks in */
	int		nthreads;	/* including the leader */
	int		eintr;		/* leader: SIGUSR1 handler, no SA_RESTART */
	int		seccomp;	/* a filter on socket(): 1 errno, 2 kill;
				   3 errno, and thread 1 kills on sendto() */
	int		hostile_rseq;	/* a thread keeps arming a huge rseq_cs */
	long		sleep_ms;	/* nanosleep length */
	size_t		buf_size;	/* per-thread checksummed memory */
	int		quiet;		/* bench: skip expensive checks */
};

struct vthread {
	int		tid;
	unsigned long	tls;
	int		status;		/* 0 ok, 1 failed, -1 not done */
	char		why[160];
};

struct vshared {
	int		futex;		/* 0 -> 1 releases futex waiters */
	int		read_wr;	/* runner writes here to release read */
	int		read_rd;	/* the victim's end, for fd passing */
	int		ready_wr;
	unsigned long	buf_addr;	/* leader's buffer (vmsplice test) */
	unsigned long	buf_len;
	uint32_t	buf_seed;
	int		hostile_stop;
	int		usr1_count;
	unsigned long	rseq_cs_addr;	/* hostile victim: &rseq->rseq_cs */
	int		global_pid;	/* pid-ns victim: its pid seen from outside */
	struct vthread	t[VMAX_THREADS];
	/* written by the driver */
	int		steps;		/* compel steps reached */
	char		step_name[64];
	char		dwhy[256];	/* why the driver failed */
};

/* Fill buf from seed (also used by the driver to know the contents). */
void vfill(void *buf, size_t len, uint32_t seed);

/* Runs in the forked victim; exits 0 if every thread passed its checks. */
void victim_main(struct vshared *vs, const struct vconf *c) __attribute__((noreturn));

#endif
