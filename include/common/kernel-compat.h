/*
 * Kernel ABI newer than the installed userspace headers (Linux 6.1).
 *
 * Every definition here is guarded, so that newer headers win when they
 * are present. The kernel version that introduced each item is noted.
 * Kept free of libc assumptions: only <linux/types.h> is needed.
 */
#ifndef COMMON_KERNEL_COMPAT_H
#define COMMON_KERNEL_COMPAT_H

#include <linux/types.h>
#include <linux/ioctl.h>

/* ---- userfaultfd (linux/userfaultfd.h) ---------------------------- */

#ifndef UFFD_FEATURE_WP_UNPOPULATED		/* 6.4 */
# define UFFD_FEATURE_WP_UNPOPULATED	(1 << 13)
#endif
#ifndef UFFD_FEATURE_POISON			/* 6.6 */
# define UFFD_FEATURE_POISON		(1 << 14)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC			/* 6.7 */
# define UFFD_FEATURE_WP_ASYNC		(1 << 15)
#endif
#ifndef UFFD_FEATURE_MOVE			/* 6.8 */
# define UFFD_FEATURE_MOVE		(1 << 16)
#endif

/* ---- mmap (linux/mman.h) ------------------------------------------ */

#ifndef MAP_DROPPABLE				/* 6.11: a mapping type, like MAP_PRIVATE */
# define MAP_DROPPABLE		0x08
#endif

/* ---- prctl (linux/prctl.h) --------------------------------------- */

#ifndef PR_SET_MDWE				/* 6.3 */
# define PR_SET_MDWE			65
# define PR_MDWE_REFUSE_EXEC_GAIN	(1UL << 0)
# define PR_GET_MDWE			66
#endif
#ifndef PR_SET_MEMORY_MERGE			/* 6.4 */
# define PR_SET_MEMORY_MERGE		67
# define PR_GET_MEMORY_MERGE		68
#endif

/* ---- PAGEMAP_SCAN ioctl on /proc/PID/pagemap (linux/fs.h), 6.7 --- */

#ifndef PAGEMAP_SCAN
# define PAGE_IS_WPALLOWED	(1 << 0)
# define PAGE_IS_WRITTEN	(1 << 1)
# define PAGE_IS_FILE		(1 << 2)
# define PAGE_IS_PRESENT	(1 << 3)
# define PAGE_IS_SWAPPED	(1 << 4)
# define PAGE_IS_PFNZERO	(1 << 5)
# define PAGE_IS_HUGE		(1 << 6)
# define PAGE_IS_SOFT_DIRTY	(1 << 7)
# define PAGE_IS_GUARD		(1 << 8)	/* 6.14 */

struct page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};

# define PM_SCAN_WP_MATCHING	(1 << 0)
# define PM_SCAN_CHECK_WPASYNC	(1 << 1)

struct pm_scan_arg {
	__u64 size;		/* sizeof(struct pm_scan_arg) */
	__u64 flags;
	__u64 start;
	__u64 end;
	__u64 walk_end;		/* out: where the walk stopped */
	__u64 vec;		/* struct page_region array */
	__u64 vec_len;
	__u64 max_pages;	/* 0: no limit */
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};

# define PAGEMAP_SCAN		_IOWR('f', 16, struct pm_scan_arg)
#endif

/* ---- clone3 (linux/sched.h): set_tid since 5.5, cgroup since 5.7 -- */

#ifndef CLONE_CLEAR_SIGHAND
# define CLONE_CLEAR_SIGHAND	0x100000000ULL	/* 5.5 */
#endif
#ifndef CLONE_INTO_CGROUP
# define CLONE_INTO_CGROUP	0x200000000ULL	/* 5.7 */
#endif

/* ---- pidfd ------------------------------------------------------ */

#ifndef __NR_pidfd_open
# define __NR_pidfd_open	434		/* 5.3 */
#endif
#ifndef __NR_clone3
# define __NR_clone3		435		/* 5.3 */
#endif
#ifndef __NR_pidfd_getfd
# define __NR_pidfd_getfd	438		/* 5.6 */
#endif
#ifndef PIDFD_THREAD
# define PIDFD_THREAD		O_EXCL		/* 6.9: a pidfd of one thread */
#endif
/* PIDFD_GET_INFO (6.13) with the exit status of a reaped process (6.15) */
struct compat_pidfd_info {
	__u64	mask;
	__u64	cgroupid;
	__u32	pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	__s32	exit_code;
};
#define COMPAT_PIDFD_GET_INFO	_IOWR(0xFF, 11, struct compat_pidfd_info)
#define COMPAT_PIDFD_INFO_EXIT	(1ULL << 3)

/* ---- ptrace ----------------------------------------------------- */

#ifndef PTRACE_GET_RSEQ_CONFIGURATION		/* 5.13 */
# define PTRACE_GET_RSEQ_CONFIGURATION	0x420f
#endif
#ifndef PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG	/* 6.11 */
# define PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG	0x4210
# define PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG	0x4211
/* struct ptrace_sud_config (6.11): mode, selector, offset, len */
struct ptrace_sud_config {
	unsigned long long	mode;
	unsigned long long	selector;
	unsigned long long	offset;
	unsigned long long	len;
};
#endif

