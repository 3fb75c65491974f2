/* The image manifest (criu/manifest.c): its parser, and what a restore's check refuses. */
#include <endian.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "log.h"
#include "manifest.h"
#include "tmpdir.h"
#include "unit.h"

static int put(int dirfd, const char *name, const char *text)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t n = fd >= 0 ? write(fd, text, strlen(text)) : -1;

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* A manifest text of @body lines and an end line saying @nr, its checksum right. */
static int parse_body(const char *body, size_t nr, struct manifest *m)
{
	char buf[4096];
	size_t l = snprintf(buf, sizeof(buf), "criu-manifest 1 xxh3-64-8m\n%s", body);

	snprintf(buf + l, sizeof(buf) - l, "end %zu %016llx\n", nr,
		 (unsigned long long)XXH3_64bits(buf, l));
	return manifest_parse(buf, strlen(buf), m);
}

static int test_parse(void)
{
	static const char *const bad[] = {
		"b.img 1 0000000000000001\na.img 1 0000000000000001\n",	/* order */
		"a.img 1 0000000000000001\na.img 1 0000000000000001\n",	/* twice */
		"a.img 1 000000000000001\n",				/* short hash */
		"a.img 1 000000000000000G\n",				/* not hex */
		"a.img 18446744073709551616 0000000000000001\n",	/* size overflows */
		"a.img 01 0000000000000001\n",				/* leading zero */
		"a/b.img 1 0000000000000001\n",				/* a path */
		"a.img  1 0000000000000001\n",				/* two spaces */
		"criu-manifest 1 0000000000000001\n",			/* itself */
		"a.img 1\n",
	};
	struct manifest m;
	size_t i;

	CHECK(parse_body("a.img 0 0000000000000000\nb.img 18446744073709551615 ffffffffffffffff\n",
			 2, &m) == 0);
	CHECK(m.nr == 2 && !strcmp(m.e[1].name, "b.img") && m.e[1].size == UINT64_MAX &&
	      m.e[1].hash == UINT64_MAX);
	manifest_free(&m);
	CHECK(parse_body("", 0, &m) == 0 && m.nr == 0);
	manifest_free(&m);
	CHECK(parse_body("a.img 1 0000000000000001\n", 2, &m) == -1);	/* count */
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		const char *p;
		size_t nr = 0;

		for (p = bad[i]; (p = strchr(p, '\n')); p++)
			nr++;
		CHECK(parse_body(bad[i], nr, &m) == -1);
	}
	CHECK(manifest_parse("criu-manifest 1 xxh3-64-8m\n", 27, &m) == -1);	/* no end */
	CHECK(manifest_parse("criu-manifest 2 xxh3-64-8m\nend 0 0\n", 35, &m) == -1);
	return 0;
}

static int test_end_checksum(void)
{
	char buf[256];
	struct manifest m;
	size_t l = snprintf(buf, sizeof(buf), "criu-manifest 1 xxh3-64-8m\na.img 1 0000000000000001\n");

	snprintf(buf + l, sizeof(buf) - l, "end 1 %016llx\n", (unsigned long long)XXH3_64bits(buf, l));
	CHECK(manifest_parse(buf, strlen(buf), &m) == 0);
	manifest_free(&m);
	buf[27] = 'b';				/* a.img -> b.img */
	CHECK(manifest_parse(buf, strlen(buf), &m) == -1);
	buf[27] = 'a';
	CHECK(manifest_parse(buf, strlen(buf) - 1, &m) == -1);	/* last newline cut */
	return 0;
}

/* A dump's directory: two images, the manifest written over them. */
static int fresh_dump(void)
{
	int d = unit_fresh_dir("manifest");

	if (d < 0 || put(d, "inventory.img", "inventory") || put(d, "pages-1.img", "page data") ||
	    manifest_write(d))
		return -1;
	return d;
}

static int test_check(void)
{
	int d = unit_fresh_dir("manifest");

	CHECK(d >= 0 && put(d, "inventory.img", "x") == 0);
	CHECK(manifest_check(d) == 1);			/* none: not checked */
	CHECK((d = fresh_dump()) >= 0);
	CHECK(put(d, "dump.log", "a log") == 0 && put(d, "restored.pid", "1") == 0 &&
	      put(d, "stats-dump", "s") == 0);
	CHECK(manifest_check(d) == 0);			/* not images: ignored */
	CHECK(unlinkat(d, "pages-1.img", 0) == 0);
	CHECK(manifest_check(d) == -1);			/* missing */
	CHECK((d = fresh_dump()) >= 0 && put(d, "pages-1.img", "page dat") == 0);
	CHECK(manifest_check(d) == -1);			/* truncated */
	CHECK((d = fresh_dump()) >= 0 && put(d, "pages-1.img", "page Data") == 0);
	CHECK(manifest_check(d) == -1);			/* changed */
	CHECK((d = fresh_dump()) >= 0 && put(d, "pipes-data.img", "") == 0);
	CHECK(manifest_check(d) == -1);			/* extra image */
	CHECK((d = fresh_dump()) >= 0 && put(d, "xt-core-1", "") == 0);
	CHECK(manifest_check(d) == -1);			/* extra extension */
	CHECK((d = fresh_dump()) >= 0 && symlinkat("inventory.img", d, "x.img") == 0);
	CHECK(manifest_check(d) == 0);			/* not a regular file: never read */
	return 0;
}

