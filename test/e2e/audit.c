/*
 * The audit login uid and session id (/proc/self/loginuid, sessionid). A
 * session id is handed out by the kernel when a login uid is set and can
 * never be chosen, so a task comes back in its audit session only when
 * criu's restore runs in that same session (the restored task inherits
 * it), or in none when the task had none. Modes (the first argument):
 *   same     run in an audit session (the harness's "audit" flow): both
 *            ids are the same after the restore
 *   cleared  in an audit session, the task leaves it (writes the unset
 *            login uid): after the restore it is still in none
 *   own      the task starts a session of its own: a restore from outside
 *            it must be refused
 *   thread   a thread starts a session of its own: the dump must refuse
 */
#include <pthread.h>

#include "e2e.h"

#define UNSET		4294967295u
#define LOGINUID	4243u

static unsigned int read_id(const char *what)
{
	char path[64], buf[32] = "";
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/%s", what);
	fd = open(path, O_RDONLY);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (n <= 0)
		e2e_fail("read %s: %s", path, strerror(errno));
	close(fd);
	return (unsigned int)strtoul(buf, NULL, 10);
}

static void write_loginuid(const char *path, unsigned int uid)
{
	char buf[16];
	int fd = open(path, O_WRONLY), n = snprintf(buf, sizeof(buf), "%u", uid);

	if (fd < 0 || write(fd, buf, (size_t)n) != n)
		e2e_fail("write %u to %s: %s", uid, path, strerror(errno));
	close(fd);
}

static int thread_ready, gate;

static void *thread_main(void *arg)
{
	char path[64];

	(void)arg;
	snprintf(path, sizeof(path), "/proc/self/task/%ld/loginuid", (long)syscall(SYS_gettid));
	write_loginuid(path, LOGINUID);
	__atomic_store_n(&thread_ready, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&gate, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, &gate, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	return NULL;
}

int main(int argc, char **argv)
{
	char *args[] = { argv[0], argv[argc - 1], NULL };	/* MODE RESULT-FILE */
	const char *mode = argc > 2 ? argv[1] : "";
	unsigned int login, session;
	pthread_t th;

	e2e_init(2, args);
	if (!strcmp(mode, "same") || !strcmp(mode, "cleared")) {
		if (read_id("loginuid") == UNSET)
			e2e_fail("not started in an audit session");
		if (!strcmp(mode, "cleared"))
			write_loginuid("/proc/self/loginuid", UNSET);
	} else if (!strcmp(mode, "own")) {
		write_loginuid("/proc/self/loginuid", LOGINUID);
	} else if (!strcmp(mode, "thread")) {
		e2e_term_mask(SIG_BLOCK);
		if (pthread_create(&th, NULL, thread_main, NULL))
			e2e_fail("pthread_create failed");
		e2e_term_mask(SIG_UNBLOCK);
		e2e_wait_count(&thread_ready, 1);
	} else {
		e2e_fail("unknown mode '%s'", mode);
	}
	login = read_id("loginuid");
	session = read_id("sessionid");
	if (!strcmp(mode, "cleared") && (login != UNSET || session != UNSET))
		e2e_fail("leaving the audit session left %u/%u", login, session);
	e2e_ready();
	e2e_wait_stop();

	if (read_id("loginuid") != login || read_id("sessionid") != session)
		e2e_fail("login uid %u session %u, before %u %u", read_id("loginuid"),
			 read_id("sessionid"), login, session);
	if (!strcmp(mode, "thread")) {
		e2e_open_gate(&gate);
		pthread_join(th, NULL);
	}
	e2e_pass();
}
