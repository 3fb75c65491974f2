/*
 * A process in a mount namespace of its own (run.py starts it under
 * `unshare -m --propagation private`). Under DIR/m (DIR: the case's
 * directory, on the host's root file system) it mounts:
 *
 *   t      tmpfs size=1m,mode=750, nosuid: a file "a", sub/b (mode 0640,
 *          owner 1234:1235), a symlink l -> a, a fifo, sub2/hidden
 *   t/sub2 tmpfs (over "hidden", which stays in t's files), with a file z
 *   b      a read-only bind of the host's DIR/src
 *   f      a bind of the host's file DIR/src/file
 *   b2     a bind of t/sub
 *   p      a new proc
 *   pts    a new devpts instance (mode=620,ptmxmode=666,gid=5), noexec
 *   mq     mqueue, nodev;  sys  sysfs, read-only
 *
 * and keeps t/a open at offset 2. After the restore it checks its
 * mountinfo below DIR/m (kinds, roots, flags, options), the files and the
 * open file. "overlay": an overlayfs at DIR/m/o instead, which the dump
 * must refuse, the process running on; "mixed": a child in a mount namespace
 * of its own, refused too. Its mounts go with its namespace.
 */
#include "e2e.h"
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/sysmacros.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static char base[PATH_MAX / 2];

static void at(char *buf, const char *name)
{
	snprintf(buf, PATH_MAX, "%s/%s", base, name);
}

static void must(int r, const char *what)
{
	if (r)
		e2e_fail("%s: %m", what);
}

static void put_file(const char *name, const char *text, mode_t mode)
{
	char p[PATH_MAX];
	int fd;

	at(p, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || fchmod(fd, mode))
		e2e_fail("writing %s: %m", p);
	close(fd);
}

static void mnt(const char *src, const char *name, const char *type, unsigned long fl,
		const char *data)
{
	char p[PATH_MAX], s[PATH_MAX];

	at(p, name);
	if (!type)
		at(s, src);	/* a bind of a path below DIR/m */
	else
		snprintf(s, sizeof(s), "%s", src ? src : "none");
	if (mount(s, p, type, fl, data))
		e2e_fail("mount %s on %s: %m", s, p);
}

static void dirs(const char *const *names)
{
	char p[PATH_MAX];

	for (; *names; names++) {
		at(p, *names);
		if (mkdir(p, 0755) && errno != EEXIST)
			e2e_fail("mkdir %s: %m", p);
	}
}

static int setup_overlay(void)
{
	static const char *const d[] = { "l", "u", "w", "o", NULL };
	char opts[4 * PATH_MAX];

	dirs(d);
	snprintf(opts, sizeof(opts), "lowerdir=%s/l,upperdir=%s/u,workdir=%s/w", base, base, base);
	mnt("overlay", "o", "overlay", 0, opts);
	return -1;
}

static int setup(void)
{
	static const char *const d[] = { "src", "t", "b", "b2", "p", "pts", "mq", "sys", NULL };
	static const char *const in_t[] = { "t/sub", "t/sub2", NULL };
	char p[PATH_MAX], q[PATH_MAX];
	int fd;

	dirs(d);
	put_file("src/file", "host file\n", 0644);
	put_file("f", "", 0644);
	mnt(NULL, "t", "tmpfs", MS_NOSUID, "size=1m,mode=750");
	dirs(in_t);
	put_file("t/a", "hello", 0600);
	put_file("t/sub/b", "bee", 0640);
	put_file("t/sub2/hidden", "under sub2", 0600);
	at(p, "t/sub/b");
	must(chown(p, 1234, 1235), "chown");
	at(p, "t/l");
	must(symlink("a", p), "symlink");
	at(p, "t/fifo");
	must(mkfifo(p, 0620) || chmod(p, 0620), "mkfifo");
	mnt(NULL, "t/sub2", "tmpfs", 0, "size=64k");
	put_file("t/sub2/z", "zed", 0644);
	mnt("src", "b", NULL, MS_BIND, NULL);
	at(p, "b");
	must(mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL), "remount ro");
	mnt("src/file", "f", NULL, MS_BIND, NULL);
	mnt("t/sub", "b2", NULL, MS_BIND, NULL);
	mnt("proc", "p", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mnt("devpts", "pts", "devpts", MS_NOEXEC, "newinstance,mode=620,ptmxmode=666,gid=5");
	mnt("mqueue", "mq", "mqueue", MS_NODEV, NULL);
	mnt("sysfs", "sys", "sysfs", MS_RDONLY, NULL);
	at(q, "t/a");
	fd = open(q, O_RDONLY);
	if (fd < 0 || lseek(fd, 2, SEEK_SET) != 2)
		e2e_fail("open %s: %m", q);
	return fd;
}

