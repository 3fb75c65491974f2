/*
 * The network lock on this kernel, in a private network namespace (lo up)
 * so that the host's rules and connections are never touched: a real TCP
 * connection between two processes goes silent while locked (the sender
 * retransmits, sees no error and no RST, its data waits in its send
 * queue; nothing reaches the other end) and carries everything once
 * unlocked; IPv4, IPv6 and v4-mapped-v6; the table goes away on SIGTERM,
 * SIGINT and exit, and after a SIGKILL the next run removes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <linux/sockios.h>

#include "unit.h"
#include "net-lock.h"
#include "net-lock-nft.h"

#define DATA_LEN	1000
#define BACK_LEN	100
#define WAIT_MS		10000

static bool in_ns;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int test_method(void)
{
	enum net_lock_method m;

	CHECK(!net_lock_method(NULL, &m) && m == NET_LOCK_NFT);
	CHECK(!net_lock_method("nftables", &m) && m == NET_LOCK_NFT);
	CHECK(!net_lock_method("iptables", &m) && m == NET_LOCK_NFT);
	CHECK(!net_lock_method("skip", &m) && m == NET_LOCK_SKIP);
	CHECK(!net_lock_method("none", &m) && m == NET_LOCK_SKIP);
	CHECK(net_lock_method("ebtables", &m) == -1);
	return 0;
}

static int test_netns(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd;

	CHECK(!unshare(CLONE_NEWNET));
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	CHECK(!ioctl(fd, SIOCGIFFLAGS, &ifr));
	ifr.ifr_flags |= IFF_UP;
	CHECK(!ioctl(fd, SIOCSIFFLAGS, &ifr));
	close(fd);
	in_ns = true;
	return 0;
}

static int test_probe(void)
{
	char why[256] = "";
	char name[64];

	CHECK(in_ns);
	CHECK(net_lock_probe(why, sizeof(why)) == 0);
	snprintf(name, sizeof(name), "criu-probe-%d", (int)getpid());
	CHECK(net_lock_table_exists(name) == 0);
	return 0;
}

/* ---- a connection between two processes ----------------------------------------------------- */

/* What the child holding the locked end answers to 'q'. */
struct report {
	int	unread, unsent, error, retrans;
};

struct pair {
	int	family;
	bool	mapped;		/* AF_INET6 socket to ::ffff:127.0.0.1 */
	int	peer;		/* the parent's end */
	pid_t	child;		/* holds the tree's end */
	int	cmd, ans;	/* pipes to and from the child */
	struct net_lock_conn conn;	/* the child's end as a lock tuple */
};

static void fill(unsigned char *p, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 7 + seed);
}

/*
 * Times the socket tried again to send what got no answer: a dropped
 * packet is retransmitted when it left the host (dropped on input) and
 * probed again when the drop was on its way out (a local failure).
 */
static int retrans(int fd)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l))
		return -1;
	return (int)(ti.tcpi_total_retrans + ti.tcpi_probes);
}

static void report(int fd, struct report *r)
{
	socklen_t l = sizeof(r->error);

	ioctl(fd, FIONREAD, &r->unread);
	ioctl(fd, SIOCOUTQ, &r->unsent);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &r->error, &l);
	r->retrans = retrans(fd);
}

/* Read exactly @n bytes of pattern @seed within WAIT_MS: 0, or -1. */
static int read_all(int fd, size_t n, unsigned int seed)
{
	unsigned char got[DATA_LEN], want[DATA_LEN];
	long long end = now_ms() + WAIT_MS;
	size_t have = 0;

	fill(want, n, seed);
	while (have < n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, (int)(end - now_ms())) <= 0)
			return -1;
		r = recv(fd, got + have, n - have, 0);
		if (r <= 0)
			return -1;
		have += (size_t)r;
	}
	return memcmp(got, want, n) ? -1 : 0;
}

