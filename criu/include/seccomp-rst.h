#ifndef CRIU_SECCOMP_RST_H
#define CRIU_SECCOMP_RST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.pb-c.h"

struct restorer_args;

#define SECCOMP_MAX_INSNS	4096	/* BPF_MAXINSNS: one filter */
#define SECCOMP_MAX_FILTERS	512
#define SECCOMP_MAX_PATH	32768	/* the kernel's MAX_INSNS_PER_PATH: 4 more per filter */

/*
 * The filters of @c (restore-seccomp.c) are ones seccomp takes and the
 * restore can install: bounded, flags known, and letting through every call
 * the restorer makes once they are in (named in the error otherwise).
 * @what names the caller ("dump", an image) in the errors.
 */
int rst_seccomp_check_filters(const TaskCoreEntry *c, const char *what);
/*
 * May the chain @e[0..n) harm one of @calls (compel_seccomp_may_harm())?
 * -1 with "@what: the seccomp filters may answer CALL with ACTION, @when".
 */
struct compel_sc_call;
int seccomp_check_calls(SeccompFilterEntry *const *e, size_t n,
			const struct compel_sc_call *calls, size_t nr, const char *what,
			const char *when);
/* 1: installed after the credentials (the task keeps NNP or CAP_SYS_ADMIN). */
bool rst_seccomp_late(const TaskCoreEntry *c);
/* Bytes of the restorer region the filters take. */
uint64_t rst_seccomp_len(const TaskCoreEntry *c);
/* The filters into the region at @at (the task's address, mapped here too). */
void rst_seccomp_fill(const TaskCoreEntry *c, uint64_t at, struct restorer_args *a);

#endif
