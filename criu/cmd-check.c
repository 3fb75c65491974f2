/*
 * criu check: is this kernel (and are our privileges) good enough?
 *
 * One table line per feature. The probes live in kerndat.c; the small
 * functions here turn kdat answers into "present" or "missing, because".
 * See Documentation/check.md for the required/optional split and the
 * exit status rules.
 */
#define LOG_PREFIX "check: "

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/userfaultfd.h>

#include "kernel-compat.h"
#include "compiler.h"
#include "log.h"
#include "options.h"
#include "commands.h"
#include "kerndat.h"
#include "net-lock.h"

/* Present if probe @id worked; else why it did not. */
static int probe_ok(enum kd_probe_id id, char *why, unsigned int len)
{
	const struct kd_status *st = &kdat.st[id];

	if (kerndat_probe(id) == 0)
		return 0;
	snprintf(why, len, "%s%s%s", st->step ? st->step : "probe failed",
		 st->err ? ": " : "", st->err ? strerror(st->err) : "");
	return -1;
}

/* A check that is exactly one probe. */
#define PROBE_CHECK(fn, id)						\
	static int fn(char *why, unsigned int len)			\
	{								\
		return probe_ok(id, why, len);				\
	}

PROBE_CHECK(chk_ptrace_seize, KD_PTRACE_SEIZE)
PROBE_CHECK(chk_peeksiginfo, KD_PEEKSIGINFO)
PROBE_CHECK(chk_rseq_conf, KD_RSEQ_CONF)
PROBE_CHECK(chk_map_files, KD_MAP_FILES)
PROBE_CHECK(chk_kcmp, KD_KCMP)
PROBE_CHECK(chk_clone3_set_tid, KD_CLONE3_SET_TID)
PROBE_CHECK(chk_ns_last_pid, KD_NS_LAST_PID)
PROBE_CHECK(chk_memfd, KD_MEMFD)
PROBE_CHECK(chk_pidfd_open, KD_PIDFD_OPEN)
PROBE_CHECK(chk_pidfd_getfd, KD_PIDFD_GETFD)
PROBE_CHECK(chk_vdso, KD_VDSO)
PROBE_CHECK(chk_caps, KD_CAPS)
PROBE_CHECK(chk_prctl_mm_map, KD_PRCTL_MM_MAP)
PROBE_CHECK(chk_seccomp_suspend, KD_SECCOMP_SUSPEND)
PROBE_CHECK(chk_uffd, KD_UFFD)
PROBE_CHECK(chk_uffd_wp_async, KD_UFFD_WP_ASYNC)
PROBE_CHECK(chk_pagemap_scan, KD_PAGEMAP_SCAN)
PROBE_CHECK(chk_tcp_repair, KD_TCP_REPAIR)
PROBE_CHECK(chk_sock_diag_unix, KD_SOCK_DIAG_UNIX)
PROBE_CHECK(chk_sock_diag_inet, KD_SOCK_DIAG_INET)
PROBE_CHECK(chk_sock_diag_netlink, KD_SOCK_DIAG_NETLINK)
PROBE_CHECK(chk_sock_diag_packet, KD_SOCK_DIAG_PACKET)
PROBE_CHECK(chk_timens, KD_TIMENS)
PROBE_CHECK(chk_cgroupv2, KD_CGROUP)
PROBE_CHECK(chk_mnt_id, KD_MNT_ID)
PROBE_CHECK(chk_fdinfo_lock, KD_FDINFO_LOCK)
PROBE_CHECK(chk_timerfd, KD_TIMERFD)
PROBE_CHECK(chk_kcmp_epoll, KD_KCMP_EPOLL)
PROBE_CHECK(chk_aio, KD_AIO)
PROBE_CHECK(chk_tun, KD_TUN)
PROBE_CHECK(chk_tun_ns, KD_TUN_NS)
PROBE_CHECK(chk_userns, KD_USERNS)
PROBE_CHECK(chk_cgroupns, KD_CGROUPNS)
PROBE_CHECK(chk_netns, KD_NETNS)
PROBE_CHECK(chk_ns_pid, KD_NS_PID)
PROBE_CHECK(chk_loginuid, KD_LOGINUID)
PROBE_CHECK(chk_autofs, KD_AUTOFS)
PROBE_CHECK(chk_overlayfs, KD_OVERLAYFS)
PROBE_CHECK(chk_apparmor, KD_APPARMOR)
PROBE_CHECK(chk_ipt_legacy, KD_IPT_LEGACY)
PROBE_CHECK(chk_compat, KD_COMPAT)
PROBE_CHECK(chk_map_vdso, KD_MAP_VDSO)
PROBE_CHECK(chk_sk_ns, KD_SK_NS)
PROBE_CHECK(chk_sk_unix_file, KD_SK_UNIX_FILE)
PROBE_CHECK(chk_diag_raw, KD_DIAG_RAW)
PROBE_CHECK(chk_nsid, KD_NSID)
PROBE_CHECK(chk_memfd_hugetlb, KD_MEMFD_HUGETLB)
PROBE_CHECK(chk_move_mount_group, KD_MOVE_MOUNT_GROUP)
PROBE_CHECK(chk_openat2, KD_OPENAT2)
PROBE_CHECK(chk_so_buf_lock, KD_SO_BUF_LOCK)
PROBE_CHECK(chk_ipv6_freebind, KD_IPV6_FREEBIND)
PROBE_CHECK(chk_timer_cr_ids, KD_TIMER_CR_IDS)
PROBE_CHECK(chk_breakpoints, KD_BREAKPOINTS)
PROBE_CHECK(chk_guard_pages, KD_GUARD_PAGES)
PROBE_CHECK(chk_seccomp_filters, KD_SECCOMP_FILTERS)
PROBE_CHECK(chk_nftables, KD_NFTABLES)

