/*
 * Sockets: the sock_diag parsers on crafted answers (short, malformed,
 * other families), the same parsers on what this kernel says about real
 * sockets, socket options dumped and set again, and the validation of
 * unix-sks.img / inet-sks.img entries read back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <linux/filter.h>
#include <linux/inet_diag.h>
#include <linux/netlink_diag.h>
#include <linux/if_packet.h>
#include <linux/packet_diag.h>
#include <net/if.h>
#include <linux/sock_diag.h>
#include <linux/rtnetlink.h>
#include <linux/unix_diag.h>

#include "unit.h"
#include "kernel-compat.h"
#include "files.h"
#include "image.h"
#include "log.h"
#include "sockets.h"
#include "sk-mcast.h"
#include "udp-queue.h"
#include "sk-inet.pb-c.h"
#include "sk-netlink.pb-c.h"
#include "sk-packet.pb-c.h"
#include "sk-unix.pb-c.h"

/* ---- crafted netlink answers ----------------------------------------------------------- */

struct msg {
	union {
		struct nlmsghdr	h;
		char		buf[1024];
	};
};

static void msg_init(struct msg *m, const void *body, size_t len)
{
	memset(m, 0, sizeof(*m));
	memcpy(NLMSG_DATA(&m->h), body, len);
	m->h.nlmsg_len = NLMSG_LENGTH(len);
}

static void msg_attr(struct msg *m, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)(m->buf + NLMSG_ALIGN(m->h.nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	m->h.nlmsg_len = NLMSG_ALIGN(m->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static int test_parse_unix(void)
{
	struct unix_diag_msg um = { .udiag_family = AF_UNIX, .udiag_type = SOCK_SEQPACKET,
				    .udiag_state = 10, .udiag_ino = 4242 };
	struct unix_diag_rqlen rq = { .udiag_rqueue = 2, .udiag_wqueue = 128 };
	struct unix_diag_vfs vfs = { .udiag_vfs_ino = 77, .udiag_vfs_dev = 0x800001 };
	uint32_t peer = 4343, icons[2] = { 1, 2 };
	uint8_t shut = 3;
	struct sk_unix_diag u;
	struct msg m;

	msg_init(&m, &um, sizeof(um));
	msg_attr(&m, UNIX_DIAG_NAME, "\0abstract", 9);
	msg_attr(&m, UNIX_DIAG_PEER, &peer, sizeof(peer));
	msg_attr(&m, UNIX_DIAG_RQLEN, &rq, sizeof(rq));
	msg_attr(&m, UNIX_DIAG_ICONS, icons, sizeof(icons));
	msg_attr(&m, UNIX_DIAG_VFS, &vfs, sizeof(vfs));
	msg_attr(&m, UNIX_DIAG_SHUTDOWN, &shut, 1);
	msg_attr(&m, 200, "ignored", 7);
	CHECK(sk_diag_parse_unix(&m.h, &u) == 0);
	CHECK(u.ino == 4242 && u.type == SOCK_SEQPACKET && u.state == 10 && u.peer == 4343);
	CHECK(u.name_len == 9 && !memcmp(u.name, "\0abstract", 9));
	CHECK(u.rqueue == 2 && u.wqueue == 128 && u.nr_icons == 2 && u.shutdown == 3);
	CHECK(u.has_vfs && u.vfs_ino == 77 && u.vfs_dev == 0x800001);
	return 0;
}

static int test_parse_unix_bad(void)
{
	struct unix_diag_msg um = { .udiag_family = AF_UNIX, .udiag_ino = 1 };
	char name[SK_NAME_MAX + 1] = "/too/long";
	struct sk_unix_diag u;
	struct msg m;

	msg_init(&m, &um, sizeof(um));
	m.h.nlmsg_len = NLMSG_LENGTH(sizeof(um) - 1);
	CHECK(sk_diag_parse_unix(&m.h, &u) == -1);		/* short header */
	msg_init(&m, &um, sizeof(um));
	msg_attr(&m, UNIX_DIAG_NAME, name, sizeof(name));
	CHECK(sk_diag_parse_unix(&m.h, &u) == -1);		/* name over sun_path */
	msg_init(&m, &um, sizeof(um));
	msg_attr(&m, UNIX_DIAG_PEER, "ab", 2);
	CHECK(sk_diag_parse_unix(&m.h, &u) == -1);		/* short peer */
	msg_init(&m, &um, sizeof(um));
	msg_attr(&m, UNIX_DIAG_RQLEN, "abcd", 4);
	CHECK(sk_diag_parse_unix(&m.h, &u) == -1);		/* short rqlen */
	um.udiag_family = AF_INET;
	msg_init(&m, &um, sizeof(um));
	CHECK(sk_diag_parse_unix(&m.h, &u) == 1);		/* not ours */
	um.udiag_family = AF_UNIX;
	msg_init(&m, &um, sizeof(um));
	msg_attr(&m, UNIX_DIAG_PEER, "abcd", 4);
	((struct rtattr *)(m.buf + NLMSG_LENGTH(sizeof(um))))->rta_len = 200;	/* past the end */
	CHECK(sk_diag_parse_unix(&m.h, &u) == 0 && u.peer == 0);	/* attribute not taken */
	return 0;
}

static int test_parse_inet(void)
{
	struct inet_diag_msg im = { .idiag_family = AF_INET6, .idiag_state = 10,
				    .idiag_rqueue = 0, .idiag_wqueue = 511, .idiag_inode = 99 };
	struct sk_inet_diag s;
	uint8_t one = 1, shut = 2, md5[100] = { 0 };	/* one struct tcp_diag_md5sig */
	struct msg m;

	im.id.idiag_sport = htons(8080);
	im.id.idiag_src[3] = htonl(1);
	msg_init(&m, &im, sizeof(im));
	msg_attr(&m, INET_DIAG_SHUTDOWN, &shut, 1);
	msg_attr(&m, INET_DIAG_SKV6ONLY, &one, 1);
	msg_attr(&m, INET_DIAG_MD5SIG, md5, sizeof(md5));
	CHECK(sk_diag_parse_inet(&m.h, IPPROTO_TCP, &s) == 0);
	CHECK(s.ino == 99 && s.family == AF_INET6 && s.proto == IPPROTO_TCP && s.state == 10);
	CHECK(s.sport == 8080 && s.wqueue == 511 && s.shutdown == 2 && s.v6only == 1 && s.md5);
	CHECK(s.src[15] == 1);
	msg_init(&m, &im, sizeof(im));
	CHECK(sk_diag_parse_inet(&m.h, IPPROTO_TCP, &s) == 0 && s.v6only == -1 && !s.md5);
	msg_attr(&m, INET_DIAG_SHUTDOWN, &shut, 0);
	CHECK(sk_diag_parse_inet(&m.h, IPPROTO_TCP, &s) == -1);	/* empty attribute */
	m.h.nlmsg_len = NLMSG_LENGTH(8);
	CHECK(sk_diag_parse_inet(&m.h, IPPROTO_TCP, &s) == -1);	/* short */
	im.idiag_family = AF_UNIX;
	msg_init(&m, &im, sizeof(im));
	CHECK(sk_diag_parse_inet(&m.h, IPPROTO_TCP, &s) == 1);
	return 0;
}

/* ---- what the kernel says about real sockets ------------------------------------------- */

static uint64_t ino_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

static int test_diag_unix_live(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	const struct sk_unix_diag *u, *v;
	struct sk_diag t = { 0 };
	int sv[2], l, c, err, ret = -1;
	socklen_t len;

	snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "criu-test-sockets-%d", getpid());
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(a.sun_path + 1));
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) || bind(l, (struct sockaddr *)&a, len) ||
	    listen(l, 9) || connect(c, (struct sockaddr *)&a, len) || shutdown(sv[0], SHUT_WR))
		goto out;
	u = sk_diag_unix(&t, ino_of(sv[0]), &err);
	v = sk_diag_unix(&t, ino_of(sv[1]), &err);
	CHECK(u && v && u->peer == v->ino && v->peer == u->ino && u->type == SOCK_DGRAM);
	CHECK(u->shutdown == 2 && !u->name_len);
	u = sk_diag_unix(&t, ino_of(l), &err);
	CHECK(u && u->state == 10 && u->wqueue == 9 && u->nr_icons == 1 && u->rqueue == 1);
	CHECK(u->name_len == len - offsetof(struct sockaddr_un, sun_path) &&
	      !memcmp(u->name, a.sun_path, u->name_len));
	CHECK(!sk_diag_unix(&t, 1, &err) && !err);
	ret = 0;
