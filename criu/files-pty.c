/*
 * Pseudo-terminals (FD_PTY): /dev/ptmx masters, /dev/pts/N slaves, and the
 * session whose controlling terminal a pair is. The steps are listed in
 * criu/include/tty.h.
 *
 * A pair is known by its index N. Everything it carries (termios, window
 * size, packet mode, lock, exclusive mode, session and foreground group) is
 * read through criu's copy of the master (pidfd_getfd): termios, termios
 * lock and window ioctls on a master act on its slave, and
 * TIOCGSID/TIOCGPGRP on a master answer for the slave whatever criu's own
 * terminal is. A slave in I/O error (a failed open of the locked slave
 * leaves it so) is told by a zero-length write or read on criu's copy,
 * which fails with EIO then and does nothing otherwise; restore fails an
 * open of the locked slave again. Output stopped (^S, tcflow TCOOFF) shows
 * as an end that does not poll writable while the other end's input has
 * room; whether TCOOFF or ^S stopped it (only ^Q restarts the latter) is
 * not observable, so it is refused. What the master has
 * not read is peeked (read, then given back with TIOCSTI); what the slave
 * has not read cannot be given back unchanged, so a pair holding any is
 * refused.
 *
 * On restore /dev/ptmx hands out the lowest free index: criu opens it until
 * the dumped index comes, holding the lower ones meanwhile (bounded), and
 * refuses if the index is taken. Slaves are opened with TIOCGPTPEER on the
 * master, so they are of the same devpts instance whatever /dev/pts/N names.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <asm/termbits.h>

#define LOG_PREFIX "pty: "
#include "log.h"
#include "dump.h"
#include "files.h"
#include "files-reg.h"
#include "image.h"
#include "restore.h"
#include "tty.h"
#include "pty.pb-c.h"

#define PTS_MAJOR	136		/* UNIX98_PTY_SLAVE_MAJOR: minor = index */
#define PTMX_MAJOR	5
#define PTMX_MINOR	2
#define PTY_MAX_INDEX	(1u << 20)	/* NR_UNIX98_PTY_MAX */
#define PTY_MAX_PAIRS	4096		/* per dump (kernel.pty.max's default) */
#define PTY_MAX_FILES	65536
#define PTY_MAX_HOLD	4096		/* lower indexes held while seeking one */
#define PTY_MAX_PID	(1u << 22)
#define PTY_NCC		19		/* termios2 c_cc */
#define N_TTY_LDISC	0
#define PTY_MAX_DATA	4096		/* N_TTY_BUF_SIZE: an input queue holds no more */

/*
 * open(2) flags of an end we reproduce. O_LARGEFILE as the kernel shows it:
 * a slave made by TIOCGPTPEER (glibc's openpty) has none.
 */
#define PTY_FLAGS	(O_ACCMODE | O_NONBLOCK | O_APPEND | KERNEL_O_LARGEFILE)

/* ---- dump ------------------------------------------------------------------ */

struct pty_task {
	pid_t	pid, sid, pgid;
	int	tty_nr;
};

/* What a slave's file tells of the pair, for the pair's entry. */
struct pty_slave_note {
	uint32_t	index;
	bool		exclusive;	/* TIOCGEXCL */
	bool		io_error;	/* TTY_IO_ERROR: reads and writes fail with EIO */
};

struct pty_dump {
	struct fd_list		files;		/* PtyFileEntry, ids ascending */
	struct fd_list		pairs;		/* PtyEntry, sorted by index on write */
	struct pty_slave_note	*notes;		/* what slaves told of their pair */
	size_t			nr_notes, cap_notes;
	struct pty_task		*tasks;
	size_t			nr_tasks, cap_tasks;
	bool			shell_job;
};

static int grow(void **v, size_t *cap, size_t nr, size_t size)
{
	size_t ncap = *cap ? 2 * *cap : 16;
	void *n;

	if (nr < *cap)
		return 0;
	n = realloc(*v, ncap * size);
	if (!n) {
		pr_err("out of memory");
		return -1;
	}
	*v = n;
	*cap = ncap;
	return 0;
}

static struct pty_dump *pty_state(struct dump_files *d, const struct cr_options *o)
{
	struct pty_dump *pd = d->priv[FD_KIND__FD_PTY];

	if (!pd) {
		pd = calloc(1, sizeof(*pd));
		if (!pd) {
			pr_err("out of memory");
			return NULL;
		}
		d->priv[FD_KIND__FD_PTY] = pd;
	}
	pd->shell_job = o->shell_job;
	return pd;
}

bool tty_nr_is_pts(int tty_nr)
{
	return major((dev_t)(unsigned int)tty_nr) == PTS_MAJOR;
}

static bool is_master(const struct fd_probe *p)
{
	return S_ISCHR(p->st.st_mode) && major(p->st.st_rdev) == PTMX_MAJOR &&
	       minor(p->st.st_rdev) == PTMX_MINOR;
}

static bool pty_match(const struct fd_probe *p)
{
	return is_master(p) || (S_ISCHR(p->st.st_mode) && major(p->st.st_rdev) == PTS_MAJOR);
}

/* Bytes queued at the slave (either way) or unsent: refused, they cannot be peeked. */
static int check_empty(int fd, uint32_t index, const char *end)
{
	int in = 0, out = 0;

	if (ioctl(fd, FIONREAD, &in) || ioctl(fd, TIOCOUTQ, &out)) {
		pr_perror("pty %u: FIONREAD/TIOCOUTQ on the %s", index, end);
		return -1;
	}
	if (in || out) {
		pr_err("pty %u: %d bytes unread at the %s, %d unsent: a pty holding data is "
		       "not supported yet", index, in, end, out);
		return -1;
	}
	return 0;
}

