/*
 * The fd-kind table on the restore side, without a task: images written
 * here are read back by fd_rst_read() (every kind's validation), fd
 * entries checked by fd_rst_check(), and objects created by the kinds'
 * open() and looked at from this process.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <asm/termbits.h>

#include "unit.h"
#include "tmpdir.h"
#include "est-fd.h"
#include "est-import-int.h"
#include "files.h"
#include "files-reg.h"
#include "kernel-compat.h"
#include "image.h"
#include "log.h"
#include "options.h"
#include "epoll.pb-c.h"
#include "eventfd.pb-c.h"
#include "fanotify.pb-c.h"
#include "inotify.pb-c.h"
#include "pidfd.pb-c.h"
#include "pipe.pb-c.h"
#include "timerfd.pb-c.h"
#include "pty.pb-c.h"
#include "sk-unix.pb-c.h"
#include "tty.h"

#define USK_TEST_RIGHTS	254

static int tfd = -1;

/* A fresh, empty images directory (the last one is removed at exit). */
static int fresh_dir(void)
{
	tfd = unit_fresh_dir("files");
	log_init(NULL, NULL, LOG_NONE);
	return tfd < 0 ? -1 : 0;
}

static int put(enum img_kind kind, ProtobufCMessage *m)
{
	struct cr_img *img = img_create(tfd, kind, 0);

	if (!img || img_write_entry(img, m))
		return -1;
	return img_commit(img);
}

static int read_ok(struct fd_rst *r)
{
	memset(r, 0, sizeof(*r));
	return fd_rst_read(r, tfd);
}

static EventfdEntry efd(uint32_t id, uint64_t counter)
{
	EventfdEntry e = EVENTFD_ENTRY__INIT;

	e.id = id;
	e.counter = counter;
	return e;
}

static int test_eventfd_open(void)
{
	EventfdEntry e = efd(7, 0x123456789aULL);
	struct cr_options o = { 0 };
	FdEntry fe = FD_ENTRY__INIT;
	struct fd_rst r;
	uint64_t v = 0;
	int fd, ret;

	CHECK(fresh_dir() == 0);
	CHECK(put(IMG_EVENTFDS, &e.base) == 0);
	CHECK(read_ok(&r) == 0);
	fe.kind = FD_KIND__FD_EVENTFD;
	fe.id = 7;
	CHECK(fd_rst_check(&r, &fe, "fds") == 0);
	fe.kind = FD_KIND__FD_TIMERFD;
	CHECK(fd_rst_check(&r, &fe, "fds") == -1);	/* no timerfd of that id */
	fe.kind = FD_KIND__FD_EVENTFD;
	fe.id = 8;
	CHECK(fd_rst_check(&r, &fe, "fds") == -1);	/* no object at all */
	fd = fd_ops(FD_KIND__FD_EVENTFD)->open(&r, fd_rst_find(&r, 7), &o);
	CHECK(fd >= 0);
	ret = read(fd, &v, sizeof(v)) == sizeof(v) && v == 0x123456789aULL;
	close(fd);
	fd_rst_free(&r);
	CHECK(ret);
	return 0;
}

static int test_duplicate_id_across_kinds(void)
{
	EventfdEntry e = efd(5, 1);
	TimerfdEntry t = TIMERFD_ENTRY__INIT;
	struct fd_rst r;

	t.id = 5;
	t.clockid = 1;
	CHECK(fresh_dir() == 0);
	CHECK(put(IMG_EVENTFDS, &e.base) == 0 && put(IMG_TIMERFDS, &t.base) == 0);
	CHECK(read_ok(&r) == -1);
	fd_rst_free(&r);
	return 0;
}

