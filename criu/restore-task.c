/*
 * Restore, step 3: runs in the new task (a fork of criu with the dumped
 * pid) and turns it into the dumped process, up to the jump into the
 * restorer blob, which finishes the job (criu/pie/restorer.c).
 * rst_task_main() is the order of the steps; each object's own steps are
 * in its file (criu/include/restore-task.h has the map).
 *
 * Nothing here logs through criu's log: the task's descriptors are being
 * replaced. Messages go to the status pipe as lines: "E<text>" (fatal,
 * the task exits), "W<text>" (warning); the restorer ends with "R" when
 * the task is about to resume. The parent logs them.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/syscall.h>

#include "arch.h"
#include "compiler.h"
#include "proc_parse.h"
#include "cgroup.h"
#include "restore-task.h"
#include "seccomp-rst.h"
#include "vma.h"
#include "restorer-args.h"
#include "restorer-blob.h"

static int status_fd = -1;
/* This task's files while it forks its children: what they inherit. */
static const struct rst_files *inherited_files;

/* What the steps of one task share. */
struct task {
	struct rst_tree		*tr;
	size_t			idx;
	const struct cr_options	*o;
	int			go_fd;
	struct rst_image	*ri;
	struct rst_files	files, *f;
	struct proc_vmas	self;		/* criu's layout, as this task has it */
	struct rst_range	keep[RST_MAX_SPECIAL + 2];	/* criu's memory that stays */
	size_t			nr_keep;
	struct rst_staging	st;
	unsigned char		*region;	/* the restorer region: st.start */
	struct restorer_args	*a;
	struct rst_helpers	h;
};

/* ---- the status pipe ------------------------------------------------------ */

static void say(char kind, const char *fmt, va_list ap)
{
	char buf[512];
	int n;

	int p;

	buf[0] = kind;
	p = snprintf(buf + 1, 32, "%d: ", getpid());
	n = p + vsnprintf(buf + 1 + p, sizeof(buf) - 2 - (size_t)p, fmt, ap);
	if (n < 0)
		n = 0;
	if (n > (int)sizeof(buf) - 3)
		n = (int)sizeof(buf) - 3;
	buf[n + 1] = '\n';
	if (write(status_fd, buf, (size_t)n + 2) < 0)
		return;	/* the parent is gone: nothing to tell */
}

__printf(1, 2) __noreturn void rst_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say('E', fmt, ap);
	va_end(ap);
	_exit(1);
}

__printf(1, 2) void rst_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say('W', fmt, ap);
	va_end(ap);
}

int rst_status_fd(void)
{
	return status_fd;
}

void rst_set_status_fd(int fd)
{
	status_fd = fd;
}

/*
 * CRIU_FAULT=restore-last-task: the last process of pstree.img fails, while
 * the others are at any point of their restore (tests the undo).
 */
static void fault_point(const struct rst_tree *tr, size_t idx, const struct cr_options *o)
{
	const char *f = o->fault;

	if (f && !strcmp(f, "restore-last-task") && idx == tr->nr - 1)
		rst_die("fault injected at restore-last-task");
}

/* ---- x86: the restorer's exit and the jump -------------------------------- */

/* The vma holding @addr (vmas are validated ascending, not overlapping): binary search,
 * as it runs once per thread. */
static const VmaEntry *vma_at(const struct rst_image *ri, uint64_t addr, size_t *idx)
{
	long i = vma_find(ri->mm, addr);

	if (i < 0)
		return NULL;
	*idx = (size_t)i;
	return ri->mm->vmas[i];
}

/*
 * Plan the restorer's exit without leftovers (see restorer-args.h): a
 * "syscall; ret" in the vdso, the task's own rt_sigreturn trampoline (from
 * a saved SA_RESTORER, checked byte for byte in the staged memory, else the
 * same instruction bytes found in the task's executable memory) and room
 * on the task's stack below sp and its red zone for two frames and the
 * xsave image, where a signal delivery would have put them anyway.
 * Anything missing: the region stays (the restore is still correct).
 */
static void plan_clean_exit(const struct rst_image *ri, const struct rst_staging *st,
			    const struct proc_vmas *self, struct restorer_args *a,
			    struct rst_thread *threads)
{
	const struct proc_vma *vd = rst_self_special(self, PROC_VMA_VDSO);
	uint64_t gadget = 0, tramp = 0;
	const VmaEntry *v;
	size_t i, k;