static void child_loop(int fd, int cmd, int ans)
{
	unsigned char back[BACK_LEN];
	struct report r;
	char c;
	int res;

	fill(back, sizeof(back), 3);
	while (read(cmd, &c, 1) == 1) {
		switch (c) {
		case 'q':
			report(fd, &r);
			if (write(ans, &r, sizeof(r)) != sizeof(r))
				_exit(2);
			break;
		case 'x':
			res = send(fd, back, sizeof(back), 0) == sizeof(back) ? 0 : -1;
			if (write(ans, &res, sizeof(res)) != sizeof(res))
				_exit(2);
			break;
		case 'e':
			res = read_all(fd, DATA_LEN, 1);
			if (write(ans, &res, sizeof(res)) != sizeof(res))
				_exit(2);
			_exit(0);
		}
	}
	_exit(1);
}

static int local_sockaddr(const struct pair *p, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (p->family == AF_INET) {
		struct sockaddr_in *a = (void *)ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (void *)ss;

		a->sin6_family = AF_INET6;
		if (p->mapped)
			inet_pton(AF_INET6, "::ffff:127.0.0.1", &a->sin6_addr);
		else
			a->sin6_addr = in6addr_loopback;
		*len = sizeof(*a);
	}
	return 0;
}

/* The tuple of @fd as its owner sees it. */
static int tuple(int fd, struct net_lock_conn *c)
{
	struct sockaddr_storage l, r;
	socklen_t ll = sizeof(l), rl = sizeof(r);

	if (getsockname(fd, (void *)&l, &ll) || getpeername(fd, (void *)&r, &rl))
		return -1;
	memset(c, 0, sizeof(*c));
	c->family = l.ss_family;
	if (c->family == AF_INET) {
		memcpy(c->src, &((struct sockaddr_in *)&l)->sin_addr, 4);
		memcpy(c->dst, &((struct sockaddr_in *)&r)->sin_addr, 4);
		c->sport = ntohs(((struct sockaddr_in *)&l)->sin_port);
		c->dport = ntohs(((struct sockaddr_in *)&r)->sin_port);
	} else {
		memcpy(c->src, &((struct sockaddr_in6 *)&l)->sin6_addr, 16);
		memcpy(c->dst, &((struct sockaddr_in6 *)&r)->sin6_addr, 16);
		c->sport = ntohs(((struct sockaddr_in6 *)&l)->sin6_port);
		c->dport = ntohs(((struct sockaddr_in6 *)&r)->sin6_port);
	}
	return 0;
}

static int pair_open(struct pair *p)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int lfd, tree, cmd[2], ans[2];
	char c;

	local_sockaddr(p, &ss, &len);
	lfd = socket(p->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (void *)&ss, len) || listen(lfd, 1) ||
	    getsockname(lfd, (void *)&ss, &len))
		return -1;
	p->peer = socket(p->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (p->peer < 0 || connect(p->peer, (void *)&ss, len))
		return -1;
	tree = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	close(lfd);
	if (tree < 0 || tuple(tree, &p->conn) || pipe2(cmd, O_CLOEXEC) || pipe2(ans, O_CLOEXEC))
		return -1;
	p->child = fork();
	if (p->child < 0)
		return -1;
	if (!p->child) {
		close(p->peer);
		close(cmd[1]);
		close(ans[0]);
		/* ready: only its own end left (a lock skips a pair held whole) */
		if (write(ans[1], "r", 1) != 1)
			_exit(1);
		child_loop(tree, cmd[0], ans[1]);
	}
	close(tree);
	close(cmd[0]);
	close(ans[1]);
	p->cmd = cmd[1];
	p->ans = ans[0];
	return read(p->ans, &c, 1) == 1 ? 0 : -1;
}

static int ask(struct pair *p, char c, void *out, size_t len)
{
	return write(p->cmd, &c, 1) == 1 && read(p->ans, out, len) == (ssize_t)len ? 0 : -1;
}

static void pair_close(struct pair *p)
{
	int status;

	close(p->cmd);
	close(p->ans);
	close(p->peer);
	if (p->child > 0)
		waitpid(p->child, &status, 0);	/* its command pipe is closed: it exits */
	p->child = 0;
}

