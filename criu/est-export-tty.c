/*
 * Our pty-files and ptys images -> established TTY files (each with a REG
 * entry naming /dev/ptmx or /dev/pts/N), tty-info.img (one entry per end
 * some open file holds, id index << 1 | master) and tty-data.img (plan
 * §2.15). Termios, termios lock, window size and session are the pair's:
 * both ends carry them (a master's ioctls answer for its slave). Lock and
 * packet mode are the master's, exclusive mode and the node's owner the
 * slave's. The shell job's terminal (--shell-job) is a slave end whose
 * master is not in the dump. Cannot be written: a slave in I/O error, a
 * master whose slave no process of the dump holds (whether the slave was
 * closed, and the owner and mode of its node, have no place).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#define LOG_PREFIX "est-export: "
#include "est-export-int.h"
#include "kernel-compat.h"
#include "log.h"

#include "pty.pb-c.h"
#include "est/fdinfo.pb-c.h"
#include "est/fown.pb-c.h"
#include "est/regfile.pb-c.h"
#include "est/tty.pb-c.h"

#define NCC		19
#define MAX_INDEX	(1u << 20)
#define PTS_MAJOR	136
#define PTMX_RDEV	makedev(5, 2)
#define PTMX_MODE	(S_IFCHR | 0666)	/* the /dev/ptmx node */
#define EXT_PTS_MODE	(S_IFCHR | 0620)	/* shell job's terminal: ours keeps no node */

static Est__FownEntry no_fown = EST__FOWN_ENTRY__INIT;

struct ptys {
	ProtobufCMessage **f, **p;	/* pty-files, ptys */
	size_t nr_f, nr_p;
};

struct info_out {
	Est__TtyInfoEntry i;
	Est__TermiosEntry t, l;
	Est__WinsizeEntry w;
	Est__TtyPtyEntry pty;
	uint32_t cc[NCC], lcc[NCC];
};

static const PtyEntry *find_pair(const struct ptys *s, uint32_t index)
{
	size_t i;

	for (i = 0; i < s->nr_p; i++)
		if (((const PtyEntry *)s->p[i])->index == index)
			return (const PtyEntry *)s->p[i];
	return NULL;
}

static bool has_end(const struct ptys *s, uint32_t index, bool master)
{
	size_t i;

	for (i = 0; i < s->nr_f; i++) {
		const PtyFileEntry *f = (const PtyFileEntry *)s->f[i];

		if (f->index == index && f->master == master)
			return true;
	}
	return false;
}

/* The pair's termios, lock and window size, the same on both ends. */
static void put_termios(struct info_out *o, const PtyEntry *e)
{
	size_t k;

	est__termios_entry__init(&o->t);
	est__termios_entry__init(&o->l);
	est__winsize_entry__init(&o->w);
	o->t.c_iflag = e->iflag;
	o->t.c_oflag = e->oflag;
	o->t.c_cflag = e->cflag;
	o->t.c_lflag = e->lflag;
	o->t.c_line = e->line;
	o->t.c_ispeed = e->ispeed;
	o->t.c_ospeed = e->ospeed;
	/*
	 * The format's c_cc words hold the kernel's control characters as the
	 * established tool copies them in: four bytes to a word, in memory
	 * order; the words after the 19 bytes are not used (zero here).
	 */
	memset(o->cc, 0, sizeof(o->cc));
	memset(o->lcc, 0, sizeof(o->lcc));
	for (k = 0; k < NCC; k++) {
		o->cc[k / 4] |= (uint32_t)e->cc.data[k] << (8 * (k % 4));
		if (e->has_lock_cc)
			o->lcc[k / 4] |= (uint32_t)e->lock_cc.data[k] << (8 * (k % 4));
	}
	o->t.n_c_cc = o->l.n_c_cc = NCC;
	o->t.c_cc = o->cc;
	o->l.c_cc = o->lcc;
	o->l.c_iflag = e->lock_iflag;	/* absent: nothing locked, all zero */
	o->l.c_oflag = e->lock_oflag;
	o->l.c_cflag = e->lock_cflag;
	o->l.c_lflag = e->lock_lflag;
	o->l.c_line = e->lock_line;
	o->w.ws_row = e->rows;
	o->w.ws_col = e->cols;
	o->w.ws_xpixel = e->xpixel;
	o->w.ws_ypixel = e->ypixel;
	o->i.termios = &o->t;
	o->i.termios_locked = &o->l;
	o->i.winsize = &o->w;
}

/* The info entry of end @master of pty @index; @e is its pair, NULL for the shell job's. */
static void put_info(struct exp_img *w, const PtyEntry *e, uint32_t index, bool master)
{
	struct info_out o;

	memset(&o, 0, sizeof(o));
	est__tty_info_entry__init(&o.i);
	est__tty_pty_entry__init(&o.pty);
	o.pty.index = index;
	o.i.id = index << 1 | master;
	o.i.type = EST__TTY_TYPE__PTY;
	o.i.rdev = (uint32_t)(master ? PTMX_RDEV : makedev(PTS_MAJOR, index));
	o.i.pty = &o.pty;
	if (e) {
		put_termios(&o, e);
		o.i.locked = master && e->locked;
		o.i.packet_mode = master && e->packet;
		o.i.exclusive = master ? e->has_master_exclusive && e->master_exclusive
				       : e->has_exclusive && e->exclusive;
		o.i.sid = e->has_sid ? e->sid : 0;
		o.i.pgrp = e->has_sid ? e->fg_pgrp : 0;
		/* the slave node's owner; /dev/ptmx's is no pair's */
		o.i.has_uid = o.i.has_gid = !master && e->has_uid && e->has_gid;
		o.i.uid = e->uid;
		o.i.gid = e->gid;
	}
	exp_img_add(w, &o.i.base, NULL, 0);
}

