/*
 * criu restore: recreate the dumped process from the images directory.
 *
 *   1. read and validate every image (restore-images.c), check the host
 *      (inventory, FPU state: criu/arch/ARCH/restore-regs.c), open every file the task needs (restore-files.c)
 *   2. fork the task with its pid (restore-fork.c)
 *   3. the task restores itself (restore-task.c, then the restorer blob)
 *      and reports over a pipe: "W" warnings, "E" a fatal error, "R<region>" ready
 *   4. on any failure the task is killed and reaped; otherwise the pidfile
 *      is written and criu either returns (-d) or waits for the task and
 *      exits with its status (128 + signal when it was killed)
 *
 * See Documentation/restore.md.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#define LOG_PREFIX "restore: "
#include "arch.h"
#include "commands.h"
#include "kerndat.h"
#include "action.h"
#include "cgroup.h"
#include "kernel-compat.h"
#include "log.h"
#include "net-lock.h"
#include "tcp-repair.h"
#include "manifest.h"
#include "seal.h"
#include "zpages.h"
#include "restore.h"
#include "netns.h"
#include "sched-state.h"
#include "files-reg.h"
#include "proc_parse.h"
#include "tty.h"
#include "image.h"
#include "est-import.h"
#include "est-image.h"
#include "est/stats.pb-c.h"

/*
 * The pid, written into a file of its own and renamed into place: whoever
 * polls for the pidfile (runtimes, scripts) never reads it half-written.
 */
int write_pidfile(const struct cr_options *o, pid_t pid)
{
	char buf[32], tmp[PATH_MAX];
	int dfd, fd, n, ret = -1;

	if (!o->pidfile)
		return 0;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%d.tmp", o->pidfile, getpid()) >= sizeof(tmp)) {
		pr_err("the pidfile name %.64s... is too long", o->pidfile);
		return -1;
	}
	dfd = open(o->work_dir ? o->work_dir : o->images_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		pr_perror("cannot open the work dir for the pidfile");
		return -1;
	}
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	n = snprintf(buf, sizeof(buf), "%d", pid);
	if (fd >= 0 && write(fd, buf, (size_t)n) == n && !close(fd)) {
		fd = -1;
		ret = renameat(dfd, tmp, dfd, o->pidfile);
	}
	if (ret) {
		pr_perror("cannot write the pidfile %s", o->pidfile);
		if (fd >= 0)
			close(fd);
		unlinkat(dfd, tmp, 0);
	}
	close(dfd);
	return ret;
}

/* A live process of the tree that has not reported ends as a zombie: it died. */
static bool died(pid_t pid)
{
	struct proc_stat st;

	/* gone: not created yet (0: not found in the tree's pid namespace yet) */
	return pid > 0 && !proc_read_stat_or_gone(pid, &st) && (st.state == 'Z' || st.state == 'X');
}

/*
 * What criu knows of each process of the tree while it restores: the
 * region to see gone, and a pidfd taken when it reported ready (it is
 * alive then, blocked on the go pipe): -1 not ready, -2 ready without one.
 */
struct tree_status {
	unsigned long long	*region;
	int			*pidfd;
};

/* One line from the tree: "E..." fatal, "W..." warning, "R<pid> <region>" ready. */
static int status_line(struct rst_tree *tr, char *line, struct tree_status *ts)
{
	unsigned long long r = 0;
	unsigned int pid = 0;
	ssize_t k;

	if (line[0] == 'E') {
		pr_err("%s", line + 1);
		return -1;
	}
	if (line[0] == 'W') {
		pr_warn("%s", line + 1);
		return 0;
	}
	if (line[0] != 'R' || sscanf(line + 1, "%u %llx", &pid, &r) != 2 ||
	    (k = rst_tree_find(tr, (pid_t)pid)) < 0 || ts->pidfd[k] != -1) {
		pr_err("unexpected report from the tree: '%.80s'", line);
		return -1;
	}
	ts->pidfd[k] = (int)syscall(__NR_pidfd_open, rst_host_pid(tr, (pid_t)pid), 0);
	if (ts->pidfd[k] < 0)
		ts->pidfd[k] = -2;
	ts->region[k] = r;
	return 1;
}

