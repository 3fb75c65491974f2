/*
 * Every option criu knows: one line each. The parser (options.c), the
 * config file reader and --help are all driven by this table.
 *
 * "supported" says whether the option does what it says today. An option
 * that is recognised but not built yet is refused by opts_check_supported()
 * with "not supported yet", never ignored.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "options-table.h"

#define NO_SHORT	0
#define NO_FIELD	args		/* --help and --version store nothing */

/* One option; choices/implicit may follow as designated initializers. */
#define OPT(n, s, k, field, supp, grp, meta, text, ...)				\
	{ .name = n, .short_name = s, .kind = k,				\
	  .off = offsetof(struct cr_options, field), .supported = supp,		\
	  .group = grp, .metavar = meta, .help = text, __VA_ARGS__ }

static const char *const network_lock_modes[] = { "iptables", "nftables", "skip", "none", NULL };
static const char *const pre_dump_modes[] = { "splice", "read", NULL };
static const char *const cgroup_modes[] = { "none", "props", "soft", "full", "strict", "ignore", NULL };
static const char *const empty_ns_kinds[] = { "net", NULL };
static const char *const file_validation_modes[] = { "filesize", "buildid", NULL };
static const char *const pid_methods[] = { "clone3", "ns_last_pid", NULL };

/* "A:B" with both sides non-empty; @sep is the separator. */
static bool two_sides(const char *v, char sep)
{
	const char *p = strchr(v, sep);

	return p && p != v && p[1];
}

/* --ext-mount-map auto | KEY:VALUE */
static bool valid_ext_mount_map(const char *v)
{
	return !strcmp(v, "auto") || two_sides(v, ':');
}

/* --veth-pair IN=OUT[@BRIDGE] */
static bool valid_veth_pair(const char *v)
{
	return two_sides(v, '=');
}

/* --lsm-profile apparmor:NAME | selinux:NAME */
static bool valid_lsm_profile(const char *v)
{
	return (!strncmp(v, "apparmor:", 9) && v[9]) || (!strncmp(v, "selinux:", 8) && v[8]);
}

/* --close FD: a decimal descriptor number */
static bool valid_fd(const char *v)
{
	char *end;
	long n;

	if (*v < '0' || *v > '9')
		return false;
	n = strtol(v, &end, 10);
	return !*end && n >= 0 && n <= 0x7fffffff;
}

