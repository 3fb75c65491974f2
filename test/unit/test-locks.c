/*
 * Unit tests for the file-lock parsers (criu/proc_parse_locks.c): the line
 * format shared by /proc/locks and fdinfo "lock:" lines, hand-made and
 * hostile input, and live locks of every kind taken by this process.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "log.h"
#include "proc_parse.h"
#include "unit.h"

#define PARSE_STR(s, out)	proc_parse_locks(s, strlen(s), "inline", out)

static const char locks_txt[] =
	"1: POSIX  ADVISORY  WRITE 1234 fe:00:10962232 5 14\n"
	"1: -> POSIX  ADVISORY  READ  99 fe:00:10962232 0 EOF\n"
	"2: OFDLCK ADVISORY  READ  -1 08:01:77 100 EOF\n"
	"3: FLOCK  ADVISORY  WRITE 4321 00:2a:123 0 EOF\n"
	"4: LEASE  ACTIVE    READ  55 00:2a:9 0 EOF\n"
	"5: DELEG  BREAKING  UNLCK 56 00:2a:10 0 EOF\n"
	"6: LEASE  BREAKING  UNLCK 57 00:2a:11 0 EOF\n";

static int test_handmade(void)
{
	struct proc_locks ls;
	const struct proc_lock *l;

	CHECK(PARSE_STR(locks_txt, &ls) == 0);
	CHECK(ls.nr == 7);
	l = &ls.l[0];
	CHECK(l->id == 1 && !l->blocked && l->kind == PROC_LOCK_POSIX && l->write);
	CHECK(l->pid == 1234 && l->maj == 0xfe && l->min == 0 && l->ino == 10962232);
	CHECK(l->start == 5 && l->end == 14);
	l = &ls.l[1];
	CHECK(l->blocked && l->kind == PROC_LOCK_POSIX && !l->write && l->end == UINT64_MAX);
	l = &ls.l[2];
	CHECK(l->kind == PROC_LOCK_OFD && l->pid == -1 && l->maj == 8 && l->min == 1);
	CHECK(l->start == 100 && l->end == UINT64_MAX);
	CHECK(ls.l[3].kind == PROC_LOCK_FLOCK && ls.l[3].write && ls.l[3].min == 0x2a);
	/* an NFS delegation is no lease of a process; a lease being broken is not active */
	CHECK(ls.l[4].kind == PROC_LOCK_LEASE && ls.l[4].lease_active && !ls.l[4].write);
	CHECK(ls.l[4].pid == 55 && ls.l[5].kind == PROC_LOCK_OTHER);
	CHECK(ls.l[6].kind == PROC_LOCK_LEASE && !ls.l[6].lease_active);
	proc_locks_free(&ls);
	CHECK(PARSE_STR("", &ls) == 0 && ls.nr == 0);
	return 0;
}

static int test_hostile(void)
{
	static const char *bad[] = {
		"1: POSIX ADVISORY WRITE 1 fe:00:1 5 14",		/* no newline */
		"x: POSIX ADVISORY WRITE 1 fe:00:1 5 14\n",
		"1 POSIX ADVISORY WRITE 1 fe:00:1 5 14\n",
		"1: POSIX ADVISORY BOTH 1 fe:00:1 5 14\n",
		"1: POSIX ADVISORY WRITE -2 fe:00:1 5 14\n",
		"1: POSIX ADVISORY WRITE 1 <none>:0 5 14\n",
		"1: POSIX ADVISORY WRITE 1 fe:00 5 14\n",
		"1: POSIX ADVISORY WRITE 1 fe:00:1 15 14\n",		/* end before start */
		"1: POSIX ADVISORY WRITE 1 fe:00:1 5\n",
		"1: POSIX ADVISORY WRITE 1 fe:00:1 5 14 junk\n",
		"1: POSIX ADVISORY WRITE 1 fe:00:1 99999999999999999999 EOF\n",
		"1: POSIX ADVISORY WRITE 99999999999 fe:00:1 0 EOF\n",
		"1: POSIX\n",
		"\n",
	};
	struct proc_locks ls;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (PARSE_STR(bad[i], &ls) != -1) {
			snprintf(unit_why, sizeof(unit_why), "accepted: %s", bad[i]);
			return -1;
		}
		CHECK(ls.nr == 0 && ls.l == NULL);
	}
	return 0;
}

