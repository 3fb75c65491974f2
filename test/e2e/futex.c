/* A task blocked in a futex wait stays blocked until woken, then goes on. */
#include <linux/futex.h>
#include <sys/syscall.h>

#include "e2e.h"

static int word;

int main(int argc, char **argv)
{
	long ret;

	e2e_init(argc, argv);
	e2e_ready();
	do {
		ret = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	} while (!e2e_stopped() && (ret == 0 || errno == EAGAIN || errno == EINTR));
	if (!e2e_stopped())
		e2e_fail("futex wait failed: %s", strerror(errno));
	if (word != 0)
		e2e_fail("futex word changed to %d", word);
	e2e_pass();
}
