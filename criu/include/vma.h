/*
 * Helpers over the vma lists of mm.proto, shared by dump and restore.
 */
#ifndef CRIU_VMA_H
#define CRIU_VMA_H

#include <stdbool.h>
#include <stdint.h>

#include "mm.pb-c.h"
#include "files.pb-c.h"

/* The index of the vma of @mm (ascending, non-overlapping) holding @addr, or -1. */
long vma_find(const MmEntry *mm, uint64_t addr);

/*
 * The index of the vma of @mm (ascending, non-overlapping) that a child's
 * private vma @v may have been inherited from through fork(): same range,
 * kind and file offset. -1 when there is none or @v is not private memory.
 * The caller compares files (ids differ between processes).
 */
long vma_inherited_from(const MmEntry *mm, const VmaEntry *v);

/*
 * Whether two reg-files entries, each of its own process (ids are numbered
 * per process), name the same file: device, inode and path. A NULL entry (an
 * id without a file) is never the same. Dump and restore both decide with it
 * whether a child's private file vma is the one it inherited from its parent.
 */
bool vma_same_file(const RegFileEntry *a, const RegFileEntry *b);

/* The PROT_* bits @v may get by mprotect (VmFlags mr mw me); images without it: its prot. */
uint32_t vma_max_prot(const VmaEntry *v);

#endif /* CRIU_VMA_H */
