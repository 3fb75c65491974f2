/*
 * Inside kerndat: what kerndat.c and kerndat-check.c share. Not for the
 * rest of criu, which reads kerndat.h.
 *
 * A probe is "int probe_NAME(struct kd_status *st)": 0 when the feature
 * works, else -1 after kd_fail() recorded the failing step and errno.
 */
#ifndef CRIU_KERNDAT_PROBE_H
#define CRIU_KERNDAT_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kerndat.h"
#include "small-file.h"

/* Record why a probe failed; returns -1. */
int kd_fail(struct kd_status *st, const char *step, int err);


/* What a probe child hands back through shared memory. */
struct kd_child_res {
	struct kd_status st;
	long val;
};

/* Run @fn in a forked (or clone3 @flags) child, reaped before returning. */
int kd_run_child(uint64_t flags, int (*fn)(struct kd_child_res *),
		 struct kd_child_res *out, struct kd_status *st);

/* Seize a sleeper with @opts, stop it, run @fn on it (if any), reap it. */
int kd_with_stopped_child(long opts, int (*fn)(pid_t, struct kd_status *),
			  struct kd_status *st);

/* One SOCK_DIAG_BY_FAMILY dump request, read to its end. */
int kd_sock_diag_dump(const void *req, size_t len, const char *what, struct kd_status *st);

int probe_mnt_id(struct kd_status *st);
int probe_fdinfo_lock(struct kd_status *st);
int probe_timerfd(struct kd_status *st);
int probe_kcmp_epoll(struct kd_status *st);
int probe_aio(struct kd_status *st);
int probe_tun(struct kd_status *st);
int probe_tun_ns(struct kd_status *st);
int probe_userns(struct kd_status *st);
int probe_cgroupns(struct kd_status *st);
int probe_netns(struct kd_status *st);
int probe_loginuid(struct kd_status *st);
int probe_apparmor(struct kd_status *st);
int probe_ns_pid(struct kd_status *st);
int probe_autofs(struct kd_status *st);
int probe_overlayfs(struct kd_status *st);
int probe_ipt_legacy(struct kd_status *st);
/* The architecture's (criu/arch/ARCH/kerndat-arch.c). */
int probe_arch_fpu(struct kd_status *st);
int probe_compat(struct kd_status *st);
int probe_map_vdso(struct kd_status *st);
int probe_sk_ns(struct kd_status *st);
int probe_sk_unix_file(struct kd_status *st);
int probe_diag_raw(struct kd_status *st);
int probe_nsid(struct kd_status *st);
int probe_so_buf_lock(struct kd_status *st);
int probe_ipv6_freebind(struct kd_status *st);
int probe_memfd_hugetlb(struct kd_status *st);
int probe_move_mount_group(struct kd_status *st);
int probe_openat2(struct kd_status *st);
int probe_timer_cr_ids(struct kd_status *st);
int probe_breakpoints(struct kd_status *st);
int probe_guard_pages(struct kd_status *st);
int probe_seccomp_filters(struct kd_status *st);
int probe_nftables(struct kd_status *st);

#endif /* CRIU_KERNDAT_PROBE_H */
