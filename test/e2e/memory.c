/*
 * Heap, anonymous mappings (touched, untouched, read-only, partly zero) and
 * a written private file mapping keep their contents and protections.
 */
#include <sys/mman.h>

#include "e2e.h"

#define PAGE	4096
#define NPAGES	256

static void fill(unsigned char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(seed * 31 + i * 7 + (i >> 12));
}

int main(int argc, char **argv)
{
	unsigned char *heap, *anon, *ro, *sparse, *file;
	uint64_t h_heap, h_anon, h_ro, h_sparse, h_file;
	char path[256], perms[4][8];
	int fd;

	e2e_init(argc, argv);
	heap = malloc(3 * 1024 * 1024);
	anon = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	sparse = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	e2e_path(path, sizeof(path), "mapped-file");
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (!heap || anon == MAP_FAILED || ro == MAP_FAILED || sparse == MAP_FAILED || fd < 0)
		e2e_fail("setup: %s", strerror(errno));
	if (ftruncate(fd, 8 * PAGE))
		e2e_fail("ftruncate: %s", strerror(errno));
	file = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	if (file == MAP_FAILED)
		e2e_fail("mmap file: %s", strerror(errno));

	fill(heap, 3 * 1024 * 1024, 1);
	fill(anon, NPAGES * PAGE, 2);
	fill(ro, 4 * PAGE, 3);
	mprotect(ro, 4 * PAGE, PROT_READ);
	sparse[5 * PAGE] = 0x55;		/* one page written, one read, the rest untouched */
	(void)*(volatile unsigned char *)(sparse + 9 * PAGE);
	fill(file + 2 * PAGE, PAGE, 4);		/* a private copy of one file page */
	h_heap = e2e_hash(heap, 3 * 1024 * 1024);
	h_anon = e2e_hash(anon, NPAGES * PAGE);
	h_ro = e2e_hash(ro, 4 * PAGE);
	h_sparse = e2e_hash(sparse, NPAGES * PAGE);
	h_file = e2e_hash(file, 8 * PAGE);
	strcpy(perms[0], e2e_perms(ro));
	strcpy(perms[1], e2e_perms(anon));
	strcpy(perms[2], e2e_perms(file));
	strcpy(perms[3], e2e_perms(sparse));

	e2e_ready();
	e2e_wait_stop();

	if (e2e_hash(heap, 3 * 1024 * 1024) != h_heap)
		e2e_fail("heap changed");
	if (e2e_hash(anon, NPAGES * PAGE) != h_anon)
		e2e_fail("anonymous mapping changed");
	if (e2e_hash(ro, 4 * PAGE) != h_ro)
		e2e_fail("read-only mapping changed");
	if (e2e_hash(sparse, NPAGES * PAGE) != h_sparse || sparse[5 * PAGE] != 0x55)
		e2e_fail("sparse mapping changed");
	if (e2e_hash(file, 8 * PAGE) != h_file)
		e2e_fail("private file mapping changed");
	if (strcmp(e2e_perms(ro), perms[0]) || strcmp(e2e_perms(anon), perms[1]) ||
	    strcmp(e2e_perms(file), perms[2]) || strcmp(e2e_perms(sparse), perms[3]))
		e2e_fail("protections changed: ro %s, anon %s, file %s, sparse %s",
			 e2e_perms(ro), e2e_perms(anon), e2e_perms(file), e2e_perms(sparse));
	anon[0] ^= 1;		/* still writable */
	e2e_pass();
}
