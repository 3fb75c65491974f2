/*
 * The guardian of a --tcp-established dump: criu/include/tcp-guard.h has
 * the protocol, Documentation/net-lock.md ("criu's death") the reasons.
 * One byte per message over a SOCK_SEQPACKET pair: 'F' with a socket
 * (SCM_RIGHTS), 'R' the same for a socket with SO_REUSEADDR on (repair
 * mode clears it), 'C' committed, 'Q' quit.
 */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define LOG_PREFIX "tcp-guard: "
#include "log.h"
#include "net-lock.h"
#include "tcp-guard.h"
#include "tcp-repair.h"

static int guard_sk = -1;
static pid_t guard_pid = -1;

/* One message: its byte, and the socket it carries (-1 if none); 0 at the end. */
static ssize_t guard_recv(int sk, char *c, int *fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = c, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n;

	do
		n = recvmsg(sk, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	*fd = -1;
	if (n > 0 && (m.msg_flags & MSG_CTRUNC))
		pr_err("a message came with more descriptors than one: the extra ones are lost");
	cm = n > 0 ? CMSG_FIRSTHDR(&m) : NULL;
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(fd, CMSG_DATA(cm), sizeof(int));
	return n;
}

/* The child: collect sockets until the end of file, then act on what was said. */
static void __attribute__((noreturn)) guard_main(int sk, pid_t root)
{
	struct { int fd; bool reuse; } *fds = NULL;
	int fd;
	size_t nr = 0, cap = 0, i;
	bool committed = false;
	char c;

	prctl(PR_SET_NAME, "criu-tcp-guard", 0, 0, 0);
	/*
	 * criu's files close before its tracees are let go: a real-time
	 * guardian woken by that end of file mostly runs before the tree
	 * does (a read the tree restarts on a socket still in repair mode
	 * fails with EPERM). Not fatal if refused.
	 */
	if (sched_setscheduler(0, SCHED_FIFO, &(struct sched_param){ .sched_priority = 1 }))
		pr_debug("no real-time priority for the guardian: %s", strerror(errno));
	while (guard_recv(sk, &c, &fd) > 0) {
		if (c == 'Q')
			_exit(0);	/* criu settled it all: close the copies quietly */
		if (c == 'C')
			committed = true;
		if (fd < 0)
			continue;
		if (nr == cap) {
			void *v = realloc(fds, (cap = cap ? 2 * cap : 16) * sizeof(*fds));

			if (!v) {
				pr_err("out of memory: a socket of the tree is not guarded");
				close(fd);
				continue;
			}
			fds = v;
		}
		fds[nr].fd = fd;
		fds[nr++].reuse = c == 'R';
	}
	if (committed) {
		/*
		 * The tree dies with criu: the restore finds its peers waiting.
		 * Its locked connections left repair mode once read, and these
		 * copies are their last: closed out of it, each would send a
		 * FIN (dropped by the lock, sent again once it goes) and stay
		 * an orphan on its addresses, which the restore's connect then
		 * finds taken. In repair mode a socket closes silently.
		 */
		pr_warn("criu died after the commit: the lock goes to the restore of %d", root);
		for (i = 0; i < nr; i++)
			tcp_repair_set(fds[i].fd, -1, TCP_REPAIR_ON);	/* logged */
		_exit(net_lock_keep(root) ? 1 : 0);
	}
	pr_warn("criu died before the commit: %zu connections leave repair mode", nr);
	net_unlock();	/* logged; the table goes with this process anyway */
	for (i = 0; i < nr; i++)
		tcp_repair_off(fds[i].fd, -1, fds[i].reuse);	/* logged */
	_exit(0);	/* the last copy of the lock's owner socket goes: the lock too */
}

int tcp_guard_start(pid_t root)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		pr_perror("socketpair for the guardian");
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		pr_perror("fork of the guardian");
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		guard_main(sv[1], root);
	}
	close(sv[1]);
	guard_sk = sv[0];
	guard_pid = pid;
	return 0;
}

static int guard_send(char c, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (guard_sk < 0)
		return 0;
	if (fd >= 0) {
		struct cmsghdr *cm;

		memset(cbuf, 0, sizeof(cbuf));
		m.msg_control = cbuf;
		m.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	do
		n = sendmsg(guard_sk, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != 1) {
		pr_perror("telling the guardian '%c'", c);
		return -1;
	}
	return 0;
}

int tcp_guard_add(int fd, bool reuse)
{
	return guard_send(reuse ? 'R' : 'F', fd);
}

int tcp_guard_committed(void)
{
	return guard_send('C', -1);
}

void tcp_guard_end(void)
{
	int st;

	if (guard_sk < 0)
		return;
	guard_send('Q', -1);
	close(guard_sk);
	guard_sk = -1;
	while (waitpid(guard_pid, &st, 0) < 0 && errno == EINTR)
		;
	guard_pid = -1;
}