static int test_remove_stale(void)
{
	int d = fresh_dump();
	struct stat st;

	CHECK(d >= 0 && put(d, "notes", "mine") == 0);
	CHECK(unlinkat(d, MANIFEST_NAME, 0) == 0 && put(d, "a.log", "x") == 0 && manifest_write(d) == 0);
	CHECK(manifest_remove_stale(d) == 0);		/* listed, but no image: kept */
	CHECK(fstatat(d, "a.log", &st, 0) == 0 && fstatat(d, "notes", &st, 0) == 0);
	CHECK(fstatat(d, "pages-1.img", &st, 0) == -1 && fstatat(d, "inventory.img", &st, 0) == -1);
	CHECK(fstatat(d, MANIFEST_NAME, &st, 0) == -1);
	CHECK(manifest_remove_stale(d) == 0);		/* none: nothing to do */
	return 0;
}

/* Over 8 MiB: the XXH3-64 of the 8 MiB parts' digests, whatever the threads. */
static int test_parts(void)
{
	size_t size = (20u << 20) + 123, part = 8u << 20, k;
	uint8_t *data = malloc(size);
	uint64_t d[3], got, got_size;
	int d_fd = unit_fresh_dir("manifest"), fd;

	CHECK(data && d_fd >= 0);
	for (k = 0; k < size; k++)
		data[k] = (uint8_t)(k * 2654435761u >> 13);
	fd = openat(d_fd, "pages-1.img", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, data, size) == (ssize_t)size);
	close(fd);
	for (k = 0; k < 3; k++)
		d[k] = htole64(XXH3_64bits(data + k * part, k < 2 ? part : size - 2 * part));
	CHECK(manifest_hash_file(d_fd, "pages-1.img", &got_size, &got) == 0);
	CHECK(got_size == size && got == XXH3_64bits(d, sizeof(d)));
	CHECK(put(d_fd, "small.img", "small") == 0);
	CHECK(manifest_hash_file(d_fd, "small.img", &got_size, &got) == 0);
	CHECK(got == XXH3_64bits("small", 5));
	free(data);
	return 0;
}

/* A file checksummed while written, one part changed after: only that part is read again. */
static int test_track(void)
{
	size_t size = (20u << 20) + 123, part = 8u << 20, k, step = 1u << 20;
	uint8_t *data = malloc(size), have[3] = { 0 };
	uint64_t d[3], got, got_size;
	int d_fd = unit_fresh_dir("manifest"), fd;
	struct mf_track *t;
	struct stat st;

	CHECK(data && d_fd >= 0);
	for (k = 0; k < size; k++)
		data[k] = (uint8_t)(k * 2654435761u >> 13);
	fd = openat(d_fd, "pages-1.img", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	t = manifest_track_start(fd);
	CHECK(t != NULL);
	for (k = 0; k < size; k += step) {
		size_t n = size - k < step ? size - k : step;

		CHECK(write(fd, data + k, n) == (ssize_t)n);
		manifest_track_written(t, k + n);
	}
	manifest_track_end(t, true);
	data[part + 5] ^= 1;
	CHECK(pwrite(fd, data + part + 5, 1, part + 5) == 1);
	manifest_track_changed(fd, part + 5, 1);
	CHECK(fstat(fd, &st) == 0);
	CHECK(manifest_track_lookup(&st, 3, d, have) == 2 && have[0] && !have[1] && have[2]);
	close(fd);
	for (k = 0; k < 3; k++)
		d[k] = htole64(XXH3_64bits(data + k * part, k < 2 ? part : size - 2 * part));
	CHECK(manifest_hash_file(d_fd, "pages-1.img", &got_size, &got) == 0);
	CHECK(got_size == size && got == XXH3_64bits(d, sizeof(d)));
	manifest_track_forget();
	free(data);
	return 0;
}

static const struct unit_case cases[] = {
	{ "checksums taken while a file is written, a change read again", test_track },
	{ "a file over 8 MiB is checksummed by parts", test_parts },
	{ "manifest lines parse or are refused", test_parse },
	{ "the end line guards the manifest itself", test_end_checksum },
	{ "missing, truncated, changed and extra files are refused", test_check },
	{ "an earlier dump's files are removed", test_remove_stale },
};

int main(int argc, char **argv)
{
	(void)argc;
	log_init(NULL, NULL, getenv("UNIT_LOG") ? LOG_ERROR : LOG_NONE);
	return unit_run(argv[0], cases, ARRAY_SIZE(cases));
}
