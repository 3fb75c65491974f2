/*
 * Established pseudo-terminals -> ours (plan §2.15): files.img TTY entries
 * (each with a REG entry for /dev/ptmx or /dev/pts/N) become pty-files,
 * tty-info.img (one entry per end present) and tty-data.img become one
 * pty_entry per pair. A pty's termios, window size, session and lock are
 * the pair's (a master's TCGETS answers for its slave, in both tools); the
 * slave's node gives owner, group and mode. A master whose slave no dumped
 * process holds is restored with its slave not open (not closed), as the
 * established tool does. Refused: other tty types (consoles, VTs, serial
 * lines, /dev/tty), bytes waiting at a slave, more than one end of a kind
 * with different state.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <asm/termbits.h>

#define LOG_PREFIX "est-import: "
#include "est-import-int.h"
#include "est-fd.h"
#include "files.h"
#include "log.h"

#include "pty.pb-c.h"
#include "est/tty.pb-c.h"

#define MAX_INFOS	8192
#define MAX_INDEX	(1u << 20)
#define NCC		19
#define MAX_DATA	4096
#define PTY_FLAGS	(O_ACCMODE | O_NONBLOCK | O_APPEND | KERNEL_O_LARGEFILE)

struct imp_ttys {
	Est__TtyInfoEntry *info[MAX_INFOS];
	size_t nr;
	ProtobufCBinaryData data[MAX_INFOS];	/* tty-data.img, by info index */
};

static Est__TtyInfoEntry *info_by_id(const struct imp_ttys *t, uint32_t id, size_t *at)
{
	size_t i;

	for (i = 0; t && i < t->nr; i++)
		if (t->info[i]->id == id) {
			if (at)
				*at = i;
			return t->info[i];
		}
	return NULL;
}

static int add_info(struct imp *im, const struct est_entry *e, void *ctx)
{
	Est__TtyInfoEntry *i = (Est__TtyInfoEntry *)e->msg;
	struct imp_ttys *t = ctx;

	(void)im;
	if (i->type != EST__TTY_TYPE__PTY || !i->pty || i->pty->index >= MAX_INDEX) {
		pr_err("not supported yet: tty-info.img: tty %u of type %d (pseudo-terminals only)",
		       i->id, i->type);
		return -1;
	}
	if (t->nr == MAX_INFOS || info_by_id(t, i->id, NULL)) {
		pr_err("tty-info.img: more than %d entries, or id %u twice", MAX_INFOS, i->id);
		return -1;
	}
	t->info[t->nr++] = i;
	((struct est_entry *)e)->msg = NULL;
	return 0;
}

/* Copied: the parser's buffer goes after each entry. */
static int add_data(struct imp *im, const struct est_entry *e, void *ctx)
{
	const Est__TtyDataEntry *d = (const Est__TtyDataEntry *)e->msg;
	struct imp_ttys *t = ctx;
	size_t at;

	(void)im;
	if (!info_by_id(t, d->tty_id, &at) || t->data[at].len || !d->data.len ||
	    d->data.len > MAX_DATA) {
		pr_err("tty-data.img: data of tty %u: no such tty, twice, or more than %d bytes",
		       d->tty_id, MAX_DATA);
		return -1;
	}
	t->data[at].data = malloc(d->data.len);
	if (!t->data[at].data) {
		pr_err("out of memory");
		return -1;
	}
	memcpy(t->data[at].data, d->data.data, d->data.len);
	t->data[at].len = d->data.len;
	return 0;
}

/* The REG entry of a TTY file: /dev/ptmx for a master, /dev/pts/N for a slave. */
static int tty_end(const struct imp *im, const Est__TtyFileEntry *f, const Est__TtyInfoEntry *i,
		   bool *master, const Est__RegFileEntry **reg)
{
	const Est__FileEntry *r = f->has_regf_id ? imp_obj(im, f->regf_id) : NULL;
	char pts[32];

	snprintf(pts, sizeof(pts), "/dev/pts/%u", i->pty->index);
	if (!r || !r->reg || !r->reg->has_mode || !S_ISCHR(r->reg->mode) ||
	    (strcmp(r->reg->name, "/dev/ptmx") && strcmp(r->reg->name, pts))) {
		pr_err("not supported yet: files.img: tty file %u: its path is neither /dev/ptmx nor %s",
		       f->id, pts);
		return -1;
	}
	*master = !strcmp(r->reg->name, "/dev/ptmx");
	*reg = r->reg;
	return 0;
}

/* The ends present of pair @index: its info entries (master, slave) and the slave's node. */
struct pair {
	const Est__TtyInfoEntry *m, *s;
	size_t m_at;
	const Est__RegFileEntry *node;
};

static int find_ends(const struct imp *im, uint32_t index, struct pair *p);

static const void *tty_member(const Est__FileEntry *f, uint32_t *id, const Est__FownEntry **fown)
{
	if (!f->tty)
		return NULL;
	*id = f->tty->id;
	*fown = f->tty->fown;
	return f->tty;
}

