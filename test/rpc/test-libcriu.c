/*
 * libcriu end to end: a C program linked with criu/lib/libcriu.so asks our
 * criu (criu/criu, through `criu swrk`) for its version and features,
 * dumps a child and restores it, with notify callbacks and a refusal.
 *
 * The child checks its own state: it fills a buffer with a pattern and
 * counts; on SIGUSR2 it exits 0 when the pattern is whole and the counter
 * went on counting, 1 otherwise. This program is a child subreaper, so the
 * restored child comes back to it when criu ends, and its exit status is
 * the verdict.
 *
 * Output as unit.h: PASS/FAIL/SKIP lines; exit 1 if a case failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>

#include "criu.h"

#define PATTERN_SIZE	(256 * 1024)

static char criu_bin[PATH_MAX];
static char why[256];
static int failed;

#define CHECK(cond)								\
	do {									\
		if (!(cond)) {							\
			snprintf(why, sizeof(why), "line %d: %s", __LINE__, #cond); \
			return -1;						\
		}								\
	} while (0)

/* ---- the child --------------------------------------------------------------- */

static volatile sig_atomic_t asked;

static void on_usr2(int sig)
{
	(void)sig;
	asked = 1;
}

static void child_main(int ready_fd)
{
	static unsigned char buf[PATTERN_SIZE];
	volatile unsigned long count = 0;
	unsigned long at_check;
	struct timespec ts = { 0, 2000000 };
	size_t i;

	signal(SIGUSR2, on_usr2);
	setsid();
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 7 + 3);
	i = open("/dev/null", O_RDWR);
	dup2(i, 0);
	dup2(i, 1);
	dup2(i, 2);
	if (i > 2)
		close(i);
	if (write(ready_fd, "r", 1) != 1)
		_exit(2);
	close(ready_fd);
	while (!asked) {
		count++;
		nanosleep(&ts, NULL);
	}
	at_check = count;
	for (i = 0; i < sizeof(buf); i++)
		if (buf[i] != (unsigned char)(i * 7 + 3))
			_exit(1);
	_exit(at_check > 0 ? 0 : 1);
}

static pid_t start_child(void)
{
	int p[2];
	char c;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		child_main(p[1]);
	}
	close(p[1]);
	/* the byte, then end of file: the child has closed its end too */
	if (pid > 0 && (read(p[0], &c, 1) != 1 || read(p[0], &c, 1) != 0)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(p[0]);
	return pid;
}

