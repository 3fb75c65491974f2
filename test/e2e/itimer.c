/* An interval timer keeps firing after restore, with the same interval. */
#include <sys/time.h>
#include <time.h>

#include "e2e.h"

static volatile sig_atomic_t ticks;

static void on_alarm(int sig)
{
	(void)sig;
	ticks++;
}

int main(int argc, char **argv)
{
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } }, now;
	struct timespec start, t;
	struct sigaction sa;
	int seen;

	e2e_init(argc, argv);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	if (setitimer(ITIMER_REAL, &it, NULL))
		e2e_fail("setitimer: %s", strerror(errno));
	while (ticks < 3)
		pause();
	e2e_ready();
	e2e_wait_stop();

	if (getitimer(ITIMER_REAL, &now))
		e2e_fail("getitimer: %s", strerror(errno));
	if (now.it_interval.tv_sec != 0 || now.it_interval.tv_usec != 20000)
		e2e_fail("interval is %ld.%06ld s", (long)now.it_interval.tv_sec,
			 (long)now.it_interval.tv_usec);
	if (!now.it_value.tv_sec && !now.it_value.tv_usec)
		e2e_fail("the timer is disarmed");
	/* It must still fire: five more ticks within two seconds. */
	seen = ticks;
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		pause();
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (ticks < seen + 5 && t.tv_sec - start.tv_sec < 2);
	if (ticks < seen + 5)
		e2e_fail("%d ticks in two seconds after restore", ticks - seen);
	e2e_pass();
}
