/*
 * Memory and string helpers for parasite code.  The compiler may emit
 * calls to memcpy/memset/memmove/memcmp on its own, so those four also
 * exist out of line in the runtime (plugins/std/src/string.c).
 */
#ifndef STD_STRING_H
#define STD_STRING_H

#include <std/types.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

static inline size_t std_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

static inline int std_strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

static inline char *std_strncpy0(char *dst, const char *src, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n && src[i]; i++)
		dst[i] = src[i];
	if (n)
		dst[i] = '\0';
	return dst;
}

#endif /* STD_STRING_H */
