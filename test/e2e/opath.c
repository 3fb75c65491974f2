/*
 * O_PATH fds of every file type come back as O_PATH fds of the same inode,
 * opening nothing: a FIFO (no reader appears: a non-blocking writer still
 * gets ENXIO), a symlink itself (O_NOFOLLOW), /dev/null, a unix socket's
 * file, and a deleted regular file.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "e2e.h"

struct probe {
	const char	*what;
	int		fd;
	struct stat	st;
	mode_t		type;
};

static void hold(struct probe *p, const char *what, const char *path, int flags, mode_t type)
{
	p->what = what;
	p->type = type;
	p->fd = open(path, O_PATH | flags);
	if (p->fd < 0 || fstat(p->fd, &p->st) || (p->st.st_mode & S_IFMT) != type)
		e2e_fail("%s: O_PATH open or type: %s", what, strerror(errno));
}

static void check(const struct probe *p)
{
	struct stat st;

	bool ghost = p->st.st_nlink == 0;	/* created again: a new inode */

	if (fstat(p->fd, &st) || (st.st_mode & S_IFMT) != p->type ||
	    (!ghost && (st.st_ino != p->st.st_ino || st.st_dev != p->st.st_dev)) ||
	    (ghost && st.st_nlink != 0))
		e2e_fail("%s: not the same file after restore", p->what);
	if (!(fcntl(p->fd, F_GETFL) & O_PATH))
		e2e_fail("%s: O_PATH lost (flags %o)", p->what, fcntl(p->fd, F_GETFL));
}

int main(int argc, char **argv)
{
	char fifo[512], link[512], sock[512], gone[512], self[64];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct probe pr[5];
	int s, w, i;

	e2e_init(argc, argv);
	e2e_path(fifo, sizeof(fifo), "fifo");
	e2e_path(link, sizeof(link), "link");
	e2e_path(sock, sizeof(sock), "sock");
	e2e_path(gone, sizeof(gone), "gone");
	if (mkfifo(fifo, 0600) || symlink("/etc/passwd", link))
		e2e_fail("mkfifo/symlink: %s", strerror(errno));
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (strlen(sock) >= sizeof(sa.sun_path))
		e2e_fail("socket path too long: %s", sock);
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)))
		e2e_fail("bind %s: %s", sock, strerror(errno));
	close(s);
	close(open(gone, O_WRONLY | O_CREAT, 0600));
	hold(&pr[0], "FIFO", fifo, 0, S_IFIFO);
	hold(&pr[1], "symlink", link, O_NOFOLLOW, S_IFLNK);
	hold(&pr[2], "/dev/null", "/dev/null", 0, S_IFCHR);
	hold(&pr[3], "socket file", sock, 0, S_IFSOCK);
	hold(&pr[4], "deleted file", gone, 0, S_IFREG);
	if (unlink(gone) || fstat(pr[4].fd, &pr[4].st))
		e2e_fail("unlink: %s", strerror(errno));

	e2e_ready();
	e2e_wait_stop();

	for (i = 0; i < 5; i++)
		check(&pr[i]);
	snprintf(self, sizeof(self), "/proc/self/fd/%d", pr[0].fd);
	w = open(self, O_WRONLY | O_NONBLOCK);
	if (w >= 0 || errno != ENXIO)
		e2e_fail("the FIFO has a reader after restore (open for writing: %s)",
			 w >= 0 ? "succeeded" : strerror(errno));
	e2e_pass();
}
