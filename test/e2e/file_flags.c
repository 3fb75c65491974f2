/*
 * Status flags of regular files set with open(2) and F_SETFL come back
 * exactly (F_GETFL), with the fd's close-on-exec: O_NOATIME, O_APPEND,
 * O_NONBLOCK on one description, O_DIRECT on a second, O_SYNC on a third
 * (close-on-exec), O_DSYNC write-only on a fourth.
 */
#include "e2e.h"

#define WANT_FL	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_NOATIME | O_DIRECT | O_SYNC | O_DSYNC)

static const struct {
	int	open_flags, setfl, cloexec;
} want[] = {
	{ O_RDWR, O_NOATIME | O_APPEND | O_NONBLOCK, 0 },
	{ O_RDONLY | O_DIRECT, 0, 0 },
	{ O_RDWR | O_SYNC | O_CLOEXEC, 0, 1 },
	{ O_WRONLY | O_DSYNC, 0, 0 },
};
#define NR	(int)(sizeof(want) / sizeof(want[0]))

static void check(const int *fd, const int *fl)
{
	int i;

	for (i = 0; i < NR; i++) {
		int now = fcntl(fd[i], F_GETFL), cl = fcntl(fd[i], F_GETFD);

		if (now < 0 || (now & WANT_FL) != fl[i])
			e2e_fail("fd %d: flags %#o, not %#o", fd[i], now & WANT_FL, fl[i]);
		if (!!(cl & FD_CLOEXEC) != want[i].cloexec)
			e2e_fail("fd %d: close-on-exec %d", fd[i], cl);
	}
}

int main(int argc, char **argv)
{
	char path[512];
	int fd[NR], fl[NR], i;

	e2e_init(argc, argv);
	e2e_path(path, sizeof(path), "flags.dat");
	close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	for (i = 0; i < NR; i++) {
		fd[i] = open(path, want[i].open_flags);
		if (fd[i] < 0 || (want[i].setfl && fcntl(fd[i], F_SETFL, want[i].setfl)))
			e2e_fail("open/F_SETFL %d: %s", i, strerror(errno));
		fl[i] = fcntl(fd[i], F_GETFL) & WANT_FL;
	}
	e2e_ready();
	e2e_wait_stop();
	check(fd, fl);
	unlink(path);
	e2e_pass();
}
