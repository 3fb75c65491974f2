/*
 * glibc's rseq registration comes back at the same address with the same
 * signature (registering again gets EBUSY, which the kernel only answers
 * for an identical registration), and the kernel keeps cpu_id current.
 */
#include <sched.h>
#include <sys/rseq.h>
#include <sys/syscall.h>

#include "e2e.h"

#define RSEQ_SIG_X86	0x53053053

int main(int argc, char **argv)
{
	struct rseq *rs;
	long ret;

	e2e_init(argc, argv);
	if (__rseq_size == 0)
		e2e_fail("glibc did not register rseq (GLIBC_TUNABLES?)");
	rs = (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
	if ((int)rs->cpu_id < 0)
		e2e_fail("rseq cpu_id %d before the checkpoint", (int)rs->cpu_id);
	e2e_ready();
	e2e_wait_stop();

	/* glibc registers the whole struct even where __rseq_size says less */
	ret = syscall(SYS_rseq, rs, sizeof(struct rseq), 0, RSEQ_SIG_X86);
	if (ret != -1 || errno != EBUSY)
		e2e_fail("re-registering said %ld/%s: not the same registration", ret, strerror(errno));
	sched_yield();
	if ((int)rs->cpu_id < 0 || (int)rs->cpu_id != sched_getcpu())
		e2e_fail("rseq cpu_id %d, running on %d", (int)rs->cpu_id, sched_getcpu());
	e2e_pass();
}
