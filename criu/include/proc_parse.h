/*
 * Parsers for the /proc files the dump reads.
 *
 * Every parser comes in two layers:
 *
 *   proc_parse_X(text, len, name, out)  a pure function over the file's
 *       text. @text need not be NUL-terminated; @name is only used in error
 *       messages ("name:line: what is wrong"). Unit tests feed it fixtures.
 *   proc_read_X(pid, ..., out)           reads /proc/PID/X (bounded, see
 *       PROC_FILE_MAX) and hands the text to proc_parse_X.
 *
 * The input is treated as untrusted: numbers are range-checked, every string
 * copied into a fixed buffer is length-checked, a file that does not end in
 * a newline is taken to be truncated, and a NUL byte in a text file is an
 * error. On malformed input the parser logs one pr_err naming the file and
 * line and returns -1; it never crashes and never leaves memory behind (the
 * output is reset to empty on failure). Unknown keys and lines that newer
 * kernels may add are skipped. All functions return 0 on success, -1 on
 * error. Anything with a *_free() owns heap memory; the free functions
 * accept an already-freed (zeroed) object.
 *
 * See Documentation/proc-parse.md for the per-file details.
 */
#ifndef CRIU_PROC_PARSE_H
#define CRIU_PROC_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "vmflags.h"

/* Largest /proc text file we agree to read into memory. */
#define PROC_FILE_MAX		(256u << 20)
/* Longest path-like string (maps path, mount point, cgroup path) accepted. */
#define PROC_STR_MAX		(4 * 4096)

/* Read a whole (proc) file into a NUL-terminated heap buffer, at most @max bytes. */
int proc_read_file(const char *path, size_t max, char **buf, size_t *len);
/*
 * The same, but the buffer is sized by a first pass so that the reading
 * itself allocates nothing: for our own maps/smaps, which our allocations
 * would otherwise change (merge, extend) between two read() calls.
 */
int proc_read_file_presized(const char *path, size_t max, char **buf, size_t *len);

/* ---- /proc/PID/maps and /proc/PID/smaps -------------------------------- */

/* What the name column of a maps line says about the mapping. */
enum proc_vma_kind {
	PROC_VMA_ANON,		/* no name at all */
	PROC_VMA_FILE,		/* a path starting with '/' (files, memfd, SysV shm) */
	PROC_VMA_HEAP,		/* [heap] */
	PROC_VMA_STACK,		/* [stack] */
	PROC_VMA_VDSO,		/* [vdso] */
	PROC_VMA_VVAR,		/* [vvar] */
	PROC_VMA_VVAR_VCLOCK,	/* [vvar_vclock] */
	PROC_VMA_VSYSCALL,	/* [vsyscall] */
	PROC_VMA_ANON_NAMED,	/* [anon:NAME], NAME in path after the prefix */
	PROC_VMA_ANON_SHMEM,	/* [anon_shmem:NAME] */
	PROC_VMA_OTHER,		/* any other name ([uprobes], anon_inode:...) */
};

/* VmFlags bits: one per row of VMFLAGS_TABLE (vmflags.h), see proc_vmflag_bit(). */
#define PROC_VMF_ENUM(name, code, meaning, policy, how) PROC_VMF_##name,
enum {
	VMFLAGS_TABLE(PROC_VMF_ENUM)
	PROC_VMF_NR_KNOWN,
	PROC_VMF_UNKNOWN = 63,	/* some code this table does not know, or "??" */
};
#undef PROC_VMF_ENUM
#define PROC_VMF(code)		(1ULL << PROC_VMF_##code)

struct proc_vma {
	uint64_t	start, end;	/* [start, end) */
	uint64_t	pgoff;		/* file offset in bytes */
	uint64_t	inode;
	unsigned int	dev_major, dev_minor;
	unsigned int	prot;		/* PROT_READ | PROT_WRITE | PROT_EXEC */
	bool		shared;		/* 's' rather than 'p' */
	bool		deleted;	/* name ended in " (deleted)" (stripped) */
	enum proc_vma_kind kind;
	char		*path;		/* heap, never NULL ("" when anonymous) */