const struct opt_def opt_table[] = {
	/*  name, short, kind, field, supported, group, metavar, help[, choices, implicit] */
	OPT("tree", 't', OPT_PID, tree_pid, true, GRP_DUMP, "PID", "root of the process tree to dump"),
	OPT("images-dir", 'D', OPT_STR, images_dir, true, GRP_COMMON, "DIR", "directory for image files (default: current directory)"),
	OPT("work-dir", 'W', OPT_STR, work_dir, true, GRP_COMMON, "DIR", "directory for logs, pidfiles and stats (default: images dir)"),
	OPT("log-file", 'o', OPT_STR, log_file, true, GRP_LOG, "FILE", "log file, relative to the work dir; '-' for stderr"),
	OPT("verbosity", 'v', OPT_VERBOSITY, verbosity, true, GRP_LOG, "NUM", "0 none, 1 errors, 2 +warnings (default), 3 +info, 4 +debug; -vvv counts"),
	OPT("log-pid", NO_SHORT, OPT_BOOL, log_pid, false, GRP_LOG, NULL, "one log file per process"),
	OPT("display-stats", NO_SHORT, OPT_BOOL, display_stats, true, GRP_LOG, NULL, "print dump/restore statistics"),
	OPT("leave-running", 'R', OPT_BOOL, leave_running, true, GRP_DUMP, NULL, "keep the tree running after dump"),
	OPT("leave-stopped", 's', OPT_BOOL, leave_stopped, true, GRP_DUMP, NULL, "leave the tree stopped after dump or restore"),
	OPT("timeout", NO_SHORT, OPT_UINT, timeout, true, GRP_DUMP, "SEC", "limit on collecting and freezing tasks (default 10)"),
	OPT("freeze-cgroup", NO_SHORT, OPT_STR, freeze_cgroup, true, GRP_DUMP, "PATH", "freeze the cgroup at PATH (v1 freezer or v2) while the tree is seized; every task of it must be in the tree"),
	OPT("restore-detached", 'd', OPT_BOOL, restore_detached, true, GRP_RESTORE, NULL, "exit after restore; the restored root is not criu's child"),
	OPT("restore-sibling", 'S', OPT_BOOL, restore_sibling, false, GRP_RESTORE, NULL, "restore the root as a sibling of criu"),
	OPT("pidfile", NO_SHORT, OPT_STR, pidfile, true, GRP_RESTORE, "FILE", "write the restored root's (or server's) pid to FILE"),
	OPT("encrypt-key", NO_SHORT, OPT_STR, encrypt_key, true, GRP_COMMON, "FILE", "seal every image with AES-256-GCM under the key in FILE (exactly 32 raw bytes): dump writes sealed images, restore opens them and refuses any changed, cut, reordered or renamed file; sealed images are not readable by other tools"),
	OPT("compress", NO_SHORT, OPT_BOOL, compress, true, GRP_DUMP, NULL, "compress the page files with zstd (our addition: the established tool refuses such a dump; restore decompresses them into $TMPDIR first)"),
	OPT("image-ext", NO_SHORT, OPT_BOOL, image_ext, true, GRP_DUMP, NULL, "keep state the established image format cannot express in xt-* extension images (a restore by other tools then refuses the dump)"),
	OPT("shell-job", 'j', OPT_BOOL, shell_job, true, GRP_DUMP, NULL, "allow a job of an interactive shell; restore onto criu's terminal"),
	OPT("root", 'r', OPT_STR, root, false, GRP_RESTORE, "PATH", "root filesystem for restore"),
	OPT("exec-cmd", NO_SHORT, OPT_BOOL, exec_cmd, false, GRP_RESTORE, NULL, "after restore, exec the command given after '--' in place of criu"),
	OPT("daemon", NO_SHORT, OPT_BOOL, restore_detached, true, GRP_RESTORE, NULL, "the same as --restore-detached"),
	OPT("weak-sysctls", NO_SHORT, OPT_BOOL, weak_sysctls, true, GRP_RESTORE, NULL, "skip sysctls of a network namespace that this kernel lacks"),
	OPT("skip-file-rwx-check", NO_SHORT, OPT_BOOL, skip_file_rwx_check, true, GRP_RESTORE, NULL, "do not compare file permission bits on restore (they never are yet)"),
	OPT("file-validation", NO_SHORT, OPT_STR, file_validation, true, GRP_RESTORE, "MODE", "buildid (default): files are told by size and ELF build-id, stored at dump and checked at restore; filesize: by size only", .choices = file_validation_modes),
	OPT("lsm-profile", NO_SHORT, OPT_STR, lsm_profile, false, GRP_RESTORE, "TYPE:NAME", "LSM profile (apparmor:NAME or selinux:NAME) for the restored tree", .valid = valid_lsm_profile),
	OPT("cpu-cap", NO_SHORT, OPT_OPTSTR, cpu_cap, false, GRP_RESTORE, "CAP[,CAP]", "CPU capabilities to record or check: none, fpu, ins, cpu, all", .implicit = "all"),
	OPT("allow-uprobes", NO_SHORT, OPT_BOOL, allow_uprobes, false, GRP_DUMP, NULL, "dump tasks that have a [uprobes] mapping"),
	OPT("ext-unix-sk", 'x', OPT_BOOL, ext_unix_sk, true, GRP_FILES, NULL, "allow unix sockets connected to peers outside the tree"),
	OPT("tcp-established", NO_SHORT, OPT_BOOL, tcp_established, true, GRP_FILES, NULL, "checkpoint/restore established TCP connections"),
	OPT("tcp-close", NO_SHORT, OPT_BOOL, tcp_close, true, GRP_FILES, NULL, "restore established TCP connections as closed"),
	OPT("skip-in-flight", NO_SHORT, OPT_BOOL, skip_in_flight, true, GRP_FILES, NULL, "ignore half-open incoming TCP connections"),
	OPT("network-lock", NO_SHORT, OPT_STR, network_lock, true, GRP_FILES, "METHOD", "how TCP connections are kept silent: nftables (default) or iptables (both criu's own nf_tables rules), skip/none", .choices = network_lock_modes),
	OPT("file-locks", 'l', OPT_BOOL, file_locks, true, GRP_FILES, NULL, "dump and restore file locks"),
	OPT("link-remap", NO_SHORT, OPT_BOOL, link_remap, true, GRP_FILES, NULL, "a file unlinked from the name it was opened by but linked elsewhere gets a temporary name at dump, removed by the restore"),
	OPT("ghost-limit", NO_SHORT, OPT_SIZE, ghost_limit, true, GRP_FILES, "SIZE", "most data of one deleted file stored in the image, holes not counted (K, M, G suffixes)"),
	OPT("external", NO_SHORT, OPT_LIST, external, true, GRP_FILES, "RES", "a resource outside the tree (repeatable; only veth[IN]:OUT at restore is built)"),
	OPT("inherit-fd", NO_SHORT, OPT_INHERIT_FD, inherit_fd, false, GRP_FILES, "fd[N]:RES", "give fd N of criu to the restored tree as RES (repeatable)"),
	OPT("force-irmap", NO_SHORT, OPT_BOOL, force_irmap, true, GRP_FILES, NULL, "resolve inotify/fanotify watch paths at dump (always done)"),
	OPT("irmap-scan-path", NO_SHORT, OPT_LIST, irmap_scan_path, false, GRP_FILES, "PATH", "where to search for watched inodes (repeatable)"),
	OPT("ghost-fiemap", NO_SHORT, OPT_BOOL, ghost_fiemap, true, GRP_FILES, NULL, "find a ghost file's data runs with FIEMAP where the file system has it (else SEEK_DATA)"),
	OPT("evasive-devices", NO_SHORT, OPT_BOOL, evasive_devices, false, GRP_FILES, NULL, "use any path to a device file whose own path is gone"),
	OPT("empty-ns", NO_SHORT, OPT_STR, empty_ns, true, GRP_NS, "net", "restore the network namespace empty: the runtime sets it up (setup-namespaces)", .choices = empty_ns_kinds),
	OPT("join-ns", 'J', OPT_JOIN_NS, join_ns, false, GRP_NS, "NS:PID|FILE", "join an existing namespace on restore (repeatable)"),
	OPT("manage-cgroups", NO_SHORT, OPT_OPTSTR, manage_cgroups, true, GRP_NS, "MODE", "restore: ignore (criu's groups), none (groups must exist), props (must exist, properties written), soft (default: missing groups made with their properties), full (made, properties written to all), strict (as full, an existing group must have the dumped properties); dump: ignore writes no cgroup.img", .choices = cgroup_modes, .implicit = "soft"),
	OPT("cgroup-root", NO_SHORT, OPT_LIST, cgroup_root, true, GRP_NS, "[CTL:]PATH", "restore: the root process's group of hierarchy CTL (all without CTL:; v2 is 'unified') and the groups below it move to PATH (repeatable)"),
	OPT("cgroup-props", NO_SHORT, OPT_STR, cgroup_props, false, GRP_NS, "STRING", "cgroup properties to restore"),
	OPT("cgroup-props-file", NO_SHORT, OPT_STR, cgroup_props_file, false, GRP_NS, "FILE", "cgroup properties to restore, from a file"),
	OPT("cgroup-dump-controller", NO_SHORT, OPT_STR, cgroup_dump_controller, true, GRP_NS, "NAME", "dump the groups and properties of this hierarchy only (as /proc/PID/cgroup names it, 'unified' for v2); membership is always dumped"),
	OPT("cgroup-yard", NO_SHORT, OPT_STR, cgroup_yard, true, GRP_NS, "PATH", "restore: hierarchy NAME is mounted at PATH/NAME (e.g. PATH/cpu,cpuacct, PATH/unified) instead of where criu's mounts have it"),
	OPT("ext-mount-map", 'M', OPT_LIST, ext_mount_map, true, GRP_NS, "auto|KEY:VAL", "external mounts of the tree's mount namespace (repeatable)", .valid = valid_ext_mount_map),
	OPT("enable-external-sharing", NO_SHORT, OPT_BOOL, enable_external_sharing, true, GRP_NS, NULL, "allow external mounts shared with the outside"),
	OPT("enable-external-masters", NO_SHORT, OPT_BOOL, enable_external_masters, true, GRP_NS, NULL, "allow external mounts that are slaves of outside mounts"),
	OPT("enable-fs", NO_SHORT, OPT_LIST, enable_fs, true, GRP_NS, "FS[,FS]", "file systems whose mounts may be auto-detected (repeatable)"),
	OPT("skip-mnt", NO_SHORT, OPT_LIST, skip_mnt, true, GRP_NS, "PATH", "leave this mount out of a mount namespace dump (repeatable)"),
	OPT("mntns-compat-mode", NO_SHORT, OPT_BOOL, mntns_compat_mode, true, GRP_NS, NULL, "restore mounts the older way"),
	OPT("lsm-mount-context", NO_SHORT, OPT_STR, lsm_mount_context, true, GRP_NS, "CONTEXT", "new context= for restored mounts that had one"),
	OPT("veth-pair", NO_SHORT, OPT_LIST, veth_pair, true, GRP_NS, "IN=OUT[@BRIDGE]", "outside name of a restored veth device, and the bridge it joins (repeatable)", .valid = valid_veth_pair),
	OPT("track-mem", NO_SHORT, OPT_BOOL, track_mem, true, GRP_MEM, NULL, "track memory changes for a later incremental dump"),
	OPT("prev-images-dir", NO_SHORT, OPT_STR, prev_images_dir, true, GRP_MEM, "DIR", "parent images, relative to the images dir"),
	OPT("pre-dump-mode", NO_SHORT, OPT_STR, pre_dump_mode, true, GRP_MEM, "MODE", "how pre-dump copies pages: splice (default: frozen while copied) or read (process_vm_readv once the tree runs); no effect on dump", .choices = pre_dump_modes),
	OPT("page-server", NO_SHORT, OPT_BOOL, page_server, true, GRP_MEM, NULL, "dump: send the page files to a page server (--address, --port)"),
	OPT("address", NO_SHORT, OPT_STR, address, true, GRP_MEM, "ADDR", "service: the socket path; dump: the page server's address; page-server: the address to listen on"),
	OPT("port", NO_SHORT, OPT_PORT, port, true, GRP_MEM, "PORT", "page server port (page-server --port 0: any free one, printed on stdout)"),
	OPT("ps-socket", NO_SHORT, OPT_FD, ps_socket, true, GRP_MEM, "FD", "use an already connected page server socket"),
	OPT("lazy-pages", NO_SHORT, OPT_BOOL, lazy_pages, false, GRP_MEM, NULL, "restore memory on demand"),
	OPT("auto-dedup", NO_SHORT, OPT_BOOL, auto_dedup, true, GRP_MEM, NULL, "dump, pre-dump with --prev-images-dir: then punch out the parents' pages it supersedes (criu dedup)"),
	OPT("stream", NO_SHORT, OPT_BOOL, stream, false, GRP_MEM, NULL, "send or read images through an image streamer"),
	OPT("tls", NO_SHORT, OPT_BOOL, tls, true, GRP_MEM, NULL, "TLS between dump --page-server and page-server"),
	OPT("tls-cacert", NO_SHORT, OPT_STR, tls_cacert, true, GRP_MEM, "FILE", "TLS: the CA the peer's certificate chains to"),
	OPT("tls-cacrl", NO_SHORT, OPT_STR, tls_cacrl, true, GRP_MEM, "FILE", "TLS certificate revocation list"),
	OPT("tls-cert", NO_SHORT, OPT_STR, tls_cert, true, GRP_MEM, "FILE", "TLS: this side's certificate"),
	OPT("tls-key", NO_SHORT, OPT_STR, tls_key, true, GRP_MEM, "FILE", "TLS: this side's private key"),
	OPT("tls-no-cn-verify", NO_SHORT, OPT_BOOL, tls_no_cn_verify, true, GRP_MEM, NULL, "TLS: do not check that the server's certificate names --address"),
	OPT("action-script", NO_SHORT, OPT_LIST, action_scripts, true, GRP_INTEG, "FILE", "run FILE at each action stage with CRTOOLS_SCRIPT_ACTION set (repeatable; Documentation/rpc.md)"),
	OPT("status-fd", NO_SHORT, OPT_FD, status_fd, false, GRP_INTEG, "FD", "write one \\0 byte to FD when ready, then close it"),
	OPT("libdir", 'L', OPT_STR, libdir, false, GRP_INTEG, "DIR", "plugin directory"),
	OPT("unprivileged", NO_SHORT, OPT_BOOL, unprivileged, false, GRP_INTEG, NULL, "run without full root, accepting the limits"),
	OPT("deprecated", NO_SHORT, OPT_BOOL, deprecated, true, GRP_INTEG, NULL, "allow deprecated features (there are none)"),
	OPT("close", NO_SHORT, OPT_LIST, close_fds, true, GRP_INTEG, "FD", "close FD before doing anything else (repeatable)", .valid = valid_fd),
	OPT("config", NO_SHORT, OPT_CONFIG, config_file, true, GRP_COMMON, "FILE", "read options from FILE after the default files"),
	OPT("no-default-config", NO_SHORT, OPT_FLAG, no_default_config, true, GRP_COMMON, NULL, "skip /etc/criu/default.conf, ~/.criu/default.conf and $CRIU_CONFIG_FILE"),
	OPT("feature", NO_SHORT, OPT_LIST, features, true, GRP_CHECK, "NAME", "check: probe only this feature (repeatable)"),
	OPT("extra", NO_SHORT, OPT_BOOL, check_extra, true, GRP_CHECK, NULL, "check: also probe optional features"),
	OPT("all", NO_SHORT, OPT_BOOL, check_all, true, GRP_CHECK, NULL, "check: probe every feature"),
	OPT("experimental", NO_SHORT, OPT_BOOL, check_experimental, true, GRP_CHECK, NULL, "check: also probe experimental features (there are none)"),
	OPT("pretty", NO_SHORT, OPT_BOOL, show_pretty, true, GRP_COMMON, NULL, "show: print established-format images as crit decode --pretty does"),
	OPT("help", 'h', OPT_HELP, NO_FIELD, true, GRP_COMMON, NULL, "show this help"),
	OPT("version", 'V', OPT_VERSION, NO_FIELD, true, GRP_COMMON, NULL, "show the version"),
};

