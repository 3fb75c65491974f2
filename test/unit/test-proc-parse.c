/*
 * Unit tests for the /proc parsers: captured and hand-made fixtures from
 * test/fixtures/proc/, inline hostile inputs, and cross-checks of the live
 * wrappers on /proc/self against libc.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "proc_parse.h"
#include "small-file.h"
#include "unit.h"

/* ---- helpers ---------------------------------------------------------------- */

/* Fixtures live in ../fixtures/proc relative to this binary (test/unit/). */
static int fixture_path(const char *name, char *buf, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	n = snprintf(buf, size, "%s/../fixtures/proc/%s", exe, name);
	return n > 0 && (size_t)n < size ? 0 : -1;
}

struct fixture {
	char	*text;
	size_t	len;
	char	name[64];
};

static int load(const char *name, struct fixture *f)
{
	char path[PATH_MAX];

	snprintf(f->name, sizeof(f->name), "%s", name);
	if (fixture_path(name, path, sizeof(path)))
		return -1;
	return proc_read_file(path, 1 << 20, &f->text, &f->len);
}

#define LOAD(name, f)	CHECK(load(name, f) == 0)

/* Run a parser on a fixture; returns the parser's result (fixture freed). */
#define PARSE_FIXTURE(fn, file, out)						\
	({									\
		struct fixture _f;						\
		int _r = -2;							\
		if (load(file, &_f) == 0) {					\
			_r = fn(_f.text, _f.len, _f.name, out);			\
			free(_f.text);						\
		}								\
		_r;								\
	})

#define PARSE_STR(fn, s, out)	fn(s, strlen(s), "inline", out)

/* A line of @n copies of @c, heap, for overlong-line tests. */
static char *long_run(size_t n, char c)
{
	char *s = malloc(n + 1);

	if (s) {
		memset(s, c, n);
		s[n] = '\0';
	}
	return s;
}

/* ---- file reader -------------------------------------------------------------- */

static int test_read_file_bounds(void)
{
	char path[PATH_MAX], *buf;
	size_t len;

	CHECK(fixture_path("stat.txt", path, sizeof(path)) == 0);
	CHECK(proc_read_file(path, 1 << 20, &buf, &len) == 0);
	CHECK(len == 306 && buf[len] == '\0' && buf[len - 1] == '\n');
	free(buf);
	CHECK(proc_read_file(path, 306, &buf, &len) == 0 && len == 306);
	free(buf);
	CHECK(proc_read_file(path, 305, &buf, &len) == -1 && buf == NULL && len == 0);
	CHECK(proc_read_file(path, 0, &buf, &len) == -1);
	/* a file larger than one read chunk, read in several rounds */
	CHECK(fixture_path("smaps.txt", path, sizeof(path)) == 0);
	CHECK(proc_read_file(path, 1 << 20, &buf, &len) == 0 && len == 23527);
	CHECK(strlen(buf) == len);
	free(buf);
	CHECK(proc_read_file("/nonexistent/file", 1 << 20, &buf, &len) == -1);
	CHECK(proc_read_file_presized(path, 1 << 20, &buf, &len) == 0 && len == 23527);
	CHECK(strlen(buf) == len);
	free(buf);
	CHECK(proc_read_file_presized(path, 23526, &buf, &len) == -1 && buf == NULL);
	CHECK(proc_read_file_presized("/nonexistent/file", 1 << 20, &buf, &len) == -1);
	return 0;
}

/* ---- maps ------------------------------------------------------------------- */

static const struct proc_vma *find_vma(const struct proc_vmas *v, const char *path)
{
	size_t i;

	for (i = 0; i < v->nr; i++)
		if (!strcmp(v->v[i].path, path))
			return &v->v[i];
	return NULL;
}

static int test_maps_captured(void)
{
	struct proc_vmas v;
	const struct proc_vma *m;

	CHECK(PARSE_FIXTURE(proc_parse_maps, "maps.txt", &v) == 0);
	CHECK(v.nr == 30);
	m = find_vma(&v, "/tmp/pp dir/with space.bin");
	CHECK(m && m->kind == PROC_VMA_FILE && !m->deleted);
	CHECK(m->prot == PROT_READ && m->shared);
	CHECK(m->start == 0x7f10f20fb000ULL && m->end == 0x7f10f20fd000ULL);
	CHECK(m->inode == 10953043 && m->dev_major == 0xfe && m->dev_minor == 0);
	m = find_vma(&v, "/tmp/pp-deleted.bin");
	CHECK(m && m->deleted && !m->shared && m->pgoff == 0x1000);
	CHECK(m->prot == (PROT_READ | PROT_WRITE));
	m = find_vma(&v, "/memfd:ppmem");
	CHECK(m && m->deleted && m->shared && m->dev_minor == 1 && m->inode == 1046);
	m = &v.v[7];		/* anonymous, with the kernel's trailing blank */
	CHECK(m->kind == PROC_VMA_ANON && !strcmp(m->path, "") && m->inode == 0);
	CHECK(v.v[20].kind == PROC_VMA_VVAR && v.v[21].kind == PROC_VMA_VVAR_VCLOCK);
	CHECK(v.v[22].kind == PROC_VMA_VDSO && v.v[22].prot == (PROT_READ | PROT_EXEC));
	CHECK(v.v[28].kind == PROC_VMA_STACK && v.v[28].end == 0x7fff6d452000ULL);
	m = &v.v[29];
	CHECK(m->kind == PROC_VMA_VSYSCALL && m->start == 0xffffffffff600000ULL);
	CHECK(m->prot == PROT_EXEC && !m->has_vmflags);
	proc_vmas_free(&v);
	CHECK(v.nr == 0 && v.v == NULL);
	return 0;
}

static int test_maps_special_names(void)
{
	struct proc_vmas v;

	CHECK(PARSE_FIXTURE(proc_parse_maps, "maps-special.txt", &v) == 0);
	CHECK(v.nr == 8);
	CHECK_STR(v.v[0].path, "/opt/app/bin");
	CHECK(v.v[1].kind == PROC_VMA_ANON && v.v[1].path[0] == '\0');	/* no blank at all */
	CHECK(v.v[2].kind == PROC_VMA_ANON_NAMED);
	CHECK_STR(v.v[2].path, "[anon:jit cache]");
	CHECK(v.v[3].kind == PROC_VMA_ANON_SHMEM && v.v[3].shared);
	CHECK(v.v[4].kind == PROC_VMA_OTHER);
	CHECK_STR(v.v[4].path, "anon_inode:[perf_event]");
	CHECK(v.v[5].kind == PROC_VMA_OTHER);
	/* only the final " (deleted)" is the marker */
	CHECK(v.v[6].deleted && v.v[6].dev_major == 0x103 && v.v[6].pgoff == 0x3000);
	CHECK_STR(v.v[6].path, "/x/ (deleted)/y");
	CHECK(v.v[7].prot == 0 && v.v[7].dev_major == 0xfff && v.v[7].dev_minor == 0xfffff);
	CHECK(v.v[7].inode == UINT64_MAX);
	CHECK_STR(v.v[7].path, "/  leading and trailing  ");
	proc_vmas_free(&v);
	return 0;
}

static int test_maps_hostile(void)
{
	static const char * const bad[] = {
		"maps-truncated.txt", "maps-overflow-addr.txt", "maps-missing-inode.txt",
		"maps-bad-perms.txt", "maps-reversed.txt", "maps-overlap.txt",
		"maps-garbage-inode.txt",
	};
	struct proc_vmas v;
	char *line, *name;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int r = PARSE_FIXTURE(proc_parse_maps, bad[i], &v);

		if (r != -1)
			snprintf(unit_why, sizeof(unit_why), "%s gave %d", bad[i], r);
		if (r != -1)
			return -1;
		CHECK(v.nr == 0 && v.v == NULL);
	}
	CHECK(PARSE_STR(proc_parse_maps, "", &v) == 0 && v.nr == 0);
	CHECK(PARSE_STR(proc_parse_maps, "\n", &v) == -1);
	CHECK(PARSE_STR(proc_parse_maps, "1000-2000 r-xp 0 1:2 3 /a\n1000", &v) == -1);
	CHECK(proc_parse_maps("1000-2000 r-xp 0 1:2 3 /a\0b\n", 28, "nul", &v) == -1);
	CHECK(PARSE_STR(proc_parse_maps, "1000-2000 r-xp 0 1000:2 3\n", &v) == -1);
	CHECK(PARSE_STR(proc_parse_maps, "1000-2000 r-xp 0 1:2 3x\n", &v) == -1);
	CHECK(PARSE_STR(proc_parse_maps, "-2000 r-xp 0 1:2 3\n", &v) == -1);

	/* a name longer than PROC_STR_MAX is refused, one just below is kept */
	name = long_run(PROC_STR_MAX + 1, 'n');
	CHECK(name);
	name[0] = '/';
	line = malloc(PROC_STR_MAX + 64);
	CHECK(line);
	snprintf(line, PROC_STR_MAX + 64, "1000-2000 r-xp 0 1:2 3 %s\n", name);
	CHECK(PARSE_STR(proc_parse_maps, line, &v) == -1);
	name[PROC_STR_MAX - 1] = '\0';
	snprintf(line, PROC_STR_MAX + 64, "1000-2000 r-xp 0 1:2 3 %s\n", name);
	CHECK(PARSE_STR(proc_parse_maps, line, &v) == 0);
	CHECK(v.nr == 1 && strlen(v.v[0].path) == PROC_STR_MAX - 1);
	proc_vmas_free(&v);
	free(line);
	free(name);
	return 0;
}