/*
 * Read the reports of the tree until every live process said "R" (0), or
 * one failed or died (-1). A process that dies without a word is seen as
 * a zombie: its parent, stuck in its own restore, does not reap it.
 */
static int collect_status(struct rst_tree *tr, int fd, struct tree_status *ts)
{
	static char buf[16384];
	size_t have = 0, nr_ready = 0, i;
	char *nl;

	while (nr_ready < tr->nr_live) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		ssize_t n;
		int r = poll(&pfd, 1, 100);

		if (r < 0 && errno != EINTR)
			return -1;
		if (r <= 0) {
			for (i = 0; i < tr->nr; i++)
				if (!tr->ri[i].zombie && ts->pidfd[i] == -1 &&
				    died(rst_host_pid(tr, tr->ri[i].pid))) {
					pr_err("process %d died while being restored", tr->ri[i].pid);
					return -1;
				}
			continue;
		}
		n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0) {
			pr_err("the tree stopped reporting (%zu of %zu processes ready)", nr_ready,
			       tr->nr_live);
			return -1;
		}
		have += (size_t)n;
		buf[have] = '\0';
		while ((nl = strchr(buf, '\n'))) {
			*nl = '\0';
			r = status_line(tr, buf, ts);
			if (r < 0)
				return -1;
			nr_ready += (size_t)r;
			have -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, have + 1);
		}
		if (have == sizeof(buf) - 1) {
			pr_err("the tree sent a line too long");
			return -1;
		}
	}
	return 0;
}

/*
 * The restorer's region is unmapped by the last of the task's own steps,
 * after it reported ready. Wait until it is gone, so that whoever looks at
 * the task once criu has answered sees only the task's memory.
 */
static void wait_region_gone(pid_t pid, unsigned long long region)
{
	char path[32], line[256];
	int i;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	for (i = 0; region && i < 5000; i++) {
		FILE *f = fopen(path, "re");
		bool found = false;

		if (!f)
			return;		/* the task is gone already: its status says the rest */
		while (!found && fgets(line, sizeof(line), f))
			found = strtoull(line, NULL, 16) == region;
		fclose(f);
		if (!found)
			return;
		usleep(1000);
	}
	if (region)
		pr_warn("the restorer region %#llx is still mapped in task %d", region, pid);
}

/*
 * The task's code may hold pointers into the vdso it was started with (glibc
 * resolves its symbols once). Moving this kernel's vdso to the same place is
 * only safe when it is the same vdso: say so when the kernel changed.
 */