	for (i = 0; i < ri->mm->n_vmas && vd; i++)
		if (ri->mm->vmas[i]->kind == VMA_KIND__VMA_VDSO)
			for (k = 0; k + 2 <= vd->end - vd->start && !gadget; k++)
				if (arch_syscall_ret_at((const unsigned char *)(unsigned long)vd->start + k,
						       vd->end - vd->start - k))
					gadget = ri->mm->vmas[i]->start + k;
	for (i = 0; i < ri->core->n_sigactions && gadget && !tramp; i++) {
		const SigactionEntry *s = ri->core->sigactions[i];
		const unsigned char *code;

		if (!(s->flags & 0x04000000 /* SA_RESTORER */) || !s->restorer)
			continue;
		v = vma_at(ri, s->restorer, &k);
		/* the staged copy is readable only where the vma is (or has pages) */
		if (!v || !st->tmp[k] || (v->prot & (PROT_EXEC | PROT_READ)) != (PROT_EXEC | PROT_READ))
			continue;
		code = (const unsigned char *)(unsigned long)(st->tmp[k] + (s->restorer - v->start));
		if (arch_sigreturn_at(code, v->end - s->restorer))
			tramp = s->restorer;
	}
	/* No handler names one: glibc's trampoline is in libc's code anyway. */
	for (i = 0; i < ri->mm->n_vmas && gadget && !tramp; i++) {
		const unsigned char *code = (const unsigned char *)(unsigned long)st->tmp[i], *hit;
		size_t len = ri->mm->vmas[i]->end - ri->mm->vmas[i]->start;

		v = ri->mm->vmas[i];
		if (!code || (v->prot & (PROT_EXEC | PROT_READ)) != (PROT_EXEC | PROT_READ))
			continue;
		hit = arch_find_sigreturn(code, len);
		if (hit)
			tramp = v->start + (uint64_t)(hit - code);
	}
	if (!gadget || !tramp) {
		rst_warn("the restorer region stays mapped in the task (%s)",
		     !gadget ? "no syscall;ret in the vdso" : "no rt_sigreturn trampoline in the task's code");
		return;
	}
	for (i = 0; i < a->nr_threads; i++) {
		struct rst_thread *t = &threads[i];
		uint64_t sp = t->regs.sp, xs, f2, f1;

		v = vma_at(ri, sp - 1, &k);
		if (!v || !st->tmp[k] || !(v->prot & PROT_WRITE) || sp < 4096 ||
		    arch_final_frames(sp, a->fpu_size, &xs, &f2, &f1) || f1 < v->start + RST_PAGE) {
			rst_warn("the restorer region stays mapped in the task (no room on the stack of thread %u)",
			     t->tid);
			return;
		}
		t->final_fpu = xs;
		t->final_frame = f2;
		t->first_frame = f1;
	}
	a->final_gadget = gadget;
	a->final_trampoline = tramp;
	a->region_start = st->start;
	a->region_len = st->region_len;
}

/* ---- the restorer blob ------------------------------------------------------ */

static size_t find_entry(void)
{
	size_t i, found = 0, n = 0;

	for (i = 0; i + RESTORER_ENTRY_MARK_LEN <= restorer_blob.code_size; i++)
		if (!memcmp(restorer_blob.code + i, RESTORER_ENTRY_MARK, RESTORER_ENTRY_MARK_LEN)) {
			found = i + RESTORER_ENTRY_MARK_LEN;
			n++;
		}
	if (n != 1)
		rst_die("restorer blob: entry marker found %zu times", n);
	return found;
}

/* The blob's code into the restorer region at @at, relocated. */
static void load_blob(unsigned char *region, const struct rst_staging *st)
{
	size_t i;

	if (mprotect(region, st->region_len, PROT_READ | PROT_WRITE | PROT_EXEC))
		rst_die("mprotect of the restorer region: %s", strerror(errno));
	memcpy(region, restorer_blob.code, restorer_blob.code_size);
	memset(region + restorer_blob.code_size, 0, restorer_blob.mem_size - restorer_blob.code_size);
	for (i = 0; i < restorer_blob.nr_relocs; i++) {
		uint64_t w;

		if (restorer_blob.relocs[i] + 8 > restorer_blob.code_size)
			rst_die("restorer blob: relocation out of the code");
		memcpy(&w, region + restorer_blob.relocs[i], 8);
		w += st->start;
		memcpy(region + restorer_blob.relocs[i], &w, 8);
	}
}

/* glibc registered rseq for criu's thread; the kernel must forget it before
 * that memory goes away (the restorer registers the task's own). */
static void drop_own_rseq(void)
{
	void *area;
	unsigned int lens[2] = { 32, __rseq_size }, i;

	if (!__rseq_size)
		return;
	area = (char *)__builtin_thread_pointer() + __rseq_offset;
	for (i = 0; i < 2; i++)
		if (!syscall(SYS_rseq, area, lens[i], 1 /* RSEQ_FLAG_UNREGISTER */, RSEQ_SIG))
			return;
	rst_die("cannot unregister criu's rseq area: %s", strerror(errno));
}