	/* smaps only (zero from maps) */
	bool		has_vmflags;
	uint64_t	vmflags;	/* PROC_VMF() bits */
	uint64_t	rss_kb, pss_kb, anon_kb, swap_kb;
	uint32_t	pkey;		/* ProtectionKey (0 without pkeys) */
};

struct proc_vmas {
	struct proc_vma	*v;
	size_t		nr, cap;
};

int proc_parse_maps(const char *text, size_t len, const char *name, struct proc_vmas *out);
int proc_parse_smaps(const char *text, size_t len, const char *name, struct proc_vmas *out);
int proc_read_maps(pid_t pid, struct proc_vmas *out);
int proc_read_smaps(pid_t pid, struct proc_vmas *out);
void proc_vmas_free(struct proc_vmas *vmas);
/* Bit number of a VmFlags code like "rd", or -1 if unknown. */
int proc_vmflag_bit(const char *code);

/* ---- /proc/PID/status ---------------------------------------------------- */

#define PROC_NS_LEVELS		33	/* MAX_PID_NS_LEVEL + 1 */
#define PROC_COMM_MAX		64

/* Which optional status keys were present (older kernels lack some). */
enum {
	PROC_ST_NGID		= 1 << 0,
	PROC_ST_NSPID		= 1 << 1,
	PROC_ST_CAPAMB		= 1 << 2,
	PROC_ST_NONEWPRIVS	= 1 << 3,
	PROC_ST_SECCOMP		= 1 << 4,
	PROC_ST_SECCOMP_FILTERS	= 1 << 5,
	PROC_ST_UMASK		= 1 << 6,
	PROC_ST_SIGQ		= 1 << 7,
	PROC_ST_GROUPS		= 1 << 8,
};

struct proc_status {
	char		name[PROC_COMM_MAX];	/* "\n" and "\\" escapes decoded */
	char		state;			/* 'R', 'S', 'D', 'T', 't', 'Z', ... */
	pid_t		tgid, ngid, pid, ppid, tracerpid;
	uid_t		uid[4];			/* real, effective, saved, fs */
	gid_t		gid[4];
	gid_t		*groups;		/* heap, ngroups entries */
	size_t		ngroups;
	pid_t		nspid[PROC_NS_LEVELS];	/* outermost first */
	unsigned int	nr_nspid;
	unsigned int	threads;
	uint64_t	sigq_queued, sigq_limit;
	uint64_t	sigpnd, shdpnd, sigblk, sigign, sigcgt;
	uint64_t	capinh, capprm, capeff, capbnd, capamb;
	unsigned int	no_new_privs;
	unsigned int	seccomp;		/* SECCOMP_MODE_* */
	unsigned int	seccomp_filters;
	mode_t		umask;
	unsigned int	present;		/* PROC_ST_* */
};

int proc_parse_status(const char *text, size_t len, const char *name, struct proc_status *st);
int proc_read_status(pid_t pid, struct proc_status *st);
void proc_status_free(struct proc_status *st);

/* ---- /proc/PID/stat ------------------------------------------------------- */

struct proc_stat {
	pid_t		pid;
	char		comm[PROC_COMM_MAX];	/* raw: may hold spaces, parens */
	char		state;
	pid_t		ppid, pgrp, session;
	int		tty_nr, tpgid;
	unsigned int	flags;
	long		priority, nice, num_threads;
	uint64_t	start_time;		/* clock ticks after boot */
	uint64_t	vsize;			/* bytes */
	int64_t		rss;			/* pages */
	uint64_t	rsslim;
	uint64_t	start_code, end_code, start_stack;
	int		exit_signal;
	unsigned int	rt_priority, policy;
	uint64_t	start_data, end_data, start_brk;
	uint64_t	arg_start, arg_end, env_start, env_end;
	int		exit_code;
};

