/*
 * A small formatted logger for parasite code.  Messages travel through
 * a pipe to libcompel, which hands them to the caller's log callback.
 * Conversions: %d %i %u %x %X %p %s %c %%, with l/ll/z/h modifiers,
 * an optional '0' flag and a width.  A message is cut at 255 bytes.
 */
#ifndef STD_LOG_H
#define STD_LOG_H

#include <std/types.h>

/* Same numbers as enum compel_log_level. */
#define STD_LOG_ERROR	0
#define STD_LOG_WARN	1
#define STD_LOG_INFO	2
#define STD_LOG_DEBUG	3

typedef __builtin_va_list std_va_list;

/* Set by the runtime when the caller sends its log pipe. */
void std_log_set_fd(int fd, unsigned int max_level);

int std_vsnprintf(char *buf, size_t size, const char *fmt, std_va_list ap);
int std_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void std_log(unsigned int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_err(fmt, ...)	std_log(STD_LOG_ERROR, fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...)	std_log(STD_LOG_WARN, fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...)	std_log(STD_LOG_INFO, fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...)	std_log(STD_LOG_DEBUG, fmt, ##__VA_ARGS__)

#endif /* STD_LOG_H */
