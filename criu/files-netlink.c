/*
 * Netlink sockets (images/sk-netlink.proto): protocol, type, the port id it
 * is bound to, the groups it joined, the port (and group) it is connected
 * to, options (NETLINK_PKTINFO, NETLINK_EXT_ACK, ... are rows of the
 * option table in criu/files-sock.c).
 *
 * Dump: sock_diag's netlink table (NETLINK_SOCK_DIAG, criu/sk-diag.c) for
 * the socket's inode gives port, groups (all of them; getsockname shows the
 * first 32), peer, queued bytes and whether a dump of the kernel's is still
 * being read (NDIAG_FLAG_CB_RUNNING). A socket sock_diag does not list was
 * never bound and joined no group (checked with getsockname).
 * Restore: socket, options, bind to the port, NETLINK_ADD_MEMBERSHIP for
 * each group, connect, late options; port and groups are read back.
 *
 * Refused ("not supported yet"): messages queued and not read (the kernel
 * gives no way to put them back), a kernel dump not read whole, a group
 * above 1024.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/netlink.h>
#include <linux/netlink_diag.h>
#include <linux/sock_diag.h>

#define LOG_PREFIX "netlink: "
#include "log.h"
#include "dump.h"
#include "files.h"
#include "image.h"
#include "sockets.h"
#include "sk-netlink.pb-c.h"

#define NL_PROTO_MAX	32	/* MAX_LINKS */
#define NL_CONNECTED	1	/* NETLINK_CONNECTED */

struct nl_dump {
	struct sk_diag		diag;
	struct sk_opt_cache	opts;
	struct fd_list		l;
};

static struct nl_dump *nl_state(struct dump_files *d)
{
	struct nl_dump *nd = d->priv[FD_KIND__FD_NETLINK_SK];

	if (!nd) {
		nd = calloc(1, sizeof(*nd));
		if (!nd)
			pr_err("out of memory");
		d->priv[FD_KIND__FD_NETLINK_SK] = nd;
	}
	return nd;
}

static bool nl_match(const struct fd_probe *p)
{
	int family;

	return S_ISSOCK(p->st.st_mode) && !sk_probe(p, &family, NULL, NULL) &&
	       family == AF_NETLINK;
}

/* Not in sock_diag's table: never bound, in no group; getsockname() agrees. */
static int nl_unlisted(const struct fd_probe *p)
{
	struct sockaddr_nl a;
	socklen_t len = sizeof(a);

	if (getsockname(p->local, (struct sockaddr *)&a, &len)) {
		pr_perror("fd %d: getsockname", p->fd);
		return -1;
	}
	if (a.nl_pid || a.nl_groups) {
		pr_err("fd %d: sock_diag does not list netlink socket %llu bound to port %u",
		       p->fd, (unsigned long long)p->st.st_ino, a.nl_pid);
		return -1;
	}
	return 0;
}

static int nl_groups(const struct fd_probe *p, const struct sk_netlink_diag *s,
		     NetlinkSkEntry *e)
{
	size_t n = SK_NL_GROUP_WORDS;

	if (s->more_groups) {
		pr_err("fd %d: netlink socket in a group above %d: not supported yet", p->fd,
		       SK_NL_GROUP_WORDS * 32);
		return -1;
	}
	while (n && !s->groups[n - 1])
		n--;
	if (!n)
		return 0;
	e->groups = malloc(n * sizeof(*e->groups));
	if (!e->groups) {
		pr_err("out of memory");
		return -1;
	}
	memcpy(e->groups, s->groups, n * sizeof(*e->groups));
	e->n_groups = n;
	return 0;
}

static int nl_diag(struct nl_dump *nd, const struct fd_probe *p, NetlinkSkEntry *e)
{
	const struct sk_netlink_diag *s;
	int err;

	s = sk_diag_netlink(&nd->diag, (int)e->protocol, p->st.st_ino, &err);
	if (err)
		return -1;
	if (!s)
		return nl_unlisted(p);
	if (!s->has_flags || !s->has_mem) {
		pr_err("fd %d: sock_diag gives no flags or memory of netlink socket %llu", p->fd,
		       (unsigned long long)p->st.st_ino);
		return -1;
	}
	if (s->flags & NDIAG_FLAG_CB_RUNNING) {
		pr_err("fd %d: netlink socket with a dump of the kernel's not read whole: "
		       "not supported yet", p->fd);
		return -1;
	}
	if (s->rmem) {
		pr_err("fd %d: netlink socket with %u queued bytes (of its receive buffer): "
		       "not supported yet", p->fd, s->rmem);
		return -1;
	}
	if (s->portid) {
		e->has_portid = true;
		e->portid = s->portid;
	}
	if (s->state == NL_CONNECTED) {
		e->has_dst_portid = e->has_dst_group = true;
		e->dst_portid = s->dst_portid;
		e->dst_group = s->dst_group;
	}
	return nl_groups(p, s, e);
}

static int nl_dump(struct dump_files *d, struct fd_probe *p, uint32_t *id)
{
	struct nl_dump *nd = nl_state(d);
	int type, proto;
	NetlinkSkEntry *e;

	if (!nd || sk_probe(p, NULL, &type, &proto))
		return -1;
	e = calloc(1, sizeof(*e));
	if (!e) {
		pr_err("out of memory");
		return -1;
	}
	netlink_sk_entry__init(e);
	e->ino = p->st.st_ino;
	e->protocol = (uint32_t)proto;
	e->type = (uint32_t)type;
	e->flags = p->fi.flags & O_NONBLOCK;
	if (sk_check_error(p->local, p->fd) || nl_diag(nd, p, e) ||
	    sk_opts_dump(&nd->opts, p->local, p->fd, AF_NETLINK, type, proto, &e->opts,
			 &e->n_opts)) {
		protobuf_c_message_free_unpacked(&e->base, NULL);
		return -1;
	}
	e->id = *id = fd_obj_id(d);
	return fd_list_add(&nd->l, e);
}