static int test_smaps_captured(void)
{
	struct proc_vmas v;
	const struct proc_vma *m;
	size_t i;

	CHECK(PARSE_FIXTURE(proc_parse_smaps, "smaps.txt", &v) == 0);
	CHECK(v.nr == 30);
	for (i = 0; i < v.nr; i++)
		CHECK(v.v[i].has_vmflags && !(v.v[i].vmflags & PROC_VMF(UNKNOWN)));
	m = find_vma(&v, "/tmp/pp-deleted.bin");
	CHECK(m && m->deleted);
	CHECK(m->vmflags == (PROC_VMF(RD) | PROC_VMF(WR) | PROC_VMF(MR) | PROC_VMF(MW) |
			     PROC_VMF(ME) | PROC_VMF(AC)));
	m = &v.v[28];
	CHECK(m->kind == PROC_VMA_STACK && (m->vmflags & PROC_VMF(GD)));
	CHECK(m->rss_kb == 20 && m->anon_kb == 20 && m->swap_kb == 0);
	CHECK(m->vmflags == (PROC_VMF(RD) | PROC_VMF(WR) | PROC_VMF(MR) | PROC_VMF(MW) |
			     PROC_VMF(ME) | PROC_VMF(GD) | PROC_VMF(AC)));
	CHECK(v.v[29].vmflags == PROC_VMF(EX));
	proc_vmas_free(&v);
	return 0;
}

static int test_smaps_hostile(void)
{
	struct proc_vmas v;

	CHECK(proc_vmflag_bit("rd") == PROC_VMF_RD && proc_vmflag_bit("zz") == -1);
	CHECK(PARSE_STR(proc_parse_smaps, "Rss: 4 kB\n", &v) == -1);
	CHECK(PARSE_STR(proc_parse_smaps, "1000-2000 r-xp 0 1:2 3\nRss: 4 MB\n", &v) == -1);
	CHECK(PARSE_STR(proc_parse_smaps, "1000-2000 r-xp 0 1:2 3\nRss: -4 kB\n", &v) == -1);
	CHECK(PARSE_STR(proc_parse_smaps,
			"1000-2000 r-xp 0 1:2 3\nSwap: 99999999999999999999 kB\n", &v) == -1);
	CHECK(PARSE_STR(proc_parse_smaps, "1000-2000 r-xp 0 1:2 3\nVmFlags: rd wrx\n", &v) == -1);
	CHECK(PARSE_STR(proc_parse_smaps,
			"1000-2000 r-xp 0 1:2 3\nVmFlags: rd\nVmFlags: wr\n", &v) == -1);
	CHECK(PARSE_STR(proc_parse_smaps, "1000-2000 r-xp 0 1:2 3\nno colon here\n", &v) == -1);
	/* unknown keys and unknown codes are tolerated, the latter flagged */
	CHECK(PARSE_STR(proc_parse_smaps,
			"1000-2000 r-xp 0 1:2 3 /a b\nFuture_Key: whatever\nRss: 8 kB\n"
			"VmFlags: rd qq \n2000-3000 rw-p 0 0:0 0\n", &v) == 0);
	CHECK(v.nr == 2 && v.v[0].rss_kb == 8);
	CHECK(v.v[0].vmflags == (PROC_VMF(RD) | PROC_VMF(UNKNOWN)));
	CHECK(!v.v[1].has_vmflags);
	CHECK_STR(v.v[0].path, "/a b");
	proc_vmas_free(&v);
	return 0;
}

/*
 * Codes captured on 6.18 (guard regions, mlock onfault, droppable, mseal),
 * plus a ProtectionKey and the kernel's "??" for a bit it has no name for.
 */
static int test_smaps_vmflags(void)
{
	struct proc_vmas v;
	unsigned int i, j;

	CHECK(PARSE_FIXTURE(proc_parse_smaps, "smaps-vmflags.txt", &v) == 0);
	CHECK(v.nr == 4);
	CHECK(v.v[0].vmflags == (PROC_VMF(RD) | PROC_VMF(WR) | PROC_VMF(MR) | PROC_VMF(MW) |
				 PROC_VMF(ME) | PROC_VMF(AC) | PROC_VMF(SL) | PROC_VMF(UNKNOWN)));
	CHECK(v.v[0].pkey == 3 && v.v[1].pkey == 0 && v.v[2].pkey == 0);
	CHECK(v.v[1].vmflags == (PROC_VMF(RD) | PROC_VMF(WR) | PROC_VMF(MR) | PROC_VMF(MW) |
				 PROC_VMF(ME) | PROC_VMF(NR) | PROC_VMF(WF) | PROC_VMF(DD) |
				 PROC_VMF(DP)));
	CHECK((v.v[2].vmflags & (PROC_VMF(GU) | PROC_VMF(LO) | PROC_VMF(LF))) ==
	      (PROC_VMF(GU) | PROC_VMF(LO) | PROC_VMF(LF)));
	CHECK(v.v[3].vmflags & PROC_VMF(GU));
	proc_vmas_free(&v);
	CHECK(PARSE_STR(proc_parse_smaps, "1000-2000 r-xp 0 1:2 3\nProtectionKey: x\n", &v) == -1);
	CHECK(PARSE_STR(proc_parse_smaps, "1000-2000 r-xp 0 1:2 3\nVmFlags: rd ?\n", &v) == -1);
	/* the table: one distinct two-letter code per row, every row has a policy */
	CHECK(vmflag_table_size == PROC_VMF_NR_KNOWN);
	for (i = 0; i < vmflag_table_size; i++) {
		CHECK(strlen(vmflag_table[i].code) == 2 && vmflag_table[i].meaning[0]);
		CHECK(proc_vmflag_bit(vmflag_table[i].code) == (int)i);
		for (j = 0; j < i; j++)
			CHECK(strcmp(vmflag_table[i].code, vmflag_table[j].code));
	}
	CHECK(proc_vmflag_bit("??") == -1);
	return 0;
}

/* read_small_file and proc_stat_state: the shared pieces compel uses too. */
static int test_small_file_and_state(void)
{
	static const char t[] = "9 (a) Z) T 1\n";
	char buf[8];
	struct proc_stat st;
	ssize_t n;

	CHECK(read_small_file("/nonexistent/x", buf, sizeof(buf)) == -1 && errno == ENOENT);
	CHECK(buf[0] == '\0');
	n = read_small_file("/proc/self/stat", buf, sizeof(buf));
	CHECK(n == 7 && strlen(buf) == 7);	/* cut at size - 1 */
	CHECK(proc_stat_state(t, strlen(t)) == t + 9);
	CHECK(!proc_stat_state("9 (a)", 5) && !proc_stat_state("9 (a) ", 6));
	CHECK(!proc_stat_state("9 (a)  R", 8) && !proc_stat_state("9 (a)xR", 7));
	CHECK(proc_read_stat_or_gone(getpid(), &st) == 0 && st.pid == getpid() && st.state == 'R');
	CHECK(proc_read_stat_or_gone(INT_MAX, &st) == 1);
	return 0;
}

/* ---- status ----------------------------------------------------------------- */

static int test_status_captured(void)
{
	struct proc_status st;

	CHECK(PARSE_FIXTURE(proc_parse_status, "status.txt", &st) == 0);
	CHECK_STR(st.name, "a) b (c)");
	CHECK(st.state == 'R' && st.umask == 022);
	CHECK(st.tgid == 5494 && st.pid == 5494 && st.ppid == 5480 && st.tracerpid == 0);
	CHECK(st.ngroups == 0 && st.groups == NULL);
	CHECK(st.nr_nspid == 1 && st.nspid[0] == 5494 && st.threads == 1);
	CHECK(st.sigq_queued == 3 && st.sigq_limit == 96343);
	CHECK(st.sigblk == ((1ULL << (SIGUSR1 - 1)) | (1ULL << (SIGTERM - 1))));
	CHECK(st.sigign == 1ULL << (SIGHUP - 1) && st.sigpnd == 0);
	CHECK(st.capprm == 0x000001fffeffffffULL && st.capamb == 0);
	CHECK(st.no_new_privs == 0 && st.seccomp == 0 && st.seccomp_filters == 0);
	CHECK(st.present == (PROC_ST_NGID | PROC_ST_NSPID | PROC_ST_CAPAMB | PROC_ST_NONEWPRIVS |
			     PROC_ST_SECCOMP | PROC_ST_SECCOMP_FILTERS | PROC_ST_UMASK |
			     PROC_ST_SIGQ | PROC_ST_GROUPS));
	proc_status_free(&st);
	return 0;
}

