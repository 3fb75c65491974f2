/*
 * Every way a parent P and its children C1, C2 can hold the two ends of a
 * pipe: one pipe per (readers, writers) pair of subsets of {P, C1, C2}, 63
 * pipes in all (not both empty). P creates them all, queues a 'q' in each
 * that keeps a reader, forks the children, and every process closes the
 * ends it is not to hold.
 *
 * After the restore each process writes its own byte into every write end
 * it holds (a pipe without readers must say EPIPE: no stray read end came
 * back), closes its write ends, and the first holder of each read end reads
 * until end of file: 'q' (if queued) and one byte from each writer, or
 * end of file without them if some write end was duplicated or lost.
 */
#include "e2e.h"

#define NPROC	3
#define NPIPES	63

static int ready_r = -1, ready_w = -1;
static int rfd[NPIPES], wfd[NPIPES];
static unsigned int rmask[NPIPES], wmask[NPIPES];

static int first(unsigned int mask)
{
	return mask & 1 ? 0 : mask & 2 ? 1 : 2;
}

/* Keep only the ends process @me is to hold. */
static void keep_mine(int me)
{
	int i;

	for (i = 0; i < NPIPES; i++) {
		if (!(rmask[i] & (1u << me)))
			close(rfd[i]);
		if (!(wmask[i] & (1u << me)))
			close(wfd[i]);
	}
}

static int cmp_char(const void *a, const void *b)
{
	return *(const char *)a - *(const char *)b;
}

/* After the restore: write, close the write ends, read what is ours. 0 or a code. */
static int verify(int me)
{
	char c = (char)('0' + me), buf[16], want[16];
	int i, n, k;
	ssize_t r;

	for (i = 0; i < NPIPES; i++) {
		if (!(wmask[i] & (1u << me)))
			continue;
		while ((r = write(wfd[i], &c, 1)) < 0 && errno == EINTR)
			;
		if (rmask[i] ? r != 1 : (r != -1 || errno != EPIPE))
			return 100 + i;
		close(wfd[i]);
	}
	for (i = 0; i < NPIPES; i++) {
		if (!(rmask[i] & (1u << me)) || first(rmask[i]) != me)
			continue;
		for (n = 0; n < (int)sizeof(buf);) {
			r = read(rfd[i], buf + n, 1);
			if (r < 0 && errno == EINTR)
				continue;	/* the harness's SIGTERM, or the parent's */
			if (r != 1)
				break;
			n++;
		}
		if (r != 0)
			return 200 + i;
		k = 0;
		want[k++] = 'q';
		for (int p = 0; p < NPROC; p++)
			if (wmask[i] & (1u << p))
				want[k++] = (char)('0' + p);
		qsort(buf, (size_t)n, 1, cmp_char);
		qsort(want, (size_t)k, 1, cmp_char);
		if (n != k || memcmp(buf, want, (size_t)k)) {
			fprintf(stderr, "pipe_combos: %d: pipe %d (readers %u, writers %u): read '%.*s', want '%.*s'\n",
				me, i, rmask[i], wmask[i], n, buf, k, want);
			return 150 + i % 50;
		}
	}
	return 0;
}

static int child(int me)
{
	struct e2e_ids ids;
	int r;

	keep_mine(me);
	e2e_member_ready(&ids, &ready_w);
	r = e2e_ids_check(&ids);
	return r ? 10 + r : verify(me);
}

static int child1(void) { return child(1); }
static int child2(void) { return child(2); }

int main(int argc, char **argv)
{
	pid_t c1, c2;
	int i, r, p[2];

	e2e_init(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < NPIPES; i++) {
		rmask[i] = (unsigned int)(i + 1) & 7;
		wmask[i] = (unsigned int)(i + 1) >> 3;
		if (pipe(p))
			e2e_fail("pipe: %s", strerror(errno));
		rfd[i] = p[0];
		wfd[i] = p[1];
		if (rmask[i] && write(wfd[i], "q", 1) != 1)
			e2e_fail("write: %s", strerror(errno));
	}
	e2e_tree_pipe(&ready_r, &ready_w);
	c1 = e2e_spawn(child1, &ready_r);
	c2 = e2e_spawn(child2, &ready_r);
	keep_mine(0);
	e2e_tree_wait(&ready_r, &ready_w);
	e2e_root_ready();
	kill(c1, SIGTERM);
	kill(c2, SIGTERM);
	r = verify(0);
	if (r)
		e2e_fail("the parent: code %d", r);
	r = e2e_reap(c1, 0, 0);
	if (r)
		e2e_fail("child 1: code %d", r);
	r = e2e_reap(c2, 0, 0);
	if (r)
		e2e_fail("child 2: code %d", r);
	e2e_pass();
}
