/*
 * TEST-ONLY capture for test-restore: stops a victim that test forked with
 * ptrace and writes its state in the image formats of images/ (registers,
 * xsave, signal mask, rseq, robust list, /proc maps, pages through
 * /proc/PID/mem, fds, cwd, exe, one sigaction, timers). It knows only what
 * that victim needs and is no substitute for `criu dump`.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <elf.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/ptrace.h>
#include <grp.h>
#include <pthread.h>
#include <linux/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

#include "unit.h"
#include "log.h"
#include "compiler.h"
#include "image.h"
#include "inventory.h"
#include "kernel-compat.h"
#include "proc_parse.h"
#include "core.pb-c.h"
#include "mm.pb-c.h"
#include "files.pb-c.h"
#include "pagemap.pb-c.h"
#include "pstree.pb-c.h"
#include "stats.pb-c.h"

#include "restore-capture.h"

int cap_line;
#define FAIL_OUT do { cap_line = __LINE__; goto out; } while (0)

struct cap_files {
	RegFileEntry *e[64];
	unsigned int n;
};

static uint32_t cap_file(struct cap_files *cf, const char *path, uint32_t flags, uint64_t pos)
{
	struct stat st;
	RegFileEntry *r;
	unsigned int i;

	for (i = 0; i < cf->n; i++)
		if (!strcmp(cf->e[i]->path, path) && cf->e[i]->flags == flags && cf->e[i]->pos == pos)
			return cf->e[i]->id;
	if (cf->n == 64 || stat(path, &st))
		return 0;
	r = calloc(1, sizeof(*r));
	reg_file_entry__init(r);
	r->id = cf->n + 1;
	r->path = strdup(path);
	r->flags = flags;
	r->pos = pos;
	r->mode = st.st_mode;
	r->has_size = r->has_dev = r->has_ino = r->has_mtime_ns = true;
	r->size = (uint64_t)st.st_size;
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	r->mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000ULL + (uint64_t)st.st_mtim.tv_nsec;
	cf->e[cf->n++] = r;
	return r->id;
}

static int write_one(int dfd, enum img_kind k, unsigned int id, ProtobufCMessage *m)
{
	struct cr_img *img = img_create(dfd, k, id);

	if (!img)
		return -1;
	if (img_write_entry(img, m)) {
		img_abort(img);
		return -1;
	}
	return img_commit(img);
}

int read_text(const char *fmt, pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), fmt, pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

/* Memory: vmas from maps; present private pages from /proc/PID/mem. */
static int cap_memory(pid_t pid, int dfd, struct cap_files *cf, MmEntry *mm, uint64_t brk)
{
	struct proc_vmas vmas = { 0 };
	struct cr_img *pm, *pg;
	PagemapHead head = PAGEMAP_HEAD__INIT;
	char path[64], stat_buf[4096], *s;
	unsigned long long f[52];
	uint64_t auxv[128];
	int memfd, mapfd, n, ret = -1;
	size_t i;

	if (proc_read_smaps(pid, &vmas))
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	memfd = open(path, O_RDONLY);
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	mapfd = open(path, O_RDONLY);
	pm = img_create(dfd, IMG_PAGEMAP, (unsigned)pid);
	pg = img_create(dfd, IMG_PAGES, (unsigned)pid);
	head.pages_id = (uint32_t)pid;
	if (memfd < 0 || mapfd < 0 || !pm || !pg || img_write_entry(pm, &head.base))
		FAIL_OUT;

	mm->vmas = calloc(vmas.nr, sizeof(*mm->vmas));
	for (i = 0; i < vmas.nr; i++) {
		struct proc_vma *pv = &vmas.v[i];
		VmaEntry *v = calloc(1, sizeof(*v));
		uint64_t a;

		vma_entry__init(v);
		v->start = pv->start;
		v->end = pv->end;
		v->pgoff = pv->pgoff;
		v->prot = pv->prot;
		v->flags = pv->shared ? MAP_SHARED : MAP_PRIVATE;
		switch (pv->kind) {
		case PROC_VMA_VDSO: v->kind = VMA_KIND__VMA_VDSO; break;
		case PROC_VMA_VVAR: v->kind = VMA_KIND__VMA_VVAR; break;
		case PROC_VMA_VVAR_VCLOCK: v->kind = VMA_KIND__VMA_VVAR_VCLOCK; break;
		case PROC_VMA_VSYSCALL: v->kind = VMA_KIND__VMA_VSYSCALL; break;
		case PROC_VMA_FILE:
			v->kind = pv->shared ? VMA_KIND__VMA_FILE_SHARED : VMA_KIND__VMA_FILE_PRIVATE;
			v->has_file_id = true;
			v->file_id = cap_file(cf, pv->path, O_RDONLY, 0);
			break;
		default:
			v->kind = VMA_KIND__VMA_ANON_PRIVATE;
			if (pv->kind == PROC_VMA_STACK) {
				v->flags |= MAP_GROWSDOWN;
				v->has_stack = v->stack = true;
			}
			if (pv->kind == PROC_VMA_HEAP)
				v->has_heap = v->heap = true;
			if (pv->kind == PROC_VMA_ANON_NAMED && strlen(pv->path) > 7) {
				v->name = strndup(pv->path + 6, strlen(pv->path) - 7);
			}
			{
				static const struct { uint64_t vmf; int adv; } adv[] = {
					{ PROC_VMF(DC), MADV_DONTFORK }, { PROC_VMF(WF), MADV_WIPEONFORK },
					{ PROC_VMF(HG), MADV_HUGEPAGE }, { PROC_VMF(NH), MADV_NOHUGEPAGE },
					{ PROC_VMF(DD), MADV_DONTDUMP }, { PROC_VMF(RR), MADV_RANDOM },
					{ PROC_VMF(SR), MADV_SEQUENTIAL }, { PROC_VMF(MG), MADV_MERGEABLE },
				};
				size_t k;

				for (k = 0; k < sizeof(adv) / sizeof(adv[0]); k++)
					if (pv->vmflags & adv[k].vmf) {
						v->has_madv = true;
						v->madv |= 1ULL << adv[k].adv;
					}
			}
		}
		mm->vmas[mm->n_vmas++] = v;
		if (v->kind != VMA_KIND__VMA_ANON_PRIVATE && v->kind != VMA_KIND__VMA_FILE_PRIVATE)
			continue;
		/* runs of pages worth saving */
		for (a = v->start; a < v->end;) {
			uint64_t e, run = a, buf[512];
			size_t k, cnt = 0;

			while (a < v->end) {
				uint64_t want = min((v->end - a) / PAGE, (uint64_t)512);

				if (pread(mapfd, buf, want * 8, (off_t)(a / PAGE * 8)) != (ssize_t)(want * 8))
					FAIL_OUT;
				for (k = 0; k < want; k++) {
					e = buf[k];
					bool keep = (e >> 63) & 1;

					if (v->kind == VMA_KIND__VMA_FILE_PRIVATE && ((e >> 61) & 1))
						keep = false;
					if (!keep)
						break;
				}
				cnt += k;
				a += k * PAGE;
				if (k < want)
					break;
			}
			if (cnt) {
				PagemapEntry pe = PAGEMAP_ENTRY__INIT;
				char *data = malloc(cnt * PAGE);

				pe.vaddr = run;
				pe.nr_pages = (uint32_t)cnt;
				pe.has_flags = true;
				pe.flags = 1;
				if (!data || pread(memfd, data, cnt * PAGE, (off_t)run) != (ssize_t)(cnt * PAGE) ||
				    write(img_raw_fd(pg), data, cnt * PAGE) != (ssize_t)(cnt * PAGE) ||
				    img_write_entry(pm, &pe.base)) {
					free(data);
					FAIL_OUT;
				}
				free(data);
			} else {
				a += PAGE;	/* skip one page that is not worth it */
			}
		}
	}

	/* mm fields from stat (fields 26-28, 45-51), auxv, exe */
	if (read_text("/proc/%d/stat", pid, stat_buf, sizeof(stat_buf)) < 0)
		FAIL_OUT;
	s = strrchr(stat_buf, ')') + 2;
	for (n = 3; n <= 51 && s; n++) {
		f[n] = strtoull(s + 2 * (n == 3 ? 0 : 0), &s, 10);
		if (n == 3) {	/* state is a letter */
			s = strchr(stat_buf + (strrchr(stat_buf, ')') - stat_buf) + 2, ' ');
			continue;
		}
	}
	mm->start_code = f[26];
	mm->end_code = f[27];
	mm->start_stack = f[28];
	mm->start_data = f[45];
	mm->end_data = f[46];
	mm->start_brk = f[47];
	mm->arg_start = f[48];
	mm->arg_end = f[49];
	mm->env_start = f[50];
	mm->env_end = f[51];
	mm->brk = brk;
	n = read_text("/proc/%d/auxv", pid, (char *)auxv, sizeof(auxv));
	if (n <= 0)
		FAIL_OUT;
	mm->n_auxv = (size_t)n / 8;
	mm->auxv = malloc((size_t)n);
	memcpy(mm->auxv, auxv, (size_t)n);
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = (int)readlink(path, stat_buf, sizeof(stat_buf) - 1);
	if (n <= 0)
		FAIL_OUT;
	stat_buf[n] = '\0';
	mm->has_exe_file_id = true;
	mm->exe_file_id = cap_file(cf, stat_buf, O_RDONLY, 0);
	if (img_commit(pm) || img_commit(pg))
		pm = pg = NULL;
	else
		ret = 0;
	pm = pg = NULL;
out:
	if (pm)
		img_abort(pm);
	if (pg)
		img_abort(pg);
	if (memfd >= 0)
		close(memfd);
	if (mapfd >= 0)
		close(mapfd);
	proc_vmas_free(&vmas);
	return ret;
}

