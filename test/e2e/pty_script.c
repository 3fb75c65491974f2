/*
 * A real pty-owning program: util-linux script(1) runs a job on a pty it
 * holds the master of; the job leads its own session with the pty as
 * controlling terminal, in the foreground. Needs process trees (the dump
 * is of this program, script and the job), so its CASES line waits for
 * them.
 *
 *   pty_script RESULT                  this program, started by the harness:
 *                                      runs script, reports ready once the
 *                                      job is, forwards SIGTERM to the job
 *   pty_script --job RESULT FIFO       the job, under script: sets modes on
 *                                      its terminal, says "R pid" on FIFO,
 *                                      checks them after the restore
 *
 * The job cannot report through the harness's ready pipe: script passes
 * its descriptors on, and would hold the pipe open itself.
 *
 * script(1) waits in poll() without a timeout: the restore issues it again
 * (before, it came back with EINTR and script ended its job at once).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include "e2e-pty.h"

static void job_check(const char *name, const struct termios *tio, const struct winsize *ws)
{
	struct termios now;
	struct winsize w;
	pid_t sid = 0;
	int fd;

	if (!ttyname(0) || strcmp(ttyname(0), name))
		e2e_fail("job: on %s, was on %s", ttyname(0) ? ttyname(0) : "nothing", name);
	if (tcgetattr(0, &now) || now.c_cc[VINTR] != tio->c_cc[VINTR] ||
	    now.c_lflag != tio->c_lflag || ioctl(0, TIOCGWINSZ, &w) || memcmp(&w, ws, sizeof(w)))
		e2e_fail("job: termios or window size changed");
	if (ioctl(0, TIOCGSID, &sid) || sid != getpid())
		e2e_fail("job: TIOCGSID %d (%s), not itself %d", sid, strerror(errno), getpid());
	if (tcgetpgrp(0) != getpgrp())
		e2e_fail("job: foreground group %d, not its own %d", tcgetpgrp(0), getpgrp());
	fd = open("/dev/tty", O_WRONLY | O_NOCTTY);
	if (fd < 0 || write(fd, "job ok\n", 7) != 7)
		e2e_fail("job: /dev/tty: %s", strerror(errno));
	close(fd);
}

static int job(char **argv)
{
	struct winsize ws = { 40, 100, 0, 0 };
	struct termios tio;
	char name[64], msg[32];
	int fd;

	e2e_init(2, argv + 1);
	if (!isatty(0) || getsid(0) != getpid() || tcgetpgrp(0) != getpgrp())
		e2e_fail("job: not a session leader in the foreground of a terminal");
	snprintf(name, sizeof(name), "%s", ttyname(0));
	tcgetattr(0, &tio);
	tio.c_cc[VINTR] = 2;
	if (tcsetattr(0, TCSANOW, &tio) || ioctl(0, TIOCSWINSZ, &ws) || tcgetattr(0, &tio))
		e2e_fail("job: tcsetattr: %s", strerror(errno));
	fd = open(argv[3], O_WRONLY);
	snprintf(msg, sizeof(msg), "R %d", getpid());
	if (fd < 0 || write(fd, msg, strlen(msg)) != (ssize_t)strlen(msg))
		e2e_fail("job: cannot report on %s: %s", argv[3], strerror(errno));
	close(fd);
	e2e_wait_stop();
	job_check(name, &tio, &ws);
	e2e_pass();
}

int main(int argc, char **argv)
{
	char self[256], fifo[512], cmd[1024], msg[32] = "";
	ssize_t n, got = 0;
	pid_t script, jobpid = 0;
	int fd;

	if (argc == 4 && !strcmp(argv[1], "--job"))
		return job(argv);
	e2e_init(argc, argv);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	e2e_path(fifo, sizeof(fifo), "ready.fifo");
	if (n <= 0 || mkfifo(fifo, 0600))
		e2e_fail("setup: %s", strerror(errno));
	self[n] = '\0';
	snprintf(cmd, sizeof(cmd), "exec %s --job %s %s", self, argv[1], fifo);
	script = fork();
	if (script == 0) {
		execlp("script", "script", "-qfec", cmd, "/dev/null", (char *)NULL);
		_exit(127);
	}
	fd = open(fifo, O_RDONLY);
	while (fd >= 0 && (size_t)got < sizeof(msg) - 1 &&
	       (n = read(fd, msg + got, sizeof(msg) - 1 - (size_t)got)) > 0)
		got += n;
	if (fd >= 0)
		close(fd);
	unlink(fifo);
	if (sscanf(msg, "R %d", &jobpid) != 1 || jobpid <= 0)
		e2e_fail("the job under script did not get ready ('%s')", msg);
	e2e_pty_note_pid(getpid());
	e2e_pty_note_pid(script);
	e2e_pty_note_pid(jobpid);
	e2e_ready();
	e2e_wait_stop();
	kill(jobpid, SIGTERM);
	if (waitpid(script, NULL, 0) != script)
		e2e_fail("script: waitpid: %s", strerror(errno));
	return 0;	/* the job wrote the result */
}
