/* x86 CPU identification with CPUID and XGETBV, and the compatibility rule. */
#include <cpuid.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LOG_PREFIX "cpu: "
#include "cpu.h"
#include "log.h"

/* The feature words, in the order cpu_info_entry.cpuid_words stores them. */
enum {
	W_1_ECX, W_1_EDX, W_7_EBX, W_7_ECX, W_7_EDX, W_81_ECX, W_81_EDX, NR_WORDS,
};

static const char *const word_names[NR_WORDS] = {
	"cpuid(1).ecx", "cpuid(1).edx", "cpuid(7).ebx", "cpuid(7).ecx",
	"cpuid(7).edx", "cpuid(0x80000001).ecx", "cpuid(0x80000001).edx",
};

/* Bits that describe the machine rather than what code may use. */
static const uint32_t ignored_bits[NR_WORDS] = {
	[W_1_ECX] = 1u << 31,		/* running under a hypervisor */
};

/* Names for the features programs most often select code paths on. */
static const struct { uint8_t word, bit; const char *name; } known[] = {
	{ W_1_EDX, 25, "sse" }, { W_1_EDX, 26, "sse2" }, { W_1_ECX, 0, "sse3" },
	{ W_1_ECX, 9, "ssse3" }, { W_1_ECX, 12, "fma" }, { W_1_ECX, 19, "sse4_1" },
	{ W_1_ECX, 20, "sse4_2" }, { W_1_ECX, 22, "movbe" }, { W_1_ECX, 23, "popcnt" },
	{ W_1_ECX, 25, "aes" }, { W_1_ECX, 26, "xsave" }, { W_1_ECX, 28, "avx" },
	{ W_1_ECX, 29, "f16c" }, { W_1_ECX, 30, "rdrand" }, { W_7_EBX, 3, "bmi1" },
	{ W_7_EBX, 5, "avx2" }, { W_7_EBX, 8, "bmi2" }, { W_7_EBX, 9, "erms" },
	{ W_7_EBX, 16, "avx512f" }, { W_7_EBX, 17, "avx512dq" }, { W_7_EBX, 18, "rdseed" },
	{ W_7_EBX, 19, "adx" }, { W_7_EBX, 29, "sha_ni" }, { W_7_EBX, 30, "avx512bw" },
	{ W_7_EBX, 31, "avx512vl" }, { W_7_ECX, 1, "avx512vbmi" }, { W_7_ECX, 8, "gfni" },
	{ W_7_ECX, 9, "vaes" }, { W_7_ECX, 10, "vpclmulqdq" }, { W_7_EDX, 4, "fsrm" },
	{ W_81_ECX, 5, "abm" }, { W_81_EDX, 27, "rdtscp" },
};

static const char *feature_name(unsigned int word, unsigned int bit)
{
	unsigned int i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (known[i].word == word && known[i].bit == bit)
			return known[i].name;
	return NULL;
}

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (uint64_t)hi << 32 | lo;
}

static void read_words(uint32_t *w, uint32_t max_leaf, uint32_t max_ext)
{
	uint32_t a, b, c, d;

	__cpuid(1, a, b, w[W_1_ECX], w[W_1_EDX]);
	if (max_leaf >= 7)
		__cpuid_count(7, 0, a, w[W_7_EBX], w[W_7_ECX], w[W_7_EDX]);
	if (max_ext >= 0x80000001)
		__cpuid(0x80000001, a, b, w[W_81_ECX], w[W_81_EDX]);
	(void)c;
	(void)d;
}

