/* The benchmark victims' memory contents: incompressible, no zero pages, fast to check. */
#ifndef BENCH_PRNG_H
#define BENCH_PRNG_H

#include <stddef.h>
#include <stdint.h>

#define PRNG_STEP	0x9e3779b97f4a7c15ULL

/* splitmix64: one multiply-xorshift chain per word, several GB/s */
static inline uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* word i of a buffer filled with @seed is mix(seed + i * PRNG_STEP) */
static inline void fill(uint64_t *p, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = mix(seed + i * PRNG_STEP);
}

#endif /* BENCH_PRNG_H */
