#include <stdio.h>
#include <string.h>

#include "unit.h"

char unit_why[512];

int unit_run(const char *prog, const struct unit_case *cases, unsigned int n)
{
	const char *base = strrchr(prog, '/');
	unsigned int i, failed = 0;
	int ret;

	base = base ? base + 1 : prog;
	for (i = 0; i < n; i++) {
		unit_why[0] = '\0';
		ret = cases[i].fn();
		if (ret == 0) {
			printf("PASS %s: %s\n", base, cases[i].name);
		} else if (ret == UNIT_SKIPPED) {
			printf("SKIP %s: %s: %s\n", base, cases[i].name, unit_why);
		} else {
			printf("FAIL %s: %s: %s\n", base, cases[i].name,
			       unit_why[0] ? unit_why : "failed");
			failed++;
		}
		fflush(stdout);
	}
	return failed ? 1 : 0;
}
