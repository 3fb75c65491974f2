/*
 * Options: command line and configuration files, both driven by the table
 * in options-table.c. See include/options.h for the steps.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "options-table.h"

enum { SET_NONE, SET_CONFIG, SET_CMDLINE, SET_ENV, SET_RPC };

#define LONG_BASE	0x1000		/* getopt value of table entry i */
#define NEG_BASE	0x2000		/* getopt value of --no-<entry i> */
#define CONFIG_LINE_MAX	4096

/* Where a value came from, for error messages. */
struct origin {
	int how;			/* SET_CONFIG, SET_CMDLINE, SET_ENV or SET_RPC */
	const char *file;
	unsigned int line;
};

static void *field(struct cr_options *o, const struct opt_def *d)
{
	return (char *)o + d->off;
}

void opts_init(struct cr_options *o)
{
	memset(o, 0, sizeof(*o));
	o->verbosity = DEFAULT_LOGLEVEL;
	o->timeout = DEFAULT_TIMEOUT;
	o->ghost_limit = DEFAULT_GHOST_LIMIT;
	o->status_fd = -1;
	o->ps_socket = -1;
	o->ghost_fiemap = true;
}

static void list_free(struct str_list *l)
{
	unsigned int i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int list_add(struct str_list *l, const char *s)
{
	char **v = realloc(l->v, (l->n + 2) * sizeof(*v));

	if (!v)
		return -1;
	l->v = v;
	v[l->n] = strdup(s);
	if (!v[l->n])
		return -1;
	v[++l->n] = NULL;
	return 0;
}

static void free_field(struct cr_options *o, const struct opt_def *d)
{
	switch (d->kind) {
	case OPT_STR: case OPT_OPTSTR: case OPT_CONFIG:
		free(*(char **)field(o, d));
		*(char **)field(o, d) = NULL;
		break;
	case OPT_LIST: case OPT_INHERIT_FD: case OPT_JOIN_NS:
		list_free(field(o, d));
		break;
	default:
		break;
	}
}

void opts_free(struct cr_options *o)
{
	unsigned int i;

	for (i = 0; i < opt_table_size; i++)
		free_field(o, &opt_table[i]);
	for (i = 0; i < opt_env_table_size; i++)
		free_field(o, &opt_env_table[i]);
	list_free(&o->args);
}

static const struct opt_def *find_long(const char *name, bool *negated)
{
	unsigned int i;

	*negated = false;
	for (i = 0; i < opt_table_size; i++)
		if (!strcmp(opt_table[i].name, name))
			return &opt_table[i];
	if (strncmp(name, "no-", 3))
		return NULL;
	for (i = 0; i < opt_table_size; i++)
		if (opt_table[i].kind == OPT_BOOL && !strcmp(opt_table[i].name, name + 3)) {
			*negated = true;
			return &opt_table[i];
		}
	return NULL;
}

bool opts_is_set(const struct cr_options *o, const char *name)
{
	unsigned int i;

	for (i = 0; i < opt_table_size; i++)
		if (!strcmp(opt_table[i].name, name))
			return o->set_by[i] != SET_NONE;
	return false;
}

bool opts_build_id(const struct cr_options *o)
{
	return !o->file_validation || strcmp(o->file_validation, "filesize");
}

/* ---- value parsers ---------------------------------------------------- */

static int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static bool in_choices(const char *const *choices, const char *v)
{
	if (!choices)
		return true;
	for (; *choices; choices++)
		if (!strcmp(*choices, v))
			return true;
	return false;
}

/* "fd[N]:RES" */
static bool valid_inherit_fd(const char *v)
{
	unsigned long n;
	const char *close;
	char num[16];

	if (strncmp(v, "fd[", 3))
		return false;
	close = strchr(v + 3, ']');
	if (!close || close == v + 3 || (size_t)(close - v - 3) >= sizeof(num))
		return false;
	memcpy(num, v + 3, close - v - 3);
	num[close - v - 3] = '\0';
	return !parse_ulong(num, INT_MAX, &n) && close[1] == ':' && close[2];
}

/* "NS:PID|FILE[,options]" */
static bool valid_join_ns(const char *v)
{
	static const char *const kinds[] = {
		"net", "uts", "ipc", "pid", "mnt", "user", "time", "cgroup", NULL,
	};
	const char *colon = strchr(v, ':');
	unsigned int i;

	if (!colon || !colon[1])
		return false;
	for (i = 0; kinds[i]; i++)
		if (strlen(kinds[i]) == (size_t)(colon - v) && !strncmp(v, kinds[i], colon - v))
			return true;
	return false;
}

static void bad_value(const struct opt_def *d, const char *val, const struct origin *at)
{
	if (at->how == SET_CONFIG)
		fprintf(stderr, "criu: %s:%u: bad value '%s' for %s\n", at->file, at->line,
			val ? val : "", d->name);
	else if (at->how == SET_ENV)
		fprintf(stderr, "criu: bad value '%s' for %s in the environment\n", val, d->name);
	else if (at->how == SET_RPC)
		pr_err("bad value '%s' for %s in the request", val ? val : "", d->name);
	else
		fprintf(stderr, "criu: bad value '%s' for --%s\n", val ? val : "", d->name);
}

/*
 * -v's attached text, read as the established tool reads it: a run starting
 * with 'v' counts every character plus the -v itself (-vvv is 3 more),
 * anything else is a number read like atoi(): leading digits, 0 when there
 * are none, so "-verbosity=0" (-v with "erbosity=0") is level 0.
 */
static void set_verbosity(struct cr_options *o, const char *val)
{
	long n;

	if (!val) {
		n = (long)o->verbosity + 1;
	} else if (val[0] == 'v') {
		n = (long)o->verbosity + 1 + (long)strnlen(val, LOG_DEBUG + 1);
	} else {
		n = strtol(val, NULL, 10);	/* 0 when no digits lead */
	}
	if (n < 0)
		n = 0;
	o->verbosity = n > LOG_DEBUG ? LOG_DEBUG : n;
}

static int replace_str(char **slot, const char *val)
{
	char *copy = strdup(val);

	if (!copy)
		return -1;
	free(*slot);
	*slot = copy;
	return 0;
}

/* Store one option's value. Returns 0, or -1 after printing why. */
static int set_option(struct cr_options *o, const struct opt_def *d, bool negated,
		      const char *val, const struct origin *at)
{
	void *f = field(o, d);
	unsigned long n;
	int ret = 0;

	switch (d->kind) {
	case OPT_BOOL:
		*(bool *)f = !negated;
		break;
	case OPT_FLAG:
		*(bool *)f = true;
		break;
	case OPT_STR:
	case OPT_CONFIG:
		if (!in_choices(d->choices, val) || (d->valid && !d->valid(val)))
			goto bad;
		ret = replace_str(f, val);
		break;
	case OPT_OPTSTR:
		if (!val)
			val = d->implicit;
		if (!in_choices(d->choices, val))
			goto bad;
		ret = replace_str(f, val);
		break;
	case OPT_UINT:
		if (parse_ulong(val, UINT_MAX, &n))
			goto bad;
		*(unsigned int *)f = n;
		break;
	case OPT_PID:
	case OPT_FD:
	case OPT_PORT:
		if (parse_ulong(val, d->kind == OPT_PORT ? 65535 : INT_MAX, &n) ||
		    (n == 0 && d->kind == OPT_PID))
			goto bad;
		*(int *)f = n;
		break;
	case OPT_SIZE:
		if (parse_size(val, f))
			goto bad;
		break;
	case OPT_INHERIT_FD:
		if (!valid_inherit_fd(val))
			goto bad;
		ret = list_add(f, val);
		break;
	case OPT_JOIN_NS:
		if (!valid_join_ns(val))
			goto bad;
		ret = list_add(f, val);
		break;
	case OPT_LIST:
		if (!*val || (d->valid && !d->valid(val)))
			goto bad;
		ret = list_add(f, val);
		break;
	case OPT_VERBOSITY:
		set_verbosity(o, val);
		break;
	case OPT_HELP:
	case OPT_VERSION:
		break;
	}
	if (ret) {
		fprintf(stderr, "criu: out of memory\n");
		return -1;
	}
	if (at->how != SET_ENV)		/* set_by indexes opt_table only */
		o->set_by[d - opt_table] = at->how;
	return 0;
bad:
	bad_value(d, val, at);
	return -1;
}

/* ---- configuration files ----------------------------------------------- */

static bool takes_value(const struct opt_def *d)
{
	return d->kind != OPT_BOOL && d->kind != OPT_FLAG && d->kind != OPT_HELP &&
	       d->kind != OPT_VERSION;
}

/* Split "name value" (value optional, may be "double quoted"); trims in place. */
static int split_line(char *line, char **name, char **value)
{
	char *p = line, *end;

	while (*p == ' ' || *p == '\t')
		p++;
	*name = p;
	*value = NULL;
	if (*p == '#' || !*p) {
		*name = NULL;
		return 0;
	}
	while (*p && *p != ' ' && *p != '\t' && *p != '=')
		p++;
	if (!*p)
		return 0;
	*p++ = '\0';
	while (*p == ' ' || *p == '\t' || *p == '=')
		p++;
	if (*p == '"') {
		end = strchr(++p, '"');
		if (!end)
			return -1;
		*end++ = '\0';
		while (*end == ' ' || *end == '\t')
			end++;
		if (*end && *end != '#')
			return -1;
	} else {
		end = p + strcspn(p, "#");
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		*end = '\0';
	}
	*value = *p || end > p ? p : NULL;
	return 0;
}

static int apply_config_line(struct cr_options *o, char *line, const struct origin *at)
{
	const struct opt_def *d;
	char *name, *value;
	bool negated;

	if (split_line(line, &name, &value)) {
		fprintf(stderr, "criu: %s:%u: unterminated quote\n", at->file, at->line);
		return -1;
	}
	if (!name)
		return 0;
	if (name[0] == '-')
		name += name[1] == '-' ? 2 : 1;
	d = find_long(name, &negated);
	if (!d || d->kind == OPT_CONFIG || d->kind == OPT_HELP || d->kind == OPT_VERSION ||
	    d->kind == OPT_FLAG) {
		fprintf(stderr, "criu: %s:%u: unknown option '%s'\n", at->file, at->line, name);
		return -1;
	}
	if (takes_value(d) && !value && d->kind != OPT_OPTSTR && d->kind != OPT_VERBOSITY) {
		fprintf(stderr, "criu: %s:%u: %s needs a value\n", at->file, at->line, name);
		return -1;
	}
	if (!takes_value(d) && value) {
		fprintf(stderr, "criu: %s:%u: %s takes no value\n", at->file, at->line, name);
		return -1;
	}
	return set_option(o, d, negated, value, at);
}

int opts_apply_config_file(struct cr_options *o, const char *path)
{
	struct origin at = { SET_CONFIG, path, 0 };
	char line[CONFIG_LINE_MAX];
	int ret = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "criu: can't read config file %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (!ret && fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);

		at.line++;
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(f)) {
			fprintf(stderr, "criu: %s:%u: line too long\n", path, at.line);
			ret = -1;
			break;
		}
		ret = apply_config_line(o, line, &at);
	}
	if (!ret && ferror(f)) {
		fprintf(stderr, "criu: error reading %s\n", path);
		ret = -1;
	}
	fclose(f);
	return ret;
}

