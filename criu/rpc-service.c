/*
 * criu swrk FD: the RPC session on a socket the caller passed.
 * criu service: a unix socket server, one forked criu per connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#define LOG_PREFIX "rpc: "
#include "log.h"
#include "rpc.h"

#define SERVICE_DEFAULT_ADDRESS	"/var/run/criu_service.socket"

/* Whatever the commands print for a user goes to criu's stderr: stdout is the caller's. */
static int quiet_stdout(void)
{
	fflush(stdout);
	if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
		pr_perror("dup2");
		return -1;
	}
	return 0;
}

int cmd_swrk(struct cr_options *o)
{
	const char *arg = o->args.v[1];
	char *end;
	long fd;

	fd = strtol(arg, &end, 10);
	if (*arg < '0' || *arg > '9' || *end || fd > 0x7fffffff) {
		pr_err("swrk takes a descriptor number, not '%s'", arg);
		return -1;
	}
	if (quiet_stdout())
		return -1;
	return rpc_serve_fd((int)fd);
}

static int service_listen(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int sk;

	if (strlen(path) >= sizeof(a.sun_path)) {
		pr_err("socket path %s is too long", path);
		return -1;
	}
	strcpy(a.sun_path, path);
	sk = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sk < 0) {
		pr_perror("socket");
		return -1;
	}
	unlink(path);
	if (bind(sk, (struct sockaddr *)&a, sizeof(a)) || listen(sk, 16)) {
		pr_perror("cannot listen on %s", path);
		close(sk);
		return -1;
	}
	pr_info("listening on %s", path);
	return sk;
}

static int write_pid(const char *path, pid_t pid)
{
	FILE *f = fopen(path, "we");

	if (!f || fprintf(f, "%d", (int)pid) < 0 || fclose(f)) {
		pr_perror("cannot write the pidfile %s", path);
		if (f)
			fclose(f);
		return -1;
	}
	return 0;
}

/* -d: the server goes on in a child; returns 1 in the parent (which ends), 0 in the server. */
static int daemonize(const struct cr_options *o)
{
	pid_t pid = fork();

	if (pid < 0) {
		pr_perror("fork");
		return -1;
	}
	if (pid > 0)
		return o->pidfile && write_pid(o->pidfile, pid) ? -1 : 1;
	setsid();
	return 0;
}

/*
 * Accept connections; a forked child serves each and returns 1 (it then
 * ends through main). The server leaves its children to the kernel to
 * reap (SIGCHLD ignored), so none is left a zombie when it is stopped; each
 * child takes the default back, as it waits for what it restores.
 */
static int serve(int lsk)
{
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		int sk;
		pid_t pid;

		sk = accept4(lsk, NULL, NULL, SOCK_CLOEXEC);
		if (sk < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			pr_perror("accept");
			return -1;
		}
		pid = fork();
		if (pid == 0) {
			signal(SIGCHLD, SIG_DFL);
			close(lsk);
			return rpc_serve_fd(sk) ? -1 : 1;
		}
		if (pid < 0)
			pr_perror("fork for a connection");
		close(sk);
	}
}

int cmd_service(struct cr_options *o)
{
	const char *path = o->address ? o->address : SERVICE_DEFAULT_ADDRESS;
	int lsk, ret;

	lsk = service_listen(path);
	if (lsk < 0 || quiet_stdout())
		return -1;
	ret = 0;
	if (o->restore_detached)
		ret = daemonize(o);
	else if (o->pidfile)
		ret = write_pid(o->pidfile, getpid());
	if (ret == 0)
		ret = serve(lsk);
	close(lsk);
	return ret < 0 ? -1 : 0;
}