static void warn_foreign_vdso(const struct rst_image *ri)
{
	struct utsname u;
	size_t i;

	if (uname(&u) || !strcmp(u.release, ri->inv->kernel_release))
		return;
	for (i = 0; i < ri->mm->n_vmas; i++)
		if (ri->mm->vmas[i]->kind == VMA_KIND__VMA_VDSO) {
			pr_warn("images come from kernel %s, this is %s: the task's cached vdso entry points may not match this kernel's vdso",
				ri->inv->kernel_release, u.release);
			return;
		}
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* stats-restore in the work dir; a failure to write it is only a warning. */
static void write_stats(const struct cr_options *o, const struct rst_tree *tr, uint64_t fork_us,
			uint64_t restore_us)
{
	uint64_t pages = 0;
	size_t i;

	Est__StatsEntry se = EST__STATS_ENTRY__INIT;
	Est__RestoreStatsEntry rs = EST__RESTORE_STATS_ENTRY__INIT;
	int dfd;

	/* the established format's stats-restore: times in us, 32 bits */
	rs.forking_time = fork_us > UINT32_MAX ? UINT32_MAX : fork_us;
	rs.restore_time = restore_us > UINT32_MAX ? UINT32_MAX : restore_us;
	for (i = 0; i < tr->nr; i++)
		pages += tr->ri[i].pages_total;
	rs.has_pages_restored = true;
	rs.pages_restored = pages;
	se.restore = &rs;
	if (o->display_stats)
		pr_msg("restore: forking %llu us, restore %llu us, %llu pages, %zu process(es)\n",
		       (unsigned long long)fork_us, (unsigned long long)restore_us,
		       (unsigned long long)pages, tr->nr);
	dfd = open(o->work_dir ? o->work_dir : o->images_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || est_write_one(dfd, "stats-restore", &se.base))
		pr_warn("could not write stats-restore");
	if (dfd >= 0)
		close(dfd);
}

/*
 * Undo: end of file on the go pipe ends the processes that reported and
 * wait for it; once released, they are killed through the pidfd taken
 * when they reported; the root's SIGKILL ends the rest (each has
 * PDEATHSIG=SIGKILL until it reports). criu is the subreaper of all of
 * them and reaps until none is left.
 */
static int exit_code(int st);

/* SIGKILL every child of criu. */
static void kill_children(void)
{
	char path[64];
	long pid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	f = fopen(path, "re");
	while (f && fscanf(f, "%ld", &pid) == 1)
		kill((pid_t)pid, SIGKILL);
	if (f)
		fclose(f);
}

static void kill_tree(const struct rst_tree *tr, pid_t root, int *go_w,
		      const struct tree_status *ts)
{
	size_t i;

	if (*go_w >= 0) {
		close(*go_w);
		*go_w = -1;
	}
	for (i = 0; i < tr->nr; i++)
		if (ts->pidfd[i] >= 0)
			syscall(__NR_pidfd_send_signal, ts->pidfd[i], SIGKILL, NULL, 0);
	if (root > 0)
		kill(root, SIGKILL);
	/*
	 * criu is the tree's subreaper: whatever is left (a process forked by
	 * the tree since the release, one without a pidfd) comes to it as its
	 * parent dies. Kill every child each round, so none keeps the reaping
	 * waiting.
	 */
	do
		kill_children();
	while (waitpid(-1, NULL, __WALL) > 0 || errno == EINTR);
}

/* 1 once @ri stopped: the root is criu's child (its stop report is taken here). */
static int has_stopped(const struct rst_tree *tr, const struct rst_image *ri, bool root)
{
	struct proc_stat ps;
	int st = 0;

	/* pids as criu sees them: the tree may be in a pid namespace of its own */
	if (root)
		return waitpid(tr->root_host, &st, WUNTRACED | WNOHANG) == tr->root_host &&
		       WIFSTOPPED(st);
	return !proc_read_stat(rst_host_pid(tr, ri->pid), &ps) && ps.state == 'T';
}

/*
 * Every process that is to stay stopped has stopped (bounded): SIGTSTP,
 * SIGTTIN and SIGTTOU do not stop a process of an orphaned process group.
 */
static int wait_stopped(const struct rst_tree *tr, const struct cr_options *o)
{
	size_t i;

	for (i = 0; i < tr->nr; i++) {
		const struct rst_image *ri = &tr->ri[i];
		int tries;

		if (ri->zombie || !(o->leave_stopped || ri->core->state == 3))
			continue;
		for (tries = 0; tries < 5000 && !has_stopped(tr, ri, i == 0); tries++)
			usleep(1000);
		if (tries == 5000) {
			pr_err("task %d did not stop as asked (signal %u; its process group "
			       "orphaned?): it runs", ri->pid,
			       ri->core->has_stop_signo ? ri->core->stop_signo : SIGSTOP);
			return -1;
		}
	}
	return 0;
}

/* Attached: wait for the root (reaping whatever else the subreaper adopts). */
static int wait_root(pid_t root)
{
	int st;
	pid_t p;

	for (;;) {
		p = waitpid(-1, &st, 0);
		if (p == root && (WIFEXITED(st) || WIFSIGNALED(st)))
			break;
		if (p < 0 && errno != EINTR) {
			pr_perror("waitpid %d", root);
			return -1;
		}
	}
	pr_info("task %d finished with status %#x", root, st);
	return exit_code(st);
}

static int exit_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 1;
}

