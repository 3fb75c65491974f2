/*
 * A session leader whose controlling terminal is a pty it holds, with
 * itself as the foreground process group; canonical mode with VINTR moved
 * to ^B. After the restore: TIOCGSID and tcgetpgrp answer as before,
 * /dev/tty writes to that pty, and ^B typed at the master interrupts the
 * foreground group (us) with SIGINT.
 *
 * To grow into a tree: fork members into other groups of the session
 * before e2e_ready() and make one of them the foreground; check_ctty()
 * takes the expected foreground group.
 */
#include <sys/sysmacros.h>

#include "e2e-pty.h"

/* tty_nr of /proc/self/stat (field 7). */
static int stat_tty_nr(void)
{
	char buf[1024], *p;
	int fd = open("/proc/self/stat", O_RDONLY), tty = -1;
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %d", &tty) != 1)
		return -1;
	return tty;
}

static void check_ctty(const struct e2e_pty *p, pid_t fg)
{
	struct stat st;
	pid_t sid = 0;
	int fd, nr = stat_tty_nr();

	if (ioctl(p->slave, TIOCGSID, &sid) || sid != getsid(0) || sid != getpid())
		e2e_fail("TIOCGSID: %d (%s), we lead session %d", sid, strerror(errno), getsid(0));
	if (tcgetpgrp(p->slave) != fg)
		e2e_fail("foreground group %d, not %d", tcgetpgrp(p->slave), fg);
	fd = open("/dev/tty", O_RDWR | O_NOCTTY);
	if (fd < 0 || fstat(p->slave, &st))
		e2e_fail("no /dev/tty: %s", strerror(errno));
	e2e_pty_carry(fd, p->master, "tty\n", "tty\r\n", 5, "/dev/tty to the master");
	close(fd);
	if (nr < 0 || (unsigned int)major(st.st_rdev) != ((unsigned int)nr >> 8 & 0xfff) ||
	    (unsigned int)minor(st.st_rdev) != (((unsigned int)nr & 0xff) | ((unsigned int)nr >> 12 & 0xfff00)))
		e2e_fail("/proc/self/stat tty_nr %#x is not %s", nr, p->name);
}

int main(int argc, char **argv)
{
	struct timespec five = { 5, 0 };
	struct e2e_pty p;
	struct termios t;
	sigset_t set;

	e2e_init(argc, argv);
	if (getsid(0) != getpid() && setsid() < 0)
		e2e_fail("setsid: %s", strerror(errno));
	e2e_pty_open(&p, 0);	/* a session leader without one: our controlling terminal */
	tcgetattr(p.slave, &t);
	t.c_cc[VINTR] = 2;
	t.c_lflag &= ~(tcflag_t)ECHO;
	e2e_pty_set(&p, &t, 50, 132);
	if (tcsetpgrp(p.slave, getpgrp()))
		e2e_fail("tcsetpgrp: %s", strerror(errno));
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);	/* taken with sigtimedwait below */
	check_ctty(&p, getpgrp());

	e2e_ready();
	e2e_wait_stop();

	e2e_pty_check(&p);
	check_ctty(&p, getpgrp());
	if (write(p.master, "\x02", 1) != 1)
		e2e_fail("write ^B: %s", strerror(errno));
	if (sigtimedwait(&set, NULL, &five) != SIGINT)
		e2e_fail("^B at the master did not interrupt the foreground group in 5 s");
	e2e_pty_carry(p.master, p.slave, "typed\n", "typed\n", 6, "master to slave");
	e2e_pty_carry(p.slave, p.master, "shown\n", "shown\r\n", 7, "slave to master (ONLCR)");
	e2e_pass();
}