static int test_fdinfo(void)
{
	static const char fdinfo[] = "pos:\t0\nflags:\t02100002\nmnt_id:\t27\nino:\t9\n"
				     "lock:\t1: FLOCK  ADVISORY  WRITE 13656 fe:00:9 0 EOF\n"
				     "lock:\t2: POSIX  ADVISORY  READ  13656 fe:00:9 0 9\n";
	static const char bad[] = "pos:\t0\nflags:\t0\nmnt_id:\t1\nlock:\tnonsense\n";
	static const char none[] = "pos:\t0\nflags:\t0\nmnt_id:\t1\n";
	struct proc_fdinfo fi = { 0 };
	struct proc_locks ls;

	CHECK(proc_parse_fdinfo(fdinfo, strlen(fdinfo), "fdinfo", &fi) == 0);
	CHECK(proc_fdinfo_locks(&fi, &ls) == 0);
	CHECK(ls.nr == 2 && ls.l[0].kind == PROC_LOCK_FLOCK && ls.l[1].kind == PROC_LOCK_POSIX);
	CHECK(!ls.l[1].write && ls.l[1].end == 9);
	proc_locks_free(&ls);
	proc_fdinfo_free(&fi);
	CHECK(proc_parse_fdinfo(bad, strlen(bad), "fdinfo", &fi) == 0);
	CHECK(proc_fdinfo_locks(&fi, &ls) == -1);
	proc_fdinfo_free(&fi);
	CHECK(proc_parse_fdinfo(none, strlen(none), "fdinfo", &fi) == 0);
	CHECK(proc_fdinfo_locks(&fi, &ls) == 1);
	proc_fdinfo_free(&fi);
	return 0;
}

static const struct proc_lock *find(const struct proc_locks *ls, enum proc_lock_kind k,
				    uint64_t ino)
{
	size_t i;

	for (i = 0; i < ls->nr; i++)
		if (ls->l[i].kind == k && ls->l[i].ino == ino && !ls->l[i].blocked)
			return &ls->l[i];
	return NULL;
}

/* Every kind of lock this process takes shows in its fdinfo and /proc/locks. */
static int test_live(void)
{
	char path[] = "/tmp/criu-test-locks.XXXXXX";
	struct flock posix = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 10 };
	struct flock ofd = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 100 };
	int fd = mkstemp(path), fd2 = open(path, O_RDWR);
	struct proc_fdinfo fi = { 0 };
	const struct proc_lock *l;
	struct proc_locks ls;
	struct stat st;

	CHECK(fd >= 0 && fd2 >= 0 && fstat(fd, &st) == 0);
	unlink(path);
	CHECK(flock(fd2, LOCK_SH) == 0);
	CHECK(fcntl(fd, F_SETLK, &posix) == 0);
	CHECK(fcntl(fd2, F_OFD_SETLK, &ofd) == 0);
	CHECK(proc_read_fdinfo(getpid(), fd, &fi) == 0);
	CHECK(proc_fdinfo_locks(&fi, &ls) == 0);
	CHECK(ls.nr == 1 && ls.l[0].kind == PROC_LOCK_POSIX && ls.l[0].pid == getpid());
	CHECK(ls.l[0].start == 5 && ls.l[0].end == 14 && ls.l[0].write);
	CHECK(ls.l[0].ino == st.st_ino && ls.l[0].maj == major(st.st_dev));
	proc_locks_free(&ls);
	proc_fdinfo_free(&fi);
	CHECK(proc_read_fdinfo(getpid(), fd2, &fi) == 0);
	CHECK(proc_fdinfo_locks(&fi, &ls) == 0);
	CHECK(ls.nr == 2 && find(&ls, PROC_LOCK_FLOCK, st.st_ino) && find(&ls, PROC_LOCK_OFD, st.st_ino));
	proc_locks_free(&ls);
	proc_fdinfo_free(&fi);
	CHECK(proc_read_locks(&ls) == 0);
	l = find(&ls, PROC_LOCK_OFD, st.st_ino);
	CHECK(l && l->pid == -1 && !l->write && l->start == 100 && l->end == UINT64_MAX);
	CHECK(find(&ls, PROC_LOCK_POSIX, st.st_ino) && find(&ls, PROC_LOCK_FLOCK, st.st_ino));
	proc_locks_free(&ls);
	close(fd);
	close(fd2);
	return 0;
}

static int setup(void)
{
	log_init(NULL, NULL, LOG_NONE);
	return 0;
}

static const struct unit_case cases[] = {
	{ "quiet logging", setup },
	{ "locks: every kind, waiters, EOF", test_handmade },
	{ "locks: hostile input", test_hostile },
	{ "fdinfo lock lines", test_fdinfo },
	{ "live: flock, POSIX and OFD locks vs. fdinfo and /proc/locks", test_live },
};

UNIT_MAIN(cases)
