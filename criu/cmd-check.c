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
PROBE_CHECK(chk_soft_dirty, KD_SOFT_DIRTY)
PROBE_CHECK(chk_cgroupv2, KD_CGROUP)

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

const struct check_feature check_features[] = {
	{ "ptrace_seize", NULL, REQ, NULL, NULL, chk_ptrace_seize,
	  "PTRACE_SEIZE and PTRACE_INTERRUPT stop a task without a signal" },
	{ "ptrace_peeksiginfo", NULL, REQ, NULL, NULL, chk_peeksiginfo,
	  "PTRACE_PEEKSIGINFO reads pending signals for the image" },
	{ "ptrace_rseq_conf", "get_rseq_conf", REQ, rseq_needed,
	  "no rseq area is registered here", chk_rseq_conf,
	  "PTRACE_GET_RSEQ_CONFIGURATION finds a task's rseq area" },
	{ "map_files", NULL, REQ, NULL, NULL, chk_map_files,
	  "/proc/PID/map_files links open mapped (even deleted) files" },
	{ "kcmp", NULL, REQ, NULL, NULL, chk_kcmp,
	  "kcmp tells whether tasks share files, mm, fs..." },
	{ "clone3_set_tid", NULL, REQ, clone3_needed,
	  "restore can use ns_last_pid", chk_clone3_set_tid,
	  "clone3 with set_tid restores a task with its old pid" },
	{ "ns_last_pid", NULL, REQ, ns_last_pid_needed,
	  "restore can use clone3 set_tid", chk_ns_last_pid,
	  "writing ns_last_pid chooses the next pid (old way)" },
	{ "memfd", NULL, REQ, NULL, NULL, chk_memfd,
	  "memfd_create with seals, for memfd files and the restorer" },
	{ "pidfd_open", NULL, REQ, NULL, NULL, chk_pidfd_open,
	  "pidfd_open gives race-free handles on tasks" },
	{ "vdso", NULL, REQ, NULL, NULL, chk_vdso,
	  "[vdso]/[vvar] layout is one restore knows how to remap" },
	{ "cap_checkpoint_restore", NULL, REQ, NULL, NULL, chk_caps,
	  "CAP_CHECKPOINT_RESTORE, or root with CAP_SYS_ADMIN" },
	{ "prctl_mm_map", NULL, REQ, NULL, NULL, chk_prctl_mm_map,
	  "PR_SET_MM_MAP restores mm fields (brk, args, env, exe)" },
	{ "uffd", NULL, OPT, NULL, NULL, chk_uffd,
	  "userfaultfd, for lazy restore" },
	{ "uffd-noncoop", NULL, OPT, NULL, NULL, chk_uffd_noncoop,
	  "userfaultfd fork/remap/remove/unmap events, for lazy restore of trees" },
	{ "uffd-wp", NULL, OPT, NULL, NULL, chk_uffd_wp,
	  "userfaultfd write-protect faults" },
	{ "uffd_wp_async", NULL, OPT, NULL, NULL, chk_uffd_wp_async,
	  "asynchronous uffd write-protect: dirty tracking for pre-dump" },
	{ "pagemap_scan", NULL, OPT, NULL, NULL, chk_pagemap_scan,
	  "PAGEMAP_SCAN ioctl: fast present/written page lists" },
	{ "tcp_repair", NULL, OPT, NULL, NULL, chk_tcp_repair,
	  "TCP_REPAIR, for established TCP connections" },
	{ "sock_diag_unix", NULL, OPT, NULL, NULL, chk_sock_diag_unix,
	  "sock_diag for unix sockets" },
	{ "sock_diag_inet", NULL, OPT, NULL, NULL, chk_sock_diag_inet,
	  "sock_diag for TCP sockets (inet_diag)" },
	{ "sock_diag_netlink", NULL, OPT, NULL, NULL, chk_sock_diag_netlink,
	  "sock_diag for netlink sockets" },
	{ "sock_diag_packet", NULL, OPT, NULL, NULL, chk_sock_diag_packet,
	  "sock_diag for packet sockets" },
	{ "timens", NULL, OPT, NULL, NULL, chk_timens,
	  "time namespaces keep monotonic clocks across migration" },
	{ "pidfd_getfd", NULL, OPT, NULL, NULL, chk_pidfd_getfd,
	  "pidfd_getfd copies a task's fd without a parasite" },
	{ "seccomp_suspend", NULL, OPT, NULL, NULL, chk_seccomp_suspend,
	  "PTRACE_O_SUSPEND_SECCOMP, for tasks under seccomp" },
	{ "cgroupv2", NULL, OPT, NULL, NULL, chk_cgroupv2,
	  "a cgroup2 mount, for cgroup v2 state" },
	{ "mem_dirty_track", NULL, OPT, NULL, NULL, chk_soft_dirty,
	  "soft-dirty bits; our design tracks dirty pages with uffd_wp_async instead" },
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
	char names[1024];
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

/*
 * Check one feature. @strict: the user named it, so missing is an error
 * whatever the table says. Otherwise missing required features are errors,
 * missing optional ones warnings.
 */
static void check_one(const struct check_feature *f, bool strict, struct check_tally *t)
{
	char why[256] = "";

	if (f->check(why, sizeof(why)) == 0) {
		pr_info("%s: yes (%s)", f->name, f->descr);
		return;
	}
	if (strict || (f->required && (!f->needed || f->needed()))) {
		pr_err("%s is missing: %s", f->name, why);
		t->errors++;
	} else if (f->required) {
		pr_info("%s is missing (%s), not needed: %s", f->name, why, f->instead);
	} else {
		pr_warn("optional %s is missing (%s): %s", f->name, f->descr, why);
		note_optional(t, f->name);
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
	pr_info("page size %lu, xsave area %u bytes, XCR0 %#llx",
		kdat.page_size, kdat.xsave_size, (unsigned long long)kdat.xfeatures);
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
