/*
 * An epoll set watching sockets still wakes after restore: a TCP listener
 * and an abstract-named unix listener wake it when a new connection
 * arrives, and a socketpair end with bytes queued is reported readable
 * at once (level-triggered).
 */
#include <stddef.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "e2e.h"

enum { TAG_TCP = 0x7c9, TAG_UNIX = 0x0ad, TAG_PAIR = 0x9a1 };

static void watch(int ep, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		e2e_fail("epoll_ctl: %s", strerror(errno));
}

/* The one event the set reports now, within a second. */
static uint64_t one_event(int ep, const char *what)
{
	struct epoll_event ev[4];
	int n = epoll_wait(ep, ev, 4, 1000);

	if (n != 1)
		e2e_fail("%s: epoll_wait reported %d events (%s)", what, n, strerror(errno));
	return ev[0].data.u64;
}

int main(int argc, char **argv)
{
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	socklen_t ulen, len = sizeof(in);
	int ep, tl, ul, sv[2], c, s;
	char buf[8];

	e2e_init(argc, argv);
	snprintf(un.sun_path + 1, sizeof(un.sun_path) - 1, "criu-e2e-sk-epoll-%d", getpid());
	ulen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(un.sun_path + 1));
	ep = epoll_create1(0);
	tl = socket(AF_INET, SOCK_STREAM, 0);
	ul = socket(AF_UNIX, SOCK_STREAM, 0);
	if (ep < 0 || tl < 0 || ul < 0 || bind(tl, (struct sockaddr *)&in, sizeof(in)) ||
	    listen(tl, 4) || getsockname(tl, (struct sockaddr *)&in, &len) ||
	    bind(ul, (struct sockaddr *)&un, ulen) || listen(ul, 4) ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		e2e_fail("setup: %s", strerror(errno));
	watch(ep, tl, TAG_TCP);
	watch(ep, ul, TAG_UNIX);
	watch(ep, sv[0], TAG_PAIR);
	if (write(sv[1], "q", 1) != 1)
		e2e_fail("write: %s", strerror(errno));

	e2e_ready();
	e2e_wait_stop();

	if (one_event(ep, "queued byte") != TAG_PAIR || read(sv[0], buf, 1) != 1)
		e2e_fail("the socketpair end is not reported readable");
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&in, sizeof(in)))
		e2e_fail("connect tcp: %s", strerror(errno));
	if (one_event(ep, "tcp") != TAG_TCP || (s = accept(tl, NULL, NULL)) < 0)
		e2e_fail("the TCP listener did not wake the set");
	close(s);
	close(c);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&un, ulen))
		e2e_fail("connect unix: %s", strerror(errno));
	if (one_event(ep, "unix") != TAG_UNIX || (s = accept(ul, NULL, NULL)) < 0)
		e2e_fail("the unix listener did not wake the set");
	e2e_pass();
}