static int test_pipe_open_with_data(void)
{
	PipeEntry rd = PIPE_ENTRY__INIT, wr = PIPE_ENTRY__INIT;
	PipeDataEntry d = PIPE_DATA_ENTRY__INIT;
	struct cr_options o = { 0 };
	struct fd_rst r;
	char buf[16] = "";
	int a, b, ok;

	rd.id = 1;
	rd.pipe_id = 99;
	rd.flags = O_RDONLY | O_NONBLOCK;
	wr.id = 2;
	wr.pipe_id = 99;
	wr.flags = O_WRONLY;
	d.pipe_id = 99;
	d.size = 65536 * 2;
	d.has_data = true;
	d.data.data = (uint8_t *)"queued";
	d.data.len = 6;
	CHECK(fresh_dir() == 0);
	{
		struct cr_img *img = img_create(tfd, IMG_PIPES, 0);

		CHECK(img && !img_write_entry(img, &rd.base) && !img_write_entry(img, &wr.base));
		CHECK(img_commit(img) == 0);
	}
	CHECK(put(IMG_PIPES_DATA, &d.base) == 0);
	CHECK(read_ok(&r) == 0);
	a = fd_ops(FD_KIND__FD_PIPE)->open(&r, fd_rst_find(&r, 1), &o);
	b = fd_ops(FD_KIND__FD_PIPE)->open(&r, fd_rst_find(&r, 2), &o);
	ok = a >= 0 && b >= 0 && fcntl(b, F_GETPIPE_SZ) == 131072 &&
	     (fcntl(a, F_GETFL) & O_NONBLOCK) && !(fcntl(b, F_GETFL) & O_NONBLOCK) &&
	     read(a, buf, sizeof(buf)) == 6 && !memcmp(buf, "queued", 6) &&
	     (fcntl(a, F_GETFL) & O_ACCMODE) == O_RDONLY;
	close(a);
	close(b);
	fd_rst_free(&r);
	CHECK(ok);
	return 0;
}

/* Each image is refused on its own. */
static int refused(enum img_kind kind, ProtobufCMessage *m)
{
	struct fd_rst r;
	int ret;

	if (fresh_dir() || put(kind, m))
		return 0;
	ret = read_ok(&r);
	fd_rst_free(&r);
	return ret == -1;
}

static int test_bad_entries(void)
{
	EpollTfdEntry tfd = EPOLL_TFD_ENTRY__INIT, *tfds[] = { &tfd };
	EpollEntry ep = EPOLL_ENTRY__INIT;
	TimerfdEntry t = TIMERFD_ENTRY__INIT;
	PipeEntry p = PIPE_ENTRY__INIT;
	PipeDataEntry d = PIPE_DATA_ENTRY__INIT;
	InotifyWdEntry w1 = INOTIFY_WD_ENTRY__INIT, w2, *wds[] = { &w1, &w2 };
	InotifyEntry in = INOTIFY_ENTRY__INIT;
	EventfdEntry e = efd(3, UINT64_MAX);
	FanotifyEntry fan = FANOTIFY_ENTRY__INIT;

	CHECK(refused(IMG_EVENTFDS, &e.base));			/* counter cannot be set */
	ep.id = 1;
	ep.n_tfds = 1;
	ep.tfds = tfds;
	tfd.fd = 1u << 20;
	CHECK(refused(IMG_EPOLLS, &ep.base));			/* target out of range */
	t.id = 2;
	t.clockid = 1;
	t.value_nsec = 1000000000;
	CHECK(refused(IMG_TIMERFDS, &t.base));			/* nsec out of range */
	t.value_nsec = 0;
	t.clockid = 42;
	CHECK(refused(IMG_TIMERFDS, &t.base));			/* unknown clock */
	p.id = 4;
	p.flags = O_RDWR | O_APPEND;
	CHECK(refused(IMG_PIPES, &p.base));			/* flags we never write */
	d.pipe_id = 1;
	d.size = 4096;
	d.has_data = true;
	d.data.len = 5000;
	d.data.data = calloc(1, 5000);
	CHECK(refused(IMG_PIPES_DATA, &d.base));		/* more data than room */
	free(d.data.data);
	in.id = 5;
	in.n_wds = 2;
	in.wds = wds;
	w1.wd = 3;
	w1.mask = 0x100;
	w1.path = "/tmp";
	w2 = w1;
	w2.wd = 2;
	CHECK(refused(IMG_INOTIFYS, &in.base));			/* watches out of order */
	fan.id = 6;
	fan.init_flags = 0x4;	/* FAN_CLASS_CONTENT */
	CHECK(refused(IMG_FANOTIFYS, &fan.base));		/* permission class */
	return 0;
}

/* ---- descriptors in flight on unix sockets -------------------------------- */

