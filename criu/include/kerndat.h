/*
 * kerndat: what the running kernel (and this process's privileges) can do.
 *
 * Dump and restore choose code paths from the answers; `criu check` reports
 * them. Every answer comes from a real attempt (a syscall, an ioctl, a
 * ptrace request on a throwaway child), never from the kernel version.
 *
 * Usage:
 *   kerndat_init();                 run every probe once (a few ms)
 *   if (kdat.has_pagemap_scan) ...  then read the fields
 * or, to pay only for what is needed:
 *   kerndat_probe(KD_UFFD);         run one probe (cached after the first call)
 *
 * A probe that could not run at all (fork failed, ...) counts as "feature
 * missing"; its status says which step failed and with what errno.
 * Probes that need a child create it, then kill and reap it before they
 * return, on every path.
 */
#ifndef CRIU_KERNDAT_H
#define CRIU_KERNDAT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "arch-kdat.h"

enum kd_probe_id {
	KD_CAPS,		/* capget: CAP_CHECKPOINT_RESTORE, CAP_SYS_ADMIN */
	KD_PTRACE_SEIZE,	/* PTRACE_SEIZE + PTRACE_INTERRUPT */
	KD_PEEKSIGINFO,		/* PTRACE_PEEKSIGINFO finds a queued signal */
	KD_RSEQ_CONF,		/* PTRACE_GET_RSEQ_CONFIGURATION */
	KD_SECCOMP_SUSPEND,	/* PTRACE_O_SUSPEND_SECCOMP */
	KD_MAP_FILES,		/* readlink /proc/self/map_files/A-B */
	KD_KCMP,		/* kcmp(KCMP_FILE / KCMP_VM) on self */
	KD_CLONE3_SET_TID,	/* clone3 with set_tid lands on the asked pid */
	KD_NS_LAST_PID,		/* write ns_last_pid, next fork gets N+1 */
	KD_MEMFD,		/* memfd_create + seals */
	KD_PIDFD_OPEN,		/* pidfd_open on self */
	KD_PIDFD_GETFD,		/* pidfd_getfd on self, kcmp-verified */
	KD_PRCTL_MM_MAP,	/* PR_SET_MM_MAP with unchanged values */
	KD_VDSO,		/* [vdso]/[vvar]... layout from maps + auxv */
	KD_FPU,			/* the FPU area: probe_arch_fpu */
	KD_UFFD,		/* userfaultfd + UFFDIO_API */
	KD_UFFD_WP_ASYNC,	/* UFFD_FEATURE_WP_ASYNC enabled and registered */
	KD_PAGEMAP_SCAN,	/* PAGEMAP_SCAN ioctl on /proc/self/pagemap */
	KD_SOFT_DIRTY,		/* clear_refs 4 + pagemap bit 55 (in a child) */
	KD_TCP_REPAIR,		/* setsockopt(TCP_REPAIR) */
	KD_SOCK_DIAG_UNIX,	/* one dump request per family over */
	KD_SOCK_DIAG_INET,	/* NETLINK_SOCK_DIAG, answered without */
	KD_SOCK_DIAG_NETLINK,	/* an error */
	KD_SOCK_DIAG_PACKET,
	KD_TIMENS,		/* unshare(CLONE_NEWTIME) + offsets, in a child */
	KD_CGROUP,		/* cgroup layout; ok when a cgroup2 mount exists */
	/* kernel sides of the established tool's feature names (check only) */
	KD_MNT_ID,		/* fdinfo shows mnt_id */
	KD_FDINFO_LOCK,		/* fdinfo shows a flock as a lock: line */
	KD_TIMERFD,		/* timerfd fdinfo shows its clock and timer */
	KD_KCMP_EPOLL,		/* kcmp(KCMP_EPOLL_TFD) finds an epoll target */
	KD_AIO,			/* io_setup / io_destroy */
	KD_TUN,			/* /dev/net/tun + TUNSETIFF */
	KD_TUN_NS,		/* TUNGETDEVNETNS on an attached tun fd */
	KD_USERNS,		/* NS_GET_USERNS on a namespace fd */
	KD_CGROUPNS,		/* /proc/self/ns/cgroup */
	KD_NETNS,		/* /proc/self/ns/net */
	KD_NS_PID,		/* NSpid: in /proc/self/status */
	KD_LOGINUID,		/* /proc/self/loginuid */
	KD_AUTOFS,		/* autofs in /proc/filesystems */
	KD_OVERLAYFS,		/* overlay in /proc/filesystems */
	KD_APPARMOR,		/* /sys/kernel/security/apparmor */
	KD_IPT_LEGACY,		/* an iptables-legacy binary in PATH */
	KD_COMPAT,		/* int $0x80 answers in a child (IA32 emulation) */
	KD_MAP_VDSO,		/* ARCH_MAP_VDSO_64 maps a vdso again in a child */
	KD_SK_NS,		/* SIOCGSKNS on a socket */
	KD_SK_UNIX_FILE,	/* SIOCUNIXFILE known (ENOENT when unbound) */
	KD_DIAG_RAW,		/* sock_diag for raw inet sockets */
	KD_NSID,		/* NETLINK_LISTEN_ALL_NSID on an rtnetlink socket */
	KD_MEMFD_HUGETLB,	/* memfd_create(MFD_HUGETLB) */
	KD_MOVE_MOUNT_GROUP,	/* move_mount knows MOVE_MOUNT_SET_GROUP */
	KD_OPENAT2,		/* openat2 */
	KD_SO_BUF_LOCK,		/* setsockopt(SO_BUF_LOCK) */
	KD_IPV6_FREEBIND,	/* setsockopt(IPV6_FREEBIND) */
	KD_TIMER_CR_IDS,	/* prctl(PR_TIMER_CREATE_RESTORE_IDS) */
	KD_BREAKPOINTS,		/* debug registers through PTRACE_POKEUSER */
	KD_GUARD_PAGES,		/* PAGEMAP_SCAN reports MADV_GUARD_INSTALL pages */
	KD_SECCOMP_FILTERS,	/* PTRACE_SECCOMP_GET_FILTER is a known request */
	KD_NFTABLES,		/* nf_tables answers NFT_MSG_GETGEN */
	KD_NR_PROBES,
};

