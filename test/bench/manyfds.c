/*
 * manyfds: the victim and the baseline of the descriptor benchmark
 * (scripts/bench.sh).
 *
 *   manyfds N READY_FD RESULT_FILE DIR    victim with N descriptors
 *   manyfds --dup2 N ROUNDS               baseline: ns per dup2(), best round
 *
 * The victim raises RLIMIT_NOFILE to its hard limit and opens N fds in a
 * repeating mix: pipes (both ends, one byte queued), eventfds (counter set),
 * a dup of an eventfd, timerfds armed for an hour, a signalfd, regular files
 * and a directory in DIR, /dev/null, and an epoll watching an eventfd. It
 * writes "ready PID\n" to READY_FD, closes it and every other inherited fd
 * above 2, then waits. On SIGTERM (after a restore) it checks the number of
 * fds, the queued bytes and the counters, writes PASS or FAIL to
 * RESULT_FILE and exits. It makes itself a session leader.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>

static volatile sig_atomic_t got_term;

static void on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int bench_dup2(int n, int rounds)
{
	double best = 1e30;
	int src = open("/dev/null", O_RDONLY), r, i;
	struct rlimit rl;

	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	for (r = 0; r < rounds; r++) {
		double t0 = now(), t;

		for (i = 0; i < n; i++)
			if (dup2(src, 100 + i) < 0) {
				perror("dup2");
				return 1;
			}
		t = now() - t0;
		syscall(SYS_close_range, 100, ~0U, 0);
		if (t < best)
			best = t;
	}
	printf("%.1f\n", best * 1e9 / n);
	return 0;
}

/* What the victim checks after the restore. */
struct check {
	int	fd;
	char	kind;		/* 'p': one byte 'p' queued; 'e': eventfd counter */
	uint64_t val;
};

static struct check *checks;
static int nr_checks, total;

static void remember(int fd, char kind, uint64_t val)
{
	checks[nr_checks++] = (struct check){ fd, kind, val };
}

static int add_group(int slot, const char *dir, int *efd_last)
{
	struct itimerspec hour = { { 0, 0 }, { 3600, 0 } };
	struct epoll_event ev = { .events = EPOLLIN };
	char path[4200];
	sigset_t set;
	uint64_t v;
	int p[2], fd;

	switch (slot) {
	case 0: case 1: case 2: case 3:
		if (pipe(p) || write(p[1], "p", 1) != 1)
			return -1;
		remember(p[0], 'p', 0);
		return 2;
	case 4: case 5: case 6:
		fd = eventfd(0, EFD_NONBLOCK);
		v = (uint64_t)fd * 3 + 1;
		if (fd < 0 || write(fd, &v, sizeof(v)) != sizeof(v))
			return -1;
		remember(fd, 'e', v);
		*efd_last = fd;
		return 1;
	case 7:
		return dup(*efd_last) < 0 ? -1 : 1;
	case 8: case 9:
		fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
		return fd < 0 || timerfd_settime(fd, 0, &hour, NULL) ? -1 : 1;
	case 10:
		sigemptyset(&set);
		sigaddset(&set, SIGUSR2);
		return signalfd(-1, &set, SFD_NONBLOCK) < 0 ? -1 : 1;
	case 11: case 12:
		snprintf(path, sizeof(path), "%s/file", dir);
		return open(path, O_RDONLY) < 0 ? -1 : 1;
	case 13:
		return open(dir, O_RDONLY | O_DIRECTORY) < 0 ? -1 : 1;
	case 14:
		return open("/dev/null", O_RDWR) < 0 ? -1 : 1;
	default:
		fd = epoll_create1(0);
		ev.data.fd = *efd_last;
		return fd < 0 || epoll_ctl(fd, EPOLL_CTL_ADD, *efd_last, &ev) ? -1 : 1;
	}
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n - 1;	/* the directory's own fd */
}

static const char *verify(void)
{
	static char why[128];
	uint64_t v;
	char c;
	int i;

	if (count_fds() != total) {
		snprintf(why, sizeof(why), "%d fds, not %d", count_fds(), total);
		return why;
	}
	for (i = 0; i < nr_checks; i++) {
		const struct check *k = &checks[i];

		if (k->kind == 'p' && (read(k->fd, &c, 1) != 1 || c != 'p'))
			snprintf(why, sizeof(why), "pipe fd %d lost its byte", k->fd);
		else if (k->kind == 'e' && (read(k->fd, &v, sizeof(v)) != sizeof(v) || v != k->val))
			snprintf(why, sizeof(why), "eventfd %d counter changed", k->fd);
		else
			continue;
		return why;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int n, ready_fd, made = 0, slot = 0, efd_last = -1, fd;
	struct sigaction sa = { .sa_handler = on_term };
	const char *why;
	struct rlimit rl;
	char line[64];
	FILE *f;

	if (argc == 4 && !strcmp(argv[1], "--dup2"))
		return bench_dup2(atoi(argv[2]), atoi(argv[3]));
	if (argc != 5) {
		fprintf(stderr, "usage: %s N READY_FD RESULT_FILE DIR | --dup2 N ROUNDS\n", argv[0]);
		return 2;
	}
	n = atoi(argv[1]);
	ready_fd = atoi(argv[2]);
	if (setsid() < 0 || sigaction(SIGTERM, &sa, NULL))
		return 1;
	for (fd = 3; fd < 1024; fd++)
		if (fd != ready_fd)
			close(fd);
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) || (rlim_t)n + 64 > rl.rlim_cur) {
		fprintf(stderr, "RLIMIT_NOFILE %llu is too low for %d fds\n",
			(unsigned long long)rl.rlim_cur, n);
		return 1;
	}
	checks = calloc((size_t)n + 1, sizeof(*checks));
	while (checks && made < n) {
		int got = add_group(n - made < 2 && slot < 4 ? 4 : slot, argv[4], &efd_last);

		if (got < 0) {
			perror("manyfds: making fds");
			return 1;
		}
		made += got;
		slot = (slot + 1) % 16;
		if (efd_last < 0 && slot >= 7)
			slot = 4;
	}
	total = count_fds() - 1;	/* READY_FD goes next */
	snprintf(line, sizeof(line), "ready %d\n", (int)getpid());
	if (write(ready_fd, line, strlen(line)) < 0)
		return 1;
	close(ready_fd);

	while (!got_term)
		pause();

	why = verify();
	f = fopen(argv[3], "w");
	if (!f)
		return 1;
	fprintf(f, why ? "FAIL %s\n" : "PASS\n", why);
	return fclose(f) == 0 && !why ? 0 : 1;
}
