/*
 * Classic socket filters (SO_ATTACH_FILTER): a UDP socket bound to
 * 127.0.0.1 whose filter keeps the first 12 bytes of each packet (the UDP
 * header and 4 bytes of data), with "lock" locked (SO_LOCK_FILTER, which
 * the established format has no field for: --image-ext); a unix datagram pair whose receiving end has the same
 * filter and a datagram queued before the dump, whole (the filter sifts
 * what arrives, not what was queued). After restore each reads its filter
 * back (SO_GET_FILTER, instruction by instruction), the queued datagram
 * comes whole, new datagrams are cut (to 4 bytes of UDP data, to 12 of a
 * unix datagram), and a locked filter cannot be detached, an unlocked one
 * can.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/filter.h>

#include "e2e.h"

#define QUEUED	"queued before the dump"

/* ld len, jeq: a program of more than one instruction, with jumps */
static struct sock_filter code[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),	/* empty: dropped */
	BPF_STMT(BPF_RET | BPF_K, 0),
	BPF_STMT(BPF_RET | BPF_K, 12),
};

static void attach(int fd)
{
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)))
		e2e_fail("SO_ATTACH_FILTER: %s", strerror(errno));
}

static void check_filter(int fd, const char *what)
{
	struct sock_filter got[8];
	socklen_t len = sizeof(got) / sizeof(got[0]);	/* in instructions */

	memset(got, 0, sizeof(got));
	if (getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, got, &len) ||
	    len != sizeof(code) / sizeof(code[0]) || memcmp(got, code, sizeof(code)))
		e2e_fail("%s: the filter reads back otherwise (%u instructions): %s", what,
			 (unsigned int)len, strerror(errno));
}

static void cut(int tx, int rx, ssize_t want, const char *what)
{
	char buf[32];

	if (send(tx, "whole datagram", 14, 0) != 14 || recv(rx, buf, sizeof(buf), 0) != want ||
	    memcmp(buf, "whole datagram", (size_t)want))
		e2e_fail("%s: a new datagram is not cut to %zd bytes", what, want);
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len = e2e_loopback(&ss, AF_INET, 0);
	int u = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0), one = 1, sv[2];
	int lock = argc > 2 && !strcmp(argv[1], "lock");
	char buf[64], *args[] = { argv[0], argv[argc - 1], NULL };

	e2e_init(2, args);
	if (u < 0 || tx < 0 || bind(u, (struct sockaddr *)&ss, len) ||
	    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
		e2e_fail("setup: %s", strerror(errno));
	attach(u);
	if (lock && setsockopt(u, SOL_SOCKET, SO_LOCK_FILTER, &one, sizeof(one)))
		e2e_fail("SO_LOCK_FILTER: %s", strerror(errno));
	len = e2e_loopback(&ss, AF_INET, e2e_port_of(u));
	if (connect(tx, (struct sockaddr *)&ss, len) ||
	    send(sv[0], QUEUED, strlen(QUEUED), 0) != (ssize_t)strlen(QUEUED))
		e2e_fail("setup: %s", strerror(errno));
	attach(sv[1]);

	e2e_ready();
	e2e_wait_stop();

	check_filter(u, "udp");
	check_filter(sv[1], "unix");
	if (recv(sv[1], buf, sizeof(buf), 0) != (ssize_t)strlen(QUEUED) ||
	    memcmp(buf, QUEUED, strlen(QUEUED)))
		e2e_fail("the datagram queued before the dump was cut or lost");
	cut(tx, u, 4, "udp");
	cut(sv[0], sv[1], 12, "unix");
	if (lock && (!setsockopt(u, SOL_SOCKET, SO_DETACH_FILTER, &one, sizeof(one)) ||
		     errno != EPERM))
		e2e_fail("the locked filter could be detached");
	if (!lock && setsockopt(u, SOL_SOCKET, SO_DETACH_FILTER, &one, sizeof(one)))
		e2e_fail("the udp filter came back locked: %s", strerror(errno));
	if (setsockopt(sv[1], SOL_SOCKET, SO_DETACH_FILTER, &one, sizeof(one)))
		e2e_fail("the unlocked filter cannot be detached: %s", strerror(errno));
	e2e_pass();
}
