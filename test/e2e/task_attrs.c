/* cwd, umask, resource limits, personality and the thread name survive. */
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "e2e.h"

int main(int argc, char **argv)
{
	char dir[256], cwd[256], name[16];
	struct rlimit rl = { 12345, 23456 }, now;
	int pers;

	e2e_init(argc, argv);
	e2e_path(dir, sizeof(dir), "work dir");
	if (mkdir(dir, 0700) || chdir(dir))
		e2e_fail("chdir: %s", strerror(errno));
	umask(0027);
	if (setrlimit(RLIMIT_NOFILE, &(struct rlimit){ 200, 300 }) || setrlimit(RLIMIT_STACK, &rl))
		e2e_fail("setrlimit: %s", strerror(errno));
	pers = personality(0xffffffff);
	personality(pers | ADDR_NO_RANDOMIZE);
	prctl(PR_SET_NAME, "e2e-attrs", 0, 0, 0);
	e2e_ready();
	e2e_wait_stop();

	if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, dir))
		e2e_fail("cwd is %s", cwd);
	if (umask(0) != 0027)
		e2e_fail("umask changed");
	getrlimit(RLIMIT_NOFILE, &now);
	if (now.rlim_cur != 200 || now.rlim_max != 300)
		e2e_fail("RLIMIT_NOFILE %lu/%lu", (unsigned long)now.rlim_cur, (unsigned long)now.rlim_max);
	getrlimit(RLIMIT_STACK, &now);
	if (now.rlim_cur != rl.rlim_cur || now.rlim_max != rl.rlim_max)
		e2e_fail("RLIMIT_STACK changed");
	if (personality(0xffffffff) != (pers | ADDR_NO_RANDOMIZE))
		e2e_fail("personality %#x", personality(0xffffffff));
	prctl(PR_GET_NAME, name, 0, 0, 0);
	if (strcmp(name, "e2e-attrs"))
		e2e_fail("name is %s", name);
	e2e_pass();
}