/* Our own lock: a table, its chains and a drop rule made and deleted at once. */
static int chk_net_lock(char *why, unsigned int len)
{
	return net_lock_probe(why, len);
}

/* pidfd_open and pidfd_getfd, both. */
static int chk_pidfd_store(char *why, unsigned int len)
{
	return probe_ok(KD_PIDFD_OPEN, why, len) ? -1 : probe_ok(KD_PIDFD_GETFD, why, len);
}

/*
 * A feature whose kernel side we do not probe: it is one criu cannot carry
 * anyway, so the answer is "no" whatever the kernel has.
 */
static int chk_not_probed(char *why, unsigned int len)
{
	snprintf(why, len, "its kernel side is not probed");
	return 1;
}

/* userfaultfd is there and UFFDIO_API offers every bit of @want. */
static int uffd_has(uint64_t want, const char *what, char *why, unsigned int len)
{
	if (probe_ok(KD_UFFD, why, len))
		return -1;
	if ((kdat.uffd_features & want) == want)
		return 0;
	snprintf(why, len, "UFFDIO_API offers features %#llx, lacks %s (%#llx)",
		 (unsigned long long)kdat.uffd_features, what,
		 (unsigned long long)(want & ~kdat.uffd_features));
	return -1;
}

static int chk_uffd_noncoop(char *why, unsigned int len)
{
	return uffd_has(UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP |
			UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_EVENT_UNMAP,
			"fork/remap/remove/unmap events", why, len);
}

static int chk_uffd_wp(char *why, unsigned int len)
{
	return uffd_has(UFFD_FEATURE_PAGEFAULT_FLAG_WP, "UFFD_FEATURE_PAGEFAULT_FLAG_WP", why, len);
}

/* Only a process with an rseq area needs its configuration read back. */
static bool rseq_needed(void)
{
	kerndat_probe(KD_RSEQ_CONF);
	return kdat.rseq_in_use;
}

/* Restore needs one way to get a chosen pid: either will do. */
static bool clone3_needed(void)
{
	return kerndat_probe(KD_NS_LAST_PID) != 0;
}

static bool ns_last_pid_needed(void)
{
	return kerndat_probe(KD_CLONE3_SET_TID) != 0;
}

#define REQ	true
#define OPT	false

/* What a gap says when the feature needs a command that is not built. */
#define NO_NS		"namespaces (dump refuses a task in a namespace of its own)"
#define NO_SECCOMP	"tasks under seccomp"
#define NO_NET		"network devices and namespaces"

/*
 * name, alias, required, needed, instead, check, description[, .cmd, .gap].
 * Our own names first, then the established tool's, as it orders them.
 */
#define FEAT(n, a, req, nd, inst, chk, d, ...)					\
	{ .name = n, .alias = a, .required = req, .needed = nd, .instead = inst,	\
	  .check = chk, .descr = d, __VA_ARGS__ }

