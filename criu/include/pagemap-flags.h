/*
 * pagemap_entry.flags (images/pagemap.proto), shared by dump and restore,
 * and the bits of the kernel's /proc/PID/pagemap entries.
 */
#ifndef CRIU_PAGEMAP_FLAGS_H
#define CRIU_PAGEMAP_FLAGS_H

#define PE_PRESENT	1u	/* data in the page file, in run order */
#define PE_PARENT	2u	/* data in the parent images (incremental dumps) */
#define PE_LAZY		4u	/* may be served on demand */
#define PE_COW		8u	/* the page the parent process has at this address, shared since
			 * fork(): no data here, the restore lets the child inherit it */

/* The 64-bit entries of /proc/PID/pagemap (Documentation/admin-guide/mm/pagemap.rst). */
#define PM_PRESENT	(1ull << 63)
#define PM_SWAPPED	(1ull << 62)
#define PM_FILE		(1ull << 61)	/* file page or shared anonymous */
#define PM_GUARD	(1ull << 58)	/* a guard page (MADV_GUARD_INSTALL), 6.14 */
#define PM_EXCLUSIVE	(1ull << 56)	/* mapped by this process only */
#define PM_PFN		((1ull << 55) - 1)	/* with CAP_SYS_ADMIN, else 0 */

#endif /* CRIU_PAGEMAP_FLAGS_H */
