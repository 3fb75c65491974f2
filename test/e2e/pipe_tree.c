/*
 * A pipe between a parent and its child, each holding one end (the other
 * closed), with a byte queued at the dump. After the restore the child
 * writes and exits; the parent must read the queued byte, the child's, and
 * then end of file: one pipe, and no stray write end anywhere.
 */
#include "e2e.h"

static int ready_r = -1, ready_w = -1, pfd[2];

static int child(void)
{
	struct e2e_ids me;
	int r;

	close(pfd[0]);
	if (write(pfd[1], "x", 1) != 1)
		return 2;
	e2e_member_ready(&me, &ready_w);
	r = e2e_ids_check(&me);
	if (r)
		return 10 + r;
	return write(pfd[1], "b", 1) == 1 ? 0 : 20;
}

int main(int argc, char **argv)
{
	char buf[8];
	ssize_t n, got = 0;
	pid_t c;
	int r;

	e2e_init(argc, argv);
	if (pipe(pfd))
		e2e_fail("pipe: %s", strerror(errno));
	e2e_tree_pipe(&ready_r, &ready_w);
	c = e2e_spawn(child, &ready_r);
	close(pfd[1]);
	e2e_tree_wait(&ready_r, &ready_w);
	e2e_root_ready();
	r = e2e_reap(c, 0, 0);
	if (r)
		e2e_fail("child %d: code %d", c, r);
	while ((n = read(pfd[0], buf + got, sizeof(buf) - (size_t)got)) > 0)
		got += n;
	if (n < 0 || got != 2 || memcmp(buf, "xb", 2))
		e2e_fail("read %zd bytes '%.*s' then %zd: not one pipe with one writer",
			 got, (int)got, buf, n);
	e2e_pass();
}