/* Give @len bytes back to the master's input queue, in order; -1 logged. */
static int master_unread(int fd, uint32_t index, const uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (ioctl(fd, TIOCSTI, &buf[i])) {
			pr_perror("pty %u: TIOCSTI gave back %zu of %zu bytes to the master", index,
				  i, len);
			return -1;
		}
	return 0;
}

/*
 * Whether TIOCSTI gives a byte back here: tried on a pty of criu's own
 * before any task's bytes are read (a capability check alone misses user
 * namespaces, the legacy_tiocsti sysctl and LSMs). Asked once per dump.
 */
static bool tiocsti_works(void)
{
	static int works = -1;
	char c = 'x', got = 0;
	int m;

	if (works >= 0)
		return works;
	m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	works = m >= 0 && !ioctl(m, TIOCSTI, &c) && read(m, &got, 1) == 1 && got == c;
	if (m >= 0)
		close(m);
	return works;
}

/*
 * What the slave wrote and the master has not read, peeked: read from the
 * master (its input side is raw: no echo, no translation, whatever the
 * slave's termios) until empty, and at once given back with TIOCSTI
 * (tried on a pty of criu's own first), while every holder is frozen. Packet
 * mode (reads carry a status byte) and unsent bytes are refused.
 */
static int master_data(int fd, uint32_t index, bool packet, PtyEntry *e)
{
	int in = 0, out = 0;
	size_t total = 0;
	uint8_t *buf;
	ssize_t n;

	if (ioctl(fd, FIONREAD, &in) || ioctl(fd, TIOCOUTQ, &out)) {
		pr_perror("pty %u: FIONREAD/TIOCOUTQ on the master", index);
		return -1;
	}
	if (out || (in && packet)) {
		pr_err("pty %u: %d bytes unread at the master, %d unsent%s: not supported yet",
		       index, in, out, packet ? ", in packet mode" : "");
		return -1;
	}
	if (!in)
		return 0;
	if (!tiocsti_works()) {
		pr_err("pty %u: %d bytes unread at the master: reading them needs TIOCSTI to give "
		       "them back, which this host refuses (capability, dev.tty.legacy_tiocsti, LSM)",
		       index, in);
		return -1;
	}
	buf = malloc(PTY_MAX_DATA);
	if (!buf) {
		pr_err("out of memory");
		return -1;
	}
	/* until empty: bytes still on their way in come after what was read */
	while (!ioctl(fd, FIONREAD, &in) && in > 0 && total + (size_t)in <= PTY_MAX_DATA) {
		n = read(fd, buf + total, (size_t)in);
		if (n <= 0)
			break;
		total += (size_t)n;
	}
	if (in)
		pr_err("pty %u: the master's queue did not empty (%d bytes after %zu read)",
		       index, in, total);
	if (!master_unread(fd, index, buf, total) && !in) {
		e->has_master_data = true;
		e->master_data.data = buf;
		e->master_data.len = total;
		pr_info("pty %u: %zu bytes unread at the master kept", index, total);
		return 0;
	}
	free(buf);
	return -1;
}

static int check_ldisc(int fd, uint32_t index, const char *end)
{
	int ld = -1;

	if (ioctl(fd, TIOCGETD, &ld)) {
		pr_perror("pty %u: TIOCGETD on the %s", index, end);
		return -1;
	}
	if (ld != N_TTY_LDISC) {
		pr_err("pty %u: line discipline %d on the %s is not supported yet", index, ld, end);
		return -1;
	}
	return 0;
}

/*
 * An end whose output is stopped does not poll writable (pty_write_room()
 * is 0). Called once the other end's input is known to have room (it holds
 * no more than one n_tty buffer: master_data() and check_empty()).
 */
static int check_stopped(int fd, uint32_t index, const char *end)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	if (poll(&pfd, 1, 0) < 0) {
		pr_perror("pty %u: poll of the %s", index, end);
		return -1;
	}
	if (!(pfd.revents & POLLOUT)) {
		pr_err("pty %u: output of the %s stopped (^S or tcflow TCOOFF), or the other end's "
		       "input full: not supported yet", index, end);
		return -1;
	}
	return 0;
}

/* The slave's termios lock (TIOCGLCKTRMIOS through the master), kept when any bit is set. */
static int dump_termios_lock(int fd, PtyEntry *e)
{
	static const uint8_t none[PTY_NCC];
	struct termios l;

	memset(&l, 0, sizeof(l));
	if (ioctl(fd, TIOCGLCKTRMIOS, &l)) {
		pr_perror("pty %u: TIOCGLCKTRMIOS", e->index);
		return -1;
	}
	if (!l.c_iflag && !l.c_oflag && !l.c_cflag && !l.c_lflag && !l.c_line &&
	    !memcmp(l.c_cc, none, PTY_NCC))
		return 0;
	e->lock_cc.data = malloc(PTY_NCC);
	if (!e->lock_cc.data) {
		pr_err("out of memory");
		return -1;
	}
	e->has_lock_iflag = e->has_lock_oflag = e->has_lock_cflag = e->has_lock_lflag = true;
	e->has_lock_line = e->has_lock_cc = true;
	e->lock_iflag = l.c_iflag;
	e->lock_oflag = l.c_oflag;
	e->lock_cflag = l.c_cflag;
	e->lock_lflag = l.c_lflag;
	e->lock_line = l.c_line;
	e->lock_cc.len = PTY_NCC;
	memcpy(e->lock_cc.data, l.c_cc, PTY_NCC);
	return 0;
}

static void put_termios(PtyEntry *e, const struct termios2 *t, const struct winsize *ws)
{
	e->iflag = t->c_iflag;
	e->oflag = t->c_oflag;
	e->cflag = t->c_cflag;
	e->lflag = t->c_lflag;
	e->line = t->c_line;
	e->ispeed = t->c_ispeed;
	e->ospeed = t->c_ospeed;
	e->rows = ws->ws_row;
	e->cols = ws->ws_col;
	e->xpixel = ws->ws_xpixel;
	e->ypixel = ws->ws_ypixel;
}

