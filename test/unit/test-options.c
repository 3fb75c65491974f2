/* Option parsing: every table entry's spellings, bad input, config files. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "options-table.h"
#include "unit.h"

static struct cr_options o;

/* Parse a NULL-terminated word list (argv[0] is added) with no default files. */
static int parse(const char *first, ...)
{
	char *argv[64] = { "criu", "--no-default-config" };
	int argc = 2;
	va_list ap;
	const char *w;

	opts_free(&o);
	opts_init(&o);
	va_start(ap, first);
	for (w = first; w && argc < 62; w = va_arg(ap, const char *))
		argv[argc++] = (char *)w;
	va_end(ap);
	argv[argc] = NULL;
	return opts_parse(&o, argc, argv);
}

/* A value @d->valid accepts, for the options whose syntax it checks. */
static const char *valid_sample(const struct opt_def *d)
{
	static const char *const samples[] = { "3", "auto", "eth0=veth0", "apparmor:x", NULL };
	unsigned int i;

	for (i = 0; samples[i]; i++)
		if (d->valid(samples[i]))
			return samples[i];
	return "no sample";
}

static const char *sample_value(const struct opt_def *d)
{
	if (d->valid)
		return valid_sample(d);
	switch (d->kind) {
	case OPT_STR: case OPT_OPTSTR:
		return d->choices ? d->choices[0] : "/some/path";
	case OPT_UINT: case OPT_PID: case OPT_FD: case OPT_PORT: case OPT_VERBOSITY:
		return "3";
	case OPT_SIZE:
		return "4K";
	case OPT_INHERIT_FD:
		return "fd[7]:pipe:[1234]";
	case OPT_JOIN_NS:
		return "net:/var/run/netns/x";
	case OPT_LIST: case OPT_CONFIG:
		return "value";
	default:
		return NULL;
	}
}

/* Every entry is reachable by its long name, its short name and, for booleans, --no-. */
static int test_every_spelling(void)
{
	char longopt[64], shortopt[3];
	unsigned int i;

	for (i = 0; i < opt_table_size; i++) {
		const struct opt_def *d = &opt_table[i];
		const char *val = sample_value(d);
		int want = d->kind == OPT_HELP ? OPTS_HELP : d->kind == OPT_VERSION ? OPTS_VERSION : 0;

		if (d->kind == OPT_CONFIG)
			continue;	/* needs a real file: see test_config_option */
		snprintf(longopt, sizeof(longopt), "--%s", d->name);
		CHECK(parse("dump", longopt, val, NULL) == want);
		CHECK(o.set_by[i] != 0);
		if (d->short_name) {
			snprintf(shortopt, sizeof(shortopt), "-%c", d->short_name);
			if (d->kind == OPT_VERBOSITY) {
				CHECK(parse("dump", "-v3", NULL) == 0);
			} else {
				CHECK(parse("dump", shortopt, val, NULL) == want);
			}
			CHECK(o.set_by[i] != 0);
		}
		if (d->kind == OPT_BOOL) {
			snprintf(longopt, sizeof(longopt), "--no-%s", d->name);
			CHECK(parse("dump", longopt, NULL) == 0);
			CHECK(*(bool *)((char *)&o + d->off) == false);
		}
	}
	return 0;
}

static int test_values(void)
{
	CHECK(parse("dump", "-t", "42", "-D", "/imgs", "-o", "x.log", "-R", NULL) == 0);
	CHECK(o.tree_pid == 42);
	CHECK_STR(o.images_dir, "/imgs");
	CHECK_STR(o.log_file, "x.log");
	CHECK(o.leave_running);
	CHECK(o.args.n == 1);
	CHECK_STR(o.args.v[0], "dump");
	CHECK(parse("restore", "--leave-running", "--no-leave-running", NULL) == 0);
	CHECK(!o.leave_running);
	CHECK(parse("check", "--ghost-limit", "10M", "--timeout=7", NULL) == 0);
	CHECK(o.ghost_limit == 10u << 20);
	CHECK(o.timeout == 7);
	CHECK(parse("check", "--feature", "a", "--feature=b", NULL) == 0);
	CHECK(o.features.n == 2);
	CHECK_STR(o.features.v[1], "b");
	CHECK(parse("dump", "--manage-cgroups", NULL) == 0);
	CHECK_STR(o.manage_cgroups, "soft");
	CHECK(parse("dump", "--manage-cgroups=full", NULL) == 0);
	CHECK_STR(o.manage_cgroups, "full");
	return 0;
}

