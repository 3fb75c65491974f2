/*
 * Guard regions (MADV_GUARD_INSTALL, 6.13) survive a checkpoint: guard
 * pages in the middle of an anonymous mapping, of a private and of a shared
 * file mapping fault after the restore while their neighbours keep their
 * data; a guard the process removed again (MADV_GUARD_REMOVE) before the
 * dump stays removed, its page readable; every such vma keeps VmFlags "gu".
 */
#include <setjmp.h>
#include <sys/mman.h>

#include "e2e-vma.h"

#define PAGE	4096
#define NP	8
#ifndef MADV_GUARD_INSTALL
# define MADV_GUARD_INSTALL	102
# define MADV_GUARD_REMOVE	103
#endif

static sigjmp_buf probe_env;

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(probe_env, 1);
}

/* Does reading @p fault? *@val: the byte read otherwise. */
static bool faults(const volatile char *p, char *val)
{
	if (sigsetjmp(probe_env, 1))
		return true;
	*val = *p;
	return false;
}

struct area {
	const char	*what;
	char		*p;
	unsigned int	guards;		/* bit per page: a guard there */
	char		base;		/* page i holds base + i */
};

static void check(const struct area *a)
{
	char flags[512], v;
	unsigned int i;

	for (i = 0; i < NP; i++) {
		bool g = a->guards & (1u << i), f = faults(a->p + i * PAGE + 17, &v);

		if (g && !f)
			e2e_fail("%s: page %u is no guard page any more (reads %d)", a->what, i, v);
		if (!g && f)
			e2e_fail("%s: page %u faults", a->what, i);
		if (!g && v != (char)(a->base + i))
			e2e_fail("%s: page %u holds %d, want %d", a->what, i, v, a->base + i);
	}
	e2e_vmflags(a->p, flags, sizeof(flags));
	if (!e2e_has_vmflag(flags, "gu"))
		e2e_fail("%s: VmFlags '%s' lack gu", a->what, flags);
}

static char *map_file(const char *name, int flags, char base)
{
	char path[PATH_MAX], page[PAGE];
	int fd, i;
	char *p;

	e2e_path(path, sizeof(path), name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		e2e_fail("open %s: %s", path, strerror(errno));
	for (i = 0; i < NP; i++) {
		memset(page, base + i, sizeof(page));
		if (write(fd, page, PAGE) != PAGE)
			e2e_fail("write %s: %s", path, strerror(errno));
	}
	p = mmap(NULL, NP * PAGE, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (p == MAP_FAILED)
		e2e_fail("mmap %s: %s", path, strerror(errno));
	close(fd);
	return p;
}

static void guard(char *p, unsigned int first, unsigned int n, int advice)
{
	if (madvise(p + first * PAGE, n * PAGE, advice))
		e2e_fail("madvise(%d) of pages %u+%u: %s", advice, first, n, strerror(errno));
}

int main(int argc, char **argv)
{
	struct area a[4] = {
		{ "anonymous", NULL, 0x0c, 10 }, { "private file", NULL, 0x10, 40 },
		{ "shared file", NULL, 0x24, 70 }, { "guard removed", NULL, 0x80, 100 },
	};
	struct sigaction sa = { .sa_handler = on_segv, .sa_flags = SA_NODEFER };
	unsigned int i, k;

	e2e_init(argc, argv);
	sigaction(SIGSEGV, &sa, NULL);
	a[0].p = mmap(NULL, NP * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	a[3].p = mmap(NULL, NP * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a[0].p == MAP_FAILED || a[3].p == MAP_FAILED)
		e2e_fail("mmap: %s", strerror(errno));
	for (i = 0; i < NP; i++) {
		memset(a[0].p + i * PAGE, a[0].base + i, PAGE);
		memset(a[3].p + i * PAGE, a[3].base + i, PAGE);
	}
	a[1].p = map_file("guard-private", MAP_PRIVATE, a[1].base);
	a[2].p = map_file("guard-shared", MAP_SHARED, a[2].base);
	a[1].p[3 * PAGE] = a[1].base + 3;	/* a page of its own next to the guard */
	guard(a[0].p, 2, 2, MADV_GUARD_INSTALL);
	guard(a[1].p, 4, 1, MADV_GUARD_INSTALL);
	guard(a[2].p, 2, 1, MADV_GUARD_INSTALL);
	guard(a[2].p, 5, 1, MADV_GUARD_INSTALL);
	/* the last of a[3]: a guard once, removed; the page is zero now, refilled */
	guard(a[3].p, 7, 1, MADV_GUARD_INSTALL);
	guard(a[3].p, 7, 1, MADV_GUARD_REMOVE);
	a[3].guards = 0;
	memset(a[3].p + 7 * PAGE, a[3].base + 7, PAGE);
	for (k = 0; k < 4; k++)
		check(&a[k]);

	e2e_ready();
	e2e_wait_stop();

	for (k = 0; k < 4; k++)
		check(&a[k]);
	e2e_pass();
}
