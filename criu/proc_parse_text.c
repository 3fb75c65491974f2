/*
 * Text-scanning primitives and the bounded file reader used by the /proc
 * parsers. See proc_parse_text.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_PREFIX "proc: "
#include "log.h"
#include "proc_parse.h"
#include "proc_parse_text.h"

/* First read size; doubled as needed up to the caller's maximum. */
#define READ_CHUNK	4096

/* read() retrying on EINTR. */
static ssize_t read_some(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

/* Is there anything left to read? 0 no, 1 yes, -1 error. */
static int more_data(int fd)
{
	char c;
	ssize_t n = read_some(fd, &c, 1);

	return n < 0 ? -1 : n > 0;
}

static int read_all(int fd, const char *path, size_t max, size_t hint,
		    char **bufp, size_t *lenp)
{
	size_t cap = min(hint, max), len = 0;
	char *buf = malloc(cap + 1), *tmp;
	ssize_t n;

	if (!buf)
		goto nomem;
	for (;;) {
		if (len == cap && cap == max) {
			n = more_data(fd);
			if (n == 0)
				break;
			if (n > 0)
				pr_err("%s: larger than %zu bytes, refusing", path, max);
			else
				pr_perror("%s: read failed", path);
			goto err;
		}
		if (len == cap) {
			cap = min(cap * 2, max);
			tmp = realloc(buf, cap + 1);
			if (!tmp)
				goto nomem;
			buf = tmp;
		}
		n = read_some(fd, buf + len, cap - len);
		if (n < 0) {
			pr_perror("%s: read failed", path);
			goto err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
nomem:
	pr_err("%s: out of memory", path);
err:
	free(buf);
	return -1;
}

static int read_file(const char *path, size_t max, size_t hint, char **buf, size_t *len)
{
	int fd, ret;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("Can't open %s", path);
		return -1;
	}
	ret = read_all(fd, path, max, hint, buf, len);
	close(fd);
	return ret;
}

int proc_read_file(const char *path, size_t max, char **buf, size_t *len)
{
	return read_file(path, max, READ_CHUNK, buf, len);
}

/* Size of the file's text, read through a stack buffer (no allocation). */
static int measure(const char *path, size_t max, size_t *size)
{
	char scratch[READ_CHUNK];
	ssize_t n;
	int fd;

	*size = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("Can't open %s", path);
		return -1;
	}
	while ((n = read_some(fd, scratch, sizeof(scratch))) > 0 && *size <= max)
		*size += (size_t)n;
	close(fd);
	if (n < 0) {
		pr_perror("%s: read failed", path);
		return -1;
	}
	return 0;
}

int proc_read_file_presized(const char *path, size_t max, char **buf, size_t *len)
{
	size_t size;

	*buf = NULL;
	*len = 0;
	if (measure(path, max, &size))
		return -1;
	/* room for some growth between the two reads */
	return read_file(path, max, size + size / 4 + READ_CHUNK, buf, len);
}

int pt_proc_path(char *buf, size_t size, int pid, const char *rest)
{
	int n = snprintf(buf, size, "/proc/%d/%s", pid, rest);

	if (n < 0 || (size_t)n >= size) {
		pr_err("proc path for %d/%s too long", pid, rest);
		return -1;
	}
	return 0;
}

void plines_init(struct plines *it, const char *text, size_t len, const char *name)
{
	it->p = text;
	it->end = text + len;
	it->name = name;
	it->lineno = 0;
}

int plines_next(struct plines *it, struct ptext *line)
{
	const char *nl;
	size_t left = (size_t)(it->end - it->p);

	if (!left)
		return 0;
	it->lineno++;
	nl = memchr(it->p, '\n', left);
	if (!nl) {
		pt_err(it, "no newline at the end (truncated file?)");
		return -1;
	}
	if (memchr(it->p, '\0', (size_t)(nl - it->p))) {
		pt_err(it, "NUL byte in line");
		return -1;
	}
	line->p = it->p;
	line->end = nl;
	it->p = nl + 1;
	return 1;
}

size_t pt_skip_blanks(struct ptext *t)
{
	const char *s = t->p;

	while (t->p < t->end && (*t->p == ' ' || *t->p == '\t'))
		t->p++;
	return (size_t)(t->p - s);
}

int pt_char(struct ptext *t, char c)
{
	if (t->p >= t->end || *t->p != c)
		return -1;
	t->p++;
	return 0;
}

bool pt_starts(const struct ptext *t, const char *s)
{
	size_t n = strlen(s);

	return pt_len(t) >= n && !memcmp(t->p, s, n);
}

int pt_str(struct ptext *t, const char *s)
{
	if (!pt_starts(t, s))
		return -1;
	t->p += strlen(s);
	return 0;
}

int pt_done(struct ptext *t)
{
	pt_skip_blanks(t);
	return pt_eol(t) ? 0 : -1;
}

void pt_token(struct ptext *t, struct ptext *tok)
{
	tok->p = t->p;
	while (t->p < t->end && *t->p != ' ' && *t->p != '\t')
		t->p++;
	tok->end = t->p;
}

int pt_until(struct ptext *t, char c, struct ptext *head)
{
	const char *at = memchr(t->p, c, pt_len(t));

	if (!at)
		return -1;
	head->p = t->p;
	head->end = at;
	t->p = at + 1;
	return 0;
}

void pt_rtrim(struct ptext *t)
{
	while (t->end > t->p && (t->end[-1] == ' ' || t->end[-1] == '\t'))
		t->end--;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

int pt_unum(struct ptext *t, unsigned int base, uint64_t max, uint64_t *v)
{
	const char *s = t->p;
	uint64_t acc = 0;
	int d;

	while (s < t->end && (d = digit_value(*s)) < (int)base) {
		if ((uint64_t)d > max || acc > (max - (uint64_t)d) / base)
			return -1;	/* (d > max: max - d would wrap around) */
		acc = acc * base + (uint64_t)d;
		s++;
	}
	if (s == t->p)
		return -1;
	t->p = s;
	*v = acc;
	return 0;
}

int pt_snum(struct ptext *t, int64_t min, int64_t max, int64_t *v)
{
	struct ptext c = *t;
	bool neg = pt_char(&c, '-') == 0;
	uint64_t mag, lim;

	lim = neg ? (uint64_t)-(min + 1) + 1 : (uint64_t)max;
	if (neg && min >= 0)
		return -1;
	if (pt_unum(&c, 10, lim, &mag))
		return -1;
	*v = neg ? (mag ? -(int64_t)(mag - 1) - 1 : 0) : (int64_t)mag;
	*t = c;
	return 0;
}

int pt_u64(struct ptext *t, unsigned int base, uint64_t *v)
{
	return pt_unum(t, base, UINT64_MAX, v);
}

int pt_u32(struct ptext *t, unsigned int base, uint32_t *v)
{
	uint64_t x;

	if (pt_unum(t, base, UINT32_MAX, &x))
		return -1;
	*v = (uint32_t)x;
	return 0;
}

int pt_int(struct ptext *t, int *v)
{
	int64_t x;

	if (pt_snum(t, INT_MIN, INT_MAX, &x))
		return -1;
	*v = (int)x;
	return 0;
}

int pt_pid(struct ptext *t, int *v)
{
	uint64_t x;

	if (pt_unum(t, 10, INT_MAX, &x))
		return -1;
	*v = (int)x;
	return 0;
}

int pt_copy(const struct ptext *t, char *dst, size_t size)
{
	size_t n = pt_len(t);

	if (n >= size)
		return -1;
	memcpy(dst, t->p, n);
	dst[n] = '\0';
	return 0;
}

char *pt_dup(const struct ptext *t)
{
	size_t n = pt_len(t);
	char *s = malloc(n + 1);

	if (!s) {
		pr_err("out of memory copying %zu bytes", n);
		return NULL;
	}
	memcpy(s, t->p, n);
	s[n] = '\0';
	return s;
}

static bool is_octal(char c)
{
	return c >= '0' && c <= '7';
}

size_t pt_unescape(const struct ptext *src, char *dst)
{
	const char *s = src->p;
	size_t n = 0;

	while (s < src->end) {
		if (*s == '\\' && src->end - s >= 4 && s[1] >= '0' && s[1] <= '3' &&
		    is_octal(s[2]) && is_octal(s[3])) {
			dst[n++] = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 4;
		} else {
			dst[n++] = *s++;
		}
	}
	dst[n] = '\0';
	return n;
}

int pt_grow(void **arr, size_t *cap, size_t nr, size_t elsz, size_t max)
{
	size_t ncap;
	void *tmp;

	if (nr < *cap)
		return 0;
	if (nr >= max) {
		pr_err("more than %zu entries, refusing", max);
		return -1;
	}
	ncap = *cap ? *cap * 2 : 16;
	if (ncap > max)
		ncap = max;
	tmp = realloc(*arr, ncap * elsz);
	if (!tmp) {
		pr_err("out of memory for %zu entries", ncap);
		return -1;
	}
	*arr = tmp;
	*cap = ncap;
	return 0;
}

int pt_parse_lines(const char *text, size_t len, const char *name,
		   void **arr, size_t *nr, size_t *cap, size_t elsz, size_t max,
		   pt_line_fn line_fn, void *ctx)
{
	struct plines it;
	struct ptext l;
	void *elem;
	int ret;

	plines_init(&it, text, len, name);
	while ((ret = plines_next(&it, &l)) > 0) {
		if (pt_grow(arr, cap, *nr, elsz, max))
			return -1;
		elem = (char *)*arr + *nr * elsz;
		memset(elem, 0, elsz);
		if (line_fn(&it, &l, elem, ctx))
			return -1;
		(*nr)++;
	}
	return ret < 0 ? -1 : 0;
}
