/*
 * Signal owners (plan §2.10 fown_entry): ours keeps F_SETOWN_EX, F_SETSIG
 * and O_ASYNC with the first fd of an open file description in the tree
 * (fds-PID.img), the format with the file object (the fown_entry of each
 * files.img member, O_ASYNC in its flags). Our restore sets the owner with
 * the real and effective uid of the process holding that fd, which the
 * kernel records and checks when it sends the signal: those are the
 * format's uid and euid (the reference reads them with F_GETOWNER_UIDS).
 * Also the largest object id of ours, for the entries the format needs
 * and ours has not (a FIFO's path).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#define LOG_PREFIX "est-export: "
#include "est-export-int.h"
#include "log.h"

#include "core.pb-c.h"
#include "files.pb-c.h"
#include "est/fdinfo.pb-c.h"

struct exp_fown {
	uint32_t id;
	bool async;
	Est__FownEntry e;
};

static Est__FownEntry no_fown = EST__FOWN_ENTRY__INIT;

/* The leader's real and effective uid from our core-PID.img (its first entry). */
static int task_uids(struct exp *ex, uint32_t pid, uint32_t *uid, uint32_t *euid)
{
	ProtobufCMessage *m = NULL;
	struct cr_img *img = img_open(ex->in, IMG_CORE, pid);
	const TaskCoreEntry *tc;
	int ret = -1;

	if (!img)
		return -1;
	if (img_read_entry(img, &m) != 1) {
		pr_err("core-%u.img: no task entry", pid);
		goto out;
	}
	tc = (const TaskCoreEntry *)m;
	*uid = *euid = 0;
	if (tc->creds && tc->creds->n_uid >= 2) {
		*uid = tc->creds->uid[0];
		*euid = tc->creds->uid[1];
	}
	ret = 0;
out:
	if (m)
		img_free_entry(m);
	img_close(img);
	return ret;
}

static int add_fown(struct exp *ex, const struct exp_proc *p, const FdEntry *d)
{
	const FownEntry *f = d->fown;
	struct exp_fown *o;
	size_t i;

	for (i = 0; i < ex->nr_fowns; i++)
		if (ex->fowns[i].id == d->id) {
			pr_err("fds-%u.img: fd %u: object %u has a signal owner in two fds", p->ps->pid,
			       d->fd, d->id);
			return -1;
		}
	o = realloc(ex->fowns, (ex->nr_fowns + 1) * sizeof(*o));
	if (!o) {
		pr_err("out of memory");
		return -1;
	}
	ex->fowns = o;
	o = &ex->fowns[ex->nr_fowns];
	memset(o, 0, sizeof(*o));
	est__fown_entry__init(&o->e);
	o->id = d->id;
	o->async = f->async;
	o->e.signum = f->signum;
	if (f->pid) {
		o->e.pid_type = f->type;	/* F_OWNER_TID 0, PID 1, PGRP 2 in both */
		o->e.pid = f->pid;
		if (task_uids(ex, p->ps->pid, &o->e.uid, &o->e.euid))
			return -1;
	}
	ex->nr_fowns++;
	return 0;
}

int exp_fown_read(struct exp *ex)
{
	size_t i, k;

	for (i = 0; i < ex->nr_procs; i++) {
		const struct exp_proc *p = &ex->procs[i];
		ProtobufCMessage **m = NULL;
		size_t nr = 0;
		int ret = 0;

		if (!p->ps->n_threads)
			continue;	/* a zombie: no fds */
		if (img_read_all(ex->in, IMG_FDS, p->ps->pid, 0, NULL, NULL, &m, &nr))
			return -1;
		for (k = 0; k < nr && !ret; k++) {
			const FdEntry *d = (const FdEntry *)m[k];

			if (d->id > ex->max_id)
				ex->max_id = d->id;
			if (d->fown)
				ret = add_fown(ex, p, d);
		}
		img_free_all(m, nr);
		if (ret)
			return -1;
	}
	return 0;
}

void exp_fown_release(struct exp *ex)
{
	free(ex->fowns);
	ex->fowns = NULL;
	ex->nr_fowns = 0;
}

const Est__FownEntry *exp_fown(const struct exp *ex, uint32_t id, uint32_t *flags)
{
	size_t i;

	for (i = 0; i < ex->nr_fowns; i++)
		if (ex->fowns[i].id == id) {
			if (ex->fowns[i].async)
				*flags |= O_ASYNC;
			return &ex->fowns[i].e;
		}
	return &no_fown;
}

uint32_t exp_new_id(struct exp *ex)
{
	return ++ex->max_id;
}

void exp_file_add(struct exp *ex, struct exp_img *w, Est__FileEntry *f)
{
	Est__FownEntry **fown;
	uint32_t *flags;

	if (est_file_fown(f, &fown, &flags))
		*fown = (Est__FownEntry *)exp_fown(ex, f->id, flags);
	if (f->id > ex->max_id)
		ex->max_id = f->id;
	exp_img_add(w, &f->base, NULL, 0);
}