out:
	sk_diag_free(&t);
	close(l);
	close(c);
	return ret;
}

static int test_diag_inet_live(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	const struct sk_inet_diag *s;
	struct sk_diag t = { 0 };
	int l = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0), err;
	socklen_t len = sizeof(a);

	CHECK(l >= 0 && u >= 0);
	CHECK(!bind(l, (struct sockaddr *)&a, sizeof(a)) && !listen(l, 33));
	CHECK(!getsockname(l, (struct sockaddr *)&a, &len) && !bind(u, (struct sockaddr *)&a, len));
	s = sk_diag_inet(&t, AF_INET, IPPROTO_TCP, ino_of(l), &err);
	CHECK(s && s->state == 10 && s->wqueue == 33 && s->sport == ntohs(a.sin_port));
	CHECK(s->src[0] == 127 && s->rqueue == 0);
	s = sk_diag_inet(&t, AF_INET, IPPROTO_UDP, ino_of(u), &err);
	CHECK(s && s->proto == IPPROTO_UDP && s->sport == ntohs(a.sin_port));
	CHECK(!sk_diag_inet(&t, AF_INET6, IPPROTO_TCP, ino_of(l), &err) && !err);
	sk_diag_free(&t);
	close(l);
	close(u);
	return 0;
}

/* ---- options --------------------------------------------------------------------------- */

static int getint(int fd, int level, int opt)
{
	socklen_t len = sizeof(int);
	int v = -1;

	getsockopt(fd, level, opt, &v, &len);
	return v;
}

static struct sk_opt_cache cache;

static int test_opts_roundtrip(void)
{
	int a = socket(AF_INET, SOCK_STREAM, 0), b = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1, buf = 123456, prio = 3, defer = 5, uto = 7000;
	struct linger lg = { 1, 9 }, got;
	socklen_t len = sizeof(got);
	SkOpt **o;
	size_t nr, i;

	CHECK(a >= 0 && b >= 0);
	CHECK(!setsockopt(a, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	CHECK(!setsockopt(a, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf)));
	CHECK(!setsockopt(a, SOL_SOCKET, SO_PRIORITY, &prio, sizeof(prio)));
	CHECK(!setsockopt(a, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)));
	CHECK(!setsockopt(a, SOL_TCP, TCP_NODELAY, &one, sizeof(one)));
	CHECK(!setsockopt(a, SOL_TCP, TCP_DEFER_ACCEPT, &defer, sizeof(defer)));
	CHECK(!setsockopt(a, SOL_TCP, TCP_USER_TIMEOUT, &uto, sizeof(uto)));
	CHECK(!setsockopt(a, SOL_IP, IP_PKTINFO, &one, sizeof(one)));
	CHECK(!setsockopt(a, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)));
	CHECK(!sk_opts_dump(&cache, a, 3, AF_INET, SOCK_STREAM, IPPROTO_TCP, &o, &nr));
	CHECK(nr == 10);	/* and SO_BUF_LOCK, which SO_RCVBUF set */
	CHECK(!sk_opts_check(o, nr, "test", 1));
	CHECK(!sk_opts_restore(b, o, nr, false) && !sk_opts_restore(b, o, nr, true));
	CHECK(getint(b, SOL_SOCKET, SO_REUSEADDR) == 1 && getint(b, SOL_SOCKET, SO_PRIORITY) == 3);
	CHECK(getint(b, SOL_SOCKET, SO_RCVBUF) == getint(a, SOL_SOCKET, SO_RCVBUF));
	CHECK(getint(b, SOL_TCP, TCP_NODELAY) == 1);
	CHECK(getint(b, SOL_TCP, TCP_DEFER_ACCEPT) == getint(a, SOL_TCP, TCP_DEFER_ACCEPT));
	CHECK(getint(b, SOL_TCP, TCP_USER_TIMEOUT) == 7000 && getint(b, SOL_IP, IP_PKTINFO) == 1);
	CHECK(getint(b, SOL_SOCKET, SO_TIMESTAMPNS) == 1);
	CHECK(!getsockopt(b, SOL_SOCKET, SO_LINGER, &got, &len) && got.l_onoff && got.l_linger == 9);
	for (i = 0; i < nr; i++)
		if (o[i]->opt == (SOL_SOCKET << 16 | SO_RCVBUF))
			o[i]->val |= 1;	/* the kernel keeps sizes even: reads back otherwise */
	CHECK(sk_opts_restore(b, o, nr, true) == -1);
	o[0]->opt = 0xffff;
	CHECK(sk_opts_check(o, nr, "test", 1) == -1);	/* unknown */
	o[0]->opt = SOL_SOCKET << 16 | SO_PRIORITY;
	o[0]->val = (int64_t)1 << 40;
	CHECK(sk_opts_check(o, nr, "test", 1) == -1);	/* out of range */
	for (i = 0; i < nr; i++)
		free(o[i]);
	free(o);
	close(a);
	close(b);
	return 0;
}

static int test_opts_filter(void)
{
	struct sock_filter code[] = { BPF_STMT(BPF_RET | BPF_K, 0xffff) };
	struct sock_fprog prog = { .len = 1, .filter = code };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	socklen_t len = 1;
	SkOpt **o = NULL;
	size_t nr = 0;

	CHECK(fd >= 0);
	CHECK(!sk_opts_dump(&cache, fd, 3, AF_INET, SOCK_DGRAM, IPPROTO_UDP, &o, &nr) && nr == 0);
	free(o);
	CHECK(!setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)));
	/* a classic filter: its program kept, attached again, read back */
	CHECK(!sk_opts_dump(&cache, fd, 3, AF_INET, SOCK_DGRAM, IPPROTO_UDP, &o, &nr) && nr == 1);
	CHECK(o[0]->has_data && o[0]->val == 1 && o[0]->data.len == sizeof(code) &&
	      !memcmp(o[0]->data.data, code, sizeof(code)));
	CHECK(!sk_opts_check(o, nr, "test", 1));
	close(fd);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(fd >= 0 && !sk_opts_restore(fd, o, nr, false) && !sk_opts_restore(fd, o, nr, true));
	code[0].k = 0;	/* what the restore attached */
	CHECK(getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, code, &len) == 0 && len == 1 &&
	      code[0].k == 0xffff);
	o[0]->val = 2;	/* a count that does not match the bytes */
	CHECK(sk_opts_check(o, nr, "test", 1) == -1);
	o[0]->val = 1;
	o[0]->data.len = 0;
	CHECK(sk_opts_check(o, nr, "test", 1) == -1);
	o[0]->data.len = sizeof(code);
	protobuf_c_message_free_unpacked(&o[0]->base, NULL);
	free(o);
	close(fd);
	return 0;
}


