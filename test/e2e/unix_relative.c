/*
 * Unix sockets bound to a path relative to the cwd at bind time come back
 * under that relative name: a stream listener (mode 0600) with a connection
 * accepted before the dump (bytes queued both ways), and a datagram socket
 * with a socket connected to it one way that queued a datagram there.
 * After restore getsockname and getpeername show the relative names, the
 * listener accepts a new connection made through the relative name, and
 * the one-way socket still reaches the datagram socket.
 *
 * "unix_relative --moved RESULT": the process leaves the directory after binding, so the name is
 * found neither from its cwd nor from its root: the dump is refused.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "e2e.h"

/* @fd's own name (@peer: its peer's) is @name, relative, as bound. */
static void check_name(int fd, bool peer, const char *name, const char *what)
{
	struct sockaddr_un a, got;
	socklen_t len = e2e_unix_addr(&a, name, false), glen = sizeof(got);
	int r = peer ? getpeername(fd, (struct sockaddr *)&got, &glen) :
		       getsockname(fd, (struct sockaddr *)&got, &glen);

	if (r || glen != len || memcmp(&got, &a, len))
		e2e_fail("%s: name not '%s' (got '%.*s')", what, name,
			 r ? 0 : (int)(glen - offsetof(struct sockaddr_un, sun_path)), got.sun_path);
}

static int bound(int type, const char *name)
{
	struct sockaddr_un a;
	socklen_t len = e2e_unix_addr(&a, name, false);
	int fd = socket(AF_UNIX, type, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, len))
		e2e_fail("bind %s: %s", name, strerror(errno));
	return fd;
}

static int connected(int type, const char *name)
{
	struct sockaddr_un a;
	socklen_t len = e2e_unix_addr(&a, name, false);
	int fd = socket(AF_UNIX, type, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, len))
		e2e_fail("connect to %s: %s", name, strerror(errno));
	return fd;
}

int main(int argc, char **argv)
{
	bool moved = argc > 2 && !strcmp(argv[1], "--moved");
	char dir[512], here[512], buf[16];
	int lst, cl, sv, dg, dgc, c, s;
	struct stat st;

	if (moved)
		argc--, argv++;
	e2e_init(argc, argv);
	e2e_path(dir, sizeof(dir), "rel");
	if (mkdir(dir, 0700) || chdir(dir))
		e2e_fail("%s: %s", dir, strerror(errno));
	lst = bound(SOCK_STREAM, "l.sock");
	if (listen(lst, 4) || chmod("l.sock", 0600))
		e2e_fail("listen: %s", strerror(errno));
	cl = connected(SOCK_STREAM, "l.sock");
	sv = accept(lst, NULL, NULL);
	if (sv < 0 || write(cl, "to server", 9) != 9 || write(sv, "to client", 9) != 9)
		e2e_fail("accepted connection: %s", strerror(errno));
	dg = bound(SOCK_DGRAM, "d.sock");
	dgc = connected(SOCK_DGRAM, "d.sock");
	if (send(dgc, "queued", 6, 0) != 6)
		e2e_fail("queueing a datagram: %s", strerror(errno));
	if (moved && chdir(".."))
		e2e_fail("chdir ..: %s", strerror(errno));

	e2e_ready();
	e2e_wait_stop();

	if (moved && chdir(dir))
		e2e_fail("back to %s: %s", dir, strerror(errno));
	if (!getcwd(here, sizeof(here)) || strcmp(here, dir))
		e2e_fail("cwd is not %s", dir);
	if (stat("l.sock", &st) || !S_ISSOCK(st.st_mode) || (st.st_mode & 07777) != 0600)
		e2e_fail("l.sock: not a socket of mode 0600");
	check_name(lst, false, "l.sock", "listener");
	check_name(sv, false, "l.sock", "accepted end");
	check_name(cl, true, "l.sock", "connecting end's peer");
	check_name(dg, false, "d.sock", "datagram socket");
	check_name(dgc, true, "d.sock", "one-way socket's peer");
	e2e_read_all(sv, buf, 9, "accepted end");
	if (memcmp(buf, "to server", 9))
		e2e_fail("accepted end: got '%.9s'", buf);
	e2e_read_all(cl, buf, 9, "connecting end");
	if (memcmp(buf, "to client", 9))
		e2e_fail("connecting end: got '%.9s'", buf);
	c = connected(SOCK_STREAM, "l.sock");
	s = accept(lst, NULL, NULL);
	if (s < 0 || write(c, "ping", 4) != 4 || read(s, buf, 4) != 4 || memcmp(buf, "ping", 4))
		e2e_fail("no exchange over a new connection to l.sock");
	if (recv(dg, buf, sizeof(buf), MSG_DONTWAIT) != 6 || memcmp(buf, "queued", 6) ||
	    send(dgc, "after", 5, 0) != 5 || recv(dg, buf, sizeof(buf), MSG_DONTWAIT) != 5 ||
	    memcmp(buf, "after", 5))
		e2e_fail("the datagram socket lost its queue or its one-way sender");
	e2e_pass();
	return 0;
}
