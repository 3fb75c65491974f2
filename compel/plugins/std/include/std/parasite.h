/*
 * What parasite code writes against.  A parasite is freestanding C
 * built with the flags of `compel cflags` and linked (ld -r) with the
 * std runtime object (compel/plugins/std/std.lib.o); `compel hgen`
 * turns the result into a header for the caller.
 *
 * The parasite provides one function:
 *
 *   int parasite_cmd(unsigned int cmd, struct parasite_ctx *ctx);
 *
 * called for every command the caller sends (compel_rpc_call) and for
 * one-shot commands run in another thread (compel_run_in_thread, then
 * ctx->in_thread is 1 and no fds are attached).  It returns >= 0 or
 * -errno; the value reaches the caller as the command's result.
 * It runs with every signal blocked, on a 64 KiB stack, and must not
 * use floating point or vector registers (the runtime is built with
 * -mgeneral-regs-only).
 */
#ifndef STD_PARASITE_H
#define STD_PARASITE_H

#include <std/types.h>

struct parasite_ctx {
	void		*args;		/* the shared argument area */
	size_t		args_size;
	int		*fds;		/* fds that came with the command */
	unsigned int	nfds;		/* set fds[i] = -1 to keep one open */
	int		in_thread;	/* run by compel_run_in_thread() */
	int		sock;		/* control socket */
};

int parasite_cmd(unsigned int cmd, struct parasite_ctx *ctx);

/* Send fds to the caller (compel_rpc_recv_fds); n <= 64 per call. */
int std_send_fds(struct parasite_ctx *ctx, const int *fds, unsigned int n);

/* Receive more fds from the caller in the middle of a command. */
int std_recv_fds(struct parasite_ctx *ctx, int *fds, unsigned int n);

#endif /* STD_PARASITE_H */