/* ---- the option table against this kernel ------------------------------------------------ */

struct kind {
	int		family, type, proto;
	const char	*name;
};

static const struct kind kinds[] = {
	{ AF_UNIX, SOCK_STREAM, 0, "unix stream" },
	{ AF_UNIX, SOCK_DGRAM, 0, "unix dgram" },
	{ AF_UNIX, SOCK_SEQPACKET, 0, "unix seqpacket" },
	{ AF_INET, SOCK_STREAM, IPPROTO_TCP, "tcp4" },
	{ AF_INET6, SOCK_STREAM, IPPROTO_TCP, "tcp6" },
	{ AF_INET, SOCK_DGRAM, IPPROTO_UDP, "udp4" },
	{ AF_INET6, SOCK_DGRAM, IPPROTO_UDP, "udp6" },
	{ AF_INET, SOCK_DGRAM, IPPROTO_UDPLITE, "udplite4" },
	{ AF_INET6, SOCK_DGRAM, IPPROTO_UDPLITE, "udplite6" },
	{ AF_INET, SOCK_RAW, IPPROTO_ICMP, "raw4 icmp" },
	{ AF_INET, SOCK_RAW, IPPROTO_RAW, "raw4 raw" },
	{ AF_INET, SOCK_RAW, IPPROTO_UDP, "raw4 udp" },
	{ AF_INET6, SOCK_RAW, IPPROTO_ICMPV6, "raw6 icmpv6" },
	{ AF_INET6, SOCK_RAW, IPPROTO_RAW, "raw6 raw" },
	{ AF_INET6, SOCK_RAW, IPPROTO_UDP, "raw6 udp" },
	{ AF_INET, SOCK_DGRAM, IPPROTO_ICMP, "ping4" },
	{ AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6, "ping6" },
	{ AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, "netlink route" },
	{ AF_NETLINK, SOCK_DGRAM, NETLINK_GENERIC, "netlink generic" },
	{ AF_PACKET, SOCK_RAW, 0, "packet raw" },
	{ AF_PACKET, SOCK_DGRAM, 0, "packet dgram" },
};

/*
 * Ping sockets need the caller's group in net.ipv4.ping_group_range: the
 * kind tests open it to root and put the old range back.
 */
static char ping_range[64];

static int ping_open(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ping_group_range", "r+");

	if (!f)
		return -1;
	if (!fgets(ping_range, sizeof(ping_range), f) || fseek(f, 0, SEEK_SET) ||
	    fputs("0 0\n", f) < 0) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

static int ping_close(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ping_group_range", "w");

	if (!f)
		return -1;
	fputs(ping_range, f);
	return fclose(f);
}

/*
 * Every option getsockopt() reads on a fresh socket of each kind criu
 * carries is in the table (kept, refused or known not to be an option):
 * an option a newer kernel adds fails here until it is placed.
 */
static int test_opts_table_complete(void)
{
	static const int levels[] = { SOL_SOCKET, SOL_IP, SOL_IPV6, SOL_TCP, SOL_UDP, SOL_RAW,
				      SOL_ICMPV6, SOL_NETLINK, SOL_PACKET };
	size_t k, l;
	int name, missing = 0;

	CHECK(!ping_open());
	for (k = 0; k < ARRAY_SIZE(kinds); k++) {
		int fd = socket(kinds[k].family, kinds[k].type, kinds[k].proto);

		CHECK(fd >= 0);
		for (l = 0; l < ARRAY_SIZE(levels); l++)
			for (name = 0; name < 128; name++) {
				unsigned char buf[512];
				socklen_t len = sizeof(buf);

				if (getsockopt(fd, levels[l], name, buf, &len) ||
				    sk_opt_name(levels[l], name))
					continue;
				fprintf(stderr, "%s: option %d of level %d is readable, not in "
					"the table\n", kinds[k].name, name, levels[l]);
				missing++;
			}
		close(fd);
	}
	CHECK(!ping_close());
	CHECK(missing == 0);
	return 0;
}

/*
 * A fresh socket of each kind has nothing to keep but what is always kept:
 * IPV6_V6ONLY, the unix SO_PASSCRED, SO_PASSSEC, SO_PASSPIDFD, SO_PASSRIGHTS
 * (netlink: the first two).
 */
static int test_opts_fresh(void)
{
	size_t k, i;

	CHECK(!ping_open());
	for (k = 0; k < ARRAY_SIZE(kinds); k++) {
		const struct kind *d = &kinds[k];
		int fd = socket(d->family, d->type, d->proto);
		size_t nr, want = d->family == AF_INET6 ? 1 : d->family == AF_UNIX ? 4 :
			     d->family == AF_NETLINK ? 2 : 0;	/* SO_PASSCRED, SO_PASSSEC */
		SkOpt **o;

		CHECK(fd >= 0);
		CHECK(!sk_opts_dump(&cache, fd, 3, d->family, d->type, d->proto, &o, &nr));
		if (nr != want)
			fprintf(stderr, "%s: %zu options kept of a fresh socket, first %#x\n", d->name,
				nr, nr ? o[0]->opt : 0);
		CHECK(nr == want);
		for (i = 0; i < nr; i++)
			sk_opt__free_unpacked(o[i], NULL);
		free(o);
		close(fd);
	}
	CHECK(!ping_close());
	return 0;
}

/* Names, keys and 64-bit values; SO_BUF_LOCK after the sizes; refused options. */
static int test_opts_bytes(void)
{
	int a = socket(AF_INET, SOCK_STREAM, 0), b = socket(AF_INET, SOCK_STREAM, 0);
	unsigned char key[16] = "0123456789abcdef", got[32];
	uint64_t rate = 123456789, grate = 0;
	int big = 8 << 20, lock = 2, one = 1;
	socklen_t len;
	SkOpt **o;
	size_t nr, i;

	CHECK(a >= 0 && b >= 0);
	CHECK(!setsockopt(a, SOL_SOCKET, SO_BINDTODEVICE, "lo", 2));
	CHECK(!setsockopt(a, SOL_TCP, TCP_CONGESTION, "reno", 4));
	CHECK(!setsockopt(a, SOL_TCP, TCP_FASTOPEN_KEY, key, sizeof(key)));
	CHECK(!setsockopt(a, SOL_SOCKET, SO_MAX_PACING_RATE, &rate, sizeof(rate)));
	CHECK(!setsockopt(a, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)));	/* over wmem_max */
	CHECK(!setsockopt(a, SOL_SOCKET, SO_BUF_LOCK, &lock, sizeof(lock)));
	CHECK(!setsockopt(a, SOL_TCP, TCP_CORK, &one, sizeof(one)));
	CHECK(!sk_opts_dump(&cache, a, 3, AF_INET, SOCK_STREAM, IPPROTO_TCP, &o, &nr));
	CHECK(nr == 7);
	CHECK(!sk_opts_check(o, nr, "test", 1));
	CHECK(!sk_opts_restore(b, o, nr, false) && !sk_opts_restore(b, o, nr, true));
	len = sizeof(got);
	CHECK(!getsockopt(b, SOL_SOCKET, SO_BINDTODEVICE, got, &len) && !strcmp((char *)got, "lo"));
	len = sizeof(got);
	CHECK(!getsockopt(b, SOL_TCP, TCP_CONGESTION, got, &len) && !strcmp((char *)got, "reno"));
	len = sizeof(got);
	CHECK(!getsockopt(b, SOL_TCP, TCP_FASTOPEN_KEY, got, &len) && len == 16 &&
	      !memcmp(got, key, 16));
	len = sizeof(grate);
	CHECK(!getsockopt(b, SOL_SOCKET, SO_MAX_PACING_RATE, &grate, &len) && grate == rate);
	CHECK(getint(b, SOL_SOCKET, SO_SNDBUF) == getint(a, SOL_SOCKET, SO_SNDBUF));
	CHECK(getint(b, SOL_SOCKET, SO_BUF_LOCK) == 2 && getint(b, SOL_TCP, TCP_CORK) == 1);
	for (i = 0; i < nr; i++)
		sk_opt__free_unpacked(o[i], NULL);
	free(o);
	CHECK(!setsockopt(a, SOL_TCP, TCP_REPAIR, &one, sizeof(one)));
	CHECK(sk_opts_dump(&cache, a, 3, AF_INET, SOCK_STREAM, IPPROTO_TCP, &o, &nr) == -1);
	for (i = 0; i < nr; i++)
		sk_opt__free_unpacked(o[i], NULL);
	free(o);
	close(a);
	close(b);
	return 0;
}

