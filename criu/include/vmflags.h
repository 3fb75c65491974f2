/*
 * The VmFlags codes of /proc/PID/smaps: the one table of every code a
 * kernel prints (fs/proc/task_mmu.c, show_smap_vma_flags), what it means
 * and what a dump does with it. The parser (proc_parse_maps.c) takes its
 * codes from here, the dump (dump-mem.c) its policy, the documentation
 * (Documentation/dump.md, "VMA flags") mirrors it.
 *
 * Policy:
 *   VMF_KEPT     restored (the last column says how; e2e vma_flags,
 *                vma_maxprot check each one)
 *   VMF_SPECIAL  only on the kernel's own mappings (vdso, vvar), which are
 *                moved, not made: refused anywhere else
 *   VMF_REFUSED  the dump refuses the mapping: "VMA flag 'xx' (meaning) at
 *                START-END (path) is not supported yet"
 * A code the table does not know (and the kernel's "??" for a bit it has
 * no name for) is refused too.
 */
#ifndef CRIU_VMFLAGS_H
#define CRIU_VMFLAGS_H

enum vmf_policy { VMF_KEPT, VMF_SPECIAL, VMF_REFUSED };

/*       name code  meaning                                   policy       how restored */
#define VMFLAGS_TABLE(X) \
	X(RD, "rd", "readable",				VMF_KEPT,	"prot") \
	X(WR, "wr", "writable",				VMF_KEPT,	"prot") \
	X(EX, "ex", "executable",			VMF_KEPT,	"prot") \
	X(SH, "sh", "shared and may be written",	VMF_KEPT,	"MAP_SHARED of a file open for writing") \
	X(MR, "mr", "may be made readable",		VMF_KEPT,	"max_prot: always set") \
	X(MW, "mw", "may be made writable",		VMF_KEPT,	"max_prot: open mode of a shared mapping's file") \
	X(ME, "me", "may be made executable",		VMF_KEPT,	"max_prot: checked against the file's mount") \
	X(MS, "ms", "shared",				VMF_KEPT,	"MAP_SHARED") \
	X(GD, "gd", "grows down",			VMF_KEPT,	"MAP_GROWSDOWN") \
	X(PF, "pf", "PFN map",				VMF_SPECIAL,	"vvar") \
	X(DW, "dw", "denies writes to its file",	VMF_REFUSED,	"-") \
	X(LO, "lo", "locked in memory (mlock)",		VMF_KEPT,	"mlock2()") \
	X(IO, "io", "memory-mapped I/O",		VMF_SPECIAL,	"vvar") \
	X(SR, "sr", "sequential read advice",		VMF_KEPT,	"madvise(MADV_SEQUENTIAL)") \
	X(RR, "rr", "random read advice",		VMF_KEPT,	"madvise(MADV_RANDOM)") \
	X(DC, "dc", "not copied on fork",		VMF_KEPT,	"madvise(MADV_DONTFORK)") \
	X(DE, "de", "cannot be expanded by mremap",	VMF_SPECIAL,	"vdso, vvar") \
	X(AC, "ac", "charged to the commit limit",	VMF_KEPT,	"made writable once before its final prot") \
	X(NR, "nr", "no swap space reserved",		VMF_KEPT,	"MAP_NORESERVE") \
	X(HT, "ht", "hugetlb memory",			VMF_REFUSED,	"-") \
	X(SF, "sf", "synchronous page faults (MAP_SYNC)", VMF_REFUSED,	"-") \
	X(NL, "nl", "non-linear mapping",		VMF_REFUSED,	"-") \
	X(AR, "ar", "architecture flag (x86: PAT)",	VMF_REFUSED,	"-") \
	X(WF, "wf", "wiped on fork",			VMF_KEPT,	"madvise(MADV_WIPEONFORK)") \
	X(DD, "dd", "left out of core dumps",		VMF_KEPT,	"madvise(MADV_DONTDUMP)") \
	X(SD, "sd", "soft-dirty",			VMF_REFUSED,	"-") \
	X(MM, "mm", "mixed PFN and page map",		VMF_REFUSED,	"-") \
	X(HG, "hg", "huge page advice",			VMF_KEPT,	"madvise(MADV_HUGEPAGE)") \
	X(NH, "nh", "no huge page advice",		VMF_KEPT,	"madvise(MADV_NOHUGEPAGE)") \
	X(MG, "mg", "mergeable (KSM)",			VMF_KEPT,	"madvise(MADV_MERGEABLE)") \
	X(UM, "um", "userfaultfd missing-page tracking", VMF_REFUSED,	"-") \
	X(UW, "uw", "userfaultfd write-protect tracking", VMF_REFUSED,	"-") \
	X(UI, "ui", "userfaultfd minor-fault tracking",	VMF_REFUSED,	"-") \
	X(SS, "ss", "shadow stack",			VMF_REFUSED,	"-") \
	X(SL, "sl", "sealed (mseal)",			VMF_REFUSED,	"-") \
	X(LF, "lf", "locked on fault (MLOCK_ONFAULT)",	VMF_KEPT,	"mlock2(MLOCK_ONFAULT)") \
	X(BT, "bt", "arm64 branch target identification", VMF_REFUSED,	"-") \
	X(MT, "mt", "arm64 memory tagging",		VMF_REFUSED,	"-") \
	X(DP, "dp", "droppable (MAP_DROPPABLE)",	VMF_KEPT,	"mmap(MAP_DROPPABLE)") \
	X(GU, "gu", "may hold guard regions (MADV_GUARD_INSTALL)", VMF_KEPT, "MADV_GUARD_INSTALL of its guard pages")

struct vmflag_desc {
	const char	*code;
	const char	*meaning;
	enum vmf_policy	policy;
	const char	*how;
};

/* Indexed by PROC_VMF_* (proc_parse.h); codes the table lacks are PROC_VMF_UNKNOWN. */
extern const struct vmflag_desc vmflag_table[];
extern const unsigned int vmflag_table_size;

#endif /* CRIU_VMFLAGS_H */
