/*
 * kerndat probes and the check feature table.
 *
 * Machine-independent: table shape, lookup, probes leave nothing behind.
 * Facts that hold on any machine we support: page size, vdso, xsave size as
 * ptrace sees it, every required feature present (CI runs as root on a
 * recent kernel).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <elf.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <linux/magic.h>

#include "unit.h"
#include "log.h"
#include "options.h"
#include "commands.h"
#include "kerndat.h"

/* Every name the design promises, required ones first. */
static const char *const required_names[] = {
	"ptrace_seize", "ptrace_peeksiginfo", "ptrace_rseq_conf", "map_files",
	"kcmp", "clone3_set_tid", "ns_last_pid", "memfd", "pidfd_open", "vdso",
	"cap_checkpoint_restore", "prctl_mm_map",
};
static const char *const optional_names[] = {
	"uffd", "uffd-noncoop", "uffd-wp", "uffd_wp_async", "pagemap_scan",
	"tcp_repair", "sock_diag_unix", "sock_diag_inet", "sock_diag_netlink",
	"sock_diag_packet", "timens", "pidfd_getfd", "seccomp_suspend",
	"cgroupv2", "mem_dirty_track",
};

/* The established tool's names: each must be known here too. */
static const char *const established_names[] = {
	"mnt_id", "mem_dirty_track", "aio_remap", "timerfd", "tun", "tun_ns", "userns",
	"fdinfo_lock", "seccomp_suspend", "seccomp_filters", "loginuid", "cgroupns", "autofs",
	"tcp_half_closed", "compat_cr", "uffd", "uffd-noncoop", "can_map_vdso", "sk_ns",
	"sk_unix_file", "net_diag_raw", "nsid", "link_nsid", "kcmp_epoll", "timens",
	"external_net_ns", "clone3_set_tid", "newifindex", "nftables", "has_ipt_legacy",
	"pidfd_store", "ns_pid", "apparmor_stacking", "network_lock_nftables", "sockopt_buf_lock",
	"memfd_hugetlb", "move_mount_set_group", "openat2", "get_rseq_conf", "ipv6_freebind",
	"pagemap_scan", "timer_cr_ids", "overlayfs_maps", "breakpoints", "pagemap_scan_guard_pages",
};

/*
 * The command table lives in main.c, which unit tests do not link: this
 * double says dump, restore and check are built, and pre-dump when a test
 * asks for it.
 */
static bool pre_dump_built;

static bool command_built(const char *name)
{
	return !strcmp(name, "dump") || !strcmp(name, "restore") || !strcmp(name, "check") ||
	       (pre_dump_built && !strcmp(name, "pre-dump"));
}

static bool no_children(void)
{
	return waitpid(-1, NULL, WNOHANG | __WALL) < 0 && errno == ECHILD;
}

static int test_table_unique(void)
{
	unsigned int i, j;
	const char *ni[2], *nj[2];

	for (i = 0; i < check_features_nr; i++) {
		CHECK(check_features[i].name && check_features[i].check);
		CHECK(check_features[i].descr && check_features[i].descr[0]);
		CHECK(!check_features[i].needed || check_features[i].instead);
		ni[0] = check_features[i].name;
		ni[1] = check_features[i].alias;
		for (j = i + 1; j < check_features_nr; j++) {
			nj[0] = check_features[j].name;
			nj[1] = check_features[j].alias;
			CHECK(strcmp(ni[0], nj[0]));
			CHECK(!ni[1] || strcmp(ni[1], nj[0]));
			CHECK(!nj[1] || strcmp(ni[0], nj[1]));
			CHECK(!ni[1] || !nj[1] || strcmp(ni[1], nj[1]));
		}
	}
	return 0;
}

static int test_lookup(void)
{
	const struct check_feature *f;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(required_names); i++) {
		f = check_feature_find(required_names[i]);
		CHECK(f && f->required);
		CHECK_STR(f->name, required_names[i]);
	}
	for (i = 0; i < ARRAY_SIZE(optional_names); i++) {
		f = check_feature_find(optional_names[i]);
		CHECK(f && !f->required);
	}
	for (i = 0; i < ARRAY_SIZE(established_names); i++) {
		f = check_feature_find(established_names[i]);
		if (!f) {
			snprintf(unit_why, sizeof(unit_why), "%s unknown", established_names[i]);
			return -1;
		}
		CHECK(!f->required || !strcmp(established_names[i], "clone3_set_tid") ||
		      !strcmp(established_names[i], "get_rseq_conf"));
	}
	f = check_feature_find("get_rseq_conf");
	CHECK(f && f == check_feature_find("ptrace_rseq_conf"));
	CHECK(!check_feature_find("mmap_map_files"));
	CHECK(!check_feature_find("KCMP"));
	CHECK(!check_feature_find(""));
	CHECK(!check_feature_find("uffd_noncoop"));
	return 0;
}