/* More options than the old limit of 64 on one socket: all kept, checked, set, read back. */
static int test_opts_many(void)
{
	static const int on[][2] = {
		{ SOL_SOCKET, SO_DEBUG }, { SOL_SOCKET, SO_REUSEADDR }, { SOL_SOCKET, SO_DONTROUTE },
		{ SOL_SOCKET, SO_BROADCAST }, { SOL_SOCKET, SO_KEEPALIVE }, { SOL_SOCKET, SO_OOBINLINE },
		{ SOL_SOCKET, SO_NO_CHECK }, { SOL_SOCKET, SO_REUSEPORT }, { SOL_SOCKET, SO_TIMESTAMP },
		{ SOL_SOCKET, SO_RXQ_OVFL }, { SOL_SOCKET, SO_WIFI_STATUS }, { SOL_SOCKET, SO_NOFCS },
		{ SOL_SOCKET, SO_LOCK_FILTER }, { SOL_SOCKET, SO_SELECT_ERR_QUEUE },
		{ SOL_SOCKET, SO_RCVMARK }, { SOL_SOCKET, SO_RCVPRIORITY },	/* not SO_ZEROCOPY: refused on UDP */
		{ SOL_SOCKET, SO_PREFER_BUSY_POLL }, { SOL_SOCKET, SO_PRIORITY }, { SOL_SOCKET, SO_MARK },
		{ SOL_IP, IP_RECVOPTS }, { SOL_IP, IP_RETOPTS }, { SOL_IP, IP_PKTINFO },
		{ SOL_IP, IP_RECVERR }, { SOL_IP, IP_RECVTTL }, { SOL_IP, IP_RECVTOS },
		{ SOL_IP, IP_FREEBIND }, { SOL_IP, IP_PASSSEC }, { SOL_IP, IP_TRANSPARENT },
		{ SOL_IP, IP_RECVORIGDSTADDR }, { SOL_IP, IP_CHECKSUM }, { SOL_IP, IP_BIND_ADDRESS_NO_PORT },
		{ SOL_IP, IP_RECVFRAGSIZE }, { SOL_IP, IP_RECVERR_RFC4884 }, { SOL_IP, IP_MULTICAST_ALL },
		{ SOL_IP, IP_TOS }, { SOL_IP, IP_TTL }, { SOL_IP, IP_MINTTL },
		{ SOL_IPV6, IPV6_2292PKTINFO }, { SOL_IPV6, IPV6_2292HOPOPTS },
		{ SOL_IPV6, IPV6_2292DSTOPTS }, { SOL_IPV6, IPV6_2292RTHDR }, { SOL_IPV6, IPV6_2292HOPLIMIT },
		{ SOL_IPV6, IPV6_FLOWINFO }, { SOL_IPV6, IPV6_RECVERR }, { SOL_IPV6, IPV6_V6ONLY },
		{ SOL_IPV6, IPV6_ROUTER_ALERT_ISOLATE }, { SOL_IPV6, IPV6_RECVERR_RFC4884 },
		{ SOL_IPV6, IPV6_FLOWINFO_SEND }, { SOL_IPV6, IPV6_RECVPKTINFO },
		{ SOL_IPV6, IPV6_RECVHOPLIMIT }, { SOL_IPV6, IPV6_RECVHOPOPTS }, { SOL_IPV6, IPV6_RECVRTHDR },
		{ SOL_IPV6, IPV6_RECVDSTOPTS }, { SOL_IPV6, IPV6_RECVPATHMTU }, { SOL_IPV6, IPV6_DONTFRAG },
		{ SOL_IPV6, IPV6_RECVTCLASS }, { SOL_IPV6, IPV6_RECVORIGDSTADDR },
		{ SOL_IPV6, IPV6_TRANSPARENT }, { SOL_IPV6, IPV6_RECVFRAGSIZE }, { SOL_IPV6, IPV6_FREEBIND },
		{ SOL_IPV6, IPV6_TCLASS }, { SOL_IPV6, IPV6_UNICAST_HOPS }, { SOL_IPV6, IPV6_MINHOPCOUNT },
		{ SOL_UDP, UDP_CORK }, { SOL_UDP, UDP_NO_CHECK6_TX }, { SOL_UDP, UDP_NO_CHECK6_RX },
		{ SOL_UDP, UDP_GRO },
	};
	int a = socket(AF_INET6, SOCK_DGRAM, 0), b = socket(AF_INET6, SOCK_DGRAM, 0), one = 1;
	SkOpt **o;
	size_t nr, i;

	CHECK(a >= 0 && b >= 0);
	for (i = 0; i < ARRAY_SIZE(on); i++)
		CHECK(!setsockopt(a, on[i][0], on[i][1], &one, sizeof(one)));
	CHECK(!sk_opts_dump(&cache, a, 3, AF_INET6, SOCK_DGRAM, IPPROTO_UDP, &o, &nr));
	CHECK(nr > 64);	/* and IPV6_V6ONLY; one of them is on on a fresh socket */
	CHECK(!sk_opts_check(o, nr, "test", 1));
	CHECK(!sk_opts_restore(b, o, nr, false) && !sk_opts_restore(b, o, nr, true));
	for (i = 0; i < ARRAY_SIZE(on); i++)
		CHECK(getint(b, on[i][0], on[i][1]) == getint(a, on[i][0], on[i][1]));
	for (i = 0; i < nr; i++)
		sk_opt__free_unpacked(o[i], NULL);
	free(o);
	close(a);
	close(b);
	return 0;
}

/* ---- image validation ------------------------------------------------------------------- */

static char scratch[] = "/tmp/criu-test-sockets.XXXXXX";

/* Write @nr unix entries and read them back as a restore would: 0 or -1. */
static int read_back_nl(NetlinkSkEntry *e)
{
	ProtobufCMessage *v[1] = { &e->base };
	struct fd_rst r = { 0 };
	int dirfd = open(scratch, O_RDONLY | O_DIRECTORY), ret;

	unlinkat(dirfd, "unix-sks.img", 0);
	unlinkat(dirfd, "inet-sks.img", 0);
	unlinkat(dirfd, "netlink-sks.img", 0);
	ret = fd_write_entries(dirfd, IMG_NETLINK_SKS, v, 1) ? -2 : fd_rst_read(&r, dirfd);
	fd_rst_free(&r);
	unlinkat(dirfd, "netlink-sks.img", 0);
	close(dirfd);
	return ret;
}