const struct check_feature check_features[] = {
	FEAT("ptrace_seize", NULL, REQ, NULL, NULL, chk_ptrace_seize,
	     "PTRACE_SEIZE and PTRACE_INTERRUPT stop a task without a signal"),
	FEAT("ptrace_peeksiginfo", NULL, REQ, NULL, NULL, chk_peeksiginfo,
	     "PTRACE_PEEKSIGINFO reads pending signals for the image"),
	FEAT("ptrace_rseq_conf", "get_rseq_conf", REQ, rseq_needed,
	     "no rseq area is registered here", chk_rseq_conf,
	     "PTRACE_GET_RSEQ_CONFIGURATION finds a task's rseq area"),
	FEAT("map_files", NULL, REQ, NULL, NULL, chk_map_files,
	     "/proc/PID/map_files links open mapped (even deleted) files"),
	FEAT("kcmp", NULL, REQ, NULL, NULL, chk_kcmp,
	     "kcmp tells whether tasks share files, mm, fs..."),
	FEAT("clone3_set_tid", NULL, REQ, clone3_needed,
	     "restore can use ns_last_pid", chk_clone3_set_tid,
	     "clone3 with set_tid restores a task with its old pid"),
	FEAT("ns_last_pid", NULL, REQ, ns_last_pid_needed,
	     "restore can use clone3 set_tid", chk_ns_last_pid,
	     "writing ns_last_pid chooses the next pid (old way)"),
	FEAT("memfd", NULL, REQ, NULL, NULL, chk_memfd,
	     "memfd_create with seals, for memfd files and the restorer"),
	FEAT("pidfd_open", NULL, REQ, NULL, NULL, chk_pidfd_open,
	     "pidfd_open gives race-free handles on tasks"),
	FEAT("vdso", NULL, REQ, NULL, NULL, chk_vdso,
	     "[vdso]/[vvar] layout is one restore knows how to remap"),
	FEAT("cap_checkpoint_restore", NULL, REQ, NULL, NULL, chk_caps,
	     "CAP_CHECKPOINT_RESTORE, or root with CAP_SYS_ADMIN"),
	FEAT("prctl_mm_map", NULL, REQ, NULL, NULL, chk_prctl_mm_map,
	     "PR_SET_MM_MAP restores mm fields (brk, args, env, exe)"),
	FEAT("uffd", NULL, OPT, NULL, NULL, chk_uffd,
	     "userfaultfd, for lazy restore", .cmd = "lazy-pages"),
	FEAT("uffd-noncoop", NULL, OPT, NULL, NULL, chk_uffd_noncoop,
	     "userfaultfd fork/remap/remove/unmap events, for lazy restore of trees", .cmd = "lazy-pages"),
	FEAT("uffd-wp", NULL, OPT, NULL, NULL, chk_uffd_wp,
	     "userfaultfd write-protect faults, for memory tracking", .cmd = "pre-dump"),
	FEAT("uffd_wp_async", NULL, OPT, NULL, NULL, chk_uffd_wp_async,
	     "asynchronous uffd write-protect: dirty tracking for pre-dump", .cmd = "pre-dump"),
	FEAT("pagemap_scan", NULL, OPT, NULL, NULL, chk_pagemap_scan,
	     "PAGEMAP_SCAN ioctl: fast present/written page lists"),
	FEAT("tcp_repair", NULL, OPT, NULL, NULL, chk_tcp_repair,
	     "TCP_REPAIR, for established TCP connections", .gap = "established TCP connections (--tcp-established)"),
	FEAT("sock_diag_unix", NULL, OPT, NULL, NULL, chk_sock_diag_unix,
	     "sock_diag for unix sockets"),
	FEAT("sock_diag_inet", NULL, OPT, NULL, NULL, chk_sock_diag_inet,
	     "sock_diag for TCP sockets (inet_diag)"),
	FEAT("sock_diag_netlink", NULL, OPT, NULL, NULL, chk_sock_diag_netlink,
	     "sock_diag for netlink sockets", .gap = "netlink sockets"),
	FEAT("sock_diag_packet", NULL, OPT, NULL, NULL, chk_sock_diag_packet,
	     "sock_diag for packet sockets", .gap = "packet sockets"),
	FEAT("pidfd_getfd", NULL, OPT, NULL, NULL, chk_pidfd_getfd,
	     "pidfd_getfd copies a task's fd without a parasite"),
	FEAT("cgroupv2", NULL, OPT, NULL, NULL, chk_cgroupv2,
	     "a cgroup2 mount, for cgroup v2 state", .gap = "cgroup membership and properties"),
	FEAT("mnt_id", NULL, OPT, NULL, NULL, chk_mnt_id,
	     "fdinfo tells the mount of every open file"),
	FEAT("mem_dirty_track", NULL, OPT, NULL, NULL, chk_uffd_wp_async,
	     "memory dirty tracking for pre-dump (uffd_wp_async here, not soft-dirty)", .cmd = "pre-dump"),
	FEAT("aio_remap", NULL, OPT, NULL, NULL, chk_aio,
	     "AIO rings that can be moved", .gap = "AIO rings"),
	FEAT("timerfd", NULL, OPT, NULL, NULL, chk_timerfd,
	     "timerfd state in fdinfo"),
	FEAT("tun", NULL, OPT, NULL, NULL, chk_tun,
	     "tun/tap devices", .gap = "tun/tap files"),
	FEAT("tun_ns", NULL, OPT, NULL, NULL, chk_tun_ns,
	     "TUNGETDEVNETNS names a tun device's network namespace", .gap = "tun/tap files"),
	FEAT("userns", NULL, OPT, NULL, NULL, chk_userns,
	     "user namespaces and NS_GET_USERNS", .gap = NO_NS),
	FEAT("fdinfo_lock", NULL, OPT, NULL, NULL, chk_fdinfo_lock,
	     "fdinfo lists the locks of a file, for --file-locks"),
	FEAT("seccomp_suspend", NULL, OPT, NULL, NULL, chk_seccomp_suspend,
	     "PTRACE_O_SUSPEND_SECCOMP, for tasks under seccomp", .gap = NO_SECCOMP),
	FEAT("seccomp_filters", NULL, OPT, NULL, NULL, chk_seccomp_filters,
	     "PTRACE_SECCOMP_GET_FILTER reads seccomp filters", .gap = NO_SECCOMP),
	FEAT("loginuid", NULL, OPT, NULL, NULL, chk_loginuid,
	     "the audit login uid of a task"),
	FEAT("cgroupns", NULL, OPT, NULL, NULL, chk_cgroupns,
	     "cgroup namespaces", .gap = NO_NS),
	FEAT("autofs", NULL, OPT, NULL, NULL, chk_autofs,
	     "autofs mounts", .gap = "mounts (autofs)"),
	FEAT("tcp_half_closed", NULL, OPT, NULL, NULL, chk_tcp_repair,
	     "TCP repair of half-closed connections", .gap = "established TCP connections (--tcp-established)"),
	FEAT("compat_cr", NULL, OPT, NULL, NULL, chk_compat,
	     "32-bit (ia32) tasks", .gap = "32-bit tasks"),
	FEAT("can_map_vdso", NULL, OPT, NULL, NULL, chk_map_vdso,
	     "the arch's own call maps a vdso anew"),
	FEAT("sk_ns", NULL, OPT, NULL, NULL, chk_sk_ns,
	     "SIOCGSKNS names a socket's network namespace", .gap = "sockets of other network namespaces"),
	FEAT("sk_unix_file", NULL, OPT, NULL, NULL, chk_sk_unix_file,
	     "SIOCUNIXFILE opens a unix socket's bound file", .gap = "unix sockets bound to files no path reaches"),
	FEAT("net_diag_raw", NULL, OPT, NULL, NULL, chk_diag_raw,
	     "sock_diag for raw sockets", .gap = "raw sockets"),
	FEAT("nsid", NULL, OPT, NULL, NULL, chk_nsid,
	     "netlink ids of peer network namespaces", .gap = NO_NET),
	FEAT("link_nsid", NULL, OPT, NULL, NULL, chk_nsid,
	     "links into other network namespaces (probed: the nsid machinery)", .gap = NO_NET),
	FEAT("kcmp_epoll", NULL, OPT, NULL, NULL, chk_kcmp_epoll,
	     "kcmp(KCMP_EPOLL_TFD) finds an epoll's targets"),
	FEAT("timens", NULL, OPT, NULL, NULL, chk_timens,
	     "time namespaces keep monotonic clocks across migration", .gap = NO_NS),
	FEAT("external_net_ns", NULL, OPT, NULL, NULL, chk_netns,
	     "a network namespace left outside the images", .gap = NO_NS),
	FEAT("newifindex", NULL, OPT, NULL, NULL, chk_not_probed,
	     "IFLA_NEW_IFINDEX gives a restored device its index", .gap = NO_NET),
	FEAT("nftables", NULL, OPT, NULL, NULL, chk_nftables,
	     "nftables rules", .gap = "nftables rules"),
	FEAT("has_ipt_legacy", NULL, OPT, NULL, NULL, chk_ipt_legacy,
	     "iptables-legacy, for the iptables network lock",
	     .gap = "the iptables binary (--network-lock iptables programs nftables in-process)"),
	FEAT("pidfd_store", NULL, OPT, NULL, NULL, chk_pidfd_store,
	     "pidfds kept by the RPC service between pre-dumps", .cmd = "service"),
	FEAT("ns_pid", NULL, OPT, NULL, NULL, chk_ns_pid,
	     "NSpid in /proc/PID/status, for nested pid namespaces", .gap = NO_NS),
	FEAT("apparmor_stacking", NULL, OPT, NULL, NULL, chk_apparmor,
	     "AppArmor namespaces and stacked profiles", .gap = "LSM profiles"),
	FEAT("network_lock_nftables", NULL, OPT, NULL, NULL, chk_net_lock,
	     "the network lock: nftables rules criu programs itself (criu/net-lock.c)"),
	FEAT("sockopt_buf_lock", NULL, OPT, NULL, NULL, chk_so_buf_lock,
	     "SO_BUF_LOCK"),
	FEAT("memfd_hugetlb", NULL, OPT, NULL, NULL, chk_memfd_hugetlb,
	     "hugetlb memfds", .gap = "hugetlb memfds"),
	FEAT("move_mount_set_group", NULL, OPT, NULL, NULL, chk_move_mount_group,
	     "MOVE_MOUNT_SET_GROUP copies mount sharing", .gap = "mounts"),
	FEAT("openat2", NULL, OPT, NULL, NULL, chk_openat2,
	     "openat2 with RESOLVE_* flags"),
	FEAT("ipv6_freebind", NULL, OPT, NULL, NULL, chk_ipv6_freebind,
	     "IPV6_FREEBIND"),
	FEAT("timer_cr_ids", NULL, OPT, NULL, NULL, chk_timer_cr_ids,
	     "PR_TIMER_CREATE_RESTORE_IDS: POSIX timers keep their ids"),
	FEAT("overlayfs_maps", NULL, OPT, NULL, NULL, chk_overlayfs,
	     "files mapped from overlayfs", .gap = "files on overlayfs (not verified yet)"),
	FEAT("breakpoints", NULL, OPT, NULL, NULL, chk_breakpoints,
	     "hardware breakpoints (debug registers) of a task", .gap = "debug registers"),
	FEAT("pagemap_scan_guard_pages", NULL, OPT, NULL, NULL, chk_guard_pages,
	     "PAGEMAP_SCAN reports MADV_GUARD_INSTALL guard pages", .gap = "guard pages"),
};

