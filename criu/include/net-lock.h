/*
 * The network lock: while a TCP connection's state is read and until it is
 * restored, its packets are dropped in both directions, so the peer sees
 * silence (its data waits in its own send queue, no RST comes back).
 *
 * The rules are nftables rules programmed in-process over NETLINK_NETFILTER
 * (no firewall binary): a table of family inet that holds nothing else, a
 * hash set of connection keys per IP version and a drop rule per set on
 * the input and output hooks. The table is named:
 *   criu-lock-PID-START  held by the running criu PID (START: its start time
 *                        from /proc/PID/stat); removed by net_unlock(), at
 *                        exit, on SIGTERM/SIGINT/SIGHUP, and by the kernel
 *                        when criu's netlink socket closes (any death,
 *                        SIGKILL too: NFT_TABLE_F_OWNER); without that flag
 *                        (before Linux 5.12) by the next run that locks.
 *   criu-kept-ROOT       handed over by a dump that killed the tree ROOT;
 *                        outlives criu, removed by the restore of ROOT.
 * Documentation/net-lock.md has the rules, the cleanup and the failure modes.
 *
 * Dump (steps the caller takes, in order):
 *   1. net_lock_tree_conns(pids, nr, &n) once the tree is frozen (its
 *      fds no longer change) and before any socket is put in repair mode
 *      (or net_lock_conns() with the tuples known otherwise)
 *   2. read the connections' state
 *   3. net_lock_keep(root) before the tree is killed, net_unlock() when it
 *      goes on running (--leave-running) or the dump failed
 * Restore:
 *   1. restore the connections
 *   2. net_unlock_kept(root) once the tree runs again
 * Every call returns 0 or -1 (logged).
 */
#ifndef CRIU_NET_LOCK_H
#define CRIU_NET_LOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NET_LOCK_PREFIX		"criu-lock-"
#define NET_LOCK_KEPT_PREFIX	"criu-kept-"
#define NET_LOCK_NAME_MAX	64

/* One TCP connection as its local socket sees it (addresses in network order). */
struct net_lock_conn {
	int		family;		/* AF_INET or AF_INET6 (v4-mapped: locked as IPv4) */
	uint8_t		src[16];	/* local address */
	uint8_t		dst[16];	/* peer address */
	uint16_t	sport, dport;	/* host order */
};

enum net_lock_method {
	NET_LOCK_NFT,		/* in-process nftables ("nftables", and "iptables") */
	NET_LOCK_SKIP,		/* "skip", "none": no lock, the caller's choice */
};

/* What --network-lock names (NULL: the default); -1 logged if unknown. */
int net_lock_method(const char *name, enum net_lock_method *m);

/* Create and delete a table with a chain and a rule in one transaction. */
int net_lock_probe(char *why, size_t len);

/* Remove criu-lock-* tables whose criu is gone; returns how many, -1 logged. */
int net_lock_cleanup_stale(void);

/* Lock @c[0..nr) (replacing what this process had locked). */
int net_lock_conns(const struct net_lock_conn *c, size_t nr);

/*
 * Lock the TCP connections (any state but LISTEN and CLOSE) whose sockets
 * the tasks @pids hold open, found through sock_diag, but those whose
 * other end is a socket of the tasks too or one no task holds (in a
 * listener's queue): they have no peer outside to keep quiet. *@nr_locked
 * (may be NULL) gets how many.
 */
int net_lock_tree_conns(const pid_t *pids, size_t nr, size_t *nr_locked);

/* Whether the socket of inode @ino is held by net_lock_tree_conns()'s lock. */
bool net_lock_holds(uint64_t ino);

/* Drop this process's lock, if it has one. */
int net_unlock(void);

/* Hand this process's lock over to criu-kept-@root, atomically. */
int net_lock_keep(pid_t root);

/* Remove criu-kept-@root (absent: not an error). */
int net_unlock_kept(pid_t root);

/*
 * Tables without NFT_TABLE_F_OWNER from the next lock on (what a kernel
 * before 5.12 gets, after a warning): for tests of the stale sweep.
 */
void net_lock_set_unowned(bool on);

/* The table this process holds ("" if none), for tests and messages. */
const char *net_lock_table(void);

/* Whether a table of family inet named @name exists: 1, 0, or -1 logged. */
int net_lock_table_exists(const char *name);

#endif /* CRIU_NET_LOCK_H */
