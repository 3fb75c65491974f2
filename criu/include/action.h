/*
 * Action stages: the named points of a dump or restore where the caller may
 * act (lock the network, set up namespaces, ...). At each, run_action()
 * runs every --action-script with CRTOOLS_SCRIPT_ACTION=<stage> (and
 * CRTOOLS_INIT_PID=<root> when the tree's root is known), then, over RPC
 * with notify_scripts, sends a NOTIFY and waits for the caller's answer.
 * A script that fails or a caller that says no fails the stage: the command
 * then fails as at any other error.
 *
 * Stages criu passes through today (Documentation/rpc.md):
 *   dump:    pre-dump, network-lock, network-unlock, post-dump
 *   restore: pre-restore, post-restore, pre-resume, network-unlock, post-resume
 *   (the network ones with --tcp-established: criu/dump-net.c, cmd-restore.c)
 * The others are named for the subsystems that will call them.
 */
#ifndef CRIU_ACTION_H
#define CRIU_ACTION_H

#include <sys/types.h>

#include "options.h"

enum action_stage {
	ACT_PRE_DUMP,
	ACT_POST_DUMP,
	ACT_PRE_RESTORE,
	ACT_POST_RESTORE,
	ACT_NET_LOCK,
	ACT_NET_UNLOCK,
	ACT_SETUP_NS,
	ACT_POST_SETUP_NS,
	ACT_PRE_RESUME,
	ACT_POST_RESUME,
	ACT_ORPHAN_PTS_MASTER,
	ACT_STATUS_READY,
	ACT_MAX,
};

/* The stage's name as scripts and RPC callers see it ("pre-dump", ...). */
const char *action_name(enum action_stage st);

/* Run stage @st; @root is the tree's root pid (0: not known). Returns 0 or -1 (logged). */
int run_action(const struct cr_options *o, enum action_stage st, pid_t root);

/*
 * The RPC session installs its notifier (NULL: none): called after the
 * scripts, it returns 0 when the caller answered go on, -1 otherwise.
 */
void action_set_notify(int (*notify)(void *arg, const char *stage, pid_t root), void *arg);

#endif /* CRIU_ACTION_H */
