/*
 * Logging for the criu binary.
 *
 * Usage:
 *   1. Optionally `#define LOG_PREFIX "name: "` before including this file;
 *      every message of that file then carries the prefix.
 *   2. Call log_init() once the options are known (main does it).
 *   3. Log with pr_err / pr_perror / pr_warn / pr_info / pr_debug. Messages
 *      take no trailing newline: one call is one line.
 *   4. pr_msg prints to stdout for the user (command results), whatever the
 *      verbosity; it is not a log line.
 *
 * Levels (criu -vN): 0 nothing, 1 errors, 2 +warnings (default), 3 +info,
 * 4 +debug. From level 3 on each log line starts with the time elapsed since
 * log_init(), as "(SS.uuuuuu)". Errors read "Error (file:line): message" and
 * pr_perror appends ": strerror(errno)". The word "Error" is reserved for
 * real errors.
 */
#ifndef CRIU_LOG_H
#define CRIU_LOG_H

#include <stdarg.h>
#include "compiler.h"

enum log_level {
	LOG_NONE	= 0,
	LOG_ERROR	= 1,
	LOG_WARN	= 2,
	LOG_INFO	= 3,
	LOG_DEBUG	= 4,
};

#define DEFAULT_LOGLEVEL LOG_WARN

#ifndef LOG_PREFIX
# define LOG_PREFIX ""
#endif

/*
 * Open the log: @path NULL or "-" logs to stderr; otherwise @path is taken
 * relative to @workdir (an absolute path is used as is). Returns 0 or -1.
 */
int log_init(const char *workdir, const char *path, unsigned int level);
void log_fini(void);
/*
 * CRIU_FAULT=die-log-N: the calling criu is SIGKILLed right after the Nth
 * log line written by it or by any process it forks afterwards (a restore's
 * tasks log too): a kill from outside at every step a log shows, for the
 * kill sweeps.
 */
void log_die_at_line(unsigned long n);
void log_set_level(unsigned int level);
unsigned int log_get_level(void);
/* The log file descriptor (for children that must log into the same place). */
int log_get_fd(void);
/* The text of the first error logged since log_error_reset() (NULL: none). */
void log_error_reset(void);
const char *log_first_error(void);

void print_on_level(unsigned int level, const char *file, int line,
		    int with_errno, const char *fmt, ...) __printf(5, 6);
void vprint_on_level(unsigned int level, const char *file, int line,
		     int err, const char *fmt, va_list ap);
void pr_msg(const char *fmt, ...) __printf(1, 2);

#define pr_err(fmt, ...) \
	print_on_level(LOG_ERROR, __FILE__, __LINE__, 0, LOG_PREFIX fmt, ##__VA_ARGS__)
#define pr_perror(fmt, ...) \
	print_on_level(LOG_ERROR, __FILE__, __LINE__, 1, LOG_PREFIX fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...) \
	print_on_level(LOG_WARN, __FILE__, __LINE__, 0, LOG_PREFIX fmt, ##__VA_ARGS__)
#define pr_pwarn(fmt, ...) \
	print_on_level(LOG_WARN, __FILE__, __LINE__, 1, LOG_PREFIX fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) \
	print_on_level(LOG_INFO, __FILE__, __LINE__, 0, LOG_PREFIX fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...) \
	print_on_level(LOG_DEBUG, __FILE__, __LINE__, 0, LOG_PREFIX fmt, ##__VA_ARGS__)

#define BUG_ON(cond)								\
	do {									\
		if (unlikely(cond)) {						\
			pr_err("BUG: %s", #cond);				\
			__builtin_trap();					\
		}								\
	} while (0)

#endif /* CRIU_LOG_H */
