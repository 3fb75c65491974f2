/*
 * criu dump: checkpoint one process (all its threads) into the images dir.
 *
 * Phases (Documentation/dump.md has the full story and the fault points):
 *   seize -> check what we cannot carry yet -> collect through ptrace and
 *   /proc -> infect -> collect through the parasite -> pages -> cure ->
 *   write images -> inventory.img (last) -> kill / leave running / stopped.
 * Any failure before the inventory is written cures and detaches the task,
 * which goes on exactly as before, and removes the images of this run.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <compel/compel.h>

#define LOG_PREFIX "dump: "
#include "log.h"
#include "commands.h"
#include "dump.h"
#include "files.h"
#include "image.h"
#include "inventory.h"
#include "kerndat.h"
#include "pstree.pb-c.h"
#include "stats.pb-c.h"
#include "parasite-proto.h"
#include "parasite-blob.h"

/* Argument area: the largest command layout, rounded up. */
#define PARASITE_ARGS_SIZE	(sizeof(struct parasite_pages) > sizeof(struct parasite_timers) ? \
				 sizeof(struct parasite_pages) : sizeof(struct parasite_timers))

int dump_fault(const char *point)
{
	const char *f = getenv("CRIU_FAULT");

	if (!f || strcmp(f, point))
		return 0;
	pr_err("fault injected at %s", point);
	return -1;
}

uint64_t dump_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void dump_phase(struct dump_stats *s, const char *name)
{
	uint64_t now = dump_now_us();

	if (s->nr_phases < DUMP_MAX_PHASES) {
		s->phase[s->nr_phases].name = name;
		s->phase[s->nr_phases].us = now - s->mark;
		s->nr_phases++;
	}
	pr_info("phase %s: %lu us", name, (unsigned long)(now - s->mark));
	s->mark = now;
}

static void compel_log(enum compel_log_level lvl, const char *file, int line, const char *msg)
{
	static const unsigned int map[] = {
		[COMPEL_LOG_ERROR] = LOG_ERROR, [COMPEL_LOG_WARN] = LOG_WARN,
		[COMPEL_LOG_INFO] = LOG_INFO, [COMPEL_LOG_DEBUG] = LOG_DEBUG,
	};
	unsigned int l = (unsigned int)lvl < 4 ? map[lvl] : LOG_DEBUG;

	print_on_level(l, file, line, 0, "compel: %s", msg);
}

/* Images this run wrote, removed again if the dump fails. */
enum {
	W_PAGES = 1 << 0, W_CORE = 1 << 1, W_MM = 1 << 2, W_FILES = 1 << 3,
	W_PSTREE = 1 << 4, W_STATS = 1 << 5, W_SHMEM = 1 << 6,
};

static void remove_images(struct dump_task *t, unsigned int wrote)
{
	static const struct { unsigned int bit; enum img_kind kind; bool per_pid; } list[] = {
		{ W_PAGES, IMG_PAGEMAP, true }, { W_PAGES, IMG_PAGES, true },
		{ W_CORE, IMG_CORE, true }, { W_MM, IMG_MM, true },
		{ W_FILES, IMG_FDS, true }, { W_FILES, IMG_REG_FILES, false },
		{ W_PSTREE, IMG_PSTREE, false }, { W_STATS, IMG_STATS_DUMP, false },
	};
	char name[64];
	size_t i;

	for (i = 0; i < sizeof(list) / sizeof(list[0]); i++) {
		if (!(wrote & list[i].bit))
			continue;
		snprintf(name, sizeof(name), img_desc(list[i].kind)->fmt,
			 list[i].per_pid ? (unsigned int)t->pid : 0u);
		if (unlinkat(t->dirfd, name, 0) && errno != ENOENT)
			pr_pwarn("can't remove %s", name);
	}
	if (wrote & W_SHMEM)
		dump_shmem_remove(t->shm, t->dirfd);
	if (wrote & W_FILES)
		fd_kinds_remove(t->dirfd);
}