static int check_host(struct rst_tree *tr)
{
	size_t i;

	for (i = 0; i < tr->nr; i++)
		if (!tr->ri[i].zombie && arch_rst_check_fpu(&tr->ri[i]))
			return -1;
	warn_foreign_vdso(&tr->ri[0]);
	return rst_check_sched_host(tr);
}

/* The barrier: one byte per live process, then end of file. */
static int release_tree(const struct rst_tree *tr, int *go_w)
{
	char ones[256];
	size_t left = tr->nr_live;

	memset(ones, 'G', sizeof(ones));
	while (left) {
		ssize_t n = write(*go_w, ones, left < sizeof(ones) ? left : sizeof(ones));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			pr_perror("cannot release the tree");
			return -1;
		}
		left -= (size_t)n;
	}
	close(*go_w);
	*go_w = -1;
	return 0;
}

/* The page files' checksums, taken beside the restore, before the release. */
static int pages_checked(struct manifest_bg **mbg)
{
	int ret = manifest_check_wait(*mbg);

	*mbg = NULL;
	return ret;
}

/*
 * Compressed page files (zpages.h): the dump checked against its manifest as
 * written, then opened into a private directory @tmp, which replaces *dirfd.
 */
static int open_packed(const struct cr_options *o, int *dirfd, char *tmp, struct est_import *imp)
{
	int packed = tmp[0] ? 0 : zpages_dir_packed(*dirfd), fd;

	if (packed <= 0)
		return packed;
	if (o->lazy_pages) {
		pr_err("--lazy-pages with compressed page files: not supported yet");
		return -1;
	}
	if (manifest_check(*dirfd) || zpages_open_dir(*dirfd, tmp, PATH_MAX, &fd))
		return -1;
	close(*dirfd);
	*dirfd = fd;
	imp->zpages = true;
	return 0;
}

/*
 * The images dir, or (images of the established format) the private
 * directory they are converted into, @imp to release after. An fd or -1.
 */
static int open_images(const struct cr_options *o, struct est_import *imp,
		       struct manifest_bg **mbg, char *unsealed)
{
	const char *dir = o->images_dir ? o->images_dir : ".";
	int dirfd, est, fd;

	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		pr_perror("cannot open the images dir %s", dir);
		return -1;
	}
	/* Sealed images: all opened into a private directory first (seal.h) */
	if (unseal_dir(dirfd, o->encrypt_key, unsealed, PATH_MAX, &fd)) {
		close(dirfd);
		return -1;
	}
	if (fd >= 0) {
		close(dirfd);
		dirfd = fd;
	}
	if (open_packed(o, &dirfd, unsealed, imp)) {
		close(dirfd);
		return -1;
	}
	/*
	 * Every file as the dump wrote it, before anything is created; large
	 * page files are checked by a thread until the tree is released (images.md)
	 */
	if (manifest_check_start(dirfd, mbg) < 0) {
		close(dirfd);
		return -1;
	}
	/* Images of the established format: converted to ours in a private directory. */
	est = est_import_detect(dirfd);
	if (est < 0 || (est && est_import(dirfd, imp))) {
		close(dirfd);
		return -1;
	}
	if (!est)
		return dirfd;
	close(dirfd);
	fd = dup(imp->dirfd);
	if (fd < 0) {
		pr_perror("dup");
		est_import_release(imp);
	}
	return fd;
}

/*
 * Read and check the tree, then what is made once before the first fork
 * and inherited: shared memory objects, deleted files (ghosts), criu as the
 * subreaper of a failed restore's orphans, and the status table @ts.
 */
static int stage_tree(int dirfd, const struct cr_options *o, struct rst_tree *tr,
		      struct tree_status *ts)
{
	size_t i;

