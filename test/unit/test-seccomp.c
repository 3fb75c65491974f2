/*
 * compel's seccomp query (compel/src/lib/seccomp.c) on hand-written filters:
 * may a chain harm a call, with these arguments or with any? And the
 * parasite's table of calls (criu/pie/include/parasite-calls.h, compel's
 * own) against the calls the parasite's sources make.
 */
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <regex.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>

#include <compel/compel.h>

#include "compiler.h"
#include "parasite-calls.h"
#include "unit.h"

#define LD(off)		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define LD_NR		LD(offsetof(struct seccomp_data, nr))
#define LD_ARCH		LD(offsetof(struct seccomp_data, arch))
#define LD_ARG0		LD(offsetof(struct seccomp_data, args[0]))
#define LD_IP_HI	LD(offsetof(struct seccomp_data, instruction_pointer) + 4)
#define JEQ(k, t, f)	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (t), (f))
#define JSET(k, t, f)	BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, (k), (t), (f))
#define RET(k)		BPF_STMT(BPF_RET | BPF_K, (k))
#define PROG(f)		{ (f), (int)ARRAY_SIZE(f) }

static int harm(const struct compel_bpf *chain, int n, long nr, const uint64_t *args,
		uint32_t *act)
{
	struct compel_sc_call c = { .nr = nr, .name = "t", .known = args ? 0x3f : 0 };

	if (args)
		memcpy(c.args, args, sizeof(c.args));
	return compel_seccomp_may_harm(chain, n, &c, act);
}

/* Kill on prctl(PR_SET_DUMPABLE, ...): prctl with any arguments may die. */
static int test_arg_dependent(void)
{
	struct sock_filter f[] = {
		LD_NR, JEQ(__NR_prctl, 0, 3), LD_ARG0, JEQ(PR_SET_DUMPABLE, 0, 1),
		RET(SECCOMP_RET_KILL_PROCESS), RET(SECCOMP_RET_ALLOW),
	};
	struct compel_bpf p = PROG(f);
	uint64_t get_name[6] = { PR_GET_NAME }, dumpable[6] = { PR_SET_DUMPABLE };
	uint32_t act = 1;

	CHECK(harm(&p, 1, __NR_prctl, NULL, &act) == 1);
	CHECK(act == SECCOMP_RET_KILL_PROCESS);
	CHECK(harm(&p, 1, __NR_prctl, get_name, &act) == 0);
	CHECK(harm(&p, 1, __NR_prctl, dumpable, &act) == 1);
	CHECK(harm(&p, 1, __NR_getpid, NULL, &act) == 0);
	return 0;
}

/* Kill on another architecture: this one is known, never harmed. */
static int test_other_arch(void)
{
	struct sock_filter f[] = {
		LD_ARCH, JEQ(AUDIT_ARCH_X86_64, 1, 0), RET(SECCOMP_RET_KILL_PROCESS),
		RET(SECCOMP_RET_ALLOW),
	};
	struct compel_bpf p = PROG(f);
	uint32_t act;

	CHECK(harm(&p, 1, __NR_socket, NULL, &act) == 0);
	CHECK(harm(&p, 1, __NR_rt_sigreturn, NULL, &act) == 0);
	return 0;
}

/* An errno harms no call, unless the call must run (rt_sigreturn). */
static int test_errno_only(void)
{
	struct sock_filter f[] = {
		LD_NR, JEQ(__NR_socket, 1, 0), JEQ(__NR_rt_sigreturn, 0, 1),
		RET(SECCOMP_RET_ERRNO | 13), RET(SECCOMP_RET_ALLOW),
	};
	struct compel_bpf p = PROG(f);
	struct compel_sc_call home = { .nr = __NR_rt_sigreturn, .name = "rt_sigreturn",
				       .must_run = 1 };
	uint32_t act;

	CHECK(harm(&p, 1, __NR_socket, NULL, &act) == 0);
	CHECK(harm(&p, 1, __NR_rt_sigreturn, NULL, &act) == 0);
	CHECK(compel_seccomp_may_harm(&p, 1, &home, &act) == 1);
	CHECK(act == SECCOMP_RET_ERRNO);
	return 0;
}

static int test_trap_and_notify(void)
{
	struct sock_filter f[] = {
		LD_NR, JEQ(__NR_vmsplice, 0, 1), RET(SECCOMP_RET_TRAP),
		JEQ(__NR_keyctl, 0, 1), RET(SECCOMP_RET_USER_NOTIF), RET(SECCOMP_RET_LOG),
	};
	struct compel_bpf p = PROG(f);
	uint32_t act;

	CHECK(harm(&p, 1, __NR_vmsplice, NULL, &act) == 1 && act == SECCOMP_RET_TRAP);
	CHECK(harm(&p, 1, __NR_keyctl, NULL, &act) == 1 && act == SECCOMP_RET_USER_NOTIF);
	CHECK(harm(&p, 1, __NR_close, NULL, &act) == 0);
	CHECK_STR(compel_seccomp_action_name(act = SECCOMP_RET_TRAP), "SECCOMP_RET_TRAP");
	return 0;
}

