/*
 * Sockets: what the socket kinds (criu/files-unix.c, criu/files-inet.c)
 * share.
 *
 * sock_diag (criu/sk-diag.c) tells what only the kernel's tables know:
 * a unix socket's peer inode, pending connections, queue lengths, its
 * bound file; an inet socket's state, queues and shutdown. One table per
 * dump, filled on first use (one netlink dump per family and protocol),
 * looked up by inode:
 *   1. struct sk_diag t = { 0 };
 *   2. sk_diag_unix(&t, ino) / sk_diag_inet(&t, family, proto, ino) /
 *      sk_diag_netlink(&t, proto, ino) / sk_diag_packet(&t, ino)
 *      (NULL: the kernel does not list it)
 *   3. sk_diag_free(&t)
 * sk_diag_parse_unix(), _inet(), _netlink() and _packet() decode one answer;
 * they take untrusted bytes and are unit-tested on their own.
 *
 * Socket options (criu/files-sock.c): sk_opts_dump() lists those that
 * differ from a fresh socket of the same kind, sk_opts_restore() sets them
 * again; sk_opts_check() validates them read from an image.
 */
#ifndef CRIU_SOCKETS_H
#define CRIU_SOCKETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

#include "sk-opts.pb-c.h"

#define SK_NAME_MAX	108	/* sizeof(sun_path) */

struct sk_unix_diag {
	uint64_t	ino;
	uint64_t	peer;		/* 0: none or gone */
	bool		peer_gone;	/* UNIX_DIAG_PEER names inode 0: a peer closed since */
	uint8_t		type, state;
	uint8_t		shutdown;
	bool		has_vfs;
	uint64_t	vfs_ino, vfs_dev;
	uint32_t	rqueue, wqueue;	/* listening: pending and backlog */
	uint32_t	nr_icons;	/* connections not accepted yet */
	uint32_t	icon_off;	/* their inodes, in accept order: sk_diag.icons */
	size_t		name_len;	/* 0: unnamed */
	char		name[SK_NAME_MAX];
};

struct sk_inet_diag {
	uint64_t	ino;
	uint8_t		family, proto, state, shutdown;
	int		v6only;		/* -1: not reported */
	bool		md5;		/* TCP_MD5SIG keys (INET_DIAG_MD5SIG, CAP_NET_ADMIN) */
	uint16_t	sport, dport;	/* host order */
	uint8_t		src[16], dst[16];
	uint32_t	rqueue, wqueue;	/* listening: pending and backlog */
};

#define SK_NL_GROUP_WORDS	32	/* bound groups kept: 1024 */

struct sk_netlink_diag {
	uint64_t	ino;
	uint8_t		proto, state;	/* state: 1 connected */
	uint32_t	portid, dst_portid, dst_group;
	uint32_t	groups[SK_NL_GROUP_WORDS];	/* bitmap: group N is bit N - 1 */
	bool		more_groups;	/* a group above 1024 */
	bool		has_mem, has_flags;
	uint32_t	rmem;		/* bytes queued (SK_MEMINFO_RMEM_ALLOC) */
	uint32_t	flags;		/* NDIAG_FLAG_* */
};

#define SK_PACKET_MC_MAX	16	/* memberships kept per packet socket */
#define SK_PACKET_ADDR_MAX	32	/* MAX_ADDR_LEN */

struct sk_packet_mc {
	uint32_t	ifindex, count;
	uint16_t	type, alen;
	uint8_t		addr[SK_PACKET_ADDR_MAX];
};

struct sk_packet_ring {
	uint32_t	block_size, block_nr, frame_size, frame_nr;
	uint32_t	retire_tmo, sizeof_priv, features;	/* TPACKET_V3's */
};

struct sk_packet_diag {
	uint64_t	ino;
	uint8_t		type;
	uint16_t	num;		/* the protocol hooked, network order */
	bool		has_info, has_mem;
	uint32_t	ifindex, version, reserve, copy_thresh, tstamp, flags;	/* PDI_* */
	bool		has_fanout;
	uint32_t	fanout;		/* id | type << 16 */
	bool		has_rx_ring, has_tx_ring;
	struct sk_packet_ring	rx_ring, tx_ring;
	uint32_t	rmem, wmem;	/* SK_MEMINFO_RMEM_ALLOC, _WMEM_ALLOC */
	uint32_t	nr_mc;
	bool		more_mc;	/* over SK_PACKET_MC_MAX */
	struct sk_packet_mc	mc[SK_PACKET_MC_MAX];
};

struct sk_diag {
	struct sk_unix_diag	*u;
	size_t			nr_u, cap_u;
	bool			have_u;
	uint32_t		*icons;		/* every listener's, see icon_off */
	size_t			nr_icons;
	struct sk_inet_diag	*in;
	size_t			nr_in, cap_in;
	unsigned int		have_in;	/* bit per (family, proto) dumped */
	struct sk_netlink_diag	*nl;
	size_t			nr_nl, cap_nl;
	uint32_t		have_nl;	/* bit per netlink protocol dumped */
	struct sk_packet_diag	*pk;
	size_t			nr_pk, cap_pk;
	bool			have_pk;
};