bool imp_tty_path(const struct imp *im, uint32_t reg_id)
{
	size_t i;

	for (i = 0; i < im->nr_obj; i++)
		if (im->obj[i]->tty && im->obj[i]->tty->has_regf_id &&
		    im->obj[i]->tty->regf_id == reg_id)
			return true;
	return false;
}

static ProtobufCMessage *conv_tty(struct imp *im, const Est__FileEntry *f)
{
	const Est__TtyFileEntry *s = f->tty;
	const Est__TtyInfoEntry *i = info_by_id(im->ttys, s->tty_info_id, NULL);
	const Est__RegFileEntry *reg;
	PtyFileEntry *o;
	bool master;

	if (!i) {
		pr_err("files.img: tty file %u: tty %u is not in tty-info.img", s->id, s->tty_info_id);
		return NULL;
	}
	if (tty_end(im, s, i, &master, &reg))
		return NULL;
	if ((s->flags & ~(uint32_t)PTY_FLAGS) || (s->flags & O_ACCMODE) == 3) {
		pr_err("not supported yet: files.img: tty file %u: file flags %#x", s->id, s->flags);
		return NULL;
	}
	o = imp_zalloc(sizeof(*o));
	if (!o)
		return NULL;
	pty_file_entry__init(o);
	o->id = s->id;
	o->index = i->pty->index;
	o->master = master;
	o->flags = s->flags;
	if (!master) {		/* a slave whose master is outside: the shell job's terminal */
		struct pair p;

		if (find_ends(im, o->index, &p)) {
			free(o);
			return NULL;
		}
		o->has_external = true;
		o->external = !p.m;
	}
	return &o->base;
}

/* ---- pairs ----------------------------------------------------------------------- */

static int find_ends(const struct imp *im, uint32_t index, struct pair *p)
{
	size_t k;

	memset(p, 0, sizeof(*p));
	for (k = 0; k < im->nr_obj; k++) {
		const Est__FileEntry *f = im->obj[k];
		const Est__TtyInfoEntry *i;
		const Est__RegFileEntry *reg;
		bool master;
		size_t at;

		if (!f->tty || !(i = info_by_id(im->ttys, f->tty->tty_info_id, &at)) ||
		    i->pty->index != index)
			continue;
		if (tty_end(im, f->tty, i, &master, &reg))
			return -1;
		if ((master ? p->m : p->s) && (master ? p->m : p->s) != i) {
			pr_err("not supported yet: tty-info.img: two %s entries of pty %u",
			       master ? "master" : "slave", index);
			return -1;
		}
		if (master) {
			p->m = i;
			p->m_at = at;
		} else {
			p->s = i;
			p->node = reg;
		}
	}
	return 0;
}

/*
 * The control characters: the kernel's bytes, four to a c_cc word in
 * memory order (the established tool copies them in so); the words after
 * the first 19 bytes carry nothing.
 */
static int get_cc(const Est__TermiosEntry *t, uint8_t *cc, uint32_t index)
{
	size_t k;

	(void)index;
	for (k = 0; k < NCC; k++)
		cc[k] = (uint8_t)(t->c_cc[k / 4] >> (8 * (k % 4)));
	return 0;
}

/* The termios lock (TIOCSLCKTRMIOS): absent or all zero is none. */
static int put_lock(PtyEntry *e, const Est__TermiosEntry *l, uint8_t *cc)
{
	size_t k;

	if (!l)
		return 0;
	if (l->n_c_cc != NCC) {
		pr_err("tty-info.img: pty %u: %zu locked control characters", e->index, l->n_c_cc);
		return -1;
	}
	if (get_cc(l, cc, e->index))
		return -1;
	for (k = 0; k < NCC && !cc[k]; k++)
		;
	if (k == NCC && !l->c_iflag && !l->c_oflag && !l->c_cflag && !l->c_lflag && !l->c_line)
		return 0;
	e->has_lock_iflag = e->has_lock_oflag = e->has_lock_cflag = e->has_lock_lflag = true;
	e->has_lock_line = e->has_lock_cc = true;
	e->lock_iflag = l->c_iflag;
	e->lock_oflag = l->c_oflag;
	e->lock_cflag = l->c_cflag;
	e->lock_lflag = l->c_lflag;
	e->lock_line = l->c_line;
	e->lock_cc.data = cc;
	e->lock_cc.len = NCC;
	return 0;
}

