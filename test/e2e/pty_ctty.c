/*
 * A session leader whose controlling terminal is a pty it holds, with
 * itself as the foreground process group; canonical mode with VINTR moved
 * to ^B. After the restore: TIOCGSID and tcgetpgrp answer as before,
 * /dev/tty writes to that pty, and ^B typed at the master interrupts the
 * foreground group (us) with SIGINT.
 *
 * With --fg-child (needs process trees): a child in a group of its own
 * is the foreground instead, and the ^B interrupts it, not us.
 */
#include <stdbool.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

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

/*
 * --fg-child: a child in a group of its own is the foreground. After the
 * restore it checks that it still is, and takes the SIGINT of the ^B its
 * parent types at the master; its exit status says how it went.
 */
static __attribute__((noreturn)) void fg_child(const struct e2e_pty *p, const sigset_t *intr)
{
	struct timespec five = { 5, 0 };
	sigset_t term;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	setpgid(0, 0);
	while (sigwaitinfo(&term, NULL) != SIGTERM)
		;
	if (tcgetpgrp(p->slave) != getpgrp() || getsid(0) != getppid())
		_exit(1);
	if (sigtimedwait(intr, NULL, &five) != SIGINT)
		_exit(2);
	_exit(0);
}

/* The foreground child's verdict, then the terminal back to us. */
static void reap_fg_child(const struct e2e_pty *p, pid_t child)
{
	sigset_t ttou;
	int st = 0;

	if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st))
		e2e_fail("the foreground child failed (status %#x: 1 not foreground, 2 no SIGINT)", st);
	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	sigprocmask(SIG_BLOCK, &ttou, NULL);	/* we are in the background */
	if (tcsetpgrp(p->slave, getpgrp()))
		e2e_fail("tcsetpgrp back: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	struct timespec five = { 5, 0 };
	bool with_child = argc > 2 && !strcmp(argv[1], "--fg-child");
	struct e2e_pty p;
	struct termios t;
	pid_t fg, child = 0;
	sigset_t set;

	if (with_child) {
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	e2e_init(argc, argv);
	if (getsid(0) != getpid() && setsid() < 0)
		e2e_fail("setsid: %s", strerror(errno));
	e2e_pty_open(&p, 0);	/* a session leader without one: our controlling terminal */
	tcgetattr(p.slave, &t);
	t.c_cc[VINTR] = 2;
	t.c_lflag &= ~(tcflag_t)ECHO;
	e2e_pty_set(&p, &t, 50, 132);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);	/* taken with sigtimedwait below */
	fg = getpgrp();
	if (with_child) {
		child = fork();
		if (child == 0)
			fg_child(&p, &set);
		if (child < 0 || (setpgid(child, child) && errno != EACCES))
			e2e_fail("fork: %s", strerror(errno));
		e2e_pty_note_pid(getpid());
		e2e_pty_note_pid(child);
		fg = child;
	}
	if (tcsetpgrp(p.slave, fg))
		e2e_fail("tcsetpgrp: %s", strerror(errno));
	check_ctty(&p, fg);

	e2e_ready();
	e2e_wait_stop();

	e2e_pty_check(&p);
	check_ctty(&p, fg);
	if (child)
		kill(child, SIGTERM);
	if (write(p.master, "\x02", 1) != 1)
		e2e_fail("write ^B: %s", strerror(errno));
	if (child)
		reap_fg_child(&p, child);
	else if (sigtimedwait(&set, NULL, &five) != SIGINT)
		e2e_fail("^B at the master did not interrupt the foreground group in 5 s");
	e2e_pty_carry(p.master, p.slave, "typed\n", "typed\n", 6, "master to slave");
	e2e_pty_carry(p.slave, p.master, "shown\n", "shown\r\n", 7, "slave to master (ONLCR)");
	e2e_pass();
}
