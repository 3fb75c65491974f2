/*
 * timerfds armed with TFD_TIMER_ABSTIME, with and without
 * TFD_TIMER_CANCEL_ON_SET, keep their settime flags (fdinfo "settime
 * flags"). The wall-clock absolute ones expire at the same absolute time,
 * however long the dump-to-restore gap (the dump keeps the clock's reading;
 * the established format cannot: run with --image-ext). The monotonic
 * absolute and the relative one count their time left from the restore.
 * Whether CANCEL_ON_SET still
 * cancels is not tried: that needs clock_settime(CLOCK_REALTIME), which
 * would disturb the machine. A disarmed timer keeps the interval and
 * settime flags it was last set with (timerfd_gettime shows them).
 */
#include <stdint.h>
#include <time.h>
#include <sys/timerfd.h>

#include "e2e.h"

static const struct {
	const char *name;
	clockid_t clock;
	int flags;
} timers[] = {
	{ "realtime abs", CLOCK_REALTIME, TFD_TIMER_ABSTIME },
	{ "realtime abs cancel", CLOCK_REALTIME, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET },
	{ "monotonic abs", CLOCK_MONOTONIC, TFD_TIMER_ABSTIME },
	{ "boottime relative", CLOCK_BOOTTIME, 0 },
};
#define NR	(sizeof(timers) / sizeof(timers[0]))

/* The "settime flags" line of fd @fd's fdinfo, as a number. */
static int settime_flags(int fd)
{
	char path[64], line[256];
	FILE *f;
	int v = -1;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		e2e_fail("open %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "settime flags: %o", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* When @fd expires, as seconds on its clock. */
static double expiry(int fd, clockid_t clock)
{
	struct itimerspec cur;
	struct timespec now;

	if (timerfd_gettime(fd, &cur) || clock_gettime(clock, &now))
		e2e_fail("timerfd_gettime: %s", strerror(errno));
	return (double)now.tv_sec + now.tv_nsec / 1e9 + (double)cur.it_value.tv_sec +
	       cur.it_value.tv_nsec / 1e9;
}

/* Disarmed (zero value) with an interval and TFD_TIMER_ABSTIME. */
static int disarmed_make(void)
{
	struct itimerspec its = { { 7, 250000000 }, { 0, 0 } };
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);

	if (fd < 0 || timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL))
		e2e_fail("disarmed: timerfd: %s", strerror(errno));
	return fd;
}

static void disarmed_check(int fd, const char *when)
{
	struct itimerspec cur;
	int flags = settime_flags(fd);

	if (timerfd_gettime(fd, &cur))
		e2e_fail("disarmed: timerfd_gettime: %s", strerror(errno));
	if (cur.it_value.tv_sec || cur.it_value.tv_nsec || cur.it_interval.tv_sec != 7 ||
	    cur.it_interval.tv_nsec != 250000000 || flags != TFD_TIMER_ABSTIME)
		e2e_fail("disarmed %s: value %ld.%09ld interval %ld.%09ld flags %o", when,
			 (long)cur.it_value.tv_sec, cur.it_value.tv_nsec,
			 (long)cur.it_interval.tv_sec, cur.it_interval.tv_nsec, flags);
}

int main(int argc, char **argv)
{
	double at[NR], now_at;
	int fd[NR], flags[NR], off;
	size_t i;

	e2e_init(argc, argv);
	off = disarmed_make();
	disarmed_check(off, "before");
	for (i = 0; i < NR; i++) {
		struct itimerspec its = { { 0, 0 }, { 3600, 0 } };
		struct timespec now;

		fd[i] = timerfd_create(timers[i].clock, TFD_NONBLOCK);
		if (fd[i] < 0 || clock_gettime(timers[i].clock, &now))
			e2e_fail("%s: timerfd_create: %s", timers[i].name, strerror(errno));
		if (timers[i].flags & TFD_TIMER_ABSTIME)
			its.it_value.tv_sec += now.tv_sec;
		if (timerfd_settime(fd[i], timers[i].flags, &its, NULL))
			e2e_fail("%s: timerfd_settime: %s", timers[i].name, strerror(errno));
		flags[i] = settime_flags(fd[i]);
		if (flags[i] != timers[i].flags)
			e2e_fail("%s: fdinfo shows settime flags %o, set %o", timers[i].name, flags[i],
				 timers[i].flags);
		at[i] = expiry(fd[i], timers[i].clock);
	}

	e2e_ready();
	e2e_wait_stop();

	disarmed_check(off, "after");

	for (i = 0; i < NR; i++) {
		int now_flags = settime_flags(fd[i]);

		if (now_flags != flags[i])
			e2e_fail("%s: settime flags %o, dumped with %o", timers[i].name, now_flags,
				 flags[i]);
		now_at = expiry(fd[i], timers[i].clock);
		/*
		 * Wall-clock absolute: the same time, to within the scheduling
		 * between timerfd_gettime and clock_gettime here and in the dump
		 * (50 ms is far above that, far below a dump-to-restore gap).
		 * The others count the time left again from the restore.
		 */
		if (now_at < at[i] - 0.05 ||
		    now_at > at[i] + (timers[i].clock == CLOCK_REALTIME ? 0.05 : 60))
			e2e_fail("%s: expires at %.3f, was %.3f", timers[i].name, now_at, at[i]);
	}
	e2e_pass();
}