int proc_parse_stat(const char *text, size_t len, const char *name, struct proc_stat *st);
int proc_read_stat(pid_t pid, struct proc_stat *st);
/* One thread's own (/proc/PID/task/TID/stat): /proc/TID/stat sums the whole process. */
int proc_read_task_stat(pid_t pid, pid_t tid, struct proc_stat *st);
/*
 * The same for a task that may vanish at any moment: 1 when it is gone (no
 * file, or an empty one: nothing logged, @st untouched), 0 parsed, -1
 * malformed (logged).
 */
int proc_read_stat_or_gone(pid_t pid, struct proc_stat *st);

/* ---- /proc/PID/fdinfo/FD -------------------------------------------------- */

/* One "key: value" line; key is the text before the first ':' (trimmed). */
struct proc_kv {
	char		*key;		/* heap; val points into the same block */
	char		*val;		/* leading and trailing blanks dropped */
	unsigned int	line;		/* for messages */
};

struct proc_fdinfo {
	int64_t		pos;
	unsigned int	flags;		/* octal in the file */
	int		mnt_id;
	uint64_t	ino;
	bool		has_ino;	/* older kernels print no "ino:" */
	struct proc_kv	*kv;		/* every other line, in file order */
	size_t		nr_kv, cap_kv;
	char		src[64];	/* file name, for the helpers' messages */
};

int proc_parse_fdinfo(const char *text, size_t len, const char *name, struct proc_fdinfo *fi);
int proc_read_fdinfo(pid_t pid, int fd, struct proc_fdinfo *fi);
void proc_fdinfo_free(struct proc_fdinfo *fi);
/* First value for @key or NULL. */
const char *proc_fdinfo_get(const struct proc_fdinfo *fi, const char *key);

/*
 * The kind helpers below return 0, -1 (logged) on malformed lines, or 1 if
 * the file has no lines of that kind. An epoll or inotify instance that
 * watches nothing prints none, so it also gives 1 (with an empty list).
 */

struct proc_eventfd {
	uint64_t	count;
	int		id;		/* -1 if the kernel did not say */
	int		semaphore;	/* -1 if the kernel did not say */
};
int proc_fdinfo_eventfd(const struct proc_fdinfo *fi, struct proc_eventfd *efd);

struct proc_epoll_tfd {
	int		tfd;
	uint32_t	events;
	uint64_t	data;
	int64_t		pos;		/* -1 unless given */
	uint64_t	ino;		/* 0 unless given */
	unsigned int	sdev;		/* 0 unless given */
};
/* All "tfd:" lines; *tfds is heap (free()), may be NULL with *nr == 0. */
int proc_fdinfo_epoll(const struct proc_fdinfo *fi, struct proc_epoll_tfd **tfds, size_t *nr);

int proc_fdinfo_signalfd(const struct proc_fdinfo *fi, uint64_t *sigmask);

struct proc_timerfd {
	int		clockid;
	uint64_t	ticks;
	unsigned int	settime_flags;	/* octal in the file */
	uint64_t	value_sec, value_nsec;
	uint64_t	interval_sec, interval_nsec;
};
int proc_fdinfo_timerfd(const struct proc_fdinfo *fi, struct proc_timerfd *tfd);

#define PROC_FHANDLE_MAX	128	/* MAX_HANDLE_SZ */

struct proc_fhandle {
	unsigned int	bytes;
	int		type;
	uint8_t		handle[PROC_FHANDLE_MAX];
};

struct proc_inotify_wd {
	int		wd;
	uint64_t	ino;
	unsigned int	sdev;
	uint32_t	mask, ignored_mask;
	struct proc_fhandle fh;		/* bytes == 0 if not shown */
};
/* All "inotify wd:" lines; *wds is heap (free()). */
int proc_fdinfo_inotify(const struct proc_fdinfo *fi, struct proc_inotify_wd **wds, size_t *nr);

enum proc_fanotify_mark_kind {
	PROC_FAN_MARK_INODE,
	PROC_FAN_MARK_MOUNT,
	PROC_FAN_MARK_SB,
};

