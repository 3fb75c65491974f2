/*
 * A pre-forking server: a TCP listener made by the parent and inherited by
 * two children (one open file description in three processes). After the
 * restore each child accepts one connection the parent makes and answers
 * with its index: one listening socket, reached by all.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "e2e.h"

static int ready_r = -1, ready_w = -1, lst = -1;
static char tag = '0';

static int worker(void)
{
	struct e2e_ids me;
	int c, r;

	e2e_member_ready(&me, &ready_w);
	r = e2e_ids_check(&me);
	if (r)
		return 10 + r;
	c = accept(lst, NULL, NULL);
	if (c < 0 || write(c, &tag, 1) != 1)
		return 20;
	close(c);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	char got[2] = { 0, 0 };
	pid_t kid[2];
	int i, r;

	e2e_init(argc, argv);
	lst = socket(AF_INET, SOCK_STREAM, 0);
	if (lst < 0 || bind(lst, (struct sockaddr *)&a, sizeof(a)) || listen(lst, 8) ||
	    getsockname(lst, (struct sockaddr *)&a, &len))
		e2e_fail("listener: %s", strerror(errno));
	e2e_tree_pipe(&ready_r, &ready_w);
	for (i = 0; i < 2; i++) {
		tag = (char)('1' + i);
		kid[i] = e2e_spawn(worker, &ready_r);
	}
	e2e_tree_wait(&ready_r, &ready_w);
	e2e_root_ready();
	for (i = 0; i < 2; i++)
		kill(kid[i], SIGTERM);	/* the workers go to accept() */
	for (i = 0; i < 2; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0);

		if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)) || read(c, &got[i], 1) != 1)
			e2e_fail("connection %d after restore: %s", i, strerror(errno));
		close(c);
	}
	if (!((got[0] == '1' && got[1] == '2') || (got[0] == '2' && got[1] == '1')))
		e2e_fail("answers '%c' '%c': not one worker each", got[0], got[1]);
	for (i = 0; i < 2; i++) {
		r = e2e_reap(kid[i], 0, 0);
		if (r)
			e2e_fail("worker %d: code %d", kid[i], r);
	}
	e2e_pass();
}
