/*
 * Netlink for the network namespace, through libnl-3 (criu/include/netns.h):
 * sockets made inside a namespace, dumps kept as the kernel's own message
 * streams, and those messages sent back as requests.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/socket.h>
#include <linux/fib_rules.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#define LOG_PREFIX "netns: "
#include "log.h"
#include "netns.h"

int netns_switch(int nsfd, int *saved)
{
	*saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*saved < 0) {
		pr_perror("cannot open criu's network namespace");
		return -1;
	}
	if (setns(nsfd, CLONE_NEWNET)) {
		pr_perror("cannot enter the network namespace");
		close(*saved);
		*saved = -1;
		return -1;
	}
	return 0;
}

int netns_back(int *saved)
{
	int ret = 0;

	if (*saved < 0)
		return 0;
	if (setns(*saved, CLONE_NEWNET)) {
		pr_perror("cannot go back to criu's network namespace");
		ret = -1;
	}
	close(*saved);
	*saved = -1;
	return ret;
}

struct nl_sock *nl_route_socket(int nsfd)
{
	return nl_socket_proto(nsfd, NETLINK_ROUTE);
}

struct nl_sock *nl_socket_proto(int nsfd, int proto)
{
	struct nl_sock *sk;
	int saved = -1, err;

	if (nsfd >= 0 && netns_switch(nsfd, &saved))
		return NULL;
	sk = nl_socket_alloc();
	if (!sk) {
		pr_err("out of memory for a netlink socket");
	} else if ((err = nl_connect(sk, proto)) < 0) {
		pr_err("cannot connect a netlink socket (protocol %d): %s", proto, nl_geterror(err));
		nl_socket_free(sk);
		sk = NULL;
	}
	if (netns_back(&saved) && sk) {
		nl_socket_free(sk);
		sk = NULL;
	}
	return sk;
}

struct raw_acc {
	uint8_t *buf;
	size_t len, cap;
	int err;
};

static int raw_valid(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct raw_acc *a = arg;
	size_t n = NLMSG_ALIGN(h->nlmsg_len);

	if (a->err)
		return NL_STOP;
	if (a->len + n > NETNS_STREAM_MAX) {
		pr_err("more than %u bytes of netlink messages of one kind: not supported yet",
		       NETNS_STREAM_MAX);
		a->err = -1;
		return NL_STOP;
	}
	if (a->len + n > a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 4096;
		uint8_t *b;

		while (cap < a->len + n)
			cap *= 2;
		b = realloc(a->buf, cap);
		if (!b) {
			pr_err("out of memory");
			a->err = -1;
			return NL_STOP;
		}
		a->buf = b;
		a->cap = cap;
	}
	memset(a->buf + a->len, 0, n);
	memcpy(a->buf + a->len, h, h->nlmsg_len);
	a->len += n;
	return NL_OK;
}

/* The fixed header a dump request of @type carries: only its family is read. */
static size_t req_hdr_len(int type)
{
	if (type >> 8 == NFNL_SUBSYS_NFTABLES)
		return sizeof(struct nfgenmsg);
	switch (type) {
	case RTM_GETADDR:
		return sizeof(struct ifaddrmsg);
	case RTM_GETNEIGH:
		return sizeof(struct ndmsg);
	case RTM_GETRULE:
		return sizeof(struct fib_rule_hdr);
	case RTM_GETQDISC:
		return sizeof(struct tcmsg);
	case RTM_GETLINK:
		return sizeof(struct ifinfomsg);
	default:
		return sizeof(struct rtmsg);
	}
}

int nl_dump_raw(struct nl_sock *sk, int type, int family, uint8_t **buf, size_t *len)
{
	uint8_t hdr[32] = { 0 };	/* every header above starts with its family byte */
	struct raw_acc a = { 0 };
	int err;

	hdr[0] = (uint8_t)family;
	err = nl_send_simple(sk, type, NLM_F_DUMP, hdr, req_hdr_len(type));
	if (err < 0) {
		pr_err("netlink dump request %d: %s", type, nl_geterror(err));
		return -1;
	}
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, raw_valid, &a);
	err = nl_recvmsgs_default(sk);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_DEFAULT, NULL, NULL);
	if (err < 0 && !a.err)
		pr_err("netlink dump %d: %s", type, nl_geterror(err));
	if (err < 0 || a.err) {
		free(a.buf);
		return -1;
	}
	*buf = a.buf;
	*len = a.len;
	return 0;
}

int nl_send_copy(struct nl_sock *sk, const void *p, const char *what)
{
	const struct nlmsghdr *h = p;
	struct nlmsghdr *c;
	struct nl_msg *m;
	int err;

	m = nlmsg_convert((struct nlmsghdr *)h);
	if (!m) {
		pr_err("out of memory");
		return -1;
	}
	c = nlmsg_hdr(m);
	c->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
	c->nlmsg_pid = NL_AUTO_PORT;
	c->nlmsg_seq = NL_AUTO_SEQ;
	err = nl_send_sync(sk, m);
	if (err < 0) {
		pr_err("cannot restore %s: %s", what, nl_geterror(err));
		return -1;
	}
	return 0;
}
