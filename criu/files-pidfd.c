/*
 * pidfds (images/pidfd.proto): pidfd_open(2) or clone(CLONE_PIDFD)
 * descriptors, of a process of the tree (itself, a child, a zombie, any
 * other member) or of a process that has exited and been reaped.
 *
 * Dump: fdinfo's "Pid:" names the process (criu's view; -1 once reaped),
 * PIDFD_NONBLOCK is O_NONBLOCK in the file flags. Once every task is
 * collected, dump_pidfds_check() turns each pid into the tree's namespace
 * and refuses a process outside the tree. A reaped process's wait status
 * comes from PIDFD_GET_INFO (PIDFD_INFO_EXIT, 6.15), its pidfs inode tells
 * which pidfds name the same one.
 *
 * Restore of a live target: the process it names may not exist yet when
 * the holder opens its objects (a child is forked later), so open() gives
 * a placeholder and post(), once the holder's children are forked, calls
 * pidfd_open(pid, flags) (retried for 10 s while a process of another
 * branch is not forked yet) and puts it at the fd number; post() of this
 * kind runs before every other kind's, so an epoll set registers the real
 * pidfd. Such a pidfd shared by several processes would be opened by each
 * of them: the dump refuses it.
 *
 * Restore of a reaped target: before the first fork, criu forks one
 * stand-in per reaped process (pidfs inode), opens every pidfd of it, and
 * lets it end with the dumped wait status (exit code or signal, without a
 * core dump) and reaps it. The result is a pidfd of a reaped process: poll
 * says readable (and hangup), pidfd_send_signal() ESRCH, waitid(P_PIDFD)
 * ECHILD, PIDFD_GET_INFO the same exit status. open() dups it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define LOG_PREFIX "pidfd: "
#include "log.h"
#include "kernel-compat.h"
#include "dump.h"
#include "files.h"
#include "image.h"
#include "pidfd.pb-c.h"

static int sys_pidfd_open(pid_t pid, unsigned int flags)
{
	return (int)syscall(__NR_pidfd_open, pid, flags);
}

/* ---- dump ------------------------------------------------------------------ */

static bool pidfd_match(const struct fd_probe *p)
{
	return fd_probe_anon(p, "[pidfd]");
}

/* fdinfo "Pid:": the process in criu's namespace, -1 reaped, 0 outside it. */
static int fdinfo_pid(const struct fd_probe *p, long *pid)
{
	const char *v = proc_fdinfo_get(&p->fi, "Pid");
	char *end;

	if (!v) {
		pr_err("fd %d of %d: no Pid: in its fdinfo", p->fd, p->pid);
		return -1;
	}
	errno = 0;
	*pid = strtol(v, &end, 10);
	if (errno || end == v || *end || *pid < -1 || *pid > INT32_MAX) {
		pr_err("fd %d of %d: bad Pid: \"%s\" in its fdinfo", p->fd, p->pid, v);
		return -1;
	}
	return 0;
}

/* The wait status the kernel kept for the reaped process of @p, if any. */
static int exit_status(struct fd_probe *p, PidfdEntry *e)
{
	struct compat_pidfd_info info = { .mask = COMPAT_PIDFD_INFO_EXIT };
	int fd = fd_probe_local(p);

	if (fd < 0)
		return -1;
	if (ioctl(fd, COMPAT_PIDFD_GET_INFO, &info)) {
		if (errno == ESRCH || errno == ENOTTY || errno == EINVAL)
			return 0;	/* none kept, or an older kernel: none to give back */
		pr_perror("fd %d of %d: PIDFD_GET_INFO", p->fd, p->pid);
		return -1;
	}
	if (!(info.mask & COMPAT_PIDFD_INFO_EXIT))
		return 0;
	if ((info.exit_code & 0x80) || (info.exit_code & ~0xffff)) {
		pr_err("fd %d of %d: a pidfd of a process that ended with wait status %#x (a core "
		       "dump): not supported yet", p->fd, p->pid, (unsigned int)info.exit_code);
		return -1;
	}
	e->has_exit_status = true;
	e->exit_status = (uint32_t)info.exit_code;
	return 0;
}

static int pidfd_dump(struct dump_files *d, struct fd_probe *p, uint32_t *id)
{
	struct fd_list *l = fd_list(d, FD_KIND__FD_PIDFD);
	PidfdEntry *e;
	long pid;

	if (!l || fdinfo_pid(p, &pid))
		return -1;
	if (p->fi.flags & PIDFD_THREAD) {
		pr_err("fd %d of %d: a pidfd of thread %ld (PIDFD_THREAD): not supported yet",
		       p->fd, p->pid, pid);
		return -1;
	}
	if (!pid) {
		pr_err("fd %d of %d: a pidfd of a process outside criu's pid namespace: "
		       "not supported yet", p->fd, p->pid);
		return -1;
	}
	e = malloc(sizeof(*e));
	if (!e) {
		pr_err("out of memory");
		return -1;
	}
	pidfd_entry__init(e);
	e->id = *id = fd_obj_id(d);
	e->flags = p->fi.flags & O_NONBLOCK;
	e->pid = (int32_t)pid;	/* criu's view until dump_pidfds_check() */
	e->ino = (uint64_t)p->st.st_ino;
	if (pid < 0 && exit_status(p, e)) {
		free(e);
		return -1;
	}
	return fd_list_add(l, e);
}