/* A connected stream socket with two queued messages, the second carrying @scm. */
static int unix_scm_read(UnixScm **scm, size_t n_scm)
{
	static uint8_t a[] = "one", b[] = "two";
	ProtobufCBinaryData q[] = { { 3, a }, { 3, b } };
	UnixSkEntry e = UNIX_SK_ENTRY__INIT;
	struct fd_rst r;
	int ret;

	e.id = 7;
	e.ino = 1007;
	e.type = 1;	/* SOCK_STREAM */
	e.state = 1;	/* connected, peer gone */
	e.n_queue = 2;
	e.queue = q;
	e.n_scm = n_scm;
	e.scm = scm;
	if (fresh_dir() || put(IMG_UNIX_SKS, &e.base))
		return -2;
	ret = read_ok(&r);
	fd_rst_free(&r);
	return ret;
}

static int test_unix_scm_entries(void)
{
	static uint32_t ids[USK_TEST_RIGHTS];
	UnixScm m = UNIX_SCM__INIT, m2, *one[] = { &m }, *two[] = { &m, &m2 };

	m.msg = 1;
	m.n_rights = 2;
	m.rights = ids;
	CHECK(unix_scm_read(one, 1) == 0);		/* ids are checked when sent */
	m.msg = 2;
	CHECK(unix_scm_read(one, 1) == -1);		/* no such message */
	m.msg = 1;
	m.n_rights = 0;
	CHECK(unix_scm_read(one, 1) == -1);		/* nothing in flight */
	m.n_rights = 254;
	CHECK(unix_scm_read(one, 1) == -1);		/* over SCM_MAX_FD */
	m.n_rights = 253;
	CHECK(unix_scm_read(one, 1) == 0);
	m2 = m;
	CHECK(unix_scm_read(two, 2) == -1);		/* one message twice */
	m.msg = 0;
	CHECK(unix_scm_read(two, 2) == 0);
	return 0;
}

/* ---- pidfds --------------------------------------------------------------- */

static PidfdEntry pidfd_e(uint32_t id, int32_t pid, uint32_t flags)
{
	PidfdEntry e = PIDFD_ENTRY__INIT;

	e.id = id;
	e.pid = pid;
	e.flags = flags;
	e.ino = 77;
	return e;
}

static int test_pidfd_bad_entries(void)
{
	PidfdEntry e = pidfd_e(1, 5, O_APPEND);

	CHECK(refused(IMG_PIDFDS, &e.base));			/* flags pidfd_open never takes */
	e = pidfd_e(1, 0, 0);
	CHECK(refused(IMG_PIDFDS, &e.base));			/* no process */
	e.pid = -2;
	CHECK(refused(IMG_PIDFDS, &e.base));
	e.pid = 5;
	e.has_exit_status = true;
	CHECK(refused(IMG_PIDFDS, &e.base));			/* a live process's exit status */
	e.pid = -1;
	e.exit_status = 0x80 | SIGSEGV;
	CHECK(refused(IMG_PIDFDS, &e.base));			/* a core dump */
	e.exit_status = 0x137f;
	CHECK(refused(IMG_PIDFDS, &e.base));			/* stopped: not an end */
	e.exit_status = 0x10300;
	CHECK(refused(IMG_PIDFDS, &e.base));
	return 0;
}

/* The pidfd of object @id after rst_pidfds_create(), its ino and PIDFD_INFO_EXIT status. */
static int dead_pidfd(struct fd_rst *r, uint32_t id, struct stat *st, int *code)
{
	struct compat_pidfd_info info = { .mask = COMPAT_PIDFD_INFO_EXIT };
	struct cr_options o = { 0 };
	int fd = fd_ops(FD_KIND__FD_PIDFD)->open(r, fd_rst_find(r, id), &o);

	if (fd < 0 || fstat(fd, st) || syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0) == 0 ||
	    errno != ESRCH) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*code = ioctl(fd, COMPAT_PIDFD_GET_INFO, &info) || !(info.mask & COMPAT_PIDFD_INFO_EXIT) ?
		-1 : info.exit_code;
	return fd;
}

