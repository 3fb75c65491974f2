/*
 * A task without a session keyring stays without one across a dump that
 * leaves it running. Asking the kernel for the session keyring installs
 * the user's session keyring when there is none, so neither the dump nor
 * this check may ask in the task itself. The task runs as a uid of its own
 * (4242): the usage count of _uid_ses.4242 in /proc/keys then counts the
 * credentials holding it. Nothing holds it before the dump (1: its link
 * from _uid.4242); a thread given it by the dump would hold it for ever.
 * With "nproc" the task may not fork (RLIMIT_NPROC 1): the dump cannot ask
 * in a child and must refuse, still without asking in the task.
 */
#include <grp.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <linux/keyctl.h>

#include "e2e.h"

#define KEY_UID		4242
#define KEY_NAME	" _uid_ses.4242:"

/* The usage count of the uid's session keyring, 0 if none, -1 on error. */
static int ses_usage(void)
{
	char line[512];
	int usage = 0;
	FILE *f = fopen("/proc/keys", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, KEY_NAME) && sscanf(line, "%*x %*s %d", &usage) != 1)
			usage = -1;
	}
	fclose(f);
	return usage;
}

/* Wait up to 5 s for the count to be @want (a dead child's creds go after an RCU grace period). */
static int wait_usage(int want)
{
	const struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i, u = -1;

	for (i = 0; i < 500; i++) {
		u = ses_usage();
		if (u == want)
			break;
		nanosleep(&ts, NULL);
	}
	return u;
}

/* Make the uid's keyrings exist, asking in a child that then dies. */
static void make_user_keyrings(void)
{
	pid_t kid = fork();
	int st;

	if (kid == 0)
		_exit(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_SESSION_KEYRING,
			      0) > 0 ? 0 : 1);
	if (kid < 0 || waitpid(kid, &st, 0) != kid || st)
		e2e_fail("asking for the user session keyring in a child failed");
}

int main(int argc, char **argv)
{
	bool nproc = argc > 2 && !strcmp(argv[1], "nproc");
	int u;

	if (nproc) {	/* MODE RESULT-FILE */
		argc--;
		argv++;
	}
	e2e_init(argc, argv);
	e2e_result_for(KEY_UID, KEY_UID);
	if (setgroups(0, NULL) || setresgid(KEY_UID, KEY_UID, KEY_UID) ||
	    setresuid(KEY_UID, KEY_UID, KEY_UID))
		e2e_fail("dropping to uid %d: %s", KEY_UID, strerror(errno));
	make_user_keyrings();
	u = wait_usage(1);
	if (u != 1)
		e2e_fail("before the dump _uid_ses.%d has usage %d, not 1: a session keyring"
			 " already?", KEY_UID, u);
	if (nproc && setrlimit(RLIMIT_NPROC, &(struct rlimit){ 1, 1 }))
		e2e_fail("RLIMIT_NPROC: %s", strerror(errno));
	if (nproc && fork() >= 0)
		e2e_fail("fork works despite RLIMIT_NPROC 1");
	e2e_ready();
	e2e_wait_stop();
	u = wait_usage(1);
	if (u != 1)
		e2e_fail("after the dump _uid_ses.%d has usage %d, not 1: the dump gave the task"
			 " a session keyring", KEY_UID, u);
	e2e_pass();
}