static int read_back_pk(PacketSkEntry *e)
{
	ProtobufCMessage *v[1] = { &e->base };
	struct fd_rst r = { 0 };
	int dirfd = open(scratch, O_RDONLY | O_DIRECTORY), ret;

	ret = fd_write_entries(dirfd, IMG_PACKET_SKS, v, 1) ? -2 : fd_rst_read(&r, dirfd);
	fd_rst_free(&r);
	unlinkat(dirfd, "packet-sks.img", 0);
	close(dirfd);
	return ret;
}

static int read_back(int kind, UnixSkEntry *u, InetSkEntry *in, size_t nr)
{
	ProtobufCMessage *v[4];
	struct fd_rst r = { 0 };
	int dirfd = open(scratch, O_RDONLY | O_DIRECTORY), ret;
	size_t i;

	for (i = 0; i < nr; i++)
		v[i] = kind == IMG_UNIX_SKS ? &u[i].base : &in[i].base;
	unlinkat(dirfd, "unix-sks.img", 0);
	unlinkat(dirfd, "inet-sks.img", 0);
	ret = fd_write_entries(dirfd, kind, v, nr) ? -2 : fd_rst_read(&r, dirfd);
	fd_rst_free(&r);
	close(dirfd);
	return ret;
}

static void unix_pair(UnixSkEntry *u)
{
	int i;

	for (i = 0; i < 2; i++) {
		unix_sk_entry__init(&u[i]);
		u[i].id = 10 + i;
		u[i].ino = 100 + i;
		u[i].type = SOCK_STREAM;
		u[i].state = 1;
		u[i].has_peer = true;
		u[i].peer = 11 - i;
	}
}

static int test_unix_img(void)
{
	ProtobufCBinaryData q = { 3, (uint8_t *)"abc" };
	UnixSkEntry u[2];

	if (!mkdtemp(scratch))
		return -1;
	unix_pair(u);
	CHECK(read_back(IMG_UNIX_SKS, u, NULL, 2) == 0);
	u[1].peer = 12;
	CHECK(read_back(IMG_UNIX_SKS, u, NULL, 2) == -1);	/* peer missing */
	unix_pair(u);
	u[1].has_peer = false;
	CHECK(read_back(IMG_UNIX_SKS, u, NULL, 2) == -1);	/* stream peer not pointing back */
	unix_pair(u);
	u[0].state = 10;
	u[0].has_peer = false;
	u[0].has_backlog = true;
	CHECK(read_back(IMG_UNIX_SKS, u, NULL, 1) == -1);	/* listening without a name */
	u[0].has_name = true;
	u[0].name.len = 4;
	u[0].name.data = (uint8_t *)"rel!";
	CHECK(read_back(IMG_UNIX_SKS, u, NULL, 1) == -1);	/* relative path */
	u[0].name.data = (uint8_t *)"/ok!";
	CHECK(read_back(IMG_UNIX_SKS, u, NULL, 1) == 0);
	u[0].n_queue = 1;
	u[0].queue = &q;
	CHECK(read_back(IMG_UNIX_SKS, u, NULL, 1) == -1);	/* data on a listener */
	unix_pair(u);
	u[0].type = SOCK_DGRAM;
	u[0].state = 7;
	u[0].has_peer = false;
	u[0].n_queue = 1;
	u[0].queue = &q;
	CHECK(read_back(IMG_UNIX_SKS, u, NULL, 1) == -1);	/* queue, no sender can resend */
	u[0].has_queue_unnamed = u[0].queue_unnamed = true;
	CHECK(read_back(IMG_UNIX_SKS, u, NULL, 1) == -1);	/* ... nor a name to send to */
	u[0].has_name = true;
	u[0].name.len = 5;
	u[0].name.data = (uint8_t *)"\0abcd";
	CHECK(read_back(IMG_UNIX_SKS, u, NULL, 1) == 0);	/* unnamed senders, named socket */
	unix_pair(u);
	u[0].type = 9;
	CHECK(read_back(IMG_UNIX_SKS, u, NULL, 2) == -1);	/* unknown type */
	unix_pair(u);
	u[1].id = 10;
	u[1].peer = 10;
	CHECK(read_back(IMG_UNIX_SKS, u, NULL, 2) == -1);	/* own peer, id twice */
	return 0;
}

static int test_inet_img(void)
{
	SkOpt op = SK_OPT__INIT, *ops[1] = { &op };
	InetSkEntry e;
	uint8_t lo[4] = { 127, 0, 0, 1 };

	inet_sk_entry__init(&e);
	e.id = 5;
	e.family = AF_INET;
	e.type = SOCK_STREAM;
	e.proto = IPPROTO_TCP;
	e.state = 10;
	e.has_backlog = true;
	e.backlog = 5;
	e.has_src_addr = e.has_src_port = true;
	e.src_addr.len = 4;
	e.src_addr.data = lo;
	e.src_port = 8080;
	op.opt = SOL_TCP << 16 | TCP_CONGESTION;
	op.has_data = true;
	op.data.len = 4;
	op.data.data = (uint8_t *)"reno\0";
	CHECK(read_back(IMG_INET_SKS, NULL, &e, 1) == 0);
	e.src_port = 70000;
	CHECK(read_back(IMG_INET_SKS, NULL, &e, 1) == -1);	/* port */
	e.src_port = 8080;
	e.src_addr.len = 3;
	CHECK(read_back(IMG_INET_SKS, NULL, &e, 1) == -1);	/* address size */
	e.src_addr.len = 4;
	e.state = 1;
	CHECK(read_back(IMG_INET_SKS, NULL, &e, 1) == -1);	/* established TCP */
	e.state = 10;
	e.n_opts = 1;
	e.opts = ops;
	CHECK(read_back(IMG_INET_SKS, NULL, &e, 1) == 0);	/* TCP_CONGESTION "reno" */
	op.data.len = 5;
	CHECK(read_back(IMG_INET_SKS, NULL, &e, 1) == -1);	/* a NUL in a name */
	op.data.len = 4;
	op.has_data = false;
	CHECK(read_back(IMG_INET_SKS, NULL, &e, 1) == -1);	/* a name without its bytes */
	op.opt = SOL_TCP << 16 | TCP_REPAIR;
	op.val = 1;
	CHECK(read_back(IMG_INET_SKS, NULL, &e, 1) == -1);	/* one the dump refuses */
	op.opt = SOL_SOCKET << 16 | SO_COOKIE;
	CHECK(read_back(IMG_INET_SKS, NULL, &e, 1) == -1);	/* read-only */
	e.n_opts = 0;
	e.proto = IPPROTO_SCTP;
	CHECK(read_back(IMG_INET_SKS, NULL, &e, 1) == -1);
	return 0;
}