struct proc_fanotify_mark {
	enum proc_fanotify_mark_kind kind;
	uint64_t	ino;		/* inode marks */
	unsigned int	sdev;		/* inode and sb marks */
	int		mnt_id;		/* mount marks */
	unsigned int	mflags;
	uint32_t	mask, ignored_mask;
	struct proc_fhandle fh;
};

struct proc_fanotify {
	unsigned int	flags, event_flags;
	struct proc_fanotify_mark *marks;	/* heap (free()) */
	size_t		nr_marks;
};
int proc_fdinfo_fanotify(const struct proc_fdinfo *fi, struct proc_fanotify *fan);

/* ---- /proc/PID/limits ----------------------------------------------------- */

#define PROC_NR_LIMITS		16	/* RLIMIT_CPU .. RLIMIT_RTTIME */

struct proc_limits {
	struct rlimit	lim[PROC_NR_LIMITS];	/* indexed by RLIMIT_*; unlimited = RLIM_INFINITY */
};

int proc_parse_limits(const char *text, size_t len, const char *name, struct proc_limits *l);
int proc_read_limits(pid_t pid, struct proc_limits *l);

/* ---- /proc/PID/mountinfo -------------------------------------------------- */

enum {
	PROC_MNT_SHARED		= 1 << 0,	/* shared:N */
	PROC_MNT_MASTER		= 1 << 1,	/* master:N */
	PROC_MNT_PROPAGATE_FROM	= 1 << 2,	/* propagate_from:N */
	PROC_MNT_UNBINDABLE	= 1 << 3,	/* unbindable */
};

struct proc_mount {
	int		mnt_id, parent_id;
	unsigned int	major, minor;
	/* All strings have their \ooo escapes decoded; they point into one heap block. */
	char		*root, *mountpoint, *options;
	char		*fstype, *source, *super_options;
	unsigned int	propagation;		/* PROC_MNT_* */
	int		shared_id, master_id, propagate_from;	/* 0 if absent */
};

struct proc_mounts {
	struct proc_mount *m;
	size_t		nr, cap;
};

int proc_parse_mountinfo(const char *text, size_t len, const char *name, struct proc_mounts *out);
int proc_read_mountinfo(pid_t pid, struct proc_mounts *out);
void proc_mounts_free(struct proc_mounts *mnts);

/* ---- children and threads ------------------------------------------------- */

struct proc_pids {
	pid_t		*pid;
	size_t		nr, cap;
};

/* Space-separated pids, as in /proc/PID/task/TID/children. */
int proc_parse_children(const char *text, size_t len, const char *name, struct proc_pids *out);
int proc_read_children(pid_t pid, pid_t tid, struct proc_pids *out);
/* Thread ids of @pid from the /proc/PID/task directory, ascending. */
int proc_read_tasks(pid_t pid, struct proc_pids *out);
void proc_pids_free(struct proc_pids *pids);

/* ---- /proc/PID/auxv ------------------------------------------------------- */

#define PROC_AUXV_MAX		128	/* pairs; the kernel keeps fewer than 64 */

/* Pairs of our own unsigned long: 32-bit (compat) tasks are not handled. */
struct proc_auxv {
	unsigned long	a[2 * PROC_AUXV_MAX];	/* type, value, ..., AT_NULL, 0 */
	size_t		nr;			/* pairs, counting the AT_NULL one */
};

int proc_parse_auxv(const void *data, size_t len, const char *name, struct proc_auxv *av);
int proc_read_auxv(pid_t pid, struct proc_auxv *av);
/* Value for @type, or -1 (with *val untouched) if absent. */
int proc_auxv_get(const struct proc_auxv *av, unsigned long type, unsigned long *val);

/* ---- /proc/PID/task/TID/loginuid and sessionid (audit ids) ------------------ */

#define PROC_AUDIT_UNSET	4294967295u	/* AUDIT_UID_UNSET, AUDIT_SID_UNSET */

