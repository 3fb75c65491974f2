/*
 * Our reg-files, pipes, eventfds, timerfds, pipes-data and fds-PID images
 * -> established files.img, pipes-data.img and fdinfo-FILESID.img (plan
 * §2.9-§2.12). Kinds converted here: regular files, directories, character
 * devices, O_PATH fds and terminals opened by path (all REG), pipes, and
 * the eventfds and timerfds of their FD_EST rows; sockets in est-export-sk.c;
 * the other FD_EST rows' kinds through est-export-fds.c; ptys in
 * est-export-tty.c; ghosts (est-export-ghost.c) and locks (est-export-locks.c)
 * of REG entries; any other is refused. Signal owners: est-export-fown.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define LOG_PREFIX "est-export: "
#include "build-id.h"
#include "est-export-int.h"
#include "est-export.h"
#include "est-fd.h"
#include "kernel-compat.h"
#include "log.h"

#include "files.pb-c.h"
#include "mm.pb-c.h"
#include "eventfd.pb-c.h"
#include "pidfd.pb-c.h"
#include "pipe.pb-c.h"
#include "timerfd.pb-c.h"
#include "est/eventfd.pb-c.h"
#include "est/fdinfo.pb-c.h"
#include "est/fown.pb-c.h"
#include "est/pidfd.pb-c.h"
#include "est/pipe.pb-c.h"
#include "est/pipe-data.pb-c.h"
#include "est/regfile.pb-c.h"
#include "est/timerfd.pb-c.h"

struct ours {
	ProtobufCMessage **reg, **pipe;
	size_t nr_reg, nr_pipe;
	uint32_t *mapped;		/* reg-files ids of mapped files and exes, sorted */
	size_t nr_mapped;
	struct exp_link *links;		/* --link-remap files and their temporary names' entries */
	size_t nr_links;
};

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int add_mapped(struct ours *o, uint32_t id)
{
	uint32_t *v = realloc(o->mapped, (o->nr_mapped + 1) * sizeof(*v));

	if (!v) {
		pr_err("out of memory");
		return -1;
	}
	o->mapped = v;
	o->mapped[o->nr_mapped++] = id;
	return 0;
}

/* The files every live process maps or runs (its mm image): those get a build-id. */
static int read_mapped(struct exp *ex, struct ours *o)
{
	size_t i, k;
	int ret = 0;

	for (i = 0; !ret && i < ex->nr_procs; i++) {
		MmEntry *m = NULL;

		if (!ex->procs[i].ps->n_threads)
			continue;	/* a zombie */
		if (img_read_one(ex->in, IMG_MM, ex->procs[i].ps->pid, (ProtobufCMessage **)&m))
			return -1;
		if (m->has_exe_file_id)
			ret = add_mapped(o, m->exe_file_id);
		for (k = 0; !ret && k < m->n_vmas; k++)
			if (m->vmas[k]->has_file_id)
				ret = add_mapped(o, m->vmas[k]->file_id);
		img_free_entry(&m->base);
	}
	if (o->nr_mapped)
		qsort(o->mapped, o->nr_mapped, sizeof(*o->mapped), u32_cmp);
	return ret;
}

/*
 * The build-id of regular file @r, for --file-validation buildid, if a
 * process maps it or runs it: read from the file at its path, which must
 * still be the dump's (dev/ino); a ghost's content is in the dump, and a
 * file that is no ELF has none. Files only open are not opened again here
 * (an open would break a lease on them). The words hold the note's bytes in
 * order, the last padded with zeros.
 */
static int build_id(const struct exp *ex, const struct ours *o, const RegFileEntry *r,
		    uint32_t *words, size_t *n)
{
	uint8_t id[BUILD_ID_MAX + 4] = { 0 };
	struct stat st;
	size_t len;
	int fd;

	*n = 0;
	if ((ex->flags & EST_EXPORT_NO_BUILD_ID) || !S_ISREG(r->mode) || r->has_ghost_id ||
	    !o->nr_mapped || !bsearch(&r->id, o->mapped, o->nr_mapped, sizeof(r->id), u32_cmp))
		return 0;
	if (r->has_build_id || !r->has_dev || !r->has_ino) {	/* imported: as it came */
		if (r->build_id.len > BUILD_ID_MAX) {
			pr_err("reg-files.img: file %u: a build-id of %zu bytes", r->id,
			       r->build_id.len);
			return -1;
		}
		*n = (r->build_id.len + 3) / 4;
		memcpy(id, r->build_id.data, r->build_id.len);
		memcpy(words, id, *n * 4);
		return 0;
	}
	fd = open(r->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOATIME);
	if (fd < 0 && errno == EPERM)	/* O_NOATIME on a file of another owner, without CAP_FOWNER */
		fd = open(r->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) || st.st_dev != r->dev || st.st_ino != r->ino) {
		pr_err("%s: the file of reg-files.img entry %u is gone or replaced during the dump",
		       r->path, r->id);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	len = elf_build_id(fd, id, BUILD_ID_MAX);
	close(fd);
	*n = (len + 3) / 4;
	memcpy(words, id, *n * 4);
	return 0;
}