/* Owner, group and permissions of the slave node /dev/pts/@index. */
static int node_dump(uint32_t index, PtyEntry *e)
{
	char path[32];
	struct stat st;

	snprintf(path, sizeof(path), "/dev/pts/%u", index);
	if (stat(path, &st)) {
		pr_perror("pty %u: cannot stat %s", index, path);
		return -1;
	}
	if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(PTS_MAJOR, index)) {
		pr_err("pty %u: %s is not its slave: other devpts instances are not supported yet",
		       index, path);
		return -1;
	}
	e->has_uid = e->has_gid = e->has_perm = true;
	e->uid = st.st_uid;
	e->gid = st.st_gid;
	e->perm = st.st_mode & 07777;
	return 0;
}

/* The pair's state, through the master @fd. */
static int pair_dump(struct pty_dump *pd, int fd, uint32_t index)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int pkt = 0, lck = 0, excl = 0, sid = 0, pgrp = 0;
	struct termios2 t;
	struct winsize ws;
	uint8_t *cc;
	PtyEntry *e;

	if (ioctl(fd, TCGETS2, &t) || ioctl(fd, TIOCGWINSZ, &ws) || ioctl(fd, TIOCGPKT, &pkt) ||
	    ioctl(fd, TIOCGPTLCK, &lck) || ioctl(fd, TIOCGEXCL, &excl)) {
		pr_perror("pty %u: cannot read its termios, window size or modes", index);
		return -1;
	}
	if (ioctl(fd, TIOCGSID, &sid) && errno != ENOTTY) {
		pr_perror("pty %u: TIOCGSID", index);
		return -1;
	}
	if (sid > 0 && dump_in_pidns()) {
		pr_err("pty %u: the controlling terminal of a session in a tree with a pid namespace of its own: not supported yet",
		       index);
		return -1;
	}
	if (sid > 0 && ioctl(fd, TIOCGPGRP, &pgrp)) {
		pr_perror("pty %u: TIOCGPGRP", index);
		return -1;
	}
	if (check_ldisc(fd, index, "master"))
		return -1;
	if (poll(&pfd, 1, 0) < 0) {
		pr_perror("pty %u: poll", index);
		return -1;
	}
	e = malloc(sizeof(*e));
	if (!e || !(cc = malloc(PTY_NCC))) {
		free(e);
		pr_err("out of memory");
		return -1;
	}
	pty_entry__init(e);
	e->index = index;
	put_termios(e, &t, &ws);
	e->cc.len = PTY_NCC;
	e->cc.data = memcpy(cc, t.c_cc, PTY_NCC);
	e->packet = !!pkt;
	e->locked = !!lck;
	e->has_master_exclusive = true;
	e->master_exclusive = !!excl;
	e->has_slave_closed = true;
	e->slave_closed = !!(pfd.revents & POLLHUP);
	if (sid > 0) {
		e->has_sid = e->has_fg_pgrp = true;
		e->sid = (uint32_t)sid;
		e->fg_pgrp = (uint32_t)pgrp;
	}
	if (master_data(fd, index, e->packet, e) || check_stopped(fd, index, "master") ||
	    dump_termios_lock(fd, e) || node_dump(index, e)) {
		protobuf_c_message_free_unpacked(&e->base, NULL);
		return -1;
	}
	return fd_list_add(&pd->pairs, e);
}

static int master_dump(struct pty_dump *pd, struct fd_probe *p, uint32_t *index)
{
	int fd, n;

	if (strcmp(p->link, "/dev/ptmx") && strcmp(p->link, "/dev/pts/ptmx")) {
		pr_err("fd %d: pty master %s: only /dev/ptmx is supported yet", p->fd, p->link);
		return -1;
	}
	fd = fd_probe_local(p);
	if (fd < 0)
		return -1;
	if (ioctl(fd, TIOCGPTN, &n) || n < 0 || (unsigned int)n >= PTY_MAX_INDEX) {
		pr_perror("fd %d: pty master: TIOCGPTN", p->fd);
		return -1;
	}
	*index = (uint32_t)n;
	return pair_dump(pd, fd, *index);
}

/*
 * TTY_IO_ERROR: a zero-length write (read, for a read-only end) fails with
 * EIO before anything else is looked at, and does nothing otherwise.
 * SIGTTOU and SIGTTIN are blocked meanwhile: were this criu's own terminal
 * and criu in the background, the job control check would stop criu.
 */
static int probe_io_error(int fd, int flags, uint32_t index, bool *io_error)
{
	sigset_t tt, old;
	ssize_t n;
	char c;

	sigemptyset(&tt);
	sigaddset(&tt, SIGTTOU);
	sigaddset(&tt, SIGTTIN);
	sigprocmask(SIG_BLOCK, &tt, &old);
	n = (flags & O_ACCMODE) == O_RDONLY ? read(fd, &c, 0) : write(fd, &c, 0);
	sigprocmask(SIG_SETMASK, &old, NULL);
	*io_error = n < 0 && errno == EIO;
	if (n < 0 && !*io_error && errno != EAGAIN) {
		pr_perror("pty %u: a zero-length %s on the slave", index,
			  (flags & O_ACCMODE) == O_RDONLY ? "read" : "write");
		return -1;
	}
	return 0;
}

static int note_slave(struct pty_dump *pd, uint32_t index, bool exclusive, bool io_error)
{
	if (!exclusive && !io_error)
		return 0;
	if (grow((void **)&pd->notes, &pd->cap_notes, pd->nr_notes, sizeof(*pd->notes)))
		return -1;
	pd->notes[pd->nr_notes++] = (struct pty_slave_note){ index, exclusive, io_error };
	return 0;
}

