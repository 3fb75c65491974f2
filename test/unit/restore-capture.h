/*
 * The TEST-ONLY capture of test-restore (restore-capture.c) and what it
 * shares with the victim code of test-restore.c.
 */
#ifndef TEST_RESTORE_CAPTURE_H
#define TEST_RESTORE_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PAGE			4096UL
#define PTRACE_GETSIGMASK_	0x420a

struct victim_ctl {
	pid_t pid;
	uint64_t brk, alt_sp, alt_size, buf;
	struct sigaction_entry_raw {
		uint64_t handler, flags, restorer, mask;
	} usr1;
	char dir[64];
	char result[128];
	char maps[16384];	/* "start-end perms" of each line, at capture */
	char tty[64];		/* the victim's terminal, "" for /dev/null */
	pid_t tids[8];		/* threads seized by the capture */
	int nr_tids;
};

/*
 * Set by test-restore.c in the victim (a fork of the test, so at the same
 * addresses): the capture reads them from the victim's memory.
 */
extern bool victim_timers;
extern int victim_timer_id[2];
extern pid_t victim_tid[9];
extern uint64_t victim_tid_addr[9];

/* Capture victim @v into v->dir; 0 or -1 (cap_line says where it failed). */
int capture(struct victim_ctl *v);
extern int cap_line;
/* /proc text of @fmt (with @pid) into @buf; its length or -1. */
int read_text(const char *fmt, pid_t pid, char *buf, size_t len);
/* "start-end perms" of each line of /proc/PID/maps. */
int maps_layout(pid_t pid, char *out, size_t len);

#endif /* TEST_RESTORE_CAPTURE_H */
