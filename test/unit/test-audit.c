/*
 * Documentation/audit.md stays true to the code and the tests:
 *  - every fd kind of the ops table (fd_ops(), criu/files.c) has its
 *    "## kind: NAME" section, NAME being the kind's .name;
 *  - every table row has four cells and a known state; a "restored" row
 *    names a test, a "refused" row quotes the dump's message, and every
 *    piece of that message is in criu's sources;
 *  - every e2e:NAME is a case of CASES in test/e2e/run.py, every
 *    unit:NAME a test/unit/NAME.c;
 *  - the GAP rows and the "Known gaps" table list the same (kind,
 *    attribute) pairs, and every "gap" case of CASES is named there.
 * Run from the top of the tree (test/run.py does) or from test/unit.
 */
#include <glob.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "unit.h"
#include "files.h"

#define MAX_ROWS	1024
#define MAX_CASES	1024

struct row {
	char	*kind, *attr, *state, *proof;	/* proof: 4th cell (Known gaps: test) */
	bool	known;				/* a row of "Known gaps" */
	int	line;
};

static struct {
	char		*text;			/* audit.md */
	char		*kinds[FD_KIND_MAX * 4];	/* "## kind:" sections */
	size_t		nr_kinds;
	struct row	rows[MAX_ROWS];
	size_t		nr_rows;
	char		*cases[MAX_CASES];	/* CASES of test/e2e/run.py */
	bool		gap_case[MAX_CASES];
	size_t		nr_cases;
	char		*src;			/* criu sources, string literals joined */
	const char	*top;			/* "" or "../../" */
} a;

static int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(unit_why, sizeof(unit_why), fmt, ap);
	va_end(ap);
	return -1;
}

static char *slurp(const char *path)
{
	char full[512], *buf = NULL;
	long n;
	FILE *f;

	snprintf(full, sizeof(full), "%s%s", a.top, path);
	f = fopen(full, "re");
	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET)) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n)
			buf[n] = '\0';
		else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ')
		s++;
	e = s + strlen(s);
	while (e > s && e[-1] == ' ')
		*--e = '\0';
	return s;
}

/* "| a | b | c | d |" into four cells; -1 if the line has another count. */
static int cells(char *line, char **c)
{
	char *p = line + 1, *bar;
	int n = 0;

	while ((bar = strstr(p, " |")) && n < 5) {
		*bar = '\0';
		c[n++] = trim(p);
		p = bar + 2;
	}
	return n == 4 && !*trim(p) ? 0 : -1;
}

static int add_row(char *line, int nr, const char *kind, bool known)
{
	struct row *r = &a.rows[a.nr_rows];
	char *c[5];

	if (a.nr_rows == MAX_ROWS)
		return fail("audit.md: more than %d rows", MAX_ROWS);
	if (cells(line, c))
		return fail("audit.md:%d: not four cells: %.100s", nr, line);
	if (!strcmp(c[0], "attribute") || !strcmp(c[0], "kind") || !strcmp(c[0], "---"))
		return 0;	/* header, separator */
	r->line = nr;
	r->known = known;
	r->kind = known ? c[0] : (char *)kind;
	r->attr = known ? c[1] : c[0];
	r->state = known ? "GAP" : c[2];
	r->proof = c[3];
	a.nr_rows++;
	return 0;
}

/* Sections and table rows of audit.md (a.text is cut into lines). */
static int parse_audit(void)
{
	char *line, *next, *kind = NULL;
	bool known = false;
	int nr = 0;

	for (line = a.text; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		nr++;
		if (!strncmp(line, "## ", 3)) {
			known = !strcmp(line, "## Known gaps");
			kind = !strncmp(line, "## kind: ", 9) ? line + 9 : NULL;
			if (kind && a.nr_kinds < sizeof(a.kinds) / sizeof(a.kinds[0]))
				a.kinds[a.nr_kinds++] = kind;
			continue;
		}
		if (line[0] != '|')
			continue;
		if (!kind && !known)
			return fail("audit.md:%d: a table outside the kind sections", nr);
		if (add_row(line, nr, kind, known))
			return -1;
	}
	return 0;
}

/* Names of CASES in test/e2e/run.py: lines '    ("NAME", ...' up to ']'. */
static int parse_cases(char *run)
{
	char *p = strstr(run, "\nCASES = [");
	char *end = p ? strstr(p, "\n]") : NULL;

	if (!end)
		return fail("test/e2e/run.py: no CASES list");
	*end = '\0';
	p = strstr(p, "\n    (\"");
	while (p && a.nr_cases < MAX_CASES) {
		char *name = p + 7, *q = strchr(name, '"'), *next;

		if (!q)
			break;
		*q = '\0';
		next = strstr(q + 1, "\n    (\"");
		if (next)
			*next = '\0';
		a.gap_case[a.nr_cases] = strstr(q + 1, "(\"gap\",") != NULL;
		a.cases[a.nr_cases++] = name;
		if (next)
			*next = '\n';
		p = next;
	}
	return a.nr_cases ? 0 : fail("test/e2e/run.py: CASES is empty");
}

