/*
 * The slave lock of a pty (TIOCSPTLCK) survives: a pair whose slave is open
 * but locked again (no new open of /dev/pts/N: EIO) and a pair left
 * unlocked (a new open works) read back the same TIOCGPTLCK and behave so.
 * The opens are tried last: a failed open of a slave puts the open slave
 * of the pair in I/O error (the kernel's pty_open()).
 * With --io-error that is done before the dump: the slave must still fail
 * with EIO after the restore. The second pair has a termios lock
 * (TIOCSLCKTRMIOS) on c_cflag and c_lflag bits, which must read back the
 * same. With --stopped its output is stopped (tcflow TCOOFF): the dump
 * refuses that.
 */
#include <stddef.h>

#include "e2e-pty.h"

static void check_lock(const struct e2e_pty *p, int want, const char *when, bool try_open)
{
	int lck = -1, fd;

	if (ioctl(p->master, TIOCGPTLCK, &lck))
		e2e_fail("%s: TIOCGPTLCK: %s", p->name, strerror(errno));
	if (lck != want)
		e2e_fail("%s %s: TIOCGPTLCK says %d, want %d", p->name, when, lck, want);
	if (!try_open)
		return;
	fd = open(p->name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if ((fd >= 0) == want || (fd < 0 && errno != EIO))
		e2e_fail("%s %s (locked %d): a new open of the slave %s (%s)", p->name, when, want,
			 fd >= 0 ? "works" : "fails", fd >= 0 ? "" : strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* A slave put in I/O error by a failed open of the locked slave stays so. */
static void io_error(const struct e2e_pty *p)
{
	if (open(p->name, O_RDWR | O_NOCTTY | O_CLOEXEC) >= 0 || write(p->slave, "z", 1) != -1 ||
	    errno != EIO)
		e2e_fail("%s: the slave is not in I/O error after a failed open", p->name);
	e2e_ready();
	e2e_wait_stop();
	if (write(p->slave, "z", 1) != -1 || errno != EIO)
		e2e_fail("%s: the slave was in I/O error, now it writes", p->name);
	e2e_pass();
}

/* A lock on bits of c_cflag and c_lflag (the rest free), as TIOCGLCKTRMIOS shows it. */
static void set_termios_lock(const struct e2e_pty *p, struct termios *lck)
{
	memset(lck, 0, sizeof(*lck));
	lck->c_cflag = CLOCAL | CSIZE;
	lck->c_lflag = ECHO;
	lck->c_cc[VMIN] = 0xff;
	if (ioctl(p->slave, TIOCSLCKTRMIOS, lck))
		e2e_fail("%s: TIOCSLCKTRMIOS: %s", p->name, strerror(errno));
}

static void check_termios_lock(const struct e2e_pty *p, const struct termios *want)
{
	struct termios lck;

	memset(&lck, 0, sizeof(lck));
	if (ioctl(p->master, TIOCGLCKTRMIOS, &lck))
		e2e_fail("%s: TIOCGLCKTRMIOS: %s", p->name, strerror(errno));
	/* the kernel's struct termios: flags, line and 19 control characters */
	if (memcmp(&lck, want, offsetof(struct termios, c_cc) + 19))
		e2e_fail("%s: termios lock is cflag %#x lflag %#x iflag %#x VMIN %#x; was cflag "
			 "%#x lflag %#x", p->name, lck.c_cflag, lck.c_lflag, lck.c_iflag,
			 lck.c_cc[VMIN], want->c_cflag, want->c_lflag);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 2 && !strncmp(argv[1], "--", 2) ? argv[1] : "";
	bool with_io_error = !strcmp(mode, "--io-error");
	struct e2e_pty locked, open_pty;
	struct termios t, lck;

	if (mode[0]) {
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	e2e_init(argc, argv);
	e2e_pty_open(&locked, O_NOCTTY);
	tcgetattr(locked.slave, &t);
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
	e2e_pty_set(&locked, &t, 24, 80);
	if (ioctl(locked.master, TIOCSPTLCK, &(int){ 1 }))
		e2e_fail("TIOCSPTLCK: %s", strerror(errno));
	if (with_io_error)
		io_error(&locked);
	e2e_pty_open(&open_pty, O_NOCTTY);
	tcgetattr(open_pty.slave, &t);
	e2e_pty_set(&open_pty, &t, 25, 81);
	set_termios_lock(&open_pty, &lck);
	check_termios_lock(&open_pty, &lck);
	if (!strcmp(mode, "--stopped") && tcflow(open_pty.slave, TCOOFF))
		e2e_fail("tcflow TCOOFF: %s", strerror(errno));
	check_lock(&locked, 1, "before the dump", false);
	check_lock(&open_pty, 0, "before the dump", true);

	e2e_ready();
	e2e_wait_stop();

	e2e_pty_check(&locked);
	e2e_pty_check(&open_pty);
	check_termios_lock(&open_pty, &lck);
	check_lock(&locked, 1, "after the restore", false);
	e2e_pty_carry(locked.master, locked.slave, "x\n", "x\n", 2, "locked: master to slave");
	e2e_pty_carry(locked.slave, locked.master, "y\n", "y\r\n", 3, "locked: slave to master");
	check_lock(&locked, 1, "after the restore", true);
	check_lock(&open_pty, 0, "after the restore", true);
	e2e_pass();
}
