/*
 * bigmem: the victim of the dump/restore benchmark (scripts/bench.sh).
 *
 *   bigmem MIB READY_FD RESULT_FILE
 *
 * Maps MIB MiB of private anonymous memory, fills every byte with a fast
 * PRNG (incompressible, no zero pages), computes a checksum, writes
 * "ready PID CHECKSUM\n" to READY_FD and closes it (the dump refuses pipes
 * and fifos) with every other inherited fd above 2, then waits. On SIGTERM (after a restore) it recomputes the
 * checksum and writes "PASS" or "FAIL ..." to RESULT_FILE, then exits.
 * It makes itself a session leader: the dump wants a task that leads its
 * own session and process group (no --shell-job needed).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "prng.h"

static volatile sig_atomic_t got_term;

static void on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

/* order-dependent: a page swapped with another changes the sum */
static uint64_t checksum(const uint64_t *p, size_t n)
{
	uint64_t a = 0, b = 0;

	for (size_t i = 0; i < n; i++) {
		a += p[i];
		b += a;
	}
	return a ^ (b * 0x9e3779b97f4a7c15ULL);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s MIB READY_FD RESULT_FILE\n", argv[0]);
		return 2;
	}
	size_t bytes = (size_t)strtoul(argv[1], NULL, 0) << 20;
	int ready_fd = atoi(argv[2]);
	const char *result = argv[3];
	size_t n = bytes / sizeof(uint64_t);

	if (setsid() < 0) {
		perror("setsid");
		return 1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0) {
		perror("sigaction");
		return 1;
	}

	uint64_t *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	fill(mem, n, (uint64_t)getpid() * 0x2545f4914f6cdd1dULL);
	uint64_t sum = checksum(mem, n);

	char line[96];
	int len = snprintf(line, sizeof(line), "ready %d %016llx\n", (int)getpid(),
			   (unsigned long long)sum);
	if (write(ready_fd, line, len) != len) {
		perror("write ready");
		return 1;
	}
	close(ready_fd);
	/* whatever else was inherited (make's jobserver pipe...): the dump
	 * takes regular files, directories and /dev/null-like devices only */
	for (int fd = 3; fd < 1024; fd++)
		close(fd);

	while (!got_term)
		pause();

	uint64_t now = checksum(mem, n);
	FILE *f = fopen(result, "w");
	if (!f)
		return 1;
	if (now == sum)
		fprintf(f, "PASS %016llx\n", (unsigned long long)sum);
	else
		fprintf(f, "FAIL %016llx != %016llx\n", (unsigned long long)now,
			(unsigned long long)sum);
	return fclose(f) == 0 && now == sum ? 0 : 1;
}
