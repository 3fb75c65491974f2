/*
 * Scheduling, memory placement and keyrings of a process and its threads:
 * CPU affinity, I/O priority, NUMA policy (per thread), coredump_filter,
 * autogroup nice, session keyring, exit signal (per process). See
 * Documentation/dump.md and restore.md.
 *
 * Dump (dump-sched.c), in this order for each live process:
 *   1. dump_check_sched(): refuse what cannot come back (a pid namespace
 *      for the children, NUMA policies of mappings), before infection
 *   2. dump_collect_sched(): affinity and I/O priority of every thread,
 *      coredump_filter and autogroup from /proc
 *   3. dump_sched_thread(): the parasite's answer for one thread (NUMA
 *      policy, keyrings) into its dump_thread
 *   4. dump_finish_sched(): once every thread answered: policies into the
 *      images, keyrings checked
 * and once for the tree, dump_check_autogroups().
 *
 * Restore (restore-sched.c): rst_check_sched_image() validates one core
 * image, rst_check_sched_host() the tree against this host and criu,
 * rst_fill_thread_sched() hands a thread's state to the restorer.
 */
#ifndef CRIU_SCHED_STATE_H
#define CRIU_SCHED_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core.pb-c.h"
#include "small-file.h"

#define SCHED_MAX_CPUS		1024	/* bits of an affinity mask the images carry */
#define SCHED_MAX_NODES		1024	/* = PARASITE_MAX_NODES */
#define SCHED_MASK_WORDS	(SCHED_MAX_CPUS / 64)

struct dump_task;
struct dump_tree;
struct dump_thread;
struct parasite_thread;
struct rst_image;
struct rst_tree;
struct rst_thread;

/* "/autogroup-ID nice N", or empty (the root task group: @id -1, @nice 0). */
int sched_parse_autogroup(const char *text, long *id, int *nice);
/* A kernel id list ("0-3,8") into @mask of @words words; -1 if malformed. */
int sched_parse_list(const char *text, uint64_t *mask, size_t words);
/* The same, read from a sysfs file; -1 logged if unreadable or malformed. */
int sched_read_list(const char *path, uint64_t *mask, size_t words);
/*
 * criu's own session keyring into @id, 0 when it has none (the kernel then
 * shows the user's session keyring in its place); -1 logged on failure.
 */
int sched_own_session_keyring(uint32_t *id);

int dump_check_sched(const struct dump_task *t);
int dump_collect_sched(struct dump_task *t);
void dump_sched_thread(struct dump_thread *th, const struct parasite_thread *p);
int dump_finish_sched(struct dump_task *t);
int dump_check_autogroups(const struct dump_tree *tr);

int rst_check_sched_image(const struct rst_image *ri);
int rst_check_sched_host(const struct rst_tree *tr);
void rst_fill_thread_sched(const ThreadCoreEntry *t, struct rst_thread *d);

#endif /* CRIU_SCHED_STATE_H */
