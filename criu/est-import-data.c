/*
 * Files whose content the dump carries (ghosts, memfds): our entries hold
 * file_data runs whose bytes follow one another in a raw image of the
 * kind (criu/include/file-data.h). Shared by est-import-ghost.c and
 * est-import-shmem.c.
 */
#include <stdlib.h>

#define LOG_PREFIX "est-import: "
#include "est-import-int.h"
#include "file-data.h"
#include "log.h"

#define MAX_RUNS	FDATA_MAX_RUNS

int imp_fdata_add(FileData *d, uint64_t off, uint64_t len, const char *img)
{
	FileRun *last = d->n_runs ? d->runs[d->n_runs - 1] : NULL;

	if (last && last->off + last->len == off) {
		last->len += len;	/* their bytes are adjacent in the raw image too */
		return 0;
	}
	if (d->n_runs == MAX_RUNS) {
		pr_err("not supported yet: %s: more than %d runs of data", img, MAX_RUNS);
		return -1;
	}
	return fdata_add_run(d, off, len);
}

void imp_fdata_release(FileData *d)
{
	size_t i;

	for (i = 0; i < d->n_runs; i++)
		free(d->runs[i]);
	free(d->runs);
	d->runs = NULL;
	d->n_runs = 0;
}

int imp_write_data(struct imp *im, enum img_kind kind, enum img_kind raw_kind, size_t n,
		   imp_data_conv conv, void (*release)(ProtobufCMessage *m), void *ctx)
{
	struct cr_img *raw = img_create(im->out, raw_kind, 0);
	ProtobufCMessage **m = imp_zalloc(n * sizeof(*m));
	uint64_t off = 0;
	size_t i, done = 0;
	int ret = -1;

	if (!raw || !m)
		goto out;
	for (i = 0; i < n; i++, done++) {
		m[i] = conv(im, i, img_raw_fd(raw), &off, ctx);
		if (!m[i])
			goto out;
	}
	if (!img_commit(raw))
		ret = imp_write(im, kind, 0, m, done);
	raw = NULL;
out:
	if (raw)
		img_abort(raw);
	for (i = 0; m && i < done; i++)
		release(m[i]);
	free(m);
	return ret;
}