struct proc_audit {
	bool		present;	/* false: a kernel without CONFIG_AUDIT */
	uint32_t	loginuid, sessionid;
};

/* One decimal number (the kernel writes no newline; one is accepted). */
int proc_parse_audit_id(const char *text, size_t len, const char *name, uint32_t *id);
int proc_read_audit(pid_t pid, pid_t tid, struct proc_audit *a);

/* ---- /proc/PID/timens_offsets (of the time namespace for children) ---------- */

struct proc_timens {
	int64_t		mono_sec, boot_sec;
	uint32_t	mono_nsec, boot_nsec;
};

/* Both clocks must be there; another clock is refused (not carried). */
int proc_parse_timens_offsets(const char *text, size_t len, const char *name,
			      struct proc_timens *out);
int proc_read_timens_offsets(pid_t pid, struct proc_timens *out);

/* ---- /proc/PID/timers ----------------------------------------------------- */

struct proc_timer {
	int		id;
	int		signo;
	uint64_t	sigval;		/* sival_ptr as printed */
	int		notify;		/* SIGEV_SIGNAL, SIGEV_NONE or SIGEV_THREAD */
	bool		thread_id;	/* "tid." rather than "pid.": SIGEV_THREAD_ID */
	pid_t		notify_pid;
	int		clockid;
};

/* ---- file locks: /proc/locks and fdinfo "lock:" lines (proc_parse_locks.c) ---- */

enum proc_lock_kind {
	PROC_LOCK_OTHER,	/* ACCESS, UNKNOWN, ... */
	PROC_LOCK_POSIX,
	PROC_LOCK_OFD,
	PROC_LOCK_FLOCK,
	PROC_LOCK_LEASE,	/* leases and delegations */
};

struct proc_lock {
	unsigned int		id;
	bool			blocked;	/* "->": a waiter, not a holder */
	enum proc_lock_kind	kind;
	bool			write;		/* WRITE; else READ (or UNLCK) */
	bool			lease_active;	/* a LEASE neither breaking nor a breaker */
	int			pid;		/* -1 for OFD locks */
	unsigned int		maj, min;	/* of the file's filesystem */
	uint64_t		ino;
	uint64_t		start, end;	/* bytes, end inclusive; UINT64_MAX: EOF */
};

struct proc_locks {
	struct proc_lock	*l;
	size_t			nr, cap;
};

struct ptext;
/* One line (without "lock:"), from @t to its end; -1 if malformed (not logged). */
int proc_parse_lock(struct ptext *t, struct proc_lock *l);
int proc_parse_locks(const char *text, size_t len, const char *name, struct proc_locks *out);
int proc_read_locks(struct proc_locks *out);		/* /proc/locks */
void proc_locks_free(struct proc_locks *locks);
/* The "lock:" lines of @fi: 0, 1 if there are none, -1 logged. */
int proc_fdinfo_locks(const struct proc_fdinfo *fi, struct proc_locks *out);

struct proc_timers {
	struct proc_timer *t;
	size_t		nr, cap;
};

int proc_parse_timers(const char *text, size_t len, const char *name, struct proc_timers *out);
int proc_read_timers(pid_t pid, struct proc_timers *out);
void proc_timers_free(struct proc_timers *timers);

/* ---- /proc/PID/cgroup ----------------------------------------------------- */

struct proc_cgroup {
	unsigned int	hier_id;	/* 0 for the unified (v2) hierarchy */
	char		*controllers;	/* "cpu,cpuacct", "name=systemd" or "" */
	char		*path;		/* points into the same heap block */
};

struct proc_cgroups {
	struct proc_cgroup *c;
	size_t		nr, cap;
};

int proc_parse_cgroup(const char *text, size_t len, const char *name, struct proc_cgroups *out);
int proc_read_cgroup(pid_t pid, struct proc_cgroups *out);
void proc_cgroups_free(struct proc_cgroups *cgs);

#endif /* CRIU_PROC_PARSE_H */