static int slave_dump(struct pty_dump *pd, struct fd_probe *p, uint32_t *index)
{
	char path[64];
	struct stat pts;
	int fd, excl = 0;
	bool io_error;

	*index = minor(p->st.st_rdev);
	snprintf(path, sizeof(path), "/dev/pts/%u", *index);
	if (strcmp(p->link, path) || stat("/dev/pts", &pts) || pts.st_dev != p->st.st_dev) {
		pr_err("fd %d: pty slave %s is not criu's /dev/pts/%u: other devpts instances "
		       "are not supported yet", p->fd, p->link, *index);
		return -1;
	}
	fd = fd_probe_local(p);
	if (fd < 0)
		return -1;
	if (ioctl(fd, TIOCGEXCL, &excl)) {
		pr_perror("fd %d: TIOCGEXCL", p->fd);
		return -1;
	}
	if (check_empty(fd, *index, "slave") || check_ldisc(fd, *index, "slave") ||
	    probe_io_error(fd, (int)p->fi.flags, *index, &io_error))
		return -1;
	if (!io_error && check_stopped(fd, *index, "slave"))
		return -1;
	return note_slave(pd, *index, excl, io_error);
}

static int pty_dump(struct dump_files *d, struct fd_probe *p, uint32_t *id)
{
	struct pty_dump *pd = pty_state(d, p->o);
	PtyFileEntry *e;
	uint32_t index;
	bool master = is_master(p);

	if (!pd)
		return -1;
	if (master ? master_dump(pd, p, &index) : slave_dump(pd, p, &index))
		return -1;
	e = calloc(1, sizeof(*e));
	if (!e) {
		pr_err("out of memory");
		return -1;
	}
	pty_file_entry__init(e);
	e->id = fd_obj_id(d);
	e->index = index;
	e->master = master;
	e->flags = p->fi.flags & PTY_FLAGS;
	*id = e->id;
	return fd_list_add(&pd->files, e);
}

int dump_pty_note_task(struct dump_files *d, const struct cr_options *o, pid_t pid,
		       const struct proc_stat *st)
{
	struct pty_dump *pd = pty_state(d, o);

	if (!pd || grow((void **)&pd->tasks, &pd->cap_tasks, pd->nr_tasks, sizeof(*pd->tasks)))
		return -1;
	pd->tasks[pd->nr_tasks++] = (struct pty_task){
		.pid = pid, .sid = st->session, .pgid = st->pgrp, .tty_nr = st->tty_nr,
	};
	return 0;
}

static PtyEntry *find_pair(const struct pty_dump *pd, uint32_t index)
{
	size_t i;

	for (i = 0; i < pd->pairs.nr; i++)
		if (((PtyEntry *)pd->pairs.v[i])->index == index)
			return (PtyEntry *)pd->pairs.v[i];
	return NULL;
}

static const struct pty_task *find_task(const struct pty_dump *pd, pid_t pid)
{
	size_t i;

	for (i = 0; i < pd->nr_tasks; i++)
		if (pd->tasks[i].pid == pid)
			return &pd->tasks[i];
	return NULL;
}

/* Slaves without their master are the shell job's terminal; what slaves noted. */
static int resolve_slaves(struct pty_dump *pd)
{
	size_t i;

	for (i = 0; i < pd->files.nr; i++) {
		PtyFileEntry *f = (PtyFileEntry *)pd->files.v[i];

		if (f->master || find_pair(pd, f->index))
			continue;
		if (!pd->shell_job) {
			pr_err("/dev/pts/%u: its master is not in the dump: the terminal of a "
			       "shell job, needs --shell-job", f->index);
			return -1;
		}
		f->has_external = f->external = true;
	}
	for (i = 0; i < pd->nr_notes; i++) {
		const struct pty_slave_note *n = &pd->notes[i];
		PtyEntry *e = find_pair(pd, n->index);

		if (!e && n->io_error) {
			pr_err("/dev/pts/%u: the shell job's terminal is in I/O error: not supported "
			       "yet", n->index);
			return -1;
		}
		if (e && n->exclusive)
			e->has_exclusive = e->exclusive = true;
		if (e && n->io_error)
			e->has_slave_io_error = e->slave_io_error = true;
	}
	return 0;
}

/* A process's controlling terminal is a pair of the dump and of its session. */
static int check_task_ctty(const struct pty_dump *pd, const struct pty_task *t)
{
	const PtyEntry *e;

	if (!t->tty_nr)
		return 0;
	e = tty_nr_is_pts(t->tty_nr) ? find_pair(pd, minor((dev_t)(unsigned int)t->tty_nr)) : NULL;
	if (!e) {
		if (pd->shell_job)
			return 0;	/* criu's terminal on restore */
		pr_err("%d has a controlling terminal outside the dump: a shell job, "
		       "needs --shell-job", t->pid);
		return -1;
	}
	if (pd->shell_job) {
		pr_err("%d: its controlling terminal /dev/pts/%u is in the dump: --shell-job "
		       "(which keeps criu's terminal) is not supported with it", t->pid, e->index);
		return -1;
	}
	if (!e->has_sid || e->sid != (uint32_t)t->sid) {
		pr_err("%d: its controlling terminal /dev/pts/%u belongs to session %u, not "
		       "to its own %d: not supported yet", t->pid, e->index, e->sid, t->sid);
		return -1;
	}
	return 0;
}

