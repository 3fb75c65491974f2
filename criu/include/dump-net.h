/*
 * The network lock and the guardian in a --tcp-established dump
 * (criu/dump-net.c; the steps: Documentation/net-lock.md, "Hook points").
 * Every call returns 0 or -1 (logged).
 */
#ifndef CRIU_DUMP_NET_H
#define CRIU_DUMP_NET_H

#include <stdbool.h>

struct dump_tree;
struct cr_options;

/*
 * The tree frozen, before any socket is read: lock its connections (unless
 * --network-lock skip), run the network-lock stage, start the guardian.
 */
int dump_net_lock(struct dump_tree *tr);

/* The images are committed and the tree dies with criu: tell the guardian. */
int dump_net_committed(const struct dump_tree *tr);

/* Before the kill: the lock goes to criu-kept-ROOT for the restore. */
int dump_net_keep(const struct dump_tree *tr);

/* The tree runs on (its sockets out of repair mode already): unlock. */
int dump_net_unlock(const struct dump_tree *tr);

/* What the established inventory records (network_lock_method). */
bool dump_net_skipped(const struct cr_options *o);

#endif /* CRIU_DUMP_NET_H */
