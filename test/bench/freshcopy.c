/*
 * freshcopy: the fresh-memory limit of a dump or restore on this VM
 * (Documentation/performance.md; machine.md "Measuring on it").
 *
 *   freshcopy [MIB [ROUNDS]]      (default 1024 MiB, 3 rounds)
 *
 * Each round maps a new MIB-MiB destination (never touched: the kernel
 * hands out fresh pages, as a dump writing tmpfs pages and a restore
 * filling anonymous memory get them) and copies a warm source into it,
 * split over one thread per online cpu; prints the best round as "GB/s"
 * (10^9 bytes per second), alone on one line. A compiler barrier after
 * each copy keeps the copies from being dropped.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS	64

struct part {
	char *dst;
	const char *src;
	size_t len;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *copy(void *arg)
{
	struct part *p = arg;

	memcpy(p->dst, p->src, p->len);
	__asm__ __volatile__("" : : "r"(p->dst) : "memory");
	return NULL;
}

int main(int argc, char **argv)
{
	size_t bytes = (size_t)(argc > 1 ? strtoul(argv[1], NULL, 0) : 1024) << 20, chunk;
	int rounds = argc > 2 ? atoi(argv[2]) : 3, r, i, nt = sysconf(_SC_NPROCESSORS_ONLN);
	struct part parts[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	double best = 0;
	char *src;

	if (nt < 1)
		nt = 1;
	if (nt > MAX_THREADS)
		nt = MAX_THREADS;
	src = malloc(bytes);
	if (!src)
		return 1;
	memset(src, 0x5a, bytes);
	chunk = (bytes / nt + 4095) & ~4095ul;
	for (r = 0; r < rounds; r++) {
		char *dst = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		double t0, t;

		if (dst == MAP_FAILED)
			return 1;
		t0 = now();
		for (i = 0; i < nt; i++) {
			size_t off = i * chunk < bytes ? i * chunk : bytes;

			parts[i] = (struct part){ dst + off, src + off,
						  bytes - off < chunk ? bytes - off : chunk };
			if (pthread_create(&tid[i], NULL, copy, &parts[i]))
				return 1;
		}
		for (i = 0; i < nt; i++)
			pthread_join(tid[i], NULL);
		t = now() - t0;
		if (bytes / t / 1e9 > best)
			best = bytes / t / 1e9;
		munmap(dst, bytes);
	}
	printf("%.2f\n", best);
	return 0;
}