static int cap_fds(pid_t pid, int dfd, struct cap_files *cf)
{
	char path[PATH_MAX], link[PATH_MAX], info[1024];
	struct cr_img *img = img_create(dfd, IMG_FDS, (unsigned)pid);
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	if (!img || !d)
		return -1;
	while ((de = readdir(d))) {
		FdEntry fe = FD_ENTRY__INIT;
		unsigned long long pos = 0;
		unsigned int flags = 0;
		struct stat st;
		char *p;
		int n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, de->d_name);
		n = (int)readlink(path, link, sizeof(link) - 1);
		if (n <= 0 || stat(path, &st))
			return -1;
		link[n] = '\0';
		snprintf(path, sizeof(path), "/proc/%%d/fdinfo/%s", de->d_name);
		if (read_text(path, pid, info, sizeof(info)) < 0)
			return -1;
		if ((p = strstr(info, "pos:")))
			pos = strtoull(p + 4, NULL, 10);
		if ((p = strstr(info, "flags:")))
			flags = (unsigned int)strtoul(p + 6, NULL, 8);
		fe.fd = (uint32_t)atoi(de->d_name);
		fe.kind = S_ISREG(st.st_mode) ? FD_KIND__FD_REG : S_ISDIR(st.st_mode) ? FD_KIND__FD_DIR :
			  FD_KIND__FD_CHR;
		if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 136)	/* a pty slave */
			fe.kind = FD_KIND__FD_TTY;
		fe.cloexec = flags & O_CLOEXEC;
		fe.id = cap_file(cf, link, flags & ~(unsigned)O_CLOEXEC, pos);
		if (!fe.id || img_write_entry(img, &fe.base))
			return -1;
	}
	closedir(d);
	return img_commit(img);
}