struct want {
	const char *mp, *fstype, *root, *opts, *sopts;
	bool seen;
};

/* Does the comma-separated @list hold every item of @items? */
static bool has_all(const char *list, const char *items)
{
	char buf[512], *save = NULL, *t;
	char l[1024];

	if (!items)
		return true;
	snprintf(l, sizeof(l), ",%s,", list);
	snprintf(buf, sizeof(buf), "%s", items);
	for (t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char k[600];

		snprintf(k, sizeof(k), ",%s,", t);
		if (!strstr(l, k))
			return false;
	}
	return true;
}

static void check_line(char *line, struct want *w, size_t nw, size_t *extra)
{
	char root[PATH_MAX], mp[PATH_MAX], opts[512], fstype[64], src[PATH_MAX], sopts[512];
	char *dash = strstr(line, " - ");
	size_t i, bl = strlen(base);

	if (!dash || sscanf(line, "%*d %*d %*u:%*u %4095s %4095s %511s", root, mp, opts) != 3 ||
	    sscanf(dash + 3, "%63s %4095s %511s", fstype, src, sopts) != 3)
		e2e_fail("mountinfo line %s", line);
	if (strncmp(mp, base, bl) || (mp[bl] && mp[bl] != '/'))
		return;
	for (i = 0; i < nw; i++) {
		char want_mp[PATH_MAX], want_root[PATH_MAX];

		at(want_mp, w[i].mp);
		if (w[i].root[0] == '/')
			snprintf(want_root, sizeof(want_root), "%s", w[i].root);
		else
			at(want_root, w[i].root);
		if (strcmp(mp, want_mp))
			continue;
		if (w[i].seen || strcmp(root, want_root) || (w[i].fstype && strcmp(fstype, w[i].fstype)) ||
		    !has_all(opts, w[i].opts) || !has_all(sopts, w[i].sopts))
			e2e_fail("mount at %s: %s %s %s %s", mp, fstype, root, opts, sopts);
		w[i].seen = true;
		return;
	}
	(*extra)++;
}

static void check_mounts(void)
{
	struct want w[] = {
		{ "t", "tmpfs", "/", "rw,nosuid,relatime", "size=1024k,mode=750", false },
		{ "t/sub2", "tmpfs", "/", "rw", "size=64k", false },
		{ "b", NULL, "src", "ro", NULL, false },
		{ "f", NULL, "src/file", "rw", NULL, false },
		{ "b2", "tmpfs", "/sub", "rw,nosuid", NULL, false },
		{ "p", "proc", "/", "rw,nosuid,nodev,noexec", NULL, false },
		{ "pts", "devpts", "/", "rw,noexec", "gid=5,mode=620,ptmxmode=666", false },
		{ "mq", "mqueue", "/", "rw,nodev", NULL, false },
		{ "sys", "sysfs", "/", "ro", NULL, false },
	};
	char line[3 * PATH_MAX];
	size_t i, extra = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	while (f && fgets(line, sizeof(line), f))
		check_line(line, w, ARRAY_SIZE(w), &extra);
	if (f)
		fclose(f);
	for (i = 0; i < ARRAY_SIZE(w); i++)
		if (!w[i].seen)
			e2e_fail("no mount at %s", w[i].mp);
	if (extra)
		e2e_fail("%zu more mounts below %s", extra, base);
}

