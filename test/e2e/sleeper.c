/*
 * A task blocked in nanosleep: after restore the sleep goes on (or returns
 * EINTR with the time left, as for any handled signal) and time is sane.
 */
#include <time.h>

#include "e2e.h"

int main(int argc, char **argv)
{
	struct timespec req = { 3600, 0 }, rem = { 0, 0 };
	int ret;

	e2e_init(argc, argv);
	e2e_ready();
	ret = nanosleep(&req, &rem);
	if (ret == 0)
		e2e_fail("slept an hour?");
	if (errno != EINTR)
		e2e_fail("nanosleep: %s", strerror(errno));
	if (!e2e_stopped())
		e2e_fail("woken by something other than SIGTERM");
	if (rem.tv_sec <= 0 || rem.tv_sec > 3600)
		e2e_fail("time left %ld s makes no sense", (long)rem.tv_sec);
	e2e_pass();
}
