/*
 * The GNU build-id of an ELF file: the NT_GNU_BUILD_ID note of its program
 * headers, which the linker makes a hash of the contents. The established
 * format identifies executables and mapped libraries by it and their size
 * (--file-validation buildid): reg_file_entry.build_id, the note's bytes in
 * order in 32-bit words, the last padded with zeros.
 */
#ifndef CRIU_BUILD_ID_H
#define CRIU_BUILD_ID_H

#include <stddef.h>
#include <stdint.h>

#define BUILD_ID_MAX	64	/* bytes; SHA-1 ones have 20 */

/* The build-id of the 64-bit ELF file open at @fd into @out (at most @max bytes); its size, 0 if none. */
size_t elf_build_id(int fd, uint8_t *out, size_t max);

#endif /* CRIU_BUILD_ID_H */
