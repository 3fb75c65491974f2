/*
 * The victim of the kill sweeps (kill_sweep.py): a small tree holding a bit
 * of everything a dump walks through, each piece checked after the restore.
 *
 *   R  4 MiB of private memory with a pattern, 8 pages of shared memory it
 *      shares with C, two threads waiting for the end, a unix socketpair
 *      with bytes queued both ways, a pty pair with bytes the master has
 *      not read, the write end of a pipe to C;
 *   C  the read end of that pipe, with 3000 bytes queued in it.
 *
 * Between kills nothing may change: every queued byte is still in place
 * when the last restore lets the tree check itself.
 */
#include <pthread.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "e2e-pty.h"

#define PRIV_SIZE	(4u << 20)
#define SHARED_SIZE	(8u * 4096)
#define PIPE_BYTES	3000

static unsigned char *priv, *shared;
static int pipe_fd[2], sk[2];
static int ready_r = -1, ready_w = -1;
static volatile int threads_go;

static unsigned char pattern(size_t i, unsigned int seed)
{
	return (unsigned char)((i * 131u + (i >> 12) * 7u + seed) & 0xff);
}

static int check_area(const unsigned char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pattern(i, seed))
			return -1;
	return 0;
}

static void fill_area(unsigned char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pattern(i, seed);
}

static int child(void)
{
	unsigned char buf[PIPE_BYTES];
	struct e2e_ids me;

	close(pipe_fd[1]);
	e2e_member_ready(&me, &ready_w);
	if (e2e_ids_check(&me))
		return 11;
	if (check_area(shared, SHARED_SIZE, 3))
		return 12;
	e2e_read_all(pipe_fd[0], buf, sizeof(buf), "pipe");
	if (check_area(buf, sizeof(buf), 5))
		return 13;
	return 0;
}

static void *worker(void *arg)
{
	const struct timespec ts = { 0, 10 * 1000 * 1000 };

	while (!threads_go)
		nanosleep(&ts, NULL);
	return arg;
}

static void check_queues(struct e2e_pty *pty)
{
	char buf[64];

	e2e_read_all(sk[1], buf, 7, "socket a->b");
	if (memcmp(buf, "to b 01", 7))
		e2e_fail("socket a->b: wrong bytes");
	e2e_read_all(sk[0], buf, 9, "socket b->a");
	if (memcmp(buf, "to a 0002", 9))
		e2e_fail("socket b->a: wrong bytes");
	e2e_read_all(pty->master, buf, 8, "pty master");
	if (memcmp(buf, "unread!!", 8))
		e2e_fail("pty: wrong bytes");
}

int main(int argc, char **argv)
{
	unsigned char buf[PIPE_BYTES];
	struct e2e_pty pty;
	pthread_t th[2];
	pid_t c;
	int i, r;

	e2e_init(argc, argv);
	priv = mmap(NULL, PRIV_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	shared = mmap(NULL, SHARED_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (priv == MAP_FAILED || shared == MAP_FAILED || pipe(pipe_fd) ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sk))
		e2e_fail("setup: %s", strerror(errno));
	fill_area(priv, PRIV_SIZE, 1);
	fill_area(shared, SHARED_SIZE, 3);
	fill_area(buf, sizeof(buf), 5);
	if (write(pipe_fd[1], buf, sizeof(buf)) != sizeof(buf) ||
	    write(sk[0], "to b 01", 7) != 7 || write(sk[1], "to a 0002", 9) != 9)
		e2e_fail("queue: %s", strerror(errno));
	e2e_pty_open(&pty, O_NOCTTY);
	if (write(pty.slave, "unread!!", 8) != 8)
		e2e_fail("pty write: %s", strerror(errno));
	e2e_tree_pipe(&ready_r, &ready_w);
	c = e2e_spawn(child, &ready_r);	/* before SIGTERM is blocked: the child inherits the mask */
	e2e_term_mask(SIG_BLOCK);
	for (i = 0; i < 2; i++)
		if (pthread_create(&th[i], NULL, worker, NULL))
			e2e_fail("pthread_create");
	e2e_term_mask(SIG_UNBLOCK);
	close(pipe_fd[0]);
	e2e_tree_wait(&ready_r, &ready_w);
	e2e_root_ready();

	threads_go = 1;
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	if (check_area(priv, PRIV_SIZE, 1))
		e2e_fail("private memory changed");
	if (check_area(shared, SHARED_SIZE, 3))
		e2e_fail("shared memory changed");
	check_queues(&pty);
	r = e2e_reap(c, 0, 0);
	if (r)
		e2e_fail("the child failed its checks (%d)", r);
	e2e_pass();
}
