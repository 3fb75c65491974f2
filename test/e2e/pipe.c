/*
 * Pipes and a FIFO keep their queued bytes, size, flags and sharing:
 * a 256 KiB pipe holding 100,000 bytes with a non-blocking read end and a
 * dup'ed write end, a pipe whose write end is closed (data then EOF), and
 * a FIFO holding a message, open read-write and read-only.
 */
#include <sys/stat.h>

#include "e2e.h"

#define BIG	100000

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 7 + i / 251);
}

int main(int argc, char **argv)
{
	static unsigned char buf[BIG];
	int big[2], half[2], fifo, fifo_ro, shared;
	char path[512], msg[16];
	size_t i;

	e2e_init(argc, argv);
	if (pipe(big) || pipe(half))
		e2e_fail("pipe: %s", strerror(errno));
	if (fcntl(big[1], F_SETPIPE_SZ, 256 * 1024) < 256 * 1024)
		e2e_fail("F_SETPIPE_SZ: %s", strerror(errno));
	for (i = 0; i < BIG; i++)
		buf[i] = pattern(i);
	if (write(big[1], buf, BIG) != BIG || write(half[1], "hello", 5) != 5)
		e2e_fail("write: %s", strerror(errno));
	close(half[1]);
	fcntl(big[0], F_SETFL, O_NONBLOCK);
	shared = dup2(big[1], 100);
	e2e_path(path, sizeof(path), "fifo");
	if (mkfifo(path, 0600))
		e2e_fail("mkfifo: %s", strerror(errno));
	fifo = open(path, O_RDWR);
	fifo_ro = open(path, O_RDONLY | O_NONBLOCK);
	if (fifo < 0 || fifo_ro < 0 || write(fifo, "fifo data", 9) != 9)
		e2e_fail("fifo: %s", strerror(errno));

	e2e_ready();
	e2e_wait_stop();

	if (fcntl(big[1], F_GETPIPE_SZ) != 256 * 1024)
		e2e_fail("pipe size %d, not 256 KiB", fcntl(big[1], F_GETPIPE_SZ));
	if (!(fcntl(big[0], F_GETFL) & O_NONBLOCK) || (fcntl(big[1], F_GETFL) & O_NONBLOCK))
		e2e_fail("O_NONBLOCK not kept on the right end");
	memset(buf, 0, sizeof(buf));
	e2e_read_all(big[0], buf, BIG, "big pipe");
	for (i = 0; i < BIG; i++)
		if (buf[i] != pattern(i))
			e2e_fail("big pipe: byte %zu is %u, not %u", i, buf[i], pattern(i));
	if (read(big[0], buf, 1) != -1 || errno != EAGAIN)
		e2e_fail("big pipe: more than %d bytes, or it blocks", BIG);
	/* fd 100 is the same open file description as the write end */
	fcntl(100, F_SETFL, O_NONBLOCK);
	if (shared != 100 || !(fcntl(big[1], F_GETFL) & O_NONBLOCK))
		e2e_fail("fd 100 no longer shares the write end");
	if (write(100, "x", 1) != 1 || read(big[0], msg, 1) != 1 || msg[0] != 'x')
		e2e_fail("the pipe does not carry new data");
	e2e_read_all(half[0], msg, 5, "half pipe");
	if (memcmp(msg, "hello", 5) || read(half[0], msg, 1) != 0)
		e2e_fail("half pipe: data lost or no EOF");
	e2e_read_all(fifo_ro, msg, 9, "fifo");
	if (memcmp(msg, "fifo data", 9))
		e2e_fail("fifo: got '%.9s'", msg);
	if (write(fifo, "again", 5) != 5 || read(fifo_ro, msg, 5) != 5 || memcmp(msg, "again", 5))
		e2e_fail("fifo does not carry new data");
	unlink(path);
	e2e_pass();
}