/* A REG entry of @r's temporary --link-remap name, and the remap to it for remap-fpath.img. */
static int add_link(struct exp *ex, struct exp_img *w, struct ours *o, const RegFileEntry *r)
{
	Est__FileEntry f = EST__FILE_ENTRY__INIT;
	Est__RegFileEntry e = EST__REG_FILE_ENTRY__INIT;
	struct exp_link *v = realloc(o->links, (o->nr_links + 1) * sizeof(*v));

	if (!v) {
		pr_err("out of memory");
		return -1;
	}
	o->links = v;
	e.id = f.id = exp_new_id(ex);
	e.flags = O_RDONLY;
	e.name = r->link_remap;
	e.has_mode = true;
	e.mode = r->mode;
	f.type = EST__FD_TYPES__REG;
	f.reg = &e;
	exp_file_add(ex, w, &f);
	o->links[o->nr_links++] = (struct exp_link){ r->id, e.id };
	return 0;
}

static int conv_reg(struct exp *ex, struct exp_img *w, struct ours *o, const RegFileEntry *r)
{
	Est__FileEntry f = EST__FILE_ENTRY__INIT;
	Est__RegFileEntry e = EST__REG_FILE_ENTRY__INIT;
	uint32_t words[BUILD_ID_MAX / 4];

	if (r->link_remap && add_link(ex, w, o, r))
		return -1;

	if (build_id(ex, o, r, words, &e.n_build_id))
		return -1;
	e.build_id = words;

	e.id = r->id;
	e.flags = r->flags;
	e.pos = r->pos;
	e.name = r->path;
	e.has_mode = true;
	e.mode = r->mode;
	if (r->has_size) {
		e.has_size = true;
		e.size = r->size;
	}
	f.type = EST__FD_TYPES__REG;
	f.id = r->id;
	f.reg = &e;
	exp_file_add(ex, w, &f);
	return 0;
}

static int conv_pipe(struct exp *ex, struct exp_img *w, const PipeEntry *p)
{
	Est__FileEntry f = EST__FILE_ENTRY__INIT;
	Est__PipeEntry e = EST__PIPE_ENTRY__INIT;

	if (p->pipe_id > UINT32_MAX) {
		pr_err("pipes.img: pipe %u: inode %llu does not fit the format's 32 bits", p->id,
		       (unsigned long long)p->pipe_id);
		return -1;
	}
	e.id = p->id;
	e.pipe_id = p->pipe_id;
	e.flags = p->flags;
	f.type = EST__FD_TYPES__PIPE;
	f.id = p->id;
	f.pipe = &e;
	exp_file_add(ex, w, &f);
	return 0;
}

/* The format keeps an eventfd's or timerfd's whole f_flags; ours the status flags. */
static uint32_t f_flags(uint32_t status)
{
	return O_RDWR | status;
}

static int conv_eventfd(struct exp *ex, struct exp_img *w, const ProtobufCMessage *m)
{
	const EventfdEntry *e = (const EventfdEntry *)m;
	Est__FileEntry f = EST__FILE_ENTRY__INIT;
	Est__EventfdFileEntry o = EST__EVENTFD_FILE_ENTRY__INIT;

	if (e->semaphore &&
	    exp_cannot("eventfds.img", "eventfd %u is EFD_SEMAPHORE (an established restore makes a plain eventfd)",
		       e->id))
		return -1;
	o.id = e->id;
	o.flags = f_flags(e->flags);
	o.counter = e->counter;
	f.type = EST__FD_TYPES__EVENTFD;
	f.id = e->id;
	f.efd = &o;
	exp_file_add(ex, w, &f);
	return 0;
}

