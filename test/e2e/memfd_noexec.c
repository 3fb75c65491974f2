/*
 * memfds made executable or not (MFD_EXEC, MFD_NOEXEC_SEAL) come back as
 * they were: the same seals (F_SEAL_EXEC), the same mode, fexecve works
 * where it did and fails where it did, and exec bits can be changed only
 * where they could. Each holds a copy of /bin/true; some are also mapped
 * shared (then they are shared memory objects at restore).
 */
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

#include "e2e-exec.h"
#include "kernel-compat.h"

static const struct kind {
	const char *name;
	unsigned int flags;
	int chmod_to;		/* fchmod after creation, -1: none */
	int add_seals;
	bool mapped;
} kinds[] = {
	{ "noexec", MFD_NOEXEC_SEAL, -1, 0, false },
	{ "noexec-sealing", MFD_NOEXEC_SEAL | MFD_ALLOW_SEALING, -1, 0, false },
	{ "exec", MFD_EXEC, -1, 0, false },
	{ "exec-sealed", MFD_EXEC | MFD_ALLOW_SEALING, -1, F_SEAL_EXEC, false },
	{ "exec-chmod", MFD_EXEC | MFD_ALLOW_SEALING, 0640, 0, false },
	{ "noexec-mapped", MFD_NOEXEC_SEAL, -1, 0, true },
	{ "exec-chmod-mapped", MFD_EXEC, 0750, 0, true },
	{ "exec-sealed-mapped", MFD_EXEC | MFD_ALLOW_SEALING, 0711, F_SEAL_EXEC, true },
};
#define NR	(sizeof(kinds) / sizeof(kinds[0]))

struct state {
	int seals;
	mode_t mode;
	int run;		/* e2e_fexec(): 0 or an errno */
};

static int make(const struct kind *k, int src, off_t size)
{
	int fd = memfd_create(k->name, MFD_CLOEXEC | k->flags);
	off_t off = 0;

	if (fd < 0)
		e2e_fail("memfd_create %s: %s", k->name, strerror(errno));
	if (sendfile(fd, src, &off, (size_t)size) != size)
		e2e_fail("copy /bin/true into %s: %s", k->name, strerror(errno));
	if (k->chmod_to >= 0 && fchmod(fd, (mode_t)k->chmod_to))
		e2e_fail("fchmod %s: %s", k->name, strerror(errno));
	if (k->add_seals && fcntl(fd, F_ADD_SEALS, k->add_seals))
		e2e_fail("seal %s: %s", k->name, strerror(errno));
	if (k->mapped && mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED)
		e2e_fail("mmap %s: %s", k->name, strerror(errno));
	return fd;
}

static void look(int fd, struct state *s)
{
	struct stat st;

	s->seals = fcntl(fd, F_GET_SEALS);
	if (s->seals < 0 || fstat(fd, &st))
		e2e_fail("F_GET_SEALS/fstat: %s", strerror(errno));
	s->mode = st.st_mode & 07777;
	s->run = e2e_fexec(fd);
}

int main(int argc, char **argv)
{
	struct state before[NR], after;
	int fd[NR], src;
	struct stat st;
	size_t i;

	e2e_init(argc, argv);
	src = open("/bin/true", O_RDONLY | O_CLOEXEC);
	if (src < 0 || fstat(src, &st))
		e2e_fail("open /bin/true: %s", strerror(errno));
	for (i = 0; i < NR; i++) {
		fd[i] = make(&kinds[i], src, st.st_size);
		look(fd[i], &before[i]);
	}
	close(src);
	if (!before[0].run || before[2].run)
		e2e_fail("fexecve before the dump: noexec %d, exec %d", before[0].run, before[2].run);

	e2e_ready();
	e2e_wait_stop();

	for (i = 0; i < NR; i++) {
		const struct state *b = &before[i];

		look(fd[i], &after);
		if (after.seals != b->seals || after.mode != b->mode || after.run != b->run)
			e2e_fail("%s: seals %#x, mode %o, fexecve %d; dumped with %#x, %o, %d",
				 kinds[i].name, after.seals, after.mode, after.run, b->seals,
				 b->mode, b->run);
		/* exec bits change only without F_SEAL_EXEC */
		if ((fchmod(fd[i], b->mode ^ 0100) == 0) != !(b->seals & F_SEAL_EXEC))
			e2e_fail("%s: fchmod of an exec bit %s", kinds[i].name,
				 b->seals & F_SEAL_EXEC ? "worked despite F_SEAL_EXEC" : strerror(errno));
	}
	e2e_pass();
}
