/*
 * pagemap_entry.flags (images/pagemap.proto), shared by dump and restore.
 */
#ifndef CRIU_PAGEMAP_FLAGS_H
#define CRIU_PAGEMAP_FLAGS_H

#define PE_PRESENT	1u	/* data in the page file, in run order */
#define PE_PARENT	2u	/* data in the parent images (incremental dumps) */
#define PE_LAZY		4u	/* may be served on demand */
#define PE_COW		8u	/* the page the parent process has at this address, shared since
			 * fork(): no data here, the restore lets the child inherit it */

#endif /* CRIU_PAGEMAP_FLAGS_H */
