/* The option table (criu/options-table.c) and its types; used by options.c. */
#ifndef CRIU_OPTIONS_TABLE_H
#define CRIU_OPTIONS_TABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "options.h"

enum opt_kind {
	OPT_BOOL,	/* --x / --no-x */
	OPT_FLAG,	/* --x only */
	OPT_STR,	/* --x VALUE (optionally one of choices) */
	OPT_OPTSTR,	/* --x[=VALUE]; without a value: the second choice */
	OPT_UINT,	/* non-negative decimal */
	OPT_PID,	/* 1 .. INT_MAX */
	OPT_FD,		/* 0 .. INT_MAX */
	OPT_PORT,	/* 1 .. 65535 */
	OPT_SIZE,	/* bytes, K/M/G suffixes */
	OPT_LIST,	/* repeatable string */
	OPT_INHERIT_FD,	/* repeatable "fd[N]:RES" */
	OPT_JOIN_NS,	/* repeatable "NS:PID|FILE[,opts]" */
	OPT_VERBOSITY,	/* -v, -vv..., -vN, --verbosity[=N] */
	OPT_CONFIG,	/* --config FILE */
	OPT_HELP,
	OPT_VERSION,
};

enum opt_group {
	GRP_COMMON, GRP_LOG, GRP_DUMP, GRP_RESTORE, GRP_FILES, GRP_NS, GRP_MEM,
	GRP_INTEG, GRP_CHECK, GRP_MAX,
};

struct opt_def {
	const char *name;
	char short_name;
	enum opt_kind kind;
	size_t off;
	bool supported;
	enum opt_group group;
	const char *metavar;
	const char *help;
	const char *const *choices;
	const char *implicit;	/* OPT_OPTSTR: the value when none is given */
	/* OPT_STR, OPT_LIST: the value's syntax (NULL: any non-empty text) */
	bool (*valid)(const char *value);
	/* !supported: these values are built all the same (NULL: none) */
	const char *const *supported_choices;
};

extern const struct opt_def opt_table[];
extern const unsigned int opt_table_size;
/* The switches only the environment sets: .name is the variable's. */
extern const struct opt_def opt_env_table[];
extern const unsigned int opt_env_table_size;
extern const char *const opt_group_names[GRP_MAX];

#endif /* CRIU_OPTIONS_TABLE_H */
