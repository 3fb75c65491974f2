/*
 * Unix socket credentials of a uid-1000 process: the kernel records the
 * creating task's tgid, euid, egid and groups with a socketpair (both
 * ends), a listener (at listen) and a connection (at connect), and every
 * message carries its sender's. After the restore SO_PEERCRED and
 * SO_PEERGROUPS of a socketpair and of a connection accepted from a named
 * listener, and the SCM_CREDENTIALS of a message queued to a receiver with
 * SO_PASSCRED, must be what they were (a known gap: they are criu's).
 */
#include <grp.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "e2e.h"

struct creds {
	struct ucred	cred;
	gid_t		groups[8];
	socklen_t	groups_len;
};

static void peer_creds(int fd, struct creds *c)
{
	socklen_t len = sizeof(c->cred);

	memset(c, 0, sizeof(*c));
	c->groups_len = sizeof(c->groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, c->groups, &c->groups_len))
		e2e_fail("SO_PEERCRED/SO_PEERGROUPS: %s", strerror(errno));
}

static void check_creds(int fd, const struct creds *was, const char *what)
{
	struct creds now;

	peer_creds(fd, &now);
	if (memcmp(&now.cred, &was->cred, sizeof(now.cred)) || now.groups_len != was->groups_len ||
	    memcmp(now.groups, was->groups, now.groups_len))
		e2e_fail("%s: SO_PEERCRED pid %d uid %u gid %u (%u bytes of groups), was pid %d "
			 "uid %u gid %u (%u)", what, now.cred.pid, now.cred.uid, now.cred.gid,
			 now.groups_len, was->cred.pid, was->cred.uid, was->cred.gid,
			 was->groups_len);
}

/* The credentials the queued message carries. */
static struct ucred msg_creds(int fd)
{
	char data[8], cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = { data, sizeof(data) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	struct ucred u = { 0, 0, 0 };

	if (recvmsg(fd, &mh, MSG_PEEK | MSG_DONTWAIT) < 0)
		e2e_fail("recvmsg: %s", strerror(errno));
	c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_type != SCM_CREDENTIALS)
		e2e_fail("the queued message carries no credentials");
	memcpy(&u, CMSG_DATA(c), sizeof(u));
	return u;
}

int main(int argc, char **argv)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int sv[2], ls, cs, as, one = 1;
	struct creds pair, acc, conn;
	struct ucred m;
	socklen_t len;

	e2e_init(argc, argv);
	e2e_result_for(1000, 1000);
	if (setgroups(2, (gid_t[]){ 1001, 1002 }) || setresgid(1000, 1000, 1000) ||
	    setresuid(1000, 1000, 1000))
		e2e_fail("dropping to uid 1000: %s", strerror(errno));
	snprintf(un.sun_path + 1, sizeof(un.sun_path) - 1, "criu-e2e-cred-%d", getpid());
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(un.sun_path + 1));
	ls = socket(AF_UNIX, SOCK_STREAM, 0);
	cs = socket(AF_UNIX, SOCK_STREAM, 0);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || ls < 0 || cs < 0 ||
	    bind(ls, (struct sockaddr *)&un, len) || listen(ls, 1) ||
	    connect(cs, (struct sockaddr *)&un, len))
		e2e_fail("setup: %s", strerror(errno));
	as = accept(ls, NULL, NULL);
	if (as < 0 || setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) ||
	    write(sv[0], "hello", 5) != 5)
		e2e_fail("setup: %s", strerror(errno));
	peer_creds(sv[0], &pair);
	peer_creds(as, &acc);
	peer_creds(cs, &conn);
	m = msg_creds(sv[1]);
	if (pair.cred.uid != 1000 || m.uid != 1000 || m.pid != getpid())
		e2e_fail("setup: peer uid %u, message from %d uid %u", pair.cred.uid, m.pid, m.uid);

	e2e_ready();
	e2e_wait_stop();

	check_creds(sv[0], &pair, "socketpair");
	check_creds(sv[1], &pair, "socketpair, other end");
	check_creds(as, &acc, "accepted");
	check_creds(cs, &conn, "connected");
	m = msg_creds(sv[1]);
	if (m.pid != getpid() || m.uid != 1000 || m.gid != 1000)
		e2e_fail("the queued message's SCM_CREDENTIALS: pid %d uid %u gid %u", m.pid, m.uid,
			 m.gid);
	e2e_pass();
}
