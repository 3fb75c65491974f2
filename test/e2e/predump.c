/*
 * A pre-dump chain (run.py "predump" flow): the memory changes between the
 * steps, each step started by SIGUSR1 and reported done in the file
 * "step" next to the result. Step 1: pages of A rewritten, B unmapped, C
 * mapped and filled, part of A dropped (MADV_DONTNEED: zeros). Step 2:
 * more of A rewritten, D moved by mremap, a page of C rewritten, part of E
 * made read-only. A child forked at the end of step 1 keeps what it
 * inherited (its tracking descriptor too, which the next step replaces).
 * After the restore every page of both is checked against what the steps
 * say it holds.
 */
#include <sys/mman.h>

#include "e2e.h"

#define PAGE	4096
#define NA	64
#define NB	32
#define NC	16
#define ND	32
#define NE	16

static volatile sig_atomic_t go;
static unsigned char *A, *B, *C, *D, *E;
static int step;
static pid_t child;
static char why[160];		/* the first page that is not what it should be */

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void fill_page(unsigned char *p, unsigned int tag, unsigned int idx, unsigned int gen)
{
	uint64_t v = (uint64_t)tag << 40 | (uint64_t)idx << 16 | gen, *w = (uint64_t *)p;
	size_t i;

	for (i = 0; i < PAGE / 8; i++)
		w[i] = v ^ (i * 0x9e3779b97f4a7c15ull);
}

static void check_page(const unsigned char *p, unsigned int tag, unsigned int idx, int gen)
{
	unsigned char want[PAGE];

	if (gen < 0)
		memset(want, 0, PAGE);
	else
		fill_page(want, tag, idx, (unsigned int)gen);
	if (memcmp(p, want, PAGE) && !why[0])
		snprintf(why, sizeof(why), "region %c page %u: not generation %d (step %d)", tag, idx,
			 gen, step);
}

static void fill(unsigned char *r, unsigned int tag, unsigned int from, unsigned int to,
		 unsigned int gen)
{
	for (; from < to; from++)
		fill_page(r + from * PAGE, tag, from, gen);
}

static unsigned char *map(size_t pages)
{
	void *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		e2e_fail("mmap: %s", strerror(errno));
	return p;
}

static void __attribute__((noreturn)) child_main(void);

static void report_step(void)
{
	char path[256], tmp[300], text[16];
	int fd, n = snprintf(text, sizeof(text), "%d\n", step);

	e2e_path(path, sizeof(path), "step");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, n) != n || close(fd) || rename(tmp, path))
		e2e_fail("reporting step %d: %s", step, strerror(errno));
}

static void do_step(void)
{
	step++;
	if (step == 1) {
		fill(A, 'A', 0, 8, 1);
		munmap(B, NB * PAGE);
		C = map(NC);
		fill(C, 'C', 0, NC, 1);
		madvise(A + 20 * PAGE, 4 * PAGE, MADV_DONTNEED);
		child = fork();
		if (child < 0)
			e2e_fail("fork: %s", strerror(errno));
		if (!child)
			child_main();
	} else if (step == 2) {
		unsigned char *to = map(ND + 64);	/* a free place, then D moved over its middle */
		void *moved;

		munmap(to, (ND + 64) * PAGE);
		moved = mremap(D, ND * PAGE, ND * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, to + 32 * PAGE);
		if (moved == MAP_FAILED)
			e2e_fail("mremap: %s", strerror(errno));
		D = moved;
		fill(A, 'A', 8, 10, 2);
		fill_page(C, 'C', 0, 2);
		mprotect(E + 8 * PAGE, 8 * PAGE, PROT_READ);
	}
	report_step();
}

/* What the steps so far say every page holds: NULL, or the first difference. */
static const char *check_all(void)
{
	const char *ro = step >= 2 ? "r--p" : "rw-p";
	unsigned int i;

	for (i = 0; i < NA; i++)
		check_page(A + i * PAGE, 'A', i,
			   i < 8 ? 1 : i < 10 ? (step >= 2 ? 2 : 0) : (i >= 20 && i < 24) ? -1 : 0);
	for (i = 0; i < NC; i++)
		check_page(C + i * PAGE, 'C', i, i == 0 && step >= 2 ? 2 : 1);
	for (i = 0; i < ND; i++)
		check_page(D + i * PAGE, 'D', i, 0);
	for (i = 0; i < NE; i++)
		check_page(E + i * PAGE, 'E', i, 0);
	if (!why[0] && (strcmp(e2e_perms(E + 8 * PAGE), ro) || strcmp(e2e_perms(E), "rw-p")))
		snprintf(why, sizeof(why), "E's protections: %s, %s", e2e_perms(E),
			 e2e_perms(E + 8 * PAGE));
	return why[0] ? why : NULL;
}

/* The child: it waits for SIGTERM, checks its memory, says so by its exit status. */
static void __attribute__((noreturn)) child_main(void)
{
	const struct timespec ts = { 0, 20 * 1000 * 1000 };
	const char *bad;

	e2e_child();
	e2e_note_pid();
	while (!e2e_stopped())
		nanosleep(&ts, NULL);
	bad = check_all();
	if (bad)
		fprintf(stderr, "child: %s\n", bad);
	_exit(bad ? 1 : 0);
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	sigset_t usr1, old;
	int status = 0;

	e2e_init(argc, argv);
	e2e_note_pid();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	A = map(NA);
	B = map(NB);
	D = map(ND);
	E = map(NE);
	fill(A, 'A', 0, NA, 0);
	fill(B, 'B', 0, NB, 0);
	fill(D, 'D', 0, ND, 0);
	fill(E, 'E', 0, NE, 0);
	e2e_ready();
	while (!e2e_stopped()) {
		const struct timespec ts = { 0, 20 * 1000 * 1000 };

		sigprocmask(SIG_BLOCK, &usr1, &old);
		if (go) {
			go = 0;
			do_step();
		}
		sigprocmask(SIG_SETMASK, &old, NULL);
		nanosleep(&ts, NULL);
	}
	if (step != 2)
		e2e_fail("ended after step %d, not 2", step);
	if (check_all())
		e2e_fail("%s", why);
	kill(child, SIGTERM);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		e2e_fail("the child's memory is not what it inherited (status %#x, program.log)", status);
	e2e_pass();
}