/* Find --config FILE / --no-default-config before the real parse. */
static void prescan(int argc, char **argv, const char **config, bool *no_default)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--no-default-config"))
			*no_default = true;
		else if (!strcmp(argv[i], "--config") && i + 1 < argc)
			*config = argv[++i];
		else if (!strncmp(argv[i], "--config=", 9))
			*config = argv[i] + 9;
	}
}

static int apply_config_files(struct cr_options *o, int argc, char **argv)
{
	const char *explicit = NULL, *env = getenv("CRIU_CONFIG_FILE"), *home = getenv("HOME");
	bool no_default = false;
	char user[PATH_MAX];

	prescan(argc, argv, &explicit, &no_default);
	if (!no_default) {
		if (!access("/etc/criu/default.conf", F_OK) &&
		    opts_apply_config_file(o, "/etc/criu/default.conf"))
			return -1;
		if (home && snprintf(user, sizeof(user), "%s/.criu/default.conf", home) < (int)sizeof(user) &&
		    !access(user, F_OK) && opts_apply_config_file(o, user))
			return -1;
		if (env && *env && opts_apply_config_file(o, env))
			return -1;
	}
	if (explicit && opts_apply_config_file(o, explicit))
		return -1;
	return 0;
}

/* ---- the command line --------------------------------------------------- */

