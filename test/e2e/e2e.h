/*
 * Support for end-to-end test programs (header only: each program is one
 * file). A program
 *   1. calls e2e_init(argc, argv) first,
 *   2. sets up the state it wants to survive a checkpoint,
 *   3. calls e2e_ready(): the harness may now dump it,
 *   4. works until e2e_stopped() turns true (the harness sends SIGTERM
 *      after the restore), or waits in a way that SIGTERM interrupts,
 *   5. checks its own state and ends with e2e_pass() or e2e_fail().
 * The result goes to the file named by argv[1], opened only at the end, so
 * no descriptor of the harness needs to survive the checkpoint.
 */
#ifndef E2E_H
#define E2E_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *e2e_result_path;
static volatile sig_atomic_t e2e_stop;

static void e2e_on_term(int sig)
{
	(void)sig;
	e2e_stop = 1;
}

static inline int e2e_stopped(void)
{
	return e2e_stop;
}

static inline void e2e_init(int argc, char **argv)
{
	struct sigaction sa;

	if (argc < 2) {
		fprintf(stderr, "usage: %s RESULT-FILE\n", argv[0]);
		exit(2);
	}
	e2e_result_path = argv[1];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = e2e_on_term;	/* no SA_RESTART: blocking calls see EINTR */
	sigaction(SIGTERM, &sa, NULL);
}

static inline void e2e_ready(void)
{
	const char *s = getenv("E2E_READY_FD");
	int fd = s ? atoi(s) : -1;

	if (fd < 0 || write(fd, "R", 1) != 1) {
		fprintf(stderr, "e2e: cannot report readiness\n");
		exit(2);
	}
	close(fd);
}

static inline void e2e_result(const char *text)
{
	int fd = open(e2e_result_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd >= 0) {
		if (write(fd, text, strlen(text)) < 0)
			fprintf(stderr, "e2e: cannot write the result\n");
		close(fd);
	}
}

static inline __attribute__((noreturn)) void e2e_pass(void)
{
	e2e_result("PASS\n");
	exit(0);
}

static inline __attribute__((noreturn, format(printf, 1, 2))) void e2e_fail(const char *fmt, ...)
{
	char buf[512] = "FAIL ";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + 5, sizeof(buf) - 6, fmt, ap);
	va_end(ap);
	strcat(buf, "\n");
	e2e_result(buf);
	exit(1);
}

/* Read exactly @len bytes of @fd, or fail the test naming @what. */
static inline void e2e_read_all(int fd, void *buf, size_t len, const char *what)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n <= 0)
			e2e_fail("%s: read returned %zd after %zu of %zu bytes (%s)", what, n, got,
				 len, strerror(errno));
		got += (size_t)n;
	}
}

/* Block until SIGTERM arrives (pause() returns on any handled signal). */
static inline void e2e_wait_stop(void)
{
	while (!e2e_stop)
		pause();
}

/* A scratch file path next to the result file (the harness removes the dir). */
static inline void e2e_path(char *buf, size_t size, const char *name)
{
	const char *slash = strrchr(e2e_result_path, '/');
	int dirlen = slash ? (int)(slash - e2e_result_path) : 1;

	snprintf(buf, size, "%.*s/%s", dirlen, slash ? e2e_result_path : ".", name);
}

/* The permission column ("r-xp") of the mapping holding @addr, or "none". */
static inline const char *e2e_perms(const void *addr)
{
	static char perms[8];
	unsigned long a = (unsigned long)addr, lo, hi;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");

	strcpy(perms, "none");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 && a >= lo && a < hi)
			break;
		else
			strcpy(perms, "none");
	if (f)
		fclose(f);
	return perms;
}

/* FNV-1a over a buffer: cheap, deterministic checksums for memory checks. */
static inline uint64_t e2e_hash(const void *p, size_t len)
{
	const unsigned char *c = p;
	uint64_t h = 1469598103934665603ull;

	while (len--)
		h = (h ^ *c++) * 1099511628211ull;
	return h;
}

#endif /* E2E_H */