static PidfdEntry *entry_of(const struct fd_list *l, uint32_t id)
{
	size_t i;

	for (i = 0; l && i < l->nr; i++)
		if (((PidfdEntry *)l->v[i])->id == id)
			return (PidfdEntry *)l->v[i];
	return NULL;
}

/* A holder of object @e, for messages. */
static void holder(const struct dump_tree *tr, const PidfdEntry *e, pid_t *pid, uint32_t *fd)
{
	size_t i, k;

	for (i = 0; i < tr->nr; i++)
		for (k = 0; k < tr->t[i]->nr_fds; k++)
			if (tr->t[i]->fds[k].kind == FD_KIND__FD_PIDFD && tr->t[i]->fds[k].id == e->id) {
				*pid = tr->t[i]->pid;
				*fd = tr->t[i]->fds[k].fd;
				return;
			}
}

/* Signal owner and write hint go to the placeholder, before post(): refused. */
static int check_fds(const struct dump_task *t)
{
	size_t k;

	for (k = 0; k < t->nr_fds; k++) {
		const FdEntry *fe = &t->fds[k];

		if (fe->kind != FD_KIND__FD_PIDFD || (!fe->fown && !fe->has_write_hint))
			continue;
		pr_err("fd %u of %d: a pidfd with a signal owner, F_SETSIG, O_ASYNC or a write "
		       "hint: not supported yet", fe->fd, t->pid);
		return -1;
	}
	return 0;
}

int dump_pidfds_check(const struct dump_tree *tr)
{
	const struct fd_list *l = tr->files.priv[FD_KIND__FD_PIDFD];
	size_t i;

	for (i = 0; i < tr->nr; i++)
		if (check_fds(tr->t[i]))
			return -1;
	for (i = 0; l && i < l->nr; i++) {
		PidfdEntry *e = (PidfdEntry *)l->v[i];
		pid_t v, who = 0;
		uint32_t fd = 0;

		if (e->pid < 0)
			continue;
		v = dump_tree_find(tr, e->pid) ? dump_vpid(tr, e->pid) : 0;
		if (!v) {
			holder(tr, e, &who, &fd);
			pr_err("fd %u of %d: a pidfd of process %d, which is not in the dumped "
			       "tree: not supported yet", fd, who, e->pid);
			return -1;
		}
		e->pid = v;
	}
	return 0;
}

bool dump_pidfd_live(const struct dump_tree *tr, uint32_t id)
{
	const PidfdEntry *e = entry_of(tr->files.priv[FD_KIND__FD_PIDFD], id);

	return e && e->pid > 0;
}

/* ---- restore --------------------------------------------------------------- */

#define PIDFD_EXITED(st)	(!((st) & 0x7f) && !((st) & ~0xff00U))
#define PIDFD_SIGNALED(st)	((st) & 0x7f && ((st) & 0x7f) < 0x7f && !((st) & ~0x7fU))

static int pidfd_validate(const ProtobufCMessage *m, uint32_t *id)
{
	const PidfdEntry *e = (const PidfdEntry *)m;
	uint32_t st = e->exit_status;

	if ((e->flags & ~O_NONBLOCK) || !e->pid || e->pid < -1 ||
	    (e->has_exit_status && (e->pid != -1 || !(PIDFD_EXITED(st) || PIDFD_SIGNALED(st)) ||
				    (PIDFD_SIGNALED(st) && (st > 64 || st == SIGSTOP))))) {
		pr_err("pidfds.img: object %u: bad flags %#x, pid %d or exit status %#x", e->id,
		       e->flags, e->pid, st);
		return -1;
	}
	*id = e->id;
	return 0;
}

/* The pidfds of reaped processes, made before the first fork (criu's own). */
static struct dead_pidfd {
	uint32_t	id;
	int		fd;
} *dead;
static size_t nr_dead;

static int dead_fd(uint32_t id)
{
	size_t i;

	for (i = 0; i < nr_dead; i++)
		if (dead[i].id == id)
			return dead[i].fd;
	return -1;
}

/* The stand-in: waits on @go, then ends with wait status @st. */
static __attribute__((noreturn)) void stand_in(int go, uint32_t st)
{
	sigset_t set;
	char c;

	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);	/* a core dump would set 0x80 */
	while (read(go, &c, 1) < 0 && errno == EINTR)
		;
	if (PIDFD_EXITED(st))
		_exit((int)(st >> 8));
	signal((int)st, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, (int)st);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise((int)st);
	_exit(127);	/* a signal that does not end a process: the status check says so */
}