static int build_getopt(struct option *longs, char *shorts)
{
	unsigned int i, n = 0;
	char *s = shorts;

	*s++ = '-';	/* keep positional words in order, interleaved with options */
	for (i = 0; i < opt_table_size; i++) {
		const struct opt_def *d = &opt_table[i];
		int has = takes_value(d) ? required_argument : no_argument;

		if (d->kind == OPT_OPTSTR || d->kind == OPT_VERBOSITY)
			has = optional_argument;
		longs[n++] = (struct option){ d->name, has, NULL, LONG_BASE + i };
		if (d->kind == OPT_BOOL)
			longs[n++] = (struct option){ NULL, no_argument, NULL, NEG_BASE + i };
		if (d->short_name) {
			*s++ = d->short_name;
			if (has == required_argument)
				*s++ = ':';
			else if (has == optional_argument)
				s += sprintf(s, "::");
		}
	}
	*s = '\0';
	longs[n] = (struct option){ NULL, 0, NULL, 0 };
	return n;
}

static const struct opt_def *find_short(int c)
{
	unsigned int i;

	for (i = 0; i < opt_table_size; i++)
		if (opt_table[i].short_name == c)
			return &opt_table[i];
	return NULL;
}

int opts_parse(struct cr_options *o, int argc, char **argv)
{
	struct option longs[2 * 128 + 1];
	char negnames[128][48], shorts[3 * 128 + 2];
	struct origin at = { SET_CMDLINE, NULL, 0 };
	unsigned int i;
	int c, n, ret = OPTS_OK;

	BUILD_BUG_ON(sizeof(o->set_by) < 128);
	if (opt_table_size > 128)
		return -1;
	if (apply_config_files(o, argc, argv))
		return -1;

	n = build_getopt(longs, shorts);
	for (c = 0; c < n; c++) {
		if (longs[c].val >= NEG_BASE) {
			i = longs[c].val - NEG_BASE;
			snprintf(negnames[i], sizeof(negnames[i]), "no-%s", opt_table[i].name);
			longs[c].name = negnames[i];
		}
	}

	optind = 0;	/* full re-initialisation: opts_parse may run more than once */
	opterr = 1;
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		const struct opt_def *d;
		bool negated = false;

		if (c == 1) {		/* a positional word */
			if (list_add(&o->args, optarg))
				return -1;
			continue;
		}
		if (c == '?' || c == ':')
			goto usage;
		if (c >= NEG_BASE) {
			d = &opt_table[c - NEG_BASE];
			negated = true;
		} else if (c >= LONG_BASE) {
			d = &opt_table[c - LONG_BASE];
		} else {
			d = find_short(c);
		}
		if (!d)
			goto usage;
		if (d->kind == OPT_HELP)
			ret = OPTS_HELP;
		else if (d->kind == OPT_VERSION && ret == OPTS_OK)
			ret = OPTS_VERSION;
		if (set_option(o, d, negated, optarg, &at))
			goto usage;
	}
	/* Words after "--" (the --exec-cmd command) are positional too. */
	for (; optind < argc; optind++)
		if (list_add(&o->args, argv[optind]))
			return -1;
	return ret;