	if (rst_tree_read(dirfd, o, tr) || rst_pidns_check(tr, o) || rst_mntns_read(dirfd, o) ||
	    rst_netns_read(dirfd, o) || rst_utsipc_read(dirfd, tr) || check_host(tr) ||
	    rst_pty_check_sessions(&tr->ri[0].fdr, tr->ps, tr->nr, o->shell_job))
		return -1;
	if (rst_cgroup_prepare(o, tr) || rst_shmem_create(&tr->shm) || rst_ghosts_create(&tr->ri[0].fdr) ||
	    rst_pidfds_create(&tr->ri[0].fdr))
		return -1;
	ts->region = calloc(tr->nr, sizeof(*ts->region));
	ts->pidfd = malloc(tr->nr * sizeof(*ts->pidfd));
	if (!ts->region || !ts->pidfd)
		return -1;
	for (i = 0; i < tr->nr; i++)
		ts->pidfd[i] = -1;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) {
		pr_perror("PR_SET_CHILD_SUBREAPER");
		return -1;
	}
	return 0;
}

/*
 * Fork the root with its pid: it restores the tree below it, reports on
 * @pfd and waits on @gfd (their child ends are closed here). Its pid or -1.
 */
static pid_t fork_root(struct rst_tree *tr, const struct cr_options *o, int pfd[2], int gfd[2])
{
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) || pipe2(gfd, O_CLOEXEC)) {
		pr_perror("pipe");
		return -1;
	}
	fflush(NULL);
	/* the tree's network namespace, made before any of its sockets */
	if (rst_netns_enter(o))
		return -1;
	pid = rst_fork_root(tr, o);
	if (pid > 0 && rst_netns_leave()) {
		kill(pid, SIGKILL);
		return -1;
	}
	if (pid < 0) {
		rst_netns_leave();
		return -1;
	}
	tr->root_host = pid;
	if (pid == 0) {
		close(pfd[0]);
		close(gfd[1]);
		rst_task_main(tr, 0, o, pfd[1], gfd[0]);
	}
	close(pfd[1]);
	close(gfd[0]);
	pfd[1] = gfd[0] = -1;
	return pid;
}

/*
 * Every connection out of repair mode (each process opened its fds before
 * it reported ready), the tree about to be released: the lock a dump kept
 * for the tree goes now, not after the release and criu's cleanup, and the
 * connections send what the lock held (inet_rst_push()) while no process
 * of the tree runs yet. None (a dump with --network-lock skip or without
 * connections, a reboot since) is no error; with skip the caller's
 * network-unlock stage runs instead.
 */
static int unlock_kept(const struct cr_options *o, const struct rst_tree *tr,
		       const struct tree_status *ts, pid_t root)
{
	char name[NET_LOCK_NAME_MAX];
	enum net_lock_method m;

	if (net_lock_method(o->network_lock, &m))
		return -1;
	if (m == NET_LOCK_SKIP) {
		if (!o->tcp_established)
			return 0;
		if (run_action(o, ACT_NET_UNLOCK, root))
			return -1;
		inet_rst_push(tr, ts->pidfd);
		return 0;
	}
	snprintf(name, sizeof(name), NET_LOCK_KEPT_PREFIX "%d", (int)root);
	if (net_lock_table_exists(name) != 1)
		return 0;	/* -1 (logged): nf_tables unusable, so no lock to remove */
	if (net_unlock_kept(root))
		return -1;
	inet_rst_push(tr, ts->pidfd);
	pr_info("the connections of %d are unlocked", (int)root);
	return run_action(o, ACT_NET_UNLOCK, root);
}

/*
 * Released: every task past its restorer (a task left stopped stops before
 * that last step), the pidfile, the stats, the stopped ones stopped.
 */
