/*
 * Action stages: --action-script and RPC notifications (include/action.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>

#define LOG_PREFIX "action: "
#include "action.h"
#include "log.h"

static const char *const stage_names[ACT_MAX] = {
	[ACT_PRE_DUMP]		= "pre-dump",
	[ACT_POST_DUMP]		= "post-dump",
	[ACT_PRE_RESTORE]	= "pre-restore",
	[ACT_POST_RESTORE]	= "post-restore",
	[ACT_NET_LOCK]		= "network-lock",
	[ACT_NET_UNLOCK]	= "network-unlock",
	[ACT_SETUP_NS]		= "setup-namespaces",
	[ACT_POST_SETUP_NS]	= "post-setup-namespaces",
	[ACT_PRE_RESUME]	= "pre-resume",
	[ACT_POST_RESUME]	= "post-resume",
	[ACT_ORPHAN_PTS_MASTER]	= "orphan-pts-master",
	[ACT_STATUS_READY]	= "status-ready",
};

static int (*notify_fn)(void *arg, const char *stage, pid_t root);
static void *notify_arg;

const char *action_name(enum action_stage st)
{
	return (unsigned int)st < ACT_MAX ? stage_names[st] : "unknown";
}

void action_set_notify(int (*notify)(void *arg, const char *stage, pid_t root), void *arg)
{
	notify_fn = notify;
	notify_arg = arg;
}

/* The child: the stage in the environment, then the shell runs the script. */
static void exec_script(const char *script, const char *stage, pid_t root)
{
	char pid[16];

	if (setenv("CRTOOLS_SCRIPT_ACTION", stage, 1))
		_exit(127);
	if (root > 0) {
		snprintf(pid, sizeof(pid), "%d", (int)root);
		if (setenv("CRTOOLS_INIT_PID", pid, 1))
			_exit(127);
	} else {
		unsetenv("CRTOOLS_INIT_PID");
	}
	execl("/bin/sh", "sh", "-c", script, (char *)NULL);
	_exit(127);
}

static int run_script(const char *script, const char *stage, pid_t root)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		pr_perror("fork for the %s script", stage);
		return -1;
	}
	if (pid == 0)
		exec_script(script, stage, root);
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			pr_perror("waitpid %d", (int)pid);
			return -1;
		}
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		pr_err("action script %s failed at %s (status %#x)", script, stage, st);
		return -1;
	}
	return 0;
}

int run_action(const struct cr_options *o, enum action_stage st, pid_t root)
{
	const char *stage = action_name(st);
	unsigned int i;

	pr_info("stage %s", stage);
	for (i = 0; i < o->action_scripts.n; i++)
		if (run_script(o->action_scripts.v[i], stage, root))
			return -1;
	if (notify_fn && notify_fn(notify_arg, stage, root)) {
		pr_err("the RPC caller refused stage %s", stage);
		return -1;
	}
	return 0;
}