static int load(void)
{
	struct stat st;
	char *run;

	if (a.text)
		return 0;
	a.top = stat("Documentation/audit.md", &st) ? "../../" : "";
	a.text = slurp("Documentation/audit.md");
	run = slurp("test/e2e/run.py");
	if (!a.text || !run)
		return fail("cannot read Documentation/audit.md or test/e2e/run.py from %s",
			    *a.top ? "test/unit" : "the top of the tree");
	if (parse_audit() || parse_cases(run))
		return -1;
	return 0;
}

static int test_fd_kinds(void)
{
	int k;
	size_t i;

	if (load())
		return -1;
	for (k = 0; k < FD_KIND_MAX; k++) {
		const struct fd_ops *ops = fd_ops((FdKind)k);

		if (!ops)
			continue;
		for (i = 0; i < a.nr_kinds; i++)
			if (!strcmp(a.kinds[i], ops->name))
				break;
		if (i == a.nr_kinds)
			return fail("fd kind %d (\"%s\") has no \"## kind: %s\" section in audit.md",
				    k, ops->name, ops->name);
	}
	for (i = 0; i < a.nr_kinds; i++)
		if (!strcmp(a.kinds[i], "task"))
			return 0;
	return fail("audit.md: no \"## kind: task\" section");
}

static const char *const states[] = {
	"restored", "refused", "GAP", "untested",
};

static bool has_test(const char *proof)
{
	return strstr(proof, "`e2e:") || strstr(proof, "`unit:");
}

static int check_state(const struct row *r)
{
	size_t i;

	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (!strcmp(r->state, states[i]))
			break;
	if (i == sizeof(states) / sizeof(states[0]))
		return fail("audit.md:%d: unknown state \"%s\"", r->line, r->state);
	if (!strcmp(r->state, "restored") && !has_test(r->proof))
		return fail("audit.md:%d: \"%s\" is restored, but no test is named", r->line, r->attr);
	if (!strcmp(r->state, "refused") && !strchr(r->proof, '"'))
		return fail("audit.md:%d: \"%s\" is refused, but no message is quoted", r->line,
			    r->attr);
	return 0;
}

static int test_rows(void)
{
	size_t i;

	if (load())
		return -1;
	if (a.nr_rows < 50)
		return fail("audit.md: only %zu rows", a.nr_rows);
	for (i = 0; i < a.nr_rows; i++)
		if (check_state(&a.rows[i]))
			return -1;
	return 0;
}

static bool is_case(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < a.nr_cases; i++)
		if (strlen(a.cases[i]) == len && !strncmp(a.cases[i], name, len))
			return true;
	return false;
}

static bool is_unit(const char *name, size_t len)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%stest/unit/%.*s.c", a.top, (int)len, name);
	return !stat(path, &st);
}

/* Every `e2e:NAME` and `unit:NAME` of one cell. */
static int check_tests(const struct row *r)
{
	const char *p = r->proof;

	while ((p = strchr(p, '`'))) {
		const char *name = p + 5, *end = strchr(p + 1, '`');
		size_t len;

		if (!end)
			return fail("audit.md:%d: unbalanced `", r->line);
		len = (size_t)(end - name);
		if (!strncmp(p + 1, "e2e:", 4) && !is_case(name, len))
			return fail("audit.md:%d: no e2e case \"%.*s\" in test/e2e/run.py", r->line,
				    (int)len, name);
		if (!strncmp(p + 1, "unit:", 5) && !is_unit(name + 1, len - 1))
			return fail("audit.md:%d: no test/unit/%.*s.c", r->line, (int)len - 1,
				    name + 1);
		p = end + 1;
	}
	return 0;
}

static int test_tests_exist(void)
{
	size_t i;

	if (load())
		return -1;
	for (i = 0; i < a.nr_rows; i++)
		if (check_tests(&a.rows[i]))
			return -1;
	return 0;
}

static const struct row *find_row(const char *kind, const char *attr, bool known)
{
	size_t i;

	for (i = 0; i < a.nr_rows; i++) {
		const struct row *r = &a.rows[i];

		if (r->known == known && !strcmp(r->kind, kind) && !strcmp(r->attr, attr) &&
		    (known || !strcmp(r->state, "GAP")))
			return r;
	}
	return NULL;
}