/* The address and permission columns of /proc/PID/maps, one line each. */
int maps_layout(pid_t pid, char *out, size_t len)
{
	char path[64], line[512];
	size_t used = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	out[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		char range[64], perms[8], name[128] = "";
		int n;

		if (sscanf(line, "%63s %7s %*s %*s %*s %127s", range, perms, name) < 2)
			continue;
		if (strncmp(name, "[anon:", 6))
			name[0] = '\0';
		n = snprintf(out + used, len - used, "%s %s %s\n", range, perms, name);
		if (n < 0 || (size_t)n >= len - used) {
			fclose(f);
			return -1;
		}
		used += (size_t)n;
	}
	fclose(f);
	return 0;
}

struct cap_thread {
	ThreadCoreEntry tc;
	UserRegsX86Entry ur;
	RseqEntry re;
	uint8_t xs[65536];
	char comm[64];
};

/* One stopped thread into @ct. */
static int cap_thread(pid_t pid, pid_t tid, struct cap_thread *ct)
{
	struct user_regs_struct r;
	struct iovec iov = { ct->xs, sizeof(ct->xs) };
	struct { uint64_t ptr; uint32_t size, sig, flags, pad; } rs;
	uint64_t mask = 0, head = 0;
	size_t hlen = 0;
	char path[64];
	int fd;
	ssize_t n;

	thread_core_entry__init(&ct->tc);
	user_regs_x86_entry__init(&ct->ur);
	rseq_entry__init(&ct->re);
	if (ptrace(PTRACE_GETREGS, tid, 0, &r) || ptrace(PTRACE_GETREGSET, tid, NT_X86_XSTATE, &iov) ||
	    ptrace(PTRACE_GETSIGMASK_, tid, sizeof(mask), &mask) ||
	    ptrace(PTRACE_GET_RSEQ_CONFIGURATION, tid, sizeof(rs), &rs) < 0 ||
	    syscall(SYS_get_robust_list, tid, &head, &hlen))
		return -1;
#define R(x) ct->ur.x = r.x
#define RR(x) ct->ur.x = r.r##x
	R(r15); R(r14); R(r13); R(r12); R(r11); R(r10); R(r9); R(r8); RR(ax); RR(cx); RR(dx);
	RR(si); RR(di); ct->ur.orig_ax = r.orig_rax; RR(ip); R(cs); ct->ur.flags = r.eflags; RR(sp);
	R(ss); R(fs_base); R(gs_base); R(ds); R(es); R(fs); R(gs); RR(bp); RR(bx);
#undef R
#undef RR
	ct->tc.tid = (uint32_t)tid;
	ct->tc.regs = &ct->ur;
	ct->tc.xsave.data = ct->xs;
	ct->tc.xsave.len = iov.iov_len;
	ct->tc.blocked = mask;
	if (rs.ptr) {
		ct->re.ptr = rs.ptr;
		ct->re.len = rs.size;
		ct->re.sig = rs.sig;
		ct->tc.rseq = &ct->re;
	}
	ct->tc.has_robust_list = ct->tc.has_robust_list_len = true;
	ct->tc.robust_list = head;
	ct->tc.robust_list_len = hlen;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
	fd = open(path, O_RDONLY);
	n = fd >= 0 ? read(fd, ct->comm, sizeof(ct->comm) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	ct->comm[n] = '\0';
	ct->comm[strcspn(ct->comm, "\n")] = '\0';
	ct->tc.comm = ct->comm;
	return 0;
}

/* Seize and stop every thread; tids[0] is the leader. */
static int cap_seize(pid_t pid, pid_t *tids, int max, struct victim_ctl *v)
{
	char path[64];
	struct dirent *de;
	int n = 1, st;
	DIR *d;

	tids[0] = pid;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)) && n < max) {
		pid_t t = atoi(de->d_name);

		if (t > 0 && t != pid)
			tids[n++] = t;
	}
	closedir(d);
	for (st = 0; st < n; st++) {
		int ws;

		if (ptrace(PTRACE_SEIZE, tids[st], 0, 0))
			return -1;
		v->tids[v->nr_tids++] = tids[st];
		if (ptrace(PTRACE_INTERRUPT, tids[st], 0, 0) ||
		    waitpid(tids[st], &ws, __WALL) != tids[st] || !WIFSTOPPED(ws))
			return -1;
	}
	return n;
}

