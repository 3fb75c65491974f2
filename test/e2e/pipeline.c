/*
 * A pipeline as a shell makes it: the root creates a pipe, forks a writer
 * and a reader, and closes both ends itself. The writer sends a counter
 * without pause (blocking when the pipe is full), the reader checks every
 * number follows the last one. After the restore the root stops the
 * writer; the reader must then read on up to end of file without a gap:
 * the siblings still share one pipe, which nobody else holds.
 */
#include "e2e.h"

static int ready_r = -1, ready_w = -1, pfd[2];

static int writer(void)
{
	struct e2e_ids me;
	uint64_t i = 0;
	int started = 0;

	close(pfd[0]);
	e2e_ids_get(&me);
	for (;;) {
		if (write(pfd[1], &i, sizeof(i)) != sizeof(i))
			return e2e_stopped() ? (e2e_ids_check(&me) ? 11 : 0) : 2;
		i++;
		if (!started && i == 1000) {
			started = 1;
			e2e_note_pid();
			close(ready_w);
		}
		if (e2e_stopped())
			return e2e_ids_check(&me) ? 11 : 0;
	}
}

static int reader(void)
{
	struct e2e_ids me;
	uint64_t v, want = 0;
	ssize_t n;
	int started = 0;

	close(pfd[1]);
	e2e_ids_get(&me);
	signal(SIGTERM, SIG_IGN);	/* it ends at end of file */
	while ((n = read(pfd[0], &v, sizeof(v))) == sizeof(v)) {
		if (v != want)
			return 20;
		want++;
		if (!started && want == 1000) {
			started = 1;
			e2e_note_pid();
			close(ready_w);
		}
	}
	if (n != 0 || want < 1000)
		return 21;
	return e2e_ids_check(&me) ? 12 : 0;
}

int main(int argc, char **argv)
{
	pid_t w, rd;
	int r;

	e2e_init(argc, argv);
	if (pipe(pfd))
		e2e_fail("pipe: %s", strerror(errno));
	e2e_tree_pipe(&ready_r, &ready_w);
	w = e2e_spawn(writer, &ready_r);
	rd = e2e_spawn(reader, &ready_r);
	close(pfd[0]);
	close(pfd[1]);
	e2e_tree_wait(&ready_r, &ready_w);
	e2e_root_ready();
	r = e2e_reap(w, 0, 0);
	if (r)
		e2e_fail("writer %d: code %d", w, r);
	if (waitpid(rd, &r, 0) != rd || r != 0)
		e2e_fail("reader %d: status %#x", rd, r);
	e2e_pass();
}