/* Filters stacked: the strictest action wins. */
static int test_nested(void)
{
	struct sock_filter allow[] = { RET(SECCOMP_RET_ALLOW) };
	struct sock_filter kill_getpid[] = {
		LD_NR, JEQ(__NR_getpid, 0, 1), RET(SECCOMP_RET_KILL_THREAD), RET(SECCOMP_RET_ALLOW),
	};
	struct sock_filter errno_socket[] = {
		LD_NR, JEQ(__NR_socket, 0, 1), RET(SECCOMP_RET_ERRNO | 1), RET(SECCOMP_RET_ALLOW),
	};
	struct sock_filter notify_socket[] = {
		LD_NR, JEQ(__NR_socket, 0, 1), RET(SECCOMP_RET_USER_NOTIF), RET(SECCOMP_RET_ALLOW),
	};
	struct compel_bpf a[] = { PROG(allow), PROG(kill_getpid) };
	struct compel_bpf b[] = { PROG(errno_socket), PROG(notify_socket) };
	struct compel_bpf c[] = { PROG(notify_socket), PROG(allow) };
	uint64_t args[6] = { 0 };
	uint32_t act;

	CHECK(harm(a, 2, __NR_getpid, args, &act) == 1 && act == SECCOMP_RET_KILL_THREAD);
	CHECK(harm(a, 2, __NR_getppid, args, &act) == 0);
	/* errno is stricter than a user notification: the errno wins */
	CHECK(harm(b, 2, __NR_socket, args, &act) == 0);
	CHECK(harm(c, 2, __NR_socket, args, &act) == 1 && act == SECCOMP_RET_USER_NOTIF);
	return 0;
}

/* The instruction pointer, unknown unless the call fixes it. */
static int test_ip(void)
{
	struct sock_filter f[] = {
		LD_IP_HI, JEQ(0x7fff, 1, 0), RET(SECCOMP_RET_KILL_PROCESS), RET(SECCOMP_RET_ALLOW),
	};
	struct compel_bpf p = PROG(f);
	struct compel_sc_call c = { .nr = __NR_getpid, .name = "getpid", .known = COMPEL_SC_IP,
				    .ip = 0x7fff12345000ULL };
	uint32_t act;

	CHECK(compel_seccomp_may_harm(&p, 1, &c, &act) == 0);
	c.known = 0;
	CHECK(compel_seccomp_may_harm(&p, 1, &c, &act) == 1);
	return 0;
}

/* 2^40 paths on unknown bits, each allowing: past the budget it may harm. */
static int test_bound(void)
{
	struct sock_filter f[2 + 40];
	struct compel_bpf p = PROG(f);
	uint64_t args[6] = { 0 };
	uint32_t act;
	int i;

	f[0] = (struct sock_filter)LD_ARG0;
	for (i = 0; i < 40; i++)
		f[1 + i] = (struct sock_filter)JSET(1u << (i % 32), 0, 0);
	f[41] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
	CHECK(harm(&p, 1, __NR_close, args, &act) == 0);
	CHECK(harm(&p, 1, __NR_close, NULL, &act) == 1);
	return 0;
}

/* 512 such filters (what an image may hold): one budget for the chain. */
static int test_bound_chain(void)
{
	struct sock_filter f[2 + 40];
	struct compel_bpf *chain = calloc(512, sizeof(*chain));
	struct timespec a, b;
	uint32_t act;
	int i, r;

	CHECK(chain);
	f[0] = (struct sock_filter)LD_ARG0;
	for (i = 0; i < 40; i++)
		f[1 + i] = (struct sock_filter)JSET(1u << (i % 32), 0, 0);
	f[41] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
	for (i = 0; i < 512; i++)
		chain[i] = (struct compel_bpf)PROG(f);
	clock_gettime(CLOCK_MONOTONIC, &a);
	r = harm(chain, 512, __NR_close, NULL, &act);
	clock_gettime(CLOCK_MONOTONIC, &b);
	free(chain);
	CHECK(r == 1);
	CHECK((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < 500);
	return 0;
}

/* A division by an unknown X may be by zero: classic BPF returns 0 (kill). */
static int test_div_by_unknown(void)
{
	struct sock_filter f[] = {
		LD_ARG0, BPF_STMT(BPF_MISC | BPF_TAX, 0), BPF_STMT(BPF_LD | BPF_IMM, 8),
		BPF_STMT(BPF_ALU | BPF_DIV | BPF_X, 0), RET(SECCOMP_RET_ALLOW),
	};
	struct compel_bpf p = PROG(f);
	uint64_t two[6] = { 2 };
	uint32_t act;

	CHECK(harm(&p, 1, __NR_close, two, &act) == 0);
	CHECK(harm(&p, 1, __NR_close, NULL, &act) == 1 && act == SECCOMP_RET_KILL_THREAD);
	return 0;
}

/* No program seccomp takes (falls off its end, computed action on an argument). */
static int test_bad_programs(void)
{
	struct sock_filter off_end[] = { LD_NR };
	struct sock_filter ret_a[] = { LD_ARG0, BPF_STMT(BPF_RET | BPF_A, 0) };
	struct compel_bpf p1 = PROG(off_end), p2 = PROG(ret_a);
	uint64_t allow[6] = { SECCOMP_RET_ALLOW };
	uint32_t act;

	CHECK(harm(&p1, 1, __NR_close, allow, &act) == 1);
	CHECK(harm(&p2, 1, __NR_close, allow, &act) == 0);
	CHECK(harm(&p2, 1, __NR_close, NULL, &act) == 1);
	return 0;
}

/* ---- the tables against the sources -------------------------------------- */

static char *slurp(const char *path)
{
	char full[512];
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f) {
		snprintf(full, sizeof(full), "../../%s", path);
		f = fopen(full, "r");
	}
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n + 1);
	if (buf && fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = '\0';
	fclose(f);
	return buf;
}

