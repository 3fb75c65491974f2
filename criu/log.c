#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#include "log.h"

static unsigned int log_level = DEFAULT_LOGLEVEL;
static int log_fd = STDERR_FILENO;
static struct timespec log_start;
static char first_error[512];	/* since log_error_reset(), for RPC's cr_errmsg */
static void log_write(const char *buf, size_t len);
static unsigned long die_at_line;	/* log_die_at_line() */
static unsigned long *die_lines;	/* lines so far, shared with children; NULL: off */
static pid_t die_pid;

static const char *level_tag[] = {
	[LOG_ERROR]	= "Error",
	[LOG_WARN]	= "Warn",
};

int log_init(const char *workdir, const char *path, unsigned int level)
{
	int fd;

	log_level = level;
	clock_gettime(CLOCK_MONOTONIC, &log_start);
	if (!path || !strcmp(path, "-")) {
		log_fd = STDERR_FILENO;
		return 0;
	}

	if (path[0] == '/' || !workdir) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	} else {
		int dfd = open(workdir, O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (dfd < 0) {
			fprintf(stderr, "Error (%s:%d): can't open work dir %s: %s\n",
				__FILE__, __LINE__, workdir, strerror(errno));
			return -1;
		}
		fd = openat(dfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
		close(dfd);
	}
	if (fd < 0) {
		fprintf(stderr, "Error (%s:%d): can't open log file %s: %s\n",
			__FILE__, __LINE__, path, strerror(errno));
		return -1;
	}
	log_fd = fd;
	return 0;
}

void log_die_at_line(unsigned long n)
{
	/* shared with the children forked from here on: their lines count too */
	die_lines = mmap(NULL, sizeof(*die_lines), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (die_lines == MAP_FAILED) {
		die_lines = NULL;
		return;
	}
	*die_lines = 0;
	die_at_line = n;
	die_pid = getpid();
}

/*
 * After the @die_at_line-th line written by criu or any process it forked,
 * the criu that asked is SIGKILLed, as a kill from outside would have it.
 */
static void maybe_die(void)
{
	unsigned long line;
	char msg[96];
	int n;

	if (!die_lines)
		return;
	line = __atomic_add_fetch(die_lines, 1, __ATOMIC_SEQ_CST);
	if (line != die_at_line)
		return;
	n = snprintf(msg, sizeof(msg), "fault injected at log line %lu: criu %d is killed\n",
		     line, (int)die_pid);
	log_write(msg, (size_t)n);
	kill(die_pid, SIGKILL);
}

void log_fini(void)
{
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = STDERR_FILENO;
}

void log_set_level(unsigned int level)
{
	log_level = level;
}

unsigned int log_get_level(void)
{
	return log_level;
}

int log_get_fd(void)
{
	return log_fd;
}

/* Write all of @len bytes, retrying short writes; logging never fails loudly. */
static void log_write(const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(log_fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= n;
	}
}

struct linebuf {
	char buf[4096];
	size_t len;
};

/* Append formatted text, truncating silently when the line is full. */
static void lb_vadd(struct linebuf *lb, const char *fmt, va_list ap)
{
	size_t room = sizeof(lb->buf) - 1 - lb->len;
	int n = vsnprintf(lb->buf + lb->len, room + 1, fmt, ap);

	if (n > 0)
		lb->len += min((size_t)n, room);
}

static void lb_add(struct linebuf *lb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lb_vadd(lb, fmt, ap);
	va_end(ap);
}

void log_error_reset(void)
{
	first_error[0] = '\0';
}

const char *log_first_error(void)
{
	return first_error[0] ? first_error : NULL;
}

static void keep_first_error(int err, const char *fmt, va_list ap)
{
	size_t n;

	if (first_error[0])
		return;
	vsnprintf(first_error, sizeof(first_error), fmt, ap);
	n = strlen(first_error);
	if (err && n < sizeof(first_error))
		snprintf(first_error + n, sizeof(first_error) - n, ": %s", strerror(err));
	if (!first_error[0])
		snprintf(first_error, sizeof(first_error), "error");
}

void vprint_on_level(unsigned int level, const char *file, int line,
		     int err, const char *fmt, va_list ap)
{
	struct linebuf lb = { .len = 0 };

	if (level == LOG_ERROR) {
		va_list copy;

		va_copy(copy, ap);
		keep_first_error(err, fmt, copy);
		va_end(copy);
	}
	if (level > log_level || level == LOG_NONE)
		return;

	if (log_level >= LOG_INFO) {
		struct timespec now;
		long sec, usec;

		clock_gettime(CLOCK_MONOTONIC, &now);
		sec = now.tv_sec - log_start.tv_sec;
		usec = (now.tv_nsec - log_start.tv_nsec) / 1000;
		if (usec < 0) {
			usec += 1000000;
			sec--;
		}
		lb_add(&lb, "(%02ld.%06ld) ", sec, usec);
	}
	if (level < ARRAY_SIZE(level_tag) && level_tag[level])
		lb_add(&lb, "%s (%s:%d): ", level_tag[level], file, line);
	lb_vadd(&lb, fmt, ap);
	if (err)
		lb_add(&lb, ": %s", strerror(err));
	lb.buf[lb.len++] = '\n';
	log_write(lb.buf, lb.len);
	maybe_die();
}

void print_on_level(unsigned int level, const char *file, int line,
		    int with_errno, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vprint_on_level(level, file, line, with_errno ? saved : 0, fmt, ap);
	va_end(ap);
	errno = saved;
}

void pr_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fflush(stdout);
}