static int test_status_handmade(void)
{
	struct proc_status st;

	CHECK(PARSE_FIXTURE(proc_parse_status, "status-nested.txt", &st) == 0);
	CHECK_STR(st.name, "w\\ei rd\nname");
	CHECK(st.state == 't' && st.umask == 077 && st.tracerpid == 77);
	CHECK(st.uid[0] == 1000 && st.uid[3] == 1003 && st.gid[3] == 4294967295u);
	CHECK(st.ngroups == 5 && st.groups[0] == 4 && st.groups[4] == 4294967294u);
	CHECK(st.nr_nspid == 3 && st.nspid[0] == 301 && st.nspid[1] == 12 && st.nspid[2] == 1);
	CHECK(st.shdpnd == 0x8000000000000000ULL && st.sigblk == 0xfffffffe7ffbfeffULL);
	CHECK(st.capamb == 0x400 && st.no_new_privs == 1);
	CHECK(st.seccomp == 2 && st.seccomp_filters == 3);
	proc_status_free(&st);
	CHECK(st.groups == NULL);
	return 0;
}

/* NGROUPS_MAX large gids: a ~700 KB line that must parse. */
static int test_status_max_groups(void)
{
	const size_t n = 65536, per = 11;	/* "4294967295 " */
	struct proc_status st;
	struct fixture f;
	char *text, *g;
	size_t i, off;
	int r;

	LOAD("status-nested.txt", &f);
	g = strstr(f.text, "Groups:");
	CHECK(g);
	g[0] = 'X';			/* hide the fixture's own line */
	text = malloc(8 + n * per + 1 + f.len + 1);
	CHECK(text);
	off = (size_t)sprintf(text, "Groups:\t");
	for (i = 0; i < n; i++, off += per)
		memcpy(text + off, "4294967295 ", per);
	text[off++] = '\n';
	memcpy(text + off, f.text, f.len + 1);
	r = proc_parse_status(text, off + f.len, "groups", &st);
	free(text);
	free(f.text);
	CHECK(r == 0 && st.ngroups == n && st.groups[n - 1] == 4294967295u && st.pid == 301);
	proc_status_free(&st);
	return 0;
}

static int test_status_hostile(void)
{
	static const char * const bad[] = {
		"status-no-tgid.txt", "status-overflow-hex.txt", "status-garbage-pid.txt",
		"status-short-uid.txt", "status-truncated.txt", "status-long-name.txt",
		"status-dup-pid.txt",
	};
	struct proc_status st;
	char *groups, *text;
	size_t i, n;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int r = PARSE_FIXTURE(proc_parse_status, bad[i], &st);

		if (r != -1)
			snprintf(unit_why, sizeof(unit_why), "%s gave %d", bad[i], r);
		if (r != -1)
			return -1;
		CHECK(st.groups == NULL && st.pid == 0);
	}
	CHECK(PARSE_STR(proc_parse_status, "Name:\tx\nState:\tQQ\n", &st) == -1);
	CHECK(PARSE_STR(proc_parse_status, "no colon\n", &st) == -1);
	/* 34 namespace levels is one more than the kernel can have */
	CHECK(PARSE_STR(proc_parse_status, "NSpid:\t1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17"
			" 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34\n", &st) == -1);

	/* a huge Groups line parses; more than NGROUPS_MAX entries does not */
	n = 65537;
	groups = malloc(n * 2 + 16);
	CHECK(groups);
	for (i = 0; i < n; i++)
		memcpy(groups + 2 * i, "7 ", 2);
	groups[2 * n] = '\0';
	text = malloc(n * 2 + 64);
	CHECK(text);
	snprintf(text, n * 2 + 64, "Groups:\t%s\n", groups);
	CHECK(PARSE_STR(proc_parse_status, text, &st) == -1);
	CHECK(st.groups == NULL);
	free(groups);
	free(text);
	return test_status_max_groups();
}

/* ---- stat ------------------------------------------------------------------- */

static int test_stat_captured(void)
{
	struct proc_stat st;

	CHECK(PARSE_FIXTURE(proc_parse_stat, "stat.txt", &st) == 0);
	CHECK(st.pid == 5494 && st.state == 'R');
	CHECK_STR(st.comm, "a) b (c)");
	CHECK(st.ppid == 5480 && st.pgrp == 5480 && st.session == 3400);
	CHECK(st.tty_nr == 0 && st.tpgid == -1 && st.flags == 4194560);
	CHECK(st.priority == 20 && st.nice == 0 && st.num_threads == 1);
	CHECK(st.start_time == 156975 && st.vsize == 2449408 && st.rss == 293);
	CHECK(st.rsslim == UINT64_MAX);
	CHECK(st.start_code == 93828771270656ULL && st.end_code == 93828771273565ULL);
	CHECK(st.start_stack == 140735026631888ULL && st.exit_signal == 17);
	CHECK(st.start_data == 93828771282384ULL && st.start_brk == 93829400113152ULL);
	CHECK(st.arg_start == 140735026633165ULL && st.arg_end == 140735026633191ULL);
	CHECK(st.env_start == 140735026633191ULL && st.env_end == 140735026634731ULL);
	CHECK(st.exit_code == 0);
	return 0;
}

static int test_stat_handmade(void)
{
	static const char * const bad[] = {
		"stat-few-fields.txt", "stat-overflow-ppid.txt", "stat-garbage.txt",
		"stat-no-paren.txt",
	};
	struct proc_stat st;
	size_t i;

	CHECK(PARSE_FIXTURE(proc_parse_stat, "stat-newline-comm.txt", &st) == 0);
	CHECK_STR(st.comm, "x\n) y");
	CHECK(st.pid == 7 && st.state == 'S' && st.ppid == 1 && st.tpgid == -1);
	CHECK(st.nice == -5 && st.num_threads == 3 && st.rss == -1);
	CHECK(st.exit_signal == -17 && st.start_data == 4 && st.env_end == 10);
	CHECK(st.exit_code == -9);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int r = PARSE_FIXTURE(proc_parse_stat, bad[i], &st);

		if (r != -1)
			snprintf(unit_why, sizeof(unit_why), "%s gave %d", bad[i], r);
		if (r != -1)
			return -1;
		CHECK(st.pid == 0);
	}
	CHECK(PARSE_STR(proc_parse_stat, "", &st) == -1);
	CHECK(PARSE_STR(proc_parse_stat, "1 (x) R 1 1 1", &st) == -1);
	CHECK(PARSE_STR(proc_parse_stat, "1 (x) \n", &st) == -1);
	CHECK(PARSE_STR(proc_parse_stat, "1 (x\n", &st) == -1);
	CHECK(PARSE_STR(proc_parse_stat, "1 (0123456789012345678901234567890123456789"
			"0123456789012345678901234567890123456789) R 1\n", &st) == -1);
	/* exit_code (52) as a huge negative must not wrap into an int */
	CHECK(PARSE_STR(proc_parse_stat, "7 (x) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 "
			"1 1 1 1 1 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 1 1 1 1 1 1 1 "
			"-9223372036854775808\n", &st) == -1);
	CHECK(PARSE_STR(proc_parse_stat, "7 (x) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 "
			"1 1 1 1 1 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 1 1 1 1 1 1 1 "
			"-9223372036854775809\n", &st) == -1);
	/* a field beyond 52 (a newer kernel) is accepted */
	CHECK(PARSE_STR(proc_parse_stat, "7 (x) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 "
			"1 1 1 1 1 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 1 1 1 1 1 1 1 5 6\n", &st) == 0);
	CHECK(st.exit_code == 5);
	return 0;
}

/* ---- limits ----------------------------------------------------------------- */

static int test_limits_captured(void)
{
	struct proc_limits l;

	CHECK(PARSE_FIXTURE(proc_parse_limits, "limits.txt", &l) == 0);
	CHECK(l.lim[RLIMIT_CPU].rlim_cur == RLIM_INFINITY);
	CHECK(l.lim[RLIMIT_STACK].rlim_cur == 8388608 && l.lim[RLIMIT_STACK].rlim_max == RLIM_INFINITY);
	CHECK(l.lim[RLIMIT_CORE].rlim_cur == 0);
	CHECK(l.lim[RLIMIT_NOFILE].rlim_cur == 20000 && l.lim[RLIMIT_NOFILE].rlim_max == 20000);
	CHECK(l.lim[RLIMIT_NPROC].rlim_max == 96343 && l.lim[RLIMIT_MSGQUEUE].rlim_cur == 819200);
	CHECK(l.lim[RLIMIT_RTTIME].rlim_max == RLIM_INFINITY && l.lim[RLIMIT_NICE].rlim_cur == 0);
	return 0;
}

static int test_limits_handmade(void)
{
	static const char * const bad[] = {
		"limits-missing-row.txt", "limits-negative.txt", "limits-soft-above-hard.txt",
		"limits-garbage.txt",
	};
	struct proc_limits l;
	size_t i;

	/* rows in another order, plus one we do not know */
	CHECK(PARSE_FIXTURE(proc_parse_limits, "limits-shuffled.txt", &l) == 0);
	CHECK(l.lim[RLIMIT_NOFILE].rlim_cur == 1024 && l.lim[RLIMIT_NOFILE].rlim_max == 4096);
	CHECK(l.lim[RLIMIT_CPU].rlim_cur == 10 && l.lim[RLIMIT_CPU].rlim_max == RLIM_INFINITY);
	CHECK(l.lim[RLIMIT_NICE].rlim_cur == 40 && l.lim[RLIMIT_MEMLOCK].rlim_max == 65536);
	CHECK(l.lim[RLIMIT_RTPRIO].rlim_max == 0 && l.lim[RLIMIT_RTTIME].rlim_cur == RLIM_INFINITY);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int r = PARSE_FIXTURE(proc_parse_limits, bad[i], &l);

		if (r != -1)
			snprintf(unit_why, sizeof(unit_why), "%s gave %d", bad[i], r);
		if (r != -1)
			return -1;
	}
	CHECK(PARSE_STR(proc_parse_limits, "", &l) == -1);
	CHECK(PARSE_STR(proc_parse_limits, "Max cpu time 1 1\n", &l) == -1);
	return 0;
}