int cpu_info_fill(CpuInfoEntry *c)
{
	uint32_t max_leaf, max_ext, a, b, cx, d, *words;
	char vendor[13];

	cpu_info_entry__init(c);
	__cpuid(0, max_leaf, b, cx, d);
	memcpy(vendor, &b, 4);
	memcpy(vendor + 4, &d, 4);
	memcpy(vendor + 8, &cx, 4);
	vendor[12] = '\0';
	__cpuid(0x80000000, max_ext, b, cx, d);

	words = calloc(NR_WORDS, sizeof(*words));
	c->vendor = strdup(vendor);
	if (!words || !c->vendor) {
		free(words);
		free(c->vendor);
		c->vendor = NULL;
		pr_err("out of memory");
		return -1;
	}
	read_words(words, max_leaf, max_ext);
	c->cpuid_words = words;
	c->n_cpuid_words = NR_WORDS;

	__cpuid(1, a, b, cx, d);
	c->stepping = a & 0xf;
	c->model = (a >> 4) & 0xf;
	c->family = (a >> 8) & 0xf;
	if (c->family == 0xf)
		c->family += (a >> 20) & 0xff;
	if (c->family == 0x6 || c->family >= 0xf)
		c->model |= ((a >> 16) & 0xf) << 4;

	if (words[W_1_ECX] & (1u << 27)) {	/* OSXSAVE: XGETBV is usable */
		c->xfeatures_mask = xgetbv0();
		__cpuid_count(0xd, 0, a, b, cx, d);
		c->xsave_size = b;		/* for the components enabled in XCR0 */
	}
	pr_debug("%s family %u model %u stepping %u, xfeatures %#llx, xsave %u bytes",
		 c->vendor, c->family, c->model, c->stepping,
		 (unsigned long long)c->xfeatures_mask, c->xsave_size);
	return 0;
}

void cpu_info_release(CpuInfoEntry *c)
{
	free(c->vendor);
	free(c->cpuid_words);
	c->vendor = NULL;
	c->cpuid_words = NULL;
	c->n_cpuid_words = 0;
}

static int compare_words(const CpuInfoEntry *saved, const CpuInfoEntry *host)
{
	unsigned int w, bit;
	int ret = 0;

	for (w = 0; w < saved->n_cpuid_words && w < NR_WORDS; w++) {
		uint32_t have = w < host->n_cpuid_words ? host->cpuid_words[w] : 0;
		uint32_t missing = saved->cpuid_words[w] & ~have & ~ignored_bits[w];

		for (bit = 0; bit < 32; bit++) {
			const char *name = feature_name(w, bit);

			if (!(missing & (1u << bit)))
				continue;
			if (name)
				pr_err("CPU feature %s (%s bit %u) is used by the images but missing here",
				       name, word_names[w], bit);
			else
				pr_err("CPU feature %s bit %u is used by the images but missing here",
				       word_names[w], bit);
			ret = -1;
		}
	}
	return ret;
}

int cpu_info_compatible(const CpuInfoEntry *saved, const CpuInfoEntry *host)
{
	uint64_t missing_x = saved->xfeatures_mask & ~host->xfeatures_mask;
	int ret = 0;

	if (saved->n_cpuid_words > NR_WORDS)
		pr_warn("images describe %zu CPUID words, this criu knows %d",
			saved->n_cpuid_words, NR_WORDS);
	if (strcmp(saved->vendor, host->vendor))
		pr_warn("images come from a %s CPU, this one is %s", saved->vendor, host->vendor);
	if (compare_words(saved, host))
		ret = -1;
	if (missing_x) {
		pr_err("xsave state components %#llx are used by the images but not enabled here",
		       (unsigned long long)missing_x);
		ret = -1;
	}
	if (saved->xsave_size > host->xsave_size) {
		pr_err("the images' xsave area (%u bytes) does not fit this CPU's (%u bytes)",
		       saved->xsave_size, host->xsave_size);
		ret = -1;
	}
	return ret;
}

int cpu_info_check(const CpuInfoEntry *saved)
{
	CpuInfoEntry host;
	int ret;

	if (cpu_info_fill(&host))
		return -1;
	ret = cpu_info_compatible(saved, &host);
	cpu_info_release(&host);
	return ret;
}
