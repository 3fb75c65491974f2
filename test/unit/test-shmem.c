/*
 * Shared memory object images (shmem.img, shmem-pagemap-ID.img,
 * shmem-pages-ID.img) on the restore side: a good set is read, created and
 * filled exactly (content, holes, memfd name, size and seals); each kind of
 * corruption is refused with its own message; and two processes given the
 * table the way a process tree will use it share one object.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "image.h"
#include "kernel-compat.h"
#include "log.h"
#include "restore.h"
#include "shmem.pb-c.h"
#include "unit.h"

#define PAGE 4096u

static char tdir[64];
static int tfd = -1;

static int fresh_dir(void)
{
	char cmd[96];

	if (tfd >= 0) {
		close(tfd);
		snprintf(cmd, sizeof(cmd), "rm -rf %s", tdir);
		if (system(cmd))
			return -1;
	}
	strcpy(tdir, "/tmp/criu-test-shmem.XXXXXX");
	if (!mkdtemp(tdir))
		return -1;
	tfd = open(tdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return tfd < 0 ? -1 : 0;
}

static bool log_has(const char *what)
{
	char path[128], buf[8192];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/log", tdir);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strstr(buf, what) != NULL;
}

static int start_log(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/log", tdir);
	return log_init(NULL, path, LOG_WARN);
}

/* One object with the given runs (offset, pages pairs); page k of run data is 'a'+k. */
struct obj {
	uint32_t id;
	ShmemKind kind;
	uint64_t size;
	const char *name;
	int seals;		/* -1: none */
	int mode;		/* 0: none */
	uint64_t runs[4][2];
	unsigned int nr_runs;
	long pages_delta;	/* bytes added to (or cut from) the pages file */
	long nr_pages_delta;	/* added to the announced nr_pages */
};

static int write_obj(const struct obj *o)
{
	struct cr_img *map = img_create(tfd, IMG_SHMEM_PAGEMAP, o->id);
	struct cr_img *pages = img_create(tfd, IMG_SHMEM_PAGES, o->id);
	char buf[PAGE];
	unsigned int i, k, n = 0;

	CHECK(map && pages);
	for (i = 0; i < o->nr_runs; i++) {
		ShmemRun r = SHMEM_RUN__INIT;

		r.offset = o->runs[i][0];
		r.nr_pages = o->runs[i][1];
		CHECK(!img_write_entry(map, &r.base));
		for (k = 0; k < r.nr_pages; k++, n++) {
			memset(buf, 'a' + (int)(n % 26), PAGE);
			CHECK(write(img_raw_fd(pages), buf, PAGE) == PAGE);
		}
	}
	if (o->pages_delta > 0)
		CHECK(write(img_raw_fd(pages), buf, (size_t)o->pages_delta) == o->pages_delta);
	if (o->pages_delta < 0)
		CHECK(!ftruncate(img_raw_fd(pages), (off_t)n * PAGE + o->pages_delta));
	CHECK(!img_commit(map) && !img_commit(pages));
	return 0;
}

static int write_set(const struct obj *objs, unsigned int nr)
{
	struct cr_img *img;
	unsigned int i, k;

	CHECK(!fresh_dir() && !start_log());
	img = img_create(tfd, IMG_SHMEM, 0);
	CHECK(img);
	for (i = 0; i < nr; i++) {
		ShmemEntry e = SHMEM_ENTRY__INIT;
		uint64_t pages = 0;

		for (k = 0; k < objs[i].nr_runs; k++)
			pages += objs[i].runs[k][1];
		e.id = objs[i].id;
		e.kind = objs[i].kind;
		e.size = objs[i].size;
		e.name = (char *)objs[i].name;
		e.has_seals = objs[i].seals >= 0;
		e.seals = objs[i].seals >= 0 ? (uint32_t)objs[i].seals : 0;
		e.nr_pages = pages + (uint64_t)objs[i].nr_pages_delta;
		e.has_mode = objs[i].mode != 0;
		e.mode = (uint32_t)objs[i].mode;
		CHECK(!img_write_entry(img, &e.base));
		CHECK(!write_obj(&objs[i]));
	}
	CHECK(!img_commit(img));
	return 0;
}

static const struct obj good_anon = {
	.id = 7, .kind = SHMEM_KIND__SHMEM_ANON, .size = 16 * PAGE, .seals = -1,
	.runs = { { 0, 2 }, { 5 * PAGE, 1 } }, .nr_runs = 2,
};
static const struct obj good_memfd = {
	.id = 3, .kind = SHMEM_KIND__SHMEM_MEMFD, .size = 2 * PAGE + 10, .name = "unit:obj",
	.seals = F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL | F_SEAL_EXEC, .mode = 0640,
	.runs = { { 2 * PAGE, 1 } }, .nr_runs = 1,
};