/* Termios and window size of the pair; the ends must agree. */
static int put_termios(PtyEntry *e, const struct pair *p, uint8_t *cc)
{
	const Est__TermiosEntry *t = p->m->termios;
	const Est__WinsizeEntry *w = p->m->winsize;

	if (!t || !w || t->n_c_cc != NCC ||
	    ((t->c_cflag & CBAUD) == BOTHER && (!t->c_ispeed || !t->c_ospeed))) {
		pr_err("not supported yet: tty-info.img: pty %u: no termios or window size, %zu control characters or speeds",
		       e->index, t ? t->n_c_cc : 0);
		return -1;
	}
	if (get_cc(t, cc, e->index) || put_lock(e, p->m->termios_locked, cc + NCC))
		return -1;
	e->iflag = t->c_iflag;
	e->oflag = t->c_oflag;
	e->cflag = t->c_cflag;
	e->lflag = t->c_lflag;
	e->line = t->c_line;
	e->cc.data = cc;
	e->cc.len = NCC;
	e->ispeed = t->c_ispeed;
	e->ospeed = t->c_ospeed;
	e->rows = w->ws_row;
	e->cols = w->ws_col;
	e->xpixel = w->ws_xpixel;
	e->ypixel = w->ws_ypixel;
	return 0;
}

struct pty_out {
	PtyEntry e;
	uint8_t cc[2 * NCC];	/* termios, then its lock */
};

/* Pair @index into *out; 1 when there is none to write (a slave of a master outside). */
static int conv_pair(const struct imp *im, uint32_t index, struct pty_out **out)
{
	const struct imp_ttys *t = im->ttys;
	const Est__TtyInfoEntry *sess;
	struct pty_out *o;
	struct pair p;
	size_t k;

	*out = NULL;
	if (find_ends(im, index, &p))
		return -1;
	if (!p.m && !p.s) {
		pr_err("tty-info.img: pty %u: no file of files.img is an end of it", index);
		return -1;
	}
	if (!p.m)
		return 1;	/* its slave files are external (--shell-job) */
	for (k = 0; k < t->nr; k++)
		if (p.s && t->data[k].len && t->info[k] == p.s) {
			pr_err("not supported yet: tty-data.img: pty %u: bytes waiting at the slave",
			       index);
			return -1;
		}
	/* lock and packet mode are the master's; each end has its exclusive mode (TIOCGEXCL) */
	if (p.s && p.s->packet_mode) {
		pr_err("not supported yet: tty-info.img: pty %u: the slave in packet mode", index);
		return -1;
	}
	o = imp_zalloc(sizeof(*o));
	if (!o)
		return -1;
	pty_entry__init(&o->e);
	o->e.index = index;
	if (put_termios(&o->e, &p, o->cc)) {
		free(o);
		return -1;
	}
	o->e.packet = p.m->packet_mode;
	o->e.locked = p.m->locked;
	o->e.has_exclusive = true;
	o->e.exclusive = p.s && p.s->exclusive;
	o->e.has_master_exclusive = true;
	o->e.master_exclusive = p.m->exclusive;
	o->e.has_slave_closed = true;	/* false: held, or never opened */
	sess = p.s && p.s->sid ? p.s : p.m;	/* a master answers for its slave */
	if (sess->sid) {			/* a controlling terminal: the slave's session */
		o->e.has_sid = o->e.has_fg_pgrp = true;
		o->e.sid = sess->sid;
		o->e.fg_pgrp = sess->pgrp;
	}
	if (t->data[p.m_at].len) {
		o->e.has_master_data = true;
		o->e.master_data = t->data[p.m_at];
	}
	if (p.s && p.s->has_uid && p.s->has_gid) {
		o->e.has_uid = o->e.has_gid = o->e.has_perm = true;
		o->e.uid = p.s->uid;
		o->e.gid = p.s->gid;
		o->e.perm = p.node->mode & 07777;
	}
	*out = o;
	return 0;
}

static int write_pairs(struct imp *im)
{
	struct imp_ttys *t = im->ttys;
	ProtobufCMessage **m = imp_zalloc((t->nr + 1) * sizeof(*m));
	size_t i, k, n = 0;
	int ret = -1;

	if (!m)
		return -1;
	for (i = 0; i < t->nr; i++) {
		uint32_t index = t->info[i]->pty->index;
		struct pty_out *o;
		int r;

		for (k = 0; k < i; k++)
			if (t->info[k]->pty->index == index)
				break;
		if (k < i)
			continue;	/* the pair is done */
		r = conv_pair(im, index, &o);
		if (r < 0)
			goto out;
		if (!r)
			m[n++] = &o->e.base;
	}
	ret = n ? imp_write(im, IMG_PTYS, 0, m, n) : 0;
out:
	for (i = 0; i < n; i++)
		free(m[i]);
	free(m);
	return ret;
}

int imp_ttys(struct imp *im)
{
	struct imp_ttys *t = imp_zalloc(sizeof(*t));

	im->ttys = t;
	if (!t || imp_read_all(im, "tty-info.img", true, add_info, t) ||
	    imp_read_all(im, "tty-data.img", true, add_data, t))
		return -1;
	return t->nr ? write_pairs(im) : 0;
}

void imp_ttys_free(struct imp *im)
{
	struct imp_ttys *t = im->ttys;
	size_t i;

	for (i = 0; t && i < t->nr; i++) {
		protobuf_c_message_free_unpacked(&t->info[i]->base, NULL);
		free(t->data[i].data);
	}
	free(t);
	im->ttys = NULL;
}

const struct est_fd_imp est_fd_pty_imp = { tty_member, conv_tty };
