/* The GNU build-id of an ELF file (criu/include/build-id.h). */
#include <elf.h>
#include <string.h>
#include <unistd.h>

#include "build-id.h"

size_t elf_build_id(int fd, uint8_t *out, size_t max)
{
	static uint8_t notes[1 << 16];
	Elf64_Ehdr eh;
	unsigned int i;

	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    eh.e_phnum > 256)
		return 0;
	for (i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		size_t off = 0;

		if (pread(fd, &ph, sizeof(ph), eh.e_phoff + i * sizeof(ph)) != sizeof(ph) ||
		    ph.p_type != PT_NOTE || ph.p_filesz > sizeof(notes) ||
		    pread(fd, notes, ph.p_filesz, ph.p_offset) != (ssize_t)ph.p_filesz)
			continue;
		while (ph.p_filesz - off >= sizeof(Elf64_Nhdr)) {
			Elf64_Nhdr nh;
			size_t name, desc;

			memcpy(&nh, notes + off, sizeof(nh));
			name = (nh.n_namesz + 3) & ~3u;
			desc = (nh.n_descsz + 3) & ~3u;
			if (name + desc > ph.p_filesz - off - sizeof(nh))
				break;
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    !memcmp(notes + off + sizeof(nh), "GNU", 4) && nh.n_descsz <= max) {
				memcpy(out, notes + off + sizeof(nh) + name, nh.n_descsz);
				return nh.n_descsz;
			}
			off += sizeof(nh) + name + desc;
		}
	}
	return 0;
}
