/*
 * criu dump: checkpoint a process tree into the images dir.
 *
 * Phases (Documentation/dump.md has the full story and the fault points):
 *   seize the tree (dump-tree.c) -> check sessions and groups -> for each
 *   process in turn: check what we cannot carry yet, collect through ptrace
 *   and /proc, infect, collect through the parasite, pages, cure -> write
 *   images -> inventory.img (last) -> kill / leave running / stopped.
 * Any failure before the inventory is written cures and detaches every
 * task, which all go on exactly as before, and removes the images of this run.
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
#include "netns.h"
#include "page-dedup.h"
#include "page-read.h"
#include "page-server.h"
#include "dump-out.h"
#include "dump-net.h"
#include "est-export.h"
#include "est-image.h"
#include "est/stats.pb-c.h"
#include "sched-state.h"
#include "files.h"
#include "image.h"
#include "inventory.h"
#include "kerndat.h"
#include "manifest.h"
#include "action.h"
#include "cgroup.h"
#include "tcp-repair.h"
#include "tty.h"
#include "pstree.pb-c.h"
#include "stats.pb-c.h"
#include "parasite-proto.h"
#include "parasite-blob.h"
#include "zpages.h"

/* Argument area: the largest command layout, rounded up. */
#define PARASITE_ARGS_SIZE	(sizeof(struct parasite_pages) > sizeof(struct parasite_timers) ? \
				 sizeof(struct parasite_pages) : sizeof(struct parasite_timers))
_Static_assert(sizeof(struct parasite_vma_policies) <= PARASITE_ARGS_SIZE, "argument area");
_Static_assert(sizeof(struct parasite_track) <= PARASITE_ARGS_SIZE, "argument area");

/*
 * CRIU_FAULT=<point> (o->fault) fails the dump there; with CRIU_FAULT_NTH=N
 * only the Nth time the point is reached (N = 2: in the second process of a
 * tree).
 */
int dump_fault(const struct cr_options *o, const char *point)
{
	static unsigned int hits;

	if (!o->fault || strcmp(o->fault, point))
		return 0;
	if (o->fault_nth && ++hits != o->fault_nth)
		return 0;
	pr_err("fault injected at %s", point);
	return -1;
}

/*
 * CRIU_FAULT=die-<point>: criu SIGKILLs itself there, as an outside kill
 * would (a test of what criu's death leaves behind).
 */
