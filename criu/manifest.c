/*
 * The image manifest (include/manifest.h, Documentation/images.md).
 *
 *     criu-manifest 1 xxh3-64-8m
 *     NAME SIZE HASH            one line per file, names in strcmp order
 *     end COUNT HASH            HASH: of every byte before this line
 *
 * SIZE is decimal, HASH 16 lowercase hex digits of XXH3-64 (seed 0); a
 * file over 8 MiB has the XXH3-64 of its 8 MiB parts' digests (hash_fd()).
 */
#include <dirent.h>
#include <endian.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/stat.h>
#include <xxhash.h>

#define LOG_PREFIX "manifest: "
#include "est-image.h"
#include "log.h"
#include "manifest.h"
#include "seal.h"

#define HEADER		"criu-manifest 1 xxh3-64-8m\n"
#define READ_SIZE	MANIFEST_READ_SIZE
#define PART_SIZE	MANIFEST_PART_SIZE
#define MAX_HASHERS	4		/* threads, at most one per online cpu */

int manifest_name_ok(const char *name)
{
	size_t i, l = strlen(name);

	if (!l || l >= sizeof(((struct manifest_entry *)0)->name) ||
	    !strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	for (i = 0; i < l; i++)
		if ((unsigned char)name[i] <= ' ' || (unsigned char)name[i] >= 0x7f || name[i] == '/')
			return 0;
	return 1;
}

/* One part of a file: XXH3-64 of @len bytes at @off, read with pread(). */
int manifest_hash_range(int fd, uint64_t off, uint64_t len, void *buf, uint64_t *out)
{
	XXH3_state_t *st = XXH3_createState();
	int ret = -1;

	if (!st || XXH3_64bits_reset(st) != XXH_OK) {
		errno = ENOMEM;
		goto out;
	}
	while (len) {
		ssize_t n = pread(fd, buf, len < READ_SIZE ? len : READ_SIZE, off);

		if (n <= 0) {
			if (!n)
				errno = EIO;	/* shorter than it was */
			goto out;
		}
		XXH3_64bits_update(st, buf, n);
		off += n;
		len -= n;
	}
	*out = XXH3_64bits_digest(st);
	ret = 0;
out:
	XXH3_freeState(st);
	return ret;
}

struct hash_job {
	int fd;
	uint64_t size, nr;
	uint64_t *digest;	/* one per part, little-endian */
	uint8_t *have;		/* 1: digest[i] known already (taken while written) */
	uint64_t next;		/* the next part to take (atomic) */
	int err;		/* the first errno (atomic) */
};

/* Take parts until none is left; no logging here (the log is not thread-safe). */
static void *hasher(void *arg)
{
	struct hash_job *j = arg;
	void *buf = malloc(READ_SIZE);
	uint64_t i, d;

	while (buf && !__atomic_load_n(&j->err, __ATOMIC_RELAXED) &&
	       (i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED)) < j->nr) {
		uint64_t off = i * PART_SIZE;

		if (j->have[i])
			continue;
		if (manifest_hash_range(j->fd, off, j->size - off < PART_SIZE ? j->size - off : PART_SIZE, buf, &d))
			__atomic_store_n(&j->err, errno ? errno : EIO, __ATOMIC_RELAXED);
		else
			j->digest[i] = htole64(d);
	}
	if (!buf)
		__atomic_store_n(&j->err, ENOMEM, __ATOMIC_RELAXED);
	free(buf);
	return NULL;
}

static int job_init(struct hash_job *j, int fd, uint64_t size)
{
	memset(j, 0, sizeof(*j));
	j->fd = fd;
	j->size = size;
	j->nr = (size + PART_SIZE - 1) / PART_SIZE;
	if (j->nr <= 1)
		j->nr = 1;
	j->digest = calloc(j->nr, sizeof(*j->digest));
	j->have = calloc(j->nr, 1);
	if (j->digest && j->have)
		return 0;
	free(j->digest);
	free(j->have);
	j->err = ENOMEM;
	return -1;
}

/*
 * A file's checksum: XXH3-64 of its bytes when it has one part at most;
 * else XXH3-64 of the parts' digests (each an XXH3-64 of PART_SIZE bytes,
 * the last maybe shorter) as little-endian u64s, so that every core can
 * take a part (read() of a page file is most of the manifest's cost). The
 * parts not known yet are read by up to @threads threads (this one
 * included); @j is freed. No logging: -1 with j->err.
 */
