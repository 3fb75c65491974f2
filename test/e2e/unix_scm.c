/*
 * Descriptors in flight (SCM_RIGHTS queued on unix sockets) come back in
 * their messages, in order, and work ("unix_scm MODE"):
 *   stream  a stream pair: "head" with none, then a pipe's write end, an
 *           eventfd holding 7 and a regular file (closed by the process:
 *           in flight only) with "rights", then "tail" with none; a read
 *           brings "headrights" and the three (the kernel reads on up to
 *           the message with descriptors, and stops after it), then "tail"
 *   self    a seqpacket pair a-b: b sent over a to itself, then an end d
 *           of another pair whose own queue holds a pipe's write end (d
 *           and that end in flight only)
 *   dgram   a datagram socket with an abstract name, unconnected: two
 *           unnamed senders (closed since) sent it a pipe's write end and
 *           an eventfd holding 5, and a datagram with none
 *   tree    a child's own socketpair holds, in flight, the write end of a
 *           pipe whose read end only the parent keeps: restore makes the
 *           pair in the parent (the common ancestor) and hands it down; the
 *           child receives the end and writes, the parent reads
 */
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "e2e.h"

#define MAXFD	4

static void send_fds(int sock, const char *data, const int *fds, int n,
		     const struct sockaddr_un *to, socklen_t tolen)
{
	char ctl[CMSG_SPACE(MAXFD * sizeof(int))] = { 0 };
	struct iovec iov = { (void *)data, strlen(data) };
	struct msghdr mh = { .msg_name = (void *)to, .msg_namelen = to ? tolen : 0,
			     .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (n) {
		mh.msg_control = ctl;
		mh.msg_controllen = CMSG_SPACE(n * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	}
	if (sendmsg(sock, &mh, 0) != (ssize_t)strlen(data))
		e2e_fail("sendmsg %s: %s", data, strerror(errno));
}

/* Receive @len bytes that must be @want, with exactly @n descriptors into @fds. */
static void recv_fds(int sock, size_t len, const char *want, int *fds, int n)
{
	char ctl[CMSG_SPACE(MAXFD * sizeof(int))], buf[64] = "";
	struct iovec iov = { buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			     .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c;
	ssize_t r = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	int got = 0;

	if (r != (ssize_t)strlen(want) || memcmp(buf, want, strlen(want)))
		e2e_fail("got %zd bytes '%.*s', want '%s' (%s)", r, r > 0 ? (int)r : 0, buf, want,
			 r < 0 ? strerror(errno) : "");
	if (mh.msg_flags & MSG_CTRUNC)
		e2e_fail("'%s': control data cut short", want);
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			got = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			if (got > n)
				e2e_fail("'%s': %d descriptors, want %d", want, got, n);
			memcpy(fds, CMSG_DATA(c), got * sizeof(int));
		}
	if (got != n)
		e2e_fail("'%s': %d descriptors, want %d", want, got, n);
}

static void check_pipe(int w, int r, const char *what)
{
	char c = 0;

	if (write(w, "p", 1) != 1 || read(r, &c, 1) != 1 || c != 'p')
		e2e_fail("%s: the pipe's write end does not reach its read end", what);
}

static void check_eventfd(int fd, uint64_t want)
{
	uint64_t v = 0;

	if (read(fd, &v, sizeof(v)) != sizeof(v) || v != want)
		e2e_fail("eventfd in flight: %llu, want %llu", (unsigned long long)v,
			 (unsigned long long)want);
}

static void check_empty(int sock)
{
	char c;

	if (recv(sock, &c, 1, MSG_DONTWAIT) != -1 || errno != EAGAIN)
		e2e_fail("more queued than was sent");
}

static void stream(void)
{
	int sv[2], p[2], f[3], g[3], ev = eventfd(7, 0), reg;
	char path[PATH_MAX], buf[16] = "";

	e2e_path(path, sizeof(path), "scm-file");
	reg = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || pipe(p) || ev < 0 || reg < 0 ||
	    write(reg, "in a file", 9) != 9)
		e2e_fail("setup: %s", strerror(errno));
	f[0] = p[1], f[1] = ev, f[2] = reg;
	send_fds(sv[0], "head", NULL, 0, NULL, 0);
	send_fds(sv[0], "rights", f, 3, NULL, 0);
	send_fds(sv[0], "tail", NULL, 0, NULL, 0);
	close(p[1]);
	close(ev);
	close(reg);

	e2e_ready();
	e2e_wait_stop();

	recv_fds(sv[1], 32, "headrights", g, 3);
	recv_fds(sv[1], 32, "tail", g, 0);
	check_empty(sv[1]);
	check_pipe(g[0], p[0], "stream");
	check_eventfd(g[1], 7);
	if (pread(g[2], buf, 9, 0) != 9 || memcmp(buf, "in a file", 9))
		e2e_fail("the regular file in flight does not hold its data");
}

static void self(void)
{
	int ab[2], cd[2], p[2], g[2], st_b, st_got;
	struct stat s1, s2;
	char buf[8];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, ab) || socketpair(AF_UNIX, SOCK_STREAM, 0, cd) ||
	    pipe(p))
		e2e_fail("setup: %s", strerror(errno));
	send_fds(ab[0], "itself", &ab[1], 1, NULL, 0);
	send_fds(cd[0], "nested", &p[1], 1, NULL, 0);
	send_fds(ab[0], "carrier", &cd[1], 1, NULL, 0);
	close(cd[1]);
	close(p[1]);

	e2e_ready();
	e2e_wait_stop();

	recv_fds(ab[1], 32, "itself", g, 1);
	st_b = fstat(ab[1], &s1);
	st_got = fstat(g[0], &s2);
	if (st_b || st_got || s1.st_ino != s2.st_ino)
		e2e_fail("the socket passed over itself is another socket now");
	recv_fds(ab[1], 32, "carrier", &g[1], 1);
	check_empty(ab[1]);
	if (send(ab[0], "ping", 4, 0) != 4 || recv(g[0], buf, sizeof(buf), MSG_DONTWAIT) != 4 ||
	    memcmp(buf, "ping", 4))
		e2e_fail("the socket passed over itself does not talk");
	recv_fds(g[1], 32, "nested", g, 1);
	check_pipe(g[0], p[0], "nested");
	if (send(cd[0], "more", 4, 0) != 4 || recv(g[1], buf, sizeof(buf), MSG_DONTWAIT) != 4)
		e2e_fail("the socket in flight lost its peer");
}