usage:
	opts_usage(stderr);
	return -1;
}

int opts_set_rpc(struct cr_options *o, const char *name, const char *value)
{
	struct origin at = { SET_RPC, NULL, 0 };
	const struct opt_def *d;
	bool negated;

	d = find_long(name, &negated);
	if (!d || d->kind == OPT_HELP || d->kind == OPT_VERSION || d->kind == OPT_CONFIG) {
		pr_err("RPC: no option %s", name);
		return -1;
	}
	if (d->kind == OPT_BOOL && value) {	/* "true" / "false" */
		negated = strcmp(value, "true") != 0;
		value = NULL;
	}
	if (takes_value(d) && !value && d->kind != OPT_OPTSTR) {
		pr_err("RPC: %s needs a value", name);
		return -1;
	}
	return set_option(o, d, negated, value, &at);
}

int opts_from_env(struct cr_options *o)
{
	struct origin at = { SET_ENV, NULL, 0 };
	unsigned int i;

	for (i = 0; i < opt_env_table_size; i++) {
		const struct opt_def *d = &opt_env_table[i];
		const char *v = getenv(d->name);

		if (!v || (!*v && d->kind != OPT_FLAG))
			continue;
		if (set_option(o, d, false, v, &at)) {
			opts_usage(stderr);
			return -1;
		}
	}
	return 0;
}

