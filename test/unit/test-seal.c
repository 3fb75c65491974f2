/*
 * Sealed images (criu/seal.c, criu/seal-dir.c): a file sealed and opened
 * gives its bytes back; a changed byte, a cut, an extension, swapped
 * records, another name, another dump or another key are each refused.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "log.h"
#include "manifest.h"
#include "seal.h"
#include "tmpdir.h"
#include "unit.h"

static const struct seal_key key = { .k = "0123456789abcdef0123456789abcdef" };
static const struct seal_key key2 = { .k = "0123456789abcdef0123456789abcdeF" };

static int memfd_with(const void *data, size_t len)
{
	int fd = memfd_create("seal-test", MFD_CLOEXEC);

	if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len))
		return -1;
	return fd;
}

static size_t fd_size(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_size;
}

/* Open sealed @in under @name with @k into a new memfd; its bytes in *out (malloc). */
static int open_sealed(const struct seal_key *k, uint8_t *set, bool known, const char *name,
		       int in, uint8_t **out, size_t *len)
{
	int fd = memfd_create("opened", MFD_CLOEXEC), ret;

	if (fd < 0)
		return -2;
	ret = unseal_fd(k, set, known, name, in, fd);
	*len = fd_size(fd);
	*out = malloc(*len + 1);
	if (!*out || pread(fd, *out, *len, 0) != (ssize_t)*len)
		ret = -2;
	close(fd);
	return ret;
}

/* Sealed copy of @len bytes of @data under "pages-1.img"; its fd. @consume: the input punched out. */
static int sealed_as(const uint8_t *data, size_t len, const uint8_t *set, bool consume)
{
	int in = memfd_with(data, len), out = memfd_create("sealed", MFD_CLOEXEC);
	struct stat st;

	if (in < 0 || out < 0 || seal_fd(&key, set, "pages-1.img", in, out, consume))
		return -1;
	/* consumed: no whole record of the input is left */
	if (consume && (fstat(in, &st) || (size_t)st.st_blocks * 512 >= SEAL_CHUNK + 4096))
		return -1;
	close(in);
	return out;
}

static int sealed(const uint8_t *data, size_t len, const uint8_t *set)
{
	return sealed_as(data, len, set, false);
}

static int test_round_trip(void)
{
	static const size_t sizes[] = { 0, 1, SEAL_CHUNK - 1, SEAL_CHUNK, SEAL_CHUNK + 1,
					3 * SEAL_CHUNK, 3 * SEAL_CHUNK + 77 };
	size_t i, k, len, max = 3 * SEAL_CHUNK + 77;
	uint8_t set[SEAL_SET_SIZE], got_set[SEAL_SET_SIZE], *data = malloc(max), *out;

	CHECK(data && seal_new_set(set) == 0);
	for (k = 0; k < max; k++)
		data[k] = (uint8_t)(k * 2654435761u >> 11);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		int fd = sealed_as(data, sizes[i], set, i % 2);
		size_t recs = sizes[i] ? (sizes[i] + SEAL_CHUNK - 1) / SEAL_CHUNK : 1;

		CHECK(fd >= 0);
		CHECK(fd_size(fd) == SEAL_HDR_SIZE + sizes[i] + recs * SEAL_TAG);
		CHECK(open_sealed(&key, got_set, false, "pages-1.img", fd, &out, &len) == 0);
		CHECK(len == sizes[i] && !memcmp(out, data, len));
		CHECK(!memcmp(got_set, set, sizeof(set)));
		free(out);
		close(fd);
	}
	free(data);
	return 0;
}

/* The sealed file @fd changed by @fn is refused when opened as @name with @k. */
static int refused(int fd, const struct seal_key *k, const char *name, const uint8_t *set)
{
	uint8_t s[SEAL_SET_SIZE], *out;
	size_t len;
	int r;

	memcpy(s, set, sizeof(s));
	r = open_sealed(k, s, true, name, fd, &out, &len);
	free(out);
	return r == -1;
}

static int copy_of(int fd)
{
	size_t n = fd_size(fd);
	uint8_t *b = malloc(n ? n : 1);
	int c = b && pread(fd, b, n, 0) == (ssize_t)n ? memfd_with(b, n) : -1;

	free(b);
	return c;
}

