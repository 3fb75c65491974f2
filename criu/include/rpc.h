/*
 * RPC: `criu swrk FD` and `criu service` (Documentation/rpc.md).
 *
 * A connection carries criu_req messages (images/rpc.proto), one per
 * SOCK_SEQPACKET message, and criu answers each with one criu_resp; during a
 * DUMP or RESTORE with notify_scripts, criu sends NOTIFY responses and waits
 * for the caller's NOTIFY request before going on (action.c).
 *
 * Steps (rpc.c does them for each request):
 *   1. rpc_req_decode()        bounded, checked unpack of one message
 *   2. rpc_opts_fill()         criu_opts into the same struct cr_options the
 *                              command line fills: each field is a row of
 *                              rpc_opt_map[] naming its option, or refused
 *                              by name
 *   3. run the command, answer with rpc_send_resp()
 */
#ifndef CRIU_RPC_H
#define CRIU_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "options.h"
#include "rpc.pb-c.h"

#define RPC_MSG_MAX		(1 << 20)	/* largest request accepted */
#define RPC_HELD_FDS_MAX	64		/* caller's descriptors one request may pass */

/* One connection and what its current request borrowed from the caller. */
struct rpc_conn {
	int	sk;
	pid_t	peer;			/* the caller, whose descriptors the fds name */
	bool	notify;			/* notify_scripts: NOTIFY at each action stage */
	int	req_type;		/* the request being served (CriuReqType) */
	int	held[RPC_HELD_FDS_MAX];	/* our copies of the caller's descriptors */
	unsigned int nr_held;
};

/* How one criu_opts field reaches struct cr_options. */
struct rpc_opt {
	const char *field;		/* criu_opts field name */
	const char *option;		/* long option set from the value (NULL: fn or refused) */
	int (*fn)(struct rpc_conn *c, const CriuOpts *ro, struct cr_options *o);
	const char *const *enum_text;	/* enum fields: option text of value N */
	const char *refused;		/* set: the field is refused with this reason */
	bool early;			/* where images and the log go: filled first */
};

extern const struct rpc_opt rpc_opt_map[];
extern const unsigned int rpc_opt_map_size;

/* Unpack one request; NULL (logged) when it is malformed. Free with criu_req__free_unpacked. */
CriuReq *rpc_req_decode(const void *buf, size_t len);

/*
 * Fill @o (opts_init()ed) from @ro. @early: only the rows that say where
 * images and the log go (so the log can be opened before the rest is
 * looked at), else every other row. Descriptors of the caller are copied
 * into c->held (released by rpc_conn_release). Returns 0, or -1 after
 * logging the first field refused or malformed.
 */
int rpc_opts_fill(struct rpc_conn *c, const CriuOpts *ro, struct cr_options *o, bool early);
void rpc_conn_release(struct rpc_conn *c);

/* Send one response. Returns 0 or -1 (the caller is gone). */
int rpc_send_resp(struct rpc_conn *c, const CriuResp *resp);

/* The RPC session of `criu swrk FD`: requests until the caller closes. */
int rpc_serve_fd(int sk);

#endif /* CRIU_RPC_H */
