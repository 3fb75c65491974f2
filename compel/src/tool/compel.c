/*
 * compel: host tool that turns a parasite object into an embeddable blob.
 *
 *   compel hgen -i parasite.o -o blob.h -p NAME
 *	Lay out the allocated sections of a relocatable ELF object (the
 *	parasite linked with `ld -r` against the std runtime), resolve
 *	every PC-relative relocation, and write a C header that defines
 *	`static const struct compel_blob NAME_blob` with the bytes and the
 *	list of 64-bit words to rebase at load time.
 *   compel cflags
 *	Print the compiler flags parasite code must be built with.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tool.h"

#define round_up_sz(x, a)	(((x) + (a) - 1) / (a) * (a))

#define PARASITE_CFLAGS "-ffreestanding -nostdlib -fPIE -fvisibility=hidden " \
	"-fno-stack-protector -fno-asynchronous-unwind-tables -fno-builtin " \
	"-fno-tree-loop-distribute-patterns -fno-jump-tables " \
	"-mgeneral-regs-only -mno-red-zone -O2"

static int fail(struct image *im, const char *what)
{
	fprintf(stderr, "compel: %s: %s\n", im->path, what);
	return -1;
}

int64_t image_sym_addr(struct image *im, uint32_t i)
{
	const Elf64_Sym *s;

	if (i >= im->nr_syms)
		return fail(im, "bad symbol index");
	s = &im->syms[i];
	if (s->st_shndx == SHN_ABS)
		return fail(im, "absolute symbols are not supported");
	if (s->st_shndx == SHN_UNDEF || s->st_shndx >= im->eh->e_shnum ||
	    im->sec_off[s->st_shndx] == (uint64_t)-1) {
		fprintf(stderr, "compel: %s: undefined symbol '%s'\n", im->path,
			im->strtab + s->st_name);
		return -1;
	}
	return (int64_t)(im->sec_off[s->st_shndx] + s->st_value);
}

int image_add_reloc(struct image *im, uint64_t off)
{
	uint32_t *r = realloc(im->relocs, (im->nr_relocs + 1) * sizeof(*r));

	if (!r)
		return fail(im, "out of memory");
	im->relocs = r;
	r[im->nr_relocs++] = (uint32_t)off;
	return 0;
}

int64_t image_got_slot(struct image *im, uint32_t i)
{
	int64_t a;
	size_t k;

	for (k = 0; k < im->nr_got; k++)
		if (im->got_sym[k] == i)
			return (int64_t)(im->got_off + 8 * k);
	a = image_sym_addr(im, i);
	if (a < 0)
		return -1;
	im->got_sym[im->nr_got] = i;
	memcpy(im->mem + im->got_off + 8 * im->nr_got, &a, 8);
	if (image_add_reloc(im, im->got_off + 8 * im->nr_got))
		return -1;
	return (int64_t)(im->got_off + 8 * im->nr_got++);
}

static int load(struct image *im, const char *path)
{
	struct stat st;
	int fd;

	im->path = path;
	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "compel: %s: %s\n", path, strerror(errno));
		return -1;
	}
	im->elf_size = st.st_size;
	im->elf = mmap(NULL, im->elf_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (im->elf == MAP_FAILED || im->elf_size < sizeof(Elf64_Ehdr))
		return fail(im, "cannot map or too small");
	im->eh = (const Elf64_Ehdr *)im->elf;
	if (memcmp(im->eh->e_ident, ELFMAG, SELFMAG) ||
	    im->eh->e_ident[EI_CLASS] != ELFCLASS64 || im->eh->e_type != ET_REL ||
	    im->eh->e_machine != arch_elf_machine)
		return fail(im, "not a relocatable ELF64 object for this arch");
	if (im->eh->e_shoff + (uint64_t)im->eh->e_shnum * sizeof(Elf64_Shdr) > im->elf_size)
		return fail(im, "section headers out of file");
	im->sh = (const Elf64_Shdr *)(im->elf + im->eh->e_shoff);
	return 0;
}

static int find_symtab(struct image *im)
{
	unsigned int i;

	for (i = 0; i < im->eh->e_shnum; i++) {
		const Elf64_Shdr *s = &im->sh[i];

		if (s->sh_type != SHT_SYMTAB)
			continue;
		if (s->sh_offset + s->sh_size > im->elf_size || s->sh_link >= im->eh->e_shnum)
			return fail(im, "bad symbol table");
		im->syms = (const Elf64_Sym *)(im->elf + s->sh_offset);
		im->nr_syms = s->sh_size / sizeof(Elf64_Sym);
		im->strtab = (const char *)im->elf + im->sh[s->sh_link].sh_offset;
		return 0;
	}
	return fail(im, "no symbol table");
}

/* Count GOT slots any relocation may need (upper bound). */
static size_t count_got(struct image *im)
{
	size_t n = 0, k;
	unsigned int i;

	for (i = 0; i < im->eh->e_shnum; i++) {
		const Elf64_Shdr *s = &im->sh[i];
		const Elf64_Rela *r = (const Elf64_Rela *)(im->elf + s->sh_offset);

		if (s->sh_type != SHT_RELA)
			continue;
		for (k = 0; k < s->sh_size / sizeof(*r); k++)
			n += arch_needs_got(ELF64_R_TYPE(r[k].r_info));
	}
	return n;
}

