/*
 * Mappings with a VMA flag or attribute the images cannot carry yet: the
 * dump must refuse, naming it, and leave the task running. One mode per
 * run: "seal" (mseal, sl), "uffd" (registered with userfaultfd, um).
 * (Protection keys are refused too, but this machine's CPU has none:
 * test-proc-parse covers the parse.)
 */
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "e2e.h"

#define PAGE	4096
#ifndef SYS_mseal
# define SYS_mseal		462	/* 6.10 */
#endif

static void uffd_register(char *p)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { (unsigned long)p, 2 * PAGE }, .mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);

	if (fd < 0 || ioctl(fd, UFFDIO_API, &api) || ioctl(fd, UFFDIO_REGISTER, &reg))
		e2e_fail("userfaultfd: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	char *args[] = { argv[0], argv[argc - 1], NULL };	/* the result file comes last */
	const char *mode = argc > 2 ? argv[1] : "";
	char *p;
	int r = 0;

	e2e_init(2, args);
	p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		e2e_fail("mmap: %s", strerror(errno));
	p[0] = 1;
	if (!strcmp(mode, "seal")) {
		r = (int)syscall(SYS_mseal, p, 2 * PAGE, 0);
	} else if (!strcmp(mode, "uffd")) {
		uffd_register(p);
	} else {
		e2e_fail("unknown mode '%s'", mode);
	}
	if (r)
		e2e_fail("%s: %s", mode, strerror(errno));

	e2e_ready();
	e2e_wait_stop();

	if (p[0] != 1)
		e2e_fail("memory changed under a refused dump");
	e2e_pass();
}
