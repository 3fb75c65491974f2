/* The inventory image: see include/inventory.h. */
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define LOG_PREFIX "inventory: "
#include "cpu.h"
#include "image.h"
#include "inventory.h"
#include "log.h"

int inventory_fill(InventoryEntry *inv)
{
	struct utsname u;
	struct timespec now;

	inventory_entry__init(inv);
	if (uname(&u)) {
		pr_perror("uname");
		return -1;
	}
	inv->img_version = IMG_FORMAT_VERSION;
	inv->tool_version = strdup(CRIU_VERSION);
	inv->kernel_release = strdup(u.release);
	inv->arch = strdup(u.machine);
	inv->page_size = sysconf(_SC_PAGESIZE);
	inv->cpu = calloc(1, sizeof(*inv->cpu));
	if (!inv->tool_version || !inv->kernel_release || !inv->arch || !inv->cpu) {
		pr_err("out of memory");
		goto err;
	}
	if (cpu_info_fill(inv->cpu))
		goto err;
	clock_gettime(CLOCK_REALTIME, &now);
	inv->has_dump_time_ns = true;
	inv->dump_time_ns = (uint64_t)now.tv_sec * 1000000000ull + now.tv_nsec;
	return 0;
err:
	inventory_release(inv);
	return -1;
}

void inventory_release(InventoryEntry *inv)
{
	free(inv->tool_version);
	free(inv->kernel_release);
	free(inv->arch);
	if (inv->cpu) {
		cpu_info_release(inv->cpu);
		free(inv->cpu);
	}
	inventory_entry__init(inv);
}

int inventory_check(const InventoryEntry *inv)
{
	struct utsname u;
	int ret = 0;

	if (inv->img_version != IMG_FORMAT_VERSION) {
		pr_err("images are format version %u, this criu reads version %u",
		       inv->img_version, IMG_FORMAT_VERSION);
		return -1;
	}
	if (uname(&u)) {
		pr_perror("uname");
		return -1;
	}
	if (strcmp(inv->arch, u.machine)) {
		pr_err("images are for %s, this machine is %s", inv->arch, u.machine);
		ret = -1;
	}
	if (inv->page_size != (uint32_t)sysconf(_SC_PAGESIZE)) {
		pr_err("images use %u-byte pages, this kernel %ld", inv->page_size,
		       sysconf(_SC_PAGESIZE));
		ret = -1;
	}
	if (strcmp(inv->kernel_release, u.release))
		pr_info("images come from kernel %s, this is %s", inv->kernel_release, u.release);
	if (inv->cpu && cpu_info_check(inv->cpu))
		ret = -1;
	return ret;
}