const unsigned int opt_table_size = sizeof(opt_table) / sizeof(opt_table[0]);

/*
 * Switches of test harnesses, set only from the environment (which is how
 * they are given, and how the established tool takes its fault injection):
 * variable, kind, field, help. They have no command-line spelling and are
 * not in --help; Documentation/options.md lists them.
 */
#define ENV(n, k, field, text, ...)						\
	{ .name = n, .kind = k, .off = offsetof(struct cr_options, field),	\
	  .supported = true, .group = GRP_INTEG, .help = text, __VA_ARGS__ }

const struct opt_def opt_env_table[] = {
	ENV("CRIU_FAULT", OPT_STR, fault, "fail at this named point, or SIGKILL criu at die-POINT or after log line die-log-N (dump.md, restore.md)"),
	ENV("CRIU_FAULT_NTH", OPT_UINT, fault_nth, "fail only the Nth time the point is reached"),
	ENV("CRIU_DUMP_NO_PAGEMAP_SCAN", OPT_FLAG, no_pagemap_scan, "read pagemap page by page, as without PAGEMAP_SCAN"),
	ENV("CRIU_RESTORER_STAYS", OPT_FLAG, restorer_stays, "keep the restorer blob mapped in the restored tasks"),
	ENV("CRIU_PID_METHOD", OPT_STR, pid_method, "how restore gives a task its pid: clone3 or ns_last_pid", .choices = pid_methods),
};

const unsigned int opt_env_table_size = sizeof(opt_env_table) / sizeof(opt_env_table[0]);

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
