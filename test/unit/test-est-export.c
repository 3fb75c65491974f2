/*
 * The exporter (criu/est-export*.c) and importer on real dumps: e2e programs
 * (a counter, 64 threads, a tree with zombies, a pipe between two processes,
 * established TCP connections with both queues full)
 * are dumped with our criu (which writes the established format through the
 * exporter), the dump is imported into our own images and exported again,
 * and
 *   1. every file of the dump decodes with Debian's crit, and decode | encode
 *      gives back the same bytes (SKIP when /usr/bin/crit is absent);
 *   2. export(import(dump)) is the dump again, byte for byte, and imports into
 *      images that hold what the first import held, field by field;
 *   3. `criu restore` of the dump (through the importer) brings the program
 *      back, and its own check passes after SIGTERM.
 * What the format cannot express is refused by the dump unless --image-ext.
 * Like test/e2e/run.py the test is a child subreaper, so a restored tree is
 * its child again. CRIU_TEST_KEEP=1 keeps the scratch directories.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "est-export.h"
#include "est-import.h"
#include "image.h"
#include "log.h"
#include "pagemap-flags.h"
#include "unit.h"

#include "core.pb-c.h"
#include "files.pb-c.h"
#include "mm.pb-c.h"
#include "pagemap.pb-c.h"
#include "pipe.pb-c.h"
#include "timerfd.pb-c.h"
#include "pstree.pb-c.h"

#define CRIT	"/usr/bin/crit"


struct run {
	const char *prog;
	const char *mode;	/* a first argument (task_gaps's mode), or NULL */
	const char *dump_opt;	/* one more dump option, or NULL */
	char tmp[PATH_MAX], est[PATH_MAX + 8], est2[PATH_MAX + 8];
	struct est_import imp;	/* the dump imported: our own images */
	pid_t pid;
	int exported;		/* 1 once dumped, imported and exported again */
};

static struct run runs[] = { { .prog = "counter" }, { .prog = "threads" }, { .prog = "tree" },
			     { .prog = "pipe_tree" }, { .prog = "timerfd" },
			     { .prog = "eventfd" }, { .prog = "unix_pair" },
			     { .prog = "task_gaps", .mode = "affinity" }, { .prog = "pipe" },
			     { .prog = "tcp_est", .dump_opt = "--tcp-established" },
			     { .prog = "unix_scm", .mode = "self" } };

static const char *repo(void)
{
	static char path[PATH_MAX];
	ssize_t n;

	if (path[0])
		return path;
	n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n <= 0)
		return ".";
	path[n] = '\0';
	*strrchr(path, '/') = '\0';		/* <repo>/test/unit */
	strcat(path, "/../..");
	return path;
}

static void kill_run(struct run *r)
{
	if (r->pid > 0) {
		kill(-r->pid, SIGKILL);
		kill(r->pid, SIGKILL);
		waitpid(r->pid, NULL, WNOHANG);
	}
	r->pid = 0;
}

static void end_run(struct run *r)
{
	char cmd[PATH_MAX + 32];

	kill_run(r);
	if (r->imp.path[0])
		est_import_release(&r->imp);
	if (r->tmp[0] && !getenv("CRIU_TEST_KEEP")) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->tmp);
		if (system(cmd))
			fprintf(stderr, "cannot remove %s\n", r->tmp);
	}
	r->tmp[0] = 0;
}

