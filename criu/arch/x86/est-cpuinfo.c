/*
 * cpuinfo.img of the established format <-> our CpuInfoEntry (the CPU a dump
 * was made on, which a restore checks). The format keeps the CPUID feature
 * words in the kernel's capability-word order of its version 2 (19 words);
 * ours keeps seven words in our own order: the table below pairs them.
 * Written by every dump (into its scratch dir) and by `criu cpuinfo dump`;
 * read back by the
 * importer and by `criu cpuinfo check`. The format has one xsave size per
 * entry kind: ours is the size for the components enabled in XCR0, the
 * format's xsave_size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define LOG_PREFIX "cpuinfo: "
#include "est-cpuinfo.h"
#include "est-image.h"
#include "log.h"

#include "est/cpuinfo.pb-c.h"

#define CAP_VERSION	2
#define CAP_WORDS	19
#define CPUINFO_MAX	(64u << 10)

/* our word i is the format's capability[cap_word[i]] */
static const unsigned int cap_word[] = {
	4,	/* CPUID 1 ECX */
	0,	/* CPUID 1 EDX */
	9,	/* CPUID 7.0 EBX */
	11,	/* CPUID 7.0 ECX */
	18,	/* CPUID 7.0 EDX */
	6,	/* CPUID 0x80000001 ECX */
	1,	/* CPUID 0x80000001 EDX */
};
#define OUR_WORDS	(sizeof(cap_word) / sizeof(cap_word[0]))

static const struct { const char *name; Est__CpuinfoX86Entry__Vendor id; } vendors[] = {
	{ "GenuineIntel", EST__CPUINFO_X86_ENTRY__VENDOR__INTEL },
	{ "AuthenticAMD", EST__CPUINFO_X86_ENTRY__VENDOR__AMD },
};

int est_cpuinfo_write(int dirfd, const CpuInfoEntry *c)
{
	Est__CpuinfoEntry e = EST__CPUINFO_ENTRY__INIT;
	Est__CpuinfoX86Entry x = EST__CPUINFO_X86_ENTRY__INIT, *xp = &x;
	uint32_t caps[CAP_WORDS] = { 0 };
	size_t i;

	for (i = 0; i < sizeof(vendors) / sizeof(vendors[0]); i++)
		if (!strcmp(c->vendor, vendors[i].name))
			x.vendor_id = vendors[i].id;
	x.cpu_family = c->family;
	x.model = c->model;
	x.stepping = c->stepping;
	x.capability_ver = CAP_VERSION;
	for (i = 0; i < OUR_WORDS && i < c->n_cpuid_words; i++)
		caps[cap_word[i]] = c->cpuid_words[i];
	x.n_capability = CAP_WORDS;
	x.capability = caps;
	x.has_xfeatures_mask = x.has_xsave_size = true;
	x.xfeatures_mask = c->xfeatures_mask;
	x.xsave_size = c->xsave_size;
	e.n_x86_entry = 1;
	e.x86_entry = &xp;
	return est_write_one(dirfd, "cpuinfo.img", &e.base);
}

static int fill(CpuInfoEntry *c, const Est__CpuinfoX86Entry *x)
{
	size_t i;

	if (x->capability_ver != CAP_VERSION || x->n_capability != CAP_WORDS) {
		pr_err("cpuinfo.img: capability words of version %u (%zu words): not supported yet",
		       x->capability_ver, x->n_capability);
		return -1;
	}
	c->vendor = strdup("unknown");
	for (i = 0; i < sizeof(vendors) / sizeof(vendors[0]); i++)
		if (x->vendor_id == vendors[i].id) {
			free(c->vendor);
			c->vendor = strdup(vendors[i].name);
		}
	c->cpuid_words = calloc(OUR_WORDS, sizeof(*c->cpuid_words));
	if (!c->vendor || !c->cpuid_words) {
		pr_err("out of memory");
		return -1;
	}
	c->n_cpuid_words = OUR_WORDS;
	for (i = 0; i < OUR_WORDS; i++)
		c->cpuid_words[i] = x->capability[cap_word[i]];
	c->family = x->cpu_family;
	c->model = x->model;
	c->stepping = x->stepping;
	c->xfeatures_mask = x->has_xfeatures_mask ? x->xfeatures_mask : 3;
	c->xsave_size = x->has_xsave_size ? x->xsave_size : 0;
	return 0;
}

int est_cpuinfo_read(int dirfd, CpuInfoEntry *c)
{
	uint8_t *buf = NULL;
	struct est_parser p;
	struct est_entry e = { 0 };
	struct stat st;
	int fd, ret = -1;

	cpu_info_entry__init(c);
	fd = openat(dirfd, "cpuinfo.img", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		pr_perror("cannot open cpuinfo.img");
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > CPUINFO_MAX ||
	    !(buf = malloc(st.st_size ? st.st_size : 1)) ||
	    read(fd, buf, st.st_size) != st.st_size) {
		pr_err("cpuinfo.img: not a readable file of at most %u bytes", CPUINFO_MAX);
		goto out;
	}
	if (est_parse_init(&p, est_kind_by_name("cpuinfo.img"), buf, st.st_size, "cpuinfo.img") ||
	    est_parse_next(&p, &e) <= 0)
		goto out;
	if (((Est__CpuinfoEntry *)e.msg)->n_x86_entry != 1) {
		pr_err("cpuinfo.img: %zu x86 entries, not one",
		       ((Est__CpuinfoEntry *)e.msg)->n_x86_entry);
		goto out;
	}
	ret = fill(c, ((Est__CpuinfoEntry *)e.msg)->x86_entry[0]);
out:
	if (e.msg)
		est_entry_release(&e);
	if (ret < 0)
		cpu_info_release(c);
	free(buf);
	close(fd);
	return ret;
}