/*
 * The root's parent death signal was for its parent outside the tree. criu
 * stands in for that parent while it waits for the root (attached), but a
 * detached restore's exit is no parent's death: the root then sets the
 * signal only once criu has gone, and criu does not wait for it to leave
 * the restorer.
 */
bool rst_root_pdeath_deferred(const struct rst_tree *tr, const struct cr_options *o)
{
	const TaskCoreEntry *c = tr->ri[0].core;

	return o->restore_detached && !tr->ri[0].zombie && c->has_pdeath_sig && c->pdeath_sig;
}

/* ---- the steps ------------------------------------------------------------ */

/*
 * Right after the fork: every signal blocked, the pid checked, adopted by
 * the dumped parent (a first member of a session whose leader had exited),
 * PDEATHSIG armed while that parent is alive.
 */
static void task_start(struct task *t, int sfd)
{
	/* the root of a pid namespace of its own sees no parent (criu is outside) */
	pid_t parent = t->idx ? (pid_t)t->ri->pstree->ppid : t->tr->pidns ? 0 : t->tr->criu_pid;
	sigset_t all;

	status_fd = sfd;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	if (getpid() != t->ri->pid)
		rst_die("got pid %d instead of %d", getpid(), t->ri->pid);
	if (t->tr->sess_helper[t->idx])
		rst_wait_adopted(t->tr->sess_helper[t->idx]);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0))
		rst_die("PR_SET_PDEATHSIG: %s", strerror(errno));
	if (getppid() != parent)
		_exit(1);	/* the parent died before PDEATHSIG was armed: all is being undone */
	/* its groups before it forks or opens anything (what it makes is charged there) */
	if (rst_cgroup_enter(t->ri->core->has_cg_set ? t->ri->core->cg_set : 0))
		rst_die("cannot enter the cgroups of %d (see the log)", t->ri->pid);
}

/* Its files (a process sharing its parent's table: the parent opened them), its children's. */
static void open_files(struct task *t)
{
	t->f = &t->files;
	if (t->tr->sharer[t->idx])
		t->f = &t->tr->sharer_files[t->idx];	/* opened by the parent */
	else if (rst_files_open(t->ri, t->o, t->f, t->idx ? inherited_files : NULL,
				t->tr->opener, t->idx) ||
		 rst_shmem_vma_fds(&t->tr->shm, t->ri->mm, t->f->vma_fd))
		rst_die("cannot open the files of %d (see the log)", t->ri->pid);
	rst_open_sharer_files(t->tr, t->idx, t->o);
	rst_take_ctty(t->tr, t->idx, t->ri, t->f);
}

/* Memory: reserve, load the restorer, stage, fill. */
static void stage(struct task *t)
{
	if (proc_read_maps(rst_proc_pid(), &t->self))
		rst_die("cannot read our own maps");
	t->a = calloc(1, sizeof(*t->a));	/* planned here, copied into the region below */
	if (!t->a)
		rst_die("out of memory");
	t->region = rst_mem_reserve(t->tr, t->ri, &t->self, t->a, t->keep, &t->nr_keep, &t->st);
	load_blob(t->region, &t->st);
	rst_mem_stage(t->tr, t->idx, t->f, &t->st);
	t->keep[t->nr_keep++] = (struct rst_range){ t->st.start, t->st.start + t->st.len };
}

/*
 * The children, after the staging (they take over what they share with
 * this task's staged memory, Documentation/cow.md), before anything of this
 * task's own state that they would inherit; then its final group.
 */
static void children(struct task *t)
{
	inherited_files = t->f;
	rst_fork_children(t->tr, t->idx, t->o, t->go_fd);
	rst_join_group(t->tr, t->idx);
	rst_take_fg(t->tr, t->idx, t->ri, t->f);
}

