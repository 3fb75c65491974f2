/*
 * signalfd (images/signalfd.proto): the signal mask from fdinfo
 * ("sigmask"); restored with signalfd(2). Queued signals belong to the
 * task and come back with it.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>

#define LOG_PREFIX "signalfd: "
#include "log.h"
#include "dump.h"
#include "files.h"
#include "image.h"
#include "signalfd.pb-c.h"

static bool sfd_match(const struct fd_probe *p)
{
	return fd_probe_anon(p, "[signalfd]");
}

static int sfd_dump(struct dump_files *d, struct fd_probe *p, uint32_t *id)
{
	struct fd_list *l = fd_list(d, FD_KIND__FD_SIGNALFD);
	SignalfdEntry *e;
	uint64_t mask;

	if (!l)
		return -1;
	if (proc_fdinfo_signalfd(&p->fi, &mask)) {
		pr_err("fd %d: no sigmask in its fdinfo", p->fd);
		return -1;
	}
	e = malloc(sizeof(*e));
	if (!e) {
		pr_err("out of memory");
		return -1;
	}
	signalfd_entry__init(e);
	e->id = *id = fd_obj_id(d);
	e->flags = p->fi.flags & O_NONBLOCK;
	e->sigmask = mask;
	return fd_list_add(l, e);
}

static int sfd_validate(const ProtobufCMessage *m, uint32_t *id)
{
	const SignalfdEntry *e = (const SignalfdEntry *)m;

	if (e->flags & ~O_NONBLOCK) {
		pr_err("signalfds.img: object %u: bad flags %#o", e->id, e->flags);
		return -1;
	}
	*id = e->id;
	return 0;
}

static int sfd_open(struct fd_rst *r, const struct fd_obj *o, const struct cr_options *opt)
{
	const SignalfdEntry *e = (const SignalfdEntry *)o->e;
	sigset_t set;
	int fd;

	(void)r;
	(void)opt;
	/* the kernel's 64-bit mask as is: glibc's sigaddset() skips its own signals */
	sigemptyset(&set);
	memcpy(&set, &e->sigmask, sizeof(e->sigmask));
	fd = signalfd(-1, &set, SFD_CLOEXEC | (e->flags & O_NONBLOCK ? SFD_NONBLOCK : 0));
	if (fd < 0)
		pr_perror("signalfd with mask %#llx", (unsigned long long)e->sigmask);
	return fd;
}

const struct fd_ops fd_signalfd_ops = {
	.kind = FD_KIND__FD_SIGNALFD, .name = "signalfd", .img = IMG_SIGNALFDS,
	.match = sfd_match, .dump = sfd_dump,
	.validate = sfd_validate, .open = sfd_open,
};
