/*
 * criu cpuinfo dump: record this CPU in cpuinfo.img (images dir).
 * criu cpuinfo check: say whether images from that CPU can run here.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "cpu.h"
#include "cpuinfo.pb-c.h"
#include "image.h"
#include "log.h"

static int cpuinfo_dump(int dirfd)
{
	CpuinfoEntry e = CPUINFO_ENTRY__INIT;
	CpuInfoEntry cpu;
	struct cr_img *img;
	int ret = -1;

	if (cpu_info_fill(&cpu))
		return -1;
	e.cpu = &cpu;
	img = img_create(dirfd, IMG_CPUINFO, 0);
	if (img && !img_write_entry(img, &e.base)) {
		ret = img_commit_durable(img);
		img = NULL;
	}
	img_abort(img);
	cpu_info_release(&cpu);
	return ret;
}

static int cpuinfo_check(int dirfd)
{
	ProtobufCMessage *msg;
	CpuinfoEntry *e;
	int ret;

	if (img_read_one(dirfd, IMG_CPUINFO, 0, &msg))
		return -1;
	e = (CpuinfoEntry *)msg;
	ret = cpu_info_check(e->cpu);
	img_free_entry(msg);
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
	dirfd = open(o->images_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		pr_perror("can't open images dir %s", o->images_dir);
		return -1;
	}
	ret = what[0] == 'd' ? cpuinfo_dump(dirfd) : cpuinfo_check(dirfd);
	close(dirfd);
	return ret;
}