static int test_defaults(void)
{
	CHECK(parse("check", NULL) == 0);
	CHECK(o.verbosity == DEFAULT_LOGLEVEL);
	CHECK(o.timeout == DEFAULT_TIMEOUT);
	CHECK(o.ghost_limit == DEFAULT_GHOST_LIMIT);
	CHECK(o.status_fd == -1);
	CHECK(!o.leave_running && !o.shell_job && !o.tree_pid);
	CHECK(o.ghost_fiemap);
	return 0;
}

static int test_verbosity(void)
{
	CHECK(parse("check", "-v", NULL) == 0 && o.verbosity == 3);
	CHECK(parse("check", "-vv", NULL) == 0 && o.verbosity == 4);
	CHECK(parse("check", "-v", "-v", NULL) == 0 && o.verbosity == 4);
	CHECK(parse("check", "-vvvvvv", NULL) == 0 && o.verbosity == 4);
	CHECK(parse("check", "-v0", NULL) == 0 && o.verbosity == 0);
	CHECK(parse("check", "-v1", NULL) == 0 && o.verbosity == 1);
	CHECK(parse("check", "--verbosity=4", NULL) == 0 && o.verbosity == 4);
	CHECK(parse("check", "--verbosity", NULL) == 0 && o.verbosity == 3);
	/* attached text is read as the established tool reads it */
	CHECK(parse("check", "-verbosity=0", NULL) == 0 && o.verbosity == 0);
	CHECK(parse("check", "-verbosity=4", NULL) == 0 && o.verbosity == 0);
	CHECK(parse("check", "-vx", NULL) == 0 && o.verbosity == 0);
	CHECK(parse("check", "--verbosity=loud", NULL) == 0 && o.verbosity == 0);
	CHECK(parse("check", "-v3x", NULL) == 0 && o.verbosity == 3);
	CHECK(parse("check", "-v-1", NULL) == 0 && o.verbosity == 0);
	CHECK(parse("check", "--verbosity=99999999999999999999", NULL) == 0 && o.verbosity == 4);
	CHECK(parse("check", "-v0", "-vv", NULL) == 0 && o.verbosity == 2);
	CHECK(parse("check", "-v0", "-vvx", NULL) == 0 && o.verbosity == 3);
	CHECK(parse("check", "-v0", "--verbosity", NULL) == 0 && o.verbosity == 1);
	/* not attached: --verbosity and a positional word */
	CHECK(parse("check", "--verbosity", "0", NULL) == 0 && o.verbosity == 3 && o.args.n == 2);
	return 0;
}

static int test_bad_input(void)
{
	static const char *const bad[][3] = {
		{ "--bogus", NULL }, { "-Z", NULL }, { "-t", NULL }, { "-t", "abc" },
		{ "-t", "0" }, { "-t", "-5" }, { "-t", "99999999999" },
		{ "--port", "65536" }, { "--network-lock", "ebtables" }, { "--ghost-limit", "10X" },
		{ "--ghost-limit", "99999999999999999999" }, { "--inherit-fd", "fd[x]:a" },
		{ "--inherit-fd", "fd[3]" }, { "--inherit-fd", "fd[3]:" }, { "--join-ns", "foo:1" },
		{ "--join-ns", "net" }, { "--pre-dump-mode", "copy" }, { "--empty-ns", "pid" },
		{ "--manage-cgroups=most", NULL }, { "--leave-running=yes", NULL },
		{ "--timeout", "1s" }, { "--status-fd", "x" }, { "--external", "" },
		{ "--ext-mount-map", "x" }, { "--ext-mount-map", ":x" }, { "-M", "x:" },
		{ "--veth-pair", "eth0" }, { "--lsm-profile", "smack:x" }, { "--lsm-profile", "selinux:" },
		{ "--close", "-1" }, { "--close", "3x" }, { "--file-validation", "md5" },
		{ "--enable-fs", "" }, { "--network-lock", "ebtables" },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		if (parse("dump", bad[i][0], bad[i][1], NULL) != -1) {
			snprintf(unit_why, sizeof(unit_why), "accepted %s %s", bad[i][0],
				 bad[i][1] ? bad[i][1] : "");
			return -1;
		}
	}
	return 0;
}