/* One answer: 0 filled, 1 not a socket of that kind, -1 logged if malformed. */
int sk_diag_parse_unix(const struct nlmsghdr *h, struct sk_unix_diag *u);
int sk_diag_parse_inet(const struct nlmsghdr *h, int proto, struct sk_inet_diag *s);
int sk_diag_parse_netlink(const struct nlmsghdr *h, struct sk_netlink_diag *s);
int sk_diag_parse_packet(const struct nlmsghdr *h, struct sk_packet_diag *s);

/* NULL if the kernel does not list it (not logged); -1 through @err. */
const struct sk_unix_diag *sk_diag_unix(struct sk_diag *t, uint64_t ino, int *err);
const uint32_t *sk_diag_icons(const struct sk_diag *t, const struct sk_unix_diag *u);
const struct sk_inet_diag *sk_diag_inet(struct sk_diag *t, int family, int proto,
					uint64_t ino, int *err);
/* A netlink socket of @proto (< 32); NULL: not listed (unbound, in no group). */
const struct sk_netlink_diag *sk_diag_netlink(struct sk_diag *t, int proto, uint64_t ino,
					      int *err);
/* A packet socket; NULL: not listed. */
const struct sk_packet_diag *sk_diag_packet(struct sk_diag *t, uint64_t ino, int *err);
void sk_diag_free(struct sk_diag *t);
/* Ask about the sockets of network namespace @nsfd from now on (-1: criu's own). */
void sk_diag_netns(int nsfd);

/*
 * A raw or ping socket's line of /proc/PID/net/{raw,raw6,icmp,icmp6}
 * (criu/sk-proc.c): addresses as their bytes, ports in host order (a raw
 * socket's local port is its protocol, a ping socket's its ICMP id).
 */
struct sk_proc {
	uint64_t	ino;
	uint8_t		state;		/* 1 connected, 7 not */
	uint16_t	sport, dport;
	uint8_t		src[16], dst[16];
	uint32_t	txq, rxq;	/* bytes: unsent (corked), received and not read */
};

/* One line: 0 filled, 1 a heading or blank, -1 malformed (not logged). */
int sk_proc_parse(const char *line, bool v6, struct sk_proc *s);
/* @ino among @type's (SOCK_RAW or the ping SOCK_DGRAM) of @pid's namespace: 0, 1 absent, -1 logged. */
int sk_proc_find(int pid, int family, int type, uint64_t ino, struct sk_proc *s);

/* criu/files-sock.c */
struct fd_probe;
/* Family, type, protocol of a probed socket (criu's copy); NULL skips one. -1 logged. */
int sk_probe(const struct fd_probe *p, int *family, int *type, int *proto);
#define SK_OPTS_TABLE		256	/* options criu knows, at most */
#define SK_DEFAULTS_ROWS	8	/* kinds of sockets remembered */

/* One option's value: an integer, or up to 64 bytes (a name, a key, a struct). */
struct sk_opt_val {
	int64_t		i;
	uint32_t	len;
	unsigned char	b[64];
};

/* The options of a fresh socket of one kind (family 0: row unused). */
struct sk_defaults {
	int			family, type, proto;
	uint64_t		have[SK_OPTS_TABLE / 64];	/* bit per option it reads */
	struct sk_opt_val	val[SK_OPTS_TABLE];
};

/* Kept by a socket kind for the whole dump; starts zeroed. */
struct sk_opt_cache {
	struct sk_defaults	row[SK_DEFAULTS_ROWS];
};

/*
 * Options of @fd (fd @tfd in the task, for messages) that differ from a
 * fresh socket of its kind (read once into @c). One the table refuses
 * (a socket filter, TCP_ULP, UDP_ENCAP, TCP_REPAIR, ...) fails it, logged.
 */
int sk_opts_dump(struct sk_opt_cache *c, int fd, int tfd, int family, int type, int proto,
		 SkOpt ***opts, size_t *nr);
/*
 * A pending error (SO_ERROR: an ICMP unreachable, a unix peer gone with
 * data unread) or error queue entries: refused, logged. Called before
 * anything reads from the socket (a read would take the error).
 */
int sk_check_error(int fd, int tfd);
int sk_opts_check(SkOpt *const *opts, size_t nr, const char *img, uint32_t id);
/*
 * Set on @fd, in the table's order; -1 logged. Called twice: @late false
 * before bind/connect/listen, @late true once the socket is connected and
 * its queue filled (buffer sizes, SO_PASSCRED, SO_BUF_LOCK ...); the late
 * call then reads every option back: one that is not what the dump saw
 * fails the restore.
 */
int sk_opts_restore(int fd, SkOpt *const *opts, size_t nr, bool late);
/* The table's name of an option, NULL if criu does not know it (tests). */
const char *sk_opt_name(int level, int name);
/* getsockopt(SOL_SOCKET) of an int; -1 logged. */
int sk_getint(int fd, int opt, int *val);
/* O_NONBLOCK of a socket file; -1 logged (closes nothing). */
int sk_set_flags(int fd, uint32_t flags);
/* "stream", "dgram", ... for messages. */
const char *sk_type_str(unsigned int type);

#endif /* CRIU_SOCKETS_H */
