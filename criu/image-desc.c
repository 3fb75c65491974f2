/* The table of image kinds: one line per kind; the fd kinds' come from fd-kinds.def. */
#include <stdio.h>
#include <string.h>

#include "image.h"
#include "core.pb-c.h"
#include "files.pb-c.h"
#include "mm.pb-c.h"
#include "netns.pb-c.h"
#include "inventory.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"
#include "shmem.pb-c.h"
#include "stats.pb-c.h"
#include "est/cgroup.pb-c.h"
#include "est/mnt.pb-c.h"

/* Four ASCII letters, readable in a hex dump of the file's first bytes. */
#define IMG_MAGIC(a, b, c, d) \
	((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

#define KiB 1024u
#define MiB (1024u * 1024u)

/* The fd kinds' entry types, declared by name (no header per kind here). */
#define FD_IMG(kind, str, m1, m2, m3, m4, max_entry, type) \
	extern const ProtobufCMessageDescriptor type##__descriptor;
#include "fd-kinds.def"

static const struct img_desc descs[IMG_KIND_MAX] = {
	[IMG_INVENTORY]	    = { "inventory", "inventory.img", IMG_MAGIC('I', 'N', 'V', 'T'),
				64 * KiB, 1, NULL, &inventory_entry__descriptor },
	[IMG_STATS_DUMP]    = { "stats-dump", "stats-dump.img", IMG_MAGIC('S', 'T', 'A', 'D'),
				4 * KiB, 1, NULL, &stats_entry__descriptor },
	[IMG_PSTREE]	    = { "pstree", "pstree.img", IMG_MAGIC('P', 'S', 'T', 'R'),
				1 * MiB, 0, NULL, &pstree_entry__descriptor },
	[IMG_PAGEMAP]	    = { "pagemap", "pagemap-%u.img", IMG_MAGIC('P', 'M', 'A', 'P'),
				1 * KiB, 0, &pagemap_head__descriptor, &pagemap_entry__descriptor },
	[IMG_PAGES]	    = { "pages", "pages-%u.img", 0, 0, 0, NULL, NULL },
	[IMG_CORE]	    = { "core", "core-%u.img", IMG_MAGIC('C', 'O', 'R', 'E'),
				1 * MiB, 0, &task_core_entry__descriptor, &thread_core_entry__descriptor },
	[IMG_MM]	    = { "mm", "mm-%u.img", IMG_MAGIC('M', 'M', 'A', 'P'),
				8 * MiB, 1, NULL, &mm_entry__descriptor },
	[IMG_FDS]	    = { "fds", "fds-%u.img", IMG_MAGIC('F', 'D', 'S', 'T'),
				1 * KiB, 0, NULL, &fd_entry__descriptor },
	[IMG_SHMEM]	    = { "shmem", "shmem.img", IMG_MAGIC('S', 'H', 'M', 'O'),
				8 * KiB, 0, NULL, &shmem_entry__descriptor },
	[IMG_SHMEM_PAGEMAP] = { "shmem-pagemap", "shmem-pagemap-%u.img", IMG_MAGIC('S', 'H', 'M', 'P'),
				64, 0, NULL, &shmem_run__descriptor },
	[IMG_SHMEM_PAGES]   = { "shmem-pages", "shmem-pages-%u.img", 0, 0, 0, NULL, NULL },
	[IMG_NETNS]	    = { "netns", "netns.img", IMG_MAGIC('N', 'E', 'T', 'N'),
				4 * MiB + 64 * KiB, 1, NULL, &netns_entry__descriptor },
	[IMG_MNTS]	    = { "mnts", "mnts.img", IMG_MAGIC('M', 'N', 'T', 'S'),
				24 * KiB, 0, NULL, &est__mnt_entry__descriptor },
	[IMG_TMPFS]	    = { "tmpfs", "tmpfs-%u.tar.gz", 0, 0, 0, NULL, NULL },
	/* the fd kinds' images */
#define FD_IMG(kind, str, m1, m2, m3, m4, max_entry, type) \
	[IMG_##kind] = { str, str ".img", IMG_MAGIC(m1, m2, m3, m4), max_entry, 0, NULL, \
			 &type##__descriptor },
#define FD_RAW(kind, str) \
	[IMG_##kind] = { str, str ".img", 0, 0, 0, NULL, NULL },
#include "fd-kinds.def"
	[IMG_CGROUP]	    = { "cgroup", "cgroup.img", IMG_MAGIC('C', 'G', 'R', 'P'),
				4 * MiB, 1, NULL, &est__cgroup_entry__descriptor },
};

const struct img_desc *img_desc(enum img_kind kind)
{
	if ((unsigned int)kind >= IMG_KIND_MAX)
		return NULL;
	return &descs[kind];
}

/* Does @name read exactly like @fmt with its "%u" replaced by decimal digits? */
static int name_matches(const char *fmt, const char *name)
{
	const char *pct = strstr(fmt, "%u");
	size_t pre, post, len = strlen(name), i;

	if (!pct)
		return !strcmp(fmt, name);
	pre = pct - fmt;
	post = strlen(pct + 2);
	if (len <= pre + post || strncmp(name, fmt, pre) || strcmp(name + len - post, pct + 2))
		return 0;
	for (i = pre; i < len - post; i++)
		if (name[i] < '0' || name[i] > '9')
			return 0;
	return 1;
}

const struct img_desc *img_desc_find(const char *name, uint32_t magic, bool have_magic)
{
	const char *base = name ? strrchr(name, '/') : NULL;
	unsigned int i;

	base = base ? base + 1 : name;
	for (i = 0; i < IMG_KIND_MAX; i++) {
		if (descs[i].magic) {
			if (have_magic && descs[i].magic == magic)
				return &descs[i];
		} else if (base && name_matches(descs[i].fmt, base)) {
			return &descs[i];
		}
	}
	return NULL;
}
