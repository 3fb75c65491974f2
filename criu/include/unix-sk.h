/*
 * Unix sockets: what the dump (criu/files-unix.c) and the restore
 * (criu/files-unix-rst.c) halves of the kind share.
 */
#ifndef CRIU_UNIX_SK_H
#define CRIU_UNIX_SK_H

#include "files.h"
#include "sk-unix.pb-c.h"

/* unix_diag states */
#define USK_CONNECTED	1	/* TCP_ESTABLISHED */
#define USK_CLOSE	7	/* TCP_CLOSE: not connected */
#define USK_LISTEN	10	/* TCP_LISTEN */

#define USK_MAX_QUEUE	(4u << 20)	/* bytes queued we carry per socket */
#define USK_MAX_MSGS	65536		/* messages queued per socket */
#define USK_MAX_BACKLOG	(1u << 20)

int unix_read(struct fd_rst *r, int dirfd);
int unix_open(struct fd_rst *r, const struct fd_obj *o, const struct cr_options *opt);
void unix_rst_free(struct fd_rst *r);
uint64_t unix_group(const struct fd_rst *r, const struct fd_obj *o);

#endif /* CRIU_UNIX_SK_H */