/* A TTY file (with its signal owner) and the REG entry of its path, of a new id. */
static void put_file(struct exp *ex, struct exp_img *w, const PtyFileEntry *f, const PtyEntry *e)
{
	Est__FileEntry fr = EST__FILE_ENTRY__INIT, ft = EST__FILE_ENTRY__INIT;
	Est__RegFileEntry r = EST__REG_FILE_ENTRY__INIT;
	Est__TtyFileEntry t = EST__TTY_FILE_ENTRY__INIT;
	char pts[32];

	snprintf(pts, sizeof(pts), "/dev/pts/%u", f->index);
	r.id = exp_new_id(ex);
	r.flags = f->flags;
	r.fown = &no_fown;
	r.name = f->master ? "/dev/ptmx" : pts;
	r.has_mode = true;
	r.mode = f->master ? PTMX_MODE : e && e->has_perm ? S_IFCHR | (e->perm & 07777) : EXT_PTS_MODE;
	fr.type = EST__FD_TYPES__REG;
	fr.id = r.id;
	fr.reg = &r;
	exp_img_add(w, &fr.base, NULL, 0);
	t.id = f->id;
	t.tty_info_id = f->index << 1 | f->master;
	t.flags = f->flags;
	t.fown = &no_fown;
	t.has_regf_id = true;
	t.regf_id = r.id;
	ft.type = EST__FD_TYPES__TTY;
	ft.id = f->id;
	ft.tty = &t;
	exp_file_add(ex, w, &ft);
}

static int check_file(const struct ptys *s, const PtyFileEntry *f, const PtyEntry **e)
{
	bool external = f->has_external && f->external;

	*e = find_pair(s, f->index);
	if (f->index >= MAX_INDEX || (f->master && external) ||
	    !*e != external) {
		pr_err("pty-files.img: file %u of pty %u: index, id or pair out of place", f->id,
		       f->index);
		return -1;
	}
	return 0;
}

/* A pair ours restores that the format cannot say; 1: kept whole (--image-ext). */
static int check_pair(const struct ptys *s, const PtyEntry *e)
{
	if (e->index >= MAX_INDEX || e->cc.len != NCC ||
	    (e->has_lock_cc && e->lock_cc.len != NCC) || !has_end(s, e->index, true)) {
		pr_err("ptys.img: pty %u: index, control characters or master out of place",
		       e->index);
		return -1;
	}
	if (e->has_slave_io_error && e->slave_io_error &&
	    exp_cannot("ptys.img", "pty %u: its slave is in I/O error (a failed open of the locked slave)",
		       e->index))
		return -1;
	if (!has_end(s, e->index, false) &&
	    exp_cannot("ptys.img", "pty %u: no process of the dump holds its slave (whether it was closed, and the owner and mode of /dev/pts/%u)",
		       e->index, e->index))
		return -1;
	return 0;
}

static void put_data(struct exp_img *d, const PtyEntry *e)
{
	Est__TtyDataEntry t = EST__TTY_DATA_ENTRY__INIT;

	if (!e->has_master_data || !e->master_data.len)
		return;
	t.tty_id = e->index << 1 | 1;	/* what the master has to read */
	t.data = e->master_data;
	exp_img_add(d, &t.base, NULL, 0);
}

static int convert(struct exp *ex, struct exp_img *files, const struct ptys *s)
{
	struct exp_img info, data;
	size_t i, nr_data = 0;
	const PtyEntry *e;

	exp_img_open(&info, "tty-info.img");
	exp_img_open(&data, "tty-data.img");
	for (i = 0; i < s->nr_p; i++) {
		e = (const PtyEntry *)s->p[i];
		if (check_pair(s, e))
			goto drop;
		put_info(&info, e, e->index, true);
		if (has_end(s, e->index, false))
			put_info(&info, e, e->index, false);
		put_data(&data, e);
		nr_data += e->has_master_data && e->master_data.len;
	}
	for (i = 0; i < s->nr_f; i++) {
		const PtyFileEntry *f = (const PtyFileEntry *)s->f[i];
		size_t k;

		if (check_file(s, f, &e))
			goto drop;
		put_file(ex, files, f, e);
		for (k = 0; !e && k < i; k++)	/* the shell job's terminal: one entry */
			if (((const PtyFileEntry *)s->f[k])->index == f->index)
				break;
		if (!e && k == i)
			put_info(&info, NULL, f->index, false);
	}
	if (exp_img_close(ex, &info)) {
		free(data.buf);
		return -1;
	}
	if (!nr_data) {
		free(data.buf);
		return 0;
	}
	return exp_img_close(ex, &data);
drop:
	free(info.buf);
	free(data.buf);
	return -1;
}

int exp_ttys(struct exp *ex, struct exp_img *files)
{
	struct ptys s = { 0 };
	int ret = -1;

	if (exp_read_optional(ex, IMG_PTY_FILES, "pty-files.img", &s.f, &s.nr_f) ||
	    exp_read_optional(ex, IMG_PTYS, "ptys.img", &s.p, &s.nr_p))
		goto out;
	ret = s.nr_f || s.nr_p ? convert(ex, files, &s) : 0;
out:
	img_free_all(s.f, s.nr_f);
	img_free_all(s.p, s.nr_p);
	return ret;
}
