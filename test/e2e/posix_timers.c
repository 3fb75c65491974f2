/*
 * Five POSIX timers of different clocks and notifications, with a hole in
 * their ids, come back with the same ids, clocks, notifications, intervals
 * and (no more than) the time they had left; the periodic one keeps firing
 * with its value. /proc/self/timers, which shows id, signal, value, notify
 * target and clock of each, must read the same after the restore.
 * "many": 200 more (SIGEV_NONE, some armed), the dump's limit being 256.
 */
#include <sys/syscall.h>
#include <time.h>

#include "e2e.h"

#define NR		6	/* created; one is deleted again: ids with a hole */
#define NR_MORE		200	/* "many" */
#define TXT_MAX		(64 << 10)
#define TICK_VAL	101
#define SEC		1000000000LL

struct tmr {
	clockid_t clock;
	int notify;		/* SIGEV_* */
	int sig;		/* offset from SIGRTMIN */
	long long interval, value;	/* ns; value 0: disarmed */
};

static struct tmr tm[NR] = {
	{ CLOCK_MONOTONIC, SIGEV_SIGNAL, 1, 30000000, 30000000 },	/* ticks */
	{ CLOCK_REALTIME, SIGEV_SIGNAL, 2, 0, 3600 * SEC },		/* one shot */
	{ CLOCK_BOOTTIME, SIGEV_NONE, 0, 500 * SEC, 1000 * SEC },
	{ CLOCK_MONOTONIC, SIGEV_SIGNAL, 3, 0, 0 },			/* deleted */
	{ CLOCK_PROCESS_CPUTIME_ID, SIGEV_SIGNAL, 4, 0, 0 },		/* disarmed */
	{ CLOCK_MONOTONIC, SIGEV_THREAD_ID, 5, 7 * SEC, 2000 * SEC },	/* to this thread */
};

static timer_t id[NR];
static volatile sig_atomic_t ticks, bad;

static void on_tick(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code != SI_TIMER || si->si_value.sival_int != TICK_VAL)
		bad++;
	ticks++;
}

static long long ns(const struct timespec *t)
{
	return t->tv_sec * SEC + t->tv_nsec;
}

static void make(int i)
{
	struct sigevent ev;
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };

	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = tm[i].notify;
	ev.sigev_signo = SIGRTMIN + tm[i].sig;
	ev.sigev_value.sival_int = i == 0 ? TICK_VAL : 100 + i;
	if (tm[i].notify == SIGEV_THREAD_ID)
		ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	if (timer_create(tm[i].clock, &ev, &id[i]))
		e2e_fail("timer_create %d: %s", i, strerror(errno));
	its.it_interval.tv_sec = tm[i].interval / SEC;
	its.it_interval.tv_nsec = tm[i].interval % SEC;
	its.it_value.tv_sec = tm[i].value / SEC;
	its.it_value.tv_nsec = tm[i].value % SEC;
	if (tm[i].value && timer_settime(id[i], 0, &its, NULL))
		e2e_fail("timer_settime %d: %s", i, strerror(errno));
}

static void make_more(void)
{
	struct sigevent ev = { .sigev_notify = SIGEV_NONE };
	struct itimerspec its = { { 0, 0 }, { 10000, 0 } };
	timer_t t;
	int i;

	for (i = 0; i < NR_MORE; i++)
		if (timer_create(CLOCK_MONOTONIC, &ev, &t) || (i % 3 == 0 && timer_settime(t, 0, &its, NULL)))
			e2e_fail("timer %d of %d more: %s", i, NR_MORE, strerror(errno));
}

