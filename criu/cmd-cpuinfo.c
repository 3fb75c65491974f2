/*
 * criu cpuinfo dump: record this CPU in cpuinfo.img (images dir, in the
 * established format: criu/arch/x86/est-cpuinfo.c).
 * criu cpuinfo check: say whether images from that CPU can run here.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "est-cpuinfo.h"
#include "log.h"

static int cpuinfo_dump(int dirfd)
{
	CpuInfoEntry cpu;
	int ret;

	if (cpu_info_fill(&cpu))
		return -1;
	ret = est_cpuinfo_write(dirfd, &cpu);
	cpu_info_release(&cpu);
	return ret;
}

static int cpuinfo_check(int dirfd)
{
	CpuInfoEntry cpu;
	int ret = est_cpuinfo_read(dirfd, &cpu);

	if (ret) {
		if (ret > 0)
			pr_err("no cpuinfo.img in the images dir");
		return -1;
	}
	ret = cpu_info_check(&cpu);
	cpu_info_release(&cpu);
	if (!ret)
		pr_msg("CPU is compatible.\n");
	return ret;
}

int cmd_cpuinfo(struct cr_options *o)
{
	const char *what = o->args.v[1];
	int dirfd, ret;

	if (strcmp(what, "dump") && strcmp(what, "check")) {
		pr_err("cpuinfo takes 'dump' or 'check', not '%s'", what);
		return -1;
	}
	dirfd = open(o->images_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		pr_perror("can't open images dir %s", o->images_dir);
		return -1;
	}
	ret = what[0] == 'd' ? cpuinfo_dump(dirfd) : cpuinfo_check(dirfd);
	close(dirfd);
	return ret;
}
