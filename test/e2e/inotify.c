/*
 * inotify watches on a directory and a file keep their numbers and masks
 * and still report events after restore.
 */
#include <sys/inotify.h>
#include <sys/stat.h>

#include "e2e.h"

/* Read one event (waiting up to 2 s) into @buf. */
static struct inotify_event *next_event(int in, char *buf, size_t len)
{
	int i;

	for (i = 0; i < 200; i++) {
		ssize_t n = read(in, buf, len);

		if (n > 0)
			return (struct inotify_event *)buf;
		if (errno != EAGAIN)
			e2e_fail("inotify read: %s", strerror(errno));
		usleep(10000);
	}
	e2e_fail("no inotify event within 2 s");
}

int main(int argc, char **argv)
{
	char dir[512], file[512], made[600], buf[4096] __attribute__((aligned(8)));
	struct inotify_event *ev;
	int in, wd_dir, wd_file, fd;

	e2e_init(argc, argv);
	e2e_path(dir, sizeof(dir), "watched");
	e2e_path(file, sizeof(file), "watched-file");
	if (mkdir(dir, 0700) || (fd = open(file, O_CREAT | O_WRONLY, 0600)) < 0)
		e2e_fail("setup: %s", strerror(errno));
	close(fd);
	in = inotify_init1(IN_NONBLOCK);
	if (in < 0)
		e2e_fail("inotify_init1: %s", strerror(errno));
	wd_dir = inotify_add_watch(in, dir, IN_CREATE | IN_DELETE);
	wd_file = inotify_add_watch(in, file, IN_MODIFY);
	if (wd_dir < 0 || wd_file < 0)
		e2e_fail("inotify_add_watch: %s", strerror(errno));

	e2e_ready();
	e2e_wait_stop();

	snprintf(made, sizeof(made), "%s/new", dir);
	fd = open(made, O_CREAT | O_WRONLY, 0600);
	if (fd < 0)
		e2e_fail("create: %s", strerror(errno));
	close(fd);
	ev = next_event(in, buf, sizeof(buf));
	if (ev->wd != wd_dir || !(ev->mask & IN_CREATE) || strcmp(ev->name, "new"))
		e2e_fail("got wd %d mask %#x name '%s', expected wd %d IN_CREATE 'new'", ev->wd,
			 ev->mask, ev->len ? ev->name : "", wd_dir);
	fd = open(file, O_WRONLY);
	if (fd < 0 || write(fd, "x", 1) != 1)
		e2e_fail("modify: %s", strerror(errno));
	close(fd);
	ev = next_event(in, buf, sizeof(buf));
	if (ev->wd != wd_file || !(ev->mask & IN_MODIFY))
		e2e_fail("got wd %d mask %#x, expected wd %d IN_MODIFY", ev->wd, ev->mask, wd_file);
	unlink(made);
	unlink(file);
	rmdir(dir);
	e2e_pass();
}
