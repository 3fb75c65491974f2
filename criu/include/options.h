/*
 * The options of one criu run.
 *
 * One structure, filled the same way from configuration files, the command
 * line and RPC (criu/rpc-opts.c), then passed explicitly to the command that runs.
 *
 * Steps (main does them):
 *   1. opts_init(&o)                      defaults
 *   2. opts_parse(&o, argc, argv)         config files first, then the command
 *                                         line, which wins; positional words
 *                                         (the command and its arguments) land
 *                                         in o.args
 *   3. opts_from_env(&o)                  the switches only the environment
 *                                         sets (test hooks: CRIU_FAULT, ...)
 *   4. opts_check_supported(&o)           refuses options not built yet
 *   5. run the command; opts_free(&o)
 */
#ifndef CRIU_OPTIONS_H
#define CRIU_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct str_list {
	char **v;
	unsigned int n;
};

struct cr_options {
	/* what to dump / where images and logs are */
	int tree_pid;
	char *images_dir;
	char *work_dir;
	char *log_file;
	unsigned int verbosity;
	bool log_pid;
	bool display_stats;

	/* the tree before and after */
	bool leave_running;
	bool leave_stopped;
	bool image_ext;		/* est-export.h EST_EXPORT_EXT */
	bool compress;		/* zpages.h: page files compressed */
	char *encrypt_key;	/* seal.h: a file of 32 raw bytes */
	bool restore_detached;
	bool restore_sibling;
	char *pidfile;
	bool shell_job;
	unsigned int timeout;
	char *freeze_cgroup;

	/* files, sockets, network */
	bool ext_unix_sk;
	bool tcp_established;
	bool tcp_close;
	bool skip_in_flight;
	char *network_lock;
	bool file_locks;
	bool link_remap;
	uint64_t ghost_limit;
	struct str_list external;
	struct str_list inherit_fd;
	bool force_irmap;
	struct str_list irmap_scan_path;
	bool ghost_fiemap;
	bool evasive_devices;
	char *file_validation;
	bool skip_file_rwx_check;
	bool allow_uprobes;

	/* namespaces, root, cgroups */
	char *root;
	char *empty_ns;
	struct str_list join_ns;
	char *manage_cgroups;
	struct str_list cgroup_root;
	char *cgroup_props;
	char *cgroup_props_file;
	char *cgroup_dump_controller;
	char *cgroup_yard;

	/* mounts (only a mount namespace of the tree's own uses these) */
	struct str_list ext_mount_map;
	bool enable_external_sharing;
	bool enable_external_masters;
	struct str_list enable_fs;
	struct str_list skip_mnt;
	bool mntns_compat_mode;
	char *lsm_mount_context;
	char *lsm_profile;
	struct str_list veth_pair;
	bool weak_sysctls;

	/* memory: incremental, remote, lazy */
	bool track_mem;
	char *prev_images_dir;
	char *pre_dump_mode;
	bool page_server;
	char *address;
	int port;
	int ps_socket;
	bool tls;
	char *tls_cacert;
	char *tls_cert;
	char *tls_key;
	bool tls_no_cn_verify;
	bool lazy_pages;
	bool auto_dedup;
	bool stream;
	char *tls_cacrl;
	char *cpu_cap;

	/* integration */
	struct str_list action_scripts;
	int status_fd;
	bool exec_cmd;
	char *libdir;
	char *config_file;
	bool no_default_config;
	bool unprivileged;
	bool deprecated;
	struct str_list close_fds;

	/* check */
	struct str_list features;
	bool check_extra;
	bool check_all;
	bool check_experimental;
	bool show_pretty;		/* show: crit's --pretty layout for established images */

	/* switches only the environment sets (opt_env_table, opts_from_env) */
	char *fault;			/* CRIU_FAULT: fail at this named point */
	unsigned int fault_nth;		/* CRIU_FAULT_NTH: only its Nth time (0: every time) */
	bool no_pagemap_scan;		/* CRIU_DUMP_NO_PAGEMAP_SCAN: the pagemap fallback */
	bool restorer_stays;		/* CRIU_RESTORER_STAYS: keep the restorer mapped */
	char *pid_method;		/* CRIU_PID_METHOD: clone3, ns_last_pid, NULL: probe */

	/* positional words: the command, its arguments, --exec-cmd's command */
	struct str_list args;

	/* bookkeeping: which table entries were set, and where */
	uint8_t set_by[128];	/* 0 unset, 1 config file, 2 command line */
};

#define DEFAULT_TIMEOUT		10
#define DEFAULT_GHOST_LIMIT	(1 << 20)

void opts_init(struct cr_options *o);
void opts_free(struct cr_options *o);

enum { OPTS_OK = 0, OPTS_HELP = 1, OPTS_VERSION = 2 };

/*
 * Fill @o from config files and @argv. Returns OPTS_OK, OPTS_HELP or
 * OPTS_VERSION (the caller prints and exits 0), or -1 after printing a usage
 * error to stderr (the caller exits 1).
 */
int opts_parse(struct cr_options *o, int argc, char **argv);

/* Apply one config file; used by opts_parse and by tests. Returns 0 or -1. */
int opts_apply_config_file(struct cr_options *o, const char *path);

/*
 * Fill the fields of opt_env_table from the environment: a flag is on when
 * its variable is set at all, other kinds take its value, validated as on
 * the command line (an empty value counts as unset). Returns 0, or -1 after
 * printing a usage error to stderr. main is the only caller: no other code
 * reads criu's switches from the environment.
 */
int opts_from_env(struct cr_options *o);

/*
 * Set option @name (the long name of the table) from an RPC request: @value
 * is the option's text as on the command line; for a boolean "true" or
 * "false" (NULL: true). Marks it as given, so opts_check_supported() sees it.
 * Returns 0, or -1 after logging why.
 */
int opts_set_rpc(struct cr_options *o, const char *name, const char *value);

/* Error for each option that is set but not built yet. Returns 0 or -1. */
int opts_check_supported(const struct cr_options *o);

/* Whether option @long_name was given (command line or config). */
bool opts_is_set(const struct cr_options *o, const char *long_name);
/* --file-validation buildid, the default: files are told by ELF build-id and size. */
bool opts_build_id(const struct cr_options *o);

void opts_usage(FILE *f);
/* The options part of --help, grouped. */
void opts_help(FILE *f);

/* "4K", "10M", "1G", plain bytes. Returns 0 or -1. */
int parse_size(const char *s, uint64_t *out);

#endif /* CRIU_OPTIONS_H */
