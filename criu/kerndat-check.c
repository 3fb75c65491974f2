/*
 * Probes only `criu check` reports: the kernel sides of the feature names
 * the established tool knows (Documentation/check.md has the table). Dump
 * and restore do not read these answers; the probe table in kerndat.c
 * runs them like every other probe, with the same rules.
 */
#define LOG_PREFIX "kerndat: "

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/user.h>
#include <net/if.h>
#include <netinet/in.h>
#include <asm/prctl.h>
#include <linux/if_tun.h>
#include <linux/inet_diag.h>
#include <linux/kcmp.h>
#include <linux/mount.h>
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/nsfs.h>
#include <linux/openat2.h>
#include <linux/sockios.h>
#include <linux/un.h>

#include "kernel-compat.h"
#include "compiler.h"
#include "log.h"
#include "kerndat.h"
#include "kerndat-probe.h"

/* Does fdinfo of @fd hold a line starting with @key? */
static int fdinfo_has(int fd, const char *key, const char *what, struct kd_status *st)
{
	char path[64], buf[4096], pat[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	snprintf(pat, sizeof(pat), "\n%s", key);
	if (read_small_file(path, buf, sizeof(buf)) < 0)
		return kd_fail(st, "read /proc/self/fdinfo", errno);
	pr_debug("fdinfo of %s %s a '%s' line", what, strstr(buf, pat) ? "has" : "lacks", key);
	return strstr(buf, pat) ? 0 : kd_fail(st, what, ENOENT);
}

int probe_mnt_id(struct kd_status *st)
{
	int fd = open("/", O_PATH | O_CLOEXEC), ret;

	if (fd < 0)
		return kd_fail(st, "open / O_PATH", errno);
	ret = fdinfo_has(fd, "mnt_id:", "fdinfo mnt_id: line", st);
	close(fd);
	return ret;
}

int probe_fdinfo_lock(struct kd_status *st)
{
	int fd = memfd_create("criu-probe", MFD_CLOEXEC), ret;

	if (fd < 0)
		return kd_fail(st, "memfd_create", errno);
	if (flock(fd, LOCK_SH))
		ret = kd_fail(st, "flock", errno);
	else
		ret = fdinfo_has(fd, "lock:", "fdinfo lock: line of a flock", st);
	close(fd);
	return ret;
}

int probe_timerfd(struct kd_status *st)
{
	struct itimerspec its = { .it_value = { .tv_sec = 1000 } };
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC), ret;

	if (fd < 0)
		return kd_fail(st, "timerfd_create", errno);
	if (timerfd_settime(fd, 0, &its, NULL))
		ret = kd_fail(st, "timerfd_settime", errno);
	else
		ret = fdinfo_has(fd, "it_value:", "timerfd fdinfo it_value: line", st);
	close(fd);
	return ret;
}

int probe_kcmp_epoll(struct kd_status *st)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct kcmp_epoll_slot slot = { 0 };
	int ep = epoll_create1(EPOLL_CLOEXEC), efd = eventfd(0, EFD_CLOEXEC), ret = -1;

	if (ep < 0 || efd < 0) {
		kd_fail(st, "epoll_create1/eventfd", errno);
		goto out;
	}
	slot.efd = ep;
	slot.tfd = efd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev))
		kd_fail(st, "epoll_ctl", errno);
	else if (syscall(SYS_kcmp, getpid(), getpid(), KCMP_EPOLL_TFD, efd, &slot))
		kd_fail(st, "kcmp(KCMP_EPOLL_TFD)", errno);
	else
		ret = 0;
	pr_debug("kcmp(KCMP_EPOLL_TFD) of an eventfd in an epoll: %s", ret ? "failed" : "same");
out:
	if (ep >= 0)
		close(ep);
	if (efd >= 0)
		close(efd);
	return ret;
}

int probe_aio(struct kd_status *st)
{
	unsigned long ctx = 0;

	if (syscall(SYS_io_setup, 1, &ctx))
		return kd_fail(st, "io_setup", errno);
	syscall(SYS_io_destroy, ctx);
	pr_debug("io_setup made an AIO ring at %#lx", ctx);
	return 0;
}

/* A tun device (gone with its fd); @ns: also ask for its network namespace. */
static int tun_try(bool ns, struct kd_status *st)
{
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC), nsfd, ret = 0;

	if (fd < 0)
		return kd_fail(st, "open /dev/net/tun", errno);
	if (ioctl(fd, TUNSETIFF, &ifr))
		ret = kd_fail(st, "TUNSETIFF", errno);
	else if (ns && (nsfd = ioctl(fd, TUNGETDEVNETNS)) < 0)
		ret = kd_fail(st, "TUNGETDEVNETNS", errno);
	else if (ns)
		close(nsfd);
	pr_debug("tun device%s: %s", ns ? " and TUNGETDEVNETNS" : "", ret ? "failed" : "ok");
	close(fd);
	return ret;
}

int probe_tun(struct kd_status *st)
{
	return tun_try(false, st);
}

int probe_tun_ns(struct kd_status *st)
{
	return tun_try(true, st);
}