static int after_release(const struct rst_tree *tr, const struct cr_options *o, pid_t pid,
			 const struct tree_status *ts, uint64_t fork_us, uint64_t t_fork,
			 pid_t *root)
{
	size_t i;

	pr_info("all %zu processes ready, released", tr->nr_live);
	rst_link_remaps_remove(&tr->ri[0].fdr);	/* every object is open: not needed now */
	for (i = 0; i < tr->nr; i++)
		if (!tr->ri[i].zombie && !o->leave_stopped && tr->ri[i].core->state != 3 &&
		    !(i == 0 && rst_root_pdeath_deferred(tr, o)))
			wait_region_gone(rst_host_pid(tr, tr->ri[i].pid), ts->region[i]);
	if (write_pidfile(o, pid))
		return -1;
	pr_info("tree of %d restored (%zu processes)", pid, tr->nr);
	if (root)
		*root = pid;
	if (run_action(o, ACT_POST_RESUME, pid))
		return -1;
	write_stats(o, tr, fork_us, now_us() - t_fork);
	return wait_stopped(tr, o);
}

int cmd_restore(struct cr_options *o)
{
	return restore_run(o, NULL);
}

int restore_run(struct cr_options *o, pid_t *root)
{
	struct rst_tree tr;
	int dirfd, pfd[2] = { -1, -1 }, gfd[2] = { -1, -1 }, ret = -1;
	uint64_t t0 = 0, t_fork = 0;
	struct tree_status ts = { NULL, NULL };
	struct est_import imp = { .dirfd = -1, .no_build_id = !opts_build_id(o) };
	struct manifest_bg *mbg = NULL;
	char unsealed[PATH_MAX];	/* the opened sealed or compressed images, "" */
	pid_t pid = -1;
	size_t i;

	memset(&tr, 0, sizeof(tr));
	if (run_action(o, ACT_PRE_RESTORE, 0))
		return -1;
	unsealed[0] = 0;
	dirfd = open_images(o, &imp, &mbg, unsealed);
	if (dirfd < 0) {
		pages_checked(&mbg);
		seal_dir_remove(unsealed);
		return -1;
	}
	if (stage_tree(dirfd, o, &tr, &ts))
		goto out;
	t0 = now_us();
	pid = fork_root(&tr, o, pfd, gfd);
	if (pid < 0)
		goto out;
	t_fork = now_us();
	rst_tree_drop_pages(&tr);	/* the processes have them: room for the pidfds */
	/* The root holds its own descriptors now: criu must not keep the objects alive. */
	rst_shmem_free(&tr.shm);
	rst_ghosts_close();
	rst_pidfds_close();
	if (collect_status(&tr, pfd[0], &ts) || pages_checked(&mbg) ||
	    run_action(o, ACT_POST_RESTORE, pid) || run_action(o, ACT_PRE_RESUME, pid) ||
	    unlock_kept(o, &tr, &ts, pid) || release_tree(&tr, &gfd[1])) {
		pr_err("restoring the tree of %d failed; every process of it is killed", pid);
		kill_tree(&tr, pid, &gfd[1], &ts);
		goto out;
	}
	seal_dir_remove(unsealed);	/* every process has its memory: no plaintext stays */
	unsealed[0] = 0;
	if (after_release(&tr, o, pid, &ts, t_fork - t0, t_fork, root)) {
		kill_tree(&tr, pid, &gfd[1], &ts);
		goto out;
	}
	ret = 0;
	if (!o->restore_detached)
		ret = wait_root(pid);
out:
	for (i = 0; i < 2; i++) {
		if (pfd[i] >= 0)
			close(pfd[i]);
		if (gfd[i] >= 0)
			close(gfd[i]);
	}
	for (i = 0; ts.pidfd && i < tr.nr; i++)
		if (ts.pidfd[i] >= 0)
			close(ts.pidfd[i]);
	free(ts.region);
	free(ts.pidfd);
	rst_ghosts_close();
	if (ret < 0)
		rst_cgroup_undo();	/* after the kill: the groups it made are empty */
	rst_cgroup_release();
	rst_pidfds_close();
	rst_tree_free(&tr);
	manifest_check_wait(mbg);	/* a failure before the wait: only joined */
	rst_netns_release();
	rst_mntns_free();
	close(dirfd);
	est_import_release(&imp);	/* nothing when the images were ours */
	seal_dir_remove(unsealed);
	return ret;	/* > 0: the root's own exit status, which becomes criu's */
}