const unsigned int check_features_nr = ARRAY_SIZE(check_features);

const struct check_feature *check_feature_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < check_features_nr; i++) {
		const struct check_feature *f = &check_features[i];

		if (!strcmp(f->name, name) || (f->alias && !strcmp(f->alias, name)))
			return f;
	}
	return NULL;
}

/* One error line naming @bad and every valid name. */
static void unknown_feature(const char *bad)
{
	char names[2048];
	unsigned int i, off = 0;

	names[0] = '\0';
	for (i = 0; i < check_features_nr && off < sizeof(names); i++)
		off += snprintf(names + off, sizeof(names) - off, "%s%s%s%s",
				i ? ", " : "", check_features[i].name,
				check_features[i].alias ? "/" : "",
				check_features[i].alias ? check_features[i].alias : "");
	pr_err("unknown feature '%s'; valid names: %s", bad, names);
}

struct check_tally {
	unsigned int errors;
	char missing_opt[512];		/* optional features found missing */
};

static void note_optional(struct check_tally *t, const char *name)
{
	size_t off = strlen(t->missing_opt);

	snprintf(t->missing_opt + off, sizeof(t->missing_opt) - off, "%s%s",
		 off ? ", " : "", name);
}

static bool (*command_built)(const char *name);

void check_set_command_built(bool (*built)(const char *name))
{
	command_built = built;
}