/* ---- fdinfo ----------------------------------------------------------------- */

static int test_fdinfo_common(void)
{
	struct proc_fdinfo fi;
	uint64_t mask;

	CHECK(PARSE_FIXTURE(proc_parse_fdinfo, "fdinfo-regular.txt", &fi) == 0);
	CHECK(fi.pos == 5 && fi.flags == 0102000 && fi.mnt_id == 27);
	CHECK(fi.has_ino && fi.ino == 861 && fi.nr_kv == 0);
	CHECK(proc_fdinfo_signalfd(&fi, &mask) == 1);
	proc_fdinfo_free(&fi);

	CHECK(PARSE_FIXTURE(proc_parse_fdinfo, "fdinfo-signalfd.txt", &fi) == 0);
	CHECK(fi.flags == 02 && fi.nr_kv == 1);
	CHECK_STR(proc_fdinfo_get(&fi, "sigmask"), "0000000000004200");
	CHECK(proc_fdinfo_signalfd(&fi, &mask) == 0);
	CHECK(mask == ((1ULL << (SIGUSR1 - 1)) | (1ULL << (SIGTERM - 1))));
	proc_fdinfo_free(&fi);
	CHECK(fi.kv == NULL && fi.nr_kv == 0);
	return 0;
}

static int test_fdinfo_eventfd_epoll(void)
{
	struct proc_epoll_tfd *t;
	struct proc_eventfd e;
	struct proc_fdinfo fi;
	size_t n;

	CHECK(PARSE_FIXTURE(proc_parse_fdinfo, "fdinfo-eventfd.txt", &fi) == 0);
	CHECK(fi.flags == 04002);
	CHECK(proc_fdinfo_eventfd(&fi, &e) == 0);
	CHECK(e.count == 7 && e.id == 1 && e.semaphore == 1);
	CHECK(proc_fdinfo_epoll(&fi, &t, &n) == 1 && t == NULL && n == 0);
	proc_fdinfo_free(&fi);

	CHECK(PARSE_FIXTURE(proc_parse_fdinfo, "fdinfo-epoll.txt", &fi) == 0);
	CHECK(proc_fdinfo_eventfd(&fi, &e) == 1);
	CHECK(proc_fdinfo_epoll(&fi, &t, &n) == 0 && n == 2);
	CHECK(t[0].tfd == 6 && t[0].events == 0x1c && t[0].data == 0x2a);
	CHECK(t[0].pos == 0 && t[0].ino == 0x15 && t[0].sdev == 0x10);
	CHECK(t[1].tfd == 4 && t[1].events == 0x80000019 && t[1].data == 0x1122334455667788ULL);
	free(t);
	proc_fdinfo_free(&fi);

	/* an older kernel's line without pos/ino/sdev */
	CHECK(PARSE_STR(proc_parse_fdinfo, "pos:\t0\nflags:\t02\nmnt_id:\t9\n"
			"tfd:        3 events:       19 data:               ff\n", &fi) == 0);
	CHECK(!fi.has_ino);
	CHECK(proc_fdinfo_epoll(&fi, &t, &n) == 0 && n == 1);
	CHECK(t[0].tfd == 3 && t[0].data == 0xff && t[0].pos == -1 && t[0].ino == 0);
	free(t);
	proc_fdinfo_free(&fi);
	return 0;
}

static int test_fdinfo_timerfd(void)
{
	struct proc_fdinfo fi;
	struct proc_timerfd tf;

	CHECK(PARSE_FIXTURE(proc_parse_fdinfo, "fdinfo-timerfd.txt", &fi) == 0);
	CHECK(proc_fdinfo_timerfd(&fi, &tf) == 0);
	CHECK(tf.clockid == 1 && tf.ticks == 0 && tf.settime_flags == 0);
	CHECK(tf.value_sec == 999 && tf.value_nsec == 998898391);
	CHECK(tf.interval_sec == 3 && tf.interval_nsec == 250000000);
	proc_fdinfo_free(&fi);
	return 0;
}

static int test_fdinfo_notify(void)
{
	static const uint8_t h[8] = { 0x1a, 0xc5, 0x03 };
	struct proc_inotify_wd *w;
	struct proc_fanotify fan;
	struct proc_fdinfo fi;
	size_t n;

	CHECK(PARSE_FIXTURE(proc_parse_fdinfo, "fdinfo-inotify.txt", &fi) == 0);
	CHECK(proc_fdinfo_fanotify(&fi, &fan) == 1);
	CHECK(proc_fdinfo_inotify(&fi, &w, &n) == 0 && n == 1);
	CHECK(w[0].wd == 1 && w[0].ino == 0x3c51a && w[0].sdev == 0xfe00000);
	CHECK(w[0].mask == 0x300 && w[0].ignored_mask == 0);
	CHECK(w[0].fh.bytes == 8 && w[0].fh.type == 1 && !memcmp(w[0].fh.handle, h, 8));
	free(w);
	proc_fdinfo_free(&fi);

	CHECK(PARSE_FIXTURE(proc_parse_fdinfo, "fdinfo-fanotify.txt", &fi) == 0);
	CHECK(proc_fdinfo_inotify(&fi, &w, &n) == 1);
	CHECK(proc_fdinfo_fanotify(&fi, &fan) == 0);
	CHECK(fan.flags == 0 && fan.event_flags == 0x8000 && fan.nr_marks == 2);
	CHECK(fan.marks[0].kind == PROC_FAN_MARK_MOUNT && fan.marks[0].mnt_id == 0x1b);
	CHECK(fan.marks[0].mask == 0x20 && fan.marks[0].fh.bytes == 0);
	CHECK(fan.marks[1].kind == PROC_FAN_MARK_INODE && fan.marks[1].ino == 0x3c51a);
	CHECK(fan.marks[1].sdev == 0xfe00000 && fan.marks[1].mask == 0x28);
	CHECK(fan.marks[1].fh.bytes == 8 && !memcmp(fan.marks[1].fh.handle, h, 8));
	free(fan.marks);
	proc_fdinfo_free(&fi);
	return 0;
}

static int test_fdinfo_hostile(void)
{
	static const char * const bad[] = {
		"fdinfo-bad-flags.txt", "fdinfo-no-pos.txt", "fdinfo-dup-pos.txt",
	};
	struct proc_epoll_tfd *t;
	struct proc_inotify_wd *w;
	struct proc_timerfd tf;
	struct proc_eventfd e;
	struct proc_fdinfo fi;
	size_t i, n;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int r = PARSE_FIXTURE(proc_parse_fdinfo, bad[i], &fi);

		if (r != -1)
			snprintf(unit_why, sizeof(unit_why), "%s gave %d", bad[i], r);
		if (r != -1)
			return -1;
		CHECK(fi.kv == NULL);
	}
	/* the common lines parse, the kind helper refuses */
	CHECK(PARSE_FIXTURE(proc_parse_fdinfo, "fdinfo-epoll-no-events.txt", &fi) == 0);
	CHECK(proc_fdinfo_epoll(&fi, &t, &n) == -1 && t == NULL && n == 0);
	proc_fdinfo_free(&fi);
	CHECK(PARSE_FIXTURE(proc_parse_fdinfo, "fdinfo-inotify-short-handle.txt", &fi) == 0);
	CHECK(proc_fdinfo_inotify(&fi, &w, &n) == -1 && w == NULL);
	proc_fdinfo_free(&fi);
	CHECK(PARSE_FIXTURE(proc_parse_fdinfo, "fdinfo-inotify-huge-handle.txt", &fi) == 0);
	CHECK(proc_fdinfo_inotify(&fi, &w, &n) == -1 && w == NULL);
	proc_fdinfo_free(&fi);
	CHECK(PARSE_FIXTURE(proc_parse_fdinfo, "fdinfo-timerfd-incomplete.txt", &fi) == 0);
	CHECK(proc_fdinfo_timerfd(&fi, &tf) == -1);
	proc_fdinfo_free(&fi);
	CHECK(PARSE_FIXTURE(proc_parse_fdinfo, "fdinfo-eventfd-overflow.txt", &fi) == 0);
	CHECK(proc_fdinfo_eventfd(&fi, &e) == -1);
	proc_fdinfo_free(&fi);
	CHECK(PARSE_STR(proc_parse_fdinfo, "pos:\t0\nflags:\t0\nmnt_id:\t1\n"
			"it_value: (1, 1000000000)\nit_interval: (0, 0)\nclockid: 0\n"
			"ticks: 0\nsettime flags: 0\n", &fi) == 0);
	CHECK(proc_fdinfo_timerfd(&fi, &tf) == -1);
	proc_fdinfo_free(&fi);
	CHECK(PARSE_STR(proc_parse_fdinfo, "pos:\t0\nflags:\t0\nmnt_id:\t1\n"
			"inotify wd:1 ino:1 sdev:1 mask:1 mask:2\n", &fi) == 0);
	CHECK(proc_fdinfo_inotify(&fi, &w, &n) == -1);
	proc_fdinfo_free(&fi);
	CHECK(PARSE_STR(proc_parse_fdinfo, "pos:\t0\nflags:\t0\nmnt_id:\t1\n"
			"tfd: 1 events: 1 data: 1 events: 2\n", &fi) == 0);
	CHECK(proc_fdinfo_epoll(&fi, &t, &n) == -1);
	proc_fdinfo_free(&fi);
	CHECK(PARSE_STR(proc_parse_fdinfo, "pos:\t0\nflags:\t0\nmnt_id:\t1\n"
			"tfd: 1 events: 1 data: 1 pos:-1\n", &fi) == 0);
	CHECK(proc_fdinfo_epoll(&fi, &t, &n) == -1);
	proc_fdinfo_free(&fi);
	/* the kernel prints f_pos signed: /dev/mem-like files can go "negative" */
	CHECK(PARSE_STR(proc_parse_fdinfo, "pos:\t-2\nflags:\t0\nmnt_id:\t1\n", &fi) == 0);
	CHECK(fi.pos == -2);
	proc_fdinfo_free(&fi);
	CHECK(PARSE_STR(proc_parse_fdinfo, "pos:\t9223372036854775808\nflags:\t0\nmnt_id:\t1\n",
			&fi) == -1);
	CHECK(PARSE_STR(proc_parse_fdinfo, "pos:\t0\nflags:\t040000000000\nmnt_id:\t1\n",
			&fi) == -1);
	CHECK(PARSE_STR(proc_parse_fdinfo, "pos:\t0\nflags:\t0\nmnt_id:\t1\nnocolon\n", &fi) == -1);
	return 0;
}