static int test_not_supported(void)
{
	CHECK(parse("dump", "--allow-uprobes", "-t", "1", NULL) == 0);
	CHECK(opts_check_supported(&o) == -1);
	CHECK(parse("dump", "--no-allow-uprobes", "-t", "1", NULL) == 0);
	CHECK(opts_check_supported(&o) == 0);
	CHECK(parse("dump", "--cgroup-props", "x", NULL) == 0);
	CHECK(opts_check_supported(&o) == -1);
	CHECK(parse("check", "--extra", "-v4", NULL) == 0);
	CHECK(opts_check_supported(&o) == 0);
	CHECK(opts_is_set(&o, "extra") && !opts_is_set(&o, "all"));
	/* every --manage-cgroups mode is built; --cgroup-props is not */
	CHECK(parse("dump", "--manage-cgroups=ignore", NULL) == 0);
	CHECK(opts_check_supported(&o) == 0);
	CHECK(parse("restore", "--manage-cgroups=strict", "--cgroup-root", "pids:/x", NULL) == 0);
	CHECK(opts_check_supported(&o) == 0);
	CHECK(parse("dump", "--manage-cgroups", NULL) == 0);
	CHECK(opts_check_supported(&o) == 0);
	CHECK(parse("dump", "--cgroup-props-file", "/x", NULL) == 0);
	CHECK(opts_check_supported(&o) == -1);
	/* the page server and its TLS are built, lazy pages are not; --port 0: any free port */
	CHECK(parse("page-server", "--port", "0", "-D", "x", NULL) == 0 && o.port == 0);
	CHECK(opts_check_supported(&o) == 0);
	CHECK(parse("dump", "--page-server", "--address", "h", "--port", "1", "--tls",
		    "--tls-cacert", "ca", "--tls-cert", "c", "--tls-key", "k", "--tls-cacrl", "r",
		    "--tls-no-cn-verify", NULL) == 0);
	CHECK(o.tls && o.tls_no_cn_verify && !strcmp(o.tls_key, "k") && !strcmp(o.tls_cacrl, "r"));
	CHECK(opts_check_supported(&o) == 0);
	CHECK(parse("restore", "--lazy-pages", NULL) == 0);
	CHECK(opts_check_supported(&o) == -1);
	return 0;
}

/* What runtimes and test harnesses send, value syntax included. */
static int test_callers_spellings(void)
{
	CHECK(parse("dump", "--pre-dump-mode", "splice", "-t", "1", NULL) == 0);
	CHECK_STR(o.pre_dump_mode, "splice");
	CHECK(opts_check_supported(&o) == 0);
	CHECK(parse("dump", "--pre-dump-mode=read", NULL) == 0);
	CHECK_STR(o.pre_dump_mode, "read");
	CHECK(parse("dump", "--ext-mount-map", "auto", "-M", "/dev/console:console",
		    "--enable-fs", "hugetlbfs", "--enable-fs", "tracefs", "--enable-external-sharing",
		    "--enable-external-masters", "--force-irmap", "--ghost-fiemap", NULL) == 0);
	CHECK(o.ext_mount_map.n == 2 && o.enable_fs.n == 2);
	CHECK_STR(o.ext_mount_map.v[1], "/dev/console:console");
	CHECK(o.enable_external_sharing && o.enable_external_masters && o.force_irmap);
	CHECK(opts_check_supported(&o) == 0);
	CHECK(parse("dump", "--no-ghost-fiemap", NULL) == 0 && !o.ghost_fiemap);
	CHECK(parse("restore", "--daemon", NULL) == 0 && o.restore_detached);
	CHECK(parse("check", "--network-lock", "none", "--close", "7", NULL) == 0);
	CHECK(opts_check_supported(&o) == 0);
	CHECK(parse("restore", "--lsm-profile", "apparmor:lxc", NULL) == 0);
	CHECK(opts_check_supported(&o) == -1);
	return 0;
}

static int test_positional_and_exec(void)
{
	CHECK(parse("-v4", "cpuinfo", "-D", "d", "check", NULL) == 0);
	CHECK(o.args.n == 2);
	CHECK_STR(o.args.v[0], "cpuinfo");
	CHECK_STR(o.args.v[1], "check");
	CHECK(parse("restore", "--exec-cmd", "-v4", "--", "sh", "-c", "echo hi", NULL) == 0);
	CHECK(o.exec_cmd && o.verbosity == 4);
	CHECK(o.args.n == 4);	/* restore sh -c "echo hi" */
	CHECK_STR(o.args.v[1], "sh");
	CHECK_STR(o.args.v[3], "echo hi");
	return 0;
}