static int test_good_set(void)
{
	struct obj set[2] = { good_anon, good_memfd };
	struct rst_shmems s;
	char buf[PAGE], link[64], name[128];
	size_t i;
	struct stat st;
	ssize_t n;

	CHECK(!write_set(set, 2));
	CHECK(!rst_shmem_read(tfd, &s));
	CHECK(s.nr == 2);
	CHECK(!rst_shmem_create(&s));
	CHECK(rst_shmem_find(&s, 7, &i) && i == 0);
	/* anonymous: data at pages 0, 1, 5; the rest holes */
	CHECK(!fstat(s.fd[0], &st) && st.st_size == 16 * PAGE);
	CHECK(lseek(s.fd[0], 0, SEEK_HOLE) == 2 * PAGE);
	CHECK(lseek(s.fd[0], 2 * PAGE, SEEK_DATA) == 5 * PAGE);
	CHECK(lseek(s.fd[0], 6 * PAGE, SEEK_DATA) < 0 && errno == ENXIO);
	CHECK(pread(s.fd[0], buf, PAGE, 5 * PAGE) == PAGE && buf[0] == 'c' && buf[PAGE - 1] == 'c');
	snprintf(link, sizeof(link), "/proc/self/fd/%d", s.fd[0]);
	n = readlink(link, name, sizeof(name) - 1);
	CHECK(n > 0);
	name[n] = '\0';
	CHECK_STR(name, "/dev/zero (deleted)");
	/* memfd: exact size, its one run cut at the end, name and seals */
	CHECK(!fstat(s.fd[1], &st) && st.st_size == 2 * PAGE + 10);
	CHECK(pread(s.fd[1], buf, PAGE, 2 * PAGE) == 10 && buf[9] == 'a');
	CHECK(fcntl(s.fd[1], F_GET_SEALS) == good_memfd.seals);
	CHECK((st.st_mode & 07777) == 0640);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", s.fd[1]);
	n = readlink(link, name, sizeof(name) - 1);
	CHECK(n > 0);
	name[n] = '\0';
	CHECK_STR(name, "/memfd:unit:obj (deleted)");
	rst_shmem_free(&s);
	log_fini();
	return 0;
}

static int refused(const struct obj *objs, unsigned int nr, const char *msg)
{
	struct rst_shmems s;
	int r;

	CHECK(!write_set(objs, nr));
	r = rst_shmem_read(tfd, &s);
	rst_shmem_free(&s);
	log_fini();
	CHECK(r == -1);
	if (!log_has(msg)) {
		snprintf(unit_why, sizeof(unit_why), "no '%s' in %s/log", msg, tdir);
		return -1;
	}
	return 0;
}

static int test_bad_sizes(void)
{
	struct obj o = good_anon;

	o.size = 16 * PAGE + 1;			/* anonymous: page aligned */
	CHECK(!refused(&o, 1, "not page aligned"));
	o.size = RST_MAX_SHMEM_SIZE + PAGE;
	CHECK(!refused(&o, 1, "not page aligned"));
	o.size = 0;
	CHECK(!refused(&o, 1, "is zero"));
	o = good_anon;
	o.nr_pages_delta = 100;			/* more pages than the object holds */
	CHECK(!refused(&o, 1, "too small"));
	o.nr_pages_delta = 1;			/* more than the runs hold */
	CHECK(!refused(&o, 1, "shmem.img says"));
	return 0;
}

static int test_bad_runs(void)
{
	struct obj o = good_anon;

	o.runs[1][0] = 16 * PAGE;		/* starts past the end */
	CHECK(!refused(&o, 1, "outside the object"));
	o.runs[1][0] = 15 * PAGE;
	o.runs[1][1] = 2;			/* ends past the end */
	CHECK(!refused(&o, 1, "outside the object"));
	o = good_anon;
	o.runs[1][0] = PAGE;			/* overlaps the first */
	CHECK(!refused(&o, 1, "out of order"));
	o.runs[1][0] = 5 * PAGE + 1;		/* not page aligned */
	CHECK(!refused(&o, 1, "out of order"));
	o = good_anon;
	o.runs[1][1] = 0;
	CHECK(!refused(&o, 1, "is empty"));
	return 0;
}

static int test_bad_pages_file(void)
{
	struct obj o = good_anon;

	o.pages_delta = -1;
	CHECK(!refused(&o, 1, "truncated or corrupt"));
	o.pages_delta = PAGE;
	CHECK(!refused(&o, 1, "truncated or corrupt"));
	return 0;
}