static int test_pidfd_reaped(void)
{
	PidfdEntry a = pidfd_e(1, -1, 0), b = pidfd_e(2, -1, O_NONBLOCK);
	struct stat sa, sb;
	int fa, fb = -1, ca, cb, ok;
	struct cr_img *img;
	struct fd_rst r;

	a.has_exit_status = b.has_exit_status = true;
	a.exit_status = b.exit_status = 3 << 8;
	CHECK(fresh_dir() == 0);
	img = img_create(tfd, IMG_PIDFDS, 0);
	CHECK(img && !img_write_entry(img, &a.base) && !img_write_entry(img, &b.base));
	CHECK(img_commit(img) == 0);
	CHECK(read_ok(&r) == 0);
	CHECK(rst_pidfds_create(&r) == 0);
	fa = dead_pidfd(&r, 1, &sa, &ca);
	if (fa >= 0)
		fb = dead_pidfd(&r, 2, &sb, &cb);
	ok = fa >= 0 && fb >= 0 && sa.st_ino == sb.st_ino && (ca == -1 || (ca == 0x300 && cb == 0x300)) &&
	     !(fcntl(fa, F_GETFL) & O_NONBLOCK) && (fcntl(fb, F_GETFL) & O_NONBLOCK);
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	rst_pidfds_close();
	fd_rst_free(&r);
	CHECK(ok);
	return 0;
}

/* ---- ptys ---------------------------------------------------------------- */

static uint8_t pty_cc[19] = { 3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22 };

static PtyEntry pty_pair(uint32_t index)
{
	PtyEntry e = PTY_ENTRY__INIT;

	e.index = index;
	e.iflag = 0x500;
	e.oflag = 5;
	e.cflag = 0xbf;
	e.lflag = 0x8a3b & ~0x8u;	/* canonical, no ECHO */
	e.cc.len = sizeof(pty_cc);
	e.cc.data = pty_cc;
	e.ispeed = e.ospeed = 38400;
	e.rows = 33;
	e.cols = 99;
	return e;
}

static PtyFileEntry pty_end(uint32_t id, uint32_t index, bool master)
{
	PtyFileEntry f = PTY_FILE_ENTRY__INIT;

	f.id = id;
	f.index = index;
	f.master = master;
	f.flags = O_RDWR;
	return f;
}

static int put_ptys(PtyFileEntry *files, size_t nr, PtyEntry *pair)
{
	struct cr_img *img;
	size_t i;

	if (fresh_dir())
		return -1;
	img = img_create(tfd, IMG_PTY_FILES, 0);
	for (i = 0; img && i < nr; i++)
		if (img_write_entry(img, &files[i].base))
			return -1;
	if (!img || img_commit(img))
		return -1;
	return pair ? put(IMG_PTYS, &pair->base) : 0;
}

/* The index /dev/ptmx gives next (and frees again). */
static int next_pty_index(void)
{
	int fd = open("/dev/ptmx", O_RDWR | O_NOCTTY), n = -1;

	if (fd >= 0 && ioctl(fd, TIOCGPTN, &n))
		n = -1;
	if (fd >= 0)
		close(fd);
	return n;
}

static int test_pty_open(void)
{
	PtyFileEntry f[2];
	struct cr_options o = { 0 };
	PtyEntry e;
	struct termios2 t;
	struct winsize ws;
	struct fd_rst r;
	char buf[16];
	int s, m, n = next_pty_index(), idx = -1, lck = 0, excl = 0, ok;

	CHECK(n >= 0);
	/* two above the next free one: the two below are held meanwhile */
	e = pty_pair((uint32_t)n + 2);
	e.locked = true;
	e.has_exclusive = e.exclusive = true;
	e.has_master_data = true;
	e.master_data.data = (uint8_t *)"out\r\n";
	e.master_data.len = 5;
	f[0] = pty_end(1, e.index, true);
	f[1] = pty_end(2, e.index, false);
	CHECK(put_ptys(f, 2, &e) == 0);
	CHECK(read_ok(&r) == 0);
	s = fd_ops(FD_KIND__FD_PTY)->open(&r, fd_rst_find(&r, 2), &o);	/* the slave first */
	m = fd_ops(FD_KIND__FD_PTY)->open(&r, fd_rst_find(&r, 1), &o);
	ok = s >= 0 && m >= 0 && !ioctl(m, TIOCGPTN, &idx) && idx == n + 2 &&
	     !ioctl(s, TCGETS2, &t) && t.c_lflag == e.lflag && t.c_cc[1] == 28 &&
	     !ioctl(s, TIOCGWINSZ, &ws) && ws.ws_row == 33 && ws.ws_col == 99 &&
	     !ioctl(m, TIOCGPTLCK, &lck) && lck == 1 && !ioctl(s, TIOCGEXCL, &excl) && excl &&
	     read(m, buf, sizeof(buf)) == 5 && !memcmp(buf, "out\r\n", 5) && write(m, "x\n", 2) == 2;
	if (s >= 0)
		close(s);
	if (m >= 0)
		close(m);
	fd_rst_free(&r);
	CHECK(ok);
	return 0;
}

