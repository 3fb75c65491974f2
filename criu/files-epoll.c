/*
 * epoll (images/epoll.proto): every registered target from fdinfo
 * ("tfd: N events: X data: X ... ino: X"), named by its fd number.
 * Restore creates an empty instance before the fork; the task registers
 * the targets in post(), once every fd is at its number.
 *
 * Refused: a target no longer open at its number in the task (closed or
 * replaced after registration). Readiness is recomputed by the kernel on
 * restore: level-triggered targets report what they hold, an edge already
 * reported may be reported once more.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <linux/kcmp.h>

#define LOG_PREFIX "epoll: "
#include "log.h"
#include "dump.h"
#include "files.h"
#include "image.h"
#include "kernel-compat.h"
#include "epoll.pb-c.h"

#define EPOLL_MAX_TFDS	65536

static bool ep_match(const struct fd_probe *p)
{
	return fd_probe_anon(p, "[eventpoll]");
}

/*
 * Is the file registered as @t (the @toff'th registration under that
 * number) still the one open at fd t->tfd? kcmp(KCMP_EPOLL_TFD) compares
 * the very open file description.
 */
static int check_target(const struct fd_probe *p, const struct proc_epoll_tfd *t, unsigned int toff)
{
	struct kcmp_epoll_slot slot = { (__u32)p->fd, (__u32)t->tfd, toff };

	if (syscall(SYS_kcmp, p->pid, p->pid, KCMP_EPOLL_TFD, t->tfd, &slot) != 0) {
		pr_err("fd %d: epoll watches a file no longer open at fd %d: not supported yet",
		       p->fd, t->tfd);
		return -1;
	}
	return 0;
}

struct tfd_ref {
	int	tfd;
	size_t	i;
};

