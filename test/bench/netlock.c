/*
 * Cost of the network lock (criu/net-lock.c): lock N connections (the
 * stale-table sweep, the table, its two chains and 4 rules per connection
 * in one transaction) and unlock them, against the baseline of one
 * netlink round trip to nf_tables (NFT_MSG_GETGEN) in the same run. Runs
 * in a private network namespace: the host's rules are never touched.
 *
 * Then the price a held lock puts on the host's other traffic: one-byte
 * round trips of a loopback connection that is not locked, without a lock
 * and with 1000 other connections locked, alternating.
 *
 * Usage: netlock [ROUNDS]; prints a markdown table (best of ROUNDS each).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include "net-lock.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* One NFT_MSG_GETGEN request and its answer. */
static double getgen_us(void)
{
	struct { struct nlmsghdr h; struct nfgenmsg g; } req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_flags = NLM_F_REQUEST,
		       .nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN },
		.g = { .nfgen_family = AF_UNSPEC, .version = NFNETLINK_V0 },
	};
	char buf[4096];
	double t;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);

	if (fd < 0)
		return -1;
	t = now_us();
	if (send(fd, &req, sizeof(req), 0) < 0 || recv(fd, buf, sizeof(buf), 0) <= 0)
		t = now_us() + 1e9;
	t = now_us() - t;
	close(fd);
	return t;
}

/* A TCP connection to itself over 127.0.0.1 (lo must be up): two fds. */
static int loop_pair(int fd[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (l < 0 || bind(l, (void *)&a, len) || listen(l, 1) || getsockname(l, (void *)&a, &len))
		return -1;
	fd[0] = socket(AF_INET, SOCK_STREAM, 0);
	if (fd[0] < 0 || connect(fd[0], (void *)&a, len))
		return -1;
	fd[1] = accept(l, NULL, NULL);
	close(l);
	setsockopt(fd[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd[1] < 0 ? -1 : 0;
}

/* Microseconds per one-byte round trip (two segments each way through both hooks). */
static double pingpong_us(const int fd[2], int n)
{
	double t = now_us();
	char c = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (send(fd[0], &c, 1, 0) != 1 || recv(fd[1], &c, 1, 0) != 1 ||
		    send(fd[1], &c, 1, 0) != 1 || recv(fd[0], &c, 1, 0) != 1)
			return 1e9;
	}
	return (now_us() - t) / n;
}

static int lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), ret;

	if (fd < 0)
		return -1;
	ret = ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	ret = ret ?: ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
	return ret;
}

/* Round trips of a connection that is not locked, with no lock and with 1000 locked. */
static int packet_cost(int rounds, struct net_lock_conn *c)
{
	double bare = 1e18, held = 1e18, t;
	int fd[2], r;

	if (lo_up() || loop_pair(fd)) {
		perror("netlock: a loopback connection");
		return -1;
	}
	for (r = 0; r < rounds; r++) {
		t = pingpong_us(fd, 2000);
		if (t < bare)
			bare = t;
		if (net_lock_conns(c, 1000))
			return -1;
		t = pingpong_us(fd, 2000);
		if (t < held)
			held = t;
		if (net_unlock())
			return -1;
	}
	printf("\none-byte round trip of a connection not locked, best of %d rounds of 2000:\n"
	       "no lock %.1f us, 1000 other connections locked %.1f us (ratio %.1f)\n",
	       rounds, bare, held, held / bare);
	close(fd[0]);
	close(fd[1]);
	return 0;
}

static void conns(struct net_lock_conn *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].family = i % 2 ? AF_INET6 : AF_INET;
		c[i].src[0] = c[i].dst[0] = 10;
		c[i].src[3] = 1;
		c[i].dst[3] = 2;
		c[i].sport = (uint16_t)(10000 + i);
		c[i].dport = 443;
	}
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 1, 10, 100, 1000 };
	int rounds = argc > 1 ? atoi(argv[1]) : 20, r;
	struct net_lock_conn *c = calloc(1000, sizeof(*c));
	double base = 1e18, lock[4], unlock[4];
	unsigned int s;

	if (!c || unshare(CLONE_NEWNET)) {
		perror("netlock: unshare(CLONE_NEWNET)");
		return 1;
	}
	conns(c, 1000);
	for (s = 0; s < 4; s++)
		lock[s] = unlock[s] = 1e18;
	for (r = 0; r < rounds; r++) {
		double g = getgen_us();

		if (g >= 0 && g < base)
			base = g;
		for (s = 0; s < 4; s++) {
			double t0 = now_us(), t1, t2;

			if (net_lock_conns(c, sizes[s]))
				return 1;
			t1 = now_us();
			if (net_unlock())
				return 1;
			t2 = now_us();
			if (t1 - t0 < lock[s])
				lock[s] = t1 - t0;
			if (t2 - t1 < unlock[s])
				unlock[s] = t2 - t1;
		}
	}
	printf("network lock, best of %d rounds; baseline: one NFT_MSG_GETGEN round trip %.1f us\n\n",
	       rounds, base);
	printf("| connections | lock us | unlock us | lock / GETGEN | unlock / GETGEN |\n");
	printf("| ----------- | ------- | --------- | ------------- | --------------- |\n");
	for (s = 0; s < 4; s++)
		printf("| %zu | %.0f | %.0f | %.0f | %.0f |\n", sizes[s], lock[s], unlock[s],
		       lock[s] / base, unlock[s] / base);
	if (packet_cost(rounds < 5 ? rounds : 5, c))
		return 1;
	free(c);
	return 0;
}
