/*
 * Pty pairs held by one process keep their /dev/pts index, termios, window
 * size and modes, and carry bytes both ways:
 *   a: raw mode with VINTR moved to ^A, 37x101, bytes the slave wrote and
 *      the master has not read; a second slave description made as glibc's
 *      openpty() does (TIOCGPTPEER: no O_LARGEFILE) and a close-on-exec dup
 *      of the first: file flags and close-on-exec exactly as they were;
 *   b: canonical mode without echo, packet mode and O_NONBLOCK on the
 *      master, the slave exclusive and dup'ed to fd 50;
 *   c: a master alone whose slave was opened and closed (reads EIO).
 * "pty_pair --peer-cloexec RESULT": the second slave of a is made with
 * TIOCGPTPEER(O_CLOEXEC), which keeps O_CLOEXEC in its file flags: the dump
 * cannot tell the fd's own close-on-exec and refuses.
 */
#include "e2e-pty.h"

int main(int argc, char **argv)
{
	struct e2e_pty a, b;
	struct termios t;
	int c, cs, excl = 0, pkt = 0, peer, dup, fl[2], fdfl[2];
	char buf[16];
	bool peer_cloexec = argc > 2 && !strcmp(argv[1], "--peer-cloexec");

	if (peer_cloexec)
		argc--, argv++;
	e2e_init(argc, argv);
	e2e_pty_open(&a, O_NOCTTY);
	tcgetattr(a.slave, &t);
	cfmakeraw(&t);
	t.c_cc[VINTR] = 1;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	e2e_pty_set(&a, &t, 37, 101);
	if (write(a.slave, "unread\r\n", 8) != 8)
		e2e_fail("a: write: %s", strerror(errno));
	peer = ioctl(a.master, TIOCGPTPEER, O_RDWR | O_NOCTTY | (peer_cloexec ? O_CLOEXEC : 0));
	if (peer_cloexec && peer >= 0 && fcntl(peer, F_SETFD, 0))
		e2e_fail("a: F_SETFD: %s", strerror(errno));
	dup = fcntl(a.slave, F_DUPFD_CLOEXEC, 60);
	if (peer < 0 || dup < 0)
		e2e_fail("a: TIOCGPTPEER or F_DUPFD_CLOEXEC: %s", strerror(errno));
	fl[0] = fcntl(peer, F_GETFL);
	fl[1] = fcntl(dup, F_GETFL);
	fdfl[0] = fcntl(peer, F_GETFD);
	fdfl[1] = fcntl(dup, F_GETFD);

	e2e_pty_open(&b, O_NOCTTY);
	tcgetattr(b.slave, &t);
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
	e2e_pty_set(&b, &t, 24, 80);
	if (ioctl(b.master, TIOCPKT, &(int){ 1 }) || ioctl(b.slave, TIOCEXCL) || ioctl(b.master, TIOCEXCL) ||
	    fcntl(b.master, F_SETFL, O_NONBLOCK) || dup2(b.slave, 50) != 50)
		e2e_fail("pair b: %s", strerror(errno));
	e2e_pty_note_flags(&b);

	c = posix_openpt(O_RDWR | O_NOCTTY);
	if (c < 0 || unlockpt(c) || ptsname_r(c, buf, sizeof(buf)) ||
	    (cs = open(buf, O_RDWR | O_NOCTTY)) < 0)
		e2e_fail("pair c: %s", strerror(errno));
	close(cs);

	e2e_ready();
	e2e_wait_stop();

	e2e_pty_check(&a);
	e2e_pty_read(a.master, buf, 8, "a: what the master had not read");
	if (memcmp(buf, "unread\r\n", 8))
		e2e_fail("a: the master reads '%.8s', not what was queued", buf);
	e2e_pty_carry(a.master, a.slave, "ping\x01", "ping\x01", 5, "a: master to slave");
	e2e_pty_carry(a.slave, a.master, "pong\n", "pong\n", 5, "a: slave to master");
	if (fcntl(peer, F_GETFL) != fl[0] || fcntl(peer, F_GETFD) != fdfl[0])
		e2e_fail("a: TIOCGPTPEER slave: file flags %#o, fd flags %#x; were %#o, %#x",
			 fcntl(peer, F_GETFL), fcntl(peer, F_GETFD), fl[0], fdfl[0]);
	if (fcntl(dup, F_GETFL) != fl[1] || fcntl(dup, F_GETFD) != fdfl[1])
		e2e_fail("a: close-on-exec dup of the slave: file flags %#o, fd flags %#x; were %#o, %#x",
			 fcntl(dup, F_GETFL), fcntl(dup, F_GETFD), fl[1], fdfl[1]);

	e2e_pty_check(&b);
	if (ioctl(b.master, TIOCGPKT, &pkt) || !pkt)
		e2e_fail("b: packet mode lost");
	if (ioctl(50, TIOCGEXCL, &excl) || !excl)
		e2e_fail("b: exclusive mode lost");
	if (ioctl(b.master, TIOCGEXCL, &excl) || !excl)
		e2e_fail("b: the master's exclusive mode lost");
	if (!(fcntl(b.master, F_GETFL) & O_NONBLOCK) || (fcntl(b.slave, F_GETFL) & O_NONBLOCK))
		e2e_fail("b: O_NONBLOCK not on the master alone");
	if (read(b.master, buf, 1) != -1 || errno != EAGAIN)
		e2e_fail("b: the master has data or blocks");
	e2e_pty_carry(b.master, 50, "line\n", "line\n", 5, "b: master to slave, canonical");
	/* packet mode: a zero (TIOCPKT_DATA) byte leads every read at the master */
	e2e_pty_carry(b.slave, b.master, "ok", "\0ok", 3, "b: slave to master");

	if (read(c, buf, 1) != -1 || errno != EIO)
		e2e_fail("c: the master reads %s, not EIO", strerror(errno));
	e2e_pass();
}