/* ---- mountinfo ----------------------------------------------------------------- */

static int test_mountinfo_captured(void)
{
	struct proc_mounts m;

	CHECK(PARSE_FIXTURE(proc_parse_mountinfo, "mountinfo.txt", &m) == 0);
	CHECK(m.nr == 20);
	CHECK(m.m[5].mnt_id == 27 && m.m[5].parent_id == 1);
	CHECK(m.m[5].major == 254 && m.m[5].minor == 0);
	CHECK_STR(m.m[5].root, "/");
	CHECK_STR(m.m[5].mountpoint, "/");
	CHECK_STR(m.m[5].fstype, "ext4");
	CHECK_STR(m.m[5].source, "/dev/vda");
	CHECK_STR(m.m[5].options, "rw,relatime");
	CHECK_STR(m.m[5].super_options, "rw,discard,resv_strict,resuid=65534,resgid=65534");
	CHECK(m.m[5].propagation == 0);
	CHECK_STR(m.m[6].options, "ro,nosuid,nodev,relatime");
	CHECK_STR(m.m[18].super_options, "rw,name=systemd");
	CHECK_STR(m.m[19].fstype, "cgroup2");
	proc_mounts_free(&m);
	CHECK(m.m == NULL && m.nr == 0);
	return 0;
}

static int test_mountinfo_handmade(void)
{
	static const char * const bad[] = {
		"mountinfo-no-separator.txt", "mountinfo-bad-shared.txt", "mountinfo-bad-dev.txt",
		"mountinfo-truncated.txt", "mountinfo-missing-fields.txt",
	};
	struct proc_mounts m;
	size_t i;

	CHECK(PARSE_FIXTURE(proc_parse_mountinfo, "mountinfo-special.txt", &m) == 0);
	CHECK(m.nr == 4);
	CHECK(m.m[0].propagation == PROC_MNT_MASTER && m.m[0].master_id == 1);
	CHECK_STR(m.m[1].root, "/a b");
	CHECK_STR(m.m[1].mountpoint, "/mnt/with space\ttab");
	CHECK_STR(m.m[1].source, "my\\src");
	CHECK(m.m[1].propagation == (PROC_MNT_SHARED | PROC_MNT_MASTER | PROC_MNT_PROPAGATE_FROM));
	CHECK(m.m[1].shared_id == 12 && m.m[1].master_id == 3 && m.m[1].propagate_from == 7);
	CHECK(m.m[2].propagation == PROC_MNT_UNBINDABLE);
	CHECK_STR(m.m[2].source, "");
	CHECK_STR(m.m[2].super_options, "rw,lowerdir=/l");
	CHECK(m.m[3].major == 4095 && m.m[3].minor == 1048575);
	CHECK_STR(m.m[3].mountpoint, "/x\\777y");	/* not a valid escape: kept */
	CHECK_STR(m.m[3].fstype, "fuse.sshfs");
	proc_mounts_free(&m);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int r = PARSE_FIXTURE(proc_parse_mountinfo, bad[i], &m);

		if (r != -1)
			snprintf(unit_why, sizeof(unit_why), "%s gave %d", bad[i], r);
		if (r != -1)
			return -1;
		CHECK(m.m == NULL);
	}
	CHECK(PARSE_STR(proc_parse_mountinfo, "1 0 0:1 / / rw shared:1 shared:2 - x y rw\n", &m) == -1);
	CHECK(PARSE_STR(proc_parse_mountinfo, "1 0 0:1  / rw - x y rw\n", &m) == -1);
	return 0;
}

/* ---- cgroup, timers, children, auxv ---------------------------------------------- */

static int test_cgroup(void)
{
	struct proc_cgroups c;

	CHECK(PARSE_FIXTURE(proc_parse_cgroup, "cgroup.txt", &c) == 0);
	CHECK(c.nr == 10);
	CHECK(c.c[0].hier_id == 9);
	CHECK_STR(c.c[0].controllers, "name=systemd");
	CHECK_STR(c.c[5].path, "/process_api/15d63cef4cdfff4d1bcf59d609012b3e");
	CHECK(c.c[9].hier_id == 0);
	CHECK_STR(c.c[9].controllers, "");
	CHECK_STR(c.c[9].path, "/");
	proc_cgroups_free(&c);

	CHECK(PARSE_FIXTURE(proc_parse_cgroup, "cgroup-special.txt", &c) == 0);
	CHECK(c.nr == 3 && c.c[0].hier_id == 12);
	CHECK_STR(c.c[1].path, "/user.slice/a:b:c");
	CHECK_STR(c.c[2].path, "/system.slice/x service");
	proc_cgroups_free(&c);
	CHECK(PARSE_FIXTURE(proc_parse_cgroup, "cgroup-bad-id.txt", &c) == -1 && c.c == NULL);
	CHECK(PARSE_FIXTURE(proc_parse_cgroup, "cgroup-no-path.txt", &c) == -1 && c.c == NULL);
	CHECK(PARSE_STR(proc_parse_cgroup, "1:cpu:\n", &c) == -1);
	CHECK(PARSE_STR(proc_parse_cgroup, "99999999999:cpu:/\n", &c) == -1);
	return 0;
}

static int test_timers(void)
{
	static const char * const bad[] = {
		"timers-truncated-record.txt", "timers-bad-notify.txt", "timers-wrong-order.txt",
	};
	struct proc_timers t;
	size_t i;

	CHECK(PARSE_FIXTURE(proc_parse_timers, "timers.txt", &t) == 0);
	CHECK(t.nr == 3);
	CHECK(t.t[0].id == 2 && t.t[0].signo == SIGALRM && t.t[0].sigval == 0xdeadbeef);
	CHECK(t.t[0].notify == SIGEV_SIGNAL && t.t[0].thread_id && t.t[0].notify_pid == 5494);
	CHECK(t.t[0].clockid == CLOCK_BOOTTIME);
	CHECK(t.t[1].id == 1 && t.t[1].notify == SIGEV_NONE && !t.t[1].thread_id);
	CHECK(t.t[1].signo == 35 && t.t[1].clockid == CLOCK_REALTIME);
	CHECK(t.t[2].id == 0 && t.t[2].notify == SIGEV_SIGNAL && t.t[2].clockid == CLOCK_MONOTONIC);
	proc_timers_free(&t);

	CHECK(PARSE_FIXTURE(proc_parse_timers, "timers-special.txt", &t) == 0);
	CHECK(t.nr == 1 && t.t[0].notify == SIGEV_THREAD && t.t[0].clockid == -6);
	CHECK(t.t[0].sigval == UINT64_MAX && t.t[0].signo == 0);
	proc_timers_free(&t);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int r = PARSE_FIXTURE(proc_parse_timers, bad[i], &t);

		if (r != -1)
			snprintf(unit_why, sizeof(unit_why), "%s gave %d", bad[i], r);
		if (r != -1)
			return -1;
		CHECK(t.t == NULL);
	}
	CHECK(PARSE_STR(proc_parse_timers, "", &t) == 0 && t.nr == 0);
	CHECK(PARSE_STR(proc_parse_timers, "ID: 1\nsignal: 1/1ffffffffffffffff\n"
			"notify: none/pid.1\nClockID: 0\n", &t) == -1);
	return 0;
}

