/*
 * --file-validation: a copy of this program's own ELF file mapped
 * executable, as a library is. Its GNU build-id note's first byte's offset
 * goes to the file "buildid-off", so the harness can change the build-id
 * between dump and restore without changing the size: restored with the
 * default (buildid) that is refused; with filesize it restores, and the
 * mapping is the file at its path again.
 */
#include <elf.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "e2e-exec.h"

#define MAP_LEN	4096

/* The file offset of the first byte of the NT_GNU_BUILD_ID descriptor; -1 if none. */
static long build_id_offset(int fd)
{
	static unsigned char notes[1 << 16];
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	unsigned int i;

	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG))
		return -1;
	for (i = 0; i < eh.e_phnum; i++) {
		size_t off = 0;

		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) != sizeof(ph) ||
		    ph.p_type != PT_NOTE || ph.p_filesz > sizeof(notes) ||
		    pread(fd, notes, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz)
			continue;
		while (off + sizeof(Elf64_Nhdr) <= ph.p_filesz) {
			Elf64_Nhdr nh;
			size_t name, desc;

			memcpy(&nh, notes + off, sizeof(nh));
			name = (nh.n_namesz + 3) & ~3u;
			desc = (nh.n_descsz + 3) & ~3u;
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 && nh.n_descsz)
				return (long)(ph.p_offset + off + sizeof(nh) + name);
			off += sizeof(nh) + name + desc;
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	char path[512], offp[512], now[MAP_LEN];
	unsigned char *map;
	long off;
	FILE *f;
	int fd;

	e2e_init(argc, argv);
	e2e_path(path, sizeof(path), "mapped-elf");
	e2e_path(offp, sizeof(offp), "buildid-off");
	e2e_copy_self(path, 0755);
	fd = open(path, O_RDONLY);
	off = fd < 0 ? -1 : build_id_offset(fd);
	if (off < 0)
		e2e_fail("%s: no GNU build-id note", path);
	f = fopen(offp, "w");
	if (!f || fprintf(f, "%ld\n", off) < 0 || fclose(f))
		e2e_fail("%s: %s", offp, strerror(errno));
	map = mmap(NULL, MAP_LEN, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		e2e_fail("mmap: %s", strerror(errno));
	close(fd);

	e2e_ready();
	e2e_wait_stop();

	/* the mapping is the file now at the path, whatever it holds */
	fd = open(path, O_RDONLY);
	if (fd < 0 || pread(fd, now, MAP_LEN, 0) != MAP_LEN)
		e2e_fail("%s: %s", path, strerror(errno));
	close(fd);
	if (memcmp(map, ELFMAG, SELFMAG) || memcmp(map, now, MAP_LEN))
		e2e_fail("the mapping is not the file at its path");
	e2e_pass();
}
