/*
 * Registers and FPU state of one thread between our core image and the
 * established format's (criu/arch/ARCH/est-export-regs.c and
 * est-import-regs.c); the generic converters est-export-core.c and
 * est-import-core.c only call these. arch-est.h names the machine type
 * (ARCH_EST_MARCH) and struct arch_est_thread.
 *
 * Export, per thread: arch_est_export_regs() fills @a from ours and hooks
 * it into @core (its thread_info), registers adjusted for a syscall
 * restart as the format stores them. @cpu: the dump's CPU from the
 * inventory, or NULL.
 *
 * Import: arch_est_import_host() once per process with threads (this CPU
 * can hold the state at all), then per thread arch_est_import_check()
 * (what the format carries that we refuse) and arch_est_import_regs()
 * (allocates @t's registers and FPU image, sets what else thread_info
 * holds, e.g. clear_tid_addr); arch_est_import_free() frees them, on any
 * @t, also one never filled.
 */
#ifndef CRIU_EST_REGS_H
#define CRIU_EST_REGS_H

#include "arch-est.h"
#include "core.pb-c.h"
#include "inventory.pb-c.h"
#include "est/core.pb-c.h"

int arch_est_export_regs(struct arch_est_thread *a, Est__CoreEntry *core,
			 const ThreadCoreEntry *th, const CpuInfoEntry *cpu, const char *img);

int arch_est_import_host(void);
int arch_est_import_check(const Est__CoreEntry *c, const char *img);
int arch_est_import_regs(const Est__CoreEntry *c, ThreadCoreEntry *t, const char *img);
void arch_est_import_free(ThreadCoreEntry *t);

#endif
