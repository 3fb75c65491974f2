/*
 * Content of deleted files and memfds (criu/include/file-data.h): runs of
 * data found with SEEK_DATA/SEEK_HOLE or FIEMAP, bytes in a raw image,
 * holes kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fiemap.h>
#include <linux/fs.h>

#define LOG_PREFIX "files: "
#include "log.h"
#include "file-data.h"
#include "image.h"

#define COPY_BUF	(1u << 20)
#define FIEMAP_BATCH	64

FileData *fdata_new(void)
{
	FileData *d = malloc(sizeof(*d));

	if (!d) {
		pr_err("out of memory");
		return NULL;
	}
	file_data__init(d);
	return d;
}

/* Copy @len bytes at @off of @src to the end of @dst. */
static int copy_run(int src, int dst, uint64_t off, uint64_t len, char *buf)
{
	while (len) {
		size_t want = len < COPY_BUF ? (size_t)len : COPY_BUF;
		ssize_t n = pread(src, buf, want, (off_t)off), w;

		if (n <= 0) {
			pr_perror("file data: read %zu bytes at %llu", want, (unsigned long long)off);
			return -1;
		}
		w = write(dst, buf, (size_t)n);
		if (w != n) {
			pr_perror("file data: write to the image");
			return -1;
		}
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

int fdata_add_run(FileData *d, uint64_t off, uint64_t len)
{
	FileRun **v = realloc(d->runs, (d->n_runs + 1) * sizeof(*v));
	FileRun *r = malloc(sizeof(*r));

	if (v)
		d->runs = v;
	if (!v || !r) {
		free(r);
		pr_err("out of memory");
		return -1;
	}
	file_run__init(r);
	r->off = off;
	r->len = len;
	d->runs[d->n_runs++] = r;
	return 0;
}

/* The next run of data at or after @off: [*start, *end), or 0 at the end. */
static int next_run(int src, uint64_t off, uint64_t size, uint64_t *start, uint64_t *end)
{
	off_t d = lseek(src, (off_t)off, SEEK_DATA), h;

	if (d < 0 && errno == ENXIO)
		return 0;
	if (d < 0)
		return -1;
	if ((uint64_t)d >= size)
		return 0;
	h = lseek(src, d, SEEK_HOLE);
	if (h < 0)
		return -1;
	*start = (uint64_t)d;
	*end = (uint64_t)h < size ? (uint64_t)h : size;
	return 1;
}

/* Add [@start, @end) to @d: joined to the last run if they touch; the last run allowed takes the rest. */
static int add_run(FileData *d, uint64_t start, uint64_t end, uint64_t size)
{
	FileRun *last = d->n_runs ? d->runs[d->n_runs - 1] : NULL;

	if (last && last->off + last->len >= start) {
		if (end > last->off + last->len)
			last->len = end - last->off;
		return 0;
	}
	if (d->n_runs == FDATA_MAX_RUNS - 1)
		end = size;	/* the last run takes the rest, holes and all */
	return fdata_add_run(d, start, end - start);
}

static int scan_seek(int src, uint64_t size, FileData *d)
{
	uint64_t off = 0, start, end;
	int ret;

	while (off < size) {
		ret = next_run(src, off, size, &start, &end);
		if (ret < 0) {
			pr_perror("file data: SEEK_DATA/SEEK_HOLE at %llu", (unsigned long long)off);
			return -1;
		}
		if (!ret)
			break;
		if (add_run(d, start, end, size))
			return -1;
		off = d->runs[d->n_runs - 1]->off + d->runs[d->n_runs - 1]->len;
	}
	return 0;
}

/*
 * Extent @e into @d, cut at @size; *@off moves past it. 2: the end (the
 * last extent, or the runs reach @size), 0: go on, -1 logged.
 */
static int fiemap_extent(FileData *d, const struct fiemap_extent *e, uint64_t size, uint64_t *off)
{
	uint64_t start = e->fe_logical < *off ? *off : e->fe_logical;
	uint64_t end = e->fe_logical + e->fe_length;
	const FileRun *last;

	if (start >= size)
		return 2;
	if (end > size)
		end = size;
	if (end > start && add_run(d, start, end, size))
		return -1;
	*off = end > *off ? end : *off;
	last = d->n_runs ? d->runs[d->n_runs - 1] : NULL;
	if ((e->fe_flags & FIEMAP_EXTENT_LAST) || (last && last->off + last->len >= size))
		return 2;
	return 0;
}

/*
 * The extents FIEMAP lists, FIEMAP_BATCH per call, after the file's dirty
 * pages are written back (FIEMAP_FLAG_SYNC: a file system need not report
 * delayed allocation): allocated and unwritten ones alike (an unwritten
 * extent may hold data a read returns), cut at @size. 1: the file system has no
 * FIEMAP (tmpfs), and @d is untouched.
 */
static int scan_fiemap(int src, uint64_t size, FileData *d)
{
	struct fiemap *m = malloc(sizeof(*m) + FIEMAP_BATCH * sizeof(m->fm_extents[0]));
	uint64_t off = 0;
	unsigned int i;
	int ret = 0;

	if (!m) {
		pr_err("out of memory");
		return -1;
	}
	while (!ret && off < size) {
		memset(m, 0, sizeof(*m));
		m->fm_start = off;
		m->fm_length = size - off;
		m->fm_extent_count = FIEMAP_BATCH;
		m->fm_flags = FIEMAP_FLAG_SYNC;	/* data still in the page cache counts too */
		if (ioctl(src, FS_IOC_FIEMAP, m)) {
			ret = (errno == EOPNOTSUPP || errno == ENOTTY) && !d->n_runs ? 1 : -1;
			if (ret < 0)
				pr_perror("file data: FIEMAP at %llu", (unsigned long long)off);
			break;
		}
		if (!m->fm_mapped_extents)
			break;
		for (i = 0; !ret && i < m->fm_mapped_extents; i++)
			ret = fiemap_extent(d, &m->fm_extents[i], size, &off);
	}
	free(m);
	return ret < 0 ? -1 : ret == 1 ? 1 : 0;
}

int fdata_scan(int src, uint64_t size, bool fiemap, FileData *d, uint64_t *bytes)
{
	size_t i;
	int ret = fiemap ? scan_fiemap(src, size, d) : 1;

	if (ret > 0)
		ret = scan_seek(src, size, d);
	if (ret)
		return -1;
	*bytes = 0;
	for (i = 0; i < d->n_runs; i++)
		*bytes += d->runs[i]->len;
	return 0;
}

static int copy_runs(struct fdata_out *w, int src, FileData *d, char *buf)
{
	int fd = img_raw_fd(w->img);
	size_t i;

	for (i = 0; i < d->n_runs; i++) {
		if (copy_run(src, fd, d->runs[i]->off, d->runs[i]->len, buf))
			return -1;
		w->off += d->runs[i]->len;
	}
	return 0;
}

int fdata_start(struct fdata_out *w, int dirfd, int kind)
{
	if (!w->img)
		w->img = img_create(dirfd, (enum img_kind)kind, 0);
	return w->img ? 0 : -1;
}

int fdata_copy(struct fdata_out *w, int dirfd, int kind, int src, FileData *d)
{
	char *buf;
	int ret;

	if (fdata_start(w, dirfd, kind))
		return -1;
	buf = malloc(COPY_BUF);
	if (!buf) {
		pr_err("out of memory");
		return -1;
	}
	d->off = w->off;
	ret = copy_runs(w, src, d, buf);
	free(buf);
	return ret;
}

int fdata_save(struct fdata_out *w, int dirfd, int kind, int src, uint64_t size, FileData *d)
{
	uint64_t bytes;

	return fdata_scan(src, size, false, d, &bytes) || fdata_copy(w, dirfd, kind, src, d) ? -1 : 0;
}

int fdata_commit(struct fdata_out *w)
{
	struct cr_img *img = w->img;

	w->img = NULL;
	return img ? img_commit(img) : 0;
}

void fdata_abort(struct fdata_out *w)
{
	if (w->img)
		img_abort(w->img);
	w->img = NULL;
}

/* ---- restore ------------------------------------------------------------- */

struct cr_img *fdata_open(int dirfd, int kind, uint64_t *size)
{
	struct cr_img *img = img_open(dirfd, (enum img_kind)kind, 0);
	struct stat st;

	if (!img)
		return NULL;
	if (fstat(img_raw_fd(img), &st)) {
		pr_perror("%s: stat", img_desc((enum img_kind)kind)->fmt);
		img_close(img);
		return NULL;
	}
	*size = (uint64_t)st.st_size;
	return img;
}

int *fdata_fds_new(size_t n)
{
	int *fds = malloc((n + 1) * sizeof(*fds));
	size_t i;

	if (!fds) {
		pr_err("out of memory");
		return NULL;
	}
	for (i = 0; i < n; i++)
		fds[i] = -1;
	return fds;
}

void fdata_fds_free(int *fds, size_t n)
{
	size_t i;

	for (i = 0; fds && i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
}

int fdata_check(const char *what, const FileData *d, uint64_t size, uint64_t raw_size)
{
	uint64_t prev = 0, bytes = 0;
	size_t i;

	if (d->n_runs > FDATA_MAX_RUNS) {
		pr_err("%s: %zu runs of data, more than %d", what, d->n_runs, FDATA_MAX_RUNS);
		return -1;
	}
	for (i = 0; i < d->n_runs; i++) {
		const FileRun *r = d->runs[i];

		if (!r->len || r->off < prev || r->off > size || r->len > size - r->off) {
			pr_err("%s: run %zu (%llu bytes at %llu) is empty, out of order or past the size %llu",
			       what, i, (unsigned long long)r->len, (unsigned long long)r->off,
			       (unsigned long long)size);
			return -1;
		}
		prev = r->off + r->len;
		bytes += r->len;	/* <= size: runs are disjoint and inside it */
	}
	if (d->off > raw_size || bytes > raw_size - d->off) {
		pr_err("%s: %llu bytes at %llu reach past the data image (%llu bytes)", what,
		       (unsigned long long)bytes, (unsigned long long)d->off,
		       (unsigned long long)raw_size);
		return -1;
	}
	return 0;
}

static int fill_run(const char *what, int dst, int raw, uint64_t from, const FileRun *r, char *buf)
{
	uint64_t done = 0;

	while (done < r->len) {
		size_t want = r->len - done < COPY_BUF ? (size_t)(r->len - done) : COPY_BUF;
		ssize_t n = pread(raw, buf, want, (off_t)(from + done));

		if (n <= 0) {
			pr_perror("%s: cannot read its data (%zu bytes at %llu)", what, want,
				  (unsigned long long)(from + done));
			return -1;
		}
		if (pwrite(dst, buf, (size_t)n, (off_t)(r->off + done)) != n) {
			pr_perror("%s: cannot write its data", what);
			return -1;
		}
		done += (uint64_t)n;
	}
	return 0;
}

int fdata_fill(const char *what, int dst, int raw, const FileData *d, uint64_t size)
{
	uint64_t from = d->off;
	char *buf = NULL;
	size_t i;
	int ret = -1;

	if (ftruncate(dst, (off_t)size)) {
		pr_perror("%s: cannot make it %llu bytes", what, (unsigned long long)size);
		return -1;
	}
	if (d->n_runs && !(buf = malloc(COPY_BUF))) {
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < d->n_runs; i++) {
		if (fill_run(what, dst, raw, from, d->runs[i], buf))
			goto out;
		from += d->runs[i]->len;
	}
	ret = 0;
out:
	free(buf);
	return ret;
}
