/*
 * A task inside poll() without a timeout (as script(1), tmux and most event
 * loops wait) is still inside it after the restore: poll stops with the
 * kernel's restart block, which a checkpoint does not carry, so the restore
 * issues it again. Only the harness's SIGTERM may end it (EINTR then).
 */
#include <poll.h>

#include "e2e.h"

int main(int argc, char **argv)
{
	struct pollfd pfd;
	int p[2], n;

	e2e_init(argc, argv);
	if (pipe(p))
		e2e_fail("pipe: %s", strerror(errno));
	pfd = (struct pollfd){ .fd = p[0], .events = POLLIN };
	e2e_ready();
	n = poll(&pfd, 1, -1);
	if (!e2e_stopped())
		e2e_fail("poll returned %d (%s) before SIGTERM", n, n < 0 ? strerror(errno) : "ready");
	if (n != -1 || errno != EINTR)
		e2e_fail("poll returned %d, not EINTR, on SIGTERM", n);
	e2e_pass();
}