static char tmpdir[] = "/tmp/criu-test-options-XXXXXX";

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static int test_config_file(void)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/a.conf", tmpdir);
	CHECK(write_file(path,
		"# a comment\n"
		"\n"
		"  tree 17   # trailing comment\n"
		"images-dir \"/dir with spaces\"\n"
		"leave-running\n"
		"no-shell-job\n"
		"verbosity 4\n"
		"external  mnt[a]:b\n"
		"external mnt[c]:d\n") == 0);
	opts_free(&o);
	opts_init(&o);
	CHECK(opts_apply_config_file(&o, path) == 0);
	CHECK(o.tree_pid == 17);
	CHECK_STR(o.images_dir, "/dir with spaces");
	CHECK(o.leave_running && !o.shell_job);
	CHECK(o.verbosity == 4);
	CHECK(o.external.n == 2);
	CHECK_STR(o.external.v[1], "mnt[c]:d");
	return 0;
}

static int test_config_errors(void)
{
	static const char *const bad[] = {
		"bogus-option\n", "tree\n", "leave-running yes\n", "tree abc\n",
		"images-dir \"unterminated\n", "config /x\n", "help\n", "no-tree 3\n",
	};
	char path[256];
	unsigned int i;

	snprintf(path, sizeof(path), "%s/bad.conf", tmpdir);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		CHECK(write_file(path, bad[i]) == 0);
		opts_free(&o);
		opts_init(&o);
		if (opts_apply_config_file(&o, path) != -1) {
			snprintf(unit_why, sizeof(unit_why), "accepted config line %s", bad[i]);
			return -1;
		}
	}
	opts_free(&o);
	opts_init(&o);
	CHECK(opts_apply_config_file(&o, "/nonexistent/criu.conf") == -1);
	return 0;
}

/* Default files, $CRIU_CONFIG_FILE, --config, and the command line on top. */
static int test_config_order(void)
{
	char home[256], user[300], env[256], explicit[256], arg[300];
	char *argv[8];

	snprintf(home, sizeof(home), "%s/home", tmpdir);
	snprintf(user, sizeof(user), "%s/.criu", home);
	CHECK(mkdir(home, 0700) == 0 || access(home, F_OK) == 0);
	CHECK(mkdir(user, 0700) == 0 || access(user, F_OK) == 0);
	snprintf(user, sizeof(user), "%s/.criu/default.conf", home);
	CHECK(write_file(user, "timeout 1\nleave-running\ntree 5\n") == 0);
	snprintf(env, sizeof(env), "%s/env.conf", tmpdir);
	CHECK(write_file(env, "timeout 2\n") == 0);
	snprintf(explicit, sizeof(explicit), "%s/explicit.conf", tmpdir);
	CHECK(write_file(explicit, "tree 6\n") == 0);
	setenv("HOME", home, 1);
	setenv("CRIU_CONFIG_FILE", env, 1);

	argv[0] = "criu"; argv[1] = "dump"; argv[2] = "--no-leave-running"; argv[3] = NULL;
	opts_free(&o);
	opts_init(&o);
	CHECK(opts_parse(&o, 3, argv) == 0);
	CHECK(o.timeout == 2);		/* env file after the user file */
	CHECK(o.tree_pid == 5);
	CHECK(!o.leave_running);	/* command line wins */

	snprintf(arg, sizeof(arg), "--config=%s", explicit);
	argv[2] = arg; argv[3] = NULL;
	opts_free(&o);
	opts_init(&o);
	CHECK(opts_parse(&o, 3, argv) == 0);
	CHECK(o.tree_pid == 6 && o.timeout == 2 && o.leave_running);

	argv[3] = "--no-default-config"; argv[4] = NULL;
	opts_free(&o);
	opts_init(&o);
	CHECK(opts_parse(&o, 4, argv) == 0);
	CHECK(o.tree_pid == 6 && o.timeout == DEFAULT_TIMEOUT && !o.leave_running);

	setenv("CRIU_CONFIG_FILE", "/nonexistent.conf", 1);
	argv[2] = "check"; argv[3] = NULL;
	opts_free(&o);
	opts_init(&o);
	CHECK(opts_parse(&o, 3, argv) == -1);
	unsetenv("CRIU_CONFIG_FILE");
	return 0;
}