int probe_userns(struct kd_status *st)
{
	int fd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC), u, ret = 0;

	if (fd < 0)
		return kd_fail(st, "open /proc/self/ns/pid", errno);
	u = ioctl(fd, NS_GET_USERNS);
	if (u < 0)
		ret = kd_fail(st, "NS_GET_USERNS", errno);
	else
		close(u);
	close(fd);
	return ret;
}

/* The probe is whether @path exists. */
static int exists(const char *path, struct kd_status *st)
{
	if (access(path, F_OK))
		return kd_fail(st, path, errno);
	pr_debug("%s exists", path);
	return 0;
}

int probe_cgroupns(struct kd_status *st)
{
	return exists("/proc/self/ns/cgroup", st);
}

int probe_netns(struct kd_status *st)
{
	return exists("/proc/self/ns/net", st);
}

int probe_loginuid(struct kd_status *st)
{
	return exists("/proc/self/loginuid", st);
}

int probe_apparmor(struct kd_status *st)
{
	return exists("/sys/kernel/security/apparmor", st);
}

/* Whether /proc/@file holds @word as a whole word (else fail with @step). */
static int proc_lists(const char *file, const char *word, const char *step,
		      struct kd_status *st)
{
	char path[64], buf[8192], *p;
	size_t n = strlen(word);

	snprintf(path, sizeof(path), "/proc/%s", file);
	if (read_small_file(path, buf, sizeof(buf)) < 0)
		return kd_fail(st, path, errno);
	for (p = buf; (p = strstr(p, word)); p += n)
		if ((p == buf || p[-1] == '\t' || p[-1] == '\n' || p[-1] == ' ') &&
		    (p[n] == '\n' || p[n] == '\t' || p[n] == ':' || !p[n]))
			return 0;
	return kd_fail(st, step, ENOENT);
}

int probe_ns_pid(struct kd_status *st)
{
	return proc_lists("self/status", "NSpid", "no NSpid: in /proc/self/status", st);
}

int probe_autofs(struct kd_status *st)
{
	return proc_lists("filesystems", "autofs", "autofs not in /proc/filesystems", st);
}

int probe_overlayfs(struct kd_status *st)
{
	return proc_lists("filesystems", "overlay", "overlay not in /proc/filesystems", st);
}

/* A user-space tool, not the kernel: the established tool runs it. */
int probe_ipt_legacy(struct kd_status *st)
{
	static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };
	char path[64];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s/iptables-legacy", dirs[i]);
		if (!access(path, X_OK))
			return 0;
	}
	return kd_fail(st, "no iptables-legacy in /usr/sbin, /sbin, /usr/bin, /bin", ENOENT);
}

/* @cmd on a fresh unix socket; @ok_err: the errno that still means "known". */
static int sock_ioctl(unsigned long cmd, int ok_err, const char *step, struct kd_status *st)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), r, err;

	if (fd < 0)
		return kd_fail(st, "socket(AF_UNIX)", errno);
	r = ioctl(fd, cmd, 0);
	err = errno;
	close(fd);
	if (r >= 0) {
		close(r);
		return 0;
	}
	return err == ok_err ? 0 : kd_fail(st, step, err);
}

int probe_sk_ns(struct kd_status *st)
{
	return sock_ioctl(SIOCGSKNS, -1, "SIOCGSKNS", st);
}

int probe_sk_unix_file(struct kd_status *st)
{
	return sock_ioctl(SIOCUNIXFILE, ENOENT, "SIOCUNIXFILE on an unbound socket", st);
}

int probe_diag_raw(struct kd_status *st)
{
	struct inet_diag_req_v2 r = { .sdiag_family = AF_INET, .sdiag_protocol = IPPROTO_RAW,
				      .idiag_states = -1 };

	return kd_sock_diag_dump(&r, sizeof(r), "inet (raw)", st);
}

/* setsockopt(@level, @opt, 1) on a fresh socket of @family/@type. */
static int sockopt_try(int family, int type, int proto, int level, int opt, const char *step,
		       struct kd_status *st)
{
	int fd = socket(family, type | SOCK_CLOEXEC, proto), one = 1, ret = 0;

	if (fd < 0)
		return kd_fail(st, "socket", errno);
	if (setsockopt(fd, level, opt, &one, sizeof(one)))
		ret = kd_fail(st, step, errno);
	close(fd);
	return ret;
}

int probe_nsid(struct kd_status *st)
{
	return sockopt_try(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, SOL_NETLINK,
			   NETLINK_LISTEN_ALL_NSID, "NETLINK_LISTEN_ALL_NSID", st);
}

int probe_so_buf_lock(struct kd_status *st)
{
	return sockopt_try(AF_INET, SOCK_STREAM, 0, SOL_SOCKET, SO_BUF_LOCK, "SO_BUF_LOCK", st);
}

int probe_ipv6_freebind(struct kd_status *st)
{
	return sockopt_try(AF_INET6, SOCK_DGRAM, 0, SOL_IPV6, IPV6_FREEBIND, "IPV6_FREEBIND", st);
}

