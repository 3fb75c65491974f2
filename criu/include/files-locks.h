/*
 * File locks carried with --file-locks (criu/files-locks.c).
 *
 * Dump: dump_fd_locks() for every descriptor once it has its object id;
 * dump_check_locks() once all descriptors are collected.
 * Restore: rst_locks_check() on every reg-files entry read;
 * rst_locks_take() in criu right after opening the entry's file (flock and
 * OFD locks); rst_locks_posix() in the task after its descriptors are in
 * place (POSIX locks of that task).
 */
#ifndef CRIU_FILES_LOCKS_H
#define CRIU_FILES_LOCKS_H

#include <stddef.h>
#include <stdint.h>

#include "files.pb-c.h"

struct dump_task;
struct fd_probe;

int dump_fd_locks(struct dump_task *t, struct fd_probe *p, FdKind kind, uint32_t id);
int dump_check_locks(const struct dump_task *t);

int rst_locks_check(const RegFileEntry *rf);
int rst_locks_take(const RegFileEntry *rf, int fd);
/* No logging (runs in the task): -1 with the reason in @why. */
int rst_locks_posix(const RegFileEntry *rf, int fd, char *why, size_t len);

#endif /* CRIU_FILES_LOCKS_H */
