/*
 * Cgroups: usage: cgroup NAME AFTER RESULT (flow "cgroup" of run.py, which
 * made the groups NAME and NAME/sub in the v1 hierarchies pids and cpu and
 * in the v2 one, with properties, and removes them after the dump).
 * The process joins NAME in each hierarchy, its child NAME/sub (pids and
 * v2); both run until SIGTERM. After the restore (into AFTER, the
 * harness's --cgroup-root) each checks its own groups in /proc/self/cgroup
 * and their properties; the parent also its child's result.
 * "cgroup ns NAME AFTER RESULT": the process makes a cgroup namespace of
 * its own once in NAME (unshare(CLONE_NEWCGROUP)), before the fork: both
 * see their groups as "/" and "/sub", before the dump and after the
 * restore alike (in AFTER).
 */
#include <sched.h>
#include <stdbool.h>
#include <sys/wait.h>

#include "e2e.h"

#define V1 "/sys/fs/cgroup/"
#define V2 "/sys/fs/cgroup/unified"

static const char *base = "";	/* "/AFTER" in its own cgroup namespace: what "/" is */

static void join(const char *mnt, const char *group)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s/cgroup.procs", mnt, group);
	fd = open(path, O_WRONLY);
	if (fd < 0 || write(fd, "0", 1) != 1)
		e2e_fail("cannot join %s: %s", path, strerror(errno));
	close(fd);
}

/* This process's path in hierarchy @hier ("pids"; "" for v2). */
static void my_path(const char *hier, char *out, size_t len)
{
	char line[512];
	FILE *f = fopen("/proc/self/cgroup", "r");

	out[0] = 0;
	while (f && fgets(line, sizeof(line), f)) {
		char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;

		if (!b)
			continue;
		*b = 0;
		if (!strcmp(a + 1, hier)) {
			b[strcspn(b + 1, "\n") + 1] = 0;
			snprintf(out, len, "%s", b + 1);
		}
	}
	if (f)
		fclose(f);
}

static void check(const char *hier, const char *mnt, const char *want, const char *prop,
		  const char *value)
{
	char path[256], file[768], got[64] = "";
	ssize_t n = -1;
	int fd;

	my_path(hier, path, sizeof(path));
	if (strcmp(path, want))
		e2e_fail("%d is in %s:%s, not %s", getpid(), hier[0] ? hier : "v2", path, want);
	snprintf(file, sizeof(file), "%s%s%s/%s", mnt, base, strcmp(path, "/") ? path : "", prop);
	fd = open(file, O_RDONLY);
	if (fd >= 0)
		n = read(fd, got, sizeof(got) - 1);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		e2e_fail("cannot read %s", file);
	got[strcspn(got, "\n")] = 0;
	if (strcmp(got, value))
		e2e_fail("%s is %s, not %s", file, got, value);
}

static int child_main(const char *after)
{
	char sub[256];

	e2e_wait_stop();
	if (base[0])
		snprintf(sub, sizeof(sub), "/sub");
	else
		snprintf(sub, sizeof(sub), "/%s/sub", after);
	check("pids", V1 "pids", sub, "pids.max", "32");
	check("", V2, sub, "cgroup.max.depth", "3");
	return 0;
}

int main(int argc, char **argv)
{
	char top[256], sub[300], sub_proc[300];
	int p[2], status;
	pid_t child;
	char c;

	bool ns = argc == 5 && !strcmp(argv[1], "ns");

	argc -= ns;
	argv += ns;
	if (argc != 4)
		return 2;
	e2e_init(argc - 2, argv + 2);
	e2e_note_pid();
	join(V1 "pids", argv[1]);
	join(V1 "cpu", argv[1]);
	join(V2, argv[1]);
	if (ns) {
		static char b[300];

		if (unshare(CLONE_NEWCGROUP))
			e2e_fail("unshare(CLONE_NEWCGROUP): %s", strerror(errno));
		snprintf(b, sizeof(b), "/%s", argv[2]);
		base = b;	/* where the restore puts it: the harness's --cgroup-root */
	}
	if (pipe(p))
		e2e_fail("pipe: %s", strerror(errno));
	child = fork();
	if (child == 0) {
		e2e_note_pid();
		snprintf(sub_proc, sizeof(sub_proc), "%s/sub", argv[1]);
		join(V1 "pids", sub_proc);
		join(V2, sub_proc);
		close(p[0]);
		close(p[1]);	/* the parent reads end of file: joined */
		_exit(child_main(argv[2]));
	}
	close(p[1]);
	if (child < 0 || read(p[0], &c, 1) != 0)
		e2e_fail("fork or the child's report failed");
	close(p[0]);
	e2e_ready();
	e2e_wait_stop();
	snprintf(top, sizeof(top), "/%s", argv[2]);
	if (ns)
		snprintf(top, sizeof(top), "/");
	check("pids", V1 "pids", top, "pids.max", "64");
	check("cpu", V1 "cpu", top, "cpu.shares", "512");
	check("", V2, top, "cgroup.max.descendants", "7");
	snprintf(sub, sizeof(sub), "%s/sub", ns ? "" : top);
	kill(child, SIGTERM);
	if (waitpid(child, &status, 0) != child)
		e2e_fail("cannot wait for the child in %s", sub);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
		exit(1);	/* its FAIL line is the result */
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		e2e_fail("the child in %s ended with status %#x", sub, status);
	e2e_pass();
}
