/*
 * seccomp filters, the same in every thread and in a child (a tree shares
 * them through fork):
 *   filter 1, installed first: uname() fails with errno 41;
 *   filter 2, with SECCOMP_FILTER_FLAG_LOG: uname() fails with errno 42;
 * every other call goes through. Both act on uname() alike, so the newest
 * one's errno (42) tells the order they were installed in. After the restore each thread and the
 * child see both filters (/proc says 2 filters) and their errnos, and
 * no_new_privs and the ids are as they were.
 *   (default)  no_new_privs first: the restore may install the filters last;
 *   --drop     root installs them without no_new_privs (CAP_SYS_ADMIN), then
 *              becomes uid and gid 4242 without capabilities: the restore
 *              has to install them before it drops the credentials;
 *   --strict   strict mode: refused; the task then waits in read() and
 *              reports through a result file opened before (read, write,
 *              exit and sigreturn are all it may call);
 *   --notify   a filter with SECCOMP_RET_USER_NOTIF: refused;
 *   --thread   the second thread adds a filter of its own: refused;
 *   --kill     a third filter kills on vmsplice(), which the parasite makes:
 *              refused (criu killed mid-call would leave the task to it),
 *              and the tree runs on untouched.
 */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <grp.h>
#include <sys/wait.h>

#include "e2e.h"

static int mode_drop, mode_thread, mode_notify, mode_kill;
static int ready_r = -1, ready_w = -1;
static volatile int go;
static int arrived;	/* threads past glibc's start, their own mask set */

static int install(int nr, unsigned int ret, unsigned int flags)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, ret),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

/* 0, or what differs: every thread and the child run it, with @want filters. */
static int check_filters(const char *status, int want)
{
	struct utsname u;
	char buf[4096], *p;
	int fd = open(status, O_RDONLY), n;

	n = fd < 0 ? -1 : (int)read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 1;
	buf[n] = '\0';
	p = strstr(buf, "Seccomp:");
	if (!p || strncmp(p, "Seccomp:\t2\n", 11))
		return 2;
	p = strstr(buf, "Seccomp_filters:");
	if (!p || atoi(p + 16) != want)
		return 3;
	errno = 0;
	if (uname(&u) != -1 || errno != 42)
		return 4;
	if (getpid() <= 0)
		return 5;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != !mode_drop)
		return 6;
	if (mode_drop && (getuid() != 4242 || getegid() != 4242))
		return 7;
	return 0;
}

static void *worker(void *unused)
{
	const struct timespec ts = { 0, 10 * 1000 * 1000 };

	if (mode_thread && install(SYS_getppid, SECCOMP_RET_ERRNO | 44, 0))
		return (void *)100L;
	__atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST);
	while (!go)
		nanosleep(&ts, NULL);
	(void)unused;
	return (void *)(long)check_filters("/proc/thread-self/status", 2 + mode_notify + mode_kill + mode_thread);
}

static void drop_root(void)
{
	if (setgroups(0, NULL) || setresgid(4242, 4242, 4242) || setresuid(4242, 4242, 4242))
		e2e_fail("dropping root: %s", strerror(errno));
}

static int child(void)
{
	struct e2e_ids me;

	e2e_note_pid();	/* while it may still write there */
	if (mode_drop)
		drop_root();
	e2e_ids_get(&me);
	close(ready_w);
	e2e_wait_stop();
	return e2e_ids_check(&me) ? 20 : check_filters("/proc/self/status", 2 + mode_notify + mode_kill);
}

/* Strict mode from here: read, write, exit, sigreturn only (the result file is open). */
static void strict(void)
{
	int fd = open(e2e_result_path, O_WRONLY | O_CREAT | O_TRUNC, 0600), p[2];
	char c;

	if (fd < 0 || pipe(p))
		e2e_fail("strict setup: %s", strerror(errno));
	e2e_ready();
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0))
		e2e_fail("PR_SET_SECCOMP strict: %s", strerror(errno));
	/* SIGTERM's handler (no SA_RESTART) ends the read */
	if (read(p[0], &c, 1) == -1 && e2e_stopped())
		(void)!write(fd, "PASS\n", 5);
	syscall(SYS_exit, 0);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 2 ? argv[1] : "";
	pthread_t th;
	void *tr;
	pid_t c;
	int r;

	if (argc > 2)
		argc--, argv++;
	e2e_init(argc, argv);
	mode_drop = !strcmp(mode, "--drop");
	mode_thread = !strcmp(mode, "--thread");
	mode_notify = !strcmp(mode, "--notify");
	mode_kill = !strcmp(mode, "--kill");
	if (!strcmp(mode, "--strict"))
		strict();
	if (!mode_drop && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		e2e_fail("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	if (install(SYS_uname, SECCOMP_RET_ERRNO | 41, 0) ||
	    install(SYS_uname, SECCOMP_RET_ERRNO | 42, SECCOMP_FILTER_FLAG_LOG) ||
	    (mode_notify && install(SYS_getppid, SECCOMP_RET_USER_NOTIF, 0) < 0) ||
	    (mode_kill && install(SYS_vmsplice, SECCOMP_RET_KILL_PROCESS, 0)))
		e2e_fail("seccomp: %s", strerror(errno));
	e2e_tree_pipe(&ready_r, &ready_w);
	c = e2e_spawn(child, &ready_r);
	e2e_tree_wait(&ready_r, &ready_w);
	e2e_note_pid();
	if (mode_drop) {
		e2e_result_for(4242, 4242);
		drop_root();
	}
	e2e_term_mask(SIG_BLOCK);
	if (pthread_create(&th, NULL, worker, NULL))
		e2e_fail("pthread_create");
	e2e_wait_count(&arrived, 1);
	e2e_term_mask(SIG_UNBLOCK);
	e2e_ready();
	e2e_wait_stop();

	go = 1;
	if (pthread_join(th, &tr) || tr)
		e2e_fail("thread: check %ld", (long)tr);
	r = check_filters("/proc/self/status", 2 + mode_notify + mode_kill);
	if (r)
		e2e_fail("leader: check %d", r);
	r = e2e_reap(c, 0, 0);
	if (r)
		e2e_fail("child: check %d", r);
	e2e_pass();
}
