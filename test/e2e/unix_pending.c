/*
 * Connections not accepted yet come back waiting: a stream listener bound
 * to a path has one connection accepted before the dump and two waiting
 * (the second from a client bound to an abstract name); a seqpacket
 * listener with an abstract name has one waiting. After restore accept()
 * returns the waiting ones in their order, each still connected to its
 * client (bytes and messages both ways), the bound client kept its name,
 * and then the queues are empty.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "e2e.h"

static int client(int type, const char *name, bool abstract, const char *own)
{
	struct sockaddr_un a;
	socklen_t len;
	int fd = socket(AF_UNIX, type, 0);

	if (fd < 0)
		e2e_fail("socket: %s", strerror(errno));
	if (own) {
		len = e2e_unix_addr(&a, own, true);
		if (bind(fd, (struct sockaddr *)&a, len))
			e2e_fail("bind %s: %s", own, strerror(errno));
	}
	len = e2e_unix_addr(&a, name, abstract);
	if (connect(fd, (struct sockaddr *)&a, len))
		e2e_fail("connect to %s: %s", name, strerror(errno));
	return fd;
}

/* The next accepted connection is @c's: a word each way. */
static int accept_of(int lfd, int c, const char *what)
{
	int s = accept(lfd, NULL, NULL);
	char buf[16];

	if (s < 0)
		e2e_fail("%s: accept after restore: %s", what, strerror(errno));
	if (send(c, what, strlen(what), 0) != (ssize_t)strlen(what) ||
	    recv(s, buf, sizeof(buf), MSG_DONTWAIT) != (ssize_t)strlen(what) ||
	    memcmp(buf, what, strlen(what)))
		e2e_fail("%s: accepted a connection that is not its client's", what);
	if (send(s, "back", 4, 0) != 4 || recv(c, buf, sizeof(buf), MSG_DONTWAIT) != 4)
		e2e_fail("%s: no reply reaches the client", what);
	return s;
}

int main(int argc, char **argv)
{
	char path[512], abs_name[64], own[64];
	struct sockaddr_un a, got;
	int lst, lsp, early, sv, c1, c2, c3, s2;
	socklen_t len, glen = sizeof(got);
	char buf[8];

	e2e_init(argc, argv);
	e2e_path(path, sizeof(path), "pending.sock");
	snprintf(abs_name, sizeof(abs_name), "criu-e2e-pending-%d", getpid());
	snprintf(own, sizeof(own), "criu-e2e-pending-client-%d", getpid());
	lst = socket(AF_UNIX, SOCK_STREAM, 0);
	lsp = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	len = e2e_unix_addr(&a, path, false);
	if (lst < 0 || bind(lst, (struct sockaddr *)&a, len) || listen(lst, 4))
		e2e_fail("stream listener: %s", strerror(errno));
	len = e2e_unix_addr(&a, abs_name, true);
	if (lsp < 0 || bind(lsp, (struct sockaddr *)&a, len) || listen(lsp, 2))
		e2e_fail("seqpacket listener: %s", strerror(errno));
	early = client(SOCK_STREAM, path, false, NULL);
	sv = accept(lst, NULL, NULL);
	if (sv < 0 || write(early, "early", 5) != 5)
		e2e_fail("accepted before the dump: %s", strerror(errno));
	c1 = client(SOCK_STREAM, path, false, NULL);
	c2 = client(SOCK_STREAM, path, false, own);
	c3 = client(SOCK_SEQPACKET, abs_name, true, NULL);

	e2e_ready();
	e2e_wait_stop();

	e2e_read_all(sv, buf, 5, "connection accepted before the dump");
	if (memcmp(buf, "early", 5))
		e2e_fail("the connection accepted before the dump got '%.5s'", buf);
	close(accept_of(lst, c1, "first"));
	s2 = accept_of(lst, c2, "second");
	len = e2e_unix_addr(&a, own, true);
	if (getpeername(s2, (struct sockaddr *)&got, &glen) || glen != len || memcmp(&got, &a, len))
		e2e_fail("the bound client's name is lost");
	close(s2);
	close(accept_of(lsp, c3, "seqpacket"));
	if (fcntl(lst, F_SETFL, O_NONBLOCK) || fcntl(lsp, F_SETFL, O_NONBLOCK) ||
	    accept(lst, NULL, NULL) != -1 || accept(lsp, NULL, NULL) != -1)
		e2e_fail("more connections waiting than before the dump");
	unlink(path);
	e2e_pass();
}
