/*
 * Layer 2 of the parasite runtime: one static inline sys_name() per
 * system call, returning the kernel's raw result (>= 0, or -errno).
 * Layer 1 (syscallN) is picked by path: arch/<arch>/include/std/.
 */
#ifndef STD_SYSCALL_H
#define STD_SYSCALL_H

#include <asm/unistd.h>
#include <std/types.h>
#include <std/syscall-arch.h>

#define __sc_l(x)	((long)(x))

static inline ssize_t sys_read(int fd, void *buf, size_t n)
{ return syscall3(__NR_read, fd, __sc_l(buf), n); }

static inline ssize_t sys_write(int fd, const void *buf, size_t n)
{ return syscall3(__NR_write, fd, __sc_l(buf), n); }

static inline int sys_close(int fd)
{ return syscall1(__NR_close, fd); }

static inline int sys_socket(int domain, int type, int proto)
{ return syscall3(__NR_socket, domain, type, proto); }

static inline int sys_connect(int fd, const void *addr, int len)
{ return syscall3(__NR_connect, fd, __sc_l(addr), len); }

static inline ssize_t sys_sendmsg(int fd, const struct std_msghdr *m, int fl)
{ return syscall3(__NR_sendmsg, fd, __sc_l(m), fl); }

static inline ssize_t sys_recvmsg(int fd, struct std_msghdr *m, int fl)
{ return syscall3(__NR_recvmsg, fd, __sc_l(m), fl); }

static inline int sys_sigaltstack(const struct std_stack *ss,
				  struct std_stack *old)
{ return syscall2(__NR_sigaltstack, __sc_l(ss), __sc_l(old)); }

static inline int sys_getpid(void)
{ return syscall0(__NR_getpid); }

static inline int sys_getppid(void)
{ return syscall0(__NR_getppid); }

static inline int sys_gettid(void)
{ return syscall0(__NR_gettid); }

static inline long sys_mmap(void *addr, size_t len, int prot, int flags,
			    int fd, long off)
{ return syscall6(__NR_mmap, __sc_l(addr), len, prot, flags, fd, off); }

static inline int sys_munmap(void *addr, size_t len)
{ return syscall2(__NR_munmap, __sc_l(addr), len); }

static inline ssize_t sys_vmsplice(int fd, const struct std_iovec *iov,
				   unsigned long nr, unsigned int flags)
{ return syscall4(__NR_vmsplice, fd, __sc_l(iov), nr, flags); }

static inline int sys_ppoll(struct std_pollfd *fds, unsigned int n,
			    const struct std_timespec *ts)
{ return syscall5(__NR_ppoll, __sc_l(fds), n, __sc_l(ts), 0, 8); }

static inline int sys_prctl(int op, unsigned long a, unsigned long b,
			    unsigned long c, unsigned long d)
{ return syscall5(__NR_prctl, op, a, b, c, d); }

static inline int sys_fcntl(int fd, int cmd, long arg)
{ return syscall3(__NR_fcntl, fd, cmd, arg); }

static inline int sys_rt_sigprocmask(int how, const __u64 *set, __u64 *old)
{ return syscall4(__NR_rt_sigprocmask, how, __sc_l(set), __sc_l(old), 8); }

static inline int sys_rt_sigpending(__u64 *set)
{ return syscall2(__NR_rt_sigpending, __sc_l(set), 8); }

static inline int sys_rt_sigtimedwait(const __u64 *set, void *info,
				      const struct std_timespec *ts)
{ return syscall4(__NR_rt_sigtimedwait, __sc_l(set), __sc_l(info), __sc_l(ts), 8); }

static inline ssize_t sys_sendto(int fd, const void *buf, size_t n, int fl)
{ return syscall6(__NR_sendto, fd, __sc_l(buf), n, fl, 0, 0); }

static inline int sys_rt_sigaction(int sig, const void *act, void *old)
{ return syscall4(__NR_rt_sigaction, sig, __sc_l(act), __sc_l(old), 8); }

static inline int sys_getitimer(int which, void *val)
{ return syscall2(__NR_getitimer, which, __sc_l(val)); }

static inline long sys_syscall6(long nr, const __u64 *a)
{ return syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5]); }

static inline __attribute__((noreturn)) void sys_exit_group(int code)
{
	syscall1(__NR_exit_group, code);
	__builtin_unreachable();
}

#endif /* STD_SYSCALL_H */