static int job_run(struct hash_job *j, long threads, uint64_t *hash)
{
	pthread_t tid[MAX_HASHERS];
	uint64_t i, left = j->nr;
	int nt = 0;

	for (i = 0; i < j->nr; i++)
		left -= j->have[i];
	while (nt + 1 < MAX_HASHERS && (uint64_t)nt + 1 < left && nt + 1 < threads &&
	       !pthread_create(&tid[nt], NULL, hasher, j))
		nt++;
	hasher(j);
	while (nt)
		pthread_join(tid[--nt], NULL);
	if (!j->err)
		*hash = j->nr == 1 ? le64toh(j->digest[0]) :
			XXH3_64bits(j->digest, j->nr * sizeof(*j->digest));
	free(j->have);
	free(j->digest);
	return j->err ? -1 : 0;
}

static int hash_fd(int fd, const char *name, const struct stat *st, uint64_t *hash)
{
	struct hash_job j;
	uint64_t i, known;

	if (job_init(&j, fd, st->st_size)) {
		pr_err("%s: out of memory for the checksum", name);
		return -1;
	}
	known = manifest_track_lookup(st, j.nr, j.digest, j.have);
	for (i = 0; i < j.nr; i++)
		j.digest[i] = htole64(j.digest[i]);
	if (known)
		pr_debug("%s: %llu of %llu parts checksummed while written", name,
			 (unsigned long long)known, (unsigned long long)j.nr);
	if (job_run(&j, sysconf(_SC_NPROCESSORS_ONLN), hash)) {
		errno = j.err;
		pr_perror("cannot read %s", name);
		return -1;
	}
	return 0;
}

/* -1 with errno ENOENT and nothing logged when the file is not there. */
#define ANY_SIZE UINT64_MAX

/* Size and checksum of @name; a size other than @want (unless ANY_SIZE) is not hashed. */
static int hash_file(int dirfd, const char *name, uint64_t want, uint64_t *size, uint64_t *hash)
{
	struct stat st;
	int fd, ret;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno != ENOENT)
			pr_perror("cannot open %s", name);
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		pr_err("%s: not a regular file", name);
		close(fd);
		errno = EINVAL;
		return -1;
	}
	*size = st.st_size;
	*hash = 0;
	ret = want == ANY_SIZE || *size == want ? hash_fd(fd, name, &st, hash) : 0;
	close(fd);
	if (ret)
		errno = EIO;
	return ret;
}

int manifest_hash_file(int dirfd, const char *name, uint64_t *size, uint64_t *hash)
{
	if (hash_file(dirfd, name, ANY_SIZE, size, hash)) {
		if (errno == ENOENT)
			pr_err("%s is missing", name);
		return -1;
	}
	return 0;
}

/* Room for one more entry in @m (*cap of them allocated): 0, or -1 logged. */
static int room(struct manifest *m, size_t *cap)
{
	struct manifest_entry *e;
	size_t n = *cap ? *cap * 2 : 64;

	if (m->nr < *cap)
		return 0;
	if (m->nr == MANIFEST_MAX_FILES) {
		pr_err("not supported yet: more than %d files in a dump", MANIFEST_MAX_FILES);
		return -1;
	}
	e = realloc(m->e, n * sizeof(*e));
	if (!e) {
		pr_err("out of memory");
		return -1;
	}
	memset(e + *cap, 0, (n - *cap) * sizeof(*e));
	m->e = e;
	*cap = n;
	return 0;
}

