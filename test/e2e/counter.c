/* The demo's job: a loop counting in memory keeps counting from where it was. */
#include <time.h>

#include "e2e.h"

int main(int argc, char **argv)
{
	struct timespec tick = { 0, 1000000 };
	volatile unsigned long n = 0, before;
	pid_t pid = getpid();

	e2e_init(argc, argv);
	while (n < 100)
		n++;
	e2e_ready();
	while (!e2e_stopped()) {
		before = n;
		n++;
		if (n != before + 1)
			e2e_fail("counter jumped from %lu to %lu", before, n);
		nanosleep(&tick, NULL);
	}
	if (getpid() != pid)
		e2e_fail("pid changed from %d to %d", pid, getpid());
	if (n < 100)
		e2e_fail("count went back to %lu", n);
	e2e_pass();
}
