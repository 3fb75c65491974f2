/*
 * eventfd (images/eventfd.proto): counter and EFD_SEMAPHORE from fdinfo
 * ("eventfd-count", "eventfd-semaphore"); restored with eventfd(2) and the
 * counter written back.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/eventfd.h>

#define LOG_PREFIX "eventfd: "
#include "log.h"
#include "dump.h"
#include "files.h"
#include "image.h"
#include "eventfd.pb-c.h"

static bool efd_match(const struct fd_probe *p)
{
	return fd_probe_anon(p, "[eventfd]");
}

/* eventfd-id (6.x) names the eventfd context for its lifetime. */
static uint64_t efd_key(const struct fd_probe *p)
{
	struct proc_eventfd pe;

	return proc_fdinfo_eventfd(&p->fi, &pe) || pe.id < 0 ? 0 : (uint64_t)pe.id + 1;
}

static int efd_dump(struct dump_files *d, struct fd_probe *p, uint32_t *id)
{
	struct fd_list *l = fd_list(d, FD_KIND__FD_EVENTFD);
	struct proc_eventfd pe;
	EventfdEntry *e;

	if (!l)
		return -1;
	if (proc_fdinfo_eventfd(&p->fi, &pe)) {
		pr_err("fd %d: no eventfd-count in its fdinfo", p->fd);
		return -1;
	}
	if (pe.semaphore < 0) {
		pr_err("fd %d: this kernel does not show EFD_SEMAPHORE (eventfd-semaphore): "
		       "such eventfds are not supported yet", p->fd);
		return -1;
	}
	e = malloc(sizeof(*e));
	if (!e) {
		pr_err("out of memory");
		return -1;
	}
	eventfd_entry__init(e);
	e->id = *id = fd_obj_id(d);
	e->flags = p->fi.flags & O_NONBLOCK;
	e->counter = pe.count;
	e->semaphore = pe.semaphore == 1;
	return fd_list_add(l, e);
}

static int efd_validate(const ProtobufCMessage *m, uint32_t *id)
{
	const EventfdEntry *e = (const EventfdEntry *)m;

	if ((e->flags & ~O_NONBLOCK) || e->counter == UINT64_MAX) {
		pr_err("eventfds.img: object %u: bad flags %#o or counter", e->id, e->flags);
		return -1;
	}
	*id = e->id;
	return 0;
}

static int efd_open(struct fd_rst *r, const struct fd_obj *o, const struct cr_options *opt)
{
	const EventfdEntry *e = (const EventfdEntry *)o->e;
	int fd = eventfd(0, EFD_CLOEXEC | (e->semaphore ? EFD_SEMAPHORE : 0) |
			 (e->flags & O_NONBLOCK ? EFD_NONBLOCK : 0));

	(void)r;
	(void)opt;
	if (fd < 0) {
		pr_perror("eventfd");
		return -1;
	}
	if (e->counter && write(fd, &e->counter, sizeof(e->counter)) != sizeof(e->counter)) {
		pr_perror("eventfd: putting the counter %llu back", (unsigned long long)e->counter);
		close(fd);
		return -1;
	}
	return fd;
}

const struct fd_ops fd_eventfd_ops = {
	.kind = FD_KIND__FD_EVENTFD, .name = "eventfd", .img = IMG_EVENTFDS,
	.match = efd_match, .share_key = efd_key, .dump = efd_dump,
	.validate = efd_validate, .open = efd_open,
};