/* Starts the program in a session of its own; waits for its "R". */
static int start(struct run *r)
{
	int p[2];
	char got[4], exe[PATH_MAX + 64], res[PATH_MAX + 16];
	ssize_t n, len = 0;

	snprintf(exe, sizeof(exe), "%s/test/e2e/%s", repo(), r->prog);
	snprintf(res, sizeof(res), "%s/result", r->tmp);
	if (pipe(p))
		return -1;
	r->pid = fork();
	if (r->pid < 0)
		return -1;
	if (r->pid == 0) {
		char fd[16];
		int null = open("/dev/null", O_RDWR);

		setsid();
		close(p[0]);
		snprintf(fd, sizeof(fd), "%d", p[1]);
		setenv("E2E_READY_FD", fd, 1);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (chdir(r->tmp))
			_exit(127);
		if (r->mode)
			execl(exe, r->prog, r->mode, res, (char *)NULL);
		else
			execl(exe, r->prog, res, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while (len < (ssize_t)sizeof(got) && (n = read(p[0], got + len, sizeof(got) - len)) > 0)
		len += n;
	close(p[0]);
	return len == 1 && got[0] == 'R' ? 0 : -1;
}

static int run_criu(const char *dir, char *const args[])
{
	pid_t c = fork();
	int st;

	if (c < 0)
		return -1;
	if (c == 0) {
		char path[PATH_MAX + 32];
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (chdir(dir))
			_exit(127);
		snprintf(path, sizeof(path), "%s/criu/criu", repo());
		execv(path, args);
		_exit(127);
	}
	if (waitpid(c, &st, 0) != c)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Dump with our criu into est/, import that, export it again into est2/. */
static int prepare(struct run *r)
{
	char pid[16];
	char *dump[] = { "criu", "dump", "-t", pid, "-D", r->est, "-o", "dump.log", "-v4",
			 (char *)r->dump_opt, NULL };
	int in, out, ret;

	if (r->exported)
		return r->exported > 0 ? 0 : -1;
	r->exported = -1;
	r->imp.dirfd = -1;
	snprintf(r->tmp, sizeof(r->tmp), "/tmp/criu-test-export.XXXXXX");
	if (!mkdtemp(r->tmp))
		return -1;
	snprintf(r->est, sizeof(r->est), "%s/est", r->tmp);
	snprintf(r->est2, sizeof(r->est2), "%s/est2", r->tmp);
	if (mkdir(r->est, 0700) || mkdir(r->est2, 0700) || start(r))
		return -1;
	snprintf(pid, sizeof(pid), "%d", r->pid);
	ret = run_criu(r->est, dump);
	/* dumped: killed; its orphans, reparented to us, too: reap them all */
	while (!ret && waitpid(-1, NULL, 0) > 0)
		;
	in = ret ? -1 : open(r->est, O_RDONLY | O_DIRECTORY);
	if (in < 0 || est_import(in, &r->imp)) {
		if (in >= 0)
			close(in);
		return -1;
	}
	close(in);
	out = open(r->est2, O_RDONLY | O_DIRECTORY);
	ret = out >= 0 ? est_export(r->imp.dirfd, out, 0) : -1;
	close(out);
	if (!ret)
		r->exported = 1;
	return ret;
}

/* ---- 1. crit ------------------------------------------------------------------- */

/* test/crit_check.py: crit decode, its byte-exact round trip, criu show == crit decode */
static int check_crit(struct run *r)
{
	char cmd[3 * PATH_MAX + 256];

	if (prepare(r)) {
		snprintf(unit_why, sizeof(unit_why), "%s: dump or export failed (see %.300s)", r->prog,
			 r->tmp);
		return -1;
	}
	if (access(CRIT, X_OK))
		SKIP("no %s here (apt-get install criu): images not checked with crit", CRIT);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s/test/crit_check.py' '%s/criu/criu' '%s' >&2",
		 repo(), repo(), r->est);
	CHECK(system(cmd) == 0);
	return 0;
}

/* ---- 2. export -> import -> compare ------------------------------------------- */

static int read_all(int dirfd, enum img_kind kind, unsigned int id, ProtobufCMessage ***v, size_t *n)
{
	return img_read_all(dirfd, kind, id, 0, NULL, NULL, v, n);
}

#define SAME(f) CHECK(a->f == b->f)

static int same_thread(const ThreadCoreEntry *a, const ThreadCoreEntry *b)
{
	SAME(tid);
	SAME(blocked);
	CHECK(!strcmp(a->comm, b->comm));
	SAME(regs->r15); SAME(regs->r14); SAME(regs->r13); SAME(regs->r12); SAME(regs->bp);
	SAME(regs->bx); SAME(regs->r11); SAME(regs->r10); SAME(regs->r9); SAME(regs->r8);
	SAME(regs->cx); SAME(regs->si); SAME(regs->sp); SAME(regs->flags);
	SAME(regs->fs_base); SAME(regs->gs_base); SAME(regs->cs); SAME(regs->ss);
	/* ax, ip (and dx, di for a re-issued sleep) are the restart-adjusted ones */
	CHECK(a->xsave.len >= 576 && b->xsave.len >= 576);
	CHECK(!memcmp(a->xsave.data, b->xsave.data, 416));	/* x87 and SSE */
	CHECK(!!a->altstack == !!b->altstack || (a->altstack && (a->altstack->flags & 2)));
	CHECK(!!a->rseq == !!b->rseq);
	if (a->rseq)
		SAME(rseq->ptr);
	SAME(n_pending);
	return 0;
}

/* @s is in @b with the same handler, flags, restorer and mask (ours lists all 62 or fewer). */
static int same_sigaction(const SigactionEntry *s, const TaskCoreEntry *b)
{
	size_t k;

	for (k = 0; k < b->n_sigactions; k++)
		if (b->sigactions[k]->signo == s->signo)
			return b->sigactions[k]->handler == s->handler &&
			       b->sigactions[k]->flags == s->flags &&
			       b->sigactions[k]->restorer == s->restorer &&
			       b->sigactions[k]->mask == s->mask ? 0 : -1;
	return s->handler || s->flags || s->mask ? -1 : 0;
}

static int same_core(int o, int i, unsigned int pid)
{
	ProtobufCMessage **va, **vb;
	size_t na, nb, k;
	int ret = -1;

	CHECK(!read_all(o, IMG_CORE, pid, &va, &na));
	if (read_all(i, IMG_CORE, pid, &vb, &nb)) {
		img_free_all(va, na);
		CHECK(0);
	}
	if (na == nb) {
		const TaskCoreEntry *a = (void *)va[0], *b = (void *)vb[0];

		ret = a->state == b->state && !strcmp(a->comm, b->comm) &&
		      a->umask == b->umask && a->cwd_id == b->cwd_id &&
		      a->n_rlimits == b->n_rlimits ? 0 : -1;
		for (k = 0; !ret && k < a->n_sigactions; k++)
			ret = same_sigaction(a->sigactions[k], b);
		for (k = 0; !ret && k < a->n_rlimits; k++)
			ret = a->rlimits[k]->resource < b->n_rlimits &&
			      b->rlimits[a->rlimits[k]->resource]->cur == a->rlimits[k]->cur &&
			      b->rlimits[a->rlimits[k]->resource]->max == a->rlimits[k]->max ? 0 : -1;
		for (k = 1; !ret && k < na; k++)
			ret = same_thread((void *)va[k], (void *)vb[k]);
	}
	img_free_all(va, na);
	img_free_all(vb, nb);
	CHECK(ret == 0);
	return 0;
}

static int same_mm(int o, int i, unsigned int pid)
{
	MmEntry *a, *b;
	size_t k, ka = 0;
	int ok;

	CHECK(!img_read_one(o, IMG_MM, pid, (ProtobufCMessage **)&a));
	CHECK(!img_read_one(i, IMG_MM, pid, (ProtobufCMessage **)&b));
	ok = a->start_code == b->start_code && a->brk == b->brk && a->env_end == b->env_end &&
	     a->exe_file_id == b->exe_file_id && a->n_auxv == b->n_auxv &&
	     !memcmp(a->auxv, b->auxv, a->n_auxv * 8);
	/* every vma of ours is there, by range, prot and kind (vvar split as this kernel does) */
	for (k = 0; ok && k < b->n_vmas; k++, ka++)
		ok = ka < a->n_vmas && a->vmas[ka]->start == b->vmas[k]->start &&
		     a->vmas[ka]->end == b->vmas[k]->end && a->vmas[ka]->prot == b->vmas[k]->prot &&
		     a->vmas[ka]->kind == b->vmas[k]->kind;
	ok = ok && ka == a->n_vmas;
	img_free_entry(&a->base);
	img_free_entry(&b->base);
	CHECK(ok);
	return 0;
}

static int file_bytes(int dirfd, const char *name, char **buf, size_t *len)
{
	struct stat st;
	int fd = openat(dirfd, name, O_RDONLY);

	*buf = NULL;
	if (fd < 0 || fstat(fd, &st) || !(*buf = malloc(st.st_size + 1)) ||
	    read(fd, *buf, st.st_size) != st.st_size) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	*len = st.st_size;
	return 0;
}

/* Offset in the page file of page @addr, -1 if no PRESENT run has it, -2 if a COW run does. */
static int64_t page_at(ProtobufCMessage **v, size_t n, uint64_t addr)
{
	uint64_t off = 0;
	size_t k;

	for (k = 1; k < n; k++) {
		const PagemapEntry *e = (void *)v[k];
		bool cow = e->has_flags && (e->flags & PE_COW);

		if (addr >= e->vaddr && addr < e->vaddr + (uint64_t)e->nr_pages * 4096)
			return cow ? -2 : (int64_t)(off + addr - e->vaddr);
		if (!cow)
			off += (uint64_t)e->nr_pages * 4096;
	}
	return -1;
}

/*
 * Every page stored in ours is in the converted images with the same bytes;
 * a page there that ours did not store must be one ours shares with the
 * parent (PE_COW: the export stores the parent's copy).
 */
static int same_pages(int o, int i, unsigned int pid)
{
	ProtobufCMessage **va, **vb;
	size_t na, nb, k, la = 0, lb = 0;
	char name[64], *pa = NULL, *pb = NULL;
	uint64_t j;
	int ok;

	CHECK(!read_all(o, IMG_PAGEMAP, pid, &va, &na));
	CHECK(!read_all(i, IMG_PAGEMAP, pid, &vb, &nb));
	snprintf(name, sizeof(name), "pages-%u.img", ((PagemapHead *)va[0])->pages_id);
	ok = !file_bytes(o, name, &pa, &la);
	snprintf(name, sizeof(name), "pages-%u.img", ((PagemapHead *)vb[0])->pages_id);
	ok = ok && !file_bytes(i, name, &pb, &lb);
	for (k = 1; ok && k < na; k++) {
		const PagemapEntry *e = (void *)va[k];

		for (j = 0; ok && j < e->nr_pages && !(e->has_flags && (e->flags & PE_COW)); j++) {
			int64_t x = page_at(va, na, e->vaddr + j * 4096);
			int64_t y = page_at(vb, nb, e->vaddr + j * 4096);

			ok = x >= 0 && y >= 0 && !memcmp(pa + x, pb + y, 4096);
		}
	}
	for (k = 1; ok && k < nb; k++) {
		const PagemapEntry *e = (void *)vb[k];

		for (j = 0; ok && j < e->nr_pages; j++)
			ok = page_at(va, na, e->vaddr + j * 4096) != -1;
	}
	free(pa);
	free(pb);
	img_free_all(va, na);
	img_free_all(vb, nb);
	CHECK(ok);
	return 0;
}

static int same_fds(int o, int i, unsigned int pid)
{
	ProtobufCMessage **va, **vb;
	size_t na, nb, k;
	int ok;

	CHECK(!read_all(o, IMG_FDS, pid, &va, &na));
	CHECK(!read_all(i, IMG_FDS, pid, &vb, &nb));
	ok = na == nb;
	for (k = 0; ok && k < na; k++) {
		const FdEntry *a = (void *)va[k], *b = (void *)vb[k];

		ok = a->fd == b->fd && a->id == b->id && a->cloexec == b->cloexec &&
		     (a->kind == b->kind || a->kind == FD_KIND__FD_TTY);
	}
	img_free_all(va, na);
	img_free_all(vb, nb);
	CHECK(ok);
	return 0;
}

static int same_files(int o, int i)
{
	ProtobufCMessage **va = NULL, **vb = NULL;
	size_t na = 0, nb = 0, k;
	int ok;

	CHECK(!read_all(o, IMG_REG_FILES, 0, &va, &na));
	CHECK(!read_all(i, IMG_REG_FILES, 0, &vb, &nb));
	ok = na == nb;
	for (k = 0; ok && k < na; k++) {
		const RegFileEntry *a = (void *)va[k], *b = (void *)vb[k];

		ok = a->id == b->id && !strcmp(a->path, b->path) && a->flags == b->flags &&
		     a->pos == b->pos && a->mode == b->mode && a->size == b->size;
	}
	img_free_all(va, na);
	img_free_all(vb, nb);
	CHECK(ok);
	if (faccessat(o, "pipes.img", F_OK, 0))
		return 0;
	CHECK(!read_all(o, IMG_PIPES, 0, &va, &na));
	CHECK(!read_all(i, IMG_PIPES, 0, &vb, &nb));
	ok = na == nb;
	for (k = 0; ok && k < na; k++) {
		const PipeEntry *a = (void *)va[k], *b = (void *)vb[k];

		ok = a->id == b->id && a->pipe_id == b->pipe_id && a->flags == b->flags;
	}
	img_free_all(va, na);
	img_free_all(vb, nb);
	CHECK(ok);
	if (faccessat(o, "pipes-data.img", F_OK, 0))
		return 0;
	CHECK(!read_all(o, IMG_PIPES_DATA, 0, &va, &na));
	CHECK(!read_all(i, IMG_PIPES_DATA, 0, &vb, &nb));
	ok = na == nb;
	for (k = 0; ok && k < na; k++) {
		const PipeDataEntry *a = (void *)va[k], *b = (void *)vb[k];

		ok = a->pipe_id == b->pipe_id && a->size == b->size && a->data.len == b->data.len &&
		     !memcmp(a->data.data, b->data.data, a->data.len);
	}
	img_free_all(va, na);
	img_free_all(vb, nb);
	CHECK(ok);
	return 0;
}

static int same_timerfds(int o, int i)
{
	ProtobufCMessage **va, **vb;
	size_t na, nb, k;
	int ok;

	if (faccessat(o, "timerfds.img", F_OK, 0))
		return 0;
	CHECK(!read_all(o, IMG_TIMERFDS, 0, &va, &na));
	CHECK(!read_all(i, IMG_TIMERFDS, 0, &vb, &nb));
	ok = na == nb;
	for (k = 0; ok && k < na; k++) {
		const TimerfdEntry *a = (void *)va[k], *b = (void *)vb[k];

		ok = a->id == b->id && a->flags == b->flags && a->clockid == b->clockid &&
		     a->settime_flags == b->settime_flags && a->ticks == b->ticks &&
		     a->value_sec == b->value_sec && a->value_nsec == b->value_nsec &&
		     a->interval_sec == b->interval_sec && a->interval_nsec == b->interval_nsec;
	}
	img_free_all(va, na);
	img_free_all(vb, nb);
	CHECK(ok);
	return 0;
}

static int same_images(int o, int i)
{
	ProtobufCMessage **va, **vb;
	size_t na, nb, k;
	int ok;

	CHECK(!read_all(o, IMG_PSTREE, 0, &va, &na));
	CHECK(!read_all(i, IMG_PSTREE, 0, &vb, &nb));
	ok = na == nb;
	for (k = 0; ok && k < na; k++) {
		const PstreeEntry *a = (void *)va[k], *b = (void *)vb[k];

		ok = a->pid == b->pid && a->ppid == b->ppid && a->pgid == b->pgid &&
		     a->sid == b->sid && a->n_threads == b->n_threads &&
		     !memcmp(a->threads, b->threads, a->n_threads * 4);
		if (ok)
			ok = !same_core(o, i, a->pid) &&
			     (!a->n_threads || (!same_mm(o, i, a->pid) && !same_pages(o, i, a->pid) &&
						!same_fds(o, i, a->pid)));
	}
	img_free_all(va, na);
	img_free_all(vb, nb);
	CHECK(ok);
	CHECK(!same_files(o, i));
	CHECK(!same_timerfds(o, i));
	return 0;
}

/*
 * Every file of @a is in @b with the same bytes, but the logs, the timings
 * and the cores: a core's orig_ax names the syscall the thread was in, which
 * the registers already restart (plan §3.4); the import keeps only that
 * adjusted state (-1), so the second export writes -1. same_images()
 * compares the cores field by field instead. The manifest (a dump's, not
 * the export's) checksums the cores.
 */
static int same_files_bytes(const char *a, const char *b)
{
	char cmd[3 * PATH_MAX];

	snprintf(cmd, sizeof(cmd), "diff -r -q -x '*.log' -x stats-dump -x criu-manifest -x 'core-*' '%s' '%s' >&2",
		 a, b);
	return system(cmd) ? -1 : 0;
}

static int check_round_trip(struct run *r)
{
	struct est_import imp = { .dirfd = -1 };
	int in, ret;

	if (prepare(r)) {
		snprintf(unit_why, sizeof(unit_why), "%s: dump, import or export failed", r->prog);
		return -1;
	}
	CHECK(!same_files_bytes(r->est, r->est2));
	in = open(r->est2, O_RDONLY | O_DIRECTORY);
	CHECK(in >= 0);
	ret = est_import(in, &imp);
	close(in);
	CHECK(ret == 0);
	ret = same_images(r->imp.dirfd, imp.dirfd);
	est_import_release(&imp);
	return ret;
}

/* ---- 3. restore the export ----------------------------------------------------- */

static int wait_result(struct run *r, char *buf, size_t size)
{
	char path[PATH_MAX + 16];
	int i, fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/result", r->tmp);
	for (i = 0; i < 400; i++) {	/* 20 s; we are the subreaper: it is our child */
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (kill(r->pid, 0) && errno == ESRCH)
			break;
		usleep(50000);
	}
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return 0;
}

static int check_restore(struct run *r)
{
	char pidfile[PATH_MAX + 32], res[256] = "", *opts[] = { "criu", "restore", "-D", r->est,
		"-d", "--pidfile", pidfile, "-o", "restore.log", "-v4", NULL };
	struct timespec ts = { 0, 300000000 };
	FILE *f;
	int pid = 0;

	if (prepare(r)) {
		snprintf(unit_why, sizeof(unit_why), "%s: dump or export failed", r->prog);
		return -1;
	}
	snprintf(pidfile, sizeof(pidfile), "%s/restored.pid", r->tmp);
	unlink(pidfile);
	if (run_criu(r->tmp, opts)) {
		snprintf(unit_why, sizeof(unit_why), "%s: restore of the export failed (%.300s/restore.log)",
			 r->prog, r->est);
		return -1;
	}
	f = fopen(pidfile, "r");
	CHECK(f && fscanf(f, "%d", &pid) == 1);
	fclose(f);
	CHECK(pid == r->pid);
	nanosleep(&ts, NULL);	/* let it carry on a while */
	CHECK(kill(r->pid, SIGTERM) == 0);
	CHECK(!wait_result(r, res, sizeof(res)));
	if (strncmp(res, "PASS", 4)) {
		snprintf(unit_why, sizeof(unit_why), "%s after the restore: %.200s", r->prog, res);
		return -1;
	}
	r->pid = 0;
	return 0;
}

#define CASES(i, name)								\
	static int crit_##name(void) { return check_crit(&runs[i]); }		\
	static int trip_##name(void) { return check_round_trip(&runs[i]); }	\
	static int rst_##name(void) { int r = check_restore(&runs[i]); end_run(&runs[i]); return r; }

CASES(0, counter)
CASES(1, threads)
CASES(2, tree)
CASES(3, pipe_tree)
CASES(4, timerfd)
CASES(8, pipe)
CASES(9, tcp_est)
/* no round trip: unix options at their defaults (SO_PASSCRED 0) are not exported again */
static int crit_unix_scm(void) { return check_crit(&runs[10]); }
static int rst_unix_scm(void) { int r = check_restore(&runs[10]); end_run(&runs[10]); return r; }

/* Without --image-ext the dump stops: no inventory.img, the program runs on. */
static int refused(struct run *r)
{
	char inv[PATH_MAX + 32];
	int ret, alive;

	ret = prepare(r);
	snprintf(inv, sizeof(inv), "%s/inventory.img", r->est);
	alive = r->pid > 0 && kill(r->pid, 0) == 0;
	if (!ret || !access(inv, F_OK) || !alive) {
		end_run(r);
		CHECK(!"refused, leaving the program running");
	}
	end_run(r);
	return 0;
}

/* EFD_SEMAPHORE: the format has no such flag */
static int refused_semaphore(void)
{
	return refused(&runs[5]);
}

/* SO_PEEK_OFF set (to 0): the format has no field, recv would return other data */
static int refused_peek_off(void)
{
	return refused(&runs[6]);
}

/* A CPU affinity of its own: the format has no field, the restore would unpin it */
static int refused_affinity(void)
{
	return refused(&runs[7]);
}

static const struct unit_case cases[] = {
	{ "counter: crit decodes the dump", crit_counter },
	{ "counter: import, export: the same dump", trip_counter },
	{ "counter: the dump restores", rst_counter },
	{ "threads: crit decodes the dump", crit_threads },
	{ "threads: import, export: the same dump", trip_threads },
	{ "threads: the dump restores", rst_threads },
	{ "tree: crit decodes the dump", crit_tree },
	{ "tree: import, export: the same dump", trip_tree },
	{ "tree: the dump restores", rst_tree },
	{ "pipe_tree: crit decodes the dump", crit_pipe_tree },
	{ "pipe_tree: import, export: the same dump", trip_pipe_tree },
	{ "pipe_tree: the dump restores", rst_pipe_tree },
	{ "timerfd: crit decodes the dump", crit_timerfd },
	{ "timerfd: import, export: the same dump", trip_timerfd },
	{ "timerfd: the dump restores", rst_timerfd },
	{ "pipe (FIFOs): crit decodes the dump", crit_pipe },
	{ "pipe (FIFOs): import, export: the same dump", trip_pipe },
	{ "pipe (FIFOs): the dump restores", rst_pipe },
	{ "tcp_est (tcp-stream images): crit decodes the dump", crit_tcp_est },
	{ "tcp_est (tcp-stream images): import, export: the same dump", trip_tcp_est },
	{ "tcp_est (tcp-stream images): the dump restores", rst_tcp_est },
	{ "unix_scm (descriptors in flight): crit decodes the dump", crit_unix_scm },
	{ "unix_scm (descriptors in flight): the dump restores", rst_unix_scm },
	{ "eventfd (EFD_SEMAPHORE): the dump is refused", refused_semaphore },
	{ "unix_pair (SO_PEEK_OFF): the dump is refused", refused_peek_off },
	{ "a CPU affinity of its own: the dump is refused", refused_affinity },
};

int main(int argc, char **argv)
{
	int ret;

	(void)argc;
	log_init(NULL, NULL, LOG_ERROR);
	/* as test/e2e/run.py: a restored tree is reparented to us, its parent before the dump */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	ret = unit_run(argv[0], cases, sizeof(cases) / sizeof(cases[0]));
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
		end_run(&runs[i]);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	return ret;
}
