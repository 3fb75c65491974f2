/*
 * Pty helpers for end-to-end programs (with e2e.h): make a pair, save what
 * it should look like, and check after the restore that it still is that
 * pair and carries bytes both ways.
 */
#ifndef E2E_PTY_H
#define E2E_PTY_H

#include <poll.h>
#include <stdbool.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "e2e.h"

struct e2e_pty {
	int		master, slave;
	char		name[64];	/* /dev/pts/N */
	struct termios	tio;		/* as set before the dump */
	struct winsize	ws;
	int		fl[2], fdfl[2];	/* F_GETFL, F_GETFD of master and slave */
};

/* Remember the file flags and fd flags of both ends, as the dump should see them. */
static inline void e2e_pty_note_flags(struct e2e_pty *p)
{
	p->fl[0] = fcntl(p->master, F_GETFL);
	p->fl[1] = fcntl(p->slave, F_GETFL);
	p->fdfl[0] = fcntl(p->master, F_GETFD);
	p->fdfl[1] = fcntl(p->slave, F_GETFD);
}

/* The same file flags (exactly, O_LARGEFILE too) and close-on-exec as noted. */
static inline void e2e_pty_check_flags(const struct e2e_pty *p)
{
	int i, fd[2] = { p->master, p->slave };

	for (i = 0; i < 2; i++) {
		int fl = fcntl(fd[i], F_GETFL), fdfl = fcntl(fd[i], F_GETFD);

		if (fl != p->fl[i] || fdfl != p->fdfl[i])
			e2e_fail("%s %s (fd %d): file flags %#o, fd flags %#x; were %#o, %#x", p->name,
				 i ? "slave" : "master", fd[i], fl, fdfl, p->fl[i], p->fdfl[i]);
	}
}

/*
 * Append @pid to "pids" next to the result file: with process trees the
 * harness waits until every process listed there is gone (and reaps the
 * orphans it inherits) before it restores.
 */
static inline void e2e_pty_note_pid(pid_t pid)
{
	char path[512], line[32];
	int fd, n;

	e2e_path(path, sizeof(path), "pids");
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	n = snprintf(line, sizeof(line), "%d\n", (int)pid);
	if (fd < 0 || write(fd, line, (size_t)n) != n)
		e2e_fail("cannot note pid %d in %s", (int)pid, path);
	close(fd);
}

/* A new pair; the slave is opened with @slave_flags (O_NOCTTY or not). */
static inline void e2e_pty_open(struct e2e_pty *p, int slave_flags)
{
	p->master = posix_openpt(O_RDWR | O_NOCTTY);
	if (p->master < 0 || grantpt(p->master) || unlockpt(p->master) ||
	    ptsname_r(p->master, p->name, sizeof(p->name)))
		e2e_fail("posix_openpt: %s", strerror(errno));
	p->slave = open(p->name, O_RDWR | slave_flags);
	if (p->slave < 0)
		e2e_fail("open %s: %s", p->name, strerror(errno));
	e2e_pty_note_flags(p);
}

/* Set @tio and @ws on the slave and remember them. */
static inline void e2e_pty_set(struct e2e_pty *p, const struct termios *tio, unsigned short rows,
			       unsigned short cols)
{
	p->ws = (struct winsize){ rows, cols, (unsigned short)(cols * 8), (unsigned short)(rows * 16) };
	if (tcsetattr(p->slave, TCSANOW, tio) || ioctl(p->master, TIOCSWINSZ, &p->ws) ||
	    tcgetattr(p->slave, &p->tio))
		e2e_fail("%s: tcsetattr/TIOCSWINSZ: %s", p->name, strerror(errno));
	e2e_pty_note_flags(p);
}

/* Same /dev/pts/N, same termios, window size and flags as before the dump. */
static inline void e2e_pty_check(const struct e2e_pty *p)
{
	struct termios now;
	struct winsize ws;
	char name[64];
	struct stat st;

	if (ptsname_r(p->master, name, sizeof(name)) || strcmp(name, p->name))
		e2e_fail("master is now of %s, was %s", name, p->name);
	if (fstat(p->slave, &st) || stat(p->name, &st) || !isatty(p->slave))
		e2e_fail("%s: the slave is gone: %s", p->name, strerror(errno));
	if (tcgetattr(p->slave, &now) || ioctl(p->slave, TIOCGWINSZ, &ws))
		e2e_fail("%s: tcgetattr: %s", p->name, strerror(errno));
	if (now.c_iflag != p->tio.c_iflag || now.c_oflag != p->tio.c_oflag ||
	    now.c_cflag != p->tio.c_cflag || now.c_lflag != p->tio.c_lflag ||
	    memcmp(now.c_cc, p->tio.c_cc, sizeof(now.c_cc)))
		e2e_fail("%s: termios changed (lflag %#x, was %#x; VINTR %u, was %u)", p->name,
			 now.c_lflag, p->tio.c_lflag, now.c_cc[VINTR], p->tio.c_cc[VINTR]);
	if (memcmp(&ws, &p->ws, sizeof(ws)))
		e2e_fail("%s: window %ux%u, was %ux%u", p->name, ws.ws_row, ws.ws_col, p->ws.ws_row,
			 p->ws.ws_col);
	e2e_pty_check_flags(p);
}

/* Read exactly @len bytes from @fd within 5 s. */
static inline void e2e_pty_read(int fd, char *buf, size_t len, const char *what)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 5000) != 1)
			e2e_fail("%s: nothing to read after %zu of %zu bytes", what, got, len);
		n = read(fd, buf + got, len - got);
		if (n <= 0)
			e2e_fail("%s: read: %zd (%s)", what, n, strerror(errno));
		got += (size_t)n;
	}
}

/* @out written to @from arrives as the @len bytes @in at @to. */
static inline void e2e_pty_carry(int from, int to, const char *out, const char *in, size_t len,
				 const char *what)
{
	char buf[64] = "";

	if (len > sizeof(buf))
		e2e_fail("%s: %zu bytes expected, more than the test reads", what, len);
	if (write(from, out, strlen(out)) != (ssize_t)strlen(out))
		e2e_fail("%s: write: %s", what, strerror(errno));
	e2e_pty_read(to, buf, len, what);
	if (memcmp(buf, in, len))
		e2e_fail("%s: got '%.*s', not '%.*s'", what, (int)len, buf, (int)len, in);
}

#endif /* E2E_PTY_H */
