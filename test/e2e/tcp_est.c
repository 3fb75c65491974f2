/*
 * An established TCP connection (the process connected to its own
 * listener): the dump must fail pointing at --tcp-established and leave
 * the process and the connection unharmed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "e2e.h"

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l, c, s;
	char buf[8];

	e2e_init(argc, argv);
	l = socket(AF_INET, SOCK_STREAM, 0);
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &len) ||
	    connect(c, (struct sockaddr *)&a, sizeof(a)))
		e2e_fail("setup: %s", strerror(errno));
	s = accept(l, NULL, NULL);
	if (s < 0 || write(c, "before", 6) != 6)
		e2e_fail("accept: %s", strerror(errno));

	e2e_ready();
	e2e_wait_stop();

	if (read(s, buf, 6) != 6 || memcmp(buf, "before", 6) || write(s, "after", 5) != 5 ||
	    read(c, buf, 5) != 5 || memcmp(buf, "after", 5))
		e2e_fail("the connection did not survive the refused dump");
	e2e_pass();
}