/* ---- memfd (linux/memfd.h) ------------------------------------- */

#ifndef MFD_EXEC				/* 6.3 */
# define MFD_NOEXEC_SEAL	0x0008U
# define MFD_EXEC		0x0010U
#endif
#ifndef F_SEAL_EXEC				/* 6.3, linux/fcntl.h */
# define F_SEAL_EXEC		0x0020
#endif

/* ---- membarrier (linux/membarrier.h has enum constants: own names) ---- */

#define MEMBARRIER_GET_REGISTRATIONS	(1 << 9)	/* 6.3 */
/* The registrations a process can have (MEMBARRIER_CMD_REGISTER_*). */
#define MEMBARRIER_REGISTER_GLOBAL_EXPEDITED		(1 << 2)
#define MEMBARRIER_REGISTER_PRIVATE_EXPEDITED		(1 << 4)	/* 4.14 */
#define MEMBARRIER_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE	(1 << 6)	/* 4.16 */
#define MEMBARRIER_REGISTER_PRIVATE_EXPEDITED_RSEQ	(1 << 8)	/* 5.10 */
#define MEMBARRIER_REGISTRATIONS	(MEMBARRIER_REGISTER_GLOBAL_EXPEDITED | \
					 MEMBARRIER_REGISTER_PRIVATE_EXPEDITED | \
					 MEMBARRIER_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE | \
					 MEMBARRIER_REGISTER_PRIVATE_EXPEDITED_RSEQ)

/* ---- memfd_secret, landlock and friends are not needed yet ------ */

/* ---- fd kinds: ioctls whose uapi headers clash with glibc's ---------- */

#ifndef TFD_IOC_SET_TICKS			/* 3.17, linux/timerfd.h */
# define TFD_IOC_SET_TICKS	_IOW('T', 0, __u64)
#endif
#ifndef INOTIFY_IOC_SETNEXTWD			/* 4.13, linux/inotify.h */
# define INOTIFY_IOC_SETNEXTWD	_IOW('I', 0, __s32)
#endif

#ifndef EPIOCSPARAMS				/* 6.9, linux/eventpoll.h */
struct epoll_params {
	__u32 busy_poll_usecs;
	__u16 busy_poll_budget;
	__u8 prefer_busy_poll;
	__u8 __pad;		/* must be 0 */
};
# define EPIOCSPARAMS		_IOW(0x8A, 0x01, struct epoll_params)
# define EPIOCGPARAMS		_IOR(0x8A, 0x02, struct epoll_params)
#endif

/* ---- memory and process control -------------------------------- */

#ifndef MADV_GUARD_INSTALL			/* 6.13, asm-generic/mman-common.h */
# define MADV_GUARD_INSTALL	102
# define MADV_GUARD_REMOVE	103
#endif
#ifndef PR_TIMER_CREATE_RESTORE_IDS		/* 6.15, linux/prctl.h */
# define PR_TIMER_CREATE_RESTORE_IDS		77
# define PR_TIMER_CREATE_RESTORE_IDS_GET	2
#endif

/* ---- socket options (asm-generic/socket.h, linux/in*.h, linux/tcp.h) -- */

#ifndef PACKET_VNET_HDR_SZ			/* 6.2, linux/if_packet.h */
# define PACKET_VNET_HDR_SZ	24
#endif
#ifndef SO_PASSPIDFD				/* 6.5 */
# define SO_PASSPIDFD		76
# define SO_PEERPIDFD		77
#endif
#ifndef SO_RCVPRIORITY				/* 6.14 */
# define SO_RCVPRIORITY		82
#endif
#ifndef SO_PASSRIGHTS				/* 6.16 */
# define SO_PASSRIGHTS		83
#endif
#ifndef IP_LOCAL_PORT_RANGE			/* 6.3 */
# define IP_LOCAL_PORT_RANGE	51
#endif
#ifndef IP_PROTOCOL				/* 6.0 */
# define IP_PROTOCOL		52
#endif
#ifndef IPV6_FLOWINFO				/* 2.6.12, not in glibc's netinet/in.h */
# define IPV6_FLOWINFO		11
#endif
#ifndef IPV6_FLOWINFO_SEND			/* 2.6.12, likewise */
# define IPV6_FLOWINFO_SEND	33
#endif
#ifndef UDPLITE_SEND_CSCOV			/* 2.6.20, not in glibc's netinet/udp.h */
# define UDPLITE_SEND_CSCOV	10
# define UDPLITE_RECV_CSCOV	11
#endif
#ifndef TCP_IS_MPTCP				/* 5.16, not in glibc's netinet/tcp.h */
# define TCP_IS_MPTCP		43
#endif
#ifndef TCP_RTO_MAX_MS				/* 6.15 */
# define TCP_RTO_MAX_MS		44
#endif
#ifndef TCP_RTO_MIN_US				/* 6.15 */
# define TCP_RTO_MIN_US		45
#endif
#ifndef TCP_DELACK_MAX_US			/* 6.15 */
# define TCP_DELACK_MAX_US	46
#endif

#endif /* COMMON_KERNEL_COMPAT_H */