static int nl_write(struct dump_files *d, int dirfd)
{
	struct nl_dump *nd = d->priv[FD_KIND__FD_NETLINK_SK];

	return nd ? fd_write_entries(dirfd, IMG_NETLINK_SKS, nd->l.v, nd->l.nr) : 0;
}

static void nl_free(struct dump_files *d)
{
	struct nl_dump *nd = d->priv[FD_KIND__FD_NETLINK_SK];
	size_t i;

	if (!nd)
		return;
	for (i = 0; i < nd->l.nr; i++)
		protobuf_c_message_free_unpacked(nd->l.v[i], NULL);
	free(nd->l.v);
	sk_diag_free(&nd->diag);
	free(nd);
	d->priv[FD_KIND__FD_NETLINK_SK] = NULL;
}

/* ---- restore ------------------------------------------------------------------------- */

static int nl_validate(const ProtobufCMessage *m, uint32_t *id)
{
	const NetlinkSkEntry *e = (const NetlinkSkEntry *)m;
	const char *bad = NULL;

	if (e->protocol >= NL_PROTO_MAX || (e->type != SOCK_RAW && e->type != SOCK_DGRAM))
		bad = "protocol or type out of range";
	else if ((e->flags & ~(uint32_t)O_NONBLOCK) || (e->has_portid && !e->portid))
		bad = "flags, or port 0";
	else if (e->n_groups > SK_NL_GROUP_WORDS || (e->n_groups && !e->groups[e->n_groups - 1]))
		bad = "groups out of range";
	else if (e->has_dst_portid != e->has_dst_group || e->dst_group > 32 ||
		 (e->has_dst_portid && !e->has_portid))
		bad = "a peer out of place (a connected socket is bound)";
	if (bad) {
		pr_err("netlink-sks.img: object %u: %s", e->id, bad);
		return -1;
	}
	if (sk_opts_check(e->opts, e->n_opts, "netlink-sks.img", e->id))
		return -1;
	*id = e->id;
	return 0;
}

static int nl_join(int fd, const NetlinkSkEntry *e)
{
	unsigned int g;

	for (g = 0; g < e->n_groups * 32; g++) {
		unsigned int group = g + 1;

		if (!(e->groups[g / 32] & (1u << (g % 32))))
			continue;
		if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group))) {
			pr_perror("netlink socket %u: joining group %u", e->id, group);
			return -1;
		}
	}
	return 0;
}

/* Port and groups read back: what bind() and the joins made is what was dumped. */
static int nl_verify(int fd, const NetlinkSkEntry *e)
{
	uint32_t now[256] = { 0 }, want[256] = { 0 };	/* the protocol's groups, 8192 */
	struct sockaddr_nl a;
	socklen_t len = sizeof(a), glen = sizeof(now);

	if (getsockname(fd, (struct sockaddr *)&a, &len) ||
	    getsockopt(fd, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, now, &glen)) {
		pr_perror("netlink socket %u: reading port and groups back", e->id);
		return -1;
	}
	if (e->n_groups)
		memcpy(want, e->groups, e->n_groups * sizeof(*want));
	if (a.nl_pid != (e->has_portid ? e->portid : 0) || glen > sizeof(now) - sizeof(*now) ||
	    memcmp(now, want, sizeof(now))) {
		pr_err("netlink socket %u: port %u or its groups after restore are not the dump's "
		       "(port %u)", e->id, a.nl_pid, e->portid);
		return -1;
	}
	return 0;
}

static int nl_setup(int fd, const NetlinkSkEntry *e)
{
	struct sockaddr_nl a = { .nl_family = AF_NETLINK };

	if (sk_opts_restore(fd, e->opts, e->n_opts, false))
		return -1;
	a.nl_pid = e->portid;
	if (e->has_portid && bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		pr_perror("netlink socket %u: bind to port %u", e->id, e->portid);
		return -1;
	}
	if (nl_join(fd, e))
		return -1;
	a.nl_pid = e->dst_portid;
	a.nl_groups = e->dst_group ? 1u << (e->dst_group - 1) : 0;
	if (e->has_dst_portid && connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		pr_perror("netlink socket %u: connect to port %u, group %u", e->id, e->dst_portid,
			  e->dst_group);
		return -1;
	}
	if (sk_opts_restore(fd, e->opts, e->n_opts, true) || nl_verify(fd, e))
		return -1;
	return sk_set_flags(fd, e->flags);
}

static int nl_open(struct fd_rst *r, const struct fd_obj *o, const struct cr_options *opt)
{
	const NetlinkSkEntry *e = (const NetlinkSkEntry *)o->e;
	int fd;

	(void)r;
	(void)opt;
	fd = socket(AF_NETLINK, (int)e->type | SOCK_CLOEXEC, (int)e->protocol);
	if (fd < 0) {
		pr_perror("netlink socket %u: socket (protocol %u)", e->id, e->protocol);
		return -1;
	}
	if (nl_setup(fd, e)) {
		close(fd);
		return -1;
	}
	return fd;
}

const struct fd_ops fd_netlink_sk_ops = {
	.kind = FD_KIND__FD_NETLINK_SK, .name = "netlink socket", .img = IMG_NETLINK_SKS,
	.match = nl_match, .dump = nl_dump, .write = nl_write, .free = nl_free,
	.validate = nl_validate, .open = nl_open,
};