int opts_check_supported(const struct cr_options *o)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < opt_table_size; i++) {
		const struct opt_def *d = &opt_table[i];

		if (o->set_by[i] == SET_NONE || d->supported)
			continue;
		/* --no-x of a feature not built yet asks for nothing. */
		if (d->kind == OPT_BOOL && !*(bool *)field((struct cr_options *)o, d))
			continue;
		if (d->supported_choices &&
		    in_choices(d->supported_choices, *(char **)field((struct cr_options *)o, d)))
			continue;
		if (d->supported_choices)
			pr_err("--%s=%s is not supported yet", d->name,
			       *(char **)field((struct cr_options *)o, d));
		else
			pr_err("--%s is not supported yet", d->name);
		ret = -1;
	}
	return ret;
}

/* ---- help ------------------------------------------------------------------ */

void opts_usage(FILE *f)
{
	fprintf(f, "Usage: criu COMMAND [OPTIONS]\n"
		   "Try 'criu --help' for the commands and options.\n");
}

static void help_line(FILE *f, const struct opt_def *d)
{
	char spell[64];
	int n = 0;

	if (d->short_name)
		n = snprintf(spell, sizeof(spell), "-%c, ", d->short_name);
	n += snprintf(spell + n, sizeof(spell) - n, "--%s%s", d->kind == OPT_BOOL ? "[no-]" : "",
		      d->name);
	if (d->metavar)
		snprintf(spell + n, sizeof(spell) - n,
			 d->kind == OPT_OPTSTR || d->kind == OPT_VERBOSITY ? "[=%s]" : " %s",
			 d->metavar);
	fprintf(f, "  %-32s %s%s\n", spell, d->help, d->supported ? "" : " (not supported yet)");
}

void opts_help(FILE *f)
{
	unsigned int g, i;

	for (g = 0; g < GRP_MAX; g++) {
		fprintf(f, "\n%s:\n", opt_group_names[g]);
		for (i = 0; i < opt_table_size; i++)
			if (opt_table[i].group == g)
				help_line(f, &opt_table[i]);
	}
	fprintf(f, "\nBoolean options also take a --no- prefix. Options may also come from\n"
		   "/etc/criu/default.conf, ~/.criu/default.conf, $CRIU_CONFIG_FILE and --config FILE\n"
		   "(one option per line, without leading dashes); the command line wins.\n");
}
