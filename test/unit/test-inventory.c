/* Inventory and CPU compatibility: what a restore checks about the host. */
#include <cpuid.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpu.h"
#include "image.h"
#include "inventory.h"
#include "log.h"
#include "unit.h"

static int test_fill_describes_this_cpu(void)
{
	uint32_t a, b, c, d;
	CpuInfoEntry cpu;

	CHECK(cpu_info_fill(&cpu) == 0);
	__cpuid(0, a, b, c, d);
	CHECK(!memcmp(cpu.vendor, &b, 4));
	CHECK(cpu.n_cpuid_words == 7);
	__cpuid(1, a, b, c, d);
	CHECK(cpu.cpuid_words[1] == d);		/* leaf 1 edx */
	CHECK(cpu.cpuid_words[1] & (1u << 26));	/* x86_64 implies sse2 */
	if (c & (1u << 27)) {
		CHECK(cpu.xfeatures_mask & 3);	/* x87 and SSE state always on */
		CHECK(cpu.xsave_size >= 576);	/* legacy area + header */
	}
	CHECK(cpu_info_compatible(&cpu, &cpu) == 0);
	CHECK(cpu_info_check(&cpu) == 0);
	cpu_info_release(&cpu);
	return 0;
}

/* Start from this CPU, change one thing in "saved", compare against this CPU. */
static int verdict_with(void (*tweak)(CpuInfoEntry *))
{
	CpuInfoEntry host, saved;
	int ret;

	if (cpu_info_fill(&host) || cpu_info_fill(&saved))
		return 99;
	tweak(&saved);
	ret = cpu_info_compatible(&saved, &host);
	cpu_info_release(&host);
	cpu_info_release(&saved);
	return ret;
}

static void add_unknown_feature(CpuInfoEntry *c)
{
	unsigned int bit;

	/* a leaf 7 ebx bit this CPU does not have (bit 1 is reserved, always 0 here) */
	for (bit = 1; bit < 32 && (c->cpuid_words[2] & (1u << bit)); bit++)
		;
	c->cpuid_words[2] |= 1u << bit;
}
static void add_hypervisor_bit(CpuInfoEntry *c) { c->cpuid_words[0] ^= 1u << 31; }
static void add_xstate(CpuInfoEntry *c) { c->xfeatures_mask |= 1ull << 62; }
static void grow_xsave(CpuInfoEntry *c) { c->xsave_size += 64; }
static void drop_features(CpuInfoEntry *c) { memset(c->cpuid_words, 0, 7 * 4); c->xsave_size = 0; }
static void other_vendor(CpuInfoEntry *c) { free(c->vendor); c->vendor = strdup("OtherVendor!"); }

static int test_compatibility_rules(void)
{
	CHECK(verdict_with(add_unknown_feature) == -1);
	CHECK(verdict_with(add_xstate) == -1);
	CHECK(verdict_with(grow_xsave) == -1);
	CHECK(verdict_with(add_hypervisor_bit) == 0);	/* machine fact, not a feature */
	CHECK(verdict_with(drop_features) == 0);	/* a subset is always fine */
	CHECK(verdict_with(other_vendor) == 0);		/* warned, not refused */
	return 0;
}

static int test_inventory_check(void)
{
	InventoryEntry inv;
	char *saved;

	CHECK(inventory_fill(&inv) == 0);
	CHECK(inv.img_version == IMG_FORMAT_VERSION);
	CHECK_STR(inv.tool_version, CRIU_VERSION);
	CHECK(inv.page_size == (uint32_t)sysconf(_SC_PAGESIZE));
	CHECK(inventory_check(&inv) == 0);

	inv.img_version++;
	CHECK(inventory_check(&inv) == -1);
	inv.img_version--;
	inv.page_size *= 16;
	CHECK(inventory_check(&inv) == -1);
	inv.page_size /= 16;
	saved = inv.arch;
	inv.arch = "s390x";
	CHECK(inventory_check(&inv) == -1);
	inv.arch = saved;
	saved = inv.kernel_release;
	inv.kernel_release = "1.0.0";		/* another kernel: fine */
	CHECK(inventory_check(&inv) == 0);
	inv.kernel_release = saved;
	inv.cpu->xfeatures_mask |= 1ull << 62;
	CHECK(inventory_check(&inv) == -1);
	inventory_release(&inv);
	return 0;
}

static int test_inventory_image_round_trip(void)
{
	char dir[] = "/tmp/criu-test-inv-XXXXXX";
	ProtobufCMessage *msg = NULL;
	InventoryEntry inv, *back;
	struct cr_img *img;
	struct stat st;
	int dfd, ok;

	CHECK(mkdtemp(dir));
	dfd = open(dir, O_PATH | O_DIRECTORY);
	CHECK(dfd >= 0);
	CHECK(inventory_fill(&inv) == 0);
	inv.has_root_pid = true;
	inv.root_pid = 4242;
	img = img_create(dfd, IMG_INVENTORY, 0);
	CHECK(img && img_write_entry(img, &inv.base) == 0 && img_commit(img) == 0);
	CHECK(fstatat(dfd, "inventory.img", &st, 0) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(img_read_one(dfd, IMG_INVENTORY, 0, &msg) == 0);
	back = (InventoryEntry *)msg;
	ok = back->root_pid == 4242 && !strcmp(back->arch, inv.arch) &&
	     back->cpu && back->cpu->n_cpuid_words == inv.cpu->n_cpuid_words &&
	     back->cpu->xfeatures_mask == inv.cpu->xfeatures_mask &&
	     inventory_check(back) == 0;
	img_free_entry(msg);
	inventory_release(&inv);
	unlinkat(dfd, "inventory.img", 0);
	close(dfd);
	rmdir(dir);
	CHECK(ok);
	return 0;
}

static const struct unit_case cases[] = {
	{ "cpu_info_fill describes this CPU", test_fill_describes_this_cpu },
	{ "CPU compatibility rules", test_compatibility_rules },
	{ "inventory_check refuses foreign images", test_inventory_check },
	{ "inventory image round trip", test_inventory_image_round_trip },
};

int main(int argc, char **argv)
{
	(void)argc;
	log_init(NULL, NULL, LOG_NONE);
	return unit_run(argv[0], cases, ARRAY_SIZE(cases));
}