static int ref_cmp(const void *a, const void *b)
{
	const struct tfd_ref *x = a, *y = b;

	if (x->tfd != y->tfd)
		return x->tfd < y->tfd ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/*
 * toff[i]: how many targets before @i (in fdinfo order, which is the
 * kernel's tree order KCMP_EPOLL_TFD counts in) share its fd number.
 */
static unsigned int *target_offsets(const struct proc_epoll_tfd *t, size_t nr)
{
	struct tfd_ref *r = calloc(nr + 1, sizeof(*r));
	unsigned int *toff = calloc(nr + 1, sizeof(*toff));
	size_t i;

	if (!r || !toff) {
		free(r);
		free(toff);
		return NULL;
	}
	for (i = 0; i < nr; i++)
		r[i] = (struct tfd_ref){ t[i].tfd, i };
	qsort(r, nr, sizeof(*r), ref_cmp);
	for (i = 1; i < nr; i++)
		if (r[i].tfd == r[i - 1].tfd)
			toff[r[i].i] = toff[r[i - 1].i] + 1;
	free(r);
	return toff;
}

static int fill_tfds(EpollEntry *e, const struct fd_probe *p, const struct proc_epoll_tfd *t,
		     size_t nr)
{
	unsigned int *toff;
	size_t i;
	int ret = -1;

	if (nr > EPOLL_MAX_TFDS) {
		pr_err("fd %d: epoll with %zu targets: more than %d is not supported yet", p->fd,
		       nr, EPOLL_MAX_TFDS);
		return -1;
	}
	e->tfds = calloc(nr + 1, sizeof(*e->tfds));
	toff = target_offsets(t, nr);
	if (!e->tfds || !toff)
		goto out;
	for (i = 0; i < nr; i++) {
		EpollTfdEntry *te;

		if (check_target(p, &t[i], toff[i]))
			goto out;
		te = malloc(sizeof(*te));
		if (!te)
			goto out;
		epoll_tfd_entry__init(te);
		te->fd = (uint32_t)t[i].tfd;
		te->events = t[i].events;
		te->data = t[i].data;
		e->tfds[e->n_tfds++] = te;
	}
	ret = 0;
out:
	free(toff);
	return ret;
}

/*
 * Busy-poll parameters, through criu's copy of the instance. A kernel
 * before 6.9 has none (ENOTTY): nothing to keep.
 */
static int dump_params(struct fd_probe *p, EpollEntry *e)
{
	struct epoll_params ep = { 0 };
	int fd = fd_probe_local(p);

	if (fd < 0)
		return -1;
	if (ioctl(fd, EPIOCGPARAMS, &ep)) {
		if (errno == ENOTTY)
			return 0;
		pr_perror("fd %d: EPIOCGPARAMS", p->fd);
		return -1;
	}
	if (!ep.busy_poll_usecs && !ep.busy_poll_budget && !ep.prefer_busy_poll)
		return 0;
	e->has_busy_poll_usecs = e->has_busy_poll_budget = e->has_prefer_busy_poll = true;
	e->busy_poll_usecs = ep.busy_poll_usecs;
	e->busy_poll_budget = ep.busy_poll_budget;
	e->prefer_busy_poll = ep.prefer_busy_poll;
	return 0;
}

static int ep_dump(struct dump_files *d, struct fd_probe *p, uint32_t *id)
{
	struct fd_list *l = fd_list(d, FD_KIND__FD_EPOLL);
	struct proc_epoll_tfd *t = NULL;
	size_t nr = 0;
	EpollEntry *e;

	if (!l || proc_fdinfo_epoll(&p->fi, &t, &nr) < 0)
		return -1;
	e = malloc(sizeof(*e));
	if (!e) {
		free(t);
		pr_err("out of memory");
		return -1;
	}
	epoll_entry__init(e);
	e->id = *id = fd_obj_id(d);
	e->flags = p->fi.flags & O_NONBLOCK;
	if (fill_tfds(e, p, t, nr) || dump_params(p, e)) {
		free(t);
		protobuf_c_message_free_unpacked(&e->base, NULL);
		return -1;
	}
	free(t);
	return fd_list_add(l, e);
}

static int ep_validate(const ProtobufCMessage *m, uint32_t *id)
{
	const EpollEntry *e = (const EpollEntry *)m;
	size_t i;

	if ((e->flags & ~O_NONBLOCK) || e->n_tfds > EPOLL_MAX_TFDS) {
		pr_err("epolls.img: object %u: bad flags %#o or %zu targets", e->id, e->flags, e->n_tfds);
		return -1;
	}
	/* the kernel's own bounds: usecs up to S32_MAX, a u16 budget */
	if (e->busy_poll_usecs > 0x7fffffffu || e->busy_poll_budget > 0xffffu) {
		pr_err("epolls.img: object %u: busy-poll %u usecs, budget %u out of range", e->id,
		       e->busy_poll_usecs, e->busy_poll_budget);
		return -1;
	}
	for (i = 0; i < e->n_tfds; i++)
		if (e->tfds[i]->fd >= (1u << 20)) {
			pr_err("epolls.img: object %u: target fd %u out of range", e->id, e->tfds[i]->fd);
			return -1;
		}
	*id = e->id;
	return 0;
}

/* A budget over NAPI_POLL_WEIGHT needs CAP_NET_ADMIN: criu sets it, not the task. */
static int set_params(int fd, const EpollEntry *e)
{
	struct epoll_params ep = {
		.busy_poll_usecs = e->busy_poll_usecs,
		.busy_poll_budget = (__u16)e->busy_poll_budget,
		.prefer_busy_poll = e->prefer_busy_poll,
	};

	if (!ep.busy_poll_usecs && !ep.busy_poll_budget && !ep.prefer_busy_poll)
		return 0;
	if (ioctl(fd, EPIOCSPARAMS, &ep)) {
		pr_perror("epoll %u: EPIOCSPARAMS (%u usecs, budget %u, prefer %u)", e->id,
			  ep.busy_poll_usecs, ep.busy_poll_budget, ep.prefer_busy_poll);
		return -1;
	}
	return 0;
}

static int ep_open(struct fd_rst *r, const struct fd_obj *o, const struct cr_options *opt)
{
	const EpollEntry *e = (const EpollEntry *)o->e;
	int fd = epoll_create1(EPOLL_CLOEXEC);

	(void)r;
	(void)opt;
	if (fd < 0) {
		pr_perror("epoll_create1");
		return -1;
	}
	if ((e->flags & O_NONBLOCK) && fcntl(fd, F_SETFL, O_NONBLOCK)) {
		pr_perror("epoll: F_SETFL");
		close(fd);
		return -1;
	}
	if (set_params(fd, e)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* In the task: register every target. A second fd of one instance finds them there. */
static int ep_post(const struct fd_rst *r, const FdEntry *fe, const struct fd_obj *o,
		   char *why, size_t len)
{
	const EpollEntry *e = (const EpollEntry *)o->e;
	size_t i;

	(void)r;
	for (i = 0; i < e->n_tfds; i++) {
		struct epoll_event ev = { .events = e->tfds[i]->events, .data.u64 = e->tfds[i]->data };

		if (epoll_ctl((int)fe->fd, EPOLL_CTL_ADD, (int)e->tfds[i]->fd, &ev) && errno != EEXIST) {
			snprintf(why, len, "cannot watch fd %u again (events %#x): %s",
				 e->tfds[i]->fd, e->tfds[i]->events, strerror(errno));
			return -1;
		}
	}
	return 0;
}

const struct fd_ops fd_epoll_ops = {
	.kind = FD_KIND__FD_EPOLL, .name = "epoll", .img = IMG_EPOLLS,
	.match = ep_match, .dump = ep_dump,
	.validate = ep_validate, .open = ep_open, .post = ep_post,
};
