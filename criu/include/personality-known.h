/* The personality values the kernel accepts (restore checks and the import). */
#ifndef CRIU_PERSONALITY_KNOWN_H
#define CRIU_PERSONALITY_KNOWN_H

#include <linux/personality.h>

/* a personality id and every flag linux/personality.h defines */
#define PERSONALITY_KNOWN                                                                        \
	((uint32_t)PER_MASK | UNAME26 | ADDR_NO_RANDOMIZE | FDPIC_FUNCPTRS | MMAP_PAGE_ZERO |    \
	 ADDR_COMPAT_LAYOUT | READ_IMPLIES_EXEC | ADDR_LIMIT_32BIT | SHORT_INODE | WHOLE_SECONDS | \
	 STICKY_TIMEOUTS | ADDR_LIMIT_3GB)

#endif /* CRIU_PERSONALITY_KNOWN_H */
