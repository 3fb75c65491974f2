/*
 * Pipes and FIFOs (images/pipe.proto): two fd kinds sharing the pipe data.
 *
 * Dump: one entry per open file description (a pipe end, an open FIFO);
 * once per pipe (by inode, so ends in different processes meet), its size
 * and queued bytes, read without consuming them: the pipe is opened again
 * through /proc/PID/fd/N and tee()d into a scratch pipe of the same size.
 *
 * Restore: the first end of a pipe creates it (pipe2), sizes it and writes
 * the bytes back; each end is handed out once, another open file
 * description of the same end is opened through /proc/self/fd. A FIFO is
 * held open O_RDWR (no blocking, keeps the data) while its fds are opened
 * by path. Packet-mode (O_DIRECT) pipes are refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define LOG_PREFIX "pipe: "
#include "log.h"
#include "dump.h"
#include "files.h"
#include "image.h"
#include "pipe.pb-c.h"

#define PIPE_MAX_DATA	(4u << 20)	/* queued bytes we carry per pipe */
#define PIPE_FLAGS	(O_ACCMODE | O_NONBLOCK)

/* ---- dump ------------------------------------------------------------------ */

struct pipe_dump {
	struct fd_list	*pipes, *fifos, *data;
	void		*seen;		/* tsearch of pipe_id values in data */
	int		tmp[2];		/* scratch pipe, empty between uses; -1 */
	int		tmp_size;
};

static int id_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static struct pipe_dump *pipe_state(struct dump_files *d)
{
	struct pipe_dump *pd = d->priv[FD_KIND__FD_PIPE];

	if (pd)
		return pd;
	pd = calloc(1, sizeof(*pd));
	if (pd) {
		pd->tmp[0] = pd->tmp[1] = -1;
		pd->pipes = calloc(1, sizeof(*pd->pipes));
		pd->fifos = calloc(1, sizeof(*pd->fifos));
		pd->data = calloc(1, sizeof(*pd->data));
	}
	if (!pd || !pd->pipes || !pd->fifos || !pd->data) {
		pr_err("out of memory");
		if (pd) {
			free(pd->pipes);
			free(pd->fifos);
			free(pd->data);
			free(pd);
		}
		return NULL;
	}
	d->priv[FD_KIND__FD_PIPE] = pd;
	return pd;
}

static bool pipe_match(const struct fd_probe *p)
{
	return S_ISFIFO(p->st.st_mode) && !strncmp(p->link, "pipe:[", 6);
}

static bool fifo_match(const struct fd_probe *p)
{
	return S_ISFIFO(p->st.st_mode) && p->link[0] == '/';
}

/* The scratch pipe, at least @size bytes big. */
static int scratch(struct pipe_dump *pd, int size)
{
	if (pd->tmp[0] < 0 && pipe2(pd->tmp, O_CLOEXEC | O_NONBLOCK)) {
		pr_perror("scratch pipe");
		return -1;
	}
	if (pd->tmp_size < size) {
		if (fcntl(pd->tmp[1], F_SETPIPE_SZ, size) < size) {
			pr_perror("scratch pipe of %d bytes", size);
			return -1;
		}
		pd->tmp_size = size;
	}
	return 0;
}