/* All probes, twice (second run is cached), leave no child and no zombie. */
static int test_probes_clean(void)
{
	struct kd_status first[KD_NR_PROBES];
	int fd_before, fd_after, i;

	CHECK(no_children());
	fd_before = dup(0);
	close(fd_before);
	kerndat_reset();
	CHECK(kerndat_init() == 0);
	memcpy(first, kdat.st, sizeof(first));
	CHECK(kerndat_init() == 0);
	CHECK(!memcmp(first, kdat.st, sizeof(first)));
	for (i = 0; i < KD_NR_PROBES; i++) {
		CHECK(kdat.st[i].done);
		CHECK(kdat.st[i].ok || kdat.st[i].step);	/* failures say why */
		CHECK(kerndat_probe_name(i)[0] != '?');
	}
	CHECK(no_children());
	fd_after = dup(0);
	close(fd_after);
	CHECK(fd_after == fd_before);	/* no fd leaked */
	return 0;
}

static int test_page_size(void)
{
	kerndat_init();
	CHECK(kdat.page_size == (unsigned long)sysconf(_SC_PAGESIZE));
	return 0;
}

static int test_vdso(void)
{
	const struct kd_vma *v = &kdat.vma[KD_VMA_VDSO];

	kerndat_init();
	CHECK(kdat.vdso_layout_known);
	CHECK(v->present && v->size && v->size % kdat.page_size == 0);
	CHECK(v->start == getauxval(AT_SYSINFO_EHDR));
	return 0;
}

/* What PTRACE_GETREGSET(NT_X86_XSTATE) returns for a stopped child. */
static long ptrace_xstate_size(uint64_t *xfeatures)
{
	static char buf[1 << 16] __attribute__((aligned(64)));
	struct iovec iov = { buf, sizeof(buf) };
	int status;
	long ret = -1;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	if (pid < 0)
		return -1;
	if (!ptrace(PTRACE_SEIZE, pid, NULL, NULL) &&
	    !ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) &&
	    waitpid(pid, &status, __WALL) == pid &&
	    !ptrace(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &iov)) {
		ret = iov.iov_len;
		/* ptrace puts XCR0 in the first software-reserved bytes (464) */
		memcpy(xfeatures, buf + 464, sizeof(*xfeatures));
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, __WALL);
	return ret;
}

static int test_xsave(void)
{
	uint64_t xf = 0;
	long size;

	kerndat_init();
	CHECK(kdat.has_fpu);
	CHECK(kdat.arch.xfeatures & 3);	/* x87 and SSE are always enabled */
	size = ptrace_xstate_size(&xf);
	CHECK(size > 0);
	CHECK((uint64_t)size == kdat.arch.xsave_size);
	CHECK(xf == kdat.arch.xfeatures);
	CHECK(no_children());
	return 0;
}

/* CI is root on a recent kernel: nothing required may be missing. */
static int test_required_present(void)
{
	char why[256];
	unsigned int i;

	for (i = 0; i < check_features_nr; i++) {
		const struct check_feature *f = &check_features[i];

		if (!f->required)
			continue;
		why[0] = '\0';
		if (f->check(why, sizeof(why)) && (!f->needed || f->needed())) {
			snprintf(unit_why, sizeof(unit_why), "%s missing: %s", f->name, why);
			return -1;
		}
	}
	CHECK(kdat.has_clone3_set_tid || kdat.has_ns_last_pid);
	return 0;
}

extern const unsigned int __rseq_size __attribute__((weak));

static int test_rseq(void)
{
	kerndat_init();
	if (&__rseq_size && __rseq_size) {	/* glibc registered rseq */
		CHECK(kdat.rseq_in_use);
		CHECK(kdat.has_rseq_config);
		CHECK(kdat.rseq_size >= 20);
	}
	return 0;
}

static int test_cgroup(void)
{
	struct statfs sf;
	unsigned int i;

	kerndat_init();
	if (kdat.cg_v2_mount[0]) {
		CHECK(statfs(kdat.cg_v2_mount, &sf) == 0);
		CHECK(sf.f_type == CGROUP2_SUPER_MAGIC);
	}
	for (i = 0; i < kdat.cg_v1_nr; i++)
		CHECK(kdat.cg_v1[i][0] && !strchr(kdat.cg_v1[i], ','));
	return 0;
}

/* uffd features are internally consistent with the wp_async probe. */
static int test_uffd_consistent(void)
{
	kerndat_init();
	if (kdat.has_uffd_wp_async) {
		CHECK(kdat.has_uffd && kdat.has_pagemap_scan);
		CHECK(kdat.uffd_features & (1ULL << 15));
	}
	if (!kdat.has_uffd)
		CHECK(!kdat.uffd_features);
	return 0;
}

