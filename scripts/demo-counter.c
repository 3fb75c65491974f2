/*
 * The demo's sample process: counts up five times a second, printing each
 * number on its own line. It keeps its count in memory only, so a restored
 * counter that goes on from where it was shows that memory came back.
 */
#include <stdio.h>
#include <time.h>

int main(void)
{
	struct timespec tick = { 0, 200 * 1000 * 1000 };
	unsigned long n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (n = 1;; n++) {
		printf("%lu\n", n);
		nanosleep(&tick, NULL);
	}
}
