/*
 * An open file shared by a parent and its child (one open file
 * description: one offset). After the restore the child writes and the
 * parent must see the offset move: the description is still one.
 */
#include "e2e.h"

static int ready_r = -1, ready_w = -1, fd = -1;

static int child(void)
{
	struct e2e_ids me;
	int r;

	if (write(fd, "child\n", 6) != 6)
		return 2;
	e2e_member_ready(&me, &ready_w);
	r = e2e_ids_check(&me);
	if (r)
		return 10 + r;
	if (lseek(fd, 0, SEEK_CUR) != 11)
		return 20;
	if (write(fd, "c2\n", 3) != 3)
		return 21;
	return 0;
}

int main(int argc, char **argv)
{
	char path[512];
	pid_t c;
	off_t off;
	int r;

	e2e_init(argc, argv);
	e2e_path(path, sizeof(path), "shared");
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "root\n", 5) != 5)
		e2e_fail("cannot write %s: %s", path, strerror(errno));
	e2e_tree_pipe(&ready_r, &ready_w);
	c = e2e_spawn(child, &ready_r);
	e2e_tree_wait(&ready_r, &ready_w);
	e2e_root_ready();
	r = e2e_reap(c, 0, 0);
	if (r)
		e2e_fail("child %d: code %d", c, r);
	off = lseek(fd, 0, SEEK_CUR);
	if (off != 14)
		e2e_fail("the parent's offset is %lld, not 14: the open file is no longer shared",
			 (long long)off);
	e2e_pass();
}
