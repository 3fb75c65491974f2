/*
 * What the socket kinds share: socket options (images/sk-opts.proto), the
 * file flags, and the last kind of the table, which owns every socket the
 * others leave (netlink, packet, raw, TCP/UDP of odd protocols...) only to
 * refuse it by name.
 *
 * Options: those criu knows (opt_defs) are read with getsockopt() on criu's
 * copy of the descriptor and on a fresh socket of the same kind; only the
 * ones that differ are written, so restore sets only what the task set (a
 * buffer size left alone stays free to autotune).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#define LOG_PREFIX "socket: "
#include "log.h"
#include "compiler.h"
#include "files.h"
#include "sockets.h"

#define SK_MAX_OPTS	64
#define OPT(level, name)	((uint32_t)(level) << 16 | (uint32_t)(name))

enum opt_how { HOW_INT, HOW_BUF, HOW_TV, HOW_LINGER };

struct opt_def {
	uint32_t	opt;
	enum opt_how	how;
	const char	*name;
};

static const struct opt_def opt_defs[] = {
	{ OPT(SOL_SOCKET, SO_RCVBUF), HOW_BUF, "SO_RCVBUF" },
	{ OPT(SOL_SOCKET, SO_SNDBUF), HOW_BUF, "SO_SNDBUF" },
	{ OPT(SOL_SOCKET, SO_PASSCRED), HOW_INT, "SO_PASSCRED" },
	{ OPT(SOL_SOCKET, SO_PASSSEC), HOW_INT, "SO_PASSSEC" },
	{ OPT(SOL_SOCKET, SO_REUSEADDR), HOW_INT, "SO_REUSEADDR" },
	{ OPT(SOL_SOCKET, SO_REUSEPORT), HOW_INT, "SO_REUSEPORT" },
	{ OPT(SOL_SOCKET, SO_KEEPALIVE), HOW_INT, "SO_KEEPALIVE" },
	{ OPT(SOL_SOCKET, SO_BROADCAST), HOW_INT, "SO_BROADCAST" },
	{ OPT(SOL_SOCKET, SO_OOBINLINE), HOW_INT, "SO_OOBINLINE" },
	{ OPT(SOL_SOCKET, SO_DONTROUTE), HOW_INT, "SO_DONTROUTE" },
	{ OPT(SOL_SOCKET, SO_PRIORITY), HOW_INT, "SO_PRIORITY" },
	{ OPT(SOL_SOCKET, SO_RCVLOWAT), HOW_INT, "SO_RCVLOWAT" },
	{ OPT(SOL_SOCKET, SO_MARK), HOW_INT, "SO_MARK" },
	{ OPT(SOL_SOCKET, SO_PEEK_OFF), HOW_INT, "SO_PEEK_OFF" },
	{ OPT(SOL_SOCKET, SO_TIMESTAMP), HOW_INT, "SO_TIMESTAMP" },
	{ OPT(SOL_SOCKET, SO_RCVTIMEO_OLD), HOW_TV, "SO_RCVTIMEO" },
	{ OPT(SOL_SOCKET, SO_SNDTIMEO_OLD), HOW_TV, "SO_SNDTIMEO" },
	{ OPT(SOL_SOCKET, SO_LINGER), HOW_LINGER, "SO_LINGER" },
	{ OPT(SOL_TCP, TCP_NODELAY), HOW_INT, "TCP_NODELAY" },
	{ OPT(SOL_TCP, TCP_KEEPIDLE), HOW_INT, "TCP_KEEPIDLE" },
	{ OPT(SOL_TCP, TCP_KEEPINTVL), HOW_INT, "TCP_KEEPINTVL" },
	{ OPT(SOL_TCP, TCP_KEEPCNT), HOW_INT, "TCP_KEEPCNT" },
	{ OPT(SOL_TCP, TCP_MAXSEG), HOW_INT, "TCP_MAXSEG" },
	{ OPT(SOL_TCP, TCP_DEFER_ACCEPT), HOW_INT, "TCP_DEFER_ACCEPT" },
	{ OPT(SOL_TCP, TCP_USER_TIMEOUT), HOW_INT, "TCP_USER_TIMEOUT" },
	{ OPT(SOL_TCP, TCP_FASTOPEN), HOW_INT, "TCP_FASTOPEN" },
	{ OPT(SOL_TCP, TCP_NOTSENT_LOWAT), HOW_INT, "TCP_NOTSENT_LOWAT" },
	{ OPT(SOL_IP, IP_TOS), HOW_INT, "IP_TOS" },
	{ OPT(SOL_IP, IP_TTL), HOW_INT, "IP_TTL" },
	{ OPT(SOL_SOCKET, SO_BINDTOIFINDEX), HOW_INT, "SO_BINDTOIFINDEX" },
	{ OPT(SOL_SOCKET, SO_TIMESTAMPNS_OLD), HOW_INT, "SO_TIMESTAMPNS" },
	{ OPT(SOL_SOCKET, SO_RXQ_OVFL), HOW_INT, "SO_RXQ_OVFL" },
	{ OPT(SOL_SOCKET, SO_SELECT_ERR_QUEUE), HOW_INT, "SO_SELECT_ERR_QUEUE" },
	{ OPT(SOL_SOCKET, SO_BUSY_POLL), HOW_INT, "SO_BUSY_POLL" },
	{ OPT(SOL_IP, IP_FREEBIND), HOW_INT, "IP_FREEBIND" },
	{ OPT(SOL_IP, IP_TRANSPARENT), HOW_INT, "IP_TRANSPARENT" },
	{ OPT(SOL_IP, IP_PKTINFO), HOW_INT, "IP_PKTINFO" },
	{ OPT(SOL_IP, IP_RECVTOS), HOW_INT, "IP_RECVTOS" },
	{ OPT(SOL_IP, IP_RECVTTL), HOW_INT, "IP_RECVTTL" },
	{ OPT(SOL_IP, IP_RECVERR), HOW_INT, "IP_RECVERR" },
	{ OPT(SOL_IP, IP_MTU_DISCOVER), HOW_INT, "IP_MTU_DISCOVER" },
	{ OPT(SOL_IP, IP_MULTICAST_TTL), HOW_INT, "IP_MULTICAST_TTL" },
	{ OPT(SOL_IP, IP_MULTICAST_LOOP), HOW_INT, "IP_MULTICAST_LOOP" },
	{ OPT(SOL_IPV6, IPV6_UNICAST_HOPS), HOW_INT, "IPV6_UNICAST_HOPS" },
	{ OPT(SOL_IPV6, IPV6_TCLASS), HOW_INT, "IPV6_TCLASS" },
	{ OPT(SOL_IPV6, IPV6_MULTICAST_HOPS), HOW_INT, "IPV6_MULTICAST_HOPS" },
	{ OPT(SOL_IPV6, IPV6_MULTICAST_LOOP), HOW_INT, "IPV6_MULTICAST_LOOP" },
	{ OPT(SOL_IPV6, IPV6_RECVPKTINFO), HOW_INT, "IPV6_RECVPKTINFO" },
	{ OPT(SOL_IPV6, IPV6_RECVERR), HOW_INT, "IPV6_RECVERR" },
	{ OPT(SOL_IPV6, IPV6_MTU_DISCOVER), HOW_INT, "IPV6_MTU_DISCOVER" },
};

static const struct opt_def *opt_def(uint32_t opt)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(opt_defs); i++)
		if (opt_defs[i].opt == opt)
			return &opt_defs[i];
	return NULL;
}

const char *sk_type_str(unsigned int type)
{
	switch (type) {
	case SOCK_STREAM: return "stream";
	case SOCK_DGRAM: return "dgram";
	case SOCK_SEQPACKET: return "seqpacket";
	case SOCK_RAW: return "raw";
	}
	return "unknown-type";
}

int sk_getint(int fd, int opt, int *val)
{
	socklen_t len = sizeof(*val);

	if (getsockopt(fd, SOL_SOCKET, opt, val, &len)) {
		pr_perror("getsockopt(SOL_SOCKET, %d)", opt);
		return -1;
	}
	return 0;
}

int sk_probe(const struct fd_probe *p, int *family, int *type, int *proto)
{
	/* criu's copy is a cache the probe owns and its caller closes */
	int fd = fd_probe_local((struct fd_probe *)p);

	if (fd < 0 || (family && sk_getint(fd, SO_DOMAIN, family)) ||
	    (type && sk_getint(fd, SO_TYPE, type)) || (proto && sk_getint(fd, SO_PROTOCOL, proto)))
		return -1;
	return 0;
}