void manifest_free(struct manifest *m)
{
	free(m->e);
	m->e = NULL;
	m->nr = 0;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- reading ------------------------------------------------------------- */

static int parse_u64(const char *s, size_t l, int base, uint64_t *v)
{
	size_t i;

	*v = 0;
	if (!l || l > (base == 16 ? 16u : 20u) || (base == 10 && l > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < l; i++) {
		unsigned int d;

		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (base == 16 && s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else
			return -1;
		if (base == 10 && *v > (UINT64_MAX - d) / 10)
			return -1;
		*v = *v * base + d;
	}
	return base == 16 && l != 16 ? -1 : 0;
}

/* Split "A B C" (exactly three words, single spaces) of @l bytes at @s. */
static int three_words(const char *s, size_t l, const char *w[3], size_t wl[3])
{
	const char *end = s + l, *p = s;
	int i;

	for (i = 0; i < 3; i++) {
		const char *q = i < 2 ? memchr(p, ' ', end - p) : end;

		if (!q || q == p || memchr(p, ' ', q - p))
			return -1;
		w[i] = p;
		wl[i] = q - p;
		p = q + 1;
	}
	return 0;
}

static int parse_entry(struct manifest *m, const char *s, size_t l, size_t line)
{
	struct manifest_entry *e = &m->e[m->nr];
	const char *w[3];
	size_t wl[3];

	if (three_words(s, l, w, wl) || wl[0] >= sizeof(e->name) ||
	    parse_u64(w[1], wl[1], 10, &e->size) || parse_u64(w[2], wl[2], 16, &e->hash)) {
		pr_err(MANIFEST_NAME ": line %zu is not \"NAME SIZE HASH\"", line);
		return -1;
	}
	memcpy(e->name, w[0], wl[0]);
	e->name[wl[0]] = 0;
	if (strlen(e->name) != wl[0] || !manifest_name_ok(e->name) || !strcmp(e->name, MANIFEST_NAME)) {
		pr_err(MANIFEST_NAME ": line %zu: not a file name of the images dir", line);
		return -1;
	}
	if (m->nr && strcmp(m->e[m->nr - 1].name, e->name) >= 0) {
		pr_err(MANIFEST_NAME ": line %zu: %s out of order or listed twice", line, e->name);
		return -1;
	}
	m->nr++;
	return 0;
}

/* The last line: "end COUNT HASH", HASH over @body_len bytes of @buf. */
static int parse_end(const struct manifest *m, const char *buf, size_t body_len,
		     const char *s, size_t l)
{
	const char *w[3];
	size_t wl[3];
	uint64_t nr, hash;

	if (three_words(s, l, w, wl) || wl[0] != 3 || memcmp(w[0], "end", 3) ||
	    parse_u64(w[1], wl[1], 10, &nr) || parse_u64(w[2], wl[2], 16, &hash)) {
		pr_err(MANIFEST_NAME ": no \"end COUNT HASH\" line: cut short");
		return -1;
	}
	if (nr != m->nr || hash != XXH3_64bits(buf, body_len)) {
		pr_err(MANIFEST_NAME ": its own count or checksum does not match: changed");
		return -1;
	}
	return 0;
}

int manifest_parse(const char *buf, size_t len, struct manifest *m)
{
	size_t hl = strlen(HEADER), off, line = 1, cap = 0;

	m->e = NULL;
	m->nr = 0;
	if (len > MANIFEST_MAX_SIZE || len < hl || memcmp(buf, HEADER, hl)) {
		pr_err(MANIFEST_NAME ": not a manifest of version 1 (or over %u bytes)", MANIFEST_MAX_SIZE);
		return -1;
	}
	for (off = hl; off < len; line++) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t l = nl ? (size_t)(nl - buf) - off : len - off;

		if (!nl) {
			pr_err(MANIFEST_NAME ": line %zu has no end: cut short", line + 1);
			break;
		}
		if (off + l + 1 == len) {	/* the last line */
			if (parse_end(m, buf, off, buf + off, l))
				break;
			return 0;
		}
		if (room(m, &cap) || parse_entry(m, buf + off, l, line + 1))
			break;
		off += l + 1;
	}
	if (off >= len)
		pr_err(MANIFEST_NAME ": no \"end COUNT HASH\" line: cut short");
	manifest_free(m);
	return -1;
}

static int read_manifest(int dirfd, struct manifest *m)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, ret = -1;

	fd = openat(dirfd, MANIFEST_NAME, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		pr_perror("cannot open " MANIFEST_NAME);
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > MANIFEST_MAX_SIZE) {
		pr_err(MANIFEST_NAME ": not a regular file of at most %u bytes", MANIFEST_MAX_SIZE);
		goto out;
	}
	buf = malloc(st.st_size + 1);
	if (!buf) {
		pr_err("out of memory");
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, st.st_size - got);

		if (n <= 0) {
			pr_perror("cannot read " MANIFEST_NAME);
			goto out;
		}
		got += n;
	}
	ret = manifest_parse(buf, got, m);
out:
	free(buf);
	close(fd);
	return ret;
}

/* ---- the directory ------------------------------------------------------- */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(((const struct manifest_entry *)a)->name, ((const struct manifest_entry *)b)->name);
}