int probe_memfd_hugetlb(struct kd_status *st)
{
	int fd = memfd_create("criu-probe", MFD_CLOEXEC | MFD_HUGETLB);

	if (fd < 0)
		return kd_fail(st, "memfd_create(MFD_HUGETLB)", errno);
	close(fd);
	return 0;
}

/* Bad fds: EBADF when the flag is known, EINVAL when it is not. */
int probe_move_mount_group(struct kd_status *st)
{
	unsigned int flags = MOVE_MOUNT_SET_GROUP | MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH;

	if (syscall(SYS_move_mount, -1, "", -1, "", flags) == 0 || errno == EBADF)
		return 0;
	return kd_fail(st, "move_mount(MOVE_MOUNT_SET_GROUP)", errno);
}

int probe_openat2(struct kd_status *st)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC };
	int fd = syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how));

	if (fd < 0)
		return kd_fail(st, "openat2", errno);
	close(fd);
	return 0;
}

int probe_timer_cr_ids(struct kd_status *st)
{
	if (prctl(PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_GET, 0, 0, 0) < 0)
		return kd_fail(st, "prctl(PR_TIMER_CREATE_RESTORE_IDS)", errno);
	return 0;
}

/* Write and read back debug register 0 of a stopped child. */
static int debugreg_cycle(pid_t pid, struct kd_status *st)
{
	long off = offsetof(struct user, u_debugreg[0]), want = (long)&kdat, got;

	if (ptrace(PTRACE_POKEUSER, pid, (void *)off, (void *)want))
		return kd_fail(st, "PTRACE_POKEUSER debug register 0", errno);
	errno = 0;
	got = ptrace(PTRACE_PEEKUSER, pid, (void *)off, NULL);
	if (errno || got != want)
		return kd_fail(st, "PTRACE_PEEKUSER debug register 0", errno);
	return 0;
}

int probe_breakpoints(struct kd_status *st)
{
	return kd_with_stopped_child(0, debugreg_cycle, st);
}

/* Guard one page of two; PAGEMAP_SCAN for guard pages must find just it. */
int probe_guard_pages(struct kd_status *st)
{
	size_t ps = kdat.page_size;
	struct page_region reg[2] = {};
	struct pm_scan_arg a = { .size = sizeof(a), .vec_len = 2,
				 .category_mask = PAGE_IS_GUARD, .return_mask = PAGE_IS_GUARD };
	char *p = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int pm, ret = -1;
	long n;

	if (p == MAP_FAILED)
		return kd_fail(st, "mmap", errno);
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm < 0) {
		kd_fail(st, "open /proc/self/pagemap", errno);
	} else if (madvise(p + ps, ps, MADV_GUARD_INSTALL)) {
		kd_fail(st, "madvise(MADV_GUARD_INSTALL)", errno);
	} else {
		a.start = (uint64_t)(uintptr_t)p;
		a.end = a.start + 2 * ps;
		a.vec = (uint64_t)(uintptr_t)reg;
		n = ioctl(pm, PAGEMAP_SCAN, &a);
		if (n == 1 && reg[0].start == a.start + ps && reg[0].end == a.end)
			ret = 0;
		else
			kd_fail(st, "PAGEMAP_SCAN for PAGE_IS_GUARD", n < 0 ? errno : 0);
	}
	if (pm >= 0)
		close(pm);
	munmap(p, 2 * ps);
	return ret;
}

/* No filter on the child: EINVAL when the request is known, EIO when not. */
static int seccomp_get_filter(pid_t pid, struct kd_status *st)
{
	if (ptrace(PTRACE_SECCOMP_GET_FILTER, pid, NULL, NULL) >= 0 || errno == EINVAL)
		return 0;
	return kd_fail(st, "PTRACE_SECCOMP_GET_FILTER", errno);
}

int probe_seccomp_filters(struct kd_status *st)
{
	return kd_with_stopped_child(0, seccomp_get_filter, st);
}

/* Ask nf_tables for its rule-set generation: an answer means it is there. */
int probe_nftables(struct kd_status *st)
{
	struct { struct nlmsghdr h; struct nfgenmsg g; } req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
		       .nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN, .nlmsg_seq = 1 },
		.g = { .nfgen_family = AF_UNSPEC, .version = NFNETLINK_V0 },
	};
	struct timeval tv = { .tv_sec = 5 };
	char buf[4096] __aligned(8);
	struct nlmsghdr *h = (void *)buf;
	int fd, err = 0;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0)
		return kd_fail(st, "socket(NETLINK_NETFILTER)", errno);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (send(fd, &req, sizeof(req), 0) < 0 || (n = recv(fd, buf, sizeof(buf), 0)) < 0)
		err = errno;
	else if (!NLMSG_OK(h, n))
		err = EPROTO;
	else if (h->nlmsg_type == NLMSG_ERROR && h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
		err = -*(int *)NLMSG_DATA(h);
	close(fd);
	pr_debug("nf_tables NFT_MSG_GETGEN: %s", err ? strerror(err) : "answered");
	return err ? kd_fail(st, "nf_tables NFT_MSG_GETGEN", err) : 0;
}