static int test_bad_ids_names_seals(void)
{
	struct obj set[2] = { good_anon, good_anon };
	struct obj o = good_memfd;

	CHECK(!refused(set, 2, "zero or repeated"));
	set[0].id = 0;
	CHECK(!refused(set, 1, "zero or repeated"));
	o.seals = 0x1000;
	CHECK(!refused(&o, 1, "name or seals"));
	o = good_memfd;
	o.name = NULL;
	CHECK(!refused(&o, 1, "name or seals"));
	o = good_anon;
	o.name = "anon with a name";
	CHECK(!refused(&o, 1, "name or seals"));
	o = good_anon;
	o.mode = 0600;
	CHECK(!refused(&o, 1, "name or seals"));
	o = good_memfd;
	o.mode = 010777;
	CHECK(!refused(&o, 1, "name or seals"));
	o = good_memfd;
	o.kind = 9;
	CHECK(!refused(&o, 1, "unknown kind"));
	return 0;
}

/* An mm of one shared vma: 16 pages of object 7 from @pgoff. */
static void one_vma(MmEntry *mm, VmaEntry *v, VmaEntry **vp, uint64_t pgoff)
{
	mm_entry__init(mm);
	vma_entry__init(v);
	*vp = v;
	mm->n_vmas = 1;
	mm->vmas = vp;
	v->kind = VMA_KIND__VMA_ANON_SHARED;
	v->prot = PROT_READ | PROT_WRITE;	/* a writable one: its object fd is read-write */
	v->start = 0x10000000;
	v->end = v->start + 16 * PAGE;
	v->pgoff = pgoff;
	v->has_shmem_id = true;
	v->shmem_id = 7;
}

static int test_vma_checks(void)
{
	struct obj o = good_anon;
	struct rst_shmems s;
	VmaEntry v, *vp;
	MmEntry mm;

	CHECK(!write_set(&o, 1));
	CHECK(!rst_shmem_read(tfd, &s));
	one_vma(&mm, &v, &vp, 0);
	CHECK(!rst_shmem_check_mm(&s, &mm, 1));
	v.pgoff = PAGE;				/* one page too far */
	CHECK(rst_shmem_check_mm(&s, &mm, 1) == -1 && log_has("reaches past object 7"));
	v.pgoff = 0;
	v.shmem_id = 8;
	CHECK(rst_shmem_check_mm(&s, &mm, 1) == -1 && log_has("names no shared memory object"));
	rst_shmem_free(&s);
	log_fini();
	return 0;
}

static int test_no_shmem_img(void)
{
	struct rst_shmems s;

	CHECK(!fresh_dir());
	CHECK(!rst_shmem_read(tfd, &s) && s.nr == 0);
	CHECK(!rst_shmem_create(&s));
	rst_shmem_free(&s);
	return 0;
}

/*
 * The tree interface: the table is created once in the parent; a forked
 * process gets its vma descriptors from it and maps them; its write is seen
 * through the parent's own mapping of the same object.
 */
static int test_two_processes_share(void)
{
	struct obj o = good_anon;
	struct rst_shmems s;
	VmaEntry v, *vp;
	MmEntry mm;
	int vma_fd[1] = { -1 }, st;
	volatile char *mine;
	pid_t child;

	CHECK(!write_set(&o, 1));
	CHECK(!rst_shmem_read(tfd, &s) && !rst_shmem_create(&s));
	one_vma(&mm, &v, &vp, 4 * PAGE);
	CHECK(!rst_shmem_vma_fds(&s, &mm, vma_fd) && vma_fd[0] >= 0);
	mine = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, vma_fd[0], (off_t)v.pgoff);
	CHECK(mine != MAP_FAILED);
	close(vma_fd[0]);
	child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		int fd[1] = { -1 };
		char *p;

		if (rst_shmem_vma_fds(&s, &mm, fd))
			_exit(1);
		p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd[0], 4 * PAGE);
		if (p == MAP_FAILED)
			_exit(2);
		p[100] = 'z';
		_exit(0);
	}
	CHECK(waitpid(child, &st, 0) == child && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(mine[100] == 'z');
	munmap((void *)mine, PAGE);
	rst_shmem_free(&s);
	log_fini();
	return 0;
}

static int test_cleanup(void)
{
	char cmd[96];

	if (tfd >= 0) {
		close(tfd);
		tfd = -1;
		snprintf(cmd, sizeof(cmd), "rm -rf %s", tdir);
		CHECK(!system(cmd));
	}
	return 0;
}

static const struct unit_case cases[] = {
	{ "good set: created once, content, holes, name, size, seals, mode", test_good_set },
	{ "sizes: unaligned, huge, zero, more pages than fit refused", test_bad_sizes },
	{ "runs: outside, overlapping, unaligned, empty refused", test_bad_runs },
	{ "pages file shorter or longer than announced refused", test_bad_pages_file },
	{ "ids, names and seals: zero, repeated, unknown refused", test_bad_ids_names_seals },
	{ "vmas: unknown object or past its end refused", test_vma_checks },
	{ "no shmem.img: no objects", test_no_shmem_img },
	{ "two processes map one object: a write is seen by both", test_two_processes_share },
	{ "cleanup", test_cleanup },
};

UNIT_MAIN(cases)