int capture(struct victim_ctl *v)
{
	static struct cap_thread ct[8];
	struct cap_files cf = { { 0 }, 0 };
	TaskCoreEntry core = TASK_CORE_ENTRY__INIT;
	SigactionEntry sa = SIGACTION_ENTRY__INIT, *sas[1] = { &sa };
	PosixTimerEntry pt[2] = { POSIX_TIMER_ENTRY__INIT, POSIX_TIMER_ENTRY__INIT };
	PosixTimerEntry *pts[2] = { &pt[0], &pt[1] };
	RlimitEntry rle = RLIMIT_ENTRY__INIT, *rles[1] = { &rle };
	struct rlimit nofile;
	SigaltstackEntry alt = SIGALTSTACK_ENTRY__INIT;
	CredsEntry cr = CREDS_ENTRY__INIT;
	struct proc_status pst;
	uint32_t cuid[4], cgid[4], cgroups[64];
	MmEntry mm = MM_ENTRY__INIT;
	PstreeEntry ps = PSTREE_ENTRY__INIT;
	InventoryEntry inv;
	uint32_t threads[8];
	pid_t tids[8];
	char buf[4096], *p, *comm;
	struct cr_img *img;
	pid_t pid = v->pid;
	int dfd, ret = -1, nt;
	unsigned int i;

	dfd = open(v->dir, O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		return -1;
	nt = cap_seize(pid, tids, 8, v);
	if (nt < 1)
		FAIL_OUT;
	for (i = 0; i < (unsigned)nt; i++)
		if (cap_thread(pid, tids[i], &ct[i]))
			FAIL_OUT;
	{
		/* clear-tid addresses the victim looked up for us (no ptrace request for them) */
		pid_t vt[9];
		uint64_t va[9];
		struct iovec local[2] = { { vt, sizeof(vt) }, { va, sizeof(va) } };
		struct iovec remote[2] = { { victim_tid, sizeof(victim_tid) },
					   { victim_tid_addr, sizeof(victim_tid_addr) } };
		unsigned int j;

		if (process_vm_readv(pid, local, 2, remote, 2, 0) != sizeof(vt) + sizeof(va))
			FAIL_OUT;
		for (i = 0; i < (unsigned)nt; i++)
			for (j = 0; j < 9; j++)
				if (vt[j] == tids[i] && va[j]) {
					ct[i].tc.has_clear_tid_addr = true;
					ct[i].tc.clear_tid_addr = va[j];
				}
	}
	comm = ct[0].comm;
	/* prlimit() on another uid's task needs CAP_SYS_RESOURCE: read /proc instead */
	if (read_text("/proc/%d/limits", pid, buf, sizeof(buf)) <= 0 || !(p = strstr(buf, "Max open files")) ||
	    sscanf(p + 14, "%lu %lu", &nofile.rlim_cur, &nofile.rlim_max) != 2)
		FAIL_OUT;
	rle.resource = RLIMIT_NOFILE;
	rle.cur = nofile.rlim_cur;
	rle.max = nofile.rlim_max;
	core.n_rlimits = 1;
	core.rlimits = rles;
	if (victim_timers) {
		/* what the victim armed (the capture cannot read the time left: a bit more is fine) */
		int ids[2];
		struct iovec l = { ids, sizeof(ids) }, r = { victim_timer_id, sizeof(victim_timer_id) };

		if (process_vm_readv(pid, &l, 1, &r, 1, 0) != sizeof(ids))
			FAIL_OUT;
		pt[0].id = ids[0];
		pt[0].clock = CLOCK_MONOTONIC;
		pt[0].notify = SIGEV_NONE;
		pt[0].interval_ns = 50000000000ULL;
		pt[0].value_ns = 100000000000ULL;
		pt[1].id = ids[1];
		pt[1].clock = CLOCK_REALTIME;
		pt[1].notify = SIGEV_SIGNAL;
		pt[1].signo = (uint32_t)SIGRTMIN + 2;
		pt[1].sival = 77;
		core.n_posix_timers = 2;
		core.posix_timers = pts;
	}
	alt.sp = v->alt_sp;
	alt.size = v->alt_size;
	alt.flags = 0;
	ct[0].tc.altstack = &alt;

	core.state = 1;
	core.comm = comm;
	if (read_text("/proc/%d/personality", pid, buf, sizeof(buf)) <= 0)
		FAIL_OUT;
	core.personality = (uint32_t)strtoul(buf, NULL, 16);
	if (read_text("/proc/%d/status", pid, buf, sizeof(buf)) <= 0 || !(p = strstr(buf, "Umask:")))
		FAIL_OUT;
	core.umask = (uint32_t)strtoul(p + 6, NULL, 8);
	sa.signo = SIGUSR1;
	sa.handler = v->usr1.handler;
	sa.flags = v->usr1.flags;
	sa.restorer = v->usr1.restorer;
	sa.mask = v->usr1.mask;
	core.n_sigactions = 1;
	core.sigactions = sas;
	snprintf(buf, sizeof(buf), "/proc/%d/cwd", pid);
	{
		char cwd[PATH_MAX];
		ssize_t n = readlink(buf, cwd, sizeof(cwd) - 1);

		if (n <= 0)
			FAIL_OUT;
		cwd[n] = '\0';
		core.has_cwd_id = true;
		core.cwd_id = cap_file(&cf, cwd, O_RDONLY | O_DIRECTORY, 0);
	}

	if (maps_layout(pid, v->maps, sizeof(v->maps)))
		FAIL_OUT;
	if (proc_read_status(pid, &pst))
		FAIL_OUT;
	cr.n_uid = cr.n_gid = 4;
	cr.uid = cuid;
	cr.gid = cgid;
	for (i = 0; i < 4; i++) {
		cuid[i] = pst.uid[i];
		cgid[i] = pst.gid[i];
	}
	cr.n_groups = pst.ngroups < 64 ? pst.ngroups : 64;
	for (i = 0; i < cr.n_groups; i++)
		cgroups[i] = pst.groups[i];
	cr.groups = cgroups;
	cr.cap_inh = pst.capinh;
	cr.cap_prm = pst.capprm;
	cr.cap_eff = pst.capeff;
	cr.cap_bnd = pst.capbnd;
	cr.has_cap_amb = true;
	cr.cap_amb = pst.capamb;
	cr.has_no_new_privs = true;
	cr.no_new_privs = pst.no_new_privs;
	proc_status_free(&pst);
	core.creds = &cr;
	core.has_dumpable = true;
	core.dumpable = 1;
	if (cap_memory(pid, dfd, &cf, &mm, v->brk) || cap_fds(pid, dfd, &cf))
		FAIL_OUT;
	img = img_create(dfd, IMG_CORE, (unsigned)pid);
	if (!img || img_write_entry(img, &core.base))
		FAIL_OUT;
	for (i = 0; i < (unsigned)nt; i++)
		if (img_write_entry(img, &ct[i].tc.base))
			FAIL_OUT;
	if (img_commit(img))
		FAIL_OUT;
	if (write_one(dfd, IMG_MM, (unsigned)pid, &mm.base))
		FAIL_OUT;
	img = img_create(dfd, IMG_REG_FILES, 0);
	for (i = 0; img && i < cf.n; i++)
		if (img_write_entry(img, &cf.e[i]->base))
			FAIL_OUT;
	if (!img || img_commit(img))
		FAIL_OUT;
	for (i = 0; i < (unsigned)nt; i++)
		threads[i] = (uint32_t)tids[i];
	ps.pid = (uint32_t)pid;
	ps.pgid = (uint32_t)getpgid(pid);
	ps.sid = (uint32_t)getsid(pid);
	ps.n_threads = (size_t)nt;
	ps.threads = threads;
	if (write_one(dfd, IMG_PSTREE, 0, &ps.base))
		FAIL_OUT;
	if (inventory_fill(&inv))
		FAIL_OUT;
	inv.has_root_pid = true;
	inv.root_pid = (uint32_t)pid;
	ret = write_one(dfd, IMG_INVENTORY, 0, &inv.base);
	inventory_release(&inv);
out:
	close(dfd);
	return ret;
}