/* A connection of the same family that is not locked carries data meanwhile. */
static int other_flows(const struct pair *locked)
{
	struct sockaddr_storage ss;
	socklen_t len;
	unsigned char data[BACK_LEN];
	int lfd, a = -1, b = -1, ret = -1;

	local_sockaddr(locked, &ss, &len);
	lfd = socket(locked->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return -1;
	if (!bind(lfd, (void *)&ss, len) && !listen(lfd, 1) && !getsockname(lfd, (void *)&ss, &len)) {
		a = socket(locked->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (a >= 0 && !connect(a, (void *)&ss, len))
			b = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	}
	fill(data, sizeof(data), 5);
	if (b >= 0 && send(a, data, sizeof(data), 0) == (ssize_t)sizeof(data))
		ret = read_all(b, sizeof(data), 5);
	close(lfd);
	close(a);
	close(b);
	return ret;
}

/* Both ends have retransmitted: each sent a packet the lock dropped. */
static int wait_both_retransmit(struct pair *p, struct report *tree)
{
	long long end = now_ms() + WAIT_MS;

	while (now_ms() < end) {
		if (ask(p, 'q', tree, sizeof(*tree)))
			return -1;
		if (tree->retrans > 0 && retrans(p->peer) > 0)
			return 0;
		usleep(10000);
	}
	return -1;
}

/*
 * Lock @c among nr_others made-up tuples of both families (more than one
 * netlink message of set elements when there are many).
 */
static size_t nr_others;

static int lock_with_others(const struct net_lock_conn *c)
{
	struct net_lock_conn *v = calloc(nr_others + 1, sizeof(*v));
	size_t i;
	int ret;

	if (!v)
		return -1;
	for (i = 0; i < nr_others; i++) {
		v[i].family = i % 2 ? AF_INET6 : AF_INET;
		v[i].src[0] = v[i].dst[0] = 10;
		v[i].dst[1] = (uint8_t)(i >> 8);
		v[i].dst[2] = (uint8_t)i;
		v[i].sport = (uint16_t)(1024 + i);
		v[i].dport = 80;
	}
	v[nr_others] = *c;
	ret = net_lock_conns(v, nr_others + 1);
	free(v);
	return ret;
}

/* @relock: lock other tuples instead, which must free this connection. */
static int silence_then_flow(struct pair *p, bool by_tree, bool relock)
{
	unsigned char data[DATA_LEN];
	struct report tree;
	int res, unsent = -1, err = -1;
	socklen_t l = sizeof(err);

	CHECK(pair_open(p) == 0);
	if (by_tree)
		CHECK(net_lock_tree_conns(&p->child, 1, NULL) == 0);
	else
		CHECK(lock_with_others(&p->conn) == 0);
	CHECK(net_lock_table_exists(net_lock_table()) == 1);
	fill(data, sizeof(data), 1);
	CHECK(send(p->peer, data, sizeof(data), 0) == (ssize_t)sizeof(data));
	CHECK(ask(p, 'x', &res, sizeof(res)) == 0 && res == 0);
	if (wait_both_retransmit(p, &tree)) {
		fprintf(stderr, "tree: unread %d unsent %d error %d retrans %d; peer retrans %d\n",
			tree.unread, tree.unsent, tree.error, tree.retrans, retrans(p->peer));
		CHECK(0);
	}
	/* silence: nothing delivered either way, no error, data waits to be sent */
	CHECK(tree.unread == 0 && tree.error == 0 && tree.unsent == BACK_LEN);
	CHECK(!ioctl(p->peer, SIOCOUTQ, &unsent) && unsent == DATA_LEN);
	CHECK(!getsockopt(p->peer, SOL_SOCKET, SO_ERROR, &err, &l) && err == 0);
	CHECK(ioctl(p->peer, FIONREAD, &res) == 0 && res == 0);
	CHECK(other_flows(p) == 0);
	if (relock) {
		/* a new set of tuples replaces the old one in one transaction */
		struct net_lock_conn other = { .family = AF_INET, .sport = 1, .dport = 2 };

		CHECK(net_lock_conns(&other, 1) == 0);
		CHECK(ask(p, 'e', &res, sizeof(res)) == 0 && res == 0);
		CHECK(read_all(p->peer, BACK_LEN, 3) == 0);
	}
	CHECK(net_unlock() == 0);
	CHECK(net_lock_table()[0] == '\0');
	if (!relock) {
		/* everything arrives, in order, after the lock */
		CHECK(ask(p, 'e', &res, sizeof(res)) == 0 && res == 0);
		CHECK(read_all(p->peer, BACK_LEN, 3) == 0);
	}
	return 0;
}

/* A pair of @family, locked by tuple or found from the child's fds. */
static int lock_pair(int family, bool mapped, bool by_tree, bool relock)
{
	struct pair p = { .family = family, .mapped = mapped };
	int ret;

	CHECK(in_ns);
	ret = silence_then_flow(&p, by_tree, relock);
	net_unlock();
	pair_close(&p);
	return ret;
}

static int test_lock_v4(void)
{
	return lock_pair(AF_INET, false, false, false);
}

static int test_lock_v6(void)
{
	return lock_pair(AF_INET6, false, true, false);
}

static int test_lock_mapped(void)
{
	return lock_pair(AF_INET6, true, true, false);
}

/* ---- the table goes away --------------------------------------------------------------------- */

/*
 * A child that locks one tuple (in a table without an owner if @unowned),
 * tells the table's name, then waits for a signal, or exits if @just_exit.
 */
static pid_t locker(char *name, size_t len, bool just_exit, bool unowned)
{
	struct net_lock_conn c = { .family = AF_INET, .sport = 4000, .dport = 5000 };
	int fds[2];
	pid_t pid;

	c.src[0] = c.dst[0] = 10;
	c.dst[3] = 2;
	if (pipe2(fds, O_CLOEXEC))
		return -1;
	pid = fork();
	if (!pid) {
		close(fds[0]);
		net_lock_set_unowned(unowned);
		if (net_lock_conns(&c, 1) ||
		    write(fds[1], net_lock_table(), NET_LOCK_NAME_MAX) != NET_LOCK_NAME_MAX)
			_exit(1);
		if (just_exit)
			exit(3);	/* a failed criu returning from main: atexit runs */
		for (;;)
			pause();
	}
	close(fds[1]);
	if (pid > 0 && read(fds[0], name, len) != (ssize_t)len) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(fds[0]);
	return pid;
}

/*
 * @pid ended by @sig (0: exited), within 20 s: a locker that does not die
 * is SIGKILLed and named, not waited for until the runner's time limit.
 */
static int killed_by(pid_t pid, int sig)
{
	long long end = now_ms() + 20000;
	int status;
	pid_t got;

	if (sig)
		kill(pid, sig);
	while ((got = waitpid(pid, &status, WNOHANG)) == 0 && now_ms() < end)
		usleep(10000);
	if (got != pid) {
		fprintf(stderr, "locker %d did not end within 20 s of signal %d: killed\n", pid, sig);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return 0;
	}
	return sig ? WIFSIGNALED(status) && WTERMSIG(status) == sig : WIFEXITED(status);
}

static int test_signals(void)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	char name[NET_LOCK_NAME_MAX];
	unsigned int i;
	pid_t pid;

	CHECK(in_ns);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		/* a runner in the background may hand SIGINT down ignored, which the lock keeps */
		signal(sigs[i], SIG_DFL);
		pid = locker(name, sizeof(name), false, false);
		CHECK(pid > 0);
		CHECK(net_lock_table_exists(name) == 1);
		CHECK(killed_by(pid, sigs[i]));
		CHECK(net_lock_table_exists(name) == 0);
	}
	pid = locker(name, sizeof(name), true, false);
	CHECK(pid > 0);
	CHECK(killed_by(pid, 0));
	CHECK(net_lock_table_exists(name) == 0);
	return 0;
}

