/*
 * criu restore: recreate the dumped process from the images directory.
 *
 *   1. read and validate every image (restore-images.c), check the host
 *      (inventory, xsave), open every file the task needs (restore-files.c)
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
#include <sys/wait.h>
#include <ucontext.h>

#define LOG_PREFIX "restore: "
#include "commands.h"
#include "kerndat.h"
#include "log.h"
#include "restore.h"
#include "image.h"
#include "stats.pb-c.h"

static volatile uint32_t probe_magic, probe_size;
static volatile uint64_t probe_features;

static void probe_handler(int sig, siginfo_t *si, void *ctx)
{
	const ucontext_t *uc = ctx;
	const uint8_t *fp = (const uint8_t *)uc->uc_mcontext.fpregs;
	uint32_t m, sz;
	uint64_t f;

	(void)sig;
	(void)si;
	if (!fp)
		return;
	memcpy(&m, fp + 464, 4);
	memcpy(&f, fp + 464 + 8, 8);
	memcpy(&sz, fp + 464 + 16, 4);
	probe_magic = m;
	probe_features = f;
	probe_size = sz;
}

/*
 * The xsave size and features the kernel uses in our signal frames: what
 * rt_sigreturn accepts back. It can be smaller than the CPU's full area
 * (AMX tile data is only included once a task asked for permission).
 */
static int probe_sigframe_xstate(struct rst_image *ri)
{
	struct sigaction sa, old;
	sigset_t m, oldm;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = probe_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	if (sigaction(SIGUSR2, &sa, &old) || sigprocmask(SIG_UNBLOCK, &m, &oldm)) {
		pr_perror("sigaction for the xsave probe");
		return -1;
	}
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2);
	sigprocmask(SIG_SETMASK, &oldm, NULL);
	sigaction(SIGUSR2, &old, NULL);
	if (probe_magic != 0x46505853u || probe_size < 576 || probe_size > ri->thread->xsave.len) {
		pr_err("cannot learn the kernel's signal frame xsave layout (magic %#x, size %u)",
		       probe_magic, probe_size);
		return -1;
	}
	ri->sig_xstate_size = probe_size;
	ri->sig_xfeatures = probe_features;
	pr_info("signal frame xsave: %u bytes, features %#llx", probe_size,
		(unsigned long long)probe_features);
	return 0;
}

/* One thread's xsave image: this CPU's size, enabled components, standard header. */
static int check_xsave_one(const struct rst_image *ri, const ThreadCoreEntry *t, uint64_t *bv_all)
{
	const uint8_t *x = t->xsave.data;
	uint64_t bv, comp;
	uint32_t mxcsr;
	size_t i;

	if (t->xsave.len != kdat.xsave_size) {
		pr_err("core-%d.img: thread %u: xsave area is %zu bytes, this CPU's is %u: extended state layouts differ",
		       ri->pid, t->tid, t->xsave.len, kdat.xsave_size);
		return -1;
	}
	memcpy(&mxcsr, x + 24, 4);
	memcpy(&bv, x + 512, 8);
	memcpy(&comp, x + 520, 8);
	if (mxcsr & 0xffff0000u) {
		pr_err("core-%d.img: thread %u: xsave: reserved MXCSR bits set (%#x)", ri->pid, t->tid,
		       mxcsr);
		return -1;
	}
	if (bv & ~kdat.xfeatures) {
		pr_err("core-%d.img: thread %u: xsave: state components %#llx are not enabled on this CPU (%#llx)",
		       ri->pid, t->tid, (unsigned long long)bv, (unsigned long long)kdat.xfeatures);
		return -1;
	}
	for (i = 528; i < 576; i++)
		if (x[i])
			comp = 1;
	if (comp) {
		pr_err("core-%d.img: thread %u: xsave header is compacted or has reserved bytes set",
		       ri->pid, t->tid);
		return -1;
	}
	*bv_all |= bv;
	return 0;
}

static int check_xsave(struct rst_image *ri)
{
	uint64_t bv = 0;
	size_t i;

	kerndat_probe(KD_XSAVE);
	if (!kdat.has_xsave) {
		pr_err("this CPU has no xsave: cannot restore the extended register state");
		return -1;
	}
	for (i = 0; i < ri->nr_threads; i++)
		if (check_xsave_one(ri, ri->threads[i], &bv))
			return -1;
	/* AMX tile data is there only if the task had asked for it: ask too. */
	if ((bv & (1ULL << 18)) && syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18)) {
		pr_perror("the task used AMX tile data; permission for it");
		return -1;
	}
	if (probe_sigframe_xstate(ri))
		return -1;
	if (bv & ~ri->sig_xfeatures) {
		pr_err("core-%d.img: xsave: state components %#llx cannot go through a signal frame (%#llx)",
		       ri->pid, (unsigned long long)bv, (unsigned long long)ri->sig_xfeatures);
		return -1;
	}
	return 0;
}

