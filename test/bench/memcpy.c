/*
 * memcpy: the baseline of the dump/restore benchmark (scripts/bench.sh).
 *
 *   memcpy [MIB [ROUNDS]]      (default 1024 MiB, 5 rounds)
 *
 * Copies one MIB-MiB buffer into another (both faulted in first) ROUNDS
 * times and prints the best round as "GB/s" (bytes copied per second,
 * 10^9), alone on one line. A compiler barrier after each copy keeps the
 * compiler from dropping repeated copies of the same buffers.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	size_t bytes = (size_t)(argc > 1 ? strtoul(argv[1], NULL, 0) : 1024) << 20;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	char *src = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *dst = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (src == MAP_FAILED || dst == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	/* fault both in (non-zero source: no zero-page tricks) */
	for (size_t i = 0; i < bytes; i += 64)
		src[i] = (char)(i >> 6);
	memset(dst, 1, bytes);

	double best = 1e30;
	for (int r = 0; r < rounds; r++) {
		double t0 = now();
		memcpy(dst, src, bytes);
		asm volatile("" ::: "memory");
		double t = now() - t0;
		if (t < best)
			best = t;
	}
	if (dst[bytes - 64] != src[bytes - 64])
		return 1;
	printf("%.2f\n", bytes / best / 1e9);
	return 0;
}
