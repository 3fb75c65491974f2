/*
 * A memfd, mapped shared and privately, its descriptor closed: content,
 * size (not page aligned), name and seals survive, the shared mapping still
 * writes to the object, the private one keeps its own copy of one page.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include "e2e.h"

#define PAGE	4096
#define SIZE	(5 * PAGE + 100)
#define NAME	"e2e shm:obj"
#define SEALS	(F_SEAL_SHRINK | F_SEAL_GROW)

static int object_fd(const void *addr, size_t len)
{
	char link[80];
	int fd;

	snprintf(link, sizeof(link), "/proc/self/map_files/%lx-%lx", (unsigned long)addr,
		 (unsigned long)addr + len);
	fd = open(link, O_RDONLY);
	if (fd < 0)
		e2e_fail("open %s: %s", link, strerror(errno));
	return fd;
}

static int maps_has(const void *addr, const char *want)
{
	unsigned long a = (unsigned long)addr, lo, hi;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");
	int found = 0;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && a >= lo && a < hi) {
			found = strstr(line, want) != NULL;
			break;
		}
	if (f)
		fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	unsigned char *shared, *priv, page[PAGE];
	uint64_t h_shared, h_priv;
	struct stat st;
	int fd, i, seals;

	e2e_init(argc, argv);
	fd = memfd_create(NAME, MFD_ALLOW_SEALING);
	if (fd < 0 || ftruncate(fd, SIZE))
		e2e_fail("memfd: %s", strerror(errno));
	shared = mmap(NULL, 6 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	priv = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, PAGE);
	if (shared == MAP_FAILED || priv == MAP_FAILED)
		e2e_fail("mmap: %s", strerror(errno));
	for (i = 0; i < SIZE; i++)
		shared[i] = (unsigned char)(i * 7 + 3);
	priv[PAGE + 1] = 0xee;			/* private copy of object page 2 */
	shared[2 * PAGE + 1] = 0x11;		/* not seen by the private copy */
	shared[PAGE + 5] = 0x22;		/* seen: page 1 is not copied */
	if (fcntl(fd, F_ADD_SEALS, SEALS))
		e2e_fail("F_ADD_SEALS: %s", strerror(errno));
	close(fd);
	h_shared = e2e_hash(shared, SIZE);
	h_priv = e2e_hash(priv, 2 * PAGE);
	if (priv[5] != 0x22 || priv[PAGE + 1] != 0xee)
		e2e_fail("setup: private mapping does not behave");

	e2e_ready();
	e2e_wait_stop();

	if (e2e_hash(shared, SIZE) != h_shared)
		e2e_fail("shared memfd content changed");
	if (e2e_hash(priv, 2 * PAGE) != h_priv)
		e2e_fail("private memfd mapping changed");
	if (!maps_has(shared, "/memfd:" NAME " (deleted)") || !maps_has(priv, "/memfd:" NAME " (deleted)"))
		e2e_fail("memfd name lost in /proc/self/maps");
	fd = object_fd(shared, 6 * PAGE);
	seals = fcntl(fd, F_GET_SEALS);
	if (fstat(fd, &st) || st.st_size != SIZE)
		e2e_fail("memfd size %lld, was %d", (long long)st.st_size, SIZE);
	if (seals != SEALS)
		e2e_fail("seals %#x, were %#x", seals, SEALS);
	shared[4 * PAGE] = 0x77;
	if (pread(fd, page, PAGE, 4 * PAGE) != PAGE || page[0] != 0x77)
		e2e_fail("shared mapping no longer writes to the memfd");
	close(fd);
	shared[PAGE + 6] = 0x33;
	if (priv[6] != 0x33)
		e2e_fail("untouched private page does not follow the memfd");
	if (strcmp(e2e_perms(priv), "rw-p") || strcmp(e2e_perms(shared), "rw-s"))
		e2e_fail("protections: private %s, shared %s", e2e_perms(priv), e2e_perms(shared));
	e2e_pass();
}
