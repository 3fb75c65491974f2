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
#include <sys/stat.h>

#define LOG_PREFIX "epoll: "
#include "log.h"
#include "dump.h"
#include "files.h"
#include "image.h"
#include "epoll.pb-c.h"

#define EPOLL_MAX_TFDS	65536

static bool ep_match(const struct fd_probe *p)
{
	return fd_probe_anon(p, "[eventpoll]");
}

/* Is the file registered as @t still the one open at fd t->tfd? */
static int check_target(const struct fd_probe *p, const struct proc_epoll_tfd *t)
{
	char link[16];
	struct stat st;

	snprintf(link, sizeof(link), "%d", t->tfd);
	if (fstatat(p->procfd, link, &st, 0) || (t->ino && (uint64_t)st.st_ino != t->ino)) {
		pr_err("fd %d: epoll watches a file no longer open at fd %d: not supported yet",
		       p->fd, t->tfd);
		return -1;
	}
	return 0;
}

static int fill_tfds(EpollEntry *e, const struct fd_probe *p, const struct proc_epoll_tfd *t,
		     size_t nr)
{
	size_t i;

	if (nr > EPOLL_MAX_TFDS) {
		pr_err("fd %d: epoll with %zu targets: more than %d is not supported yet", p->fd,
		       nr, EPOLL_MAX_TFDS);
		return -1;
	}
	e->tfds = calloc(nr + 1, sizeof(*e->tfds));
	if (!e->tfds)
		return -1;
	for (i = 0; i < nr; i++) {
		EpollTfdEntry *te;

		if (check_target(p, &t[i]))
			return -1;
		te = malloc(sizeof(*te));
		if (!te)
			return -1;
		epoll_tfd_entry__init(te);
		te->fd = (uint32_t)t[i].tfd;
		te->events = t[i].events;
		te->data = t[i].data;
		e->tfds[e->n_tfds++] = te;
	}
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
	if (fill_tfds(e, p, t, nr)) {
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
	for (i = 0; i < e->n_tfds; i++)
		if (e->tfds[i]->fd >= (1u << 20)) {
			pr_err("epolls.img: object %u: target fd %u out of range", e->id, e->tfds[i]->fd);
			return -1;
		}
	*id = e->id;
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
