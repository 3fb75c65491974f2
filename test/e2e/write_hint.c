/*
 * The write-life hint (F_SET_RW_HINT, kept in the inode) of every open file
 * comes back: a named file (RWH_WRITE_LIFE_SHORT), a deleted one restored
 * as a ghost (LONG), a pipe (EXTREME) and a memfd (MEDIUM), all made anew
 * but the first; a second file with no hint keeps none.
 */
#include <sys/mman.h>

#include "e2e.h"

static const struct {
	const char	*what;
	uint64_t	hint;
} want[] = {
	{ "named file", RWH_WRITE_LIFE_SHORT },
	{ "deleted file", RWH_WRITE_LIFE_LONG },
	{ "pipe", RWH_WRITE_LIFE_EXTREME },
	{ "memfd", RWH_WRITE_LIFE_MEDIUM },
	{ "file without a hint", RWH_WRITE_LIFE_NOT_SET },
};
#define NR	(int)(sizeof(want) / sizeof(want[0]))

static int open_file(const char *name, bool deleted)
{
	char path[512];
	int fd;

	e2e_path(path, sizeof(path), name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "data", 4) != 4)
		e2e_fail("%s: %s", path, strerror(errno));
	if (deleted && unlink(path))
		e2e_fail("unlink %s: %s", path, strerror(errno));
	return fd;
}

int main(int argc, char **argv)
{
	char path[512];
	int fd[NR], p[2], i;

	e2e_init(argc, argv);
	fd[0] = open_file("hinted", false);
	fd[1] = open_file("deleted", true);
	if (pipe(p))
		e2e_fail("pipe: %s", strerror(errno));
	fd[2] = p[1];
	fd[3] = memfd_create("hinted", 0);
	fd[4] = open_file("plain", false);
	for (i = 0; i < NR; i++) {
		uint64_t h = want[i].hint;

		if (fd[i] < 0 || (h && fcntl(fd[i], F_SET_RW_HINT, &h)))
			e2e_fail("%s: F_SET_RW_HINT: %s", want[i].what, strerror(errno));
	}
	e2e_ready();
	e2e_wait_stop();
	for (i = 0; i < NR; i++) {
		uint64_t h = ~0ull;

		if (fcntl(fd[i], F_GET_RW_HINT, &h) || h != want[i].hint)
			e2e_fail("%s: write-life hint %llu, not %llu", want[i].what,
				 (unsigned long long)h, (unsigned long long)want[i].hint);
	}
	e2e_path(path, sizeof(path), "hinted");
	unlink(path);
	e2e_path(path, sizeof(path), "plain");
	unlink(path);
	e2e_pass();
}
