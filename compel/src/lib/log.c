/* compel never logs by itself: everything goes to the caller's callback. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include "internal.h"

static compel_log_fn log_fn;
enum compel_log_level compel_log_max = COMPEL_LOG_WARN;
static compel_step_fn step_fn;
static int step_nr;

void compel_log_init(compel_log_fn fn, enum compel_log_level max_level)
{
	log_fn = fn;
	compel_log_max = max_level;
}

void compel_print_raw(enum compel_log_level lvl, const char *file, int line,
		      const char *msg)
{
	if (log_fn && lvl <= compel_log_max)
		log_fn(lvl, file, line, msg);
}

void compel_print(enum compel_log_level lvl, const char *file, int line,
		  const char *fmt, ...)
{
	int saved = errno;
	char buf[512];
	va_list ap;

	if (!log_fn || lvl > compel_log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_fn(lvl, file, line, buf);
	errno = saved;
}

void compel_set_step_hook(compel_step_fn fn)
{
	step_fn = fn;
	step_nr = 0;
}

void compel_step(const char *what)
{
	step_nr++;
	if (step_fn)
		step_fn(step_nr, what);
}
