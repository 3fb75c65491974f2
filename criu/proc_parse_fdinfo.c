/*
 * /proc/PID/fdinfo/FD: the common pos/flags/mnt_id/ino lines, a key/value
 * list of everything else, and helpers decoding the lines of eventfd,
 * epoll, signalfd, timerfd, inotify and fanotify files.
 *
 * Kind-specific lines come in two shapes: "key: value" (eventfd, signalfd,
 * timerfd) and "key: N name:value name:value ..." (epoll "tfd:", inotify
 * "inotify wd:", fanotify "fanotify ...:"). The key is everything before
 * the first ':', so the latter give keys like "inotify wd".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_PREFIX "proc: "
#include "log.h"
#include "proc_parse.h"
#include "proc_parse_text.h"

#define MAX_KV		(1u << 20)	/* epoll watches and inotify marks included */

/* Message about one kv line of @fi. */
#define kv_err(fi, kv, fmt, ...) \
	pr_err("%s:%u: " fmt, (fi)->src, (kv)->line, ##__VA_ARGS__)

void proc_fdinfo_free(struct proc_fdinfo *fi)
{
	size_t i;

	for (i = 0; i < fi->nr_kv; i++)
		free(fi->kv[i].key);
	free(fi->kv);
	memset(fi, 0, sizeof(*fi));
}

const char *proc_fdinfo_get(const struct proc_fdinfo *fi, const char *key)
{
	size_t i;

	for (i = 0; i < fi->nr_kv; i++)
		if (!strcmp(fi->kv[i].key, key))
			return fi->kv[i].val;
	return NULL;
}

static const struct proc_kv *kv_find(const struct proc_fdinfo *fi, const char *key)
{
	size_t i;

	for (i = 0; i < fi->nr_kv; i++)
		if (!strcmp(fi->kv[i].key, key))
			return &fi->kv[i];
	return NULL;
}

static int add_kv(struct plines *it, struct ptext *key, struct ptext *val, struct proc_fdinfo *fi)
{
	size_t kl = pt_len(key), vl = pt_len(val);
	struct proc_kv *kv;
	char *blk;

	if (pt_grow((void **)&fi->kv, &fi->cap_kv, fi->nr_kv, sizeof(*fi->kv), MAX_KV))
		return -1;
	blk = malloc(kl + vl + 2);
	if (!blk) {
		pt_err(it, "out of memory");
		return -1;
	}
	kv = &fi->kv[fi->nr_kv++];
	kv->key = blk;
	kv->val = blk + kl + 1;
	kv->line = it->lineno;
	memcpy(kv->key, key->p, kl);
	kv->key[kl] = '\0';
	memcpy(kv->val, val->p, vl);
	kv->val[vl] = '\0';
	return 0;
}

enum { SEEN_POS = 1, SEEN_FLAGS = 2, SEEN_MNT_ID = 4, SEEN_INO = 8 };

/* One of the common lines: 1 if @key is not one of them. */
static int common_line(struct ptext *key, struct ptext *val, struct proc_fdinfo *fi,
		       unsigned int *bit)
{
	struct ptext v = *val;
	uint64_t x;

	if (pt_len(key) == 3 && !memcmp(key->p, "pos", 3)) {
		*bit = SEEN_POS;	/* negative for FMODE_UNSIGNED_OFFSET files past 2^63 */
		return pt_snum(&v, INT64_MIN, INT64_MAX, &fi->pos) || !pt_eol(&v) ? -1 : 0;
	}
	if (pt_len(key) == 5 && !memcmp(key->p, "flags", 5)) {
		*bit = SEEN_FLAGS;
		return pt_u32(&v, 8, &fi->flags) || !pt_eol(&v) ? -1 : 0;
	}
	if (pt_len(key) == 6 && !memcmp(key->p, "mnt_id", 6)) {
		*bit = SEEN_MNT_ID;
		return pt_int(&v, &fi->mnt_id) || !pt_eol(&v) ? -1 : 0;
	}
	if (pt_len(key) == 3 && !memcmp(key->p, "ino", 3)) {
		*bit = SEEN_INO;
		fi->has_ino = true;
		return pt_u64(&v, 10, &x) || !pt_eol(&v) ? -1 : (fi->ino = x, 0);
	}
	return 1;
}

static int fdinfo_line(struct plines *it, struct ptext *l, struct proc_fdinfo *fi, unsigned int *seen)
{
	struct ptext key;
	unsigned int bit = 0;
	int ret;

	if (pt_until(l, ':', &key)) {
		pt_err(it, "expected \"key: value\"");
		return -1;
	}
	pt_rtrim(&key);
	pt_skip_blanks(l);
	pt_rtrim(l);
	ret = common_line(&key, l, fi, &bit);
	if (ret > 0)
		return add_kv(it, &key, l, fi);
	if (ret < 0) {
		pt_err(it, "bad %.*s value", (int)pt_len(&key), key.p);
		return -1;
	}
	if (*seen & bit) {
		pt_err(it, "%.*s given twice", (int)pt_len(&key), key.p);
		return -1;
	}
	*seen |= bit;
	return 0;
}

int proc_parse_fdinfo(const char *text, size_t len, const char *name, struct proc_fdinfo *fi)
{
	unsigned int seen = 0;
	struct plines it;
	struct ptext l;
	int ret;

	memset(fi, 0, sizeof(*fi));
	snprintf(fi->src, sizeof(fi->src), "%s", name);
	plines_init(&it, text, len, name);
	while ((ret = plines_next(&it, &l)) > 0)
		if (fdinfo_line(&it, &l, fi, &seen))
			goto err;
	if (ret < 0)
		goto err;
	if ((seen & (SEEN_POS | SEEN_FLAGS | SEEN_MNT_ID)) != (SEEN_POS | SEEN_FLAGS | SEEN_MNT_ID)) {
		pr_err("%s: pos, flags or mnt_id missing", name);
		goto err;
	}
	return 0;
err:
	proc_fdinfo_free(fi);
	return -1;
}

int proc_read_fdinfo(pid_t pid, int fd, struct proc_fdinfo *fi)
{
	char path[64], rest[32], *buf;
	size_t len;
	int ret;

	memset(fi, 0, sizeof(*fi));
	snprintf(rest, sizeof(rest), "fdinfo/%d", fd);
	if (pt_proc_path(path, sizeof(path), pid, rest) ||
	    proc_read_file(path, PROC_FILE_MAX, &buf, &len))
		return -1;
	ret = proc_parse_fdinfo(buf, len, path, fi);
	free(buf);
	return ret;
}

/* ---- helpers for the kind-specific lines ------------------------------------- */

/* The whole of @s as one number. */
static int str_num(const char *s, unsigned int base, uint64_t max, uint64_t *v)
{
	struct ptext t = { s, s + strlen(s) };

	return pt_unum(&t, base, max, v) || !pt_eol(&t) ? -1 : 0;
}

static int tok_num(const struct ptext *tok, unsigned int base, uint64_t max, uint64_t *v)
{
	struct ptext t = *tok;

	return pt_unum(&t, base, max, v) || !pt_eol(&t) ? -1 : 0;
}

static bool tok_is(const struct ptext *t, const char *s)
{
	return pt_len(t) == strlen(s) && !memcmp(t->p, s, pt_len(t));
}

/* Next "name:value" (blanks allowed after ':'); 1 at the end of the line. */
static int next_field(struct ptext *t, struct ptext *name, struct ptext *val)
{
	pt_skip_blanks(t);
	if (pt_eol(t))
		return 1;
	name->p = t->p;
	while (!pt_eol(t) && *t->p != ':' && *t->p != ' ' && *t->p != '\t')
		t->p++;
	name->end = t->p;
	if (pt_char(t, ':') || !pt_len(name))
		return -1;
	pt_skip_blanks(t);
	pt_token(t, val);
	return pt_len(val) ? 0 : -1;
}

/*
 * Walk "FIRST name:value ...": @first names the leading value. @fn gets each
 * pair and returns 0, or -1 if the value is bad.
 */
static int walk_fields(const char *val, const char *first,
		       int (*fn)(const struct ptext *name, const struct ptext *val, void *arg),
		       void *arg)
{
	struct ptext t = { val, val + strlen(val) }, n, v;
	int ret;

	n.p = first;
	n.end = first + strlen(first);
	pt_token(&t, &v);
	if (!pt_len(&v) || fn(&n, &v, arg))
		return -1;
	while ((ret = next_field(&t, &n, &v)) == 0)
		if (fn(&n, &v, arg))
			return -1;
	return ret > 0 ? 0 : -1;
}

static size_t count_key(const struct proc_fdinfo *fi, const char *key)
{
	size_t i, n = 0;

	for (i = 0; i < fi->nr_kv; i++)
		n += !strcmp(fi->kv[i].key, key);
	return n;
}

/* ---- eventfd, signalfd, timerfd ----------------------------------------------- */

int proc_fdinfo_eventfd(const struct proc_fdinfo *fi, struct proc_eventfd *efd)
{
	const struct proc_kv *kv = kv_find(fi, "eventfd-count");
	uint64_t x;

	if (!kv)
		return 1;
	efd->id = -1;
	efd->semaphore = -1;
	if (str_num(kv->val, 16, UINT64_MAX, &efd->count))
		goto bad;
	kv = kv_find(fi, "eventfd-id");
	if (kv) {
		if (str_num(kv->val, 10, INT32_MAX, &x))
			goto bad;
		efd->id = (int)x;
	}
	kv = kv_find(fi, "eventfd-semaphore");
	if (kv) {
		if (str_num(kv->val, 10, 1, &x))
			goto bad;
		efd->semaphore = (int)x;
	}
	return 0;
bad:
	kv_err(fi, kv, "bad %s value", kv->key);
	return -1;
}

int proc_fdinfo_signalfd(const struct proc_fdinfo *fi, uint64_t *sigmask)
{
	const struct proc_kv *kv = kv_find(fi, "sigmask");

	if (!kv)
		return 1;
	if (str_num(kv->val, 16, UINT64_MAX, sigmask)) {
		kv_err(fi, kv, "bad sigmask value");
		return -1;
	}
	return 0;
}

/* "(SEC, NSEC)" */
static int timespec_val(const char *s, uint64_t *sec, uint64_t *nsec)
{
	struct ptext t = { s, s + strlen(s) };

	if (pt_char(&t, '(') || pt_u64(&t, 10, sec) || pt_str(&t, ", ") ||
	    pt_unum(&t, 10, 999999999, nsec) || pt_char(&t, ')'))
		return -1;
	return pt_eol(&t) ? 0 : -1;
}

int proc_fdinfo_timerfd(const struct proc_fdinfo *fi, struct proc_timerfd *tfd)
{
	const struct proc_kv *ck = kv_find(fi, "clockid"), *tk = kv_find(fi, "ticks");
	const struct proc_kv *fk = kv_find(fi, "settime flags");
	const struct proc_kv *vk = kv_find(fi, "it_value"), *ik = kv_find(fi, "it_interval");
	uint64_t x;

	if (!ck && !vk)
		return 1;
	if (!ck || !tk || !fk || !vk || !ik) {
		pr_err("%s: incomplete timerfd lines", fi->src);
		return -1;
	}
	if (str_num(ck->val, 10, INT32_MAX, &x))
		return kv_err(fi, ck, "bad clockid"), -1;
	tfd->clockid = (int)x;
	if (str_num(tk->val, 10, UINT64_MAX, &tfd->ticks))
		return kv_err(fi, tk, "bad ticks"), -1;
	if (str_num(fk->val, 8, UINT32_MAX, &x))
		return kv_err(fi, fk, "bad settime flags"), -1;
	tfd->settime_flags = (unsigned int)x;
	if (timespec_val(vk->val, &tfd->value_sec, &tfd->value_nsec))
		return kv_err(fi, vk, "bad it_value"), -1;
	if (timespec_val(ik->val, &tfd->interval_sec, &tfd->interval_nsec))
		return kv_err(fi, ik, "bad it_interval"), -1;
	return 0;
}

/* ---- epoll ------------------------------------------------------------------------ */

enum { TF_TFD = 1, TF_EVENTS = 2, TF_DATA = 4, TF_POS = 8, TF_INO = 16, TF_SDEV = 32 };

struct tfd_acc {
	struct proc_epoll_tfd	*e;
	unsigned int		seen;
};

static const struct {
	const char	*name;
	unsigned int	bit;
	unsigned int	base;
	uint64_t	max;
} tfd_names[] = {
	{ "tfd",	TF_TFD,		10,	INT32_MAX },
	{ "events",	TF_EVENTS,	16,	UINT32_MAX },
	{ "data",	TF_DATA,	16,	UINT64_MAX },
	{ "pos",	TF_POS,		10,	INT64_MAX },
	{ "ino",	TF_INO,		16,	UINT64_MAX },
	{ "sdev",	TF_SDEV,	16,	UINT32_MAX },
};

/* tfd: N events: X data: X  pos:N ino:X sdev:X */
static int tfd_field(const struct ptext *n, const struct ptext *v, void *arg)
{
	struct tfd_acc *a = arg;
	struct proc_epoll_tfd *e = a->e;
	uint64_t x;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tfd_names); i++)
		if (tok_is(n, tfd_names[i].name))
			break;
	if (i == ARRAY_SIZE(tfd_names))
		return 0;	/* a newer kernel's field */
	if ((a->seen & tfd_names[i].bit) || tok_num(v, tfd_names[i].base, tfd_names[i].max, &x))
		return -1;
	a->seen |= tfd_names[i].bit;
	switch (tfd_names[i].bit) {
	case TF_TFD:	e->tfd = (int)x; break;
	case TF_EVENTS:	e->events = (uint32_t)x; break;
	case TF_DATA:	e->data = x; break;
	case TF_POS:	e->pos = (int64_t)x; break;
	case TF_INO:	e->ino = x; break;
	case TF_SDEV:	e->sdev = (unsigned int)x; break;
	}
	return 0;
}

