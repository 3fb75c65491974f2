/*
 * Unit tests for the /proc parsers: captured and hand-made fixtures from
 * test/fixtures/proc/, inline hostile inputs, and cross-checks of the live
 * wrappers on /proc/self against libc.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "proc_parse.h"
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

/* ---- table ------------------------------------------------------------------ */

static const struct unit_case cases[] = {
	{ "maps: captured file", test_maps_captured },
	{ "maps: special names, deleted, odd paths", test_maps_special_names },
	{ "maps: hostile input", test_maps_hostile },
	{ "smaps: captured file", test_smaps_captured },
	{ "smaps: hostile input", test_smaps_hostile },
};

UNIT_MAIN(cases)
