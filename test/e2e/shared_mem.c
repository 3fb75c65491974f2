/*
 * MAP_SHARED anonymous memory shared by a parent and its child (inherited
 * with the fork). After the restore the child writes into it and the
 * parent must read what it wrote: one object, mapped by both.
 */
#include <sys/mman.h>
#include "e2e.h"

static int ready_r = -1, ready_w = -1;
static volatile unsigned long *shared;

static int child(void)
{
	struct e2e_ids me;
	int r;

	shared[1] = 0xc0ffee;
	e2e_member_ready(&me, &ready_w);
	r = e2e_ids_check(&me);
	if (r)
		return 10 + r;
	if (shared[0] != 0x5eed || shared[1] != 0xc0ffee)
		return 20;
	shared[2] = 0xfeed;
	return 0;
}

int main(int argc, char **argv)
{
	pid_t c;
	int r;

	e2e_init(argc, argv);
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		e2e_fail("mmap: %s", strerror(errno));
	shared[0] = 0x5eed;
	e2e_tree_pipe(&ready_r, &ready_w);
	c = e2e_spawn(child, &ready_r);
	e2e_tree_wait(&ready_r, &ready_w);
	if (shared[1] != 0xc0ffee)
		e2e_fail("the child's write is not seen before the dump");
	e2e_root_ready();
	r = e2e_reap(c, 0, 0);
	if (r)
		e2e_fail("child %d: code %d", c, r);
	if (shared[2] != 0xfeed)
		e2e_fail("the child's write after the restore is not seen: %#lx", shared[2]);
	e2e_pass();
}