static int test_pty_index_taken(void)
{
	int held = open("/dev/ptmx", O_RDWR | O_NOCTTY), n = -1, fd;
	struct cr_options o = { 0 };
	PtyFileEntry f;
	PtyEntry e;
	struct fd_rst r;

	CHECK(held >= 0 && !ioctl(held, TIOCGPTN, &n));
	e = pty_pair((uint32_t)n);
	f = pty_end(1, e.index, true);
	fd = put_ptys(&f, 1, &e) || read_ok(&r) ? -2 :
	     fd_ops(FD_KIND__FD_PTY)->open(&r, fd_rst_find(&r, 1), &o);
	close(held);
	fd_rst_free(&r);
	if (fd >= 0)
		close(fd);
	CHECK(fd == -1);
	return 0;
}

/* The pty images, written together, are refused. */
static int pty_refused(PtyFileEntry *files, size_t nr, PtyEntry *pair)
{
	struct fd_rst r;
	int ret;

	if (put_ptys(files, nr, pair))
		return 0;
	ret = read_ok(&r);
	fd_rst_free(&r);
	return ret == -1;
}

static int test_pty_bad_entries(void)
{
	PtyFileEntry f[3] = { pty_end(1, 4, true), pty_end(2, 4, false), pty_end(3, 4, true) };
	PtyEntry e = pty_pair(4);

	CHECK(pty_refused(f + 1, 1, &e));		/* a pair without its master */
	CHECK(pty_refused(f + 1, 1, NULL));		/* a slave without its pair */
	CHECK(pty_refused(f, 3, &e));			/* two masters */
	f[1].id = 1;
	CHECK(pty_refused(f, 2, &e));			/* ids not ascending */
	f[1].id = 2;
	e.cc.len = 5;
	CHECK(pty_refused(f, 2, &e));			/* control characters cut */
	e = pty_pair(4);
	e.has_sid = true;
	e.sid = 100;
	CHECK(pty_refused(f, 2, &e));			/* a session without a foreground */
	e = pty_pair(4);
	e.has_master_data = e.packet = true;
	e.master_data.len = 1;
	e.master_data.data = pty_cc;
	CHECK(pty_refused(f, 2, &e));			/* data in packet mode */
	e.packet = false;
	e.master_data.len = 5000;
	e.master_data.data = calloc(1, 5000);
	CHECK(pty_refused(f, 2, &e));			/* more than an input queue holds */
	free(e.master_data.data);
	e = pty_pair(4);
	e.has_slave_closed = e.slave_closed = true;
	CHECK(pty_refused(f, 2, &e));			/* closed, yet a slave is open */
	f[1].flags = O_ACCMODE;
	CHECK(pty_refused(f, 2, NULL));			/* flags we never write */
	f[1] = pty_end(2, 4, true);
	f[1].has_external = f[1].external = true;
	CHECK(pty_refused(f + 1, 1, NULL));		/* an outside master */
	f[1] = pty_end(2, 4, false);
	e = pty_pair(4);
	e.has_uid = e.has_gid = e.has_perm = true;
	e.perm = 010000;
	CHECK(pty_refused(f, 2, &e));			/* slave permissions past 07777 */
	e.perm = 0620;
	e.has_gid = false;
	CHECK(pty_refused(f, 2, &e));			/* an owner without its group */
	return 0;
}

/* An eventfd object 7 read back into @r, and an fd entry @fe naming it. */
static int one_eventfd(struct fd_rst *r, FdEntry *fe)
{
	EventfdEntry e = efd(7, 1);

	CHECK(fresh_dir() == 0);
	CHECK(put(IMG_EVENTFDS, &e.base) == 0);
	CHECK(read_ok(r) == 0);
	fd_entry__init(fe);
	fe->kind = FD_KIND__FD_EVENTFD;
	fe->id = 7;
	return 0;
}

