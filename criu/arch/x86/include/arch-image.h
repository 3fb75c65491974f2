/*
 * The messages of our own image format that hold x86 state, under the
 * names generic code stores them by (criu/include/arch.h).
 */
#ifndef CRIU_ARCH_X86_IMAGE_H
#define CRIU_ARCH_X86_IMAGE_H

#include "core.pb-c.h"

typedef UserRegsX86Entry arch_regs_entry_t;	/* thread_core_entry.regs */

#define ARCH_IMG_NAME	"x86_64"	/* inventory.arch of the established format */
#define ARCH_FPU_MAX	(64 * 1024)	/* bytes of the largest FPU image (xsave area) */

#endif
