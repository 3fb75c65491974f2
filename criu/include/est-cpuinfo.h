/* cpuinfo.img in the established format (est-cpuinfo.c). */
#ifndef CRIU_EST_CPUINFO_H
#define CRIU_EST_CPUINFO_H

#include "cpu.h"

/* Writes @c as @dirfd/cpuinfo.img (replacing one there); 0 or -1. */
int est_cpuinfo_write(int dirfd, const CpuInfoEntry *c);
/*
 * Reads @dirfd/cpuinfo.img into @c: 0 (release @c with cpu_info_release()),
 * 1 when there is no such file, -1 when it is unreadable or malformed.
 */
int est_cpuinfo_read(int dirfd, CpuInfoEntry *c);

#endif /* CRIU_EST_CPUINFO_H */