void dump_fault_die(const struct cr_options *o, const char *point)
{
	if (!o->fault || strncmp(o->fault, "die-", 4) || strcmp(o->fault + 4, point))
		return;
	pr_err("fault injected at %s: criu kills itself", point);
	raise(SIGKILL);
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

/*
 * @pid is in criu's namespaces, all of them (criu's are read once per dump),
 * but for a tree's own pid, uts or ipc namespace (dump-pidns.c, dump-utsipc.c).
 */
static int check_namespaces(pid_t pid, const struct dump_tree *tr)
{
	static const char *ns[] = { "pid", "mount", "net", "ipc", "uts", "user", "cgroup", "time" };
	static const char *link[] = { "pid", "mnt", "net", "ipc", "uts", "user", "cgroup", "time" };
	static struct stat self_ns[sizeof(ns) / sizeof(ns[0])];	/* st_ino 0: not built in */
	static bool self_ns_read;
	size_t i;

	for (i = 0; !self_ns_read && i < sizeof(ns) / sizeof(ns[0]); i++) {
		char b[64];

		snprintf(b, sizeof(b), "/proc/self/ns/%s", link[i]);
		if (stat(b, &self_ns[i]))
			self_ns[i].st_ino = 0;
	}
	self_ns_read = true;
	for (i = tr->pidns ? 1 : 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		char a[64];
		struct stat sa;

		if (dump_utsipc_own(tr, link[i]))
			continue;	/* the tree's own: dump-utsipc.c checked it */
		snprintf(a, sizeof(a), "/proc/%d/ns/%s", pid, link[i]);
		if (tr->netns && !strcmp(link[i], "net"))
			continue;	/* dump_netns_check() checked it */
		if (!self_ns[i].st_ino || stat(a, &sa) || (i == 1 && dump_in_mntns()))
			continue;	/* namespace kind not built into this kernel */
		if (sa.st_ino != self_ns[i].st_ino || sa.st_dev != self_ns[i].st_dev) {
			pr_err("%d is in another %s namespace than criu: namespaces are not supported yet: %s namespace",
			       pid, ns[i], ns[i]);
			return -1;
		}
	}
	return 0;
}

/*
 * The mount and cgroup namespaces are per thread too (unshare() makes one
 * in a thread of many; uts, ipc, time and net are checked per thread by
 * their own code, a user namespace needs a single thread): every thread
 * must be in its process's.
 */
static int check_thread_ns(const struct dump_task *t)
{
	static const char *const link[] = { "mnt", "cgroup" };
	struct stat own[2], st;
	char path[96];
	size_t k;
	int i;

	for (k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", t->pid, link[k]);
		if (stat(path, &own[k]))
			own[k].st_ino = 0;	/* not built into this kernel */
	}
	for (i = 0; i < t->nr_tids; i++)
		for (k = 0; k < 2 && t->tids[i] != t->pid; k++) {
			snprintf(path, sizeof(path), "/proc/%d/task/%d/ns/%s", t->pid, t->tids[i],
				 link[k]);
			if (!own[k].st_ino || stat(path, &st))
				continue;	/* a thread gone: the seize sees it */
			if (st.st_ino != own[k].st_ino || st.st_dev != own[k].st_dev) {
				pr_err("%d (thread %d) is in another %s namespace than its process: not supported yet",
				       t->pid, t->tids[i], k ? "cgroup" : "mount");
				return -1;
			}
		}
	return 0;
}

/* Refuse, before the task is touched, what the images cannot hold yet. */
static int check_task(struct dump_task *t)
{
	if (proc_read_status(t->pid, &t->st) || proc_read_stat(t->pid, &t->stat))
		return -1;
	if (t->st.tgid != t->pid) {
		pr_err("%d is a thread of %d, not a process", t->pid, t->st.tgid);
		return -1;
	}
	return check_namespaces(t->pid, t->tree) || check_thread_ns(t) || dump_check_threads(t);
}

static int write_one(int dirfd, enum img_kind kind, unsigned int id, const ProtobufCMessage *m)
{
	struct cr_img *img = img_create(dirfd, kind, id);

	if (!img)
		return -1;
	if (img_write_entry(img, m)) {
		img_abort(img);
		return -1;
	}
	/* the inventory, written last, makes the whole set durable */
	return kind == IMG_INVENTORY ? img_commit_durable(img) : img_commit(img);
}

static int write_core(struct dump_task *t)
{
	struct cr_img *img = img_create(t->dirfd, IMG_CORE, t->vpid);

	if (!img)
		return -1;
	if (img_write_entry(img, &t->core.base) || (!t->zombie && dump_write_threads(t, img))) {
		img_abort(img);
		return -1;
	}
	return img_commit(img);
}

/*
 * A zombie: its exit status, name and ids (its parent's waitid reads its uid);
 * no memory, files or threads.
 */
static int fill_zombie(struct dump_task *t)
{
	if (proc_read_status(t->pid, &t->st) || dump_collect_creds(t))
		return -1;
	t->core.state = 2;
	t->core.has_exit_code = true;
	t->core.exit_code = t->stat.exit_code;
	t->core.comm = strdup(t->stat.comm);
	return t->core.comm ? 0 : -1;
}

static int write_task(struct dump_task *t)
{
	if (t->zombie && fill_zombie(t))
		return -1;
	if (write_core(t))
		return -1;
	if (t->zombie)
		return 0;
	if (write_one(t->dirfd, IMG_MM, t->vpid, &t->mm.base))
		return -1;
	return dump_write_fds(t);
}

static int write_pstree(const struct dump_tree *tr)
{
	struct cr_img *img = img_create(tr->dirfd, IMG_PSTREE, 0);
	size_t i;

	if (!img)
		return -1;
	for (i = 0; i < tr->nr; i++) {
		const struct dump_task *t = tr->t[i];
		PstreeEntry e = PSTREE_ENTRY__INIT;
		uint32_t *tids = calloc(t->nr_tids + 1, sizeof(*tids));
		int k, r;

		if (!tids) {
			img_abort(img);
			return -1;
		}
		for (k = 0; !t->zombie && k < t->nr_tids; k++)
			tids[k] = (uint32_t)dump_vtid(t, t->tids[k]);
		e.pid = (uint32_t)t->vpid;
		e.ppid = (uint32_t)dump_vpid(tr, t->ppid);
		e.pgid = (uint32_t)dump_vpid(tr, t->stat.pgrp);
		e.sid = (uint32_t)dump_vpid(tr, t->stat.session);
		e.has_files_of = t->files_of != 0;
		e.files_of = (uint32_t)dump_vpid(tr, t->files_of);
		e.n_threads = t->zombie ? 0 : (size_t)t->nr_tids;	/* a zombie has none left */
		e.threads = tids;
		/* the root's parent is not restored: criu's is SIGCHLD */
		e.has_exit_signal = i && t->stat.exit_signal != SIGCHLD;
		e.exit_signal = (uint32_t)t->stat.exit_signal;
		r = img_write_entry(img, &e.base);
		free(tids);
		if (r) {
			img_abort(img);
			return -1;
		}
	}
	return img_commit(img);
}

/* Per-process counters into the tree's. */
static void sum_stats(struct dump_tree *tr)
{
	size_t i;

	for (i = 0; i < tr->nr; i++) {
		const struct dump_stats *s = &tr->t[i]->stats;

		tr->stats.memdump_us += s->memdump_us;
		tr->stats.memwrite_us += s->memwrite_us;
		tr->stats.pages_scanned += s->pages_scanned;
		tr->stats.pages_skipped += s->pages_skipped;
		tr->stats.pages_written += s->pages_written;
	}
}

/* stats-dump (the established format's) in the work dir, once the images are in place. */
static int write_stats(const struct dump_tree *tr, int workfd)
{
	DumpStatsEntry d = DUMP_STATS_ENTRY__INIT;
	Est__StatsEntry s = EST__STATS_ENTRY__INIT;
	Est__DumpStatsEntry e;
	size_t i;

	d.freezing_time = tr->stats.freezing_us;
	d.frozen_time = tr->stats.frozen_us;
	d.memdump_time = tr->stats.memdump_us;
	d.memwrite_time = tr->stats.memwrite_us;
	d.pages_scanned = tr->stats.pages_scanned;
	d.pages_skipped = tr->stats.pages_skipped;
	d.pages_written = tr->stats.pages_written;
	d.has_tasks = d.has_threads = true;
	d.tasks = tr->nr;
	for (i = 0; i < tr->nr; i++)
		d.threads += tr->t[i]->zombie ? 0 : tr->t[i]->nr_tids;
	est_dump_stats(&d, &e);
	s.dump = &e;
	return est_write_one(workfd, "stats-dump", &s.base);
}

static int write_inventory(const struct dump_tree *tr)
{
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	struct timespec ts;
	int ret;

	if (inventory_fill(&inv))
		return -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	inv.has_root_pid = true;
	inv.root_pid = (uint32_t)tr->t[0]->vpid;
	inv.has_root_pid_ns = tr->pidns;
	inv.root_pid_ns = tr->pidns;
	inv.has_root_cg_set = tr->root_cg_set != 0;
	inv.root_cg_set = tr->root_cg_set;
	inv.has_shell_job = true;
	inv.shell_job = tr->o->shell_job;
	inv.has_dump_time_ns = true;
	inv.dump_time_ns = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	inv.has_pre_dump = inv.pre_dump = tr->pre;
	inv.has_pre_dump_mode = tr->pre;
	inv.pre_dump_mode = page_read_mode(tr->o) ? 2 : 1;	/* the established enum */
	inv.parent_dir = tr->o->prev_images_dir;
	ret = write_one(tr->dirfd, IMG_INVENTORY, 0, &inv.base);
	inv.parent_dir = NULL;	/* the options' */
	inventory_release(&inv);
	return ret;
}

static void print_stats(const struct dump_tree *tr)
{
	const struct dump_stats *s = &tr->stats;
	unsigned int i;

	pr_msg("Dump statistics\n");
	pr_msg("  processes       %zu\n", tr->nr);
	pr_msg("  freezing time   %lu us\n", (unsigned long)s->freezing_us);
	pr_msg("  frozen time     %lu us\n", (unsigned long)s->frozen_us);
	pr_msg("  memdump time    %lu us\n", (unsigned long)s->memdump_us);
	pr_msg("  memwrite time   %lu us\n", (unsigned long)s->memwrite_us);
	pr_msg("  pages scanned   %lu\n", (unsigned long)s->pages_scanned);
	pr_msg("  pages skipped   %lu\n", (unsigned long)s->pages_skipped);
	pr_msg("  pages written   %lu\n", (unsigned long)s->pages_written);
	for (i = 0; i < s->nr_phases; i++)
		pr_msg("  phase %-9s %lu us\n", s->phase[i].name, (unsigned long)s->phase[i].us);
}

/* Cure @t if the parasite is (half) in. */
/* The one way out of an infection, success or not: cure once, release. */
static int cure_task(struct dump_task *t)
{
	int ret = 0;

	if (!t->ctl)
		return 0;
	if (compel_cure(t->ctl)) {
		pr_err("can't cure %d: it may not survive", t->pid);
		ret = -1;
	}
	compel_release(t->ctl);
	t->ctl = NULL;
	return ret;
}

static int infect(struct dump_task *t)
{
	if (dump_seccomp_check_parasite(t))
		return -1;
	t->ctl = compel_prepare(t->pid);
	if (!t->ctl) {
		pr_err("can't prepare %d for infection", t->pid);
		return -1;
	}
	if (dump_check_mdwe(t) || dump_check_sud(t))
		return -1;
	if (compel_infect(t->ctl, &parasite_blob, PARASITE_ARGS_SIZE)) {
		if (compel_map_error(t->ctl) == EAGAIN)
			pr_err("%d is under mlockall(MCL_FUTURE) with no RLIMIT_MEMLOCK left for the parasite, which must be mapped locked: not supported yet",
			       t->pid);
		else
			pr_err("can't infect %d", t->pid);
		return -1;
	}
	return 0;
}

/*
 * pre-dump of one live process: its vmas, memory tracking set up (or kept),
 * the pages written since the last run (all of them the first time).
 */
static int pre_dump_task(struct dump_tree *tr, struct dump_task *t)
{
	/* seccomp: per-thread filters are refused here as by the dump */
	if (check_task(t) || dump_collect_seccomp(t) || dump_collect_vmas(t) || infect(t))
		return -1;
	if (dump_track_begin(t) || dump_track_parent(t, tr->prev_fd) || dump_pages(t))
		return -1;
	return cure_task(t);
}

/*
 * One live process, seized: check, collect, infect, parasite, pages, cure.
 */
static int dump_task(struct dump_tree *tr, struct dump_task *t)
{
	if (check_task(t) || dump_check_sched(t))
		return -1;
	if (tr->pre)
		return pre_dump_task(tr, t);
	if (dump_collect_threads_ptrace(t) || dump_collect_sched(t) ||
	    dump_collect_core_ptrace(t) || dump_collect_core_proc(t) ||
	    dump_collect_vmas(t) || dump_collect_fds(t) || dump_packet_ring_vmas(t) ||
	    dump_collect_fs(t))
		return -1;
	if (dump_fault(t->o, "after-collect") || infect(t))
		return -1;
	if (dump_fault(t->o, "after-infect") || dump_collect_mlockall(t) ||
	    dump_collect_core_parasite(t) || dump_collect_threads_parasite(t) ||
	    dump_finish_sched(t) || dump_check_stop_reports(t, tr->t, tr->nr) ||
	    dump_fault(t->o, "after-parasite"))
		return -1;
	if ((t->o->track_mem && dump_track_begin(t)) || dump_track_parent(t, tr->prev_fd) ||
	    dump_pages(t) || dump_fault(t->o, "before-cure"))
		return -1;
	if (cure_task(t))
		return -1;
	return dump_fault(t->o, "after-cure");
}

/* Every process in turn; the fd objects (and their ids) are the tree's. */
static int dump_all(struct dump_tree *tr)
{
	size_t i;

	for (i = 0; i < tr->nr; i++) {
		struct dump_task *t = tr->t[i];

		if (t->zombie)
			continue;
		/* Parents come first: the parent's vmas are known by now. */
		t->parent = t->ppid ? dump_tree_find(tr, t->ppid) : NULL;
		if (t->parent && t->parent->zombie)
			t->parent = NULL;
		if (dump_task(tr, t)) {
			cure_task(t);
			return -1;
		}
		pr_debug("%d dumped", t->pid);
	}
	if (tr->pre)
		return 0;
	/* links across processes (socket peers): every process's fds are in */
	return dump_check_autogroups(tr) || dump_check_shared_fds(tr) || fd_kinds_resolve(&tr->files, tr->o) ? -1 : 0;
}

static int write_all(struct dump_tree *tr)
{
	size_t i;

	if (tr->pre)	/* the pagemaps are written: the tree and the inventory */
		return write_pstree(tr);
	for (i = 0; i < tr->nr; i++)
		if (write_task(tr->t[i]))
			return -1;
	if (dump_write_fd_objects(tr) || dump_mntns_write(tr))	/* each kind's images */
		return -1;
	return write_pstree(tr);
}

/* The dump is complete: the final action on every task. */
static int finish(struct dump_tree *tr)
{
	const struct cr_options *o = tr->o;

	if (o->leave_running)
		return 0;	/* detached before the images were written */
	if (o->leave_stopped) {
		/* each step whatever the one before did: a failed release still stops the tree */
		int ret = inet_dump_release(&tr->files);

		ret |= dump_net_unlock(tr);
		return ret | dump_tree_stop(tr) ? -1 : 0;
	}
	/* TCP connections stay in repair mode: closed by the kill, they send nothing */
	return dump_tree_kill(tr);
}

/*
 * --tls and --tls-* shape the page server connection only: without one
 * nothing goes over the network. The established tool ignores them then;
 * we accept them too (the same meaning) but say so, naming each one.
 */
static void warn_tls_unused(const struct cr_options *o)
{
	const struct { const char *name; bool set; } tls[] = {
		{ "--tls", o->tls }, { "--tls-cacert", o->tls_cacert }, { "--tls-cacrl", o->tls_cacrl },
		{ "--tls-cert", o->tls_cert }, { "--tls-key", o->tls_key },
		{ "--tls-no-cn-verify", o->tls_no_cn_verify },
	};
	size_t i;

	if (o->page_server || o->ps_socket >= 0)
		return;
	for (i = 0; i < ARRAY_SIZE(tls); i++)
		if (tls[i].set)
			pr_warn("%s without --page-server or --ps-socket has no effect: the pages "
				"are written to the images dir", tls[i].name);
}

static int check_args(const struct cr_options *o)
{
	if (o->tree_pid <= 0) {
		pr_err("dump needs the pid of the process (-t PID)");
		return -1;
	}
	if (o->leave_running && o->leave_stopped) {
		pr_err("--leave-running and --leave-stopped exclude each other");
		return -1;
	}
	if (o->prev_images_dir && (!o->prev_images_dir[0] || strlen(o->prev_images_dir) >= PATH_MAX)) {
		pr_err("--prev-images-dir: an empty or too long path");
		return -1;
	}
	if (o->compress && (o->encrypt_key || o->prev_images_dir || o->page_server || o->ps_socket >= 0)) {
		pr_err("--compress with %s: not supported yet", o->encrypt_key ? "--encrypt-key" :
		       o->prev_images_dir ? "--prev-images-dir" : "--page-server");
		return -1;
	}
	if (o->encrypt_key && o->prev_images_dir) {
		pr_err("--encrypt-key with --prev-images-dir: sealed parent images are not supported yet");
		return -1;
	}
	warn_tls_unused(o);
	return netns_external_check(o, false);
}

/* --prev-images-dir, relative to the images dir: a complete dump, checked against its manifest. */
static int open_prev(struct dump_tree *tr, const struct dump_out *out)
{
	const char *prev = tr->o->prev_images_dir;

	tr->prev_fd = -1;
	if (!prev)
		return 0;
	if (!tr->pre && !tr->o->track_mem) {
		pr_err("--prev-images-dir needs --track-mem: without tracking no page is known unchanged");
		return -1;
	}
	tr->prev_fd = openat(out->dirfd, prev, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tr->prev_fd < 0) {
		pr_perror("the parent images %s (--prev-images-dir, relative to the images dir) cannot be opened",
			  prev);
		return -1;
	}
	if (faccessat(tr->prev_fd, "inventory.img", F_OK, 0)) {
		pr_err("the parent images %s are not a complete dump (no inventory.img)", prev);
		return -1;
	}
	if (zpages_dir_packed(tr->prev_fd)) {
		pr_err("the parent images %s: compressed parent images are not supported yet (or unreadable)", prev);
		return -1;
	}
	return manifest_check(tr->prev_fd) < 0 ? -1 : 0;
}

/*
 * Everything collected: our images, the inventory, then the conversion
 * moved into the images dir (the commit point, inventory.img last), and
 * the statistics. From the commit on, criu's death kills the tree.
 */
static int commit(struct dump_tree *tr, struct dump_out *out, uint64_t t_frozen)
{
	const struct cr_options *o = tr->o;

	if (write_all(tr))
		return -1;
	dump_phase(&tr->stats, "write");
	if (dump_fault(o, "before-inventory") || write_inventory(tr))
		return -1;
	dump_phase(&tr->stats, "inventory");
	dump_fault_die(o, "before-commit");
	if (dump_out_commit(out, (o->image_ext ? EST_EXPORT_EXT : 0) | (o->compress ? EST_EXPORT_ZPAGES : 0) |
				 (opts_build_id(o) ? 0 : EST_EXPORT_NO_BUILD_ID) |
				 (dump_net_skipped(o) ? EST_EXPORT_NO_NET_LOCK : 0)))
		return -1;
	/* committed: from here criu's death must not leave half a tree running */
	if (!o->leave_running && !o->leave_stopped)
		dump_tree_exitkill(tr);
	dump_net_committed(tr);	/* logged; criu's death then unlocks, the tree gone */
	dump_fault_die(o, "after-commit");
	dump_phase(&tr->stats, "export");
	/* the images are in place: the tree was frozen until now */
	if (!o->leave_running)
		tr->stats.frozen_us = dump_now_us() - t_frozen;
	sum_stats(tr);
	if (write_stats(tr, out->workfd))
		pr_warn("could not write stats-dump");
	return 0;
}

/* The seized tree as a whole: its namespaces, ids and shared fd tables. */
static int check_tree(struct dump_tree *tr)
{
	return dump_pidns_check(tr) || dump_mntns_check(tr) || dump_netns_check(tr) ||
	       dump_utsipc(tr) || dump_tree_check_ids(tr) || dump_check_fd_tables(tr);
}

/* The images dir, the scratch dir for ours, the key and the parent images. */
static int begin(struct dump_tree *tr, struct dump_out *out)
{
	const struct cr_options *o = tr->o;

	if (dump_out_begin(out, o->images_dir, o->work_dir) ||
	    (o->encrypt_key && dump_out_seal_with(out, o->encrypt_key)) || open_prev(tr, out) ||
	    ((o->page_server || o->ps_socket >= 0) && (out->ps_fd = ps_client_open(o)) < 0)) {
		if (tr->prev_fd >= 0)
			close(tr->prev_fd);
		tr->prev_fd = -1;
		dump_out_end(out);
		return -1;
	}
	out->parent = o->prev_images_dir;
	tr->dirfd = out->ours.fd;
	kerndat_probe(KD_PAGEMAP_SCAN);
	compel_log_init(compel_log, log_get_level() >= LOG_DEBUG ? COMPEL_LOG_DEBUG :
			log_get_level() >= LOG_INFO ? COMPEL_LOG_INFO : COMPEL_LOG_WARN);
	return 0;
}

static int run_dump(struct cr_options *o, bool pre)
{
	struct dump_freeze fz;
	struct dump_out out;
	struct dump_tree tr;
	uint64_t t_start, t_frozen = 0;
	int ret = -1;
	bool committed = false;

	memset(&tr, 0, sizeof(tr));
	tr.o = o;
	tr.pre = pre;
	tr.prev_fd = -1;
	if (check_args(o))
		return -1;
	/* our images go to a scratch dir; the images dir gets their conversion */
	if (begin(&tr, &out))
		return -1;

	if (run_action(o, ACT_PRE_DUMP, o->tree_pid))
		goto fail;
	pr_info("seizing the tree of %d", o->tree_pid);
	t_start = dump_now_us();
	tr.stats.mark = t_start;
	if (dump_freeze(&tr, &fz) || dump_tree_collect(&tr, o->tree_pid)) {
		dump_thaw(&fz);
		goto fail;
	}
	dump_thaw(&fz);	/* every task is seized: the freeze has done its part */
	t_frozen = dump_now_us();
	tr.stats.freezing_us = t_frozen - t_start;
	dump_phase(&tr.stats, "seize");
	if (dump_fault(o, "after-seize") || check_tree(&tr))
		goto fail;
	dump_phase(&tr.stats, "check");
	/* the tree frozen, no socket read yet: net-lock.md */
	if ((!pre && dump_net_lock(&tr)) || dump_all(&tr))
		goto fail;
	dump_phase(&tr.stats, "tasks");
	/*
	 * Shared memory objects: every process's vmas are in and the tree is
	 * still frozen (cured, not detached): nobody writes to the objects
	 * while they are read.
	 */
	if ((!pre && dump_shmem_write(&tr.shm, tr.dirfd)) ||
	    (!pre && cg_mode_of(o) != CG_IGNORE && dump_cgroups(&tr, &tr.root_cg_set)))
		goto fail;
	dump_phase(&tr.stats, "shmem");
	/*
	 * Everything is collected. A tree that is to run on anyway may do so
	 * while the images are written: a failure from here on leaves it
	 * running, as it must. A tree to be killed or left stopped stays
	 * frozen until the inventory is in place.
	 */
	if (o->leave_running) {
		if (inet_dump_release(&tr.files) || dump_net_unlock(&tr) || dump_tree_detach(&tr))
			goto fail;
		tr.stats.frozen_us = dump_now_us() - t_frozen;
		dump_phase(&tr.stats, "detach");
	}
	if (pre && page_read_mode(o) && page_read_copy(&tr))	/* the tree runs: predump.md */
		goto fail;
	if (commit(&tr, &out, t_frozen))
		goto fail;
	committed = true;	/* the images name what --link-remap made */
	if (o->auto_dedup && o->prev_images_dir && dedup_dir(out.dirfd))
		pr_warn("--auto-dedup failed: the parent images keep their pages");
	pr_info("dump of the tree of %d (%zu processes) complete", o->tree_pid, tr.nr);
	if (run_action(o, ACT_POST_DUMP, o->tree_pid))
		goto fail;
	/* the lock outlives criu before the tree goes: no instant without it */
	if (!o->leave_running && !o->leave_stopped &&
	    (inet_dump_rearm(&tr.files) || dump_net_keep(&tr)))
		goto fail;
	if (finish(&tr))
		goto done;
	ret = 0;
	if (!o->leave_running)
		dump_phase(&tr.stats, o->leave_stopped ? "stop" : "kill");
done:
	if (!o->leave_running)
		tr.stats.frozen_us = dump_now_us() - t_frozen;
	if (o->display_stats)
		print_stats(&tr);
	goto out;
fail:
	inet_dump_release(&tr.files);
	dump_net_unlock(&tr);
	dump_tree_detach(&tr);
	if (!committed)
		dump_files_unlink_made(&tr.files);
	pr_err("dump of %d failed; every process of its tree was left running", o->tree_pid);
out:
	dump_netns_release();
	dump_tree_free(&tr);
	dump_mntns_free();
	dump_out_end(&out);
	if (tr.prev_fd >= 0)
		close(tr.prev_fd);
	return ret;
}

int cmd_dump(struct cr_options *o)
{
	return run_dump(o, false);
}

/*
 * criu pre-dump: the tree's memory only, tracked from now on; the tree
 * runs on (Documentation/predump.md).
 */
int cmd_pre_dump(struct cr_options *o)
{
	if (o->leave_stopped) {
		pr_err("pre-dump leaves the tree running: --leave-stopped is not supported yet");
		return -1;
	}
	if (o->compress) {
		pr_err("pre-dump with --compress: compressed parent images are not supported yet");
		return -1;
	}
	if (o->encrypt_key) {
		pr_err("pre-dump with --encrypt-key: sealed parent images are not supported yet");
		return -1;
	}
	o->leave_running = true;
	return run_dump(o, true);
}