/* The verdict of a (restored) child: its exit status after SIGUSR2. */
static int verdict(pid_t pid)
{
	int st;

	if (kill(pid, SIGUSR2))
		return -1;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- helpers ----------------------------------------------------------------- */

/* How many descriptors @pid has (criu's socket must not leak into the tree). */
static int nr_fds(pid_t pid)
{
	char path[64];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static char stages[512];

static int record_stage(char *action, criu_notify_arg_t na)
{
	(void)na;
	strncat(stages, action, sizeof(stages) - strlen(stages) - 2);
	strcat(stages, " ");
	return 0;
}

static int refuse_pre_dump(char *action, criu_notify_arg_t na)
{
	(void)na;
	return strcmp(action, "pre-dump") ? 0 : -1;
}

static int setup(const char *dir)
{
	int fd;

	if (criu_init_opts() || criu_set_service_binary(criu_bin))
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	criu_set_images_dir_fd(fd);
	criu_set_log_level(4);
	criu_set_log_file("rpc.log");
	criu_set_shell_job(false);
	return fd;
}

static void rm_dir(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", dir);
}

/* ---- cases ------------------------------------------------------------------------ */

static int test_version(void)
{
	int v;

	CHECK(criu_init_opts() == 0);
	CHECK(criu_set_service_binary(criu_bin) == 0);
	v = criu_get_version();
	CHECK(v >= 31100);		/* what podman asks for */
	CHECK(criu_check_version(31100) == 1);
	CHECK(criu_check_version(990000) == 0);
	criu_free_opts();
	return 0;
}

static int test_check_features(void)
{
	struct criu_feature_check f = { true, true, true };

	CHECK(criu_init_opts() == 0);
	CHECK(criu_set_service_binary(criu_bin) == 0);
	CHECK(criu_check() == 0);
	CHECK(criu_feature_check(&f, sizeof(f)) == 0);
	CHECK(!f.mem_track && !f.lazy_pages && !f.pidfd_store);
	criu_free_opts();
	return 0;
}

static int test_no_binary(void)
{
	CHECK(criu_init_opts() == 0);
	CHECK(criu_set_service_binary("/nonexistent/criu") == 0);
	CHECK(criu_get_version() < 0);
	criu_free_opts();
	return 0;
}

static int dump_restore(char *dir)
{
	pid_t pid, got;
	int fd, nfds, after;

	pid = start_child();
	CHECK(pid > 0);
	nfds = nr_fds(pid);
	fd = setup(dir);
	CHECK(fd >= 0);
	criu_set_pid(pid);
	criu_set_notify_cb(record_stage);
	stages[0] = '\0';
	if (criu_dump() != 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		CHECK(!"criu_dump failed");
	}
	CHECK(!strcmp(stages, "pre-dump post-dump "));
	/* the dump killed it: reap the zombie so its pid is free */
	CHECK(waitpid(pid, NULL, 0) == pid);
	stages[0] = '\0';
	got = criu_restore();
	close(fd);
	criu_free_opts();
	if (got != pid && got > 0) {
		kill(got, SIGKILL);
		waitpid(got, NULL, 0);
	}
	CHECK(got == pid);
	after = nr_fds(pid);
	CHECK(verdict(pid) == 0);
	CHECK(!strcmp(stages, "pre-restore post-restore pre-resume post-resume "));
	CHECK(after == nfds);	/* none of criu's (its socket) came along */
	return 0;
}

static int test_dump_restore(void)
{
	char dir[] = "/tmp/libcriu-XXXXXX";
	int ret;

	if (!mkdtemp(dir))
		return -1;
	ret = dump_restore(dir);
	if (ret)
		fprintf(stderr, "log in %s/rpc.log kept\n", dir);
	else
		rm_dir(dir);
	return ret;
}

/* The callback says no at pre-dump: the dump fails and the child runs on. */
static int refused(char *dir)
{
	pid_t pid;
	int fd, ret;

	pid = start_child();
	CHECK(pid > 0);
	fd = setup(dir);
	CHECK(fd >= 0);
	criu_set_pid(pid);
	criu_set_notify_cb(refuse_pre_dump);
	ret = criu_dump();
	close(fd);
	criu_free_opts();
	if (ret != -EBADE) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		CHECK(ret == -EBADE);
	}
	CHECK(verdict(pid) == 0);
	return 0;
}

static int test_refused(void)
{
	char dir[] = "/tmp/libcriu-XXXXXX";
	int ret;

	if (!mkdtemp(dir))
		return -1;
	ret = refused(dir);
	rm_dir(dir);
	return ret;
}

/* `criu page-server --port 0` on 127.0.0.1 into @srv: its pid, its port in *port. */
static pid_t start_page_server(const char *srv, int *port)
{
	char line[64] = "";
	int p[2];
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		execl(criu_bin, criu_bin, "page-server", "--address", "127.0.0.1", "--port", "0",
		      "-D", srv, "-o", "ps.log", "-v4", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	n = pid > 0 ? read(p[0], line, sizeof(line) - 1) : -1;	/* one line, then it waits */
	close(p[0]);
	if (n <= 0 || sscanf(line, "port %d", port) != 1) {
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		return -1;
	}
	return pid;
}

/* Whether @dir holds a page file. */
static bool has_pages(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	bool found = false;

	while (d && (e = readdir(d)))
		found |= !strncmp(e->d_name, "pages-", 6);
	if (d)
		closedir(d);
	return found;
}

/* criu_opts.ps: the pages go to the page server, the rest into the images dir. */
static int page_server(char *dir)
{
	char srv[PATH_MAX], imgs[PATH_MAX];
	pid_t pid, server;
	int fd, port, ret, st = -1;

	snprintf(srv, sizeof(srv), "%s/srv", dir);
	snprintf(imgs, sizeof(imgs), "%s/imgs", dir);
	CHECK(mkdir(srv, 0700) == 0 && mkdir(imgs, 0700) == 0);
	server = start_page_server(srv, &port);
	CHECK(server > 0);
	pid = start_child();
	fd = pid > 0 ? setup(imgs) : -1;
	if (fd >= 0) {
		criu_set_pid(pid);
		criu_set_leave_running(true);
		criu_set_page_server_address_port("127.0.0.1", port);
	}
	ret = fd >= 0 ? criu_dump() : -1;
	if (fd >= 0)
		close(fd);
	criu_free_opts();
	if (ret)
		kill(server, SIGKILL);
	waitpid(server, &st, 0);
	if (ret && pid > 0) {	/* left running by the failed dump */
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	CHECK(pid > 0 && ret == 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(has_pages(srv) && !has_pages(imgs));
	CHECK(verdict(pid) == 0);	/* left running, unchanged */
	return 0;
}

static int test_page_server(void)
{
	char dir[] = "/tmp/libcriu-XXXXXX";
	int ret;

	if (!mkdtemp(dir))
		return -1;
	ret = page_server(dir);
	if (ret)
		fprintf(stderr, "logs in %s kept\n", dir);
	else
		rm_dir(dir);
	return ret;
}

/* restore_child asks for rst_sibling, which criu refuses by name. */
static int test_restore_child_refused(void)
{
	char dir[] = "/tmp/libcriu-XXXXXX";
	int fd, ret;

	if (!mkdtemp(dir))
		return -1;
	fd = setup(dir);
	ret = fd >= 0 ? criu_restore_child() : 0;
	if (fd >= 0)
		close(fd);
	criu_free_opts();
	rm_dir(dir);
	CHECK(ret == -EBADE);
	return 0;
}

/* criu service -d: a socket, a pidfile, one forked criu per connection. */
static int service(const char *dir)
{
	char sock[256], pidf[256], cmd[PATH_MAX + 600];
	int pid = 0, ret;
	FILE *f;

	snprintf(sock, sizeof(sock), "%s/criu.sock", dir);
	snprintf(pidf, sizeof(pidf), "%s/service.pid", dir);
	snprintf(cmd, sizeof(cmd), "%s service -d --address %s --pidfile %s", criu_bin, sock, pidf);
	CHECK(system(cmd) == 0);	/* returns once the socket listens */
	f = fopen(pidf, "r");
	CHECK(f && fscanf(f, "%d", &pid) == 1 && pid > 0);
	fclose(f);
	CHECK(criu_init_opts() == 0);
	criu_set_service_address(sock);
	ret = criu_get_version();
	ret = ret >= 40000 && criu_check() == 0 && criu_get_version() == ret ? 0 : -1;
	criu_free_opts();
	kill(pid, SIGTERM);
	/*
	 * The daemon is this subreaper's orphan, and so is a connection's
	 * criu still ending when the daemon goes: reap every one.
	 */
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	CHECK(ret == 0);
	return 0;
}

static int test_service(void)
{
	char dir[] = "/tmp/libcriu-XXXXXX";
	int ret;

	if (!mkdtemp(dir))
		return -1;
	ret = service(dir);
	rm_dir(dir);
	return ret;
}

static const struct {
	const char *name;
	int (*fn)(void);
} cases[] = {
	{ "version", test_version },
	{ "check and features", test_check_features },
	{ "no criu binary", test_no_binary },
	{ "dump and restore a child with notifications", test_dump_restore },
	{ "a notify callback refuses pre-dump", test_refused },
	{ "restore_child is refused", test_restore_child_refused },
	{ "dump to a page server (criu_opts.ps)", test_page_server },
	{ "criu service on a socket", test_service },
};

int main(int argc, char **argv)
{
	unsigned int i;
	char *slash;

	(void)argc;
	if (!realpath(argv[0], criu_bin) || !(slash = strrchr(criu_bin, '/')))
		return 2;
	/* test/rpc/test-libcriu -> criu/criu */
	strcpy(slash, "/../../criu/criu");
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why[0] = '\0';
		if (cases[i].fn()) {
			printf("FAIL libcriu: %s: %s\n", cases[i].name, why);
			failed = 1;
		} else {
			printf("PASS libcriu: %s\n", cases[i].name);
		}
		fflush(stdout);
	}
	return failed;
}
