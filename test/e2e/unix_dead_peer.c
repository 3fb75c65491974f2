/*
 * Unix datagram sockets connected to a socket that has closed since: one
 * whose peer had an abstract name, one whose peer was bound to a path (its
 * socket file left behind). After restore each still names its peer
 * (getpeername), its first send fails with ECONNREFUSED, after which it is
 * unconnected (getpeername and send fail with ENOTCONN), as before; the
 * socket file left behind is the same file.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "e2e.h"

/* A datagram socket connected to a socket of name @name that is then closed. */
static int orphaned(const char *name, bool abstract)
{
	struct sockaddr_un a;
	socklen_t len = e2e_unix_addr(&a, name, abstract);
	int peer = socket(AF_UNIX, SOCK_DGRAM, 0), fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	if (peer < 0 || fd < 0 || bind(peer, (struct sockaddr *)&a, len) ||
	    connect(fd, (struct sockaddr *)&a, len))
		e2e_fail("%s: %s", name, strerror(errno));
	close(peer);
	return fd;
}

static void check(int fd, const char *name, bool abstract)
{
	struct sockaddr_un a, got;
	socklen_t len = e2e_unix_addr(&a, name, abstract), glen = sizeof(got);

	if (getpeername(fd, (struct sockaddr *)&got, &glen) || glen != len || memcmp(&got, &a, len))
		e2e_fail("%s: getpeername does not name the closed peer: %s", name,
			 strerror(errno));
	if (send(fd, "x", 1, MSG_DONTWAIT) != -1 || errno != ECONNREFUSED)
		e2e_fail("%s: first send: %s, not ECONNREFUSED", name, strerror(errno));
	glen = sizeof(got);
	if (getpeername(fd, (struct sockaddr *)&got, &glen) != -1 || errno != ENOTCONN)
		e2e_fail("%s: getpeername after the send: not ENOTCONN", name);
	if (send(fd, "x", 1, MSG_DONTWAIT) != -1 || errno != ENOTCONN)
		e2e_fail("%s: second send: %s, not ENOTCONN", name, strerror(errno));
}

int main(int argc, char **argv)
{
	char path[512], abs_name[64];
	struct stat before, after;
	int fa, fp;

	e2e_init(argc, argv);
	e2e_path(path, sizeof(path), "gone.sock");
	snprintf(abs_name, sizeof(abs_name), "criu-e2e-dead-peer-%d", getpid());
	fa = orphaned(abs_name, true);
	fp = orphaned(path, false);
	if (stat(path, &before))
		e2e_fail("%s: %s", path, strerror(errno));

	e2e_ready();
	e2e_wait_stop();

	if (stat(path, &after) || !S_ISSOCK(after.st_mode) || after.st_ino != before.st_ino)
		e2e_fail("%s: not the socket file left behind by the closed peer", path);
	check(fa, abs_name, true);
	check(fp, path, false);
	e2e_pass();
	return 0;
}
