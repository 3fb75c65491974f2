/*
 * VmFlags of a mapping, for the vma e2e cases: the two-letter codes smaps
 * shows for the mapping holding an address, as one string ("rd wr mr ...").
 */
#ifndef E2E_VMA_H
#define E2E_VMA_H

#include "e2e.h"

/* The VmFlags of the mapping holding @addr into @out ("" if none), or e2e_fail(). */
static inline void e2e_vmflags(const void *addr, char *out, size_t size)
{
	unsigned long a = (unsigned long)addr, lo, hi;
	char line[1024];
	bool in = false;
	FILE *f = fopen("/proc/self/smaps", "re");

	if (!f)
		e2e_fail("open smaps: %s", strerror(errno));
	out[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		size_t hex = strspn(line, "0123456789abcdef");

		if (hex && line[hex] == '-' && sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			in = a >= lo && a < hi;
		else if (in && !strncmp(line, "VmFlags:", 8)) {
			snprintf(out, size, "%s", line + 8 + strspn(line + 8, " "));
			out[strcspn(out, "\n")] = '\0';
		}
	}
	fclose(f);
}

/* Does the VmFlags string @flags contain the code @code? */
static inline bool e2e_has_vmflag(const char *flags, const char *code)
{
	size_t n = strlen(code);
	const char *p;

	for (p = flags; (p = strstr(p, code)); p += n)
		if ((p == flags || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

#endif /* E2E_VMA_H */