/* Refuse, before anything else happens, what the images cannot hold yet. */
static int check_task(struct dump_task *t)
{
	static const char *ns[] = { "pid", "mnt", "net", "ipc", "uts", "user", "cgroup", "time" };
	struct proc_pids kids;
	size_t i;

	if (proc_read_status(t->pid, &t->st) || proc_read_stat(t->pid, &t->stat))
		return -1;
	if (t->st.state == 'Z' || t->st.state == 'X') {
		pr_err("%d is a zombie: dumping zombies is not supported yet", t->pid);
		return -1;
	}
	if (t->st.tgid != t->pid) {
		pr_err("%d is a thread of %d, not a process", t->pid, t->st.tgid);
		return -1;
	}
	if (proc_read_children(t->pid, t->pid, &kids))
		return -1;
	if (kids.nr) {
		pr_err("children: %d has %zu (first %d); process trees are not supported yet",
		       t->pid, kids.nr, kids.pid[0]);
		proc_pids_free(&kids);
		return -1;
	}
	proc_pids_free(&kids);
	if (t->st.seccomp) {
		pr_err("seccomp (mode %u) is not supported yet", t->st.seccomp);
		return -1;
	}
	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		char a[64], b[64];
		struct stat sa, sb;

		snprintf(a, sizeof(a), "/proc/%d/ns/%s", t->pid, ns[i]);
		snprintf(b, sizeof(b), "/proc/self/ns/%s", ns[i]);
		if (stat(a, &sa) || stat(b, &sb))
			continue;	/* namespace kind not built into this kernel */
		if (sa.st_ino != sb.st_ino || sa.st_dev != sb.st_dev) {
			pr_err("%s namespace: %d is in another one than criu; "
			       "namespaces are not supported yet", ns[i], t->pid);
			return -1;
		}
	}
	if (!t->o->shell_job) {
		if (t->stat.session != t->pid) {
			pr_err("%d is in session %d it does not lead: a shell job, "
			       "needs --shell-job", t->pid, t->stat.session);
			return -1;
		}
		if (t->stat.tty_nr) {
			pr_err("%d has a controlling terminal: a shell job, needs --shell-job",
			       t->pid);
			return -1;
		}
	}
	/* A shell job's group and session are criu's on restore. */
	if (!t->o->shell_job && t->stat.pgrp != t->pid) {
		pr_err("process group %d led by another process is not supported yet",
		       t->stat.pgrp);
		return -1;
	}
	return 0;
}

static int write_core(struct dump_task *t)
{
	struct cr_img *img = img_create(t->dirfd, IMG_CORE, t->pid);

	if (!img)
		return -1;
	if (img_write_entry(img, &t->core.base) || dump_write_threads(t, img)) {
		img_abort(img);
		return -1;
	}
	return img_commit(img);
}

static int write_one(struct dump_task *t, enum img_kind kind, unsigned int id,
		     const ProtobufCMessage *m)
{
	struct cr_img *img = img_create(t->dirfd, kind, id);

	if (!img)
		return -1;
	if (img_write_entry(img, m)) {
		img_abort(img);
		return -1;
	}
	return img_commit(img);
}

static int write_pstree(struct dump_task *t)
{
	PstreeEntry e = PSTREE_ENTRY__INIT;
	uint32_t *tids = malloc(t->nr_tids * sizeof(*tids));
	int i, ret;

	if (!tids)
		return -1;
	for (i = 0; i < t->nr_tids; i++)
		tids[i] = t->tids[i];
	e.pid = t->pid;
	e.ppid = 0;
	e.pgid = t->stat.pgrp;
	e.sid = t->stat.session;
	e.n_threads = t->nr_tids;
	e.threads = tids;
	ret = write_one(t, IMG_PSTREE, 0, &e.base);
	free(tids);
	return ret;
}

static void fill_stats(const struct dump_task *t, DumpStatsEntry *d)
{
	d->freezing_time = t->stats.freezing_us;
	d->frozen_time = t->stats.frozen_us;
	d->memdump_time = t->stats.memdump_us;
	d->memwrite_time = t->stats.memwrite_us;
	d->pages_scanned = t->stats.pages_scanned;
	d->pages_skipped = t->stats.pages_skipped;
	d->pages_written = t->stats.pages_written;
	d->has_tasks = d->has_threads = true;
	d->tasks = 1;
	d->threads = t->nr_tids;
}

static int write_stats(struct dump_task *t)
{
	DumpStatsEntry d = DUMP_STATS_ENTRY__INIT;
	StatsEntry s = STATS_ENTRY__INIT;

	fill_stats(t, &d);
	s.dump = &d;
	return write_one(t, IMG_STATS_DUMP, 0, &s.base);
}

static int write_inventory(struct dump_task *t)
{
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	struct timespec ts;
	int ret;

	if (inventory_fill(&inv))
		return -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	inv.has_root_pid = true;
	inv.root_pid = t->pid;
	inv.has_shell_job = true;
	inv.shell_job = t->o->shell_job;
	inv.has_dump_time_ns = true;
	inv.dump_time_ns = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	ret = write_one(t, IMG_INVENTORY, 0, &inv.base);
	inventory_release(&inv);
	return ret;
}

/* /proc/PID/stat says the task is gone or a zombie (or the pid was reused). */
static bool task_gone(pid_t pid, uint64_t start_time)
{
	struct proc_stat st;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (access(path, F_OK))
		return true;
	if (proc_read_stat(pid, &st))
		return access(path, F_OK) != 0;
	return st.state == 'Z' || st.state == 'X' || st.start_time != start_time;
}