/* Outcome of one probe. */
struct kd_status {
	bool done;		/* the probe has run */
	bool ok;		/* the feature works */
	int err;		/* errno of the failing step (0: none) */
	const char *step;	/* what failed, e.g. "PTRACE_SEIZE" */
};

/* Special (kernel-provided) mappings we know how to handle. */
enum kd_vma_kind {
	KD_VMA_VDSO,
	KD_VMA_VVAR,
	KD_VMA_VVAR_VCLOCK,
	KD_VMA_VSYSCALL,
	KD_VMA_NR,
};

struct kd_vma {
	bool present;
	uint64_t start;
	uint64_t size;
};

#define KD_CG_NAME_MAX	32
#define KD_CG_MAX	24

struct kerndat {
	struct kd_status st[KD_NR_PROBES];

	/* basics */
	unsigned long page_size;

	/* privileges (KD_CAPS) */
	uint64_t cap_eff;
	unsigned int cap_last_cap;
	bool is_root;				/* euid 0 */
	bool has_cap_checkpoint_restore;	/* CAP_CHECKPOINT_RESTORE effective */
	bool has_cap_sys_admin;

	/* ptrace */
	bool has_ptrace_seize;
	bool has_peeksiginfo;
	bool has_rseq_config;
	bool rseq_in_use;		/* a child of ours has rseq registered */
	uint32_t rseq_size;		/* as reported for that child */
	uint32_t rseq_sig;
	bool has_seccomp_suspend;

	/* process tree */
	bool has_map_files;
	bool has_kcmp;
	bool has_clone3_set_tid;
	bool has_ns_last_pid;		/* writable and honoured */
	bool has_memfd;
	bool has_pidfd_open;
	bool has_pidfd_getfd;
	bool has_prctl_mm_map;
	unsigned int prctl_mm_map_size;	/* PR_SET_MM_MAP_SIZE */
	bool has_timens;

	/* vdso layout (KD_VDSO) */
	struct kd_vma vma[KD_VMA_NR];
	bool vdso_layout_known;		/* [vdso] found, no unknown special vma */

	/* the FPU area (KD_FPU): its size and components, arch-kdat.h */
	bool has_fpu;
	struct arch_kdat arch;

	/* memory tracking */
	bool has_uffd;
	uint64_t uffd_features;		/* what UFFDIO_API offered */
	bool has_uffd_wp_async;
	bool has_pagemap_scan;
	bool has_soft_dirty;

	/* network */
	bool has_tcp_repair;
	bool has_sock_diag_unix;
	bool has_sock_diag_inet;
	bool has_sock_diag_netlink;
	bool has_sock_diag_packet;

	/* cgroups (KD_CGROUP) */
	unsigned int cg_v1_nr;
	char cg_v1[KD_CG_MAX][KD_CG_NAME_MAX];	/* controllers with a v1 mount */
	char cg_v2_mount[PATH_MAX];		/* "" when no cgroup2 mount */
	char cg_v2_controllers[256];		/* its root cgroup.controllers */
};

extern struct kerndat kdat;

/* Run every probe not run yet. Returns 0 (missing features are not errors). */
int kerndat_init(void);

/*
 * Run probe @id unless it already ran. Returns 0 when the feature works,
 * -1 when not; kdat.st[id] says why.
 */
int kerndat_probe(enum kd_probe_id id);

/* Forget every result (tests use it to run the probes again). */
void kerndat_reset(void);

const char *kerndat_probe_name(enum kd_probe_id id);
const char *kerndat_vma_name(enum kd_vma_kind k);

/* The architecture's kdat facts in one pr_info line (criu/arch/ARCH/kerndat-arch.c). */
void arch_kdat_log(void);

/*
 * The feature table of `criu check` (cmd-check.c), exposed for the unit test.
 * A required feature with a @needed hook is only required when the hook
 * says so (e.g. clone3_set_tid is not needed when ns_last_pid works);
 * @instead then explains what is used instead.
 */
struct check_feature {
	const char *name;
	const char *alias;		/* NULL or a second accepted name */
	bool required;			/* needed by any single-process dump */
	bool (*needed)(void);		/* NULL: always, when required */
	const char *instead;
	/* 0 present; -1 missing, with the reason written into @why */
	int (*check)(char *why, unsigned int len);
	const char *descr;
	/*
	 * What our criu can carry: the feature is only of use to command
	 * @cmd (NULL: any), and @gap (NULL: none) names what of it this criu
	 * cannot checkpoint yet. A feature the kernel has but criu cannot
	 * carry is missing all the same.
	 */
	const char *cmd;
	const char *gap;
};

extern const struct check_feature check_features[];
extern const unsigned int check_features_nr;

/* Table entry called @name (or aliased so); NULL if unknown. */
const struct check_feature *check_feature_find(const char *name);

#endif /* CRIU_KERNDAT_H */