static bool gap_named(const char *name)
{
	char token[256];
	size_t i;

	snprintf(token, sizeof(token), "`e2e:%s`", name);
	for (i = 0; i < a.nr_rows; i++)
		if (a.rows[i].known && strstr(a.rows[i].proof, token))
			return true;
	return false;
}

static int test_known_gaps(void)
{
	size_t i;

	if (load())
		return -1;
	for (i = 0; i < a.nr_rows; i++) {
		const struct row *r = &a.rows[i];

		if (r->known && !find_row(r->kind, r->attr, false))
			return fail("audit.md:%d: known gap \"%s\" / \"%s\" has no GAP row in its kind",
				    r->line, r->kind, r->attr);
		if (!r->known && !strcmp(r->state, "GAP") && !find_row(r->kind, r->attr, true))
			return fail("audit.md:%d: GAP \"%s\" / \"%s\" is not in \"Known gaps\"",
				    r->line, r->kind, r->attr);
	}
	for (i = 0; i < a.nr_cases; i++)
		if (a.gap_case[i] && !gap_named(a.cases[i]))
			return fail("e2e case %s has the gap flow but is not in audit.md's Known gaps",
				    a.cases[i]);
	return 0;
}

/* One source file appended to a.src, adjacent string literals joined. */
static void append_source(const char *path, size_t *len)
{
	char *s, *w, *r;

	s = slurp(path);
	if (!s)
		return;
	for (r = w = s; *r; r++) {	/* "abc"\n\t\t"def" -> "abcdef" */
		char *q = r + 1;

		while (*r == '"' && (*q == ' ' || *q == '\t' || *q == '\n'))
			q++;
		if (*r == '"' && q > r + 1 && *q == '"' && memchr(r, '\n', (size_t)(q - r))) {
			r = q;
			continue;
		}
		*w++ = *r;
	}
	*w = '\0';
	a.src = realloc(a.src, *len + (size_t)(w - s) + 1);
	if (a.src)
		memcpy(a.src + *len, s, (size_t)(w - s) + 1);
	*len += (size_t)(w - s);
	free(s);
}

/* criu's sources in one string: criu/ and criu/arch/ARCH/, every .c file. */
static int load_sources(void)
{
	static const char *const pats[] = { "criu/*.c", "criu/arch/*/*.c" };
	char pat[64];
	glob_t g;
	size_t len = 0, i, k;

	if (a.src)
		return 0;
	a.src = calloc(1, 1);
	for (k = 0; k < 2 && a.src; k++) {
		snprintf(pat, sizeof(pat), "%s%s", a.top, pats[k]);
		if (glob(pat, 0, NULL, &g))
			continue;
		for (i = 0; i < g.gl_pathc && a.src; i++)
			append_source(g.gl_pathv[i] + strlen(a.top), &len);
		globfree(&g);
	}
	return a.src && len ? 0 : fail("cannot read the .c files of criu/");
}

/* Each literal piece (between %-conversions and "...") of a quote is in the sources. */
static int check_quote(const struct row *r, const char *q, size_t len)
{
	char piece[256];
	size_t i = 0, n = 0;

	while (i <= len) {
		bool cut = i == len || q[i] == '%' || !strncmp(q + i, "...", 3);

		if (!cut) {
			if (n < sizeof(piece) - 1)
				piece[n++] = q[i];
			i++;
			continue;
		}
		piece[n] = '\0';
		if (n >= 6 && !strstr(a.src, piece))
			return fail("audit.md:%d: \"%s\" is not in criu's sources", r->line, piece);
		n = 0;
		if (i < len && q[i] == '%') {	/* the conversion: flags, width, length, letter */
			for (i++; i < len && strchr("-#0123456789.lhz", q[i]); i++)
				;
			i++;
		} else {
			i += 3;			/* "..." (or the end) */
		}
	}
	return 0;
}

static int test_messages(void)
{
	size_t i;

	if (load() || load_sources())
		return -1;
	for (i = 0; i < a.nr_rows; i++) {
		const struct row *r = &a.rows[i];
		const char *p = r->proof, *end;

		if (strcmp(r->state, "refused"))
			continue;
		while ((p = strchr(p, '"')) && (end = strchr(p + 1, '"'))) {
			if (check_quote(r, p + 1, (size_t)(end - p - 1)))
				return -1;
			p = end + 1;
		}
	}
	return 0;
}

static const struct unit_case cases[] = {
	{ "every fd kind of the ops table has a section", test_fd_kinds },
	{ "every row: four cells, a known state, its proof", test_rows },
	{ "every test named exists", test_tests_exist },
	{ "GAP rows and Known gaps agree, gap cases listed", test_known_gaps },
	{ "quoted refusals are criu's messages", test_messages },
};

UNIT_MAIN(cases)
