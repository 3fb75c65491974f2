/*
 * The guardian of a --tcp-established dump (criu/tcp-guard.c): a small
 * child of criu that makes sure criu's death never leaves the tree's
 * connections in repair mode, nor a lock behind a tree that runs on.
 *
 * criu starts it once the network lock is taken (it inherits the lock's
 * owner socket, so the lock lives as long as either of them) and hands it
 * a copy of each socket before repair mode goes on. It waits for criu's
 * word over a socket pair and acts on the end of file that criu's death
 * (or exit) brings:
 *   nothing said       criu died before the commit: repair mode off on
 *                      every socket (the lock goes with the last copy of
 *                      its owner socket): the tree runs on, connected
 *   tcp_guard_committed()  the images are in place and the tree dies with
 *                      criu (PTRACE_O_EXITKILL): the lock is handed over to
 *                      criu-kept-ROOT for the restore, repair stays on
 *   tcp_guard_end()    criu handled it all: the guardian just exits
 * Every call returns 0 or -1 (logged).
 */
#ifndef CRIU_TCP_GUARD_H
#define CRIU_TCP_GUARD_H

#include <stdbool.h>
#include <sys/types.h>

/* Fork the guardian for the tree of @root. */
int tcp_guard_start(pid_t root);

/*
 * A copy of @fd to the guardian (nothing without one), before repair goes
 * on; @reuse: its SO_REUSEADDR then, put back with repair off.
 */
int tcp_guard_add(int fd, bool reuse);

/* The images are committed: on criu's death the guardian keeps the lock. */
int tcp_guard_committed(void);

/* Repair and lock settled by criu: the guardian exits, and is reaped. */
void tcp_guard_end(void);

#endif /* CRIU_TCP_GUARD_H */
