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

/* Pointers in data: R_X86_64_64 words that must be rebased at load. */
static const char *volatile words[] = { "alpha", "beta", "gamma" };

extern int got_probe_value __attribute__((visibility("default")));
int got_probe(int x) __attribute__((visibility("default")));
static int (*volatile probe_table[])(int) = { got_probe };

/* Sum of first letters + what the GOT-reached code returns. */
static int relocs(void)
{
	unsigned int i;
	int sum = 0;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		sum += words[i][0];
	return sum + probe_table[0](1) + got_probe_value;
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
	case TCMD_RELOCS:
		return relocs();
	}
	return -22;
}