/* inet-sks.img: a UDP socket's queued datagrams and multicast groups, good and bad. */
static int test_inet_img_udp(void)
{
	uint8_t lo[4] = { 127, 0, 0, 1 }, grp[4] = { 224, 1, 2, 3 }, src[4] = { 10, 0, 0, 1 };
	UdpDgram d = UDP_DGRAM__INIT, *dv[1] = { &d };
	McastGroup m = MCAST_GROUP__INIT, *mv[1] = { &m };
	ProtobufCBinaryData srcs[1] = { { 4, src } };
	InetSkEntry e;

	inet_sk_entry__init(&e);
	e.id = 6;
	e.family = AF_INET;
	e.type = SOCK_DGRAM;
	e.proto = IPPROTO_UDP;
	e.state = 7;
	e.has_src_addr = e.has_src_port = true;
	e.src_addr.len = 4;
	e.src_addr.data = lo;
	e.src_port = 5000;
	d.addr.len = 4;
	d.addr.data = src;
	d.port = 53;
	d.data.len = 2;
	d.data.data = (uint8_t *)"hi";
	e.n_rqueue = 1;
	e.rqueue = dv;
	m.ifindex = 1;
	m.group.len = 4;
	m.group.data = grp;
	m.fmode = MCAST_EXCLUDE;
	m.n_sources = 1;
	m.sources = srcs;
	e.n_mcast = 1;
	e.mcast = mv;
	CHECK(read_back(IMG_INET_SKS, NULL, &e, 1) == 0);
	d.port = 65536;
	CHECK(read_back(IMG_INET_SKS, NULL, &e, 1) == -1);	/* sender's port */
	d.port = 53;
	d.addr.len = 16;
	CHECK(read_back(IMG_INET_SKS, NULL, &e, 1) == -1);	/* sender's size */
	d.addr.len = 4;
	d.data.len = 65508;
	CHECK(read_back(IMG_INET_SKS, NULL, &e, 1) == -1);	/* more than IPv4 carries */
	d.data.len = 2;
	e.src_port = 0;
	CHECK(read_back(IMG_INET_SKS, NULL, &e, 1) == -1);	/* a queue and no port */
	e.src_port = 5000;
	e.src_addr.data = grp;
	CHECK(read_back(IMG_INET_SKS, NULL, &e, 1) == -1);	/* a queue on a group address */
	e.src_addr.data = lo;
	m.fmode = 2;
	CHECK(read_back(IMG_INET_SKS, NULL, &e, 1) == -1);	/* filter mode */
	m.fmode = MCAST_INCLUDE;
	m.n_sources = 0;
	CHECK(read_back(IMG_INET_SKS, NULL, &e, 1) == -1);	/* include nothing: not joined */
	m.n_sources = 1;
	srcs[0].len = 3;
	CHECK(read_back(IMG_INET_SKS, NULL, &e, 1) == -1);	/* source size */
	srcs[0].len = 4;
	m.group.len = 16;
	CHECK(read_back(IMG_INET_SKS, NULL, &e, 1) == -1);	/* an IPv6 group on IPv4 */
	m.group.len = 4;
	m.ifindex = 0;
	CHECK(read_back(IMG_INET_SKS, NULL, &e, 1) == -1);	/* no interface */
	m.ifindex = 1;
	e.type = SOCK_STREAM;
	e.proto = IPPROTO_TCP;
	e.n_mcast = 0;
	CHECK(read_back(IMG_INET_SKS, NULL, &e, 1) == -1);	/* a queue on TCP */
	return 0;
}

/* Lines of /proc/net/igmp and igmp6. */
static int test_igmp_parse(void)
{
	struct sockaddr_storage g;
	int ifindex = 0;

	CHECK(mcast_parse_line("Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n",
			       false, &ifindex, &g) == 0 && ifindex == 0);
	CHECK(mcast_parse_line("1\tlo        :     2      V3\n", false, &ifindex, &g) == 0);
	CHECK(ifindex == 1);
	CHECK(mcast_parse_line("\t\t\t\t030201E0     1 0:00000000\t\t0\n", false, &ifindex,
			       &g) == 1);
	CHECK(g.ss_family == AF_INET &&
	      ((struct sockaddr_in *)&g)->sin_addr.s_addr == htonl(0xe0010203));
	CHECK(mcast_parse_line("\t\t\t\tnothex     1 0:00000000\t\t0\n", false, &ifindex, &g) == 0);
	ifindex = 0;
	CHECK(mcast_parse_line("\t\t\t\t030201E0     1 0:00000000\t\t0\n", false, &ifindex,
			       &g) == 0);	/* no device line before it */
	CHECK(mcast_parse_line("1    lo              ff050000000000000000000000001234     1 "
			       "00000004 0\n", true, &ifindex, &g) == 1);
	CHECK(ifindex == 1 && g.ss_family == AF_INET6 &&
	      ((struct sockaddr_in6 *)&g)->sin6_addr.s6_addr[0] == 0xff &&
	      ((struct sockaddr_in6 *)&g)->sin6_addr.s6_addr[15] == 0x34);
	CHECK(mcast_parse_line("1    lo              ff0500000000\n", true, &ifindex, &g) == 0);
	CHECK(mcast_parse_line("0    lo              ff050000000000000000000000001234     1 "
			       "00000004 0\n", true, &ifindex, &g) == 0);
	return 0;
}

/* netlink-sks.img entries: good, then each field out of range. */
static int test_netlink_img(void)
{
	uint32_t groups[2] = { 0x14, 0x2 };
	NetlinkSkEntry e;

	netlink_sk_entry__init(&e);
	e.id = 9;
	e.protocol = NETLINK_USERSOCK;
	e.type = SOCK_RAW;
	e.has_portid = true;
	e.portid = 4242;
	e.n_groups = 2;
	e.groups = groups;
	e.has_dst_portid = e.has_dst_group = true;
	e.dst_group = 5;
	CHECK(read_back_nl(&e) == 0);
	e.protocol = 32;
	CHECK(read_back_nl(&e) == -1);
	e.protocol = NETLINK_USERSOCK;
	e.type = SOCK_STREAM;
	CHECK(read_back_nl(&e) == -1);
	e.type = SOCK_DGRAM;
	e.dst_group = 33;
	CHECK(read_back_nl(&e) == -1);
	e.dst_group = 5;
	e.has_portid = false;
	CHECK(read_back_nl(&e) == -1);	/* connected, never bound */
	e.has_portid = true;
	groups[1] = 0;
	CHECK(read_back_nl(&e) == -1);	/* a trailing empty word */
	groups[1] = 2;
	e.flags = O_APPEND;
	CHECK(read_back_nl(&e) == -1);
	return 0;
}

/* A crafted netlink diag answer; a live socket found by its inode with its groups. */
static int test_diag_netlink(void)
{
	struct netlink_diag_msg nm = { .ndiag_family = AF_NETLINK, .ndiag_protocol = 2,
				       .ndiag_state = 1, .ndiag_portid = 77, .ndiag_ino = 5 };
	uint32_t g[40] = { 0x10 }, mem[SK_MEMINFO_VARS] = { 0 }, flags = NDIAG_FLAG_CB_RUNNING;
	struct sockaddr_nl a = { .nl_family = AF_NETLINK, .nl_groups = 1u << 4 };
	const struct sk_netlink_diag *d;
	struct sk_netlink_diag s;
	struct sk_diag t = { 0 };
	struct msg m;
	struct stat st;
	int fd, err, grp = 40;

	msg_init(&m, &nm, sizeof(nm));
	msg_attr(&m, NETLINK_DIAG_GROUPS, g, 8);
	msg_attr(&m, NETLINK_DIAG_FLAGS, &flags, 4);
	mem[SK_MEMINFO_RMEM_ALLOC] = 99;
	msg_attr(&m, NETLINK_DIAG_MEMINFO, mem, sizeof(mem));
	CHECK(sk_diag_parse_netlink(&m.h, &s) == 0);
	CHECK(s.ino == 5 && s.portid == 77 && s.state == 1 && s.groups[0] == 0x10 &&
	      s.rmem == 99 && (s.flags & NDIAG_FLAG_CB_RUNNING) && !s.more_groups);
	g[35] = 1;	/* group 1121: beyond what is kept */
	msg_init(&m, &nm, sizeof(nm));
	msg_attr(&m, NETLINK_DIAG_GROUPS, g, sizeof(g));
	CHECK(sk_diag_parse_netlink(&m.h, &s) == 0 && s.more_groups);
	msg_init(&m, &nm, sizeof(nm));
	msg_attr(&m, NETLINK_DIAG_GROUPS, g, 6);	/* not whole words */
	CHECK(sk_diag_parse_netlink(&m.h, &s) == -1);
	nm.ndiag_family = AF_UNIX;
	msg_init(&m, &nm, sizeof(nm));
	CHECK(sk_diag_parse_netlink(&m.h, &s) == 1);

	fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_USERSOCK);
	CHECK(fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) && !fstat(fd, &st));
	CHECK(!setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)) || errno == EINVAL);
	d = sk_diag_netlink(&t, NETLINK_USERSOCK, st.st_ino, &err);
	CHECK(d && !err && d->portid && d->groups[0] == 1u << 4 && d->state != 1 && !d->rmem);
	CHECK(!sk_diag_netlink(&t, NETLINK_ROUTE, st.st_ino, &err) && !err);
	sk_diag_netlink(&t, 40, st.st_ino, &err);
	CHECK(err == -1);
	sk_diag_free(&t);
	close(fd);
	return 0;
}