/* 0 when this criu carries what @f is for; else -1 and what it lacks. */
static int carried(const struct check_feature *f, char *gap, unsigned int len)
{
	if (f->gap) {
		snprintf(gap, len, "%s", f->gap);
		return -1;
	}
	if (f->cmd && !(command_built && command_built(f->cmd))) {
		snprintf(gap, len, "the %s command", f->cmd);
		return -1;
	}
	return 0;
}

/* The kernel lacks @f; whether criu could carry it is said as well. */
static void kernel_lacks(const struct check_feature *f, bool strict, const char *why,
			 struct check_tally *t)
{
	char gap[128] = "";
	bool useful = carried(f, gap, sizeof(gap)) == 0;

	if (strict || (f->required && (!f->needed || f->needed()))) {
		pr_err("%s is missing: this system lacks it (%s)%s%s", f->name, why,
		       useful ? "" : "; not supported by this criu yet either: ", gap);
		t->errors++;
	} else if (f->required) {
		pr_info("%s is missing (%s), not needed: %s", f->name, why, f->instead);
	} else if (useful) {
		pr_warn("optional %s is missing (%s): %s", f->name, f->descr, why);
		note_optional(t, f->name);
	} else {
		pr_info("%s is missing (%s); not supported by this criu yet: %s", f->name, why, gap);
	}
}