/* The regular files of @dirfd but the manifest, sorted (only names are filled). */
static int list_files(int dirfd, struct manifest *m)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	size_t cap = 0;
	int ret = 0;

	m->nr = 0;
	m->e = NULL;
	if (!d) {
		pr_perror("cannot list the images dir");
		if (!d && fd >= 0)
			close(fd);
		goto err;
	}
	rewinddir(d);
	while (!ret && (de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, MANIFEST_NAME) ||
		    fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;
		if (!manifest_name_ok(de->d_name))
			continue;	/* no image has such a name (a space, a control character) */
		if (room(m, &cap)) {
			ret = -1;
			break;
		}
		strcpy(m->e[m->nr++].name, de->d_name);
	}
	closedir(d);
	if (ret)
		goto err;
	qsort(m->e, m->nr, sizeof(*m->e), cmp_names);
	return 0;
err:
	manifest_free(m);
	return -1;
}

static int write_text(int dirfd, const char *name, const char *buf, size_t len)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	size_t off = 0;

	if (fd < 0) {
		pr_perror("cannot create " MANIFEST_NAME);
		return -1;
	}
	while (off < len) {
		ssize_t n = write(fd, buf + off, len - off);

		if (n <= 0) {
			pr_perror("cannot write " MANIFEST_NAME);
			close(fd);
			return -1;
		}
		off += n;
	}
	if (fsync(fd) || close(fd)) {
		pr_perror("cannot write " MANIFEST_NAME);
		return -1;
	}
	return 0;
}

/* The text of @m (its entries hashed): a malloc'ed buffer, or NULL. */
static char *format_text(const struct manifest *m, size_t *lenp)
{
	size_t i, len, cap = strlen(HEADER) + (m->nr + 1) * (sizeof(m->e->name) + 48);
	char *buf = malloc(cap);

	if (!buf) {
		pr_err("out of memory");
		return NULL;
	}
	len = snprintf(buf, cap, "%s", HEADER);
	for (i = 0; i < m->nr; i++)
		len += snprintf(buf + len, cap - len, "%s %llu %016llx\n", m->e[i].name,
				(unsigned long long)m->e[i].size, (unsigned long long)m->e[i].hash);
	len += snprintf(buf + len, cap - len, "end %zu %016llx\n", m->nr,
			(unsigned long long)XXH3_64bits(buf, len));
	*lenp = len;
	return buf;
}

/*
 * @m written over the manifest of @dirfd in one rename (criu dedup): a
 * reader sees the old one or the new one, never a part.
 */
int manifest_replace(int dirfd, const struct manifest *m)
{
	static const char part[] = "." MANIFEST_NAME ".part";
	size_t len;
	char *buf = format_text(m, &len);
	int ret = -1;

	if (!buf)
		return -1;
	unlinkat(dirfd, part, 0);
	if (!write_text(dirfd, part, buf, len)) {
		ret = renameat(dirfd, part, dirfd, MANIFEST_NAME);
		if (ret)
			pr_perror("cannot rename %s over " MANIFEST_NAME, part);
	}
	free(buf);
	return ret;
}

int manifest_write(int dirfd)
{
	struct manifest m;
	size_t i, len = 0;
	uint64_t t0 = now_us(), bytes = 0;
	char *buf = NULL;
	int ret = -1;

	if (list_files(dirfd, &m))
		return -1;
	for (i = 0; i < m.nr; i++) {
		if (manifest_hash_file(dirfd, m.e[i].name, &m.e[i].size, &m.e[i].hash))
			goto out;
		bytes += m.e[i].size;
	}
	buf = format_text(&m, &len);
	ret = buf ? write_text(dirfd, MANIFEST_NAME, buf, len) : -1;
	if (!ret)
		pr_info(MANIFEST_NAME ": %zu files, %llu bytes checksummed in %llu us", m.nr,
			(unsigned long long)bytes, (unsigned long long)(now_us() - t0));
out:
	manifest_track_forget();	/* inodes are reused: no digest outlives its dump */
	free(buf);
	manifest_free(&m);
	return ret;
}

/* A file a restore would read: an image name, or an extension image. */
static int is_image_name(const char *n)
{
	size_t l = strlen(n);

	if (!strcmp(n, "stats-dump") || !strcmp(n, "stats-restore"))
		return 0;
	return (l > 4 && !strcmp(n + l - 4, ".img")) || !strncmp(n, "xt-", 3) ||
	       est_kind_by_name(n) != NULL;
}

/* 1: @name in @dirfd is a sealed file (seal.h), 0: not or unreadable. */
static int sealed_file(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r;

	if (fd < 0)
		return 0;
	r = seal_fd_is_sealed(fd);
	close(fd);
	return r > 0;
}

/*
 * An earlier sealed dump: its manifest cannot be read without its key, but
 * every file it wrote is sealed, and nothing else in the dir is.
 */