#define NAME(n)	" " #n
static const char parasite_names[] = PARASITE_SYSCALLS(NAME) " ";
#undef NAME

static int in_criu_table(const char *name)
{
	char key[80];

	snprintf(key, sizeof(key), " %s ", name);
	return strstr(parasite_names, key) != NULL;
}

static int in_compel_table(const char *name)
{
	const struct compel_sc_call *c;
	int n = compel_seccomp_own_calls(&c), i;

	for (i = 0; i < n; i++)
		if (!strcmp(c[i].name, name))
			return 1;
	return !strcmp(name, "syscall6");	/* the generic one: what the caller asks */
}

/* Every call @re (group 1: its name) finds in @path is in the table. */
static int calls_listed(const char *path, const char *re, int (*listed)(const char *))
{
	char *text = slurp(path), *p, name[80];
	regmatch_t m[2];
	regex_t r;
	int found = 0, ret = 0;

	if (!text || regcomp(&r, re, REG_EXTENDED)) {
		snprintf(unit_why, sizeof(unit_why), "cannot read %s", path);
		free(text);
		return -1;
	}
	for (p = text; !ret && !regexec(&r, p, 2, m, 0); p += m[0].rm_eo) {
		snprintf(name, sizeof(name), "%.*s", (int)(m[1].rm_eo - m[1].rm_so), p + m[1].rm_so);
		found++;
		if (!listed(name)) {
			snprintf(unit_why, sizeof(unit_why), "%s calls %s, missing from its table",
				 path, name);
			ret = -1;
		}
	}
	regfree(&r);
	free(text);
	if (!ret && !found) {
		snprintf(unit_why, sizeof(unit_why), "%s: no call found", path);
		ret = -1;
	}
	return ret;
}

#define SYS_CALL	"sys_([a-z0-9_]+)\\("
#define NR_USE		"__NR_([a-z0-9_]+)"

static int test_parasite_table(void)
{
	if (calls_listed("criu/pie/parasite.c", SYS_CALL, in_criu_table) ||
	    calls_listed("criu/pie/parasite.c", NR_USE, in_criu_table) ||
	    calls_listed("criu/pie/arch/x86/parasite-arch.h", NR_USE, in_criu_table) ||
	    calls_listed("criu/dump-core.c", "compel_syscall\\([^,]*, SYS_([a-z0-9_]+)",
			 in_criu_table))
		return -1;
	return 0;
}

static int test_compel_table(void)
{
	if (calls_listed("compel/plugins/std/src/daemon.c", SYS_CALL, in_compel_table) ||
	    calls_listed("compel/plugins/std/src/log.c", SYS_CALL, in_compel_table))
		return -1;
	return 0;
}

static const struct unit_case cases[] = {
	{ "a kill on one argument value harms the call with any arguments", test_arg_dependent },
	{ "a kill on another architecture harms nothing", test_other_arch },
	{ "an errno harms only a call that must run", test_errno_only },
	{ "trap and user notification harm", test_trap_and_notify },
	{ "stacked filters: the strictest action wins", test_nested },
	{ "the instruction pointer, fixed or unknown", test_ip },
	{ "too many paths may harm", test_bound },
	{ "a chain of explosive filters ends within one budget", test_bound_chain },
	{ "a division by an unknown value may kill", test_div_by_unknown },
	{ "programs seccomp would not take may harm", test_bad_programs },
	{ "the parasite's calls are in criu's table", test_parasite_table },
	{ "the daemon's calls are in compel's table", test_compel_table },
};

UNIT_MAIN(cases)