static int layout(struct image *im)
{
	size_t off = 0, ngot = 0;
	unsigned int i, pass;

	im->sec_off = malloc(im->eh->e_shnum * sizeof(*im->sec_off));
	if (!im->sec_off)
		return fail(im, "out of memory");
	memset(im->sec_off, 0xff, im->eh->e_shnum * sizeof(*im->sec_off));
	for (pass = 0; pass < 2; pass++) {	/* contents first, bss last */
		for (i = 0; i < im->eh->e_shnum; i++) {
			const Elf64_Shdr *s = &im->sh[i];
			size_t al = s->sh_addralign ? s->sh_addralign : 1;

			if (!(s->sh_flags & SHF_ALLOC) || !s->sh_size ||
			    (s->sh_type == SHT_NOBITS) != pass)
				continue;
			off = round_up_sz(off, al);
			im->sec_off[i] = off;
			off += s->sh_size;
		}
		if (pass == 0) {
			ngot = count_got(im);
			off = round_up_sz(off, 8);
			im->got_off = off;
			off += 8 * ngot;
			im->code_size = off;
		}
	}
	im->mem_size = round_up_sz(off, 16);
	im->mem = calloc(1, im->mem_size + 1);
	im->got_sym = calloc(ngot + 1, sizeof(*im->got_sym));
	if (!im->mem || !im->got_sym)
		return fail(im, "out of memory");
	for (i = 0; i < im->eh->e_shnum; i++) {
		const Elf64_Shdr *s = &im->sh[i];

		if (im->sec_off[i] == (uint64_t)-1 || s->sh_type == SHT_NOBITS)
			continue;
		if (s->sh_offset + s->sh_size > im->elf_size)
			return fail(im, "section out of file");
		memcpy(im->mem + im->sec_off[i], im->elf + s->sh_offset, s->sh_size);
	}
	return 0;
}

static int relocate(struct image *im)
{
	unsigned int i;
	size_t k;

	for (i = 0; i < im->eh->e_shnum; i++) {
		const Elf64_Shdr *s = &im->sh[i];
		const Elf64_Rela *r = (const Elf64_Rela *)(im->elf + s->sh_offset);

		if (s->sh_type == SHT_REL)
			return fail(im, "SHT_REL sections are not supported");
		if (s->sh_type != SHT_RELA || s->sh_info >= im->eh->e_shnum ||
		    im->sec_off[s->sh_info] == (uint64_t)-1)
			continue;
		for (k = 0; k < s->sh_size / sizeof(*r); k++) {
			uint64_t place = im->sec_off[s->sh_info] + r[k].r_offset;

			if (r[k].r_offset + 4 > im->sh[s->sh_info].sh_size)
				return fail(im, "relocation out of section");
			if (arch_apply_rela(im, place, &r[k]))
				return -1;
		}
	}
	return 0;
}