static void remove_sealed(int dirfd)
{
	struct manifest have;
	size_t i;

	if (list_files(dirfd, &have))
		return;
	for (i = 0; i < have.nr; i++)
		if (is_image_name(have.e[i].name) && sealed_file(dirfd, have.e[i].name) &&
		    unlinkat(dirfd, have.e[i].name, 0) && errno != ENOENT)
			pr_pwarn("cannot remove %s of the earlier dump", have.e[i].name);
	manifest_free(&have);
}

int manifest_remove_stale(int dirfd)
{
	struct manifest m;
	size_t i;
	int r;

	if (sealed_file(dirfd, MANIFEST_NAME)) {
		remove_sealed(dirfd);
	} else if ((r = read_manifest(dirfd, &m)) > 0) {
		return 0;
	} else if (r < 0) {
		pr_warn("the images dir holds an unreadable " MANIFEST_NAME ": replaced, its files kept");
	} else {
		for (i = 0; i < m.nr; i++)	/* images only: never a note or a log of the user's */
			if (is_image_name(m.e[i].name) && unlinkat(dirfd, m.e[i].name, 0) &&
			    errno != ENOENT)
				pr_pwarn("cannot remove %s of the earlier dump", m.e[i].name);
		manifest_free(&m);
	}
	if (unlinkat(dirfd, MANIFEST_NAME, 0)) {
		pr_perror("cannot remove the earlier " MANIFEST_NAME);
		return -1;
	}
	return 0;
}

/* ---- the check ----------------------------------------------------------- */

static int check_entry(int dirfd, const struct manifest_entry *e)
{
	uint64_t size, hash;

	if (hash_file(dirfd, e->name, e->size, &size, &hash)) {
		if (errno == ENOENT)
			pr_err("%s is missing: " MANIFEST_NAME " lists it (%llu bytes)", e->name,
			       (unsigned long long)e->size);
		return -1;
	}
	if (size != e->size) {
		pr_err("%s has %llu bytes, " MANIFEST_NAME " says %llu: truncated or changed", e->name,
		       (unsigned long long)size, (unsigned long long)e->size);
		return -1;
	}
	if (hash != e->hash) {
		pr_err("%s is changed: its checksum is %016llx, " MANIFEST_NAME " says %016llx", e->name,
		       (unsigned long long)hash, (unsigned long long)e->hash);
		return -1;
	}
	return 0;
}

int manifest_read(int dirfd, struct manifest *m)
{
	int r = read_manifest(dirfd, m);

	if (r > 0)
		pr_err(MANIFEST_NAME " is missing");
	return r ? -1 : 0;
}

int manifest_check_extra(int dirfd, const struct manifest *m)
{
	struct manifest have;
	size_t i;
	int ret = 0;

	if (list_files(dirfd, &have))
		return -1;
	for (i = 0; i < have.nr && !ret; i++) {
		const char *n = have.e[i].name;

		if (is_image_name(n) && !bsearch(&have.e[i], m->e, m->nr, sizeof(*m->e), cmp_names)) {
			pr_err("%s is not in " MANIFEST_NAME ": a file the dump did not write", n);
			ret = -1;
		}
	}
	manifest_free(&have);
	return ret;
}

/* A page file whose checksum is taken while the tree is created. */
struct deferred {
	char name[256];
	int fd;
	uint64_t size, want, got;
	int err;
};

struct manifest_bg {
	pthread_t tid;
	size_t nr;
	struct deferred *d;
	uint64_t t0, t1;	/* the thread's start and end */
};

static bool deferrable(const struct manifest_entry *e)
{
	return e->size > PART_SIZE && !strncmp(e->name, "pages-", 6);
}