static int test_parse_size(void)
{
	uint64_t v;

	CHECK(parse_size("0", &v) == 0 && v == 0);
	CHECK(parse_size("512", &v) == 0 && v == 512);
	CHECK(parse_size("4k", &v) == 0 && v == 4096);
	CHECK(parse_size("3M", &v) == 0 && v == 3u << 20);
	CHECK(parse_size("2G", &v) == 0 && v == 2ull << 30);
	CHECK(parse_size("", &v) == -1);
	CHECK(parse_size("G", &v) == -1);
	CHECK(parse_size("1T", &v) == -1);
	CHECK(parse_size("-1", &v) == -1);
	CHECK(parse_size("17179869184G", &v) == -1);
	return 0;
}

static int test_table_sane(void)
{
	unsigned int i, j;

	for (i = 0; i < opt_table_size; i++) {
		CHECK(opt_table[i].help && opt_table[i].name);
		for (j = i + 1; j < opt_table_size; j++) {
			CHECK(strcmp(opt_table[i].name, opt_table[j].name));
			CHECK(!opt_table[i].short_name ||
			      opt_table[i].short_name != opt_table[j].short_name);
		}
	}
	return 0;
}

/* The switches only the environment sets: flags by presence, values validated. */
static int test_env(void)
{
	CHECK(parse("dump", NULL) == OPTS_OK);
	setenv("CRIU_FAULT", "after-seize", 1);
	setenv("CRIU_FAULT_NTH", "2", 1);
	setenv("CRIU_DUMP_NO_PAGEMAP_SCAN", "", 1);
	unsetenv("CRIU_RESTORER_STAYS");
	CHECK(opts_from_env(&o) == 0);
	CHECK(o.fault && !strcmp(o.fault, "after-seize") && o.fault_nth == 2);
	CHECK(o.no_pagemap_scan && !o.restorer_stays);
	CHECK(!opts_is_set(&o, "tree"));
	setenv("CRIU_FAULT_NTH", "two", 1);
	CHECK(opts_from_env(&o) == -1);
	setenv("CRIU_FAULT_NTH", "", 1);	/* empty: unset */
	CHECK(parse("dump", NULL) == OPTS_OK && opts_from_env(&o) == 0 && !o.fault_nth);
	unsetenv("CRIU_FAULT");
	unsetenv("CRIU_FAULT_NTH");
	unsetenv("CRIU_DUMP_NO_PAGEMAP_SCAN");
	CHECK(parse("dump", NULL) == OPTS_OK && opts_from_env(&o) == 0);
	CHECK(!o.fault && !o.no_pagemap_scan && !o.pid_method);
	setenv("CRIU_PID_METHOD", "ns_last_pid", 1);
	CHECK(parse("restore", NULL) == OPTS_OK && opts_from_env(&o) == 0);
	CHECK(o.pid_method && !strcmp(o.pid_method, "ns_last_pid"));
	setenv("CRIU_PID_METHOD", "fork", 1);	/* neither of the two */
	CHECK(parse("restore", NULL) == OPTS_OK && opts_from_env(&o) == -1);
	unsetenv("CRIU_PID_METHOD");
	return 0;
}

static const struct unit_case cases[] = {
	{ "table has unique names", test_table_sane },
	{ "every option by every spelling", test_every_spelling },
	{ "values land in the right fields", test_values },
	{ "defaults", test_defaults },
	{ "verbosity forms", test_verbosity },
	{ "malformed arguments are usage errors", test_bad_input },
	{ "options not built yet are refused", test_not_supported },
	{ "what callers send", test_callers_spellings },
	{ "positional words", test_positional_and_exec },
	{ "config file syntax", test_config_file },
	{ "config file errors", test_config_errors },
	{ "config precedence", test_config_order },
	{ "sizes", test_parse_size },
	{ "switches from the environment", test_env },
};

int main(int argc, char **argv)
{
	int ret;

	(void)argc;
	if (!mkdtemp(tmpdir))
		return 1;
	unsetenv("CRIU_CONFIG_FILE");
	log_init(NULL, NULL, LOG_NONE);
	freopen("/dev/null", "w", stderr);	/* usage messages are expected here */
	ret = unit_run(argv[0], cases, ARRAY_SIZE(cases));
	opts_free(&o);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		if (system(cmd))
			ret = 1;
	}
	return ret;
}