static int64_t find_global(struct image *im, const char *name)
{
	size_t i;

	for (i = 0; i < im->nr_syms; i++)
		if (im->syms[i].st_name && !strcmp(im->strtab + im->syms[i].st_name, name) &&
		    im->syms[i].st_shndx != SHN_UNDEF)
			return image_sym_addr(im, (uint32_t)i);
	fprintf(stderr, "compel: %s: no symbol '%s' (link with std.lib.o)\n",
		im->path, name);
	return -1;
}

static int write_header(struct image *im, FILE *f, const char *p, int64_t de,
			int64_t te);

/*
 * A regular output file is written under a temporary name and renamed
 * into place, so a failed run never leaves a half header.  Anything
 * else (a pipe, /dev/null) is written directly and never removed.
 */
static int emit(struct image *im, const char *out, const char *p)
{
	int64_t de = find_global(im, "__compel_daemon_entry");
	int64_t te = find_global(im, "__compel_thread_entry");
	char tmp[4096];
	struct stat st;
	FILE *f;

	if (de < 0 || te < 0)
		return -1;
	if (stat(out, &st) == 0 && !S_ISREG(st.st_mode)) {
		f = fopen(out, "w");
		return f ? write_header(im, f, p, de, te) : fail(im, "cannot write output");
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	f = fopen(tmp, "w");
	if (!f)
		return fail(im, "cannot write output");
	if (write_header(im, f, p, de, te)) {
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, out)) {
		unlink(tmp);
		return fail(im, "cannot rename output into place");
	}
	return 0;
}

static int write_header(struct image *im, FILE *f, const char *p, int64_t de,
			int64_t te)
{
	size_t i;

	fprintf(f, "/* Generated by `compel hgen` from %s. Do not edit. */\n"
		"#ifndef COMPEL_BLOB_%s_H\n#define COMPEL_BLOB_%s_H\n\n"
		"#include <compel/compel.h>\n\n"
		"static const unsigned char %s_blob_code[%zu] "
		"__attribute__((aligned(16))) = {", im->path, p, p, p, im->code_size);
	for (i = 0; i < im->code_size; i++)
		fprintf(f, "%s0x%02x,", i % 12 ? " " : "\n\t", im->mem[i]);
	fprintf(f, "\n};\n\nstatic const uint32_t %s_blob_relocs[%zu] = {", p,
		im->nr_relocs + 1);
	for (i = 0; i < im->nr_relocs; i++)
		fprintf(f, "%s0x%x,", i % 6 ? " " : "\n\t", im->relocs[i]);
	fprintf(f, "\n\t0 /* padding */\n};\n\n"
		"static const struct compel_blob %s_blob = {\n"
		"\t.name\t\t= \"%s\",\n\t.code\t\t= %s_blob_code,\n"
		"\t.code_size\t= %zu,\n\t.mem_size\t= %zu,\n"
		"\t.relocs\t\t= %s_blob_relocs,\n\t.nr_relocs\t= %zu,\n"
		"\t.daemon_entry\t= %lld,\n\t.thread_entry\t= %lld,\n};\n\n#endif\n",
		p, p, p, im->code_size, im->mem_size, p, im->nr_relocs,
		(long long)de, (long long)te);
	return fclose(f) ? fail(im, "write error") : 0;
}

static int hgen(int argc, char **argv)
{
	const char *in = NULL, *out = NULL, *prefix = "parasite";
	struct image im = { 0 };
	int opt;

	while ((opt = getopt(argc, argv, "i:o:p:")) != -1) {
		switch (opt) {
		case 'i': in = optarg; break;
		case 'o': out = optarg; break;
		case 'p': prefix = optarg; break;
		default: return 2;
		}
	}
	if (!in || !out) {
		fprintf(stderr, "usage: compel hgen -i in.o -o out.h [-p prefix]\n");
		return 2;
	}
	if (load(&im, in) || find_symtab(&im) || layout(&im) || relocate(&im) ||
	    emit(&im, out, prefix))
		return 1;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "hgen"))
		return hgen(argc - 1, argv + 1);
	if (argc == 2 && !strcmp(argv[1], "cflags")) {
		printf("%s\n", PARASITE_CFLAGS);
		return 0;
	}
	fprintf(stderr, "usage: compel hgen -i parasite.o -o blob.h [-p prefix]\n"
		"       compel cflags\n");
	return 2;
}