static int write_pidfile(const struct cr_options *o, pid_t pid)
{
	char buf[32];
	int dfd, fd, n;

	if (!o->pidfile)
		return 0;
	dfd = open(o->work_dir ? o->work_dir : o->images_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		pr_perror("cannot open the work dir for the pidfile");
		return -1;
	}
	fd = openat(dfd, o->pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	close(dfd);
	n = snprintf(buf, sizeof(buf), "%d", pid);
	if (fd < 0 || write(fd, buf, (size_t)n) != n) {
		pr_perror("cannot write the pidfile %s", o->pidfile);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return close(fd);
}

/* Read the task's reports until it closes the pipe. 1: ready, 0: not. */
static int collect_status(int fd, unsigned long long *region)
{
	char buf[16384], *line, *nl;
	size_t have = 0;
	int ready = 0, failed = 0;
	ssize_t n;

	for (;;) {
		n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		if (have == sizeof(buf) - 1) {
			pr_err("the task sent too many messages");
			return 0;
		}
	}
	buf[have] = '\0';
	for (line = buf; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			nl = line + strlen(line) - 1;	/* an unterminated last line */
		else
			*nl = '\0';
		if (line[0] == 'E') {
			pr_err("%s", line + 1);
			failed = 1;
		} else if (line[0] == 'W') {
			pr_warn("%s", line + 1);
		} else if (line[0] == 'R') {
			ready = 1;
			*region = strtoull(line + 1, NULL, 16);
		}
	}
	return ready && !failed;
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

/* stats-restore.img in the work dir; a failure to write it is only a warning. */
static void write_stats(const struct cr_options *o, const struct rst_image *ri, uint64_t fork_us,
			uint64_t restore_us)
{
	StatsEntry se = STATS_ENTRY__INIT;
	RestoreStatsEntry rs = RESTORE_STATS_ENTRY__INIT;
	struct cr_img *img;
	int dfd;

	rs.forking_time = fork_us;
	rs.restore_time = restore_us;
	rs.pages_restored = ri->pages_total;
	rs.has_tasks = true;
	rs.tasks = 1;
	se.restore = &rs;
	if (o->display_stats)
		pr_msg("restore: forking %llu us, restore %llu us, %llu pages, %zu thread(s)\n",
		       (unsigned long long)fork_us, (unsigned long long)restore_us,
		       (unsigned long long)ri->pages_total, ri->nr_threads);
	dfd = open(o->work_dir ? o->work_dir : o->images_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	img = dfd >= 0 ? img_create(dfd, IMG_STATS_RESTORE, 0) : NULL;
	if (!img || img_write_entry(img, &se.base) || img_commit(img))
		pr_warn("could not write stats-restore.img");
	if (dfd >= 0)
		close(dfd);
}

static void kill_task(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static int exit_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 1;
}

int cmd_restore(struct cr_options *o)
{
	struct rst_image ri;
	struct rst_files files;
	struct rst_shmems shm;
	int dirfd, pfd[2] = { -1, -1 }, ret = -1, st;
	uint64_t t0 = 0, t_fork = 0;
	unsigned long long region = 0;
	pid_t pid = -1;

	memset(&files, 0, sizeof(files));
	memset(&shm, 0, sizeof(shm));
	dirfd = open(o->images_dir ? o->images_dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		pr_perror("cannot open the images dir %s", o->images_dir ? o->images_dir : ".");
		return -1;
	}
	if (rst_shmem_read(dirfd, &shm) || rst_images_read(dirfd, &ri) ||
	    rst_shmem_check_mm(&shm, ri.mm, ri.pid) || check_xsave(&ri) ||
	    rst_files_open(&ri, o, &files))
		goto out;
	/* Shared memory objects: created once, before the fork, and inherited. */
	if (rst_shmem_create(&shm) || rst_shmem_vma_fds(&shm, ri.mm, files.vma_fd))
		goto out;
	warn_foreign_vdso(&ri);
	if (pipe2(pfd, O_CLOEXEC)) {
		pr_perror("pipe");
		goto out;
	}
	fflush(NULL);
	t0 = now_us();
	pid = rst_fork_pid(ri.pid);
	if (pid < 0)
		goto out;
	t_fork = now_us();
	if (pid == 0) {
		close(pfd[0]);
		rst_task_main(&ri, &files, o, pfd[1]);
	}
	close(pfd[1]);
	pfd[1] = -1;
	/* The task holds its own descriptors now: criu must not keep the objects alive. */
	rst_shmem_free(&shm);
	if (!collect_status(pfd[0], &region)) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			pr_err("task %d died while being restored (status %#x)", pid, st);
		else
			pr_err("restoring task %d failed", pid);
		kill_task(pid);
		goto out;
	}
	/* A task left stopped stops before that last step. */
	if (!o->leave_stopped && ri.core->state != 3)
		wait_region_gone(pid, region);
	if (write_pidfile(o, pid)) {
		kill_task(pid);
		goto out;
	}
	pr_info("task %d restored", pid);
	write_stats(o, &ri, t_fork - t0, now_us() - t_fork);
	if (o->leave_stopped || ri.core->state == 3) {
		if (waitpid(pid, &st, WUNTRACED) != pid || !WIFSTOPPED(st)) {
			pr_err("task %d did not stop as asked (status %#x)", pid, st);
			if (!WIFEXITED(st) && !WIFSIGNALED(st))
				kill_task(pid);
			goto out;
		}
	}
	ret = 0;
	if (o->restore_detached)
		goto out;

	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			pr_perror("waitpid %d", pid);
			ret = -1;
			goto out;
		}
	}
	pr_info("task %d finished with status %#x", pid, st);
	ret = exit_code(st);
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	rst_files_close(&ri, &files);
	rst_images_free(&ri);
	rst_shmem_free(&shm);
	close(dirfd);
	if (ret > 0) {
		/* the task's own exit status becomes criu's */
		log_fini();
		exit(ret);
	}
	return ret;
}
