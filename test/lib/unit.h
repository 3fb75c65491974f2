/*
 * Minimal unit-test support. A test program is a table of cases:
 *
 *	static const struct unit_case cases[] = {
 *		{ "parse size suffixes", test_sizes },
 *		...
 *	};
 *	UNIT_MAIN(cases)
 *
 * Each case returns 0 (pass) or -1 (fail). CHECK() records what failed and
 * fails the case; SKIP() ends a case that cannot run here (a missing input
 * outside the repository), saying why. Output, one line per case, is what
 * test/run.py counts:
 *	PASS <program>: <case>
 *	FAIL <program>: <case>: <first failed check>
 *	SKIP <program>: <case>: <why>
 * The program exits 1 if any case failed.
 */
#ifndef TEST_UNIT_H
#define TEST_UNIT_H

#include <stdio.h>
#include <string.h>

struct unit_case {
	const char *name;
	int (*fn)(void);
};

extern char unit_why[512];

#define CHECK(cond)								\
	do {									\
		if (!(cond)) {							\
			snprintf(unit_why, sizeof(unit_why), "%s:%d: %s",	\
				 __FILE__, __LINE__, #cond);			\
			return -1;						\
		}								\
	} while (0)

#define CHECK_STR(a, b)								\
	do {									\
		const char *_a = (a), *_b = (b);				\
		if (!_a || !_b || strcmp(_a, _b)) {				\
			snprintf(unit_why, sizeof(unit_why),			\
				 "%s:%d: \"%.200s\" != \"%.200s\"", __FILE__, __LINE__, \
				 _a ? _a : "(null)", _b ? _b : "(null)");	\
			return -1;						\
		}								\
	} while (0)

/* End the case as skipped; the arguments are printf's. */
#define SKIP(...)								\
	do {									\
		snprintf(unit_why, sizeof(unit_why), __VA_ARGS__);		\
		return UNIT_SKIPPED;						\
	} while (0)
#define UNIT_SKIPPED	1

int unit_run(const char *prog, const struct unit_case *cases, unsigned int n);

#define UNIT_MAIN(cases)							\
	int main(int argc, char **argv)						\
	{									\
		(void)argc;							\
		return unit_run(argv[0], cases, sizeof(cases) / sizeof(cases[0])); \
	}

#endif /* TEST_UNIT_H */
