/*
 * An epoll set over a pipe, an eventfd (edge-triggered), a periodic
 * timerfd and a listening TCP socket keeps its registrations and data and
 * still wakes after restore (the socket when a connection comes in), and
 * keeps its busy-poll parameters (EPIOCSPARAMS, 6.9).
 */
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>

#include "e2e.h"
#include "kernel-compat.h"

static void add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		e2e_fail("epoll_ctl: %s", strerror(errno));
}

/* Wait up to @ms for an event carrying @data. */
static int wait_for(int ep, uint64_t data, int ms)
{
	struct epoll_event ev[8];
	int n, i;

	n = epoll_wait(ep, ev, 8, ms);
	for (i = 0; i < n; i++)
		if (ev[i].data.u64 == data)
			return 1;
	return 0;
}

/* A TCP listener on a free port of 127.0.0.1; its address in @sa. */
static int listener(struct sockaddr_in *sa)
{
	socklen_t len = sizeof(*sa);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)sa, sizeof(*sa)) || listen(s, 4) ||
	    getsockname(s, (struct sockaddr *)sa, &len))
		e2e_fail("listener: %s", strerror(errno));
	return s;
}

/* Busy-poll parameters none of which is the default (budget over 64: CAP_NET_ADMIN). */
static const struct epoll_params busy = { 25, 100, 1, 0 };

static void check_params(int ep)
{
	struct epoll_params p = { 0 };

	if (ioctl(ep, EPIOCGPARAMS, &p))
		e2e_fail("EPIOCGPARAMS: %s", strerror(errno));
	if (p.busy_poll_usecs != busy.busy_poll_usecs ||
	    p.busy_poll_budget != busy.busy_poll_budget ||
	    p.prefer_busy_poll != busy.prefer_busy_poll)
		e2e_fail("busy-poll parameters %u usecs, budget %u, prefer %u; were %u, %u, %u",
			 p.busy_poll_usecs, p.busy_poll_budget, p.prefer_busy_poll,
			 busy.busy_poll_usecs, busy.busy_poll_budget, busy.prefer_busy_poll);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	int ls, cs;
	struct itimerspec its = { { 0, 100000000 }, { 0, 100000000 } };
	uint64_t one = 1, v;
	int p[2], efd, tfd, ep;
	char c;

	e2e_init(argc, argv);
	efd = eventfd(0, EFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (pipe(p) || efd < 0 || tfd < 0 || ep < 0 || timerfd_settime(tfd, 0, &its, NULL))
		e2e_fail("setup: %s", strerror(errno));
	add(ep, p[0], EPOLLIN, 0x1111);
	add(ep, efd, EPOLLIN | EPOLLET, 0x2222);
	add(ep, tfd, EPOLLIN, 0x3333);
	ls = listener(&sa);
	add(ep, ls, EPOLLIN, 0x4444);
	if (ioctl(ep, EPIOCSPARAMS, &busy))
		e2e_fail("EPIOCSPARAMS: %s", strerror(errno));
	check_params(ep);

	e2e_ready();
	e2e_wait_stop();

	check_params(ep);

	if (!(fcntl(ep, F_GETFD) & FD_CLOEXEC))
		e2e_fail("epoll lost its close-on-exec flag");
	if (wait_for(ep, 0x1111, 0) || wait_for(ep, 0x2222, 0))
		e2e_fail("pipe or eventfd reported before anything was written");
	if (write(p[1], "x", 1) != 1 || !wait_for(ep, 0x1111, 2000))
		e2e_fail("no event for the pipe");
	if (read(p[0], &c, 1) != 1)
		e2e_fail("pipe read: %s", strerror(errno));
	if (write(efd, &one, sizeof(one)) != sizeof(one) || !wait_for(ep, 0x2222, 2000))
		e2e_fail("no event for the eventfd");
	if (wait_for(ep, 0x2222, 0))
		e2e_fail("edge-triggered eventfd reported twice");
	if (read(tfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		e2e_fail("timerfd read: %s", strerror(errno));
	if (!wait_for(ep, 0x3333, 2000))
		e2e_fail("the timerfd does not wake the epoll any more");
	if (wait_for(ep, 0x4444, 0))
		e2e_fail("the listener reported before anyone connected");
	cs = socket(AF_INET, SOCK_STREAM, 0);
	if (cs < 0 || connect(cs, (struct sockaddr *)&sa, sizeof(sa)))
		e2e_fail("connect to the restored listener: %s", strerror(errno));
	if (!wait_for(ep, 0x4444, 2000))
		e2e_fail("no event for the connection to the listener");
	if (accept(ls, NULL, NULL) < 0)
		e2e_fail("accept: %s", strerror(errno));
	e2e_pass();
}
