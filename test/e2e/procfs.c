/*
 * Open files under /proc: its own /proc/self/status read part way, its own
 * /proc/PID directory, /proc/meminfo. After the restore each names this
 * process again (same pid), the position is kept and the files read this
 * process's state. "thread": a file of another thread's /proc/PID/task/TID,
 * which the dump refuses.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/stat.h>

#include "e2e.h"

#define READ_PART	64

static int thread_tid;

static void *idle(void *arg)
{
	(void)arg;
	__atomic_store_n(&thread_tid, (int)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	for (;;)
		pause();
	return NULL;
}

static void check_status(int fd)
{
	char buf[4096], pid[32];
	ssize_t n;

	if (lseek(fd, 0, SEEK_SET) != 0 || (n = read(fd, buf, sizeof(buf) - 1)) <= 0)
		e2e_fail("status: %s", strerror(errno));
	buf[n] = '\0';
	snprintf(pid, sizeof(pid), "\nPid:\t%d\n", getpid());
	if (strncmp(buf, "Name:\t", 6) || !strstr(buf, pid))
		e2e_fail("status does not read this process's (%.40s...)", buf);
}

int main(int argc, char **argv)
{
	char path[64], buf[READ_PART];
	int status, dir, mem, fd;
	pthread_t t;

	if (argc > 2 && !strcmp(argv[1], "thread")) {
		argc--, argv++;
		e2e_init(argc, argv);
		if (pthread_create(&t, NULL, idle, NULL))
			e2e_fail("pthread_create");
		while (!__atomic_load_n(&thread_tid, __ATOMIC_SEQ_CST))
			sched_yield();
		snprintf(path, sizeof(path), "/proc/self/task/%d/status", thread_tid);
		if (open(path, O_RDONLY) < 0)
			e2e_fail("%s: %s", path, strerror(errno));
		e2e_ready();
		e2e_wait_stop();
		e2e_pass();	/* refused: nothing was restored */
	}
	e2e_init(argc, argv);
	status = open("/proc/self/status", O_RDONLY);
	dir = open("/proc/self", O_RDONLY | O_DIRECTORY);
	mem = open("/proc/meminfo", O_RDONLY);
	if (status < 0 || dir < 0 || mem < 0 || read(status, buf, READ_PART) != READ_PART)
		e2e_fail("open: %s", strerror(errno));

	e2e_ready();
	e2e_wait_stop();

	snprintf(path, sizeof(path), "/proc/%d/status", getpid());
	e2e_check_fd_link(status, path);
	snprintf(path, sizeof(path), "/proc/%d", getpid());
	e2e_check_fd_link(dir, path);
	e2e_check_fd_link(mem, "/proc/meminfo");
	if (lseek(status, 0, SEEK_CUR) != READ_PART)
		e2e_fail("status: position %lld", (long long)lseek(status, 0, SEEK_CUR));
	check_status(status);
	fd = openat(dir, "status", O_RDONLY);
	if (fd < 0)
		e2e_fail("openat /proc/self/status: %s", strerror(errno));
	check_status(fd);
	if (read(mem, buf, 9) != 9 || memcmp(buf, "MemTotal:", 9))
		e2e_fail("meminfo");
	e2e_pass();
}