static int test_children(void)
{
	struct proc_pids p;

	CHECK(PARSE_STR(proc_parse_children, "", &p) == 0 && p.nr == 0);
	CHECK(PARSE_STR(proc_parse_children, "12 345 6789 ", &p) == 0);
	CHECK(p.nr == 3 && p.pid[0] == 12 && p.pid[1] == 345 && p.pid[2] == 6789);
	proc_pids_free(&p);
	CHECK(PARSE_STR(proc_parse_children, "12\n", &p) == 0 && p.nr == 1);
	proc_pids_free(&p);
	CHECK(PARSE_STR(proc_parse_children, "12 -3 ", &p) == -1 && p.pid == NULL);
	CHECK(PARSE_STR(proc_parse_children, "12 3x ", &p) == -1);
	CHECK(PARSE_STR(proc_parse_children, "0 ", &p) == -1);
	CHECK(PARSE_STR(proc_parse_children, "2147483648 ", &p) == -1);
	return 0;
}

static int test_auxv(void)
{
	unsigned long v[2 * (PROC_AUXV_MAX + 2)] = { 6, 4096, 9, 0x401000, 0, 0, 77, 77 };
	struct proc_auxv av;
	unsigned long x;
	size_t i;

	CHECK(proc_parse_auxv(v, 8 * sizeof(long), "auxv", &av) == 0);
	CHECK(av.nr == 3);
	CHECK(proc_auxv_get(&av, 6, &x) == 0 && x == 4096);
	CHECK(proc_auxv_get(&av, 9, &x) == 0 && x == 0x401000);
	CHECK(proc_auxv_get(&av, 77, &x) == -1);
	CHECK(proc_parse_auxv(v, 4 * sizeof(long), "auxv", &av) == -1);	/* no AT_NULL */
	CHECK(proc_parse_auxv(v, 5 * sizeof(long), "auxv", &av) == -1);	/* half a pair */
	CHECK(proc_parse_auxv(v, 0, "auxv", &av) == -1);
	for (i = 0; i < PROC_AUXV_MAX + 2; i++) {
		v[2 * i] = 100 + i;
		v[2 * i + 1] = i;
	}
	v[2 * (PROC_AUXV_MAX + 1)] = 0;
	CHECK(proc_parse_auxv(v, sizeof(v), "auxv", &av) == -1 && av.nr == 0);
	v[2 * (PROC_AUXV_MAX - 1)] = 0;
	CHECK(proc_parse_auxv(v, sizeof(v), "auxv", &av) == 0 && av.nr == PROC_AUXV_MAX);
	return 0;
}

static int test_audit_id(void)
{
	uint32_t id = 7;

	CHECK(proc_parse_audit_id("4294967295", 10, "loginuid", &id) == 0 && id == 4294967295u);
	CHECK(proc_parse_audit_id("12\n", 3, "sessionid", &id) == 0 && id == 12);
	CHECK(proc_parse_audit_id("4294967296", 10, "loginuid", &id) == -1);
	CHECK(proc_parse_audit_id("", 0, "loginuid", &id) == -1);
	CHECK(proc_parse_audit_id("-1", 2, "loginuid", &id) == -1);
	CHECK(proc_parse_audit_id("1 2", 3, "loginuid", &id) == -1);
	CHECK(proc_parse_audit_id("1\n\n", 3, "loginuid", &id) == -1);
	CHECK(proc_parse_audit_id("12345", 2, "loginuid", &id) == 0 && id == 12);	/* @len bounds it */
	return 0;
}

#define TN(s)	proc_parse_timens_offsets(s, strlen(s), "timens_offsets", &tn)

static int test_timens_offsets(void)
{
	struct proc_timens tn;

	CHECK(TN("monotonic           0         0\nboottime            0         0\n") == 0);
	CHECK(tn.mono_sec == 0 && tn.boot_sec == 0 && tn.mono_nsec == 0 && tn.boot_nsec == 0);
	CHECK(TN("monotonic        1000         5\nboottime           -5 999999999\n") == 0);
	CHECK(tn.mono_sec == 1000 && tn.mono_nsec == 5 && tn.boot_sec == -5);
	CHECK(tn.boot_nsec == 999999999);
	CHECK(TN("boottime 1 2\nmonotonic 3 4\n") == 0 && tn.mono_sec == 3 && tn.boot_nsec == 2);
	CHECK(TN("monotonic 0 0\n") == -1);				/* boottime missing */
	CHECK(TN("monotonic 0 0\nmonotonic 0 0\nboottime 0 0\n") == -1);
	CHECK(TN("monotonic 0 0\nboottime 0 0\nunknown 0 0\n") == -1);	/* not carried */
	CHECK(TN("monotonic 0 1000000000\nboottime 0 0\n") == -1);
	CHECK(TN("monotonic 9223372037 0\nboottime 0 0\n") == -1);
	CHECK(TN("monotonic 0 0 0\nboottime 0 0\n") == -1);
	CHECK(TN("monotonic 0\nboottime 0 0\n") == -1);
	CHECK(TN("monotonic 0 0\nboottime 0 0") == -1);		/* truncated */
	CHECK(TN("") == -1);
	return 0;
}

/* ---- mutation: no input may crash a parser ------------------------------------ */

static uint32_t rng_state = 12345;

static uint32_t rng(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 8;
}

static void free_parsed(int kind, void *out)
{
	switch (kind) {
	case 0: case 1: proc_vmas_free(out); break;
	case 2: proc_status_free(out); break;
	case 4: proc_fdinfo_free(out); break;
	case 5: proc_mounts_free(out); break;
	case 6: proc_timers_free(out); break;
	case 7: proc_cgroups_free(out); break;
	}
}

/* Run parser @kind on @text; 0 or -1 are both fine, anything else is not. */
static int run_parser(int kind, const char *text, size_t len)
{
	union {
		struct proc_vmas v; struct proc_status st; struct proc_stat sa;
		struct proc_fdinfo fi; struct proc_mounts m; struct proc_timers t;
		struct proc_cgroups c; struct proc_limits l;
	} u;
	int r = -2;

	switch (kind) {
	case 0: r = proc_parse_maps(text, len, "mut", &u.v); break;
	case 1: r = proc_parse_smaps(text, len, "mut", &u.v); break;
	case 2: r = proc_parse_status(text, len, "mut", &u.st); break;
	case 3: r = proc_parse_stat(text, len, "mut", &u.sa); break;
	case 4: r = proc_parse_fdinfo(text, len, "mut", &u.fi); break;
	case 5: r = proc_parse_mountinfo(text, len, "mut", &u.m); break;
	case 6: r = proc_parse_timers(text, len, "mut", &u.t); break;
	case 7: r = proc_parse_cgroup(text, len, "mut", &u.c); break;
	case 8: r = proc_parse_limits(text, len, "mut", &u.l); break;
	}
	if (r == 0 && kind == 4) {	/* the helpers must survive it too */
		struct proc_inotify_wd *w;
		struct proc_epoll_tfd *t;
		struct proc_fanotify fan;
		struct proc_timerfd tf;
		struct proc_eventfd e;
		uint64_t m;
		size_t n;

		if (proc_fdinfo_epoll(&u.fi, &t, &n) == 0)
			free(t);
		if (proc_fdinfo_inotify(&u.fi, &w, &n) == 0)
			free(w);
		if (proc_fdinfo_fanotify(&u.fi, &fan) == 0)
			free(fan.marks);
		proc_fdinfo_eventfd(&u.fi, &e);
		proc_fdinfo_timerfd(&u.fi, &tf);
		proc_fdinfo_signalfd(&u.fi, &m);
	}
	if (r == 0)
		free_parsed(kind, &u);
	return r == 0 || r == -1 ? 0 : -1;
}

static int test_mutations(void)
{
	static const struct { const char *file; int kind; } fx[] = {
		{ "maps.txt", 0 }, { "maps-special.txt", 0 }, { "smaps.txt", 1 },
		{ "status-nested.txt", 2 }, { "stat.txt", 3 }, { "fdinfo-epoll.txt", 4 },
		{ "fdinfo-inotify.txt", 4 }, { "fdinfo-fanotify.txt", 4 },
		{ "fdinfo-timerfd.txt", 4 }, { "fdinfo-eventfd.txt", 4 },
		{ "mountinfo-special.txt", 5 }, { "timers.txt", 6 }, { "cgroup.txt", 7 },
		{ "limits.txt", 8 },
	};
	static const char noise[] = "0123456789abcdefx-:/ ()\t\n\\";
	unsigned int level = log_get_level();
	struct fixture f;
	size_t i, k, pos;
	int round, ret = 0;
	char *m;

	log_set_level(LOG_NONE);	/* thousands of expected errors */
	for (i = 0; i < ARRAY_SIZE(fx) && !ret; i++) {
		if (load(fx[i].file, &f)) {
			ret = -1;
			break;
		}
		for (round = 0; round < 150 && !ret; round++) {
			m = malloc(f.len + 1);
			if (!m) {
				ret = -1;
				break;
			}
			memcpy(m, f.text, f.len + 1);
			for (k = 0; k < 1 + rng() % 4; k++) {
				pos = rng() % f.len;
				m[pos] = rng() % 8 ? noise[rng() % (sizeof(noise) - 1)] : (char)rng();
			}
			ret = run_parser(fx[i].kind, m, rng() % 5 ? f.len : rng() % f.len);
			free(m);
		}
		free(f.text);
	}
	log_set_level(level);
	CHECK(ret == 0);
	return 0;
}

/* ---- live /proc/self, cross-checked with libc --------------------------------------- */

