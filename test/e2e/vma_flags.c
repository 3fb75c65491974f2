/*
 * Every VmFlags code a private mapping can get from the task itself comes
 * back exactly: madvise advice (wf dc dd hg nh mg sr rr), MAP_NORESERVE
 * (nr), mlock and mlock onfault (lo lf), MAP_DROPPABLE (dp), MAP_GROWSDOWN
 * (gd), accounting of a once-writable read-only mapping (ac), each with its
 * content; and the advice still acts: WIPEONFORK memory is zero in a child,
 * DONTFORK memory is absent there.
 */
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "e2e-vma.h"

#define PAGE		4096
#define LEN		(4 * PAGE)
#ifndef MAP_DROPPABLE
# define MAP_DROPPABLE	0x08	/* 6.11 */
#endif
#ifndef MLOCK_ONFAULT
# define MLOCK_ONFAULT	1
#endif

enum { M_WF, M_DC, M_DD, M_HG, M_NH, M_MG, M_SR, M_RR, M_NR, M_LO, M_LF, M_DP, M_GD,
       M_AC_RO, M_RO, NR_MAPS };

static const char *const names[NR_MAPS] = {
	"wipeonfork", "dontfork", "dontdump", "hugepage", "nohugepage", "mergeable",
	"sequential", "random", "noreserve", "mlock", "mlock-onfault", "droppable",
	"growsdown", "once-writable read-only", "read-only",
};

static char *maps[NR_MAPS];
static char flags[NR_MAPS][256];

static char *map(int extra, int prot)
{
	int type = (extra & MAP_DROPPABLE) ? 0 : MAP_PRIVATE;
	char *p = mmap(NULL, LEN, prot, type | MAP_ANONYMOUS | extra, -1, 0);

	if (p == MAP_FAILED)
		e2e_fail("mmap %#x: %s", extra, strerror(errno));
	return p;
}

static void advise(int i, int adv)
{
	maps[i] = map(0, PROT_READ | PROT_WRITE);
	if (madvise(maps[i], LEN, adv))
		e2e_fail("madvise %d on %s: %s", adv, names[i], strerror(errno));
}

static void setup(void)
{
	int i;

	advise(M_WF, MADV_WIPEONFORK);
	advise(M_DC, MADV_DONTFORK);
	advise(M_DD, MADV_DONTDUMP);
	advise(M_HG, MADV_HUGEPAGE);
	advise(M_NH, MADV_NOHUGEPAGE);
	advise(M_MG, MADV_MERGEABLE);
	advise(M_SR, MADV_SEQUENTIAL);
	advise(M_RR, MADV_RANDOM);
	maps[M_NR] = map(MAP_NORESERVE, PROT_READ | PROT_WRITE);
	maps[M_LO] = map(0, PROT_READ | PROT_WRITE);
	if (mlock(maps[M_LO], LEN))
		e2e_fail("mlock: %s", strerror(errno));
	maps[M_LF] = map(0, PROT_READ | PROT_WRITE);
	if (syscall(SYS_mlock2, maps[M_LF], LEN, MLOCK_ONFAULT))
		e2e_fail("mlock2: %s", strerror(errno));
	maps[M_DP] = map(MAP_DROPPABLE, PROT_READ | PROT_WRITE);
	maps[M_GD] = map(MAP_GROWSDOWN, PROT_READ | PROT_WRITE);
	maps[M_AC_RO] = map(0, PROT_READ | PROT_WRITE);
	maps[M_RO] = map(0, PROT_READ);
	for (i = 0; i < NR_MAPS; i++)
		if (i != M_RO && i != M_AC_RO && i != M_LF)
			memset(maps[i] + PAGE, 'a' + i, PAGE);
	if (mprotect(maps[M_AC_RO], LEN, PROT_READ))
		e2e_fail("mprotect: %s", strerror(errno));
	for (i = 0; i < NR_MAPS; i++)
		e2e_vmflags(maps[i] + PAGE, flags[i], sizeof(flags[i]));
}

/* In a child: WIPEONFORK memory reads zero, DONTFORK memory is not mapped. */
static void check_fork(void)
{
	int st;
	pid_t p = fork();

	if (p < 0)
		e2e_fail("fork: %s", strerror(errno));
	if (p == 0) {
		if (maps[M_WF][PAGE] != 0)
			_exit(1);
		if (mprotect(maps[M_DC], LEN, PROT_READ) == 0 || errno != ENOMEM)
			_exit(2);
		_exit(0);
	}
	if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st))
		e2e_fail("child: %s", WIFEXITED(st) && WEXITSTATUS(st) == 1 ?
			 "WIPEONFORK memory not wiped" : "DONTFORK memory inherited");
}

int main(int argc, char **argv)
{
	char now[256];
	int i;

	e2e_init(argc, argv);
	setup();

	e2e_ready();
	e2e_wait_stop();

	for (i = 0; i < NR_MAPS; i++) {
		e2e_vmflags(maps[i] + PAGE, now, sizeof(now));
		if (strcmp(now, flags[i]))
			e2e_fail("%s mapping: VmFlags \"%s\", dumped with \"%s\"", names[i], now,
				 flags[i]);
		if (i != M_RO && i != M_AC_RO && i != M_LF && i != M_DP &&
		    (maps[i][PAGE] != 'a' + i || maps[i][2 * PAGE - 1] != 'a' + i))
			e2e_fail("%s mapping: content lost", names[i]);
	}
	check_fork();
	e2e_pass();
}