/* Copy what is queued in the pipe behind @p into @de, leaving it queued. */
static int peek_data(struct pipe_dump *pd, struct fd_probe *p, PipeDataEntry *de)
{
	char link[16];
	int src, size, ret = -1;
	ssize_t n, got = 0;

	snprintf(link, sizeof(link), "%d", p->fd);
	src = openat(p->procfd, link, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (src < 0) {
		pr_perror("fd %d: cannot open the pipe again through /proc/%d/fd", p->fd, p->pid);
		return -1;
	}
	size = fcntl(src, F_GETPIPE_SZ);
	if (size <= 0 || (unsigned int)size > PIPE_MAX_DATA) {
		pr_err("fd %d: pipe size %d: more than %u bytes is not supported yet", p->fd,
		       size, PIPE_MAX_DATA);
		goto out;
	}
	de->size = (uint32_t)size;
	if (scratch(pd, size))
		goto out;
	n = tee(src, pd->tmp[1], (size_t)size, SPLICE_F_NONBLOCK);
	if (n < 0 && errno != EAGAIN) {
		pr_perror("fd %d: tee", p->fd);
		goto out;
	}
	if (n > 0) {
		de->data.data = malloc((size_t)n);
		if (!de->data.data) {
			pr_err("out of memory");
			goto out;
		}
		while (got < n) {
			ssize_t r = read(pd->tmp[0], de->data.data + got, (size_t)(n - got));

			if (r <= 0) {
				pr_perror("fd %d: reading the scratch pipe", p->fd);
				goto out;
			}
			got += r;
		}
		de->has_data = true;
		de->data.len = (size_t)n;
	}
	ret = 0;
out:
	close(src);
	return ret;
}

/* Size and data, once per pipe. */
static int dump_data(struct pipe_dump *pd, struct fd_probe *p)
{
	PipeDataEntry *de;
	uint64_t *key, **found;

	if (tfind(&p->st.st_ino, &pd->seen, id_cmp))
		return 0;
	de = calloc(1, sizeof(*de));
	key = malloc(sizeof(*key));
	if (!de || !key) {
		free(de);
		free(key);
		pr_err("out of memory");
		return -1;
	}
	pipe_data_entry__init(de);
	de->pipe_id = *key = p->st.st_ino;
	found = tsearch(key, &pd->seen, id_cmp);
	if (!found || peek_data(pd, p, de)) {
		if (!found)
			free(key);
		protobuf_c_message_free_unpacked(&de->base, NULL);
		return -1;
	}
	return fd_list_add(pd->data, de);
}

static int check_flags(const struct fd_probe *p)
{
	if (p->fi.flags & O_DIRECT) {
		pr_err("fd %d: packet-mode (O_DIRECT) pipe: not supported yet", p->fd);
		return -1;
	}
	return 0;
}

static int pipe_dump(struct dump_files *d, struct fd_probe *p, uint32_t *id)
{
	struct pipe_dump *pd = pipe_state(d);
	PipeEntry *e;

	if (!pd || check_flags(p) || dump_data(pd, p))
		return -1;
	e = malloc(sizeof(*e));
	if (!e) {
		pr_err("out of memory");
		return -1;
	}
	pipe_entry__init(e);
	e->id = *id = fd_obj_id(d);
	e->pipe_id = p->st.st_ino;
	e->flags = p->fi.flags & PIPE_FLAGS;
	return fd_list_add(pd->pipes, e);
}

static int fifo_dump(struct dump_files *d, struct fd_probe *p, uint32_t *id)
{
	struct pipe_dump *pd = pipe_state(d);
	char what[32];
	FifoEntry *e;

	snprintf(what, sizeof(what), "fd %d", p->fd);
	if (!pd || check_flags(p) || dump_check_path(what, p->link, &p->st) || dump_data(pd, p))
		return -1;
	e = malloc(sizeof(*e));
	if (!e) {
		pr_err("out of memory");
		return -1;
	}
	fifo_entry__init(e);
	e->path = strdup(p->link);
	e->id = *id = fd_obj_id(d);
	e->pipe_id = p->st.st_ino;
	e->dev = p->st.st_dev;
	e->flags = p->fi.flags & PIPE_FLAGS;
	if (!e->path) {
		free(e);
		pr_err("out of memory");
		return -1;
	}
	return fd_list_add(pd->fifos, e);
}

static int pipe_write(struct dump_files *d, int dirfd)
{
	struct pipe_dump *pd = d->priv[FD_KIND__FD_PIPE];

	if (!pd)
		return 0;
	return fd_write_entries(dirfd, IMG_PIPES, pd->pipes->v, pd->pipes->nr) ||
	       fd_write_entries(dirfd, IMG_FIFOS, pd->fifos->v, pd->fifos->nr) ||
	       fd_write_entries(dirfd, IMG_PIPES_DATA, pd->data->v, pd->data->nr) ? -1 : 0;
}

static void pipe_free(struct dump_files *d)
{
	struct pipe_dump *pd = d->priv[FD_KIND__FD_PIPE];

	if (!pd)
		return;
	fd_list_free(pd->pipes);
	fd_list_free(pd->fifos);
	fd_list_free(pd->data);
	tdestroy(pd->seen, free);
	if (pd->tmp[0] >= 0) {
		close(pd->tmp[0]);
		close(pd->tmp[1]);
	}
	free(pd);
	d->priv[FD_KIND__FD_PIPE] = NULL;
}

/* ---- restore ----------------------------------------------------------------- */

/* One pipe being restored. */
struct rpipe {
	uint64_t		pipe_id;
	const PipeDataEntry	*data;		/* NULL: empty, default size */
	int			end[2];		/* criu's ends not handed out yet, -1 */
	int			any;		/* an end to reopen through /proc, -1 */
	int			hold;		/* FIFO: O_RDWR holder, -1 */
};

struct pipe_rst {
	struct fd_list	pipes, fifos, data;
	struct rpipe	*p;		/* sorted by pipe_id */
	size_t		nr;
};

static int rpipe_cmp(const void *a, const void *b)
{
	const struct rpipe *x = a, *y = b;

	return x->pipe_id < y->pipe_id ? -1 : x->pipe_id > y->pipe_id;
}

static int check_flags_img(const char *img, uint32_t id, uint32_t flags)
{
	if ((flags & ~PIPE_FLAGS) || (flags & O_ACCMODE) == 3) {
		pr_err("%s: object %u has bad flags %#o", img, id, flags);
		return -1;
	}
	return 0;
}

static int check_pipe(const ProtobufCMessage *m, void *ctx)
{
	const PipeEntry *e = (const PipeEntry *)m;

	if (check_flags_img("pipes.img", e->id, e->flags))
		return -1;
	return fd_rst_add(ctx, FD_KIND__FD_PIPE, e->id, m);
}

static int check_fifo(const ProtobufCMessage *m, void *ctx)
{
	const FifoEntry *e = (const FifoEntry *)m;

	if (check_flags_img("fifos.img", e->id, e->flags))
		return -1;
	if (e->path[0] != '/' || strnlen(e->path, PATH_MAX) >= PATH_MAX) {
		pr_err("fifos.img: object %u: path is not absolute or too long", e->id);
		return -1;
	}
	return fd_rst_add(ctx, FD_KIND__FD_FIFO, e->id, m);
}

static int check_data(const ProtobufCMessage *m, void *ctx)
{
	const PipeDataEntry *e = (const PipeDataEntry *)m;

	(void)ctx;
	if (e->size < 4096 || e->size > PIPE_MAX_DATA || (e->has_data && e->data.len > e->size)) {
		pr_err("pipes-data.img: pipe %llu: size %u or %zu bytes of data out of range",
		       (unsigned long long)e->pipe_id, e->size, e->has_data ? e->data.len : 0);
		return -1;
	}
	return 0;
}

static int read_one(int dirfd, enum img_kind kind, int (*check)(const ProtobufCMessage *, void *),
		    struct fd_rst *r, struct fd_list *l)
{
	if (faccessat(dirfd, img_desc(kind)->fmt, F_OK, 0) && errno == ENOENT)
		return 0;
	return img_read_all(dirfd, kind, 0, RST_MAX_OBJECTS, check, r, &l->v, &l->nr);
}

/* One struct rpipe per pipe_id named by an end; data attached, duplicates refused. */
static int index_pipes(struct pipe_rst *pr)
{
	size_t i, n = pr->pipes.nr + pr->fifos.nr, k = 0;
	struct rpipe key, *rp;

	pr->p = calloc(n + 1, sizeof(*pr->p));
	if (!pr->p) {
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		const ProtobufCMessage *m = i < pr->pipes.nr ? pr->pipes.v[i] : pr->fifos.v[i - pr->pipes.nr];
		uint64_t id = i < pr->pipes.nr ? ((const PipeEntry *)m)->pipe_id :
			((const FifoEntry *)m)->pipe_id;

		pr->p[k++] = (struct rpipe){ .pipe_id = id, .end = { -1, -1 }, .any = -1, .hold = -1 };
	}
	qsort(pr->p, k, sizeof(*pr->p), rpipe_cmp);
	for (i = 0, pr->nr = 0; i < k; i++)
		if (!pr->nr || pr->p[pr->nr - 1].pipe_id != pr->p[i].pipe_id)
			pr->p[pr->nr++] = pr->p[i];
	for (i = 0; i < pr->data.nr; i++) {
		const PipeDataEntry *de = (const PipeDataEntry *)pr->data.v[i];

		key.pipe_id = de->pipe_id;
		rp = pr->nr ? bsearch(&key, pr->p, pr->nr, sizeof(*pr->p), rpipe_cmp) : NULL;
		if (!rp || rp->data) {
			pr_err("pipes-data.img: pipe %llu is repeated or has no end",
			       (unsigned long long)de->pipe_id);
			return -1;
		}
		rp->data = de;
	}
	return 0;
}

static int pipe_read(struct fd_rst *r, int dirfd)
{
	struct pipe_rst *pr = calloc(1, sizeof(*pr));

	if (!pr) {
		pr_err("out of memory");
		return -1;
	}
	r->priv[FD_KIND__FD_PIPE] = pr;
	if (read_one(dirfd, IMG_PIPES, check_pipe, r, &pr->pipes) ||
	    read_one(dirfd, IMG_FIFOS, check_fifo, r, &pr->fifos) ||
	    read_one(dirfd, IMG_PIPES_DATA, check_data, r, &pr->data))
		return -1;
	return index_pipes(pr);
}

static void pipe_rst_free(struct fd_rst *r)
{
	struct pipe_rst *pr = r->priv[FD_KIND__FD_PIPE];
	size_t i;

	if (!pr)
		return;
	for (i = 0; i < pr->nr; i++) {
		if (pr->p[i].end[0] >= 0)
			close(pr->p[i].end[0]);
		if (pr->p[i].end[1] >= 0)
			close(pr->p[i].end[1]);
		if (pr->p[i].hold >= 0)
			close(pr->p[i].hold);
	}
	free(pr->p);
	img_free_all(pr->pipes.v, pr->pipes.nr);
	img_free_all(pr->fifos.v, pr->fifos.nr);
	img_free_all(pr->data.v, pr->data.nr);
	free(pr);
	r->priv[FD_KIND__FD_PIPE] = NULL;
}

static struct rpipe *find_pipe(struct fd_rst *r, uint64_t pipe_id)
{
	struct pipe_rst *pr = r->priv[FD_KIND__FD_PIPE];
	struct rpipe key = { .pipe_id = pipe_id };

	return bsearch(&key, pr->p, pr->nr, sizeof(*pr->p), rpipe_cmp);
}

/* Size the new pipe behind @wfd and queue the dumped bytes again. */
static int fill(const struct rpipe *rp, int wfd)
{
	size_t off = 0;

	if (!rp->data)
		return 0;
	if (fcntl(wfd, F_SETPIPE_SZ, (int)rp->data->size) < (int)rp->data->size) {
		pr_perror("pipe %llu: F_SETPIPE_SZ %u", (unsigned long long)rp->pipe_id, rp->data->size);
		return -1;
	}
	while (rp->data->has_data && off < rp->data->data.len) {
		ssize_t n = write(wfd, rp->data->data.data + off, rp->data->data.len - off);

		if (n <= 0) {
			pr_perror("pipe %llu: writing its %zu bytes back",
				  (unsigned long long)rp->pipe_id, rp->data->data.len);
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

static int set_fl(int fd, uint32_t flags)
{
	if ((flags & O_NONBLOCK) && fcntl(fd, F_SETFL, O_NONBLOCK)) {
		pr_perror("F_SETFL");
		close(fd);
		return -1;
	}
	return fd;
}

/* Another open file description on the pipe behind @fd. */
static int reopen(int fd, uint32_t flags)
{
	char path[64];
	int nfd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	nfd = open(path, (int)(flags & O_ACCMODE) | O_CLOEXEC);
	if (nfd < 0)
		pr_perror("cannot open the pipe again through %s", path);
	return nfd;
}

static int pipe_open(struct fd_rst *r, const struct fd_obj *o, const struct cr_options *opt)
{
	const PipeEntry *e = (const PipeEntry *)o->e;
	struct rpipe *rp = find_pipe(r, e->pipe_id);
	int acc = (int)(e->flags & O_ACCMODE), fd;

	(void)opt;
	if (rp->any < 0) {
		if (pipe2(rp->end, O_CLOEXEC)) {
			pr_perror("pipe2");
			return -1;
		}
		rp->any = rp->end[0];
		if (fill(rp, rp->end[1]))
			return -1;
	}
	if (acc != O_RDWR && rp->end[acc == O_WRONLY] >= 0) {
		fd = rp->end[acc == O_WRONLY];
		rp->end[acc == O_WRONLY] = -1;	/* rp->any stays open in criu until the fork */
	} else {
		fd = reopen(rp->any, e->flags);
		if (fd < 0)
			return -1;
	}
	return set_fl(fd, e->flags);
}

static int fifo_open(struct fd_rst *r, const struct fd_obj *o, const struct cr_options *opt)
{
	const FifoEntry *e = (const FifoEntry *)o->e;
	struct rpipe *rp = find_pipe(r, e->pipe_id);
	struct stat st;
	int fd;

	(void)opt;
	if (rp->hold < 0) {
		/* checked through O_PATH before anything at the path is opened */
		int pfd = open(e->path, O_PATH | O_CLOEXEC);

		if (pfd < 0) {
			pr_perror("cannot open the FIFO %s", e->path);
			return -1;
		}
		if (fstat(pfd, &st) || !S_ISFIFO(st.st_mode) ||
		    (uint64_t)st.st_ino != e->pipe_id || (uint64_t)st.st_dev != e->dev) {
			pr_err("%s: not the FIFO of the dump", e->path);
			close(pfd);
			return -1;
		}
		rp->hold = rst_reopen(pfd, O_RDWR | O_NONBLOCK, e->path);
		if (rp->hold < 0)
			return -1;
		if (fill(rp, rp->hold))
			return -1;
	}
	fd = open(e->path, (int)(e->flags & O_ACCMODE) | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("cannot open the FIFO %s", e->path);
		return -1;
	}
	if (!(e->flags & O_NONBLOCK) && fcntl(fd, F_SETFL, 0)) {
		pr_perror("F_SETFL %s", e->path);
		close(fd);
		return -1;
	}
	return fd;
}

static uint64_t pipe_group(const struct fd_rst *r, const struct fd_obj *o)
{
	(void)r;
	return ((const PipeEntry *)o->e)->pipe_id;
}

static uint64_t fifo_group(const struct fd_rst *r, const struct fd_obj *o)
{
	(void)r;
	return ((const FifoEntry *)o->e)->pipe_id;
}

const struct fd_ops fd_pipe_ops = {
	.kind = FD_KIND__FD_PIPE, .name = "pipe", .img = IMG_PIPES,
	.match = pipe_match, .dump = pipe_dump, .write = pipe_write, .free = pipe_free,
	.read = pipe_read, .open = pipe_open, .rst_free = pipe_rst_free, .group = pipe_group,
};

const struct fd_ops fd_fifo_ops = {
	.kind = FD_KIND__FD_FIFO, .name = "fifo", .img = IMG_FIFOS,
	.match = fifo_match, .dump = fifo_dump, .open = fifo_open, .group = fifo_group,
	/* written, read and freed with the pipes */
};