static const struct proc_vma *vma_at(const struct proc_vmas *v, const void *addr)
{
	uint64_t a = (uint64_t)(uintptr_t)addr;
	size_t i;

	for (i = 0; i < v->nr; i++)
		if (v->v[i].start <= a && a < v->v[i].end)
			return &v->v[i];
	return NULL;
}

static int test_live_maps(void)
{
	char exe[PATH_MAX];
	const struct proc_vma *m;
	struct proc_vmas v;
	ssize_t n;
	int local = 0;
	void *ro;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	CHECK(n > 0);
	exe[n] = '\0';
	ro = mmap(NULL, 3 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(ro != MAP_FAILED);
	CHECK(proc_read_maps(getpid(), &v) == 0);
	m = vma_at(&v, (void *)test_live_maps);
	CHECK(m && m->kind == PROC_VMA_FILE && (m->prot & PROT_EXEC) && !m->shared);
	CHECK(!strcmp(m->path, exe));	/* CHECK_STR would copy PATH_MAX into unit_why */
	m = vma_at(&v, &local);
	CHECK(m && m->prot == (PROT_READ | PROT_WRITE));
	m = vma_at(&v, ro);
	CHECK(m && m->prot == PROT_READ && m->kind == PROC_VMA_ANON && m->inode == 0);
	CHECK(m->start <= (uintptr_t)ro && m->end >= (uintptr_t)ro + 3 * 4096);
	proc_vmas_free(&v);
	munmap(ro, 3 * 4096);
	return 0;
}

static int test_live_smaps(void)
{
	const struct proc_vma *m;
	struct proc_vmas v;
	char *rw;

	rw = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(rw != MAP_FAILED);
	memset(rw, 1, 2 * 4096);
	CHECK(madvise(rw, 4 * 4096, MADV_DONTFORK) == 0);
	CHECK(proc_read_smaps(getpid(), &v) == 0);
	m = vma_at(&v, rw);
	CHECK(m && m->has_vmflags);
	CHECK((m->vmflags & (PROC_VMF(RD) | PROC_VMF(WR) | PROC_VMF(DC))) ==
	      (PROC_VMF(RD) | PROC_VMF(WR) | PROC_VMF(DC)));
	CHECK(!(m->vmflags & (PROC_VMF(EX) | PROC_VMF(SH) | PROC_VMF(UNKNOWN))));
	CHECK(m->rss_kb >= 8 && m->anon_kb >= 8);
	proc_vmas_free(&v);
	munmap(rw, 4 * 4096);
	return 0;
}

static int test_live_status(void)
{
	struct proc_status st;
	sigset_t set, old;
	mode_t um;
	int ngroups = getgroups(0, NULL);

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGRTMIN + 3);
	CHECK(sigprocmask(SIG_BLOCK, &set, &old) == 0);
	um = umask(027);
	int r = proc_read_status(getpid(), &st);
	umask(um);
	sigprocmask(SIG_SETMASK, &old, NULL);
	CHECK(r == 0);
	CHECK(st.pid == getpid() && st.tgid == getpid() && st.ppid == getppid());
	CHECK(st.uid[0] == getuid() && st.uid[1] == geteuid());
	CHECK(st.gid[0] == getgid() && st.gid[1] == getegid());
	CHECK(st.ngroups == (size_t)ngroups && st.umask == 027);
	CHECK(st.sigblk & (1ULL << (SIGUSR2 - 1)));
	CHECK(st.sigblk & (1ULL << (SIGRTMIN + 3 - 1)));
	CHECK(st.state == 'R' && st.threads >= 1);
	CHECK(st.nr_nspid >= 1 && st.nspid[st.nr_nspid - 1] == getpid());
	proc_status_free(&st);
	return 0;
}

static int test_live_stat(void)
{
	struct proc_stat st;
	struct proc_status ss;

	CHECK(proc_read_stat(getpid(), &st) == 0);
	CHECK(st.pid == getpid() && st.ppid == getppid());
	CHECK(st.pgrp == getpgrp() && st.session == getsid(0));
	CHECK(st.state == 'R' && st.num_threads >= 1 && st.vsize > 0);
	CHECK(st.arg_start < st.arg_end && st.env_start <= st.env_end);
	CHECK(proc_read_status(getpid(), &ss) == 0);
	CHECK_STR(st.comm, ss.name);
	proc_status_free(&ss);
	return 0;
}

static int test_live_limits(void)
{
	struct rlimit r, core;
	struct proc_limits l;
	int i, ret;

	/* a value only this test sets, so the file is really the live one */
	CHECK(getrlimit(RLIMIT_CORE, &core) == 0);
	r = core;
	r.rlim_cur = r.rlim_max == RLIM_INFINITY || r.rlim_max > 12345 ? 12345 : r.rlim_max;
	CHECK(setrlimit(RLIMIT_CORE, &r) == 0);
	ret = proc_read_limits(getpid(), &l);
	setrlimit(RLIMIT_CORE, &core);
	CHECK(ret == 0 && l.lim[RLIMIT_CORE].rlim_cur == r.rlim_cur);
	for (i = 0; i < PROC_NR_LIMITS; i++) {
		CHECK(getrlimit(i, &r) == 0);
		if (i == RLIMIT_CORE)
			continue;	/* checked above, restored since */
		if (i == RLIMIT_NOFILE) {
			/* valgrind keeps a few descriptors back from what it reports */
			CHECK(l.lim[i].rlim_cur >= r.rlim_cur && l.lim[i].rlim_max >= r.rlim_max);
			CHECK(l.lim[i].rlim_cur - r.rlim_cur < 64);
			continue;
		}
		CHECK(l.lim[i].rlim_cur == r.rlim_cur && l.lim[i].rlim_max == r.rlim_max);
	}
	return 0;
}

static int test_live_mountinfo(void)
{
	struct proc_mounts m;
	struct statx sx;
	size_t i;

	CHECK(statx(AT_FDCWD, "/", 0, STATX_MNT_ID, &sx) == 0);
	CHECK(sx.stx_mask & STATX_MNT_ID);
	CHECK(proc_read_mountinfo(getpid(), &m) == 0);
	CHECK(m.nr >= 1);
	for (i = 0; i < m.nr; i++)
		if ((uint64_t)m.m[i].mnt_id == sx.stx_mnt_id)
			break;
	CHECK(i < m.nr);
	CHECK_STR(m.m[i].mountpoint, "/");
	CHECK(m.m[i].major == sx.stx_dev_major && m.m[i].minor == sx.stx_dev_minor);
	proc_mounts_free(&m);
	return 0;
}

static int test_live_cgroup(void)
{
	struct proc_cgroups c;
	size_t i;

	CHECK(proc_read_cgroup(getpid(), &c) == 0);
	CHECK(c.nr >= 1);
	for (i = 0; i < c.nr; i++)
		CHECK(c.c[i].path[0] == '/');
	proc_cgroups_free(&c);
	return 0;
}
static int test_live_fdinfo_plain(void)
{
	char tmp[] = "/tmp/test-proc-parse-XXXXXX";
	struct proc_fdinfo fi;
	struct stat sb;
	int fd = mkostemp(tmp, O_APPEND | O_CLOEXEC), r;

	CHECK(fd >= 0);
	unlink(tmp);
	r = write(fd, tmp, sizeof(tmp)) == (ssize_t)sizeof(tmp) && lseek(fd, 7, SEEK_SET) == 7 &&
	    fstat(fd, &sb) == 0 ? proc_read_fdinfo(getpid(), fd, &fi) : -2;
	close(fd);
	CHECK(r == 0);
	CHECK(fi.pos == 7 && (fi.flags & O_APPEND) && (fi.flags & O_ACCMODE) == O_RDWR);
	CHECK(fi.has_ino && fi.ino == sb.st_ino && fi.mnt_id > 0);
	proc_fdinfo_free(&fi);
	return 0;
}

static int test_live_fdinfo_anon(void)
{
	struct itimerspec its = { .it_value = { 500, 0 }, .it_interval = { 2, 5000 } };
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0xabcdef0123ULL };
	int efd = -1, ep = -1, sfd = -1, tfd = -1, ret = -1;
	struct proc_epoll_tfd *t = NULL;
	struct proc_fdinfo fi = { 0 };
	struct proc_timerfd tf;
	struct proc_eventfd e;
	uint64_t mask;
	sigset_t set;
	size_t n;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGWINCH);
	efd = eventfd(5, EFD_SEMAPHORE);
	ep = epoll_create1(0);
	sfd = signalfd(-1, &set, 0);
	tfd = timerfd_create(CLOCK_MONOTONIC, 0);
	if (efd < 0 || ep < 0 || sfd < 0 || tfd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) ||
	    timerfd_settime(tfd, 0, &its, NULL))
		goto out;
	if (proc_read_fdinfo(getpid(), efd, &fi) || proc_fdinfo_eventfd(&fi, &e) ||
	    e.count != 5 || e.semaphore == 0)
		goto out;
	proc_fdinfo_free(&fi);
	if (proc_read_fdinfo(getpid(), ep, &fi) || proc_fdinfo_epoll(&fi, &t, &n) || n != 1 ||
	    t[0].tfd != efd || t[0].data != 0xabcdef0123ULL || !(t[0].events & EPOLLIN))
		goto out;
	proc_fdinfo_free(&fi);
	if (proc_read_fdinfo(getpid(), sfd, &fi) || proc_fdinfo_signalfd(&fi, &mask) ||
	    mask != ((1ULL << (SIGUSR1 - 1)) | (1ULL << (SIGWINCH - 1))))
		goto out;
	proc_fdinfo_free(&fi);
	if (proc_read_fdinfo(getpid(), tfd, &fi) || proc_fdinfo_timerfd(&fi, &tf) ||
	    tf.clockid != CLOCK_MONOTONIC || tf.interval_sec != 2 || tf.interval_nsec != 5000 ||
	    tf.value_sec > 500 || tf.value_sec < 400)
		goto out;
	ret = 0;
