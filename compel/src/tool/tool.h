/* Internal interface of the compel host tool. */
#ifndef COMPEL_TOOL_H
#define COMPEL_TOOL_H

#include <elf.h>
#include <stddef.h>
#include <stdint.h>

/* The blob being laid out from one relocatable ELF object. */
struct image {
	const char	*path;
	const uint8_t	*elf;		/* whole input file */
	size_t		elf_size;
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sh;
	const Elf64_Sym	*syms;
	size_t		nr_syms;
	const char	*strtab;
	uint64_t	*sec_off;	/* blob offset of each section, or -1 */
	uint8_t		*mem;		/* blob bytes, mem_size long */
	size_t		code_size;	/* bytes with content (before bss) */
	size_t		mem_size;
	size_t		got_off;	/* GOT slots live here */
	size_t		nr_got;
	uint32_t	*got_sym;	/* symbol index of each GOT slot */
	uint32_t	*relocs;	/* offsets of 64-bit words to rebase */
	size_t		nr_relocs;
};

/* Blob offset of symbol i, or -1 with a message if undefined. */
int64_t image_sym_addr(struct image *im, uint32_t i);
int image_add_reloc(struct image *im, uint64_t off);
/* GOT slot offset for symbol i (created on first use). */
int64_t image_got_slot(struct image *im, uint32_t i);

/* Provided per architecture: count GOT slots, apply one relocation. */
int arch_needs_got(uint32_t type);
int arch_apply_rela(struct image *im, uint64_t place, const Elf64_Rela *r);
extern const uint16_t arch_elf_machine;

#endif