static int test_tampering(void)
{
	size_t len = 2 * SEAL_CHUNK + 100, rec = SEAL_CHUNK + SEAL_TAG, n;
	uint8_t set[SEAL_SET_SIZE], other[SEAL_SET_SIZE], *data = calloc(1, len), b, *r0, *r1;
	int fd, c;

	CHECK(data && seal_new_set(set) == 0 && seal_new_set(other) == 0);
	fd = sealed(data, len, set);
	CHECK(fd >= 0);
	n = fd_size(fd);
	CHECK(!refused(fd, &key, "pages-1.img", set));		/* as it is: opens */
	CHECK(refused(fd, &key2, "pages-1.img", set));		/* wrong key */
	CHECK(refused(fd, &key, "pages-2.img", set));		/* renamed */
	CHECK(refused(fd, &key, "pages-1.img", other));		/* another dump's */
	/* a bit flipped: in the header, in a record, in a tag */
	for (size_t off = 20; off < n; off += n / 7) {
		c = copy_of(fd);
		CHECK(c >= 0 && pread(c, &b, 1, off) == 1);
		b ^= 0x10;
		CHECK(pwrite(c, &b, 1, off) == 1);
		CHECK(refused(c, &key, "pages-1.img", set));
		close(c);
	}
	/* cut: by one byte, at a record's end, to the header */
	c = copy_of(fd);
	CHECK(ftruncate(c, n - 1) == 0 && refused(c, &key, "pages-1.img", set));
	CHECK(ftruncate(c, SEAL_HDR_SIZE + 2 * rec) == 0 && refused(c, &key, "pages-1.img", set));
	CHECK(ftruncate(c, SEAL_HDR_SIZE) == 0 && refused(c, &key, "pages-1.img", set));
	close(c);
	/* extended: by a byte, by a whole record copied from its own */
	c = copy_of(fd);
	CHECK(pwrite(c, "x", 1, n) == 1 && refused(c, &key, "pages-1.img", set));
	close(c);
	/* the first two records swapped */
	r0 = malloc(rec);
	r1 = malloc(rec);
	c = copy_of(fd);
	CHECK(r0 && r1 && pread(c, r0, rec, SEAL_HDR_SIZE) == (ssize_t)rec &&
	      pread(c, r1, rec, SEAL_HDR_SIZE + rec) == (ssize_t)rec);
	CHECK(pwrite(c, r1, rec, SEAL_HDR_SIZE) == (ssize_t)rec &&
	      pwrite(c, r0, rec, SEAL_HDR_SIZE + rec) == (ssize_t)rec);
	CHECK(refused(c, &key, "pages-1.img", set));
	close(c);
	/* not sealed at all */
	c = memfd_with(data, len);
	CHECK(refused(c, &key, "pages-1.img", set));
	close(c);
	free(r0);
	free(r1);
	free(data);
	close(fd);
	return 0;
}

static int put(int dirfd, const char *name, const char *text)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t n = fd >= 0 ? write(fd, text, strlen(text)) : -1;

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int write_key(const char *path, const struct seal_key *k)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t n = fd >= 0 ? write(fd, k->k, SEAL_KEY_SIZE) : -1;

	if (fd >= 0)
		close(fd);
	return n == SEAL_KEY_SIZE ? 0 : -1;
}

/* A directory sealed, then opened: with the key, without, with another, with files swapped. */
static int test_dir(void)
{
	char tmp[4096], kpath[4096], k2path[4096], buf[16];
	int d = unit_fresh_dir("seal-dir"), fd = -1, k;
	struct seal_key some;

	CHECK(d >= 0);
	snprintf(kpath, sizeof(kpath), "%s/seal-key", unit_dir_path());
	snprintf(k2path, sizeof(k2path), "%s/seal-key2", unit_dir_path());
	CHECK(put(d, "inventory.img", "inventory") == 0 && put(d, "pages-1.img", "page data") == 0);
	CHECK(manifest_write(d) == 0 && seal_dir(d, &key) == 0);
	CHECK(write_key(kpath, &key) == 0 && write_key(k2path, &key2) == 0);
	CHECK(unseal_dir(d, kpath, tmp, sizeof(tmp), &fd) == 0 && fd >= 0);
	CHECK(manifest_check(fd) == 0);
	k = openat(fd, "pages-1.img", O_RDONLY);
	CHECK(k >= 0 && read(k, buf, 10) == 9 && !memcmp(buf, "page data", 9));
	close(k);
	close(fd);
	seal_dir_remove(tmp);
	CHECK(access(tmp, F_OK) != 0);
	CHECK(unseal_dir(d, NULL, tmp, sizeof(tmp), &fd) == -1);	/* sealed, no key */
	CHECK(unseal_dir(d, k2path, tmp, sizeof(tmp), &fd) == -1 && !tmp[0]);
	/* two sealed files swapped by name */
	CHECK(renameat(d, "pages-1.img", d, "x") == 0 && renameat(d, "inventory.img", d, "pages-1.img") == 0 &&
	      renameat(d, "x", d, "inventory.img") == 0);
	CHECK(unseal_dir(d, kpath, tmp, sizeof(tmp), &fd) == -1);
	/* an image name the sealed manifest does not list */
	CHECK(renameat(d, "pages-1.img", d, "x") == 0 && renameat(d, "inventory.img", d, "pages-1.img") == 0 &&
	      renameat(d, "x", d, "inventory.img") == 0);
	CHECK(put(d, "extra.img", "extra") == 0);
	CHECK(unseal_dir(d, kpath, tmp, sizeof(tmp), &fd) == -1);
	/* the next dump into the dir removes the sealed files, and only them */
	CHECK(manifest_remove_stale(d) == 0);
	CHECK(faccessat(d, "inventory.img", F_OK, 0) && faccessat(d, "pages-1.img", F_OK, 0) &&
	      faccessat(d, MANIFEST_NAME, F_OK, 0));
	CHECK(!faccessat(d, "extra.img", F_OK, 0) && !faccessat(d, "seal-key", F_OK, 0));
	/* key files: missing, short */
	CHECK(seal_key_load("/nonexistent/key", &some) == -1);
	CHECK(put(d, "short-key", "short") == 0);
	snprintf(kpath, sizeof(kpath), "%s/short-key", unit_dir_path());
	CHECK(seal_key_load(kpath, &some) == -1);
	return 0;
}

static const struct unit_case cases[] = {
	{ "a sealed file opens to its bytes, whatever its size", test_round_trip },
	{ "changed, cut, extended, reordered, renamed, foreign or wrongly keyed: refused", test_tampering },
	{ "a sealed directory: opened with its key only, files bound to their names", test_dir },
};

int main(int argc, char **argv)
{
	(void)argc;
	log_init(NULL, NULL, getenv("UNIT_LOG") ? LOG_ERROR : LOG_NONE);
	return unit_run(argv[0], cases, ARRAY_SIZE(cases));
}
