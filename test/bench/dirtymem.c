/*
 * dirtymem: the victim of the pre-dump benchmark (scripts/bench-predump.py).
 *
 *   dirtymem MIB DIRTY_MIB READY_FD RESULT_FILE
 *
 * Maps MIB MiB of private anonymous memory filled with a PRNG, writes
 * "ready PID\n" to READY_FD and closes it. Each SIGUSR1 rewrites the first
 * DIRTY_MIB MiB with new values, then creates RESULT_FILE.dirty. On SIGTERM
 * (after a restore) it checks every word against what it wrote and writes
 * "PASS" or "FAIL ..." to RESULT_FILE.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "prng.h"

static volatile sig_atomic_t got_term, got_usr1;

static void on_sig(int sig)
{
	if (sig == SIGTERM)
		got_term = 1;
	else
		got_usr1 = 1;
}

/* the first word of [from, to) that is not what fill() wrote with @seed, or @to */
static size_t bad_word(const uint64_t *p, size_t from, size_t to, uint64_t seed)
{
	for (size_t i = from; i < to; i++)
		if (p[i] != mix(seed + i * PRNG_STEP))
			return i;
	return to;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: %s MIB DIRTY_MIB READY_FD RESULT_FILE\n", argv[0]);
		return 2;
	}
	size_t n = ((size_t)strtoul(argv[1], NULL, 0) << 20) / 8;
	size_t d = ((size_t)strtoul(argv[2], NULL, 0) << 20) / 8;
	int ready_fd = atoi(argv[3]);
	const char *result = argv[4];
	uint64_t seed = 1, base = 0x2545f4914f6cdd1dULL;
	struct sigaction sa;
	char line[64], dirty[4096];

	if (d > n || setsid() < 0)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	uint64_t *mem = mmap(NULL, n * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 1;
	fill(mem, n, base);
	int len = snprintf(line, sizeof(line), "ready %d\n", (int)getpid());
	if (write(ready_fd, line, len) != len)
		return 1;
	close(ready_fd);
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	snprintf(dirty, sizeof(dirty), "%s.dirty", result);
	while (!got_term) {
		const struct timespec ts = { 0, 5 * 1000 * 1000 };

		if (got_usr1) {
			got_usr1 = 0;
			fill(mem, d, base + seed++);
			close(open(dirty, O_WRONLY | O_CREAT | O_TRUNC, 0600));
		}
		nanosleep(&ts, NULL);
	}
	size_t bad = bad_word(mem, 0, d, base + seed - 1);
	if (bad == d)
		bad = bad_word(mem, d, n, base);
	FILE *f = fopen(result, "w");
	if (!f)
		return 1;
	if (bad == n)
		fprintf(f, "PASS\n");
	else
		fprintf(f, "FAIL word %zu\n", bad);
	return fclose(f) ? 1 : 0;
}