/* Open every pidfd of @ino's reaped process from one stand-in ending with @st. */
static int make_dead(const struct fd_list *l, uint64_t ino, uint32_t st)
{
	int go[2], got = -1, ret = -1;
	size_t i;
	pid_t pid;

	if (pipe2(go, O_CLOEXEC)) {
		pr_perror("pipe");
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		stand_in(go[0], st);
	}
	close(go[0]);
	if (pid < 0) {
		pr_perror("fork");
		close(go[1]);
		return -1;
	}
	for (i = 0; i < l->nr; i++) {
		const PidfdEntry *e = (const PidfdEntry *)l->v[i];
		int fd;

		if (e->pid != -1 || e->ino != ino || dead_fd(e->id) >= 0)
			continue;
		fd = sys_pidfd_open(pid, e->flags);
		if (fd < 0) {
			pr_perror("pidfd_open of the stand-in %d", pid);
			goto out;
		}
		dead[nr_dead++] = (struct dead_pidfd){ e->id, fd };
	}
	ret = 0;
out:
	close(go[1]);	/* it ends now */
	if (waitpid(pid, &got, 0) != pid)
		pr_perror("waitpid %d", pid);
	else if ((uint32_t)got != st && !ret) {
		pr_err("the stand-in of a reaped process ended with status %#x instead of %#x",
		       (unsigned int)got, st);
		ret = -1;
	}
	return ret;
}

int rst_pidfds_create(const struct fd_rst *r)
{
	const struct fd_list *l = fd_rst_list(r, FD_KIND__FD_PIDFD);
	size_t i;

	if (!l || !l->nr)
		return 0;
	dead = calloc(l->nr, sizeof(*dead));
	if (!dead) {
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < l->nr; i++) {
		const PidfdEntry *e = (const PidfdEntry *)l->v[i];

		if (e->pid == -1 && dead_fd(e->id) < 0 &&
		    make_dead(l, e->ino, e->has_exit_status ? e->exit_status : SIGKILL))
			return -1;
	}
	return 0;
}

void rst_pidfds_close(void)
{
	size_t i;

	for (i = 0; i < nr_dead; i++)
		close(dead[i].fd);
	free(dead);
	dead = NULL;
	nr_dead = 0;
}

static int pidfd_open_obj(struct fd_rst *r, const struct fd_obj *o, const struct cr_options *opt)
{
	const PidfdEntry *e = (const PidfdEntry *)o->e;
	int fd;

	(void)r;
	(void)opt;
	if (e->pid == -1) {
		fd = dead_fd(e->id);
		if (fd < 0) {
			pr_err("pidfd %u: no pidfd of its reaped process was made", e->id);
			return -1;
		}
		fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	} else {
		fd = eventfd(0, EFD_CLOEXEC);	/* a placeholder until post() */
	}
	if (fd < 0)
		pr_perror("pidfd %u", e->id);
	return fd;
}

/* In the task: object id -> the fd number its pidfd went to first. */
static struct placed {
	uint32_t	id;
	int		fd;
} *placed;
static size_t nr_placed, cap_placed;

static int live_pidfd(const PidfdEntry *e, char *why, size_t len)
{
	int tries, fd;

	for (tries = 0; (fd = sys_pidfd_open(e->pid, e->flags)) < 0; tries++) {
		if (errno != ESRCH || tries == 10000) {
			snprintf(why, len, "pidfd_open %d: %s", e->pid, strerror(errno));
			return -1;
		}
		usleep(1000);	/* a process of another branch, not forked yet */
	}
	return fd;
}

static int pidfd_post(const struct fd_rst *r, const FdEntry *fe, const struct fd_obj *o,
		      char *why, size_t len)
{
	const PidfdEntry *e = (const PidfdEntry *)o->e;
	int flags = fe->cloexec ? O_CLOEXEC : 0, fd = -1;
	size_t i;

	(void)r;
	if (e->pid == -1)
		return 0;
	for (i = 0; i < nr_placed && fd < 0; i++)
		if (placed[i].id == e->id)
			fd = placed[i].fd;
	if (fd >= 0) {
		if (dup3(fd, (int)fe->fd, flags) < 0)
			goto err;
		return 0;
	}
	fd = live_pidfd(e, why, len);
	if (fd < 0)
		return -1;
	if (dup3(fd, (int)fe->fd, flags) < 0) {
		close(fd);
		goto err;
	}
	close(fd);
	if (nr_placed == cap_placed) {
		struct placed *n = realloc(placed, (cap_placed * 2 + 8) * sizeof(*n));

		if (!n) {
			snprintf(why, len, "out of memory");
			return -1;
		}
		placed = n;
		cap_placed = cap_placed * 2 + 8;
	}
	placed[nr_placed++] = (struct placed){ e->id, (int)fe->fd };
	return 0;
err:
	snprintf(why, len, "dup3 to %u: %s", fe->fd, strerror(errno));
	return -1;
}

const struct fd_ops fd_pidfd_ops = {
	.kind = FD_KIND__FD_PIDFD, .name = "pidfd", .img = IMG_PIDFDS,
	.match = pidfd_match, .dump = pidfd_dump,
	.validate = pidfd_validate, .open = pidfd_open_obj, .post = pidfd_post,
	.post_first = true,
};