/* The restorer's arguments, in the region: each object fills its part. */
static void fill_args(struct task *t)
{
	const struct rst_image *ri = t->ri;
	struct rst_thread *threads = (struct rst_thread *)(t->region + t->st.threads_off);
	struct restorer_args *a;

	a = t->a = memcpy(t->region + t->st.args_off, t->a, sizeof(*t->a));
	a->magic = RESTORER_ARGS_MAGIC;
	a->pid = (uint32_t)ri->pid;
	a->stop_sig = ri->core->state == 3 ? (ri->core->has_stop_signo ? ri->core->stop_signo : SIGSTOP)
		      : t->o->leave_stopped ? SIGSTOP : 0;	/* stop_signo: checked */
	a->pdeath_sig = ri->core->has_pdeath_sig ? ri->core->pdeath_sig : 0;	/* <= 64: checked */
	if (t->idx == 0 && rst_root_pdeath_deferred(t->tr, t->o))
		a->pdeath_after = (uint32_t)t->tr->criu_pid;
	rst_mem_fill_vmas(ri, &t->st, t->f, a, &t->h);
	rst_core_fill_args(ri, a);
	rst_seccomp_fill(ri->core, t->st.start + t->st.seccomp_off, a);
	rst_threads_fill_args(ri, &t->st, a, threads);
	rst_mem_fill_args(ri, a);
	if (!t->o->restorer_stays)
		plan_clean_exit(ri, &t->st, &t->self, a, threads);
}

/*
 * Everything that needs libc and criu's memory: the helpers the restorer
 * uses (shared vmas' fds, the threads', the go pipe, the exe) and the
 * target fds to their numbers, then the children sharing the table.
 */
static void install_fds(struct task *t)
{
	struct restorer_args *a = t->a;
	struct rst_vma *rv = (struct rst_vma *)(unsigned long)a->vmas;
	int ns_slot = -1, sync_slot = -1, go_slot, exe_slot = -1;
	size_t i;

	rst_threads_helpers(t->ri, t->o, &t->h, &ns_slot, &sync_slot);
	go_slot = t->h.nr;
	t->h.fd[t->h.nr++] = t->go_fd;
	if (t->f->exe_fd >= 0) {
		exe_slot = t->h.nr;
		t->h.fd[t->h.nr++] = t->f->exe_fd;
		t->f->exe_fd = -1;
	}
	for (i = 0; i < t->ri->mm->n_vmas; i++)
		if (t->f->vma_fd[i] >= 0) {
			close(t->f->vma_fd[i]);
			t->f->vma_fd[i] = -1;
		}
	rst_task_fds(t->tr, t->idx, t->f, &t->h);
	for (i = 0; i < a->nr_vmas; i++)
		if (rv[i].fd >= 0)
			rv[i].fd = t->h.fd[rv[i].fd];
	a->mm.exe_fd = exe_slot >= 0 ? (uint32_t)t->h.fd[exe_slot] : (uint32_t)-1;
	if (ns_slot >= 0)
		a->ns_last_pid_fd = t->h.fd[ns_slot];
	if (sync_slot >= 0) {
		a->sync_fd[0] = t->h.fd[sync_slot];
		a->sync_fd[1] = t->h.fd[sync_slot + 1];
	}
	a->go_fd = t->h.fd[go_slot];
	a->nr_close = 0;
	rst_fork_sharers(t->tr, t->idx, t->o, a->go_fd);
}

/* criu's memory goes: everything but the staging area and the specials. */
static void plan_unmap(struct task *t)
{
	struct restorer_args *a = t->a;
	uint64_t prev = RST_PAGE;
	size_t i;

	qsort(t->keep, t->nr_keep, sizeof(t->keep[0]), rst_range_cmp);
	for (i = 0; i < t->nr_keep; i++) {
		if (t->keep[i].start > prev)
			a->unmap[a->nr_unmap++] = (struct rst_range){ prev, t->keep[i].start };
		prev = max(prev, t->keep[i].end);
	}
	if (prev < RST_TASK_SIZE)
		a->unmap[a->nr_unmap++] = (struct rst_range){ prev, RST_TASK_SIZE };
}

void rst_task_main(struct rst_tree *tr, size_t idx, const struct cr_options *o, int sfd, int go_fd)
{
	struct task t = { .tr = tr, .idx = idx, .o = o, .go_fd = go_fd, .ri = &tr->ri[idx] };
	size_t entry;

	task_start(&t, sfd);
	if (!idx) {
		rst_utsipc_apply(tr);	/* the root's new namespaces, before anything is made in them */
		rst_mntns_build();	/* before anything is opened; the children inherit it */
	}
	rst_start_session(tr, idx, o);
	fault_point(tr, idx, o);
	if (t.ri->zombie) {
		rst_join_group(tr, idx);
		rst_become_zombie(t.ri);
	}
	open_files(&t);
	entry = find_entry();
	stage(&t);
	children(&t);
	fill_args(&t);
	install_fds(&t);
	/* its own state, which the sharers forked just above do not inherit */
	rst_core_restore(tr, idx, t.f);
	t.a->status_fd = status_fd;
	plan_unmap(&t);
	drop_own_rseq();
	arch_jump(t.st.start + t.st.stacks_off + RST_STACK_SIZE, t.a, t.st.start + entry);
}
