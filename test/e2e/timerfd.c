/*
 * timerfds keep their state: a periodic timer with unread expirations
 * keeps them (and keeps ticking), a one-shot timer 30 s away still has
 * about that long left, and a disarmed one stays disarmed.
 */
#include <poll.h>
#include <stdint.h>
#include <time.h>
#include <sys/timerfd.h>

#include "e2e.h"

int main(int argc, char **argv)
{
	struct itimerspec tick = { { 3600, 0 }, { 0, 1000000 } }, far = { { 0, 0 }, { 30, 0 } };
	struct itimerspec cur;
	struct pollfd pfd = { .events = POLLIN };
	uint64_t n = 0;
	int periodic, oneshot, idle;

	e2e_init(argc, argv);
	periodic = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	oneshot = timerfd_create(CLOCK_BOOTTIME, 0);
	idle = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
	if (periodic < 0 || oneshot < 0 || idle < 0 ||
	    timerfd_settime(oneshot, 0, &far, NULL))
		e2e_fail("timerfd: %s", strerror(errno));
	/* one expiration 1 ms from now, left unread; the next one in an hour */
	timerfd_settime(periodic, 0, &tick, NULL);
	pfd.fd = periodic;
	if (poll(&pfd, 1, -1) != 1)	/* readable: it expired (poll does not read it) */
		e2e_fail("poll of the periodic timer: %s", strerror(errno));

	e2e_ready();
	e2e_wait_stop();

	if (read(periodic, &n, sizeof(n)) != sizeof(n) || n != 1)
		e2e_fail("periodic timer: %llu unread expirations, not 1 (%s)",
			 (unsigned long long)n, strerror(errno));
	timerfd_gettime(periodic, &cur);
	if (cur.it_interval.tv_sec != 3600 || cur.it_value.tv_sec > 3600 || cur.it_value.tv_sec < 3000)
		e2e_fail("periodic timer: interval %lds, next in %lds", (long)cur.it_interval.tv_sec,
			 (long)cur.it_value.tv_sec);
	timerfd_gettime(oneshot, &cur);
	if (cur.it_interval.tv_sec || cur.it_value.tv_sec > 30 || cur.it_value.tv_sec < 20)
		e2e_fail("one-shot timer: %lds left, expected a little under 30", (long)cur.it_value.tv_sec);
	timerfd_gettime(idle, &cur);
	if (cur.it_value.tv_sec || cur.it_value.tv_nsec)
		e2e_fail("disarmed timer is armed");
	if (read(idle, &n, sizeof(n)) != -1 || errno != EAGAIN)
		e2e_fail("disarmed timer: not O_NONBLOCK or has expirations");
	e2e_pass();
}