static void dgram(void)
{
	int srv = socket(AF_UNIX, SOCK_DGRAM, 0), s1 = socket(AF_UNIX, SOCK_DGRAM, 0);
	int s2 = socket(AF_UNIX, SOCK_DGRAM, 0), ev = eventfd(5, 0), p[2], g[2];
	struct sockaddr_un a;
	char name[64];
	socklen_t len;

	snprintf(name, sizeof(name), "criu-e2e-scm-%d", getpid());
	len = e2e_unix_addr(&a, name, true);
	if (srv < 0 || s1 < 0 || s2 < 0 || ev < 0 || pipe(p) || bind(srv, (struct sockaddr *)&a, len))
		e2e_fail("setup: %s", strerror(errno));
	send_fds(s1, "from one", &p[1], 1, &a, len);
	send_fds(s2, "from two", &ev, 1, &a, len);
	send_fds(s1, "plain", NULL, 0, &a, len);
	close(s1);
	close(s2);
	close(p[1]);
	close(ev);

	e2e_ready();
	e2e_wait_stop();

	recv_fds(srv, 32, "from one", g, 1);
	recv_fds(srv, 32, "from two", &g[1], 1);
	recv_fds(srv, 32, "plain", g, 0);
	check_empty(srv);
	check_pipe(g[0], p[0], "dgram");
	check_eventfd(g[1], 5);
}

static int tree_p[2], ready_r = -1, ready_w = -1;

static int tree_child(void)
{
	struct e2e_ids me;
	int sv[2], g;

	close(tree_p[0]);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return 2;
	send_fds(sv[0], "to parent", &tree_p[1], 1, NULL, 0);
	close(tree_p[1]);
	e2e_member_ready(&me, &ready_w);
	if (e2e_ids_check(&me))
		return 10;
	recv_fds(sv[1], 32, "to parent", &g, 1);
	return write(g, "c", 1) == 1 ? 0 : 20;
}

static void tree(void)
{
	char c = 0;
	pid_t pid;
	int r;

	if (pipe(tree_p))
		e2e_fail("pipe: %s", strerror(errno));
	e2e_tree_pipe(&ready_r, &ready_w);
	pid = e2e_spawn(tree_child, &ready_r);
	close(tree_p[1]);
	e2e_tree_wait(&ready_r, &ready_w);
	e2e_root_ready();
	r = e2e_reap(pid, 0, 0);
	if (r)
		e2e_fail("child %d: code %d", pid, r);
	if (read(tree_p[0], &c, 1) != 1 || c != 'c')
		e2e_fail("the pipe end in flight in the child's pair does not reach the parent");
}

int main(int argc, char **argv)
{
	char *args[] = { argv[0], argv[argc - 1], NULL };
	const char *mode = argc > 2 ? argv[1] : "";

	e2e_init(2, args);
	if (!strcmp(mode, "stream"))
		stream();
	else if (!strcmp(mode, "self"))
		self();
	else if (!strcmp(mode, "dgram"))
		dgram();
	else if (!strcmp(mode, "tree"))
		tree();
	else
		e2e_fail("unknown mode %s", mode);
	e2e_pass();
}
