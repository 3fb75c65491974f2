/*
 * nftables over NETLINK_NETFILTER, by hand (criu/net-lock-nft.c): what the
 * network lock (criu/net-lock.c) needs and nothing more.
 *   1. struct nlb b = { 0 }; nft_batch_begin(&b);
 *   2. nft_table(), nft_chain(), nft_flush_chain(), nft_drop_rule() ...
 *   3. nft_batch_end(&b); nft_commit(&b) (one transaction: all or nothing)
 *   4. nlb_free(&b)
 * A failed allocation is remembered in the buffer and reported by
 * nft_commit(). nft_commit() and nft_list_tables() return 0 or -1 with
 * errno and log nothing: the caller says what it was doing.
 */
#ifndef CRIU_NET_LOCK_NFT_H
#define CRIU_NET_LOCK_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nlb {
	char		*p;
	size_t		len, cap;
	size_t		msg;		/* offset of the open message */
	size_t		last_off;	/* offset of the last nf_tables message */
	bool		open, oom;
	uint32_t	seq, last;	/* last: the message whose ack ends the batch */
};

/* One direction of a connection: packets FROM:PFROM -> TO:PTO (ports host order). */
struct nft_dir {
	bool		v6;
	const uint8_t	*from, *to;
	uint16_t	pfrom, pto;
};

void nlb_attr(struct nlb *b, uint16_t type, const void *data, size_t len);
void nlb_be32(struct nlb *b, uint16_t type, uint32_t v);
void nlb_str(struct nlb *b, uint16_t type, const char *s);
size_t nlb_nest(struct nlb *b, uint16_t type);
void nlb_nest_end(struct nlb *b, size_t off);
void nlb_free(struct nlb *b);

void nft_batch_begin(struct nlb *b);
void nft_batch_end(struct nlb *b);
void nft_msg(struct nlb *b, uint16_t cmd, uint16_t flags);
/*
 * NFT_MSG_NEWTABLE (created if absent, with NFT_TABLE_F_* @flags) or
 * NFT_MSG_DELTABLE (@flags unused), family inet.
 */
void nft_table(struct nlb *b, uint16_t cmd, const char *name, uint32_t flags);
/* A filter base chain on @hook at @prio, policy accept (created if absent). */
void nft_chain(struct nlb *b, const char *table, const char *chain, uint32_t hook, int prio);
/* Remove every rule of a chain. */
void nft_flush_chain(struct nlb *b, const char *table, const char *chain);
/* Drop TCP packets going @d->from:pfrom -> @d->to:pto. */
void nft_drop_rule(struct nlb *b, const char *table, const char *chain, const struct nft_dir *d);

/* A NETLINK_NETFILTER socket with a receive timeout; -1 with errno. */
int nft_socket(void);
/* On a fresh socket, or on @fd (the owner of an NFT_TABLE_F_OWNER table). */
int nft_commit(const struct nlb *b);
int nft_commit_on(int fd, const struct nlb *b);

/* Call @fn for every inet table (NFT_TABLE_F_* @flags); a non-zero return stops it (-1). */
typedef int (*nft_table_fn)(const char *name, uint32_t flags, void *arg);
int nft_list_tables(nft_table_fn fn, void *arg);

#endif /* CRIU_NET_LOCK_NFT_H */
