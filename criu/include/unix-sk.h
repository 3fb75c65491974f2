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
#define USK_SCM_MAX	253		/* SCM_MAX_FD: descriptors one message carries */
#define USK_MAX_RIGHTS	4096		/* descriptors in flight on one socket */
#define USK_MAX_BACKLOG	(1u << 20)

/*
 * An abstract name as the kernel's autobind makes it: NUL and five hex
 * digits (a send with SO_PASSCRED, or bind() with no name). The socket owns
 * it (it is in the abstract table), so restore binds it again explicitly,
 * whatever the socket is connected to.
 */
static inline bool usk_autobind_name(const UnixSkEntry *e)
{
	size_t i;

	if (!e->has_name || e->name.len != 6 || e->name.data[0])
		return false;
	for (i = 1; i < 6; i++)
		if (!((e->name.data[i] >= '0' && e->name.data[i] <= '9') ||
		      (e->name.data[i] >= 'a' && e->name.data[i] <= 'f')))
			return false;
	return true;
}

int unix_read(struct fd_rst *r, int dirfd);
int unix_open(struct fd_rst *r, const struct fd_obj *o, const struct cr_options *opt);
void unix_rst_free(struct fd_rst *r);
uint64_t unix_group(const struct fd_rst *r, const struct fd_obj *o);

#endif /* CRIU_UNIX_SK_H */
