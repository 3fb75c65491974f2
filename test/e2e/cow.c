/*
 * Copy-on-write memory in a tree: the root fills 64 MiB, then forks three
 * children. Child 1 rewrites every fourth page, child 2 rewrites nothing,
 * child 3 rewrites nothing and forks a grandchild that rewrites every
 * eighth page. After the restore every process checks its copy, and the
 * root checks that the tree's memory (the sum of Pss over its processes)
 * is within 10% of what it was before the dump: pages nobody wrote since
 * the fork are shared again, not copied per process.
 */
#include <sys/mman.h>

#include "e2e.h"

#define MIB		(1024ul * 1024)
#define SIZE		(64 * MIB)
#define PG		4096ul
#define NKIDS		3

static unsigned char *mem;
static int ready_r = -1, ready_w = -1;

static unsigned char pattern(size_t page, int who)
{
	return (unsigned char)(page * 7 + who * 31 + 1);
}

/* Rewrite every @every-th page as @who's; 0: none. */
static void rewrite(size_t every, int who)
{
	size_t p;

	for (p = 0; every && p < SIZE / PG; p += every)
		memset(mem + p * PG, pattern(p, who), PG);
}

/* 0 when every page holds what @who's copy should (@every as in rewrite). */
static int verify(size_t every, int who)
{
	size_t p, i;

	for (p = 0; p < SIZE / PG; p++) {
		unsigned char want = pattern(p, every && p % every == 0 ? who : 0);

		for (i = 0; i < PG; i += 512)
			if (mem[p * PG + i] != want) {
				fprintf(stderr, "cow: %d: page %zu byte %zu is %#x, not %#x\n",
					getpid(), p, i, mem[p * PG + i], want);
				return 1;
			}
	}
	return 0;
}

static int run_child(size_t every, int who, int (*extra)(void))
{
	pid_t kid = 0;
	int r;

	rewrite(every, who);
	if (extra)
		kid = e2e_spawn(extra, &ready_r);
	e2e_note_pid();
	close(ready_w);
	e2e_wait_stop();
	r = verify(every, who) ? 20 + who : 0;
	if (kid) {
		if (e2e_reap(kid, 0, 0) && !r)
			r = 30;
	}
	return r;
}

static int grandchild(void)
{
	return run_child(8, 4, NULL);
}

static int child1(void) { return run_child(4, 1, NULL); }
static int child2(void) { return run_child(0, 2, NULL); }
static int child3(void) { return run_child(0, 3, grandchild); }

static long pss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Pss: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/* Sum of Pss over this process and its descendants (through /proc children). */
static long tree_pss(pid_t pid)
{
	char path[64];
	long sum = pss_kb(pid), kid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	f = fopen(path, "re");
	while (f && fscanf(f, "%ld", &kid) == 1)
		sum += tree_pss((pid_t)kid);
	if (f)
		fclose(f);
	return sum;
}

int main(int argc, char **argv)
{
	static int (*const kids_fn[NKIDS])(void) = { child1, child2, child3 };
	pid_t kids[NKIDS];
	long before, after;
	int i, r;

	e2e_init(argc, argv);
	mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		e2e_fail("mmap: %s", strerror(errno));
	rewrite(1, 0);
	e2e_tree_pipe(&ready_r, &ready_w);
	for (i = 0; i < NKIDS; i++)
		kids[i] = e2e_spawn(kids_fn[i], &ready_r);
	e2e_tree_wait(&ready_r, &ready_w);
	e2e_note_pid();
	before = tree_pss(getpid());
	e2e_ready();
	e2e_wait_stop();
	after = tree_pss(getpid());
	r = verify(1, 0);
	for (i = 0; i < NKIDS; i++) {
		int c = e2e_reap(kids[i], 0, 0);

		if (c && !r)
			e2e_fail("child %d (%d) failed: code %d", i + 1, kids[i], c);
	}
	if (r)
		e2e_fail("the root's memory differs after restore");
	if (before <= 0 || after <= 0)
		e2e_fail("cannot read Pss (%ld, %ld kB)", before, after);
	if (after > before + before / 10 || after < before - before / 10)
		e2e_fail("tree Pss %ld kB before dump, %ld kB after restore: more than 10%% apart",
			 before, after);
	fprintf(stderr, "cow: tree Pss %ld kB before dump, %ld kB after restore\n", before, after);
	e2e_pass();
}
