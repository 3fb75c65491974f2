/*
 * A task whose executable was deleted (as after a package upgrade) is
 * dumped and restored: it copies itself next to the result file, runs the
 * copy, which removes itself; after restore /proc/self/exe still names the
 * deleted copy, with its exact bytes.
 */
#include <sys/stat.h>

#include "e2e-exec.h"

int main(int argc, char **argv)
{
	char path[512], target[600];
	struct stat st, me;
	ssize_t n;

	e2e_init(argc, argv);
	e2e_path(path, sizeof(path), "ghost_exe");
	if (!getenv("GHOST_EXE_COPY")) {
		e2e_copy_self(path, 0700);
		setenv("GHOST_EXE_COPY", "1", 1);
		execv(path, (char *[]){ path, argv[1], NULL });
		e2e_fail("exec %s: %s", path, strerror(errno));
	}
	if (stat(path, &me) || unlink(path))
		e2e_fail("unlink %s: %s", path, strerror(errno));

	e2e_ready();
	e2e_wait_stop();

	n = readlink("/proc/self/exe", target, sizeof(target) - 1);
	if (n < 0 || stat("/proc/self/exe", &st))
		e2e_fail("/proc/self/exe: %s", strerror(errno));
	target[n] = '\0';
	if (!strstr(target, " (deleted)") || st.st_nlink != 0)
		e2e_fail("exe is %s (nlink %lu), not the deleted copy", target,
			 (unsigned long)st.st_nlink);
	if (st.st_size != me.st_size || (st.st_mode & 07777) != 0700)
		e2e_fail("exe size %lld mode %o, was %lld 0700", (long long)st.st_size,
			 st.st_mode & 07777, (long long)me.st_size);
	e2e_pass();
}