/* criu run under nohup: SIGHUP stays ignored, and the lock stays with it. */
static int test_ignored(void)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	char name[NET_LOCK_NAME_MAX];
	pid_t pid;
	int st;

	CHECK(in_ns);
	sigaction(SIGHUP, &ign, &old);
	pid = locker(name, sizeof(name), false, false);
	sigaction(SIGHUP, &old, NULL);
	CHECK(pid > 0);
	kill(pid, SIGHUP);
	usleep(100000);
	CHECK(waitpid(pid, &st, WNOHANG) == 0);
	CHECK(net_lock_table_exists(name) == 1);
	CHECK(killed_by(pid, SIGTERM));
	CHECK(net_lock_table_exists(name) == 0);
	return 0;
}

/* An owned table goes with its socket: nothing is left to the next run. */
static int test_sigkill_owned(void)
{
	char name[NET_LOCK_NAME_MAX];
	pid_t pid;

	CHECK(in_ns);
	pid = locker(name, sizeof(name), false, false);
	CHECK(pid > 0);
	CHECK(net_lock_table_exists(name) == 1);
	CHECK(killed_by(pid, SIGKILL));
	CHECK(net_lock_table_exists(name) == 0);
	return 0;
}

/* Without an owner (kernels before 5.12): the next run removes what a SIGKILL left. */
static int test_stale(void)
{
	char dead[NET_LOCK_NAME_MAX], live[NET_LOCK_NAME_MAX];
	pid_t a, b;
	int ret = 0;

	CHECK(in_ns);
	a = locker(dead, sizeof(dead), false, true);
	CHECK(a > 0);
	b = locker(live, sizeof(live), false, true);
	if (b <= 0) {
		killed_by(a, SIGKILL);
		CHECK(b > 0);
	}
	if (!killed_by(a, SIGKILL) || net_lock_table_exists(dead) != 1)
		ret = -1;		/* SIGKILL: nothing ran, the table stayed */
	else if (net_lock_cleanup_stale() != 1 || net_lock_table_exists(dead) != 0)
		ret = -1;		/* the next run removed it */
	else if (net_lock_table_exists(live) != 1)
		ret = -1;		/* and left the running one alone */
	killed_by(b, SIGTERM);
	CHECK(ret == 0);
	CHECK(net_lock_table_exists(live) == 0);
	CHECK(net_lock_cleanup_stale() == 0);
	return 0;
}