static int conv_timerfd(struct exp *ex, struct exp_img *w, const ProtobufCMessage *m)
{
	const TimerfdEntry *t = (const TimerfdEntry *)m;
	Est__FileEntry f = EST__FILE_ENTRY__INIT;
	Est__TimerfdEntry o = EST__TIMERFD_ENTRY__INIT;

	/* its absolute expiry: the format keeps only the time left, from which a restore counts */
	if (t->has_clock_sec && exp_cannot("timerfds.img", "the wall-clock expiry of a TFD_TIMER_ABSTIME timerfd"))
		return -1;
	o.id = t->id;
	o.flags = f_flags(t->flags);
	o.clockid = t->clockid;
	o.ticks = t->ticks;
	o.settime_flags = t->settime_flags;
	o.vsec = t->value_sec;	/* time left, relative, in both */
	o.vnsec = t->value_nsec;
	o.isec = t->interval_sec;
	o.insec = t->interval_nsec;
	f.type = EST__FD_TYPES__TIMERFD;
	f.id = t->id;
	f.tfd = &o;
	exp_file_add(ex, w, &f);
	return 0;
}

/*
 * A pidfd: the format's nspid is ours (the tree's namespace), its flags
 * PIDFD_NONBLOCK alone. A reaped process comes back from a stand-in killed
 * by SIGKILL: another wait status is kept only with --image-ext.
 */
static int conv_pidfd(struct exp *ex, struct exp_img *w, const ProtobufCMessage *m)
{
	const PidfdEntry *e = (const PidfdEntry *)m;
	Est__FileEntry f = EST__FILE_ENTRY__INIT;
	Est__PidfdEntry o = EST__PIDFD_ENTRY__INIT;

	if (e->ino > UINT32_MAX &&
	    exp_cannot("pidfds.img", "pidfd %u: pidfs inode %llu above 32 bits", e->id,
		       (unsigned long long)e->ino))
		return -1;
	if (e->has_exit_status && e->exit_status != SIGKILL &&
	    exp_cannot("pidfds.img", "pidfd %u: its reaped process ended with wait status %#x, "
		       "an established restore gives SIGKILL's", e->id, e->exit_status))
		return -1;
	o.id = e->id;
	o.ino = (uint32_t)e->ino;
	o.flags = e->flags;
	o.nspid = e->pid;
	f.type = EST__FD_TYPES__PIDFD;
	f.id = e->id;
	f.pidfd = &o;
	exp_file_add(ex, w, &f);
	return 0;
}

const struct est_fd_exp est_fd_eventfd_exp = { conv_eventfd };
const struct est_fd_exp est_fd_pidfd_exp = { conv_pidfd };
const struct est_fd_exp est_fd_timerfd_exp = { conv_timerfd };

int exp_read_optional(struct exp *ex, enum img_kind kind, const char *name,
		      ProtobufCMessage ***m, size_t *nr)
{
	*m = NULL;
	*nr = 0;
	if (faccessat(ex->in, name, F_OK, 0))
		return 0;
	exp_used(ex, name);
	return img_read_all(ex->in, kind, 0, 0, NULL, NULL, m, nr);
}

static int write_pipes_data(struct exp *ex)
{
	Est__PipeDataEntry e;
	ProtobufCMessage **m;
	struct exp_img w, wf;	/* pipes', FIFOs' */
	size_t nr, i, nr_fifo = 0;
	int ret = -1;

	if (exp_read_optional(ex, IMG_PIPES_DATA, "pipes-data.img", &m, &nr))
		return -1;
	if (!m)
		return 0;
	exp_img_open(&w, "pipes-data.img");
	exp_img_open(&wf, "fifo-data.img");
	for (i = 0; i < nr; i++) {
		const PipeDataEntry *d = (const PipeDataEntry *)m[i];

		if (d->pipe_id > UINT32_MAX) {
			pr_err("pipes-data.img: pipe inode %llu does not fit 32 bits",
			       (unsigned long long)d->pipe_id);
			goto out;
		}
		est__pipe_data_entry__init(&e);
		e.pipe_id = d->pipe_id;
		e.bytes = d->has_data ? d->data.len : 0;
		e.has_size = true;
		e.size = d->size;
		nr_fifo += exp_fifo_ino(ex, d->pipe_id);
		exp_img_add(exp_fifo_ino(ex, d->pipe_id) ? &wf : &w, &e.base,
			    d->has_data ? d->data.data : NULL, e.bytes);
	}
	ret = (nr_fifo < nr ? exp_img_close(ex, &w) : 0) ||
	      (nr_fifo ? exp_img_close(ex, &wf) : 0) ? -1 : 0;
out:
	free(w.buf);
	free(wf.buf);
	img_free_all(m, nr);
	return ret;
}