/* packet-sks.img entries: good, then each field out of range. */
static int test_packet_img(void)
{
	uint8_t addr[33] = { 1, 0, 0x5e, 0, 0, 1 };
	PacketMc mc, *pmc[1] = { &mc };
	PacketSkEntry e;

	packet_sk_entry__init(&e);
	packet_mc__init(&mc);
	e.id = 11;
	e.type = SOCK_RAW;
	e.protocol = htons(0x88b5);
	e.ifindex = 1;
	e.has_fanout = true;
	e.fanout = 7 | (PACKET_FANOUT_LB | PACKET_FANOUT_FLAG_DEFRAG) << 16;
	mc.ifindex = 1;
	mc.type = PACKET_MR_MULTICAST;
	mc.addr.len = 6;
	mc.addr.data = addr;
	mc.count = 2;
	e.n_mclist = 1;
	e.mclist = pmc;
	CHECK(read_back_pk(&e) == 0);
	e.type = SOCK_PACKET;
	CHECK(read_back_pk(&e) == -1);
	e.type = SOCK_DGRAM;
	e.protocol = 0x10000;
	CHECK(read_back_pk(&e) == -1);
	e.protocol = 0;
	CHECK(read_back_pk(&e) == -1);	/* fanout of a socket hooked to nothing */
	e.protocol = htons(0x88b5);
	e.fanout = 7 | PACKET_FANOUT_CBPF << 16;
	CHECK(read_back_pk(&e) == -1);
	e.fanout = 7 | (PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_UNIQUEID) << 16;
	CHECK(read_back_pk(&e) == -1);
	e.has_fanout = false;
	mc.addr.len = 33;
	CHECK(read_back_pk(&e) == -1);
	mc.addr.len = 6;
	mc.count = 0;
	CHECK(read_back_pk(&e) == -1);
	mc.count = 1;
	mc.ifindex = 0;
	CHECK(read_back_pk(&e) == -1);
	mc.ifindex = 1;
	mc.type = 4;
	CHECK(read_back_pk(&e) == -1);
	mc.type = PACKET_MR_ALLMULTI;
	e.flags = O_APPEND;
	CHECK(read_back_pk(&e) == -1);
	e.flags = O_NONBLOCK;
	CHECK(read_back_pk(&e) == 0);
	return 0;
}

/* A crafted packet diag answer: every attribute, malformed ones, another family. */
static int test_parse_packet(void)
{
	struct packet_diag_msg pm = { .pdiag_family = AF_PACKET, .pdiag_type = SOCK_RAW,
				      .pdiag_num = 0x88b5, .pdiag_ino = 8 };
	struct packet_diag_info info = { .pdi_index = 1, .pdi_version = TPACKET_V3,
					 .pdi_reserve = 64, .pdi_copy_thresh = 1, .pdi_tstamp = 16,
					 .pdi_flags = PDI_RUNNING | PDI_AUXDATA };
	struct packet_diag_mclist mc[SK_PACKET_MC_MAX + 1] = {
		{ .pdmc_index = 1, .pdmc_count = 2, .pdmc_type = PACKET_MR_MULTICAST,
		  .pdmc_alen = 6, .pdmc_addr = { 1, 0, 0x5e, 0, 0, 0xfb } },
		{ .pdmc_index = 1, .pdmc_count = 1, .pdmc_type = PACKET_MR_ALLMULTI },
	};
	struct packet_diag_ring ring = { .pdr_block_size = 4096, .pdr_block_nr = 2,
					 .pdr_frame_size = 2048, .pdr_frame_nr = 4 };
	uint32_t fanout = 5 | 1 << 16, mem[SK_MEMINFO_VARS] = { 0 };
	struct sk_packet_diag s;
	struct msg m;
	size_t i;

	mem[SK_MEMINFO_RMEM_ALLOC] = 300;
	mem[SK_MEMINFO_WMEM_ALLOC] = 7;
	msg_init(&m, &pm, sizeof(pm));
	msg_attr(&m, PACKET_DIAG_INFO, &info, sizeof(info));
	msg_attr(&m, PACKET_DIAG_MCLIST, mc, 2 * sizeof(mc[0]));
	msg_attr(&m, PACKET_DIAG_RX_RING, &ring, sizeof(ring));
	msg_attr(&m, PACKET_DIAG_FANOUT, &fanout, sizeof(fanout));
	msg_attr(&m, PACKET_DIAG_MEMINFO, mem, sizeof(mem));
	msg_attr(&m, PACKET_DIAG_FILTER, "\0\0\0\0\0\0\0\0", 8);
	CHECK(sk_diag_parse_packet(&m.h, &s) == 0);
	CHECK(s.ino == 8 && s.type == SOCK_RAW && s.num == 0x88b5 && s.has_info &&
	      s.ifindex == 1 && s.version == TPACKET_V3 && s.reserve == 64 &&
	      s.copy_thresh == 1 && s.tstamp == 16 && (s.flags & PDI_RUNNING));
	CHECK(s.nr_mc == 2 && !s.more_mc && s.mc[0].count == 2 && s.mc[0].alen == 6 &&
	      s.mc[0].addr[5] == 0xfb && s.mc[1].type == PACKET_MR_ALLMULTI);
	CHECK(s.has_rx_ring && !s.has_tx_ring && s.rx_ring.frame_nr == 4 &&
	      s.rx_ring.block_size == 4096);
	CHECK(s.has_fanout && s.fanout == fanout && s.has_mem && s.rmem == 300 && s.wmem == 7);
	for (i = 0; i <= SK_PACKET_MC_MAX; i++)
		mc[i] = mc[1];
	msg_init(&m, &pm, sizeof(pm));
	msg_attr(&m, PACKET_DIAG_MCLIST, mc, sizeof(mc));
	CHECK(sk_diag_parse_packet(&m.h, &s) == 0 && s.more_mc && s.nr_mc == SK_PACKET_MC_MAX);
	msg_init(&m, &pm, sizeof(pm));
	msg_attr(&m, PACKET_DIAG_MCLIST, mc, sizeof(mc[0]) - 1);	/* not whole entries */
	CHECK(sk_diag_parse_packet(&m.h, &s) == -1);
	mc[0].pdmc_alen = 33;
	msg_init(&m, &pm, sizeof(pm));
	msg_attr(&m, PACKET_DIAG_MCLIST, mc, sizeof(mc[0]));
	CHECK(sk_diag_parse_packet(&m.h, &s) == -1);
	msg_init(&m, &pm, sizeof(pm));
	msg_attr(&m, PACKET_DIAG_INFO, &info, sizeof(info) - 4);
	CHECK(sk_diag_parse_packet(&m.h, &s) == -1);
	msg_init(&m, &pm, sizeof(pm));
	msg_attr(&m, PACKET_DIAG_MEMINFO, mem, 4);
	CHECK(sk_diag_parse_packet(&m.h, &s) == -1);
	msg_init(&m, &pm, sizeof(pm));
	msg_attr(&m, PACKET_DIAG_TX_RING, &ring, sizeof(ring) - 1);
	CHECK(sk_diag_parse_packet(&m.h, &s) == -1);
	msg_init(&m, &pm, 4);	/* shorter than the header */
	CHECK(sk_diag_parse_packet(&m.h, &s) == -1);
	pm.pdiag_family = AF_NETLINK;
	msg_init(&m, &pm, sizeof(pm));
	CHECK(sk_diag_parse_packet(&m.h, &s) == 1);
	return 0;
}