/* The option's value as the image keeps it; -1 if the socket has no such option. */
static int get_opt(int fd, const struct opt_def *d, int64_t *val)
{
	int level = (int)(d->opt >> 16), name = (int)(d->opt & 0xffff);
	union { int i; struct timeval tv; struct linger l; } u;
	socklen_t len = sizeof(u);

	memset(&u, 0, sizeof(u));
	if (getsockopt(fd, level, name, &u, &len))
		return -1;
	if (d->how == HOW_TV)
		*val = (int64_t)u.tv.tv_sec * 1000000 + u.tv.tv_usec;
	else if (d->how == HOW_LINGER)
		*val = u.l.l_onoff ? u.l.l_linger : -1;
	else
		*val = u.i;
	return 0;
}

static int add_opt(SkOpt ***opts, size_t *nr, uint32_t opt, int64_t val)
{
	SkOpt *o = malloc(sizeof(*o)), **n = realloc(*opts, (*nr + 2) * sizeof(*n));

	if (n)
		*opts = n;
	if (!o || !n) {
		free(o);
		pr_err("out of memory");
		return -1;
	}
	sk_opt__init(o);
	o->opt = opt;
	o->val = val;
	(*opts)[(*nr)++] = o;
	return 0;
}

/* A socket filter (classic or eBPF) cannot be read back whole: refused. */
static int check_filter(int fd, int tfd)
{
	socklen_t len = 0;

	if (!getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, NULL, &len) && !len)
		return 0;
	pr_err("fd %d: a socket filter (SO_ATTACH_FILTER/SO_ATTACH_BPF) is attached: "
	       "not supported yet", tfd);
	return -1;
}