out:
	free(t);
	proc_fdinfo_free(&fi);
	close(efd);
	close(ep);
	close(sfd);
	close(tfd);
	CHECK(ret == 0);
	return 0;
}

static int test_live_fdinfo_inotify(void)
{
	struct proc_inotify_wd *w = NULL;
	struct proc_fdinfo fi;
	struct stat sb;
	int fd, wd, r;
	size_t n = 0;

	CHECK(stat("/", &sb) == 0);
	fd = inotify_init1(IN_CLOEXEC);
	CHECK(fd >= 0);
	wd = inotify_add_watch(fd, "/", IN_CREATE | IN_MOVED_TO);
	r = wd < 0 ? -1 : proc_read_fdinfo(getpid(), fd, &fi);
	close(fd);
	CHECK(r == 0);
	r = proc_fdinfo_inotify(&fi, &w, &n);
	proc_fdinfo_free(&fi);
	CHECK(r == 0 && n == 1);
	r = w[0].wd == wd && w[0].ino == sb.st_ino &&
	    (w[0].mask & (IN_CREATE | IN_MOVED_TO)) == (IN_CREATE | IN_MOVED_TO);
	free(w);
	CHECK(r);
	return 0;
}

static int test_live_timers(void)
{
	struct sigevent se = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2 };
	struct proc_timers t;
	timer_t id;
	size_t i;
	int r;

	se.sigev_value.sival_ptr = (void *)0x5eed;
	CHECK(timer_create(CLOCK_MONOTONIC, &se, &id) == 0);
	r = proc_read_timers(getpid(), &t);
	timer_delete(id);
	CHECK(r == 0);
	for (i = 0; i < t.nr; i++)
		if (t.t[i].id == (int)(intptr_t)id)
			break;
	CHECK(i < t.nr);
	r = t.t[i].signo == SIGUSR2 && t.t[i].sigval == 0x5eed &&
	    t.t[i].notify == SIGEV_SIGNAL && !t.t[i].thread_id &&
	    t.t[i].notify_pid == getpid() && t.t[i].clockid == CLOCK_MONOTONIC;
	proc_timers_free(&t);
	CHECK(r);
	return 0;
}

static int test_live_children(void)
{
	struct proc_pids p;
	char path[64];
	pid_t child;
	int r;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", getpid());
	if (access(path, R_OK)) {
		fprintf(stderr, "note: %s absent (CONFIG_PROC_CHILDREN off), checking the error path\n",
			path);
		CHECK(proc_read_children(getpid(), getpid(), &p) == -1 && p.pid == NULL);
		return 0;
	}
	child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	r = proc_read_children(getpid(), getpid(), &p);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	CHECK(r == 0 && p.nr == 1 && p.pid[0] == child);
	proc_pids_free(&p);
	return 0;
}

static pthread_barrier_t task_barrier;
static pid_t task_tid;

static void *task_thread(void *arg)
{
	(void)arg;
	task_tid = gettid();
	pthread_barrier_wait(&task_barrier);	/* tid published */
	pthread_barrier_wait(&task_barrier);	/* main has looked */
	return NULL;
}

static int test_live_tasks(void)
{
	struct proc_pids p;
	pthread_t th;
	int r;

	CHECK(pthread_barrier_init(&task_barrier, NULL, 2) == 0);
	CHECK(pthread_create(&th, NULL, task_thread, NULL) == 0);
	pthread_barrier_wait(&task_barrier);
	r = proc_read_tasks(getpid(), &p);
	pthread_barrier_wait(&task_barrier);
	pthread_join(th, NULL);
	pthread_barrier_destroy(&task_barrier);
	CHECK(r == 0 && p.nr == 2);
	CHECK(p.pid[0] < p.pid[1]);
	CHECK((p.pid[0] == getpid() && p.pid[1] == task_tid) ||
	      (p.pid[1] == getpid() && p.pid[0] == task_tid));
	proc_pids_free(&p);
	return 0;
}

static int test_live_auxv(void)
{
	struct proc_auxv av;
	unsigned long v;

	CHECK(proc_read_auxv(getpid(), &av) == 0);
	CHECK(av.nr > 1 && av.a[2 * (av.nr - 1)] == AT_NULL);
	CHECK(proc_auxv_get(&av, AT_PAGESZ, &v) == 0 && v == getauxval(AT_PAGESZ));
	CHECK(v == (unsigned long)sysconf(_SC_PAGESIZE));
	CHECK(proc_auxv_get(&av, AT_ENTRY, &v) == 0 && v == getauxval(AT_ENTRY));
	CHECK(proc_auxv_get(&av, AT_UID, &v) == 0 && v == getuid());
	CHECK(proc_auxv_get(&av, AT_PHDR, &v) == 0 && v == getauxval(AT_PHDR));
	return 0;
}

/* The runner's own ids, read through its task directory too. */
static int test_live_audit(void)
{
	struct proc_audit a, t;
	char buf[32];
	FILE *f = fopen("/proc/self/sessionid", "r");

	if (!f)
		return 0;	/* a kernel without audit */
	CHECK(fgets(buf, sizeof(buf), f) != NULL);
	fclose(f);
	CHECK(proc_read_audit(getpid(), getpid(), &a) == 0 && a.present);
	CHECK(a.sessionid == strtoul(buf, NULL, 10));
	CHECK(proc_read_audit(getpid(), gettid(), &t) == 0);
	CHECK(t.loginuid == a.loginuid && t.sessionid == a.sessionid);
	return 0;
}

/* ---- table ------------------------------------------------------------------ */

static const struct unit_case cases[] = {
	{ "proc_read_file: size bounds", test_read_file_bounds },
	{ "maps: captured file", test_maps_captured },
	{ "maps: special names, deleted, odd paths", test_maps_special_names },
	{ "maps: hostile input", test_maps_hostile },
	{ "smaps: captured file", test_smaps_captured },
	{ "smaps: hostile input", test_smaps_hostile },
	{ "smaps: every VmFlags code, ??, ProtectionKey", test_smaps_vmflags },
	{ "status: captured file", test_status_captured },
	{ "status: nested namespaces, groups, escapes", test_status_handmade },
	{ "status: hostile input", test_status_hostile },
	{ "stat: captured file, comm with parens", test_stat_captured },
	{ "stat: newline in comm, hostile input", test_stat_handmade },
	{ "stat: the shared small-file reader and state finder", test_small_file_and_state },
	{ "limits: captured file", test_limits_captured },
	{ "limits: rows by name, hostile input", test_limits_handmade },
	{ "fdinfo: common lines, signalfd", test_fdinfo_common },
	{ "fdinfo: eventfd and epoll", test_fdinfo_eventfd_epoll },
	{ "fdinfo: timerfd", test_fdinfo_timerfd },
	{ "fdinfo: inotify and fanotify", test_fdinfo_notify },
	{ "fdinfo: hostile input", test_fdinfo_hostile },
	{ "mountinfo: captured file", test_mountinfo_captured },
	{ "mountinfo: escapes, propagation, hostile input", test_mountinfo_handmade },
	{ "cgroup: captured and hand-made", test_cgroup },
	{ "timers: captured and hand-made", test_timers },
	{ "children: pid lists", test_children },
	{ "auxv: bounds and terminator", test_auxv },
	{ "audit ids: one number", test_audit_id },
	{ "timens_offsets: both clocks, bounds", test_timens_offsets },
	{ "all parsers survive random mutations of the fixtures", test_mutations },
	{ "live: maps vs. own code, stack and mmap", test_live_maps },
	{ "live: smaps flags and rss vs. madvise", test_live_smaps },
	{ "live: status vs. getpid/getuid/sigprocmask/umask", test_live_status },
	{ "live: stat vs. getpgrp/getsid", test_live_stat },
	{ "live: limits vs. getrlimit", test_live_limits },
	{ "live: mountinfo vs. statx mount id", test_live_mountinfo },
	{ "live: cgroup", test_live_cgroup },
	{ "live: fdinfo of a regular file vs. lseek/fstat/open flags", test_live_fdinfo_plain },
	{ "live: fdinfo of eventfd, epoll, signalfd, timerfd", test_live_fdinfo_anon },
	{ "live: fdinfo of inotify vs. stat", test_live_fdinfo_inotify },
	{ "live: timers vs. timer_create", test_live_timers },
	{ "live: children vs. fork", test_live_children },
	{ "live: task list vs. gettid", test_live_tasks },
	{ "live: auxv vs. getauxval", test_live_auxv },
	{ "live: audit ids vs. /proc/self", test_live_audit },
};

UNIT_MAIN(cases)