/* The dump is complete: kill the task and wait until it is gone. */
static int kill_task(struct dump_task *t)
{
	unsigned int timeout = t->o->timeout ? t->o->timeout : DEFAULT_TIMEOUT;
	uint64_t until = dump_now_us() + timeout * 1000000ull;
	int status, i;

	if (kill(t->pid, SIGKILL)) {
		pr_perror("can't kill %d", t->pid);
		return -1;
	}
	/*
	 * We are the tracer of every thread: collect each exit, the other
	 * threads' first (the leader's is held back until they are gone), so
	 * that its parent can reap it.
	 */
	for (i = t->nr_tids - 1; i >= 0; i--)
		while (waitpid(t->tids[i], &status, __WALL) == t->tids[i] &&
		       !WIFEXITED(status) && !WIFSIGNALED(status))
			;
	while (!task_gone(t->pid, t->stat.start_time)) {
		if (dump_now_us() > until) {
			pr_err("%d did not die within %u s of SIGKILL", t->pid, timeout);
			return -1;
		}
		usleep(1000);
	}
	return 0;
}

static void print_stats(const struct dump_task *t)
{
	unsigned int i;

	pr_msg("Dump statistics\n");
	pr_msg("  freezing time   %lu us\n", (unsigned long)t->stats.freezing_us);
	pr_msg("  frozen time     %lu us\n", (unsigned long)t->stats.frozen_us);
	pr_msg("  memdump time    %lu us\n", (unsigned long)t->stats.memdump_us);
	pr_msg("  memwrite time   %lu us\n", (unsigned long)t->stats.memwrite_us);
	pr_msg("  pages scanned   %lu\n", (unsigned long)t->stats.pages_scanned);
	pr_msg("  pages skipped   %lu\n", (unsigned long)t->stats.pages_skipped);
	pr_msg("  pages written   %lu\n", (unsigned long)t->stats.pages_written);
	for (i = 0; i < t->stats.nr_phases; i++)
		pr_msg("  phase %-9s %lu us\n", t->stats.phase[i].name,
		       (unsigned long)t->stats.phase[i].us);
}

static void dump_task_free(struct dump_task *t)
{
	dump_core_free(t);
	dump_mm_free(t);
	dump_files_free(&t->files);
	proc_status_free(&t->st);
	free(t->tids);
}