/* fd entries: a signal owner (fown_entry) in range, or refused. */
static int test_bad_fown(void)
{
	FownEntry own = FOWN_ENTRY__INIT;
	FdEntry fe;
	struct fd_rst r;

	CHECK(one_eventfd(&r, &fe) == 0);
	fe.fown = &own;
	own.type = F_OWNER_PGRP;
	own.pid = 100;
	own.signum = 64;
	CHECK(fd_rst_check(&r, &fe, "fds") == 0);
	own.type = 3;
	CHECK(fd_rst_check(&r, &fe, "fds") == -1);	/* no such owner type */
	own.type = F_OWNER_PID;
	own.pid = 1u << 22;
	CHECK(fd_rst_check(&r, &fe, "fds") == -1);	/* past PID_MAX_LIMIT */
	own.pid = 100;
	own.signum = 65;
	CHECK(fd_rst_check(&r, &fe, "fds") == -1);	/* no such signal */
	fd_rst_free(&r);
	return 0;
}

/* fd entries: a write-life hint is one of RWH_WRITE_LIFE_NONE..EXTREME. */
static int test_bad_write_hint(void)
{
	FdEntry fe;
	struct fd_rst r;

	CHECK(one_eventfd(&r, &fe) == 0);
	fe.has_write_hint = true;
	fe.write_hint = RWH_WRITE_LIFE_EXTREME;
	CHECK(fd_rst_check(&r, &fe, "fds") == 0);
	fe.write_hint = RWH_WRITE_LIFE_EXTREME + 1;
	CHECK(fd_rst_check(&r, &fe, "fds") == -1);	/* no such hint */
	fe.write_hint = RWH_WRITE_LIFE_NOT_SET;
	CHECK(fd_rst_check(&r, &fe, "fds") == -1);	/* "not set" is written as absent */
	fd_rst_free(&r);
	return 0;
}

static int test_pty_sessions(void)
{
	PstreeEntry p = PSTREE_ENTRY__INIT, *ps[] = { &p };
	PtyFileEntry f[2] = { pty_end(1, 4, true), pty_end(2, 4, false) };
	PtyEntry e = pty_pair(4);
	struct fd_rst r;
	int ok;

	e.has_sid = e.has_fg_pgrp = true;
	e.sid = e.fg_pgrp = 100;
	p.pid = p.sid = p.pgid = 100;
	CHECK(put_ptys(f, 2, &e) == 0);
	CHECK(read_ok(&r) == 0);
	ok = !rst_pty_check_sessions(&r, ps, 1, false) &&
	     rst_pty_check_sessions(&r, ps, 1, true) == -1;	/* --shell-job */
	p.pgid = 101;
	ok = ok && rst_pty_check_sessions(&r, ps, 1, false) == -1;	/* no foreground group */
	p.pgid = 100;
	p.sid = p.pid = 101;
	ok = ok && rst_pty_check_sessions(&r, ps, 1, false) == -1;	/* no session leader */
	fd_rst_free(&r);
	CHECK(ok);
	return 0;
}

#define FD_KIND(name, value, ops, est) extern const struct fd_ops ops;
#include "fd-kinds.def"

/* The one table's rows: each kind found by its value, images told apart. */
static int test_kind_table(void)
{
	static const struct { int value; const struct fd_ops *ops; } rows[] = {
#define FD_KIND(name, value, ops, est) { value, &ops },
#include "fd-kinds.def"
	};
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(rows); i++)
		CHECK(fd_ops(rows[i].value) == rows[i].ops && rows[i].ops->name);
	for (i = 0; i < IMG_KIND_MAX; i++)
		for (j = i + 1; j < IMG_KIND_MAX; j++) {
			CHECK(strcmp(img_desc(i)->name, img_desc(j)->name));
			CHECK(!img_desc(i)->magic || img_desc(i)->magic != img_desc(j)->magic);
		}
	return 0;
}

/*
 * The established format's side of the table: every kind whose descriptors
 * have an established fd type is converted both ways without a list kept
 * by hand. Either its FD_EST row names converters (and the importer finds
 * that row by the type), or its type is one of the three the converters
 * handle by hand (REG: files, directories, devices, paths; PIPE; UNIXSK),
 * which a new kind does not get without writing that conversion.
 */
