#ifndef CRIU_EST_SECCOMP_H
#define CRIU_EST_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>

#include "core.pb-c.h"
#include "est/core.pb-c.h"

struct exp;
struct imp;
struct est_entry;

/* est-seccomp.c: the process's filters (@c) named in thread core @th (only the @leader's) */
int exp_seccomp_thread(struct exp *ex, const TaskCoreEntry *c, bool leader, Est__ThreadCoreEntry *th);
/* seccomp.img, with every filter named so far */
int exp_seccomp_write(struct exp *ex);

/* A task core's filters, as import made them (freed by the caller). */
struct imp_seccomp {
	SeccompFilterEntry *e, **ep;
};
/* seccomp.img's entry, kept in @im (imp_read_all callback) */
int imp_seccomp_take(struct imp *im, const struct est_entry *e, void *ctx);
void imp_seccomp_free(struct imp *im);
/* The filters every one of the @nr threads (@in) has into @tc (storage in @out). */
int imp_seccomp_task(struct imp *im, Est__CoreEntry *const *in, size_t nr, struct imp_seccomp *out,
		     TaskCoreEntry *tc, const char *img);

#endif
