/*
 * The tree's own network namespace (Documentation/namespaces.md, "Network
 * namespace"): what is carried, its image (netns.img, images/netns.proto)
 * and the steps of dump and restore.
 *
 * Dump (criu/dump-netns.c), right after the tree is collected:
 *   1. dump_netns_check(tr): the root's namespace is criu's (nothing to do)
 *      or its own, shared by every task; then its links, addresses, routes,
 *      neighbours and knobs are read and netns.img written; what is not
 *      carried is refused; sock_diag now asks that namespace.
 *   2. dump_netns_release() at the end, whatever the outcome.
 * Restore (criu/restore-netns.c):
 *   1. rst_netns_read(dirfd, o): netns.img read and checked (untrusted),
 *      the options checked against it (a veth's outside name).
 *   2. rst_netns_enter(): criu moves into a new namespace and builds it
 *      (nothing with --empty-ns net), right before the root is forked.
 *   3. rst_netns_leave(): criu back in its own, right after the fork.
 *
 * Netlink goes through libnl-3 (criu/net-nl.c).
 */
#ifndef CRIU_NETNS_H
#define CRIU_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netns.pb-c.h"

struct dump_tree;
struct cr_options;
struct nl_sock;

#define NETNS_MAX_LINKS		64
#define NETNS_STREAM_MAX	(1u << 20)	/* bytes of one message stream */
#define NETNS_MAX_MSGS		4096		/* messages of one stream */
#define NETNS_STR_MAX		200		/* a string knob's value */

enum { NETNS_LINK_LO = 1, NETNS_LINK_VETH = 2 };

/*
 * The positional knob tables: entry k of a list in the image is the k-th
 * name here, the order of the established format.
 */
struct netns_knobs {
	const char *const *names;
	size_t nr;
	const char *dir;	/* under /proc/sys/net, "%s" the link (conf lists) */
};
extern const struct netns_knobs netns_conf4, netns_conf6, netns_unix, netns_ipv4;
/* A knob whose value is text (stable_secret, ping_group_range); the others are one integer. */
bool netns_knob_text(const char *name);

/* dump-netns.c */
int dump_netns_check(struct dump_tree *tr);
void dump_netns_release(void);

/* restore-netns.c */
int rst_netns_read(int dirfd, const struct cr_options *o);
int rst_netns_enter(const struct cr_options *o);
int rst_netns_leave(void);
void rst_netns_release(void);

/* netns-img.c: checks of an entry read from an image; 0 or -1 with a message */
int netns_entry_check(const NetnsEntry *e);
/* One message stream of @e (addrs, routes4, ...): every message whole, of @type. */
int netns_stream_check(const uint8_t *buf, size_t len, int type, const NetnsEntry *e,
		       const char *what);
/* The outside name of veth @in from --veth-pair IN=OUT or --external veth[IN]:OUT; NULL if none. */
const char *netns_veth_outside(const struct cr_options *o, const char *in, char *buf, size_t size);

/* Every --external is one this criu knows: veth[IN]:OUT at restore, none at dump. */
int netns_external_check(const struct cr_options *o, bool restore);

/* net-nl.c: libnl-3 helpers */
/* A NETLINK_ROUTE socket in the namespace @nsfd (-1: criu's current one). */
struct nl_sock *nl_route_socket(int nsfd);
struct nl_sock *nl_socket_proto(int nsfd, int proto);
/* Every object of dump @type (rtnetlink, or nf_tables) for @family, the kernel's messages appended to *@buf. */
int nl_dump_raw(struct nl_sock *sk, int type, int family, uint8_t **buf, size_t *len);
/* Send a copy of @h as a request (NLM_F_CREATE | NLM_F_REPLACE) and wait for its ack. */
int nl_send_copy(struct nl_sock *sk, const void *h, const char *what);
/* setns(@nsfd, CLONE_NEWNET); *@saved: criu's namespace to come back to (-1 on entry). */
int netns_switch(int nsfd, int *saved);
int netns_back(int *saved);

#endif /* CRIU_NETNS_H */