static int test_est_rows(void)
{
	static const struct { FdKind kind; Est__FdTypes type; } kinds[] = {
#define FD_KIND(name, value, ops, est) { FD_KIND__FD_##name, EST__FD_TYPES__##est },
#include "fd-kinds.def"
	};
	static const struct {
		FdKind kind;
		enum img_kind img;
		const struct est_fd_exp *e;
		const struct est_fd_imp *i;
	} rows[] = {
#define FD_EST(kind, img, conv) { FD_KIND__FD_##kind, IMG_##img, &conv##_exp, &conv##_imp },
#include "fd-kinds.def"
	};
	unsigned int i, j, n;

	CHECK(imp_fd_kind(0, &n) && n == ARRAY_SIZE(rows));
	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		Est__FdTypes t = kinds[i].type;
		const struct imp_fd_kind *k = imp_fd_kind(t, NULL);
		bool by_hand = t == EST__FD_TYPES__REG || t == EST__FD_TYPES__PIPE ||
			       t == EST__FD_TYPES__UNIXSK;

		CHECK(est_fd_type(kinds[i].kind) == t);
		for (j = 0; j < ARRAY_SIZE(rows); j++)
			if (rows[j].kind == kinds[i].kind)
				break;
		if (j == ARRAY_SIZE(rows)) {	/* no FD_EST row */
			CHECK(t == EST__FD_TYPES__UND || by_hand);
			continue;
		}
		CHECK(!by_hand && t != EST__FD_TYPES__UND);
		CHECK(k && k->kind == kinds[i].kind && k->img == rows[j].img);
		CHECK(k->conv == rows[j].i && rows[j].i->member && rows[j].i->conv);
	}
	for (i = 0; i < ARRAY_SIZE(rows); i++)
		for (j = i + 1; j < ARRAY_SIZE(rows); j++)
			CHECK(est_fd_type(rows[i].kind) != est_fd_type(rows[j].kind));
	return 0;
}

/* An image may only name a link remap the dump itself makes beside the file. */
static int test_link_remap_names(void)
{
	CHECK(link_remap_name_ok("/srv/a/f", "/srv/a/.criu-link-remap.1234"));
	CHECK(link_remap_name_ok("/srv/a/f", "/srv/a/link_remap.7"));
	CHECK(!link_remap_name_ok("/srv/a/f", "/etc/shadow"));
	CHECK(!link_remap_name_ok("/srv/a/f", "/srv/a/shadow"));
	CHECK(!link_remap_name_ok("/srv/a/f", "/srv/b/.criu-link-remap.1"));
	CHECK(!link_remap_name_ok("/srv/a/f", "/srv/a/.criu-link-remap."));
	CHECK(!link_remap_name_ok("/srv/a/f", "/srv/a/.criu-link-remap.1/x"));
	CHECK(!link_remap_name_ok("/srv/a/f", "/srv/a/link_remap.1x"));
	CHECK(!link_remap_name_ok("/srv/a/f", "/srv/ab/link_remap.1"));
	CHECK(!link_remap_name_ok("/srv/a/f", "link_remap.1"));
	return 0;
}

static const struct unit_case cases[] = {
	{ "an image names no link remap but one the dump makes beside the file",
	  test_link_remap_names },
	{ "an eventfd image is read, checked and opened with its counter", test_eventfd_open },
	{ "one id used by two kinds is refused", test_duplicate_id_across_kinds },
	{ "a pipe comes back with its size, data and per-end flags", test_pipe_open_with_data },
	{ "bad eventfd, epoll, timerfd, pipe, inotify and fanotify entries are refused", test_bad_entries },
	{ "bad pidfd entries are refused", test_pidfd_bad_entries },
	{ "descriptors in flight: messages in order, each once, 1 to 253 ids", test_unix_scm_entries },
	{ "the pidfds of one reaped process share a stand-in ending with its status",
	  test_pidfd_reaped },
	{ "a pty pair comes back under its index, with its modes and unread output, slave first",
	  test_pty_open },
	{ "a pty whose index is in use is refused", test_pty_index_taken },
	{ "bad pty ends and pairs are refused", test_pty_bad_entries },
	{ "a pty's session and foreground group must be restored processes", test_pty_sessions },
	{ "a signal owner out of range is refused", test_bad_fown },
	{ "a write-life hint out of range is refused", test_bad_write_hint },
	{ "every fd-kind row has its ops, every image its own name and magic", test_kind_table },
	{ "every fd kind with an established type converts both ways, found by its row",
	  test_est_rows },
};

UNIT_MAIN(cases)
