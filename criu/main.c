/*
 * criu: the command table and the one place that exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "log.h"
#include "options.h"

struct command {
	const char *name;
	int (*fn)(struct cr_options *o);
	const char *args;		/* positional arguments, for --help */
	const char *help;
	unsigned int min_args, max_args;	/* after the command word */
};

/* name, function, arguments, help, min and max arguments */
#define CMD(n, f, a, h, lo, hi, ...)						\
	{ .name = n, .fn = f, .args = a, .help = h, .min_args = lo, .max_args = hi, __VA_ARGS__ }

static const struct command commands[] = {
	CMD("dump",	 cmd_dump,	"-t PID",	"checkpoint the tree rooted at PID into the images dir", 0, 0),
	CMD("pre-dump",	 cmd_pre_dump,		"-t PID",	"save memory only, leaving the tree running", 0, 0),
	CMD("restore",	 cmd_restore,	"",		"recreate the tree from the images dir", 0, 0),
	CMD("check",	 cmd_check,	"",		"probe the kernel for what dump and restore need", 0, 0),
	CMD("show",	 cmd_show,	"FILE|DIR",	"decode images to JSON on stdout", 1, 1),
	CMD("encode",	 cmd_encode,	"IN.json OUT",	"write an image from the JSON that show prints", 2, 2),
	CMD("page-server", cmd_page_server,		"",		"receive the page files of one dump over TCP into the images dir", 0, 0),
	CMD("lazy-pages",	 NULL,		"",		"serve pages on demand to a --lazy-pages restore", 0, 0),
	CMD("service",	 cmd_service,	"",		"RPC server on a unix socket (--address PATH; Documentation/rpc.md)", 0, 0),
	CMD("swrk",	 cmd_swrk,	"FD",		"RPC over an inherited SOCK_SEQPACKET socket FD", 1, 1),
	CMD("dedup",	 cmd_dedup,		"",		"punch out of parent images the pages the dump in -D supersedes", 0, 0),
	CMD("cpuinfo",	 cmd_cpuinfo,		"dump|check",	"record or verify CPU features for migration", 1, 1),
};

static void print_help(void)
{
	unsigned int i;

	printf("criu %s: checkpoint/restore of Linux process trees\n\n"
	       "Usage: criu COMMAND [OPTIONS]\n\nCommands:\n", CRIU_VERSION);
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		char spell[40];

		snprintf(spell, sizeof(spell), "%s %s", commands[i].name, commands[i].args);
		printf("  %-24s %s%s\n", spell, commands[i].help,
		       commands[i].fn ? "" : " (not supported yet)");
	}
	opts_help(stdout);
}

static const struct command *find_command(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static bool command_built(const char *name)
{
	const struct command *cmd = find_command(name);

	return cmd && cmd->fn;
}

/*
 * --close FD...: descriptors the caller leaked to criu. Closed before the
 * log is opened, so the log never lands on one of them; a number that is
 * not open is fine.
 */
static void close_fds(const struct cr_options *o)
{
	unsigned int i;

	for (i = 0; i < o->close_fds.n; i++)
		close(atoi(o->close_fds.v[i]));	/* syntax checked when parsed */
}

/* Defaults that depend on other options: -W defaults to -D. */
static int finish_options(struct cr_options *o)
{
	if (!o->images_dir && !(o->images_dir = strdup(".")))
		return -1;
	if (!o->work_dir && !(o->work_dir = strdup(o->images_dir)))
		return -1;
	return 0;
}

static int run(int argc, char **argv)
{
	const struct command *cmd;
	struct cr_options o;
	unsigned int nargs;
	int ret;

	check_set_command_built(command_built);
	opts_init(&o);
	ret = opts_parse(&o, argc, argv);
	if (ret == OPTS_HELP || ret == OPTS_VERSION) {
		if (ret == OPTS_HELP)
			print_help();
		else
			printf("Version: %s\nGitID: %s\n", CRIU_VERSION, CRIU_GITID);
		opts_free(&o);
		return 0;
	}
	if (ret < 0 || opts_from_env(&o)) {	/* they printed the usage */
		opts_free(&o);
		return 1;
	}
	if (!o.args.n) {
		fprintf(stderr, "criu: no command given\n");
		goto usage;
	}
	cmd = find_command(o.args.v[0]);
	if (!cmd) {
		fprintf(stderr, "criu: unknown command '%s'\n", o.args.v[0]);
		goto usage;
	}
	nargs = o.args.n - 1;
	if (!o.exec_cmd && (nargs < cmd->min_args || nargs > cmd->max_args)) {
		fprintf(stderr, "criu: %s takes %s%s\n", cmd->name,
			cmd->max_args ? "arguments: " : "no arguments", cmd->args);
		goto usage;
	}
	close_fds(&o);
	if (finish_options(&o) || log_init(o.work_dir, o.log_file, o.verbosity)) {
		ret = -1;
		goto out;
	}
	if (o.fault && !strncmp(o.fault, "die-log-", 8))
		log_die_at_line(strtoul(o.fault + 8, NULL, 10));
	pr_info("criu %s (%s): %s", CRIU_VERSION, CRIU_GITID, cmd->name);
	if (opts_check_supported(&o)) {
		ret = -1;
	} else if (!cmd->fn) {
		pr_err("%s is not supported yet", cmd->name);
		ret = -1;
	} else {
		ret = cmd->fn(&o);
	}
	log_fini();
out:
	opts_free(&o);
	return ret < 0 ? 1 : ret;	/* > 0: the command's exit status (commands.h) */
usage:
	opts_usage(stderr);
	opts_free(&o);
	return 1;
}

int main(int argc, char **argv)
{
	return run(argc, argv);
}
