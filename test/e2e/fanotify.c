/*
 * A fanotify group (notification class) keeps its inode marks: a file
 * marked for open and close-after-write and a directory marked for
 * modifications of its children still report them after restore.
 * With --mount-marks: one group marks a tmpfs mounted for the test
 * (FAN_MARK_MOUNT) for modifications, another its file system
 * (FAN_MARK_FILESYSTEM) for close-after-write; both still report a file
 * written there after the restore. (A mount of its own: nothing else may
 * write there, or events wait unread at the dump, which is refused.)
 */
#include <sys/mount.h>
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

/* Open @path for writing, write @byte, close: events for marks to report. */
static void write_byte(const char *path, const char *byte)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, byte, 1) != 1)
		e2e_fail("write %s: %s", path, strerror(errno));
	close(fd);
}

/* A group with one mark of @flags (FAN_MARK_MOUNT, FAN_MARK_FILESYSTEM) on @path's. */
static int group_marking(unsigned int flags, uint64_t mask, const char *path)
{
	int fan = fanotify_init(FAN_CLASS_NOTIF | FAN_NONBLOCK, O_RDONLY | O_LARGEFILE);

	if (fan < 0 || fanotify_mark(fan, FAN_MARK_ADD | flags, mask, AT_FDCWD, path))
		e2e_fail("fanotify mark %#x: %s", flags, strerror(errno));
	return fan;
}

static char fan_mnt[512];

static void fan_umount(void)
{
	umount2(fan_mnt, MNT_DETACH);
	rmdir(fan_mnt);
}

static __attribute__((noreturn)) void mount_marks(void)
{
	char file[600];
	struct stat st;
	int mnt, sb, fd;

	e2e_path(fan_mnt, sizeof(fan_mnt), "fan-mnt");
	if (mkdir(fan_mnt, 0700) || mount("e2e-fan", fan_mnt, "tmpfs", 0, "size=64k"))
		e2e_fail("mount a tmpfs at %s: %s", fan_mnt, strerror(errno));
	atexit(fan_umount);
	snprintf(file, sizeof(file), "%s/file", fan_mnt);
	fd = open(file, O_CREAT | O_WRONLY, 0600);
	if (fd < 0 || fstat(fd, &st))
		e2e_fail("setup: %s", strerror(errno));
	close(fd);
	mnt = group_marking(FAN_MARK_MOUNT, FAN_MODIFY, file);
	sb = group_marking(FAN_MARK_FILESYSTEM, FAN_CLOSE_WRITE, file);

	e2e_ready();
	e2e_wait_stop();

	write_byte(file, "m");
	expect(mnt, FAN_MODIFY, st.st_ino, "modify (mount mark)");
	expect(sb, FAN_CLOSE_WRITE, st.st_ino, "close-after-write (file-system mark)");
	unlink(file);
	e2e_pass();
}

int main(int argc, char **argv)
{
	char dir[512], file[512], child[600];
	struct stat fst, cst;
	int fan, fd;

	if (argc > 2 && !strcmp(argv[1], "--mount-marks")) {
		e2e_init(argc - 1, argv + 1);
		mount_marks();
	}
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

	write_byte(file, "x");
	expect(fan, FAN_OPEN, fst.st_ino, "open");
	write_byte(file, "y");
	expect(fan, FAN_CLOSE_WRITE, fst.st_ino, "close-after-write");
	write_byte(child, "z");
	expect(fan, FAN_MODIFY, cst.st_ino, "child modify");
	unlink(child);
	rmdir(dir);
	unlink(file);
	e2e_pass();
}