static void want_text(const char *name, const char *text)
{
	char p[PATH_MAX], buf[64] = "";
	int fd;
	ssize_t n;

	at(p, name);
	fd = open(p, O_RDONLY);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n < 0 || strcmp(buf, text))
		e2e_fail("%s holds '%s', want '%s'", p, n < 0 ? "(unreadable)" : buf, text);
}

static void check_files(int fd)
{
	char p[PATH_MAX], buf[16] = "", self[32];
	struct stat st, sb;

	want_text("t/a", "hello");
	want_text("t/sub/b", "bee");
	want_text("b2/b", "bee");
	want_text("t/sub2/z", "zed");
	want_text("f", "host file\n");
	want_text("b/file", "host file\n");
	at(p, "pts/ptmx");
	if (stat(p, &st) || (st.st_mode & 07777) != 0666)
		e2e_fail("pts/ptmx: mode %o", st.st_mode);
	at(p, "sys/kernel");
	if (stat(p, &st) || !S_ISDIR(st.st_mode))
		e2e_fail("sys/kernel is not there");
	at(p, "t/sub/b");
	if (stat(p, &st) || (st.st_mode & 07777) != 0640 || st.st_uid != 1234 || st.st_gid != 1235)
		e2e_fail("t/sub/b: mode %o owner %u:%u", st.st_mode, st.st_uid, st.st_gid);
	at(p, "t");
	if (stat(p, &st) || (st.st_mode & 07777) != 0750)
		e2e_fail("t: mode %o", st.st_mode);
	at(p, "t/l");
	if (readlink(p, buf, sizeof(buf) - 1) != 1 || buf[0] != 'a')
		e2e_fail("t/l is not a symlink to a");
	at(p, "t/fifo");
	if (stat(p, &st) || !S_ISFIFO(st.st_mode) || (st.st_mode & 07777) != 0620)
		e2e_fail("t/fifo: mode %o", st.st_mode);
	at(p, "b2");
	if (stat(p, &sb) || (at(p, "t"), stat(p, &st)) || sb.st_dev != st.st_dev)
		e2e_fail("b2 is not on t's file system");
	at(p, "p/self");
	snprintf(self, sizeof(self), "%d", getpid());
	memset(buf, 0, sizeof(buf));
	if (readlink(p, buf, sizeof(buf) - 1) < 0 || strcmp(buf, self))
		e2e_fail("p/self is '%s', want %s", buf, self);
	memset(buf, 0, sizeof(buf));
	if (read(fd, buf, sizeof(buf) - 1) != 3 || strcmp(buf, "llo"))
		e2e_fail("the open t/a reads '%s' at offset 2", buf);
	at(p, "t/a");
	e2e_check_fd_link(fd, p);
}

/* "mixed": a child in a mount namespace of its own, below the tree's. */
static pid_t fork_mixed(void)
{
	int p[2];
	char c;
	pid_t pid;

	if (pipe(p))
		e2e_fail("pipe: %m");
	pid = fork();
	if (pid == 0) {
		e2e_child();
		close(p[0]);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || unshare(CLONE_NEWNS) || write(p[1], "u", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid < 0 || read(p[0], &c, 1) != 1)
		e2e_fail("the child in its own mount namespace: %m");
	close(p[0]);
	return pid;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 2 ? argv[1] : "";
	bool overlay = !strcmp(mode, "overlay");
	char dir[PATH_MAX / 2 - 8];
	pid_t child = 0;
	int fd = -1;

	e2e_init(argc - (argc > 2), argv + (argc > 2));
	e2e_path(dir, sizeof(dir), "m");
	if (dir[0] != '/')
		e2e_fail("the case's directory %s is not absolute", dir);
	snprintf(base, sizeof(base), "%s", dir);
	if (mkdir(base, 0755))
		e2e_fail("mkdir %s: %m", base);
	if (!strcmp(mode, "mixed"))
		child = fork_mixed();
	else
		fd = overlay ? setup_overlay() : setup();
	e2e_ready();
	e2e_wait_stop();
	if (child) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	if (*mode)
		e2e_pass();	/* the dump refused it: nothing to check */
	check_mounts();
	check_files(fd);
	e2e_pass();
}
