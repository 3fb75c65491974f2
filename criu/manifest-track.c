/*
 * Checksums of a page file taken while the dump writes it, so that the
 * manifest does not read the file a second time at the end of the dump
 * (Documentation/performance.md, "The manifest").
 *
 * The page data goes from the parasite's pipe into pages-PID.img with
 * splice(): criu never holds the bytes. A thread of its own follows the
 * writer and reads back, with pread(), each 8 MiB part once it is complete
 * (the kernel has just written it: it is in the page cache), on the other
 * cpu while the writer splices the next ones. The parts' digests are kept
 * under the file's inode; manifest_write() takes them instead of reading
 * those parts again. Every later change of the file must be announced with
 * manifest_track_changed() (the rseq word, the vdso put in by the export):
 * its parts are then read again. The size is checked too; the ctime cannot
 * be (the renames into place change it). A change not announced would make
 * the manifest disagree with the file: the restore then refuses the dump,
 * and every e2e case restores what it dumped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <time.h>
#include <xxhash.h>

#define LOG_PREFIX "manifest: "
#include "log.h"
#include "manifest.h"

struct mf_track {
	int fd;
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t written;	/* bytes [0, written) are final (under mu) */
	bool closed;		/* the writer is done (under mu) */
	uint64_t nr, cap;	/* parts hashed (the thread's until joined) */
	uint64_t *digest;
	int err;
	uint64_t cpu_us;	/* the thread's own cpu time */
};

/* What a finished tracker left: the digests of one inode's parts. */
struct tracked {
	dev_t dev;
	ino_t ino;
	uint64_t size, nr;
	uint64_t *digest;
	uint8_t *ok;		/* 0: the part changed since, read it again */
	struct tracked *next;
};

static struct tracked *tracked;
static pthread_mutex_t tracked_mu = PTHREAD_MUTEX_INITIALIZER;

static uint64_t cpu_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The next part's end once it is complete, 0 when nothing is left (under mu). */
static uint64_t next_part(struct mf_track *t)
{
	uint64_t start = t->nr * MANIFEST_PART_SIZE, end = start + MANIFEST_PART_SIZE;

	while (!t->closed && t->written < end)
		pthread_cond_wait(&t->cv, &t->mu);
	if (t->written >= end)
		return end;
	return t->written > start ? t->written : 0;	/* the last part, shorter; or none */
}

static void *track_thread(void *arg)
{
	struct mf_track *t = arg;
	void *buf = malloc(MANIFEST_READ_SIZE);
	uint64_t end, d;

	if (!buf)
		t->err = ENOMEM;
	while (!t->err) {
		uint64_t start = t->nr * MANIFEST_PART_SIZE;

		pthread_mutex_lock(&t->mu);
		end = next_part(t);
		pthread_mutex_unlock(&t->mu);
		if (!end)
			break;
		if (t->nr == t->cap) {
			uint64_t *n = realloc(t->digest, (t->cap ? t->cap * 2 : 64) * sizeof(*n));

			if (!n) {
				t->err = ENOMEM;
				break;
			}
			t->digest = n;
			t->cap = t->cap ? t->cap * 2 : 64;
		}
		if (manifest_hash_range(t->fd, start, end - start, buf, &d))
			t->err = errno ? errno : EIO;
		else
			t->digest[t->nr++] = d;
	}
	free(buf);
	t->cpu_us = cpu_now_us();
	return NULL;
}

struct mf_track *manifest_track_start(int fd)
{
	struct mf_track *t = calloc(1, sizeof(*t));
	char path[64];

	if (!t)
		return NULL;
	/* the writer's fd is write-only: the same file opened again for reading */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	t->fd = open(path, O_RDONLY | O_CLOEXEC);
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	if (t->fd < 0 || pthread_create(&t->tid, NULL, track_thread, t)) {
		pr_debug("no checksum thread: the page file is read again at the end");
		if (t->fd >= 0)
			close(t->fd);
		free(t);
		return NULL;
	}
	return t;
}

void manifest_track_written(struct mf_track *t, uint64_t end)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->mu);
	t->written = end;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
}

/* Keep @t's digests under the file's inode (no error: at worst it is read again). */
static void keep(struct mf_track *t)
{
	struct tracked *k = calloc(1, sizeof(*k));
	struct stat st;

	if (!k || fstat(t->fd, &st) || (uint64_t)st.st_size != t->written ||
	    !(k->ok = malloc(t->nr ? t->nr : 1))) {
		free(k);
		return;
	}
	k->dev = st.st_dev;
	k->ino = st.st_ino;
	k->size = st.st_size;
	k->nr = t->nr;
	k->digest = t->digest;
	memset(k->ok, 1, t->nr);
	t->digest = NULL;
	pthread_mutex_lock(&tracked_mu);
	k->next = tracked;
	tracked = k;
	pthread_mutex_unlock(&tracked_mu);
}

void manifest_track_end(struct mf_track *t, bool ok)
{
	uint64_t t0 = now_us();

	if (!t)
		return;
	pthread_mutex_lock(&t->mu);
	t->closed = true;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->tid, NULL);
	if (ok && !t->err) {
		pr_info("%llu bytes checksummed while written: %llu us of the thread's cpu, "
			"%llu us waited for", (unsigned long long)t->written,
			(unsigned long long)t->cpu_us, (unsigned long long)(now_us() - t0));
		keep(t);
	}
	else if (ok)
		pr_debug("checksum thread: %s; the page file is read again at the end", strerror(t->err));
	free(t->digest);
	close(t->fd);
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->cv);
	free(t);
}

static struct tracked *find(dev_t dev, ino_t ino)
{
	struct tracked *k;

	for (k = tracked; k; k = k->next)
		if (k->dev == dev && k->ino == ino)
			return k;
	return NULL;
}

void manifest_track_changed(int fd, uint64_t off, uint64_t len)
{
	struct tracked *k;
	struct stat st;
	uint64_t i;

	if (fstat(fd, &st))
		return;
	pthread_mutex_lock(&tracked_mu);
	k = find(st.st_dev, st.st_ino);
	if (k) {
		for (i = off / MANIFEST_PART_SIZE; i < k->nr; i++)
			if (len == UINT64_MAX || i * MANIFEST_PART_SIZE < off + len)
				k->ok[i] = 0;
		k->size = st.st_size;
	}
	pthread_mutex_unlock(&tracked_mu);
}

uint64_t manifest_track_lookup(const struct stat *st, uint64_t nr, uint64_t *digest, uint8_t *have)
{
	struct tracked *k;
	uint64_t i, got = 0;

	pthread_mutex_lock(&tracked_mu);
	k = find(st->st_dev, st->st_ino);
	if (k && k->size == (uint64_t)st->st_size)
		for (i = 0; i < nr && i < k->nr; i++)
			if (k->ok[i]) {
				digest[i] = k->digest[i];
				have[i] = 1;
				got++;
			}
	pthread_mutex_unlock(&tracked_mu);
	return got;
}

void manifest_track_forget(void)
{
	pthread_mutex_lock(&tracked_mu);
	while (tracked) {
		struct tracked *k = tracked;

		tracked = k->next;
		free(k->digest);
		free(k->ok);
		free(k);
	}
	pthread_mutex_unlock(&tracked_mu);
}
