/*
 * Status flags of regular files set with open(2) and F_SETFL come back
 * exactly (F_GETFL), with the fd's close-on-exec: O_NOATIME, O_APPEND,
 * O_NONBLOCK on one description, O_DIRECT on a second, O_SYNC on a third
 * (close-on-exec), O_DSYNC write-only on a fourth; a directory fd (the
 * harness compares its path, flags and position 0).
 * "file_flags --dir RESULT": a directory fd read part way (ext4 here)
 * keeps its place in the listing: after the restore it reads exactly the
 * rest that a second fd at its position read before the dump.
 * "--dir-tmpfs": the same in /dev/shm. "--dir-devpts": /dev/pts read part
 * way, a position the dump refuses (its cursor is not a stable cookie).
 */
#include <dirent.h>
#include <sys/stat.h>

#include "e2e.h"

#define WANT_FL	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_NOATIME | O_DIRECT | O_SYNC | O_DSYNC)

static const struct {
	int	open_flags, setfl, cloexec;
} want[] = {
	{ O_RDWR, O_NOATIME | O_APPEND | O_NONBLOCK, 0 },
	{ O_RDONLY | O_DIRECT, 0, 0 },
	{ O_RDWR | O_SYNC | O_CLOEXEC, 0, 1 },
	{ O_WRONLY | O_DSYNC, 0, 0 },
};
#define NR	(int)(sizeof(want) / sizeof(want[0]))

static void check(const int *fd, const int *fl)
{
	int i;

	for (i = 0; i < NR; i++) {
		int now = fcntl(fd[i], F_GETFL), cl = fcntl(fd[i], F_GETFD);

		if (now < 0 || (now & WANT_FL) != fl[i])
			e2e_fail("fd %d: flags %#o, not %#o", fd[i], now & WANT_FL, fl[i]);
		if (!!(cl & FD_CLOEXEC) != want[i].cloexec)
			e2e_fail("fd %d: close-on-exec %d", fd[i], cl);
	}
}

struct dirent64_hdr {
	uint64_t	ino;
	int64_t		off;
	unsigned short	reclen;
	unsigned char	type;
	char		name[];
};

#define DIR_ENTRIES	300	/* several blocks: an indexed (htree) directory on ext4 */

/* Where the directory of a --dir mode lives: ext4 (our tmp), tmpfs, devpts. */
static const char *dir_mode;
static char listing[DIR_ENTRIES * 32 + 64];	/* the rest of the listing, as expected */

/* One getdents64 of @len bytes at most; the names read go to @out (if any). */
static long read_names(int fd, size_t len, char *out, size_t out_len)
{
	char buf[4096];
	long n = syscall(SYS_getdents64, fd, buf, len < sizeof(buf) ? len : sizeof(buf)), i;

	if (n < 0)
		e2e_fail("getdents64: %s", strerror(errno));
	for (i = 0; out && i < n;) {
		struct dirent64_hdr *d = (struct dirent64_hdr *)(buf + i);
		size_t used = strlen(out);

		snprintf(out + used, out_len - used, "%s\n", d->name);
		i += d->reclen;
	}
	return n;
}

/* Every name from @fd's position on, one per line. */
static void read_rest(int fd, char *out, size_t len)
{
	out[0] = '\0';
	while (read_names(fd, 4096, out, len) > 0)
		;
}

static void dir_path(char *dir, size_t len)
{
	if (!strcmp(dir_mode, "--dir-tmpfs"))
		snprintf(dir, len, "/dev/shm/criu-e2e-dir.%d", getpid());
	else
		e2e_path(dir, len, "dir");
}

static void remove_dir(const char *dir)
{
	char path[600];
	int i;

	for (i = 0; i < DIR_ENTRIES; i++) {
		snprintf(path, sizeof(path), "%s/entry-%03d-of-a-long-listing", dir, i);
		unlink(path);
	}
	rmdir(dir);
}

/*
 * A directory read part way by two getdents64 calls of 1 KiB; what the rest
 * of the listing must be is read before the dump through a second fd put at
 * the same position (then closed). With --dir-devpts: /dev/pts after its
 * first entry, a position the dump refuses there.
 */
static int open_dir(char *dir, size_t len, off_t *pos)
{
	char path[600];
	int fd, fd2, i;

	if (!strcmp(dir_mode, "--dir-devpts")) {
		snprintf(dir, len, "/dev/pts");
		fd = open(dir, O_RDONLY | O_DIRECTORY);
		if (fd < 0 || read_names(fd, 32, NULL, 0) <= 0)
			e2e_fail("/dev/pts: %s", strerror(errno));
		*pos = lseek(fd, 0, SEEK_CUR);
		return fd;
	}
	dir_path(dir, len);
	if (mkdir(dir, 0700))
		e2e_fail("mkdir %s: %s", dir, strerror(errno));
	for (i = 0; i < DIR_ENTRIES; i++) {
		snprintf(path, sizeof(path), "%s/entry-%03d-of-a-long-listing", dir, i);
		close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0 || read_names(fd, 1024, NULL, 0) <= 0 || read_names(fd, 1024, NULL, 0) <= 0)
		e2e_fail("open or read %s: %s", dir, strerror(errno));
	*pos = lseek(fd, 0, SEEK_CUR);
	fd2 = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd2 < 0 || lseek(fd2, *pos, SEEK_SET) != *pos)
		e2e_fail("second fd on %s at %lld: %s", dir, (long long)*pos, strerror(errno));
	read_rest(fd2, listing, sizeof(listing));
	close(fd2);
	if (!listing[0])
		e2e_fail("%s: nothing left to read after two calls", dir);
	return fd;
}

static void check_dir(int dfd, const char *dir, off_t dpos)
{
	static char got[sizeof(listing)];
	off_t now = lseek(dfd, 0, SEEK_CUR);

	if (!strcmp(dir_mode, "--dir-devpts"))
		return;
	read_rest(dfd, got, sizeof(got));
	remove_dir(dir);
	if (now != dpos)
		e2e_fail("directory position %lld, not %lld", (long long)now, (long long)dpos);
	if (strcmp(got, listing))
		e2e_fail("directory %s: the rest of the listing differs: got %.60s..., expected %.60s...",
			 dir, got, listing);
}

int main(int argc, char **argv)
{
	char path[512], dir[512] = "";
	int fd[NR], fl[NR], i, dfd = -1;
	bool with_dir = argc > 2 && !strncmp(argv[1], "--dir", 5);
	off_t dpos = 0;

	if (with_dir) {
		dir_mode = argv[1];
		argc--, argv++;
	}
	e2e_init(argc, argv);
	if (with_dir)
		dfd = open_dir(dir, sizeof(dir), &dpos);
	else
		dfd = open(".", O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		e2e_fail("open .: %s", strerror(errno));
	e2e_path(path, sizeof(path), "flags.dat");
	close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	for (i = 0; i < NR; i++) {
		fd[i] = open(path, want[i].open_flags);
		if (fd[i] < 0 || (want[i].setfl && fcntl(fd[i], F_SETFL, want[i].setfl)))
			e2e_fail("open/F_SETFL %d: %s", i, strerror(errno));
		fl[i] = fcntl(fd[i], F_GETFL) & WANT_FL;
	}
	e2e_ready();
	e2e_wait_stop();
	check(fd, fl);
	unlink(path);
	if (with_dir)
		check_dir(dfd, dir, dpos);
	else if (!(fcntl(dfd, F_GETFL) & O_DIRECTORY))
		e2e_fail("the directory fd is no longer O_DIRECTORY");
	e2e_pass();
}

