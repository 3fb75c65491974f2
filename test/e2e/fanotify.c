/*
 * A fanotify group (notification class) keeps its inode marks: a file
 * marked for open and close-after-write and a directory marked for
 * modifications of its children still report them after restore.
 */
#include <sys/fanotify.h>
#include <sys/stat.h>

#include "e2e.h"

/* Wait up to 2 s for an event with @mask on inode @ino. */
static void expect(int fan, uint64_t mask, ino_t ino, const char *what)
{
	char buf[4096] __attribute__((aligned(8)));
	int i;

	for (i = 0; i < 200; i++) {
		ssize_t n = read(fan, buf, sizeof(buf));
		struct fanotify_event_metadata *m = (struct fanotify_event_metadata *)buf;

		if (n < 0 && errno != EAGAIN)
			e2e_fail("fanotify read: %s", strerror(errno));
		for (; n > 0 && FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
			struct stat st;
			int hit = m->fd >= 0 && !fstat(m->fd, &st) && st.st_ino == ino &&
				  (m->mask & mask);

			if (m->fd >= 0)
				close(m->fd);
			if (hit)
				return;
		}
		usleep(10000);
	}
	e2e_fail("no %s event within 2 s", what);
}

int main(int argc, char **argv)
{
	char dir[512], file[512], child[600];
	struct stat fst, cst;
	int fan, fd;

	e2e_init(argc, argv);
	e2e_path(dir, sizeof(dir), "fan-dir");
	e2e_path(file, sizeof(file), "fan-file");
	snprintf(child, sizeof(child), "%s/child", dir);
	if (mkdir(dir, 0700) || (fd = open(file, O_CREAT | O_WRONLY, 0600)) < 0)
		e2e_fail("setup: %s", strerror(errno));
	close(fd);
	if ((fd = open(child, O_CREAT | O_WRONLY, 0600)) < 0)
		e2e_fail("setup: %s", strerror(errno));
	close(fd);
	fan = fanotify_init(FAN_CLASS_NOTIF | FAN_NONBLOCK, O_RDONLY | O_LARGEFILE);
	if (fan < 0)
		e2e_fail("fanotify_init: %s", strerror(errno));
	if (fanotify_mark(fan, FAN_MARK_ADD, FAN_OPEN | FAN_CLOSE_WRITE, AT_FDCWD, file) ||
	    fanotify_mark(fan, FAN_MARK_ADD, FAN_MODIFY | FAN_EVENT_ON_CHILD, AT_FDCWD, dir))
		e2e_fail("fanotify_mark: %s", strerror(errno));
	if (stat(file, &fst) || stat(child, &cst))
		e2e_fail("stat: %s", strerror(errno));

	e2e_ready();
	e2e_wait_stop();

	fd = open(file, O_WRONLY);
	if (fd < 0 || write(fd, "x", 1) != 1)
		e2e_fail("write %s: %s", file, strerror(errno));
	close(fd);
	expect(fan, FAN_OPEN, fst.st_ino, "open");
	fd = open(file, O_WRONLY);
	if (fd < 0 || write(fd, "y", 1) != 1)
		e2e_fail("write %s: %s", file, strerror(errno));
	close(fd);
	expect(fan, FAN_CLOSE_WRITE, fst.st_ino, "close-after-write");
	fd = open(child, O_WRONLY);
	if (fd < 0 || write(fd, "z", 1) != 1)
		e2e_fail("write %s: %s", child, strerror(errno));
	close(fd);
	expect(fan, FAN_MODIFY, cst.st_ino, "child modify");
	unlink(child);
	rmdir(dir);
	unlink(file);
	e2e_pass();
}
