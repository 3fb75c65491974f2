/* The test parasite: freestanding, built against the std runtime. */
#include <std/syscall.h>
#include <std/string.h>
#include <std/log.h>
#include <std/parasite.h>
#include "test-proto.h"

static int echo(struct parasite_ctx *ctx)
{
	char tmp[128];
	char *a = ctx->args;

	std_strncpy0(tmp, a, sizeof(tmp) - 8);
	std_snprintf(a, ctx->args_size, "echo:%s", tmp);
	return sys_getpid();
}

static int thread_info(struct parasite_ctx *ctx)
{
	struct tinfo *ti = ctx->args;
	unsigned long tls;

	__asm__ __volatile__("movq %%fs:0, %0" : "=r"(tls));
	ti->tls = tls;
	ti->tid = sys_gettid();
	pr_debug("thread %d tls %lx in_thread %d", ti->tid, tls, ctx->in_thread);
	return ti->tid;
}

static int do_vmsplice(struct parasite_ctx *ctx)
{
	struct tsplice *s = ctx->args;
	struct std_iovec iov = { (void *)s->addr, s->len };
	long done = 0, ret;

	if (ctx->nfds != 1)
		return -22;
	while (done < (long)s->len) {
		ret = sys_vmsplice(ctx->fds[0], &iov, 1, 0);
		if (ret <= 0)
			return ret ? ret : -5;
		done += ret;
		iov.iov_base = (char *)iov.iov_base + ret;
		iov.iov_len -= ret;
	}
	return (int)done;
}

static volatile int *volatile bad_ptr;	/* NULL: faults on purpose */

int parasite_cmd(unsigned int cmd, struct parasite_ctx *ctx)
{
	struct tfds *f = ctx->args;

	switch (cmd) {
	case TCMD_ECHO:
		return echo(ctx);
	case TCMD_THREAD_INFO:
		return thread_info(ctx);
	case TCMD_VMSPLICE:
		return do_vmsplice(ctx);
	case TCMD_SEND_FDS:
		return std_send_fds(ctx, f->fd, f->n);
	case TCMD_LOG:
		pr_err("err %d %s", -7, "x");
		pr_warn("warn %u", 3u);
		pr_info("info %d %ld %x %05d %s %c %p%%", 42, -1234567890123L, 0xbeef,
			17, "str", 'c', (void *)0x1000);
		pr_debug("debug %lu", 18446744073709551615UL);
		return 0;
	case TCMD_CRASH:
		*bad_ptr = 1;
		return 0;
	case TCMD_NOP:
		return 0;
	}
	return -22;
}