_Static_assert(ARRAY_SIZE(opt_defs) <= SK_OPTS_TABLE, "one bit per option in sk_defaults.have");

/* What a fresh socket of this kind reports: read once per dump and kind. */
static const struct sk_defaults *defaults(struct sk_opt_cache *c, int family, int type, int proto)
{
	struct sk_defaults *d = &c->row[SK_DEFAULTS_ROWS - 1];	/* reused when all are taken */
	int fresh;
	size_t i;

	for (i = 0; i < SK_DEFAULTS_ROWS; i++) {
		if (c->row[i].family == family && c->row[i].type == type && c->row[i].proto == proto)
			return &c->row[i];
		if (!c->row[i].family) {
			d = &c->row[i];
			break;
		}
	}
	fresh = socket(family, type | SOCK_CLOEXEC, proto);
	if (fresh < 0) {
		pr_perror("a fresh %s socket of family %d to compare options with",
			  sk_type_str((unsigned int)type), family);
		return NULL;
	}
	*d = (struct sk_defaults){ .family = family, .type = type, .proto = proto };
	for (i = 0; i < ARRAY_SIZE(opt_defs); i++)
		if (!get_opt(fresh, &opt_defs[i], &d->val[i]))
			d->have |= 1ull << i;	/* an option of this kind of socket */
	close(fresh);
	return d;
}

int sk_opts_dump(struct sk_opt_cache *c, int fd, int tfd, int family, int type, int proto,
		 SkOpt ***opts, size_t *nr)
{
	const struct sk_defaults *d;
	size_t i;

	*opts = NULL;
	*nr = 0;
	if (check_filter(fd, tfd))
		return -1;
	d = defaults(c, family, type, proto);
	if (!d)
		return -1;
	for (i = 0; i < ARRAY_SIZE(opt_defs); i++) {
		int64_t mine;

		if (!(d->have & (1ull << i)) || get_opt(fd, &opt_defs[i], &mine) ||
		    mine == d->val[i])
			continue;
		pr_debug("fd %d: %s = %lld (default %lld)", tfd, opt_defs[i].name,
			 (long long)mine, (long long)d->val[i]);
		if (add_opt(opts, nr, opt_defs[i].opt, mine))
			return -1;
	}
	return 0;
}