/* /proc/self/timers with its entries sorted: the kernel lists them newest first. */
static void read_timers(char *out, size_t size)
{
	static char buf[TXT_MAX];
	static char *blk[NR + NR_MORE];
	char *p;
	int fd = open("/proc/self/timers", O_RDONLY), n = 0, i, j;
	ssize_t len = 0, got = 1;

	while (fd >= 0 && got > 0 && (size_t)len < sizeof(buf) - 1) {
		got = read(fd, buf + len, sizeof(buf) - 1 - (size_t)len);
		len += got > 0 ? got : 0;
	}
	if (fd < 0 || got < 0)
		e2e_fail("/proc/self/timers: %s", strerror(errno));
	close(fd);
	while (len && buf[len - 1] == '\n')
		len--;
	buf[len] = '\0';
	/* an entry starts with "ID:" at a line start ("ClockID:" is inside one) */
	for (p = strncmp(buf, "ID:", 3) ? NULL : buf; p; p = strstr(p, "\nID:")) {
		if (p != buf)
			*p++ = '\0';
		if (n == NR + NR_MORE)
			e2e_fail("more timers than were made");
		blk[n++] = p;
	}
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(blk[j - 1], blk[j]) > 0; j--) {
			p = blk[j];
			blk[j] = blk[j - 1];
			blk[j - 1] = p;
		}
	out[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(out + strlen(out), size - strlen(out), "%s\n", blk[i]);
}

static void check(int i, const struct itimerspec *before)
{
	struct itimerspec now;

	if (timer_gettime(id[i], &now))
		e2e_fail("timer %d (id %ld) is gone: %s", i, (long)id[i], strerror(errno));
	if (ns(&now.it_interval) != tm[i].interval)
		e2e_fail("timer %d: interval %lld ns", i, ns(&now.it_interval));
	if (!tm[i].value != !ns(&now.it_value))
		e2e_fail("timer %d: %s", i, tm[i].value ? "disarmed" : "armed");
	/* a long one has not expired: no more left than before, and not much less */
	if (tm[i].value >= SEC && (ns(&now.it_value) > ns(&before->it_value) ||
				   ns(&now.it_value) < ns(&before->it_value) - 60 * SEC))
		e2e_fail("timer %d: %lld ns left, %lld before", i, ns(&now.it_value),
			 ns(&before->it_value));
}

int main(int argc, char **argv)
{
	static char before_txt[TXT_MAX], after_txt[TXT_MAX];
	char *args[] = { argv[0], argv[argc - 1], NULL };	/* [many] RESULT-FILE */
	struct itimerspec before[NR];
	struct sigaction sa;
	sigset_t s;
	int i, seen;

	e2e_init(2, args);
	if (argc > 2 && !strcmp(argv[1], "many"))
		make_more();
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_tick;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGRTMIN + 1, &sa, NULL);
	sigemptyset(&s);	/* the others never fire while the case runs */
	for (i = 2; i <= 5; i++)
		sigaddset(&s, SIGRTMIN + i);
	sigprocmask(SIG_BLOCK, &s, NULL);
	for (i = 0; i < NR; i++)
		make(i);
	if (timer_delete(id[3]))
		e2e_fail("timer_delete: %s", strerror(errno));
	while (ticks < 3)
		usleep(1000);
	read_timers(before_txt, sizeof(before_txt));
	for (i = 0; i < NR; i++)
		if (i != 3 && timer_gettime(id[i], &before[i]))
			e2e_fail("timer_gettime %d: %s", i, strerror(errno));
	e2e_ready();
	e2e_wait_stop();

	read_timers(after_txt, sizeof(after_txt));
	if (strcmp(before_txt, after_txt))
		e2e_fail("/proc/self/timers was\n%s\nand is\n%s", before_txt, after_txt);
	for (i = 0; i < NR; i++)
		if (i != 3)
			check(i, &before[i]);
	seen = ticks;
	for (i = 0; i < 2000 && ticks < seen + 3; i++)
		usleep(1000);
	if (ticks < seen + 3)
		e2e_fail("%d ticks in two seconds after the restore", ticks - seen);
	if (bad)
		e2e_fail("%d ticks were not the timer's", (int)bad);
	e2e_pass();
}