/* A pair that is a controlling terminal: its session and foreground group are dumped. */
static int check_pair_session(const struct pty_dump *pd, const PtyEntry *e)
{
	const struct pty_task *leader;
	size_t i;
	bool fg = false;

	if (!e->has_sid)
		return 0;
	leader = find_task(pd, (pid_t)e->sid);
	if (!leader || leader->sid != leader->pid) {
		pr_err("pty %u is the controlling terminal of session %u, whose leader is not "
		       "dumped: not supported yet", e->index, e->sid);
		return -1;
	}
	for (i = 0; i < pd->nr_tasks; i++) {
		const struct pty_task *t = &pd->tasks[i];

		if (t->sid != (pid_t)e->sid)
			continue;
		if (t->tty_nr != leader->tty_nr) {
			pr_err("%d is in session %u but has not its controlling terminal: "
			       "not supported yet", t->pid, e->sid);
			return -1;
		}
		fg |= t->pgid == (pid_t)e->fg_pgrp;
	}
	if (!fg) {
		pr_err("pty %u: foreground process group %u has no dumped process: "
		       "not supported yet", e->index, e->fg_pgrp);
		return -1;
	}
	return 0;
}

static int pair_cmp(const void *a, const void *b)
{
	const PtyEntry *x = *(PtyEntry *const *)a, *y = *(PtyEntry *const *)b;

	return x->index < y->index ? -1 : x->index > y->index;
}

static int pty_write(struct dump_files *d, int dirfd)
{
	struct pty_dump *pd = d->priv[FD_KIND__FD_PTY];
	size_t i;

	if (!pd)
		return 0;
	if (pd->pairs.nr > PTY_MAX_PAIRS || pd->files.nr > PTY_MAX_FILES) {
		pr_err("%zu pty pairs, %zu pty open files: more than %d or %d is not supported yet",
		       pd->pairs.nr, pd->files.nr, PTY_MAX_PAIRS, PTY_MAX_FILES);
		return -1;
	}
	if (resolve_slaves(pd))
		return -1;
	for (i = 0; i < pd->nr_tasks; i++)
		if (check_task_ctty(pd, &pd->tasks[i]))
			return -1;
	for (i = 0; i < pd->pairs.nr; i++)
		if (check_pair_session(pd, (PtyEntry *)pd->pairs.v[i]))
			return -1;
	if (pd->pairs.nr)
		qsort(pd->pairs.v, pd->pairs.nr, sizeof(*pd->pairs.v), pair_cmp);
	if (fd_write_entries(dirfd, IMG_PTY_FILES, pd->files.v, pd->files.nr))
		return -1;
	return fd_write_entries(dirfd, IMG_PTYS, pd->pairs.v, pd->pairs.nr);
}

static void pty_free(struct dump_files *d)
{
	struct pty_dump *pd = d->priv[FD_KIND__FD_PTY];
	size_t i;

	if (!pd)
		return;
	for (i = 0; i < pd->files.nr; i++)
		protobuf_c_message_free_unpacked(pd->files.v[i], NULL);
	for (i = 0; i < pd->pairs.nr; i++)
		protobuf_c_message_free_unpacked(pd->pairs.v[i], NULL);
	free(pd->files.v);
	free(pd->pairs.v);
	free(pd->notes);
	free(pd->tasks);
	free(pd);
	d->priv[FD_KIND__FD_PTY] = NULL;
}

/* ---- restore: images ----------------------------------------------------- */

struct pty_rst {
	PtyFileEntry	**files;	/* ids ascending */
	size_t		nr_files;
	PtyEntry	**pairs;	/* indexes ascending */
	size_t		nr_pairs;
	int		*fd;		/* per file: made, not yet handed out; else -1 */
	bool		*made;		/* per pair */
	const struct cr_options *o;
};

static int check_file(const ProtobufCMessage *m, void *ctx)
{
	const PtyFileEntry *e = (const PtyFileEntry *)m;
	struct fd_rst *r = ctx;
	struct pty_rst *pr = r->priv[FD_KIND__FD_PTY];

	if (pr->nr_files && e->id <= pr->files[pr->nr_files - 1]->id) {
		pr_err("pty-files.img: ids not ascending at %u", e->id);
		return -1;
	}
	if (e->index >= PTY_MAX_INDEX || (e->flags & ~PTY_FLAGS) ||
	    (e->flags & O_ACCMODE) == O_ACCMODE || (e->master && e->external)) {
		pr_err("pty-files.img: object %u: index %u, flags %#x or kind out of range", e->id,
		       e->index, e->flags);
		return -1;
	}
	return fd_rst_add(r, FD_KIND__FD_PTY, e->id, m);
}

static int check_pair(const ProtobufCMessage *m, void *ctx)
{
	const PtyEntry *e = (const PtyEntry *)m;
	struct pty_rst *pr = ctx;

	if (pr->nr_pairs && e->index <= pr->pairs[pr->nr_pairs - 1]->index) {
		pr_err("ptys.img: indexes not ascending at %u", e->index);
		return -1;
	}
	if (e->index >= PTY_MAX_INDEX || e->cc.len != PTY_NCC || e->line > 255 ||
	    e->rows > 0xffff || e->cols > 0xffff || e->xpixel > 0xffff || e->ypixel > 0xffff) {
		pr_err("ptys.img: pty %u: index, control characters or window size out of range",
		       e->index);
		return -1;
	}
	if (e->has_uid != e->has_gid || e->has_uid != e->has_perm || e->perm > 07777) {
		pr_err("ptys.img: pty %u: slave owner or permissions %o incomplete or out of range",
		       e->index, e->perm);
		return -1;
	}
	if (e->has_master_data && (e->master_data.len > PTY_MAX_DATA || e->packet)) {
		pr_err("ptys.img: pty %u: %zu bytes of master data (packet mode %d)", e->index,
		       e->master_data.len, e->packet);
		return -1;
	}
	if (e->has_lock_cc != e->has_lock_iflag || (e->has_lock_cc && (e->lock_cc.len != PTY_NCC ||
	    e->lock_line > 255))) {
		pr_err("ptys.img: pty %u: termios lock incomplete or out of range", e->index);
		return -1;
	}
	if (e->has_sid != e->has_fg_pgrp || (e->has_sid && (e->sid < 1 || e->sid >= PTY_MAX_PID ||
	    e->fg_pgrp < 1 || e->fg_pgrp >= PTY_MAX_PID))) {
		pr_err("ptys.img: pty %u: session %u or foreground group %u out of range", e->index,
		       e->sid, e->fg_pgrp);
		return -1;
	}
	return 0;
}