/* @e's file opened and its size checked now, its checksum taken later. */
static int defer_entry(int dirfd, const struct manifest_entry *e, struct deferred *d)
{
	struct stat st;

	d->fd = openat(dirfd, e->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (d->fd < 0) {
		if (errno == ENOENT)
			pr_err("%s is missing: " MANIFEST_NAME " lists it (%llu bytes)", e->name,
			       (unsigned long long)e->size);
		else
			pr_perror("cannot open %s", e->name);
		return -1;
	}
	if (fstat(d->fd, &st) || !S_ISREG(st.st_mode)) {
		pr_err("%s: not a regular file", e->name);
		return -1;
	}
	if ((uint64_t)st.st_size != e->size) {
		pr_err("%s has %llu bytes, " MANIFEST_NAME " says %llu: truncated or changed", e->name,
		       (unsigned long long)st.st_size, (unsigned long long)e->size);
		return -1;
	}
	strcpy(d->name, e->name);
	d->size = e->size;
	d->want = e->hash;
	return 0;
}

/* One thread, one file after the other: the other cpu fills the tree's memory. */
static void *bg_thread(void *arg)
{
	struct manifest_bg *bg = arg;
	struct hash_job j;
	size_t i;

	for (i = 0; i < bg->nr; i++)
		if (job_init(&j, bg->d[i].fd, bg->d[i].size) || job_run(&j, 1, &bg->d[i].got))
			bg->d[i].err = j.err;
	bg->t1 = now_us();
	return NULL;
}

static void bg_free(struct manifest_bg *bg)
{
	size_t i;

	for (i = 0; i < bg->nr; i++)
		close(bg->d[i].fd);
	free(bg->d);
	free(bg);
}

/* The page files of @m over one part, opened into *bg and left for the thread. */
static int defer_pages(int dirfd, const struct manifest *m, struct manifest_bg **bg)
{
	size_t i;

	*bg = calloc(1, sizeof(**bg));
	if (!*bg || !((*bg)->d = calloc(m->nr, sizeof(*(*bg)->d)))) {
		pr_err("out of memory");
		free(*bg);
		*bg = NULL;
		return -1;
	}
	for (i = 0; i < m->nr; i++) {
		struct deferred *d = &(*bg)->d[(*bg)->nr];

		if (!deferrable(&m->e[i]))
			continue;
		if (defer_entry(dirfd, &m->e[i], d)) {
			if (d->fd >= 0)
				close(d->fd);
			return -1;
		}
		(*bg)->nr++;
	}
	return 0;
}

int manifest_check_start(int dirfd, struct manifest_bg **bg)
{
	struct manifest m;
	uint64_t t0 = now_us();
	size_t i, n = 0;
	int r = read_manifest(dirfd, &m);

	if (bg)
		*bg = NULL;
	if (r > 0) {
		pr_info("no " MANIFEST_NAME ": the images are not checked (a dump of the established tool)");
		return 1;
	}
	if (r < 0)
		goto bad;
	r = bg ? defer_pages(dirfd, &m, bg) : 0;
	for (i = 0; !r && i < m.nr; i++, n++)
		if (!(bg && deferrable(&m.e[i])) && check_entry(dirfd, &m.e[i]))
			r = -1;
	r = r ? -1 : manifest_check_extra(dirfd, &m);
	manifest_free(&m);
	if (!r && bg && (*bg)->nr) {
		(*bg)->t0 = now_us();
		if (pthread_create(&(*bg)->tid, NULL, bg_thread, *bg)) {
			bg_thread(*bg);		/* no thread: the check is done here and now */
			(*bg)->tid = 0;
		}
	}
	if (!r) {
		pr_info("all %zu files match " MANIFEST_NAME " (checked in %llu us; %zu page files "
			"checked while the tree is made)", n, (unsigned long long)(now_us() - t0),
			bg ? (*bg)->nr : 0);
		return 0;
	}
	if (bg && *bg) {
		bg_free(*bg);
		*bg = NULL;
	}
bad:
	pr_err("the images do not match " MANIFEST_NAME ": nothing restored");
	return -1;
}

int manifest_check(int dirfd)
{
	return manifest_check_start(dirfd, NULL);
}

int manifest_check_wait(struct manifest_bg *bg)
{
	uint64_t t0 = now_us();
	size_t i;
	int ret = 0;

	if (!bg)
		return 0;
	if (bg->nr && bg->tid)
		pthread_join(bg->tid, NULL);
	for (i = 0; i < bg->nr && !ret; i++) {
		const struct deferred *d = &bg->d[i];

		if (d->err) {
			errno = d->err;
			pr_perror("cannot read %s", d->name);
			ret = -1;
		} else if (d->got != d->want) {
			pr_err("%s is changed: its checksum is %016llx, " MANIFEST_NAME " says %016llx",
			       d->name, (unsigned long long)d->got, (unsigned long long)d->want);
			ret = -1;
		}
	}
	if (!ret && bg->nr)
		pr_info("%zu page files match " MANIFEST_NAME " (checksummed in %llu us beside "
			"the restore, %llu us waited for)", bg->nr, (unsigned long long)(bg->t1 - bg->t0),
			(unsigned long long)(now_us() - t0));
	bg_free(bg);
	return ret;
}
