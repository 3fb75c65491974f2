/*
 * A thread in another v1 cgroup than its process (it wrote its tid into a
 * pids group's "tasks"): the dump must refuse it ("per-thread cgroups are
 * not supported yet") and leave it running. The program makes the group
 * and, after the refusal, checks the thread is still there, moves it back
 * and removes the group.
 */
#include <pthread.h>
#include <sys/syscall.h>

#include "e2e.h"

#define PIDS "/sys/fs/cgroup/pids"

static char group[512];
static volatile int moved, done;
static volatile long thread_tid;

static void put(const char *dir, const char *file, long v)
{
	char path[512], text[32];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	snprintf(text, sizeof(text), "%ld", v);
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		e2e_fail("cannot write %s to %s: %s", text, path, strerror(errno));
	close(fd);
}

static void *thread(void *arg)
{
	const struct timespec ms = { 0, 1000000 };

	(void)arg;
	thread_tid = syscall(SYS_gettid);
	put(group, "tasks", thread_tid);
	moved = 1;
	while (!done)
		nanosleep(&ms, NULL);
	return NULL;
}

/* The pids group of thread @tid, read from /proc. */
static void pids_of(long tid, char *out, size_t len)
{
	char path[64], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/cgroup", tid);
	f = fopen(path, "r");
	out[0] = 0;
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, ":pids:")) {
			line[strcspn(line, "\n")] = 0;
			snprintf(out, len, "%s", strstr(line, ":pids:") + 6);
		}
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	const struct timespec ms = { 0, 1000000 };
	char mine[256], other[256], back[300];
	pthread_t t;
	int err;

	e2e_init(argc, argv);
	pids_of(syscall(SYS_gettid), mine, sizeof(mine));
	snprintf(group, sizeof(group), PIDS "%s/criu-e2e-thr-%d", strcmp(mine, "/") ? mine : "", getpid());
	if (mkdir(group, 0755))
		e2e_fail("mkdir %s: %s", group, strerror(errno));
	err = pthread_create(&t, NULL, thread, NULL);
	if (err)
		e2e_fail("pthread_create: %s", strerror(err));
	while (!moved)
		nanosleep(&ms, NULL);
	e2e_ready();
	e2e_wait_stop();
	pids_of(thread_tid, other, sizeof(other));
	snprintf(back, sizeof(back), PIDS "%s", strcmp(mine, "/") ? mine : "");
	put(back, "tasks", thread_tid);
	done = 1;
	pthread_join(t, NULL);
	if (rmdir(group))
		e2e_fail("rmdir %s: %s", group, strerror(errno));
	if (!strstr(group, other) || !other[1])
		e2e_fail("the thread was in pids:%s, not in %s", other, group);
	e2e_pass();
}