int proc_fdinfo_epoll(const struct proc_fdinfo *fi, struct proc_epoll_tfd **tfds, size_t *nr)
{
	size_t i, n = count_key(fi, "tfd");
	struct tfd_acc a;

	*tfds = NULL;
	*nr = 0;
	if (!n)
		return 1;	/* not an epoll, or one watching nothing */
	*tfds = calloc(n, sizeof(**tfds));
	if (!*tfds) {
		pr_err("%s: out of memory for %zu epoll targets", fi->src, n);
		return -1;
	}
	for (i = 0; i < fi->nr_kv; i++) {
		if (strcmp(fi->kv[i].key, "tfd"))
			continue;
		a.e = &(*tfds)[*nr];
		a.e->pos = -1;
		a.seen = 0;
		if (walk_fields(fi->kv[i].val, "tfd", tfd_field, &a) ||
		    (a.seen & (TF_EVENTS | TF_DATA)) != (TF_EVENTS | TF_DATA)) {
			kv_err(fi, &fi->kv[i], "bad tfd line");
			free(*tfds);
			*tfds = NULL;
			*nr = 0;
			return -1;
		}
		(*nr)++;
	}
	return 0;
}

/* ---- inotify and fanotify marks ---------------------------------------------------- */

enum {
	MK_WD = 1 << 0, MK_INO = 1 << 1, MK_SDEV = 1 << 2, MK_MASK = 1 << 3,
	MK_IGNORED = 1 << 4, MK_MFLAGS = 1 << 5, MK_MNT_ID = 1 << 6,
	MK_FH_BYTES = 1 << 7, MK_FH_TYPE = 1 << 8, MK_FH = 1 << 9,
};