static int test_keep(void)
{
	struct net_lock_conn c = { .family = AF_INET6, .sport = 1, .dport = 2 };
	char own[NET_LOCK_NAME_MAX], kept[NET_LOCK_NAME_MAX];
	pid_t root = 4242;

	CHECK(in_ns);
	c.src[15] = c.dst[15] = 1;
	snprintf(kept, sizeof(kept), NET_LOCK_KEPT_PREFIX "%d", (int)root);
	CHECK(net_lock_keep(root) == -1);		/* nothing to hand over */
	CHECK(net_lock_conns(&c, 1) == 0);
	snprintf(own, sizeof(own), "%s", net_lock_table());
	CHECK(net_lock_keep(root) == 0);
	CHECK(net_lock_table()[0] == '\0');
	CHECK(net_lock_table_exists(own) == 0);
	CHECK(net_lock_table_exists(kept) == 1);
	CHECK(net_lock_cleanup_stale() == 0);		/* not a stale one */
	CHECK(net_unlock_kept(root) == 0);
	CHECK(net_lock_table_exists(kept) == 0);
	CHECK(net_unlock_kept(root) == 0);		/* gone already: not an error */
	return 0;
}

/* The connection last of 3001 locked: 6002 keys, several messages of them. */
static int test_lock_many(void)
{
	int ret;

	nr_others = 3000;
	ret = lock_pair(AF_INET, false, false, false);
	nr_others = 0;
	return ret;
}

/* A lock replaced by one of other tuples: the first connection flows again. */
static int test_relock(void)
{
	return lock_pair(AF_INET, false, false, true);
}

/* ---- table answers, crafted ---------------------------------------------------------------- */