/* A live packet socket bound to lo with a membership, found by its inode. */
static int test_diag_packet_live(void)
{
	struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_protocol = htons(0x88b8),
				 .sll_ifindex = (int)if_nametoindex("lo") };
	struct packet_mreq mr = { .mr_ifindex = a.sll_ifindex, .mr_type = PACKET_MR_ALLMULTI };
	const struct sk_packet_diag *d;
	struct sk_diag t = { 0 };
	struct stat st;
	int fd = socket(AF_PACKET, SOCK_DGRAM, 0), err;

	CHECK(fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) && !fstat(fd, &st));
	CHECK(!setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)));
	d = sk_diag_packet(&t, st.st_ino, &err);
	CHECK(d && !err && d->type == SOCK_DGRAM && d->num == 0x88b8 &&
	      d->ifindex == (uint32_t)a.sll_ifindex && (d->flags & PDI_RUNNING) && d->has_mem);
	CHECK(d->nr_mc == 1 && d->mc[0].type == PACKET_MR_ALLMULTI && d->mc[0].count == 1 &&
	      !d->has_fanout && !d->has_rx_ring);
	CHECK(!sk_diag_packet(&t, 1, &err) && !err);
	sk_diag_free(&t);
	close(fd);
	return 0;
}

/* Lines of /proc/PID/net/raw, icmp6 as this kernel prints them; the heading; broken ones. */
static int test_proc_parse(void)
{
	static const uint8_t lo6[16] = { [15] = 1 };
	struct sk_proc s;

	CHECK(sk_proc_parse("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
			    "retrnsmt   uid  timeout inode ref pointer drops\n", false, &s) == 1);
	CHECK(sk_proc_parse("  89: 0100007F:00FD 0100007F:0000 01 00000000:00000340 00:00000000 "
			    "00000000     0        0 9326841 2 00000000264c4761 0\n", false, &s) == 0);
	CHECK(s.ino == 9326841 && s.state == 1 && s.sport == 253 && s.dport == 0 && s.rxq == 0x340);
	CHECK(s.src[0] == 127 && s.src[3] == 1 && s.dst[0] == 127 && !s.txq);
	CHECK(sk_proc_parse("   91: 00000000000000000000000001000000:DE7B 00000000000000000000000001"
			    "000000:0000 07 00000010:00000000 00:00000000 00000000     0        0 "
			    "12 2 0000000087fbee5e 0\n", true, &s) == 0);
	CHECK(s.ino == 12 && s.state == 7 && s.sport == 0xde7b && s.txq == 16);
	CHECK(!memcmp(s.src, lo6, 16) && !memcmp(s.dst, lo6, 16));
	/* a v4 line read as v6, a digit that is not hex, a short address */
	CHECK(sk_proc_parse("  89: 0100007F:00FD 0100007F:0000 01 00000000:00000000 00:00000000 "
			    "00000000     0        0 5 2 0 0\n", true, &s) == -1);
	CHECK(sk_proc_parse("  89: 0100007G:00FD 0100007F:0000 01 00000000:00000000 00:00000000 "
			    "00000000     0        0 5 2 0 0\n", false, &s) == -1);
	CHECK(sk_proc_parse("  89: 100007F:00FD 0100007F:0000 01 00000000:00000000 00:00000000 "
			    "00000000     0        0 5 2 0 0\n", false, &s) == -1);
	CHECK(sk_proc_parse("\n", false, &s) == 1);
	return 0;
}

/* A live raw socket connected without a port, found by its inode. */
static int test_proc_live(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_RAW, 253);
	struct sk_proc s;
	struct stat st;

	CHECK(fd >= 0 && !connect(fd, (struct sockaddr *)&a, sizeof(a)) && !fstat(fd, &st));
	CHECK(sk_proc_find(getpid(), AF_INET, SOCK_RAW, st.st_ino, &s) == 0);
	CHECK(s.state == 1 && s.sport == 253 && s.dst[0] == 127 && s.dst[3] == 1);
	CHECK(sk_proc_find(getpid(), AF_INET6, SOCK_RAW, st.st_ino, &s) == 1);
	close(fd);
	return 0;
}

static int test_cleanup(void)
{
	char path[64];

	snprintf(path, sizeof(path), "%s/unix-sks.img", scratch);
	unlink(path);
	snprintf(path, sizeof(path), "%s/inet-sks.img", scratch);
	unlink(path);
	CHECK(!rmdir(scratch));
	return 0;
}

static const struct unit_case cases[] = {
	{ "unix diag: every attribute parsed", test_parse_unix },
	{ "unix diag: short, oversized, foreign answers", test_parse_unix_bad },
	{ "inet diag: v6 listener, shutdown, v6only, md5; malformed", test_parse_inet },
	{ "unix diag of real sockets: peers, listener, pending", test_diag_unix_live },
	{ "inet diag of real sockets: TCP listener, UDP", test_diag_inet_live },
	{ "socket options: dump, check, restore", test_opts_roundtrip },
	{ "socket options: an attached filter is refused", test_opts_filter },
	{ "socket options: every readable one is in the table", test_opts_table_complete },
	{ "socket options: none kept of a fresh socket", test_opts_fresh },
	{ "socket options: names, keys, u64, forced sizes, refusal", test_opts_bytes },
	{ "socket options: more than 64 on one socket", test_opts_many },
	{ "unix-sks.img: bad entries refused", test_unix_img },
	{ "inet-sks.img: bad entries refused", test_inet_img },
	{ "inet-sks.img: queued datagrams and multicast groups checked", test_inet_img_udp },
	{ "/proc/net/igmp and igmp6 lines", test_igmp_parse },
	{ "netlink-sks.img: bad entries refused", test_netlink_img },
	{ "netlink diag: crafted answers, a live socket and its groups", test_diag_netlink },
	{ "packet-sks.img: bad entries refused", test_packet_img },
	{ "packet diag: crafted answers, malformed attributes", test_parse_packet },
	{ "packet diag: a live socket, its device and membership", test_diag_packet_live },
	{ "/proc/net raw and ping lines: parsed, broken ones refused", test_proc_parse },
	{ "/proc/net raw of a live socket connected without a port", test_proc_live },
	{ "scratch directory removed", test_cleanup },
};

UNIT_MAIN(cases)
