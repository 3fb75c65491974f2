/*
 * What the shared memory code (dump-shmem.c, restore-shmem.c) and the memfd
 * fd kind (files-memfd.c) both know about memfds: how their /proc links
 * read, and the bounds an image's name and seals must keep to.
 */
#ifndef CRIU_MEMFD_H
#define CRIU_MEMFD_H

#include <fcntl.h>
#include <stdint.h>
#include "kernel-compat.h"

#define MEMFD_PREFIX		"/memfd:"	/* a memfd's link and maps path start so */
#define MEMFD_NAME_MAX		249		/* the kernel's limit on a memfd name */
#define MEMFD_KNOWN_SEALS	(F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | \
				 F_SEAL_FUTURE_WRITE | F_SEAL_EXEC)

/*
 * A close-on-exec memfd, sealing allowed, to become one dumped with @mode
 * and @seals (files-memfd.c): made MFD_NOEXEC_SEAL when it has F_SEAL_EXEC
 * and no exec bit, MFD_EXEC otherwise, so that vm.memfd_noexec of criu's
 * pid namespace does not decide. -1 with errno.
 */
int memfd_create_like(const char *name, uint32_t mode, uint32_t seals);

#endif /* CRIU_MEMFD_H */
