/*
 * One function per command (criu/cmd-NAME.c has cmd_NAME()); main holds the
 * table. A command returns 0 on success and -1 on failure (already logged);
 * main turns that into the exit status (0 or 1) and is the only place that
 * exits. A positive return is criu's exit status as it is: restore without
 * --restore-detached passes on the restored root's. Positional arguments after the
 * command word are o->args.v[1 .. o->args.n - 1].
 */
#ifndef CRIU_COMMANDS_H
#define CRIU_COMMANDS_H

#include <stdbool.h>
#include <sys/types.h>

#include "options.h"

int cmd_check(struct cr_options *o);
int cmd_dump(struct cr_options *o);
int cmd_pre_dump(struct cr_options *o);
int cmd_restore(struct cr_options *o);
/* cmd_restore that also gives the restored root's pid (RPC answers with it). */
int restore_run(struct cr_options *o, pid_t *root);
int cmd_show(struct cr_options *o);
int cmd_encode(struct cr_options *o);
int cmd_cpuinfo(struct cr_options *o);
int cmd_swrk(struct cr_options *o);		/* rpc-service.c */
int cmd_service(struct cr_options *o);
int cmd_page_server(struct cr_options *o);	/* page-server.c */
int cmd_dedup(struct cr_options *o);		/* page-dedup.c */
/* --pidfile (relative to the work dir) gets @pid; 0 without --pidfile. */
int write_pidfile(const struct cr_options *o, pid_t pid);

/*
 * check asks main's table whether a command is built (false: unknown or
 * "not supported yet"); main installs the question before any command runs.
 * Without it every command but check counts as not built.
 */
void check_set_command_built(bool (*built)(const char *name));

#endif /* CRIU_COMMANDS_H */
