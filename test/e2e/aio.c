/*
 * AIO contexts (io_setup) survive a checkpoint at their ids: an idle one
 * used before (head = tail, not 0), one with completions not yet reaped
 * (they come back from io_getevents with their data, object and result),
 * and one whose kernel index follows a destroyed context's (a gap). After
 * the restore each ring header is as dumped, io_submit/io_getevents work
 * on the same context values and io_destroy ends them. Mode "forked": a
 * child holds a copy of its parent's ring mapping but no context, and the
 * dump must refuse it.
 */
#include <sys/wait.h>
#include <linux/aio_abi.h>
#include <sys/syscall.h>

#include "e2e.h"

struct ring {
	unsigned int id, nr, head, tail, magic, compat, incompat, hdr;
};

static char fpath[PATH_MAX];
static int ffd;
static char bufs[8][16];

static long io_setup(unsigned int nr, aio_context_t *c)
{
	return syscall(SYS_io_setup, nr, c);
}

/* One read of 5 bytes at @off into bufs[@slot], tagged @data. */
static void submit(aio_context_t c, int slot, long off, uint64_t data)
{
	static struct iocb cb[8];
	struct iocb *p = &cb[slot];

	memset(p, 0, sizeof(*p));
	p->aio_fildes = (uint32_t)ffd;
	p->aio_lio_opcode = IOCB_CMD_PREAD;
	p->aio_buf = (uint64_t)(unsigned long)bufs[slot];
	p->aio_nbytes = 5;
	p->aio_offset = off;
	p->aio_data = data;
	if (syscall(SYS_io_submit, c, 1L, &p) != 1)
		e2e_fail("io_submit on %#lx: %s", (unsigned long)c, strerror(errno));
}

static long reap(aio_context_t c, long min, long max, struct io_event *ev)
{
	struct timespec zero = { 0, 0 };

	return syscall(SYS_io_getevents, c, min, max, ev, min ? NULL : &zero);
}

static void use(aio_context_t c, int n)
{
	struct io_event ev;
	int i;

	for (i = 0; i < n; i++) {
		submit(c, 0, 0, 42);
		if (reap(c, 1, 1, &ev) != 1 || ev.res != 5 || ev.data != 42)
			e2e_fail("io_getevents on %#lx: %s", (unsigned long)c, strerror(errno));
	}
}

/* The unreaped completions of @c: three reads at offsets 0, 6, 12 tagged 100 + i. */
static void check_pending(aio_context_t c)
{
	static const char *want[] = { "hello", "world", "again" };
	struct io_event ev[4];
	long n = reap(c, 0, 4, ev), i;

	if (n != 3)
		e2e_fail("%ld completions waiting on %#lx, want 3 (%s)", n, (unsigned long)c,
			 strerror(errno));
	for (i = 0; i < 3; i++) {
		struct iocb *cb = (struct iocb *)(unsigned long)ev[i].obj;

		if (ev[i].data != (uint64_t)(100 + i) || ev[i].res != 5 || ev[i].res2 ||
		    cb->aio_data != ev[i].data || memcmp(bufs[i + 1], want[i], 5))
			e2e_fail("completion %ld: data %llu res %lld res2 %lld buf '%.5s'", i,
				 (unsigned long long)ev[i].data, (long long)ev[i].res,
				 (long long)ev[i].res2, bufs[i + 1]);
	}
}

/* A child that inherited the mapping of @c by fork(): refused. */
static void forked(aio_context_t c)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		e2e_fail("fork: %s", strerror(errno));
	if (!pid) {
		e2e_child();
		while (!e2e_stopped())
			pause();
		_exit(0);
	}
	e2e_ready();
	e2e_wait_stop();
	kill(pid, SIGTERM);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		e2e_fail("the child ended with status %#x", st);
	use(c, 1);
	e2e_pass();
}

int main(int argc, char **argv)
{
	char *args[] = { argv[0], argv[argc - 1], NULL };	/* the result file comes last */
	aio_context_t idle = 0, pend = 0, gap = 0, after = 0;
	struct ring before[3], *r[3];
	int k;

	e2e_init(2, args);
	e2e_path(fpath, sizeof(fpath), "aio-data");
	ffd = open(fpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (ffd < 0 || write(ffd, "hello world again\n", 18) != 18)
		e2e_fail("data file: %s", strerror(errno));
	if (io_setup(8, &idle) || io_setup(128, &pend) || io_setup(1, &gap) || io_setup(1, &after))
		e2e_fail("io_setup: %s", strerror(errno));
	if (syscall(SYS_io_destroy, gap))
		e2e_fail("io_destroy: %s", strerror(errno));
	if (argc > 2 && !strcmp(argv[1], "forked"))
		forked(idle);
	use(idle, 5);
	use(after, 3);
	use(pend, 2);
	for (k = 0; k < 3; k++)
		submit(pend, k + 1, k * 6, 100 + k);
	r[0] = (struct ring *)idle, r[1] = (struct ring *)pend, r[2] = (struct ring *)after;
	for (k = 0; k < 3; k++)
		before[k] = *r[k];
	if (before[2].id != 3 || before[1].tail != 5 || before[1].head != 2)
		e2e_fail("setup: index %u, head %u tail %u", before[2].id, before[1].head,
			 before[1].tail);

	e2e_ready();
	e2e_wait_stop();

	for (k = 0; k < 3; k++)
		if (memcmp(&before[k], r[k], sizeof(before[k])))
			e2e_fail("ring %d: index %u nr %u head %u tail %u, was %u %u %u %u", k, r[k]->id,
				 r[k]->nr, r[k]->head, r[k]->tail, before[k].id, before[k].nr,
				 before[k].head, before[k].tail);
	check_pending(pend);
	use(idle, 2);
	use(pend, 1);
	use(after, 1);
	if (syscall(SYS_io_destroy, idle) || syscall(SYS_io_destroy, pend) ||
	    syscall(SYS_io_destroy, after))
		e2e_fail("io_destroy: %s", strerror(errno));
	if (syscall(SYS_io_submit, idle, 0L, NULL) != -1)
		e2e_fail("a destroyed context still answers");
	unlink(fpath);
	e2e_pass();
}
