/*
 * The CPU facts an image records and a restore checks.
 *
 *   1. cpu_info_fill(&c)          describe this machine's CPU (arch code)
 *   2. store c in the inventory (dump) or cpuinfo.img (criu cpuinfo dump)
 *   3. cpu_info_check(&saved)     on the restoring host: 0 when a task that
 *                                 ran on @saved can run here, else -1 after
 *                                 one error line per missing feature
 *   4. cpu_info_release(&c)       frees what fill allocated
 */
#ifndef CRIU_CPU_H
#define CRIU_CPU_H

#include "inventory.pb-c.h"

int cpu_info_fill(CpuInfoEntry *c);
void cpu_info_release(CpuInfoEntry *c);
/* Compare @saved against @host; exposed separately so tests can feed both. */
int cpu_info_compatible(const CpuInfoEntry *saved, const CpuInfoEntry *host);
int cpu_info_check(const CpuInfoEntry *saved);

#endif /* CRIU_CPU_H */