struct mark {
	int			wd, mnt_id;
	uint64_t		ino;
	uint32_t		sdev, mflags, mask, ignored;
	struct proc_fhandle	fh;
	unsigned int		seen;
};

/* f_handle: exactly fhandle-bytes bytes as hex pairs. */
static int mark_handle(const struct ptext *v, struct mark *m)
{
	size_t i;
	int hi, lo;

	if (!(m->seen & MK_FH_BYTES) || pt_len(v) != 2 * (size_t)m->fh.bytes)
		return -1;
	for (i = 0; i < m->fh.bytes; i++) {
		hi = v->p[2 * i];
		lo = v->p[2 * i + 1];
		if (!strchr("0123456789abcdef", hi) || !strchr("0123456789abcdef", lo) || !hi || !lo)
			return -1;
		hi = hi <= '9' ? hi - '0' : hi - 'a' + 10;
		lo = lo <= '9' ? lo - '0' : lo - 'a' + 10;
		m->fh.handle[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static const struct {
	const char	*name;
	unsigned int	bit;
	uint64_t	max;
} mark_names[] = {
	{ "wd",			MK_WD,		INT32_MAX },
	{ "ino",		MK_INO,		UINT64_MAX },
	{ "sdev",		MK_SDEV,	UINT32_MAX },
	{ "mask",		MK_MASK,	UINT32_MAX },
	{ "ignored_mask",	MK_IGNORED,	UINT32_MAX },
	{ "mflags",		MK_MFLAGS,	UINT32_MAX },
	{ "mnt_id",		MK_MNT_ID,	INT32_MAX },
	{ "fhandle-bytes",	MK_FH_BYTES,	PROC_FHANDLE_MAX },
	{ "fhandle-type",	MK_FH_TYPE,	INT32_MAX },
	{ "f_handle",		MK_FH,		0 },
};

static void mark_store(struct mark *m, unsigned int bit, uint64_t x)
{
	switch (bit) {
	case MK_WD:		m->wd = (int)x; break;
	case MK_INO:		m->ino = x; break;
	case MK_SDEV:		m->sdev = (uint32_t)x; break;
	case MK_MASK:		m->mask = (uint32_t)x; break;
	case MK_IGNORED:	m->ignored = (uint32_t)x; break;
	case MK_MFLAGS:		m->mflags = (uint32_t)x; break;
	case MK_MNT_ID:		m->mnt_id = (int)x; break;
	case MK_FH_BYTES:	m->fh.bytes = (unsigned int)x; break;
	case MK_FH_TYPE:	m->fh.type = (int)x; break;
	}
}

/* All mark values are hex in the kernel's output. Unknown names are skipped. */
static int mark_field(const struct ptext *n, const struct ptext *v, void *arg)
{
	struct mark *m = arg;
	uint64_t x;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(mark_names); i++) {
		if (!tok_is(n, mark_names[i].name))
			continue;
		if (m->seen & mark_names[i].bit)
			return -1;
		m->seen |= mark_names[i].bit;
		if (mark_names[i].bit == MK_FH)
			return mark_handle(v, m);
		if (tok_num(v, 16, mark_names[i].max, &x))
			return -1;
		mark_store(m, mark_names[i].bit, x);
		return 0;
	}
	return 0;
}

/* Parse one mark line whose key is "PREFIX FIRST"; @need: required MK_* bits. */
static int parse_mark(const struct proc_fdinfo *fi, const struct proc_kv *kv,
		      unsigned int need, struct mark *m)
{
	const char *first = strchr(kv->key, ' ') + 1;

	memset(m, 0, sizeof(*m));
	if (walk_fields(kv->val, first, mark_field, m) || (m->seen & need) != need ||
	    !(m->seen & MK_FH) != !(m->seen & MK_FH_BYTES)) {
		kv_err(fi, kv, "bad %s line", kv->key);
		return -1;
	}
	return 0;
}

static void mark_fhandle(const struct mark *m, struct proc_fhandle *fh)
{
	*fh = m->fh;
	if (!(m->seen & MK_FH))
		fh->bytes = 0;
}

int proc_fdinfo_inotify(const struct proc_fdinfo *fi, struct proc_inotify_wd **wds, size_t *nr)
{
	size_t i, n = count_key(fi, "inotify wd");
	struct proc_inotify_wd *w;
	struct mark m;

	*wds = NULL;
	*nr = 0;
	if (!n)
		return 1;
	*wds = calloc(n, sizeof(**wds));
	if (!*wds) {
		pr_err("%s: out of memory for %zu inotify marks", fi->src, n);
		return -1;
	}
	for (i = 0; i < fi->nr_kv; i++) {
		if (strcmp(fi->kv[i].key, "inotify wd"))
			continue;
		if (parse_mark(fi, &fi->kv[i], MK_WD | MK_INO | MK_SDEV | MK_MASK, &m)) {
			free(*wds);
			*wds = NULL;
			*nr = 0;
			return -1;
		}
		w = &(*wds)[(*nr)++];
		w->wd = m.wd;
		w->ino = m.ino;
		w->sdev = m.sdev;
		w->mask = m.mask;
		w->ignored_mask = m.ignored;
		mark_fhandle(&m, &w->fh);
	}
	return 0;
}

/* "fanotify flags:X event-flags:X" */
static int fan_flags(const struct proc_fdinfo *fi, const struct proc_kv *kv, struct proc_fanotify *fan)
{
	struct ptext t = { kv->val, kv->val + strlen(kv->val) };
	uint64_t f, ef;

	if (pt_unum(&t, 16, UINT32_MAX, &f) || pt_str(&t, " event-flags:") ||
	    pt_unum(&t, 16, UINT32_MAX, &ef) || !pt_eol(&t)) {
		kv_err(fi, kv, "bad fanotify flags line");
		return -1;
	}
	fan->flags = (unsigned int)f;
	fan->event_flags = (unsigned int)ef;
	return 0;
}

static const struct {
	const char			*key;
	enum proc_fanotify_mark_kind	kind;
	unsigned int			need;
} fan_marks[] = {
	{ "fanotify ino",	PROC_FAN_MARK_INODE,	MK_INO | MK_SDEV | MK_MASK },
	{ "fanotify mnt_id",	PROC_FAN_MARK_MOUNT,	MK_MNT_ID | MK_MASK },
	{ "fanotify sdev",	PROC_FAN_MARK_SB,	MK_SDEV | MK_MASK },
};

/* One mark line into the next slot of @fan; 1 if @kv is not a mark. */
static int fan_mark(const struct proc_fdinfo *fi, const struct proc_kv *kv, struct proc_fanotify *fan)
{
	struct proc_fanotify_mark *fm;
	struct mark m;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fan_marks); i++)
		if (!strcmp(kv->key, fan_marks[i].key))
			break;
	if (i == ARRAY_SIZE(fan_marks))
		return 1;
	if (parse_mark(fi, kv, fan_marks[i].need, &m))
		return -1;
	fm = &fan->marks[fan->nr_marks++];
	fm->kind = fan_marks[i].kind;
	fm->ino = m.ino;
	fm->sdev = m.sdev;
	fm->mnt_id = m.mnt_id;
	fm->mflags = m.mflags;
	fm->mask = m.mask;
	fm->ignored_mask = m.ignored;
	mark_fhandle(&m, &fm->fh);
	return 0;
}

int proc_fdinfo_fanotify(const struct proc_fdinfo *fi, struct proc_fanotify *fan)
{
	const struct proc_kv *kv = kv_find(fi, "fanotify flags");
	size_t i;

	memset(fan, 0, sizeof(*fan));
	if (!kv)
		return 1;
	if (fan_flags(fi, kv, fan))
		return -1;
	fan->marks = calloc(fi->nr_kv, sizeof(*fan->marks));
	if (!fan->marks) {
		pr_err("%s: out of memory for fanotify marks", fi->src);
		return -1;
	}
	for (i = 0; i < fi->nr_kv; i++) {
		if (fan_mark(fi, &fi->kv[i], fan) < 0) {
			free(fan->marks);
			memset(fan, 0, sizeof(*fan));
			return -1;
		}
	}
	return 0;
}