int exp_files(struct exp *ex)
{
	struct ours o = { 0 };
	struct exp_img w;
	size_t i;
	int ret = -1;

	if (exp_fown_read(ex) ||
	    exp_read_optional(ex, IMG_REG_FILES, "reg-files.img", &o.reg, &o.nr_reg) ||
	    exp_read_optional(ex, IMG_PIPES, "pipes.img", &o.pipe, &o.nr_pipe) ||
	    (!(ex->flags & EST_EXPORT_NO_BUILD_ID) && read_mapped(ex, &o)))
		goto out;
	exp_img_open(&w, "files.img");
	for (i = 0; i < o.nr_reg; i++)
		if (conv_reg(ex, &w, &o, (const RegFileEntry *)o.reg[i]))
			goto drop;
	for (i = 0; i < o.nr_pipe; i++)
		if (conv_pipe(ex, &w, (const PipeEntry *)o.pipe[i]))
			goto drop;
	if (exp_sockets(ex, &w) || exp_ttys(ex, &w) || exp_fd_kinds(ex, &w) ||
	    exp_shm_files(ex, &w))
		goto drop;
	if (exp_img_close(ex, &w))
		goto out;
	ret = write_pipes_data(ex) || exp_ghosts(ex, o.reg, o.nr_reg, o.links, o.nr_links) ||
	      exp_locks(ex, o.reg, o.nr_reg) ? -1 : 0;
	goto out;
drop:
	free(w.buf);
out:
	img_free_all(o.reg, o.nr_reg);
	img_free_all(o.pipe, o.nr_pipe);
	free(o.mapped);
	free(o.links);
	exp_fown_release(ex);
	free(ex->fifo_ino);
	ex->fifo_ino = NULL;
	return ret;
}

Est__FdTypes est_fd_type(FdKind kind)
{
	switch (kind) {
#define FD_KIND(name, value, ops, est) \
	case FD_KIND__FD_##name: \
		return EST__FD_TYPES__##est;
#include "fd-kinds.def"
	default:
		return EST__FD_TYPES__UND;
	}
}

int exp_fdinfo(struct exp *ex, struct exp_proc *p)
{
	Est__FdinfoEntry e;
	ProtobufCMessage **m = NULL;
	struct exp_img w;
	char img[64], name[64];
	size_t nr = 0, i;
	int ret = -1;

	snprintf(img, sizeof(img), "fds-%u.img", p->ps->pid);
	if (p->files_id != p->ids) {	/* its parent's table: fdinfo-FILESID.img is written */
		exp_used(ex, img);
		return 0;
	}
	if (img_read_all(ex->in, IMG_FDS, p->ps->pid, 0, NULL, NULL, &m, &nr))
		return -1;
	exp_used(ex, img);
	snprintf(name, sizeof(name), "fdinfo-%u.img", p->ids);
	exp_img_open(&w, name);
	for (i = 0; i < nr; i++) {
		const FdEntry *d = (const FdEntry *)m[i];

		est__fdinfo_entry__init(&e);
		e.id = d->id;
		e.fd = d->fd;
		e.flags = d->cloexec ? FD_CLOEXEC : 0;
		e.type = est_fd_type(d->kind);
		if (e.type == EST__FD_TYPES__UND) {
			const ProtobufCEnumValue *k =
				protobuf_c_enum_descriptor_get_value(&fd_kind__descriptor, d->kind);

			pr_err("not supported yet: %s: fd %u of kind %s", img, d->fd,
			       k ? k->name : "unknown");
			goto drop;
		}
		/* d->fown: with the file's entry (est-export-fown.c) */
		if (d->has_write_hint && d->write_hint &&
		    exp_cannot(img, "fd %u's file has a write-life hint (F_SET_RW_HINT)", d->fd))
			goto drop;
		exp_img_add(&w, &e.base, NULL, 0);
	}
	ret = exp_img_close(ex, &w);
	goto out;
drop:
	free(w.buf);
out:
	img_free_all(m, nr);
	return ret;
}
