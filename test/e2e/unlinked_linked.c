/*
 * A file opened by a name that was then removed, while another name of it
 * remains: /proc shows only "NAME (deleted)", so the dump must refuse it
 * (and leave the task running) rather than store a copy.
 */
#include <sys/stat.h>

#include "e2e.h"

int main(int argc, char **argv)
{
	char a[512], b[512], buf[4];
	int fd;

	e2e_init(argc, argv);
	e2e_path(a, sizeof(a), "first-name");
	e2e_path(b, sizeof(b), "second-name");
	fd = open(a, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, "data", 4) != 4 || link(a, b) || unlink(a))
		e2e_fail("setup: %s", strerror(errno));

	e2e_ready();
	e2e_wait_stop();

	if (pread(fd, buf, 4, 0) != 4 || memcmp(buf, "data", 4))
		e2e_fail("file lost its content");
	e2e_pass();
}
