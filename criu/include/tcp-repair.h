/*
 * Established TCP connections through the kernel's repair mode
 * (TCP_REPAIR, criu/tcp-repair.c), for criu/files-inet.c.
 *
 * Dump (the tree frozen, on criu's copy of the task's socket):
 *   1. tcp_stream_dump() turns repair on and reads the connection: both
 *      queues, their sequence numbers, the window, the negotiated options,
 *      the timestamp clock. Repair stays on: a socket closed in repair mode
 *      sends neither FIN nor RST, so a tree killed after the dump leaves
 *      its peers as they were.
 *   2. A tree that runs on (--leave-running, --leave-stopped, a failed dump)
 *      gets its sockets back with tcp_repair_off() before it is released
 *      (SO_REUSEADDR as tcp_reuse_get() read it before step 1).
 *
 * Restore, on a fresh socket of the family:
 *   1. tcp_stream_prepare(): repair on, the queues' first sequence numbers.
 *   2. bind() and connect() to the dumped addresses: in repair mode the
 *      socket is ESTABLISHED at once, nothing sent.
 *   3. tcp_stream_fill(): options, timestamp, both queues' bytes, window.
 *   4. tcp_stream_resume(), once the peer's socket exists if it is restored
 *      too (else its kernel answers the first segment with a RST): repair
 *      off (a window probe tells the peer we are back), SO_REUSEADDR set
 *      (repair mode forces it, leaving clears it), then the bytes that
 *      were never sent are written like any others.
 *   5. tcp_stream_push(), once the network lock is gone and before the
 *      process runs: what the lock kept in the queue leaves at once.
 */
#ifndef CRIU_TCP_REPAIR_H
#define CRIU_TCP_REPAIR_H

#include <stdbool.h>
#include <stdint.h>

#include "sk-inet.pb-c.h"

#define TCP_STREAM_MAX	(16u << 20)	/* bytes in one queue of an image (fd-kinds.def caps inet-sks) */

struct dump_files;

/*
 * TCP states of a connection --tcp-close restores closed: ESTABLISHED (1),
 * FIN_WAIT1 (4), FIN_WAIT2 (5), CLOSE_WAIT (8), LAST_ACK (9), CLOSING (11).
 * Only ESTABLISHED is carried whole (--tcp-established).
 */
static inline bool tcp_conn_state(uint32_t st)
{
	return st < 32 && ((1u << st) & (1u << 1 | 1u << 4 | 1u << 5 | 1u << 8 | 1u << 9 | 1u << 11));
}

/*
 * criu/files-inet.c: every connection of the dump out of repair mode, for
 * a tree that runs on; called before the tree is released. -1 logged.
 */
int inet_dump_release(struct dump_files *d);

/*
 * Every connection back in repair mode, just before the tree is killed (a
 * socket closed in repair mode sends nothing and leaves no orphan holding
 * its addresses). Under the network lock the connections leave repair
 * mode as soon as they are read (inet_dump(): the lock keeps them as they
 * were), so that a criu that dies before the commit leaves none in it.
 */
int inet_dump_rearm(struct dump_files *d);

struct rst_tree;
/* Restore, the lock gone, the tree not yet released: step 6 below for each connection. */
void inet_rst_push(const struct rst_tree *tr, const int *pidfd);

/* Repair on or off (TCP_REPAIR_ON, _OFF); -1 logged (@tfd: fd in the task, or -1). */
int tcp_repair_set(int fd, int tfd, int how);
/* Repair off, and SO_REUSEADDR back on if @reuse (repair mode clears it). */
int tcp_repair_off(int fd, int tfd, bool reuse);
/* SO_REUSEADDR of @fd, to be read before repair goes on. */
int tcp_reuse_get(int fd, int tfd, bool *reuse);
/* Repair on, then @ts (queues malloc'ed) from connected socket @fd; -1 logged. */
int tcp_stream_dump(int fd, int tfd, TcpStream *ts);
/* What an image's stream must satisfy; NULL: fine, else what is wrong. */
const char *tcp_stream_check(const TcpStream *ts);
int tcp_stream_prepare(int fd, uint32_t id, const TcpStream *ts);
int tcp_stream_fill(int fd, uint32_t id, const TcpStream *ts);
int tcp_stream_resume(int fd, uint32_t id, const TcpStream *ts, bool reuse);
int tcp_stream_push(int fd, uint32_t id);

#endif /* CRIU_TCP_REPAIR_H */
