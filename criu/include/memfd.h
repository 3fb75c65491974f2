/*
 * What the shared memory code (dump-shmem.c, restore-shmem.c) and the memfd
 * fd kind (files-memfd.c) both know about memfds: how their /proc links
 * read, and the bounds an image's name and seals must keep to.
 */
#ifndef CRIU_MEMFD_H
#define CRIU_MEMFD_H

#include <fcntl.h>
#include "kernel-compat.h"

#define MEMFD_PREFIX		"/memfd:"	/* a memfd's link and maps path start so */
#define MEMFD_NAME_MAX		249		/* the kernel's limit on a memfd name */
#define MEMFD_KNOWN_SEALS	(F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | \
				 F_SEAL_FUTURE_WRITE | F_SEAL_EXEC)

#endif /* CRIU_MEMFD_H */
