/*
 * Pseudo-terminals (criu/files-pty.c): the FD_PTY kind, plus the session
 * side of a pty that is a controlling terminal.
 *
 * Dump:
 *   1. The kind claims /dev/ptmx masters and /dev/pts/N slaves; a master
 *      records its pair (termios, window size, modes, session, foreground
 *      group), read through criu's copy of the descriptor.
 *   2. dump_pty_note_task() for every dumped process (from
 *      dump_collect_fds): its session, group and controlling terminal.
 *   3. write(), once every process is collected, pairs the ends and checks
 *      the sessions; what it cannot restore fails the dump there (the task
 *      runs on). A slave whose master is not in the dump is the terminal of
 *      a shell job (needs --shell-job), restored onto criu's terminal.
 *
 * Restore:
 *   1. rst_pty_check_sessions() once the images and pstree are read: every
 *      pty that is a controlling terminal has its session leader and its
 *      foreground group among the restored processes.
 *   2. open(), in criu: the first object of a pair makes the whole pair
 *      (same /dev/pts index, every slave open file description, modes).
 *   3. In the task, before its descriptors are installed (the objects are
 *      still at the numbers criu opened them at, @obj_fd):
 *      a. rst_pty_set_ctty() in a session leader right after setsid() and
 *         before it forks children: only processes forked after it share
 *         the controlling terminal;
 *      b. rst_pty_set_fg() in every process once it is in its final
 *         process group (signals blocked: SIGTTOU); the one(s) in the
 *         dumped foreground group make it the foreground.
 *      Both fill @why and return -1 on failure (no logging in the task).
 */
#ifndef CRIU_TTY_H
#define CRIU_TTY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "options.h"
#include "proc_parse.h"
#include "pstree.pb-c.h"

struct dump_files;
struct fd_rst;

/* Is /proc/PID/stat's tty_nr a /dev/pts/N (whose pair may be in the dump)? */
bool tty_nr_is_pts(int tty_nr);

/* Dump: remember process @pid's session, group and controlling terminal. */
int dump_pty_note_task(struct dump_files *d, const struct cr_options *o, pid_t pid,
		       const struct proc_stat *st);

/* Restore: the processes of @ps (nr entries) can take the dumped ptys' sessions. */
int rst_pty_check_sessions(const struct fd_rst *r, PstreeEntry *const *ps, size_t nr,
			   bool shell_job);
/* In a session leader @sid after setsid(): its controlling terminal, if any. */
int rst_pty_set_ctty(const struct fd_rst *r, const int *obj_fd, pid_t sid, char *why, size_t len);
/* In a process of session @sid, group @pgid: foreground if the dump says so. */
int rst_pty_set_fg(const struct fd_rst *r, const int *obj_fd, pid_t sid, pid_t pgid,
		   char *why, size_t len);

#endif /* CRIU_TTY_H */
