/*
 * Text-scanning primitives shared by the proc_parse*.c files (not a public
 * API: the parsers' interface is proc_parse.h).
 *
 * A struct ptext is a cursor over a slice of text that is not necessarily
 * NUL-terminated. The scanners advance the cursor on success; on failure
 * they return -1 and leave the cursor where it was, and do not log: the
 * caller knows what the field was and logs through pt_err().
 */
#ifndef CRIU_PROC_PARSE_TEXT_H
#define CRIU_PROC_PARSE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

struct ptext {
	const char	*p, *end;
};

/* Line iterator over a whole file; keeps the line number for messages. */
struct plines {
	const char	*p, *end;
	const char	*name;
	unsigned int	lineno;
};

/* Log "name:line: message" for the line the iterator is on. */
#define pt_err(it, fmt, ...) \
	pr_err("%s:%u: " fmt, (it)->name, (it)->lineno, ##__VA_ARGS__)

void plines_init(struct plines *it, const char *text, size_t len, const char *name);
/*
 * Next line (without its '\n') into @line: 1 if there is one, 0 at the end
 * of the text, -1 (logged) if the last line lacks its newline (a truncated
 * file) or a line contains a NUL byte.
 */
int plines_next(struct plines *it, struct ptext *line);

static inline size_t pt_len(const struct ptext *t)
{
	return (size_t)(t->end - t->p);
}

static inline bool pt_eol(const struct ptext *t)
{
	return t->p >= t->end;
}

/* Skip spaces and tabs; returns how many were skipped. */
size_t pt_skip_blanks(struct ptext *t);
/* Consume @c if it is next. */
int pt_char(struct ptext *t, char c);
/* Consume the literal @s if it is next. */
int pt_str(struct ptext *t, const char *s);
/* Does the slice start with @s? (does not advance) */
bool pt_starts(const struct ptext *t, const char *s);
/* 0 if only blanks remain. */
int pt_done(struct ptext *t);
/* The run of non-blank characters at the cursor (may be empty). */
void pt_token(struct ptext *t, struct ptext *tok);
/* Split off the text up to the first @c (consumed); -1 if there is none. */
int pt_until(struct ptext *t, char c, struct ptext *head);
/* Drop trailing blanks. */
void pt_rtrim(struct ptext *t);

/*
 * Unsigned number in @base (8, 10 or 16, no prefix, at least one digit).
 * -1 on no digits or on overflow of @max.
 */
int pt_unum(struct ptext *t, unsigned int base, uint64_t max, uint64_t *v);
/* Signed decimal with an optional '-' in [min, max]. */
int pt_snum(struct ptext *t, int64_t min, int64_t max, int64_t *v);

int pt_u64(struct ptext *t, unsigned int base, uint64_t *v);
int pt_u32(struct ptext *t, unsigned int base, uint32_t *v);
int pt_int(struct ptext *t, int *v);
/* A pid: decimal in [0, INT_MAX]. */
int pt_pid(struct ptext *t, int *v);

/* Copy a slice into a fixed buffer; -1 if it does not fit with its NUL. */
int pt_copy(const struct ptext *t, char *dst, size_t size);
/* Heap copy of a slice (NUL-terminated), or NULL (logged). */
char *pt_dup(const struct ptext *t);

/*
 * Decode \ooo octal escapes (as the kernel writes for space, tab, newline
 * and backslash) of @src into @dst, NUL-terminating it. @dst needs
 * pt_len(src) + 1 bytes. A backslash not followed by three octal digits
 * with a value below 0400 is copied as is. Returns the decoded length.
 */
size_t pt_unescape(const struct ptext *src, char *dst);

/*
 * Make room for one more element in a growing array: *arr holds @nr used
 * elements of @elsz bytes out of *cap. Refuses to grow past @max elements.
 */
int pt_grow(void **arr, size_t *cap, size_t nr, size_t elsz, size_t max);

/*
 * Parse @line of the file being walked by @it into the zeroed element @elem.
 * On failure it logs, releases whatever it allocated for @elem, and returns
 * -1; the element is then not counted.
 */
typedef int (*pt_line_fn)(struct plines *it, struct ptext *line, void *elem, void *ctx);

/*
 * Parse each line of @text into one more element of the growing array
 * (*arr, *nr, *cap) of @elsz-byte elements, at most @max of them, through
 * @line_fn. Returns 0, or -1 (logged) on a bad line, a truncated file or
 * too many lines; the @nr elements parsed so far are left for the caller
 * to free.
 */
int pt_parse_lines(const char *text, size_t len, const char *name,
		   void **arr, size_t *nr, size_t *cap, size_t elsz, size_t max,
		   pt_line_fn line_fn, void *ctx);

/* Build "/proc/PID/rest" into @buf; -1 if it does not fit. */
int pt_proc_path(char *buf, size_t size, int pid, const char *rest);

/*
 * Read /proc/PID/@file (bounded by PROC_FILE_MAX) and run the pure parser
 * @parse(text, len, path, out) on it. Evaluates to the parser's result, or
 * -1 if the file could not be read.
 */
#define READ_AND_PARSE(pid, file, parse, out)					\
	({									\
		char _path[64], *_buf;						\
		size_t _len;							\
		int _ret = -1;							\
		if (!pt_proc_path(_path, sizeof(_path), pid, file) &&		\
		    !proc_read_file(_path, PROC_FILE_MAX, &_buf, &_len)) {	\
			_ret = parse(_buf, _len, _path, out);			\
			free(_buf);						\
		}								\
		_ret;								\
	})

#endif /* CRIU_PROC_PARSE_TEXT_H */