int sk_opts_check(SkOpt *const *opts, size_t nr, const char *img, uint32_t id)
{
	size_t i;

	if (nr > SK_MAX_OPTS) {
		pr_err("%s: object %u: %zu socket options", img, id, nr);
		return -1;
	}
	for (i = 0; i < nr; i++) {
		const struct opt_def *d = opt_def(opts[i]->opt);
		int64_t v = opts[i]->val;
		bool ok = d != NULL;

		if (ok && d->how == HOW_TV)
			ok = v >= 0 && v <= (int64_t)INT_MAX * 1000000;
		else if (ok && d->how == HOW_LINGER)
			ok = v >= -1 && v <= INT_MAX;
		else if (ok && d->how == HOW_BUF)
			ok = v >= 0 && v <= INT_MAX;
		else if (ok)
			ok = v >= INT_MIN && v <= INT_MAX;
		if (!ok) {
			pr_err("%s: object %u: socket option %#x = %lld is unknown or out of range",
			       img, id, opts[i]->opt, (long long)v);
			return -1;
		}
	}
	return 0;
}

static int set_opt(int fd, const struct opt_def *d, int64_t val)
{
	int level = (int)(d->opt >> 16), name = (int)(d->opt & 0xffff), i = (int)val;
	struct timeval tv = { .tv_sec = val / 1000000, .tv_usec = val % 1000000 };
	struct linger l = { .l_onoff = val >= 0, .l_linger = val >= 0 ? (int)val : 0 };
	const void *p = &i;
	socklen_t len = sizeof(i);

	if (d->how == HOW_BUF) {
		/* getsockopt reported twice what was asked; FORCE passes rmem_max */
		name = name == SO_RCVBUF ? SO_RCVBUFFORCE : SO_SNDBUFFORCE;
		i = (int)(val / 2);
	} else if (d->how == HOW_TV) {
		p = &tv;
		len = sizeof(tv);
	} else if (d->how == HOW_LINGER) {
		p = &l;
		len = sizeof(l);
	}
	if (setsockopt(fd, level, name, p, len)) {
		pr_perror("setsockopt %s = %lld", d->name, (long long)val);
		return -1;
	}
	return 0;
}

int sk_opts_restore(int fd, SkOpt *const *opts, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++)
		if (set_opt(fd, opt_def(opts[i]->opt), opts[i]->val))	/* checked on reading */
			return -1;
	return 0;
}

int sk_set_flags(int fd, uint32_t flags)
{
	if ((flags & O_NONBLOCK) && fcntl(fd, F_SETFL, O_NONBLOCK)) {
		pr_perror("socket: F_SETFL O_NONBLOCK");
		return -1;
	}
	return 0;
}

/* ---- the kind for every other socket: refused by name ------------------------------- */

static bool other_match(const struct fd_probe *p)
{
	return S_ISSOCK(p->st.st_mode);
}

static const char *family_str(int family)
{
	switch (family) {
	case AF_UNIX: return "unix";
	case AF_INET: return "inet";
	case AF_INET6: return "inet6";
	case AF_NETLINK: return "netlink";
	case AF_PACKET: return "packet";
	}
	return "other";
}

static int other_dump(struct dump_files *d, struct fd_probe *p, uint32_t *id)
{
	int family = -1, type = -1, proto = -1;

	(void)d;
	(void)id;
	if (sk_probe(p, &family, &type, &proto))
		return -1;
	pr_err("fd %d: %s socket (family %d, %s, protocol %d): not supported yet", p->fd,
	       family_str(family), family, sk_type_str((unsigned int)type), proto);
	return -1;
}

const struct fd_ops fd_other_sk_ops = {
	.kind = FD_KIND__FD_OTHER_SK, .name = "socket",
	.match = other_match, .dump = other_dump,
};
