/* eventfds keep their counter, EFD_SEMAPHORE and O_NONBLOCK. */
#include <stdint.h>
#include <sys/eventfd.h>

#include "e2e.h"

static uint64_t get(int fd)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		e2e_fail("eventfd read: %s", strerror(errno));
	return v;
}

int main(int argc, char **argv)
{
	uint64_t big = 0x123456789aULL, v;
	int plain, sem, empty;

	e2e_init(argc, argv);
	plain = eventfd(0, 0);
	sem = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
	empty = eventfd(0, EFD_NONBLOCK);
	if (plain < 0 || sem < 0 || empty < 0 || write(plain, &big, sizeof(big)) != sizeof(big))
		e2e_fail("eventfd: %s", strerror(errno));

	e2e_ready();
	e2e_wait_stop();

	if ((v = get(plain)) != big)
		e2e_fail("counter %#llx, not %#llx", (unsigned long long)v, (unsigned long long)big);
	if (get(sem) != 1 || get(sem) != 1 || get(sem) != 1)
		e2e_fail("semaphore eventfd did not count down by one three times");
	if (read(sem, &v, sizeof(v)) != -1 || errno != EAGAIN)
		e2e_fail("semaphore eventfd: not empty or not O_NONBLOCK");
	if (read(empty, &v, sizeof(v)) != -1 || errno != EAGAIN)
		e2e_fail("empty eventfd: not empty or not O_NONBLOCK");
	if (fcntl(plain, F_GETFL) & O_NONBLOCK)
		e2e_fail("blocking eventfd became non-blocking");
	e2e_pass();
}
