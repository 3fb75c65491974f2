/* x86_64 relocations for `compel hgen`: everything a -fPIE object uses. */
#include <stdio.h>
#include <string.h>
#include "tool.h"

const uint16_t arch_elf_machine = EM_X86_64;

int arch_needs_got(uint32_t type)
{
	return type == R_X86_64_GOTPCREL || type == R_X86_64_GOTPCRELX ||
	       type == R_X86_64_REX_GOTPCRELX;
}

static int put32(struct image *im, uint64_t place, int64_t v, int sign)
{
	int32_t s = (int32_t)v;

	if ((sign && (int64_t)s != v) || (!sign && (uint64_t)(uint32_t)v != (uint64_t)v)) {
		fprintf(stderr, "compel: %s: relocation overflow at 0x%llx\n",
			im->path, (unsigned long long)place);
		return -1;
	}
	memcpy(im->mem + place, &s, 4);
	return 0;
}

int arch_apply_rela(struct image *im, uint64_t place, const Elf64_Rela *r)
{
	uint32_t type = ELF64_R_TYPE(r->r_info), sym = ELF64_R_SYM(r->r_info);
	int64_t s, v;

	if (type == R_X86_64_NONE)
		return 0;
	if (arch_needs_got(type))
		s = image_got_slot(im, sym);
	else
		s = image_sym_addr(im, sym);
	if (s < 0)
		return -1;
	switch (type) {
	case R_X86_64_PC32:
	case R_X86_64_PLT32:
	case R_X86_64_GOTPCREL:
	case R_X86_64_GOTPCRELX:
	case R_X86_64_REX_GOTPCRELX:
		return put32(im, place, s + r->r_addend - (int64_t)place, 1);
	case R_X86_64_PC64:
		v = s + r->r_addend - (int64_t)place;
		memcpy(im->mem + place, &v, 8);
		return 0;
	case R_X86_64_64:
		v = s + r->r_addend;
		memcpy(im->mem + place, &v, 8);
		return image_add_reloc(im, place);
	}
	fprintf(stderr, "compel: %s: relocation type %u is not position "
		"independent (build with -fPIE)\n", im->path, type);
	return -1;
}
