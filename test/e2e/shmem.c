/*
 * MAP_SHARED anonymous memory and /dev/zero shared mappings: content, holes
 * and sharing survive. The anonymous object is mapped three times (the
 * original, an alias made with mremap(old, 0, ...) and a window at an
 * offset opened through /proc/self/map_files): after the restore all three
 * must still be one object, so a write through one shows through the others.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include "e2e.h"

#define PAGE	4096
#define NPAGES	16

/* Which pages of the object behind @addr are data (1) or holes (0). */
static void layout(const void *addr, size_t len, char *out)
{
	char link[80];
	size_t i;
	int fd;

	snprintf(link, sizeof(link), "/proc/self/map_files/%lx-%lx", (unsigned long)addr,
		 (unsigned long)addr + len);
	fd = open(link, O_RDONLY);
	if (fd < 0)
		e2e_fail("open %s: %s", link, strerror(errno));
	for (i = 0; i < len / PAGE; i++) {
		off_t d = lseek(fd, (off_t)(i * PAGE), SEEK_DATA);

		out[i] = d == (off_t)(i * PAGE) ? 'D' : '.';
	}
	out[len / PAGE] = '\0';
	close(fd);
}

/* inode of the object behind @addr, and its name column in maps. */
static unsigned long inode_of(const void *addr, char *name, size_t size)
{
	unsigned long a = (unsigned long)addr, lo, hi, ino = 0;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");
	int pos;

	name[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %*s %*s %*s %lu %n", &lo, &hi, &ino, &pos) >= 3 &&
		    a >= lo && a < hi) {
			snprintf(name, size, "%s", line + pos);
			name[strcspn(name, "\n")] = '\0';
			break;
		}
		ino = 0;
	}
	if (f)
		fclose(f);
	return ino;
}

int main(int argc, char **argv)
{
	unsigned char *anon, *alias, *window, *zero;
	char link[80], lay[NPAGES + 1], lay_after[NPAGES + 1], name[256];
	uint64_t h_anon, h_zero;
	unsigned long ino;
	int fd, i;

	e2e_init(argc, argv);
	anon = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (anon == MAP_FAILED)
		e2e_fail("mmap: %s", strerror(errno));
	for (i = 0; i < 4 * PAGE; i++)
		anon[i] = (unsigned char)(i * 13 + (i >> 12));
	anon[9 * PAGE + 17] = 0x99;		/* pages 4-8 and 10-15 stay holes */
	alias = mremap(anon, 0, NPAGES * PAGE, MREMAP_MAYMOVE);
	snprintf(link, sizeof(link), "/proc/self/map_files/%lx-%lx", (unsigned long)anon,
		 (unsigned long)anon + NPAGES * PAGE);
	fd = open(link, O_RDWR);
	if (alias == MAP_FAILED || fd < 0)
		e2e_fail("second mappings: %s", strerror(errno));
	window = mmap(NULL, 8 * PAGE, PROT_READ, MAP_SHARED, fd, 2 * PAGE);
	close(fd);
	fd = open("/dev/zero", O_RDWR);
	zero = fd < 0 ? MAP_FAILED : mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (window == MAP_FAILED || zero == MAP_FAILED)
		e2e_fail("window or /dev/zero: %s", strerror(errno));
	close(fd);
	memset(zero + 3 * PAGE, 0x5a, PAGE);
	/* Reading a hole of a shared mapping fills it: only data pages are read. */
	h_anon = e2e_hash(anon, 4 * PAGE) ^ e2e_hash(anon + 9 * PAGE, PAGE);
	h_zero = e2e_hash(zero, 8 * PAGE);
	layout(anon, NPAGES * PAGE, lay);
	if (strcmp(lay, "DDDD.....D......"))
		e2e_fail("setup: unexpected layout %s", lay);

	e2e_ready();
	e2e_wait_stop();

	layout(anon, NPAGES * PAGE, lay_after);
	if (strcmp(lay, lay_after))
		e2e_fail("holes changed: %s, was %s", lay_after, lay);
	if ((e2e_hash(anon, 4 * PAGE) ^ e2e_hash(anon + 9 * PAGE, PAGE)) != h_anon)
		e2e_fail("shared anonymous content changed");
	for (i = 4 * PAGE; i < NPAGES * PAGE; i++)
		if (anon[i] != (i == 9 * PAGE + 17 ? 0x99 : 0))
			e2e_fail("byte %d of the object is %#x", i, anon[i]);
	if (memcmp(alias, anon, NPAGES * PAGE) || memcmp(window, anon + 2 * PAGE, 8 * PAGE))
		e2e_fail("alias or window (offset 2 pages) differs from the object");
	if (e2e_hash(zero, 8 * PAGE) != h_zero || zero[3 * PAGE] != 0x5a)
		e2e_fail("/dev/zero shared content changed");
	ino = inode_of(anon, name, sizeof(name));
	if (strcmp(name, "/dev/zero (deleted)"))
		e2e_fail("anonymous object shows as '%s'", name);
	if (inode_of(alias, name, sizeof(name)) != ino || inode_of(window, name, sizeof(name)) != ino)
		e2e_fail("the three mappings are no longer one object");
	if (inode_of(zero, name, sizeof(name)) == ino || strcmp(name, "/dev/zero (deleted)"))
		e2e_fail("/dev/zero mapping shows as '%s' (or is the other object)", name);
	if (strcmp(e2e_perms(window), "r--s") || strcmp(e2e_perms(alias), "rw-s"))
		e2e_fail("protections: window %s, alias %s", e2e_perms(window), e2e_perms(alias));
	alias[5 * PAGE] = 0x42;			/* one write, seen through all three */
	if (anon[5 * PAGE] != 0x42 || window[3 * PAGE] != 0x42)
		e2e_fail("a write through the alias is not seen by the others");
	anon[12 * PAGE] = 0x24;
	if (alias[12 * PAGE] != 0x24)
		e2e_fail("a write through the original is not seen by the alias");
	e2e_pass();
}
