/*
 * Every option criu knows: one line each. The parser (options.c), the
 * config file reader and --help are all driven by this table.
 *
 * "supported" says whether the option does what it says today. An option
 * that is recognised but not built yet is refused by opts_check_supported()
 * with "not supported yet", never ignored.
 */
#include <stddef.h>

#include "options-table.h"

#define F(field)	offsetof(struct cr_options, field)
#define NO_SHORT	0

static const char *const network_lock_modes[] = { "iptables", "nftables", "skip", NULL };
static const char *const pre_dump_modes[] = { "splice", "read", NULL };
static const char *const cgroup_modes[] = { "none", "props", "soft", "full", "strict", "ignore", NULL };
static const char *const empty_ns_kinds[] = { "net", NULL };

const struct opt_def opt_table[] = {
	/* name			short	kind		field			supp.	group		metavar		help */
	{ "tree",		't',	OPT_PID,	F(tree_pid),		true,	GRP_DUMP,	"PID",		"root of the process tree to dump" },
	{ "images-dir",		'D',	OPT_STR,	F(images_dir),		true,	GRP_COMMON,	"DIR",		"directory for image files (default: current directory)" },
	{ "work-dir",		'W',	OPT_STR,	F(work_dir),		true,	GRP_COMMON,	"DIR",		"directory for logs, pidfiles and stats (default: images dir)" },
	{ "log-file",		'o',	OPT_STR,	F(log_file),		true,	GRP_LOG,	"FILE",		"log file, relative to the work dir; '-' for stderr" },
	{ "verbosity",		'v',	OPT_VERBOSITY,	F(verbosity),		true,	GRP_LOG,	"NUM",		"0 none, 1 errors, 2 +warnings (default), 3 +info, 4 +debug; -vvv counts" },
	{ "log-pid",		NO_SHORT, OPT_BOOL,	F(log_pid),		false,	GRP_LOG,	NULL,		"one log file per process" },
	{ "display-stats",	NO_SHORT, OPT_BOOL,	F(display_stats),	true,	GRP_LOG,	NULL,		"print dump/restore statistics" },
	{ "leave-running",	'R',	OPT_BOOL,	F(leave_running),	true,	GRP_DUMP,	NULL,		"keep the tree running after dump" },
	{ "leave-stopped",	's',	OPT_BOOL,	F(leave_stopped),	true,	GRP_DUMP,	NULL,		"leave the tree stopped after dump or restore" },
	{ "timeout",		NO_SHORT, OPT_UINT,	F(timeout),		true,	GRP_DUMP,	"SEC",		"limit on collecting and freezing tasks (default 10)" },
	{ "freeze-cgroup",	NO_SHORT, OPT_STR,	F(freeze_cgroup),	false,	GRP_DUMP,	"PATH",		"freeze with a cgroup freezer instead of ptrace alone" },
	{ "restore-detached",	'd',	OPT_BOOL,	F(restore_detached),	true,	GRP_RESTORE,	NULL,		"exit after restore; the restored root is not criu's child" },
	{ "restore-sibling",	'S',	OPT_BOOL,	F(restore_sibling),	false,	GRP_RESTORE,	NULL,		"restore the root as a sibling of criu" },
	{ "pidfile",		NO_SHORT, OPT_STR,	F(pidfile),		true,	GRP_RESTORE,	"FILE",		"write the restored root's (or server's) pid to FILE" },
	{ "shell-job",		'j',	OPT_BOOL,	F(shell_job),		true,	GRP_DUMP,	NULL,		"allow a job of an interactive shell; restore onto criu's terminal" },
	{ "root",		'r',	OPT_STR,	F(root),		false,	GRP_RESTORE,	"PATH",		"root filesystem for restore" },
	{ "exec-cmd",		NO_SHORT, OPT_BOOL,	F(exec_cmd),		false,	GRP_RESTORE,	NULL,		"after restore, exec the command given after '--' in place of criu" },
	{ "ext-unix-sk",	'x',	OPT_BOOL,	F(ext_unix_sk),		false,	GRP_FILES,	NULL,		"allow unix sockets connected to peers outside the tree" },
	{ "tcp-established",	NO_SHORT, OPT_BOOL,	F(tcp_established),	false,	GRP_FILES,	NULL,		"checkpoint/restore established TCP connections" },
	{ "tcp-close",		NO_SHORT, OPT_BOOL,	F(tcp_close),		false,	GRP_FILES,	NULL,		"restore established TCP connections as closed" },
	{ "skip-in-flight",	NO_SHORT, OPT_BOOL,	F(skip_in_flight),	false,	GRP_FILES,	NULL,		"ignore half-open incoming TCP connections" },
	{ "network-lock",	NO_SHORT, OPT_STR,	F(network_lock),	false,	GRP_FILES,	"METHOD",	"how connections are frozen: iptables, nftables, skip", network_lock_modes },
	{ "file-locks",		'l',	OPT_BOOL,	F(file_locks),		false,	GRP_FILES,	NULL,		"dump and restore file locks" },
	{ "link-remap",		NO_SHORT, OPT_BOOL,	F(link_remap),		false,	GRP_FILES,	NULL,		"allow re-linking unlinked-but-open files at restore" },
	{ "ghost-limit",	NO_SHORT, OPT_SIZE,	F(ghost_limit),		false,	GRP_FILES,	"SIZE",		"largest deleted file stored in the image (K, M, G suffixes)" },
	{ "external",		NO_SHORT, OPT_LIST,	F(external),		false,	GRP_FILES,	"RES",		"a resource outside the tree (repeatable)" },
	{ "inherit-fd",		NO_SHORT, OPT_INHERIT_FD, F(inherit_fd),	false,	GRP_FILES,	"fd[N]:RES",	"give fd N of criu to the restored tree as RES (repeatable)" },
	{ "empty-ns",		NO_SHORT, OPT_STR,	F(empty_ns),		false,	GRP_NS,		"net",		"create an empty namespace of this kind on restore", empty_ns_kinds },
	{ "join-ns",		'J',	OPT_JOIN_NS,	F(join_ns),		false,	GRP_NS,		"NS:PID|FILE",	"join an existing namespace on restore (repeatable)" },
	{ "manage-cgroups",	NO_SHORT, OPT_OPTSTR,	F(manage_cgroups),	false,	GRP_NS,		"MODE",		"cgroup handling: none, props, soft (default), full, strict, ignore", cgroup_modes, "soft" },
	{ "cgroup-root",	NO_SHORT, OPT_LIST,	F(cgroup_root),		false,	GRP_NS,		"[CTL:]PATH",	"restore cgroups under PATH (repeatable)" },
	{ "cgroup-props",	NO_SHORT, OPT_STR,	F(cgroup_props),	false,	GRP_NS,		"STRING",	"cgroup properties to restore" },
	{ "cgroup-props-file",	NO_SHORT, OPT_STR,	F(cgroup_props_file),	false,	GRP_NS,		"FILE",		"cgroup properties to restore, from a file" },
	{ "cgroup-dump-controller", NO_SHORT, OPT_STR,	F(cgroup_dump_controller), false, GRP_NS,	"NAME",		"dump only this cgroup controller" },
	{ "cgroup-yard",	NO_SHORT, OPT_STR,	F(cgroup_yard),		false,	GRP_NS,		"PATH",		"where cgroup hierarchies are mounted while working" },
	{ "track-mem",		NO_SHORT, OPT_BOOL,	F(track_mem),		false,	GRP_MEM,	NULL,		"track memory changes for a later incremental dump" },
	{ "prev-images-dir",	NO_SHORT, OPT_STR,	F(prev_images_dir),	false,	GRP_MEM,	"DIR",		"parent images, relative to the images dir" },
	{ "pre-dump-mode",	NO_SHORT, OPT_STR,	F(pre_dump_mode),	false,	GRP_MEM,	"MODE",		"how pre-dump copies pages: splice or read", pre_dump_modes },
	{ "page-server",	NO_SHORT, OPT_BOOL,	F(page_server),		false,	GRP_MEM,	NULL,		"send pages to a page server" },
	{ "address",		NO_SHORT, OPT_STR,	F(address),		false,	GRP_MEM,	"ADDR",		"page server address" },
	{ "port",		NO_SHORT, OPT_PORT,	F(port),		false,	GRP_MEM,	"PORT",		"page server port" },
	{ "ps-socket",		NO_SHORT, OPT_FD,	F(ps_socket),		false,	GRP_MEM,	"FD",		"use an already connected page server socket" },
	{ "lazy-pages",		NO_SHORT, OPT_BOOL,	F(lazy_pages),		false,	GRP_MEM,	NULL,		"restore memory on demand" },
	{ "auto-dedup",		NO_SHORT, OPT_BOOL,	F(auto_dedup),		false,	GRP_MEM,	NULL,		"punch holes in parent images as they are superseded" },
	{ "tls",		NO_SHORT, OPT_BOOL,	F(tls),			false,	GRP_MEM,	NULL,		"TLS for remote transfers" },
	{ "tls-cacert",		NO_SHORT, OPT_STR,	F(tls_cacert),		false,	GRP_MEM,	"FILE",		"TLS CA certificate" },
	{ "tls-cert",		NO_SHORT, OPT_STR,	F(tls_cert),		false,	GRP_MEM,	"FILE",		"TLS certificate" },
	{ "tls-key",		NO_SHORT, OPT_STR,	F(tls_key),		false,	GRP_MEM,	"FILE",		"TLS private key" },
	{ "tls-no-cn-verify",	NO_SHORT, OPT_BOOL,	F(tls_no_cn_verify),	false,	GRP_MEM,	NULL,		"do not check the peer certificate's common name" },
	{ "action-script",	NO_SHORT, OPT_LIST,	F(action_scripts),	false,	GRP_INTEG,	"FILE",		"run FILE at named stages (repeatable)" },
	{ "status-fd",		NO_SHORT, OPT_FD,	F(status_fd),		false,	GRP_INTEG,	"FD",		"write one \\0 byte to FD when ready, then close it" },
	{ "libdir",		'L',	OPT_STR,	F(libdir),		false,	GRP_INTEG,	"DIR",		"plugin directory" },
	{ "unprivileged",	NO_SHORT, OPT_BOOL,	F(unprivileged),	false,	GRP_INTEG,	NULL,		"run without full root, accepting the limits" },
	{ "config",		NO_SHORT, OPT_CONFIG,	F(config_file),		true,	GRP_COMMON,	"FILE",		"read options from FILE after the default files" },
	{ "no-default-config",	NO_SHORT, OPT_FLAG,	F(no_default_config),	true,	GRP_COMMON,	NULL,		"skip /etc/criu/default.conf, ~/.criu/default.conf and $CRIU_CONFIG_FILE" },
	{ "feature",		NO_SHORT, OPT_LIST,	F(features),		true,	GRP_CHECK,	"NAME",		"check: probe only this feature (repeatable)" },
	{ "extra",		NO_SHORT, OPT_BOOL,	F(check_extra),		true,	GRP_CHECK,	NULL,		"check: also probe optional features" },
	{ "all",		NO_SHORT, OPT_BOOL,	F(check_all),		true,	GRP_CHECK,	NULL,		"check: probe every feature" },
	{ "help",		'h',	OPT_HELP,	0,			true,	GRP_COMMON,	NULL,		"show this help" },
	{ "version",		'V',	OPT_VERSION,	0,			true,	GRP_COMMON,	NULL,		"show the version" },
};

const unsigned int opt_table_size = sizeof(opt_table) / sizeof(opt_table[0]);

const char *const opt_group_names[GRP_MAX] = {
	[GRP_COMMON]	= "Common options",
	[GRP_LOG]	= "Logging",
	[GRP_DUMP]	= "Dump",
	[GRP_RESTORE]	= "Restore",
	[GRP_FILES]	= "Files, sockets and network",
	[GRP_NS]	= "Namespaces and cgroups",
	[GRP_MEM]	= "Memory: incremental, remote and lazy",
	[GRP_INTEG]	= "Integration",
	[GRP_CHECK]	= "check",
};