/* Run cmd_check with stdout captured into @out. */
static int run_check(struct cr_options *o, char *out, size_t len)
{
	int saved = dup(1), fd, ret;
	char path[] = "/tmp/test-kerndat-XXXXXX";
	ssize_t n;

	fd = mkstemp(path);
	if (fd < 0 || saved < 0)
		return -2;
	unlink(path);
	fflush(stdout);
	dup2(fd, 1);
	ret = cmd_check(o);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	n = pread(fd, out, len - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	return ret;
}

static int test_cmd_check(void)
{
	struct cr_options o;
	char *names[2] = { "kcmp", "get_rseq_conf" };
	char *bad[2] = { "kcmp", "no_such_feature" };
	char *sd[1] = { "mem_dirty_track" };
	char out[256];
	int ret;

	memset(&o, 0, sizeof(o));
	CHECK(run_check(&o, out, sizeof(out)) == 0);
	CHECK(!strncmp(out, "Looks good.\n", 12));
	o.features.v = names;
	o.features.n = 2;
	CHECK(run_check(&o, out, sizeof(out)) == 0);
	CHECK_STR(out, "Looks good.\n");
	o.features.v = bad;
	log_set_level(LOG_NONE);	/* the expected error line */
	CHECK(run_check(&o, out, sizeof(out)) == -1);
	log_set_level(DEFAULT_LOGLEVEL);
	CHECK_STR(out, "");
	memset(&o, 0, sizeof(o));
	o.check_all = true;
	log_set_level(LOG_ERROR);	/* optional ones may warn */
	CHECK(run_check(&o, out, sizeof(out)) == 0);
	log_set_level(DEFAULT_LOGLEVEL);
	CHECK(!strncmp(out, "Looks good.\n", 12));
	/* what criu cannot carry is not a missing optional feature of the machine */
	CHECK(!strstr(out, "mem_dirty_track") && !strstr(out, "tun"));
	/* a named optional feature is required: missing means failure */
	memset(&o, 0, sizeof(o));
	o.features.v = sd;
	o.features.n = 1;
	log_set_level(LOG_NONE);
	ret = run_check(&o, out, sizeof(out));
	log_set_level(DEFAULT_LOGLEVEL);
	CHECK(ret == -1 && !strcmp(out, ""));	/* pre-dump is not built */
	return 0;
}

/* A feature is there when the kernel has it AND criu can carry it. */
static int test_carried(void)
{
	const struct check_feature *f;
	char *names[1] = { "mem_dirty_track" };
	struct cr_options o;
	int ret, ret2, ret3;
	char why[256], out[256];

	kerndat_init();
	/* tun: the kernel side is probed, but criu cannot dump tun files yet */
	f = check_feature_find("tun");
	CHECK(f && f->gap);
	CHECK(f->check(why, sizeof(why)) == (kdat.st[KD_TUN].ok ? 0 : -1));
	/* mem_dirty_track follows our tracking and the pre-dump command */
	f = check_feature_find("mem_dirty_track");
	CHECK(f && f->cmd && !strcmp(f->cmd, "pre-dump") && !f->gap);
	CHECK((f->check(why, sizeof(why)) == 0) == kdat.has_uffd_wp_async);
	memset(&o, 0, sizeof(o));
	o.features.v = names;
	o.features.n = 1;
	log_set_level(LOG_NONE);
	ret = run_check(&o, out, sizeof(out));		/* no command table: not built */
	check_set_command_built(command_built);
	ret2 = run_check(&o, out, sizeof(out));	/* dump, restore, check only */
	pre_dump_built = true;
	ret3 = run_check(&o, out, sizeof(out));	/* and pre-dump */
	pre_dump_built = false;
	check_set_command_built(NULL);
	log_set_level(DEFAULT_LOGLEVEL);
	CHECK(ret == -1 && ret2 == -1);
	CHECK(ret3 == (kdat.has_uffd_wp_async ? 0 : -1));
	/* what dump and restore use today is carried */
	f = check_feature_find("mnt_id");
	CHECK(f && !f->gap && !f->cmd);
	f = check_feature_find("timer_cr_ids");
	CHECK(f && !f->gap && !f->cmd);
	CHECK(no_children());
	return 0;
}

static const struct unit_case cases[] = {
	{ "feature table: names and aliases unique", test_table_unique },
	{ "feature table: lookup by name/alias, unknown rejected", test_lookup },
	{ "probes: all run, cached, no child/fd left", test_probes_clean },
	{ "page size is sysconf's", test_page_size },
	{ "vdso found where auxv says", test_vdso },
	{ "xsave size/features match PTRACE_GETREGSET", test_xsave },
	{ "every required feature is present", test_required_present },
	{ "rseq config read when glibc uses rseq", test_rseq },
	{ "cgroup2 mount is a cgroup2 fs", test_cgroup },
	{ "uffd results consistent", test_uffd_consistent },
	{ "cmd_check: default, --feature, unknown, --all", test_cmd_check },
	{ "features: kernel and criu both", test_carried },
};

UNIT_MAIN(cases)