struct answer {
	union {
		struct nlmsghdr	h;
		char		buf[512];
	};
};

static void answer_init(struct answer *a)
{
	memset(a, 0, sizeof(*a));
	a->h.nlmsg_len = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));
}

static struct nlattr *answer_attr(struct answer *a, uint16_t type, const void *data, size_t len)
{
	struct nlattr *at = (struct nlattr *)(a->buf + NLMSG_ALIGN(a->h.nlmsg_len));

	at->nla_type = type;
	at->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memcpy((char *)at + NLA_HDRLEN, data, len);
	a->h.nlmsg_len = NLMSG_ALIGN(a->h.nlmsg_len) + NLA_ALIGN(at->nla_len);
	return at;
}

static int test_table_answer(void)
{
	uint32_t flags, be = htonl(NFT_TABLE_F_OWNER);
	char name[16], big[40];
	struct nlattr *at;
	struct answer a;

	answer_init(&a);
	answer_attr(&a, NFTA_TABLE_NAME, "criu-lock-1-2", 14);
	answer_attr(&a, NFTA_TABLE_FLAGS, &be, sizeof(be));
	CHECK(nft_table_attrs(&a.h, name, sizeof(name), &flags) == 0);
	CHECK_STR(name, "criu-lock-1-2");
	CHECK(flags == NFT_TABLE_F_OWNER);
	/* no name */
	answer_init(&a);
	answer_attr(&a, NFTA_TABLE_FLAGS, &be, sizeof(be));
	CHECK(nft_table_attrs(&a.h, name, sizeof(name), &flags) == -1);
	/* a name longer than the caller's room, unterminated or not */
	memset(big, 'x', sizeof(big));
	answer_init(&a);
	answer_attr(&a, NFTA_TABLE_NAME, big, sizeof(big));
	CHECK(nft_table_attrs(&a.h, name, sizeof(name), &flags) == -1);
	/* short flags */
	answer_init(&a);
	answer_attr(&a, NFTA_TABLE_NAME, "t", 2);
	answer_attr(&a, NFTA_TABLE_FLAGS, &be, 2);
	CHECK(nft_table_attrs(&a.h, name, sizeof(name), &flags) == -1);
	/* an attribute running past the message, and one shorter than its header */
	answer_init(&a);
	at = answer_attr(&a, NFTA_TABLE_NAME, "t", 2);
	at->nla_len = 200;
	CHECK(nft_table_attrs(&a.h, name, sizeof(name), &flags) == -1);
	at->nla_len = 2;
	CHECK(nft_table_attrs(&a.h, name, sizeof(name), &flags) == -1);
	/* no attributes at all, and a message shorter than its own headers */
	answer_init(&a);
	CHECK(nft_table_attrs(&a.h, name, sizeof(name), &flags) == -1);
	a.h.nlmsg_len = NLMSG_HDRLEN;
	CHECK(nft_table_attrs(&a.h, name, sizeof(name), &flags) == -1);
	return 0;
}

static const struct unit_case cases[] = {
	{ "table answers: name, flags; malformed refused", test_table_answer },
	{ "--network-lock names", test_method },
	{ "a private network namespace, lo up", test_netns },
	{ "probe: table, chains, rule created and deleted at once", test_probe },
	{ "IPv4: silence while locked, all data after", test_lock_v4 },
	{ "IPv6, tuples from sock_diag: silence, then all data", test_lock_v6 },
	{ "v4-mapped IPv6: silence, then all data", test_lock_mapped },
	{ "one connection among 3001 locked: silence, then all data", test_lock_many },
	{ "a lock of other tuples frees the first connection", test_relock },
	{ "SIGTERM, SIGINT, SIGHUP, exit: the table goes", test_signals },
	{ "an ignored SIGHUP (nohup) leaves the lock alone", test_ignored },
	{ "SIGKILL: the kernel drops the owned table at once", test_sigkill_owned },
	{ "SIGKILL, unowned table: the next run removes it", test_stale },
	{ "handed over to the restore, removed by it", test_keep },
};

UNIT_MAIN(cases)