static PtyEntry *rst_pair(const struct pty_rst *pr, uint32_t index, size_t *k)
{
	size_t lo = 0, hi = pr->nr_pairs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pr->pairs[mid]->index == index) {
			if (k)
				*k = mid;
			return pr->pairs[mid];
		}
		if (pr->pairs[mid]->index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Every end has its pair, every pair one master; slave-side modes have a slave. */
static int check_ends(const struct pty_rst *pr)
{
	unsigned int *masters = calloc(pr->nr_pairs + 1, sizeof(*masters));
	unsigned int *slaves = calloc(pr->nr_pairs + 1, sizeof(*slaves));
	int ret = -1;
	size_t i, k;

	if (!masters || !slaves) {
		pr_err("out of memory");
		goto out;
	}
	for (i = 0; i < pr->nr_files; i++) {
		const PtyFileEntry *f = pr->files[i];

		if (f->external)
			continue;
		if (!rst_pair(pr, f->index, &k)) {
			pr_err("pty-files.img: object %u names pty %u, which ptys.img lacks", f->id,
			       f->index);
			goto out;
		}
		if (f->master)
			masters[k]++;
		else
			slaves[k]++;
	}
	for (k = 0; k < pr->nr_pairs; k++) {
		const PtyEntry *e = pr->pairs[k];

		if (masters[k] != 1 || ((e->exclusive || e->slave_io_error) && !slaves[k]) ||
		    (e->slave_closed && slaves[k])) {
			pr_err("ptys.img: pty %u: %u masters, %u slaves, exclusive %d, I/O error %d, "
			       "slave closed %d do not fit", e->index, masters[k], slaves[k],
			       e->exclusive, e->slave_io_error, e->slave_closed);
			goto out;
		}
	}
	ret = 0;
out:
	free(masters);
	free(slaves);
	return ret;
}

static int pty_read(struct fd_rst *r, int dirfd)
{
	struct pty_rst *pr = calloc(1, sizeof(*pr));
	size_t i;

	if (!pr) {
		pr_err("out of memory");
		return -1;
	}
	r->priv[FD_KIND__FD_PTY] = pr;
	if (faccessat(dirfd, "pty-files.img", F_OK, 0) && errno == ENOENT)
		return 0;
	if (img_read_all(dirfd, IMG_PTY_FILES, 0, PTY_MAX_FILES, check_file, r,
			 (ProtobufCMessage ***)&pr->files, &pr->nr_files))
		return -1;
	if (!(faccessat(dirfd, "ptys.img", F_OK, 0) && errno == ENOENT) &&
	    img_read_all(dirfd, IMG_PTYS, 0, PTY_MAX_PAIRS, check_pair, pr,
			 (ProtobufCMessage ***)&pr->pairs, &pr->nr_pairs))
		return -1;
	pr->fd = malloc((pr->nr_files + 1) * sizeof(*pr->fd));
	pr->made = calloc(pr->nr_pairs + 1, sizeof(*pr->made));
	if (!pr->fd || !pr->made) {
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < pr->nr_files; i++)
		pr->fd[i] = -1;
	return check_ends(pr);
}

static void pty_rst_free(struct fd_rst *r)
{
	struct pty_rst *pr = r->priv[FD_KIND__FD_PTY];
	size_t i;

	if (!pr)
		return;
	for (i = 0; pr->fd && i < pr->nr_files; i++)
		if (pr->fd[i] >= 0)
			close(pr->fd[i]);
	img_free_all((ProtobufCMessage **)pr->files, pr->nr_files);
	img_free_all((ProtobufCMessage **)pr->pairs, pr->nr_pairs);
	free(pr->fd);
	free(pr->made);
	free(pr);
	r->priv[FD_KIND__FD_PTY] = NULL;
}

/* ---- restore: making a pair ---------------------------------------------- */

/*
 * /dev/ptmx gives the lowest free index: open it until @index comes,
 * holding the lower ones, then let them go. A higher one means @index is
 * taken.
 */
static int open_master_at(uint32_t index, int flags)
{
	int *held = malloc(PTY_MAX_HOLD * sizeof(*held)), nr = 0, fd = -1, n;

	if (!held) {
		pr_err("out of memory");
		return -1;
	}
	for (;;) {
		fd = open("/dev/ptmx", flags | O_NOCTTY | O_CLOEXEC);
		if (fd < 0) {
			pr_perror("pty %u: cannot open /dev/ptmx (%d lower ones held)", index, nr);
			break;
		}
		if (ioctl(fd, TIOCGPTN, &n)) {
			pr_perror("pty %u: TIOCGPTN", index);
		} else if ((uint32_t)n == index) {
			break;
		} else if ((uint32_t)n > index) {
			pr_err("/dev/pts/%u is in use (the kernel offers %d): restoring a pty under "
			       "another index is not supported yet", index, n);
		} else if (nr == PTY_MAX_HOLD) {
			pr_err("pty %u: more than %d free indexes below it", index, PTY_MAX_HOLD);
		} else {
			held[nr++] = fd;
			continue;
		}
		close(fd);
		fd = -1;
		break;
	}
	while (nr)
		close(held[--nr]);
	free(held);
	return fd;
}

static void get_termios(const PtyEntry *e, struct termios2 *t, struct winsize *ws)
{
	memset(t, 0, sizeof(*t));
	t->c_iflag = e->iflag;
	t->c_oflag = e->oflag;
	t->c_cflag = e->cflag;
	t->c_lflag = e->lflag;
	t->c_line = (cc_t)e->line;
	memcpy(t->c_cc, e->cc.data, PTY_NCC);
	t->c_ispeed = e->ispeed;
	t->c_ospeed = e->ospeed;
	*ws = (struct winsize){ (unsigned short)e->rows, (unsigned short)e->cols,
				(unsigned short)e->xpixel, (unsigned short)e->ypixel };
}

/* The slave's termios lock, once its termios is set (TIOCSLCKTRMIOS needs CAP_SYS_ADMIN). */
static int set_termios_lock(const PtyEntry *e, int m)
{
	struct termios l;

	if (!e->has_lock_cc)
		return 0;
	memset(&l, 0, sizeof(l));
	l.c_iflag = e->lock_iflag;
	l.c_oflag = e->lock_oflag;
	l.c_cflag = e->lock_cflag;
	l.c_lflag = e->lock_lflag;
	l.c_line = (cc_t)e->lock_line;
	memcpy(l.c_cc, e->lock_cc.data, PTY_NCC);
	if (ioctl(m, TIOCSLCKTRMIOS, &l)) {
		pr_perror("pty %u: TIOCSLCKTRMIOS", e->index);
		return -1;
	}
	return 0;
}

/* Modes on the master @m (acting on the slave where they belong to it). */
static int set_modes(const PtyEntry *e, int m)
{
	struct termios2 t;
	struct winsize ws;
	int on = 1;

	get_termios(e, &t, &ws);
	if (ioctl(m, TCSETS2, &t) || ioctl(m, TIOCSWINSZ, &ws) ||
	    (e->packet && ioctl(m, TIOCPKT, &on)) || (e->master_exclusive && ioctl(m, TIOCEXCL))) {
		pr_perror("pty %u: cannot set termios, window size, packet or exclusive mode",
			  e->index);
		return -1;
	}
	return set_termios_lock(e, m);
}

/*
 * The open slave in I/O error again, as the task left it: an open of the
 * node while the pair is locked fails (EIO) and leaves TTY_IO_ERROR set
 * (the kernel's pty_open()). The pair is locked meanwhile; the caller
 * sets the dumped lock afterwards.
 */
static int slave_io_error(const PtyEntry *e, int m)
{
	int lock = 1, fd;
	char path[32];

	snprintf(path, sizeof(path), "/dev/pts/%u", e->index);
	if (ioctl(m, TIOCSPTLCK, &lock)) {
		pr_perror("pty %u: lock", e->index);
		return -1;
	}
	fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0 || errno != EIO) {
		pr_perror("pty %u: an open of the locked slave %s (to put it in I/O error) did "
			  "not fail with EIO", e->index, path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return 0;
}

/*
 * A slave open file description with exactly the dumped file flags:
 * TIOCGPTPEER keeps whatever it is given in them (O_CLOEXEC too, which
 * F_GETFL and fdinfo would then show for good), and adds no O_LARGEFILE.
 * criu's descriptor is made close-on-exec afterwards, as a fd flag only.
 */
static int open_slave(const PtyEntry *e, int m, uint32_t flags)
{
	int fd = ioctl(m, TIOCGPTPEER, (int)(flags | O_NOCTTY));

	if (fd < 0) {
		pr_perror("pty %u: TIOCGPTPEER", e->index);
		return -1;
	}
	if (fcntl(fd, F_SETFD, FD_CLOEXEC)) {
		pr_perror("pty %u: F_SETFD", e->index);
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The slave node's owner and permissions, through a path checked to be
 * this pair's node (the master is open, so the node exists).
 */
static int node_restore(const PtyEntry *e)
{
	char path[32], self[64];
	struct stat st;
	int fd;

	if (!e->has_uid)
		return 0;
	snprintf(path, sizeof(path), "/dev/pts/%u", e->index);
	fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || !S_ISCHR(st.st_mode) ||
	    st.st_rdev != makedev(PTS_MAJOR, e->index)) {
		pr_err("pty %u: %s is not its slave node", e->index, path);
		goto err;
	}
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	/* chown before chmod: chown drops set-id bits */
	if (fchownat(fd, "", e->uid, e->gid, AT_EMPTY_PATH) || chmod(self, e->perm)) {
		pr_perror("pty %u: cannot give %s owner %u:%u mode %o", e->index, path, e->uid,
			  e->gid, e->perm);
		goto err;
	}
	close(fd);
	return 0;
err:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* The master, every slave open file description, the modes, then the lock. */
static int make_pair(struct pty_rst *pr, const PtyEntry *e)
{
	int m = -1, unlock = 0, lock, slave = -1;
	size_t i, mi = 0;

	for (i = 0; i < pr->nr_files; i++)
		if (pr->files[i]->master && pr->files[i]->index == e->index)
			mi = i;
	m = open_master_at(e->index, (int)(pr->files[mi]->flags & PTY_FLAGS));
	if (m < 0)
		return -1;
	pr->fd[mi] = m;
	if (ioctl(m, TIOCSPTLCK, &unlock)) {
		pr_perror("pty %u: unlockpt", e->index);
		return -1;
	}
	if (set_modes(e, m) || node_restore(e))
		return -1;
	if (e->has_master_data && master_unread(m, e->index, e->master_data.data, e->master_data.len))
		return -1;
	for (i = 0; i < pr->nr_files; i++) {
		const PtyFileEntry *f = pr->files[i];

		if (f->master || f->external || f->index != e->index)
			continue;
		pr->fd[i] = open_slave(e, m, f->flags);
		if (pr->fd[i] < 0)
			return -1;
		slave = pr->fd[i];
	}
	if (e->exclusive && ioctl(slave, TIOCEXCL)) {
		pr_perror("pty %u: TIOCEXCL", e->index);
		return -1;
	}
	if (e->slave_closed) {
		slave = open_slave(e, m, O_RDWR);
		if (slave < 0)
			return -1;
		close(slave);
	}
	if (e->slave_io_error && slave_io_error(e, m))
		return -1;
	lock = e->locked;
	if (ioctl(m, TIOCSPTLCK, &lock)) {
		pr_perror("pty %u: lock %d", e->index, lock);
		return -1;
	}
	pr_info("pty %u restored", e->index);
	return 0;
}

static size_t file_pos(const struct pty_rst *pr, const PtyFileEntry *fe)
{
	size_t lo = 0, hi = pr->nr_files;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pr->files[mid]->id == fe->id)
			return mid;
		if (pr->files[mid]->id < fe->id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;	/* not reached: every object came from this list */
}

static int pty_open(struct fd_rst *r, const struct fd_obj *o, const struct cr_options *opt)
{
	struct pty_rst *pr = r->priv[FD_KIND__FD_PTY];
	const PtyFileEntry *fe = (const PtyFileEntry *)o->e;
	size_t i = file_pos(pr, fe), k = 0;
	char what[32];
	int fd;

	if (fe->external) {
		snprintf(what, sizeof(what), "/dev/pts/%u", fe->index);
		return rst_shell_tty_open(what, opt);
	}
	rst_pair(pr, fe->index, &k);
	if (!pr->made[k]) {
		pr->made[k] = true;
		if (make_pair(pr, pr->pairs[k]))
			return -1;
	}
	fd = pr->fd[i];
	pr->fd[i] = -1;
	if (fd < 0)
		pr_err("pty %u: object %u was handed out already", fe->index, fe->id);
	return fd;
}

/* The ends of one pair are made together (in a tree, by one process). */
static uint64_t pty_group(const struct fd_rst *r, const struct fd_obj *o)
{
	const PtyFileEntry *fe = (const PtyFileEntry *)o->e;

	(void)r;
	return fe->external ? 0 : (uint64_t)fe->index + 1;
}

const struct fd_ops fd_pty_ops = {
	.kind = FD_KIND__FD_PTY, .name = "pty", .img = IMG_PTY_FILES,
	.match = pty_match, .dump = pty_dump, .write = pty_write, .free = pty_free,
	.read = pty_read, .open = pty_open, .rst_free = pty_rst_free, .group = pty_group,
};

/* ---- restore: sessions ----------------------------------------------------- */

static bool in_tree(PstreeEntry *const *ps, size_t nr, uint32_t sid, uint32_t pid, uint32_t pgid)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (ps[i]->sid == sid && (!pid || ps[i]->pid == pid) && (!pgid || ps[i]->pgid == pgid))
			return true;
	return false;
}

int rst_pty_check_sessions(const struct fd_rst *r, PstreeEntry *const *ps, size_t nr,
			   bool shell_job)
{
	const struct pty_rst *pr = r->priv[FD_KIND__FD_PTY];
	size_t k;

	for (k = 0; pr && k < pr->nr_pairs; k++) {
		const PtyEntry *e = pr->pairs[k];

		if (!e->has_sid)
			continue;
		if (shell_job) {
			pr_err("pty %u is the controlling terminal of session %u: restore without "
			       "--shell-job", e->index, e->sid);
			return -1;
		}
		if (!in_tree(ps, nr, e->sid, e->sid, 0) || !in_tree(ps, nr, e->sid, 0, e->fg_pgrp)) {
			pr_err("ptys.img: pty %u: session %u or its foreground group %u is not in "
			       "pstree.img", e->index, e->sid, e->fg_pgrp);
			return -1;
		}
	}
	return 0;
}

/* An inherited descriptor of pair @e: a slave, else the master; -1 if none. */
static int pair_fd(const struct fd_rst *r, const int *obj_fd, const PtyEntry *e)
{
	int master = -1;
	size_t k;

	for (k = 0; k < r->nr_obj; k++) {
		const PtyFileEntry *f = (const PtyFileEntry *)r->obj[k].e;

		if (r->obj[k].store != FD_KIND__FD_PTY || obj_fd[k] < 0 || f->external ||
		    f->index != e->index)
			continue;
		if (!f->master)
			return obj_fd[k];
		master = obj_fd[k];
	}
	return master;
}

int rst_pty_set_ctty(const struct fd_rst *r, const int *obj_fd, pid_t sid, char *why, size_t len)
{
	const struct pty_rst *pr = r->priv[FD_KIND__FD_PTY];
	size_t k;
	int fd;

	for (k = 0; pr && k < pr->nr_pairs; k++) {
		const PtyEntry *e = pr->pairs[k];

		if (!e->has_sid || e->sid != (uint32_t)sid)
			continue;
		fd = pair_fd(r, obj_fd, e);
		if (fd < 0) {
			snprintf(why, len, "pty %u: no descriptor of it to make it the controlling "
				 "terminal", e->index);
			return -1;
		}
		/* on a master, TIOCSCTTY takes its slave */
		if (ioctl(fd, TIOCSCTTY, 0)) {
			snprintf(why, len, "pty %u: TIOCSCTTY: %s", e->index, strerror(errno));
			return -1;
		}
		return 0;
	}
	return 0;
}

int rst_pty_set_fg(const struct fd_rst *r, const int *obj_fd, pid_t sid, pid_t pgid,
		   char *why, size_t len)
{
	const struct pty_rst *pr = r->priv[FD_KIND__FD_PTY];
	size_t k;
	int fd;

	for (k = 0; pr && k < pr->nr_pairs; k++) {
		const PtyEntry *e = pr->pairs[k];

		if (!e->has_sid || e->sid != (uint32_t)sid || e->fg_pgrp != (uint32_t)pgid)
			continue;
		fd = pair_fd(r, obj_fd, e);
		if (fd < 0 || ioctl(fd, TIOCSPGRP, &pgid)) {
			snprintf(why, len, "pty %u: cannot make group %d the foreground: %s", e->index,
				 pgid, fd < 0 ? "no descriptor of it" : strerror(errno));
			return -1;
		}
		return 0;
	}
	return 0;
}
