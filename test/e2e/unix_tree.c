/*
 * Unix sockets split between a parent and its child: a stream pair and a
 * datagram pair (one end each, bytes and messages queued both ways), and a
 * connection the child made to the parent's listener, accepted by the
 * parent. After the restore each side reads what was queued for it and
 * answers over the same sockets: one pair each, not two halves.
 */
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "e2e.h"

static int ready_r = -1, ready_w = -1, st[2], dg[2], cl = -1;

/* Receive @want: exactly its length on a stream (MSG_WAITALL), one datagram else. */
static int expect(int fd, const char *want, int flags)
{
	char buf[64];
	ssize_t n = recv(fd, buf, flags & MSG_WAITALL ? strlen(want) : sizeof(buf), flags);

	return n == (ssize_t)strlen(want) && !memcmp(buf, want, (size_t)n) ? 0 : -1;
}

static int child(void)
{
	struct e2e_ids me;
	int r;

	close(st[0]);
	close(dg[0]);
	if (write(st[1], "child stream", 12) != 12 || send(dg[1], "child dgram 1", 13, 0) != 13 ||
	    send(dg[1], "child dgram 2", 13, 0) != 13 || write(cl, "child conn", 10) != 10)
		return 2;
	e2e_member_ready(&me, &ready_w);
	r = e2e_ids_check(&me);
	if (r)
		return 10 + r;
	if (expect(st[1], "parent stream", MSG_WAITALL) || expect(dg[1], "parent dgram", 0) ||
	    expect(cl, "parent conn", MSG_WAITALL))
		return 20;
	if (write(st[1], "again", 5) != 5 || send(dg[1], "again", 5, 0) != 5 ||
	    write(cl, "again", 5) != 5)
		return 21;
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	socklen_t len;
	int l, srv, r;
	pid_t c;

	e2e_init(argc, argv);
	snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "criu-e2e-unix-tree-%d", getpid());
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(a.sun_path + 1));
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	cl = socket(AF_UNIX, SOCK_STREAM, 0);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, st) || socketpair(AF_UNIX, SOCK_DGRAM, 0, dg) ||
	    bind(l, (struct sockaddr *)&a, len) || listen(l, 4) ||
	    connect(cl, (struct sockaddr *)&a, len) || (srv = accept(l, NULL, NULL)) < 0)
		e2e_fail("setup: %s", strerror(errno));
	if (write(st[0], "parent stream", 13) != 13 || send(dg[0], "parent dgram", 12, 0) != 12 ||
	    write(srv, "parent conn", 11) != 11)
		e2e_fail("write: %s", strerror(errno));
	e2e_tree_pipe(&ready_r, &ready_w);
	c = e2e_spawn(child, &ready_r);
	close(st[1]);
	close(dg[1]);
	close(cl);
	e2e_tree_wait(&ready_r, &ready_w);
	e2e_root_ready();
	if (expect(st[0], "child stream", MSG_DONTWAIT))
		e2e_fail("the stream bytes the child queued are lost");
	if (expect(dg[0], "child dgram 1", MSG_DONTWAIT) || expect(dg[0], "child dgram 2", MSG_DONTWAIT))
		e2e_fail("the datagrams the child queued are lost");
	if (expect(srv, "child conn", MSG_DONTWAIT))
		e2e_fail("the bytes the child queued on its connection are lost");
	r = e2e_reap(c, 0, 0);
	if (r)
		e2e_fail("child %d: code %d", c, r);
	if (expect(st[0], "again", MSG_WAITALL) || expect(dg[0], "again", 0) ||
	    expect(srv, "again", MSG_WAITALL))
		e2e_fail("the child's answers did not arrive: not one pair");
	e2e_pass();
}