int cmd_dump(struct cr_options *o)
{
	struct dump_task t;
	struct dump_shmems shm = { 0 };
	uint64_t t_start, t_frozen = 0;
	unsigned int wrote = 0;
	bool seized = false, complete = false;
	int ret = -1;

	memset(&t, 0, sizeof(t));
	task_core_entry__init(&t.core);
	mm_entry__init(&t.mm);
	t.o = o;
	t.shm = &shm;
	t.pid = o->tree_pid;
	t.dirfd = -1;
	if (t.pid <= 0) {
		pr_err("dump needs the pid of the process (-t PID)");
		return -1;
	}
	if (o->leave_running && o->leave_stopped) {
		pr_err("--leave-running and --leave-stopped exclude each other");
		return -1;
	}
	t.dirfd = open(o->images_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t.dirfd < 0) {
		pr_perror("can't open the images dir %s", o->images_dir);
		return -1;
	}
	kerndat_probe(KD_PAGEMAP_SCAN);
	compel_log_init(compel_log, log_get_level() >= LOG_DEBUG ? COMPEL_LOG_DEBUG :
			log_get_level() >= LOG_INFO ? COMPEL_LOG_INFO : COMPEL_LOG_WARN);

	pr_info("seizing %d", t.pid);
	t_start = dump_now_us();
	t.stats.mark = t_start;
	if (compel_seize_task(t.pid, 0, &t.tids, &t.nr_tids)) {
		int err = errno;

		if (err == EBUSY || (!proc_read_stat(t.pid, &t.stat) && t.stat.state == 'T'))
			pr_err("%d is stopped (group stop): dumping stopped tasks is not supported yet",
			       t.pid);
		else if (err == EAGAIN)
			pr_err("%d is a vfork parent waiting for its child: not supported yet",
			       t.pid);
		else
			pr_err("can't seize %d", t.pid);
		goto out;
	}
	seized = true;
	t_frozen = dump_now_us();
	t.stats.freezing_us = t_frozen - t_start;
	dump_phase(&t.stats, "seize");
	if (dump_fault("after-seize") || check_task(&t) || dump_check_threads(&t))
		goto fail;
	dump_phase(&t.stats, "check");

	if (dump_collect_threads_ptrace(&t) ||
	    dump_collect_core_ptrace(&t) || dump_collect_core_proc(&t) ||
	    dump_collect_vmas(&t) || dump_collect_fds(&t) || dump_collect_fs(&t))
		goto fail;
	/* with several tasks: after the last one's fds */
	if (fd_kinds_resolve(&t.files, o))
		goto fail;
	dump_phase(&t.stats, "collect");
	if (dump_fault("after-collect"))
		goto fail;

	t.ctl = compel_prepare(t.pid);
	if (!t.ctl) {
		pr_err("can't prepare %d for infection", t.pid);
		goto fail;
	}
	if (compel_infect(t.ctl, &parasite_blob, PARASITE_ARGS_SIZE)) {
		pr_err("can't infect %d", t.pid);
		goto fail;
	}
	dump_phase(&t.stats, "infect");
	if (dump_fault("after-infect") || dump_collect_core_parasite(&t) ||
	    dump_collect_threads_parasite(&t) || dump_fault("after-parasite"))
		goto fail;
	dump_phase(&t.stats, "parasite");
	/*
	 * The first image is about to be written: an inventory left by an
	 * earlier dump here would vouch for a mixed set. (A dump that fails
	 * before this point leaves an earlier one intact.)
	 */
	if (unlinkat(t.dirfd, img_desc(IMG_INVENTORY)->fmt, 0) && errno != ENOENT) {
		pr_perror("can't remove the old inventory.img");
		goto fail;
	}
	if (dump_pages(&t))
		goto fail;
	wrote |= W_PAGES;
	/* still frozen: nobody writes to the objects while they are read */
	wrote |= W_SHMEM;
	if (dump_shmem_write(&shm, t.dirfd))
		goto fail;
	dump_phase(&t.stats, "pages");
	if (dump_fault("before-cure"))
		goto fail;
	if (compel_cure(t.ctl)) {
		pr_err("can't cure %d", t.pid);
		goto fail;
	}
	compel_release(t.ctl);
	t.ctl = NULL;
	dump_phase(&t.stats, "cure");
	if (dump_fault("after-cure"))
		goto fail;
	/*
	 * Everything is collected. A task that is to run on anyway may do so
	 * while the images are written: a failure from here on leaves it
	 * running, as it must. A task to be killed or left stopped stays
	 * frozen until the inventory is in place.
	 */
	if (o->leave_running) {
		if (compel_detach_task(t.tids, t.nr_tids)) {
			pr_err("can't detach from %d", t.pid);
			goto fail;
		}
		seized = false;
		t.stats.frozen_us = dump_now_us() - t_frozen;
		dump_phase(&t.stats, "detach");
	}

	if (write_core(&t))
		goto fail;
	wrote |= W_CORE;
	if (write_one(&t, IMG_MM, t.pid, &t.mm.base))
		goto fail;
	wrote |= W_MM;
	if (dump_write_files(&t))
		goto fail;
	wrote |= W_FILES;
	if (write_pstree(&t))
		goto fail;
	wrote |= W_PSTREE;
	dump_phase(&t.stats, "write");
	if (seized)
		t.stats.frozen_us = dump_now_us() - t_frozen;
	if (write_stats(&t))
		goto fail;
	wrote |= W_STATS;
	if (dump_fault("before-inventory") || write_inventory(&t))
		goto fail;
	complete = true;
	dump_phase(&t.stats, "inventory");
	pr_info("dump of %d complete", t.pid);

	if (o->leave_stopped) {
		if (kill(t.pid, SIGSTOP)) {
			pr_perror("can't stop %d", t.pid);
			goto done;
		}
		if (compel_detach_task(t.tids, t.nr_tids)) {
			pr_err("can't detach from %d", t.pid);
			goto done;
		}
	} else if (!o->leave_running && kill_task(&t)) {
		goto done;
	}
	ret = 0;
	if (!o->leave_running)
		dump_phase(&t.stats, o->leave_stopped ? "stop" : "kill");
done:
	if (seized)
		t.stats.frozen_us = dump_now_us() - t_frozen;
	if (o->display_stats)
		print_stats(&t);
	goto out;
fail:
	if (t.ctl) {
		if (compel_cure(t.ctl))
			pr_err("can't cure %d: it may not survive", t.pid);
		compel_release(t.ctl);
		t.ctl = NULL;
	}
	if (seized && compel_detach_task(t.tids, t.nr_tids))
		pr_err("can't detach from %d", t.pid);
	if (!complete)
		remove_images(&t, wrote);
	pr_err("dump of %d failed; it was left running", t.pid);
out:
	dump_task_free(&t);
	dump_shmem_free(&shm);
	if (t.dirfd >= 0)
		close(t.dirfd);
	return ret;
}