/*
 * Check one feature. @strict: the user named it, so missing is an error
 * whatever the table says. Otherwise missing required features are errors,
 * missing optional ones warnings, and what criu cannot carry anyway is
 * only logged. A feature is present when the kernel has it AND this criu
 * can carry it.
 */
static void check_one(const struct check_feature *f, bool strict, struct check_tally *t)
{
	char why[256] = "", gap[128] = "";
	int k = f->check(why, sizeof(why));

	if (k < 0) {
		kernel_lacks(f, strict, why, t);
		return;
	}
	if (carried(f, gap, sizeof(gap)) == 0) {
		pr_info("%s: yes (%s)", f->name, f->descr);
		return;
	}
	if (strict) {
		if (k > 0)
			pr_err("%s: not supported by this criu yet: %s (%s)", f->name, gap, why);
		else
			pr_err("%s: the kernel has it, but it is not supported by this criu yet: %s",
			       f->name, gap);
		t->errors++;
	} else {
		pr_info("%s: not supported by this criu yet: %s", f->name, gap);
	}
}

/* --feature NAME...: all names must be known before anything runs. */
static int check_named(const struct str_list *names, struct check_tally *t)
{
	unsigned int i;

	for (i = 0; i < names->n; i++) {
		if (!check_feature_find(names->v[i])) {
			unknown_feature(names->v[i]);
			return -1;
		}
	}
	for (i = 0; i < names->n; i++)
		check_one(check_feature_find(names->v[i]), true, t);
	return 0;
}

/* Facts that are not features, for -v3 and up with --extra/--all. */
static void log_facts(void)
{
	unsigned int k;

	kerndat_init();
	pr_info("page size %lu", kdat.page_size);
	arch_kdat_log();
	for (k = 0; k < KD_VMA_NR; k++)
		if (kdat.vma[k].present)
			pr_info("%s: %llu bytes", kerndat_vma_name(k),
				(unsigned long long)kdat.vma[k].size);
	pr_info("cgroup: %u v1 hierarchies/controllers, v2 at '%s' (controllers '%s')",
		kdat.cg_v1_nr, kdat.cg_v2_mount, kdat.cg_v2_controllers);
}

int cmd_check(struct cr_options *o)
{
	struct check_tally t = { 0 };
	bool extra = o->check_extra || o->check_all;
	unsigned int i;

	if (o->features.n) {
		if (check_named(&o->features, &t))
			return -1;
	} else {
		if (extra)
			log_facts();
		for (i = 0; i < check_features_nr; i++)
			if (check_features[i].required || extra)
				check_one(&check_features[i], false, &t);
	}
	if (t.errors)
		return -1;
	pr_msg("Looks good.\n");
	if (t.missing_opt[0])
		pr_msg("Optional features missing: %s (dump and restore work without them).\n",
		       t.missing_opt);
	return 0;
}
