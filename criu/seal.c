/*
 * Sealed image files: AES-256-GCM through gnutls, one record per 256 KiB
 * of a file (the format is in include/seal.h, Documentation/images.md
 * "Sealed images"). Everything read here is untrusted: sizes are checked
 * against the file's own size before any record is read.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#define LOG_PREFIX "seal: "
#include "log.h"
#include "seal.h"

#define SEAL_VERSION	1
#define NONCE_SIZE	12
#define AD_SIZE		(SEAL_HDR_SIZE + NONCE_SIZE)
#define RECORD		(SEAL_CHUNK + SEAL_TAG)

static void put32(uint8_t *p, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* HMAC-SHA256(key, @label 0 @set [@name 0]): 0 or -1 logged. */
static int derive(const struct seal_key *key, const char *label, const uint8_t *set,
		  const char *name, uint8_t out[32])
{
	uint8_t msg[64 + SEAL_SET_SIZE + 256];
	size_t l = strlen(label) + 1, nl = name ? strlen(name) + 1 : 0;

	if (l > 64 || nl > 256) {
		pr_err("%s: name too long to seal", name ? name : label);
		return -1;
	}
	memcpy(msg, label, l);
	memcpy(msg + l, set, SEAL_SET_SIZE);
	if (nl)
		memcpy(msg + l + SEAL_SET_SIZE, name, nl);
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, key->k, SEAL_KEY_SIZE, msg,
			     l + SEAL_SET_SIZE + nl, out)) {
		pr_err("HMAC-SHA256 is not available from gnutls");
		return -1;
	}
	return 0;
}

static int key_check(const struct seal_key *key, const uint8_t *set, uint8_t out[16])
{
	uint8_t d[32];

	if (derive(key, "criu-seal key check", set, NULL, d))
		return -1;
	memcpy(out, d, 16);
	return 0;
}

/* The AEAD of file @name of set @set: 0 or -1 logged. */
static int file_cipher(const struct seal_key *key, const uint8_t *set, const char *name,
		       gnutls_aead_cipher_hd_t *h)
{
	uint8_t fk[32];
	gnutls_datum_t d = { .data = fk, .size = sizeof(fk) };
	int ret;

	if (derive(key, "criu-seal file key", set, name, fk))
		return -1;
	ret = gnutls_aead_cipher_init(h, GNUTLS_CIPHER_AES_256_GCM, &d);
	memset(fk, 0, sizeof(fk));
	if (ret) {
		pr_err("AES-256-GCM is not available from gnutls: %s", gnutls_strerror(ret));
		return -1;
	}
	return 0;
}

/* Nonce and auth data of record @i: the header, then the nonce. */
static void record_ad(uint8_t ad[AD_SIZE], uint64_t i, int last)
{
	int k;

	for (k = 0; k < 8; k++)
		ad[SEAL_HDR_SIZE + k] = i >> (8 * k);
	put32(ad + SEAL_HDR_SIZE + 8, last);
}

static int write_all(int fd, const void *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n <= 0)
			return -1;
		buf = (const char *)buf + n;
		len -= n;
	}
	return 0;
}

static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pread(fd, buf, len, off);

		if (n <= 0) {
			if (!n)
				errno = EIO;
			return -1;
		}
		buf = (char *)buf + n;
		len -= n;
		off += n;
	}
	return 0;
}

int seal_key_load(const char *path, struct seal_key *key)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		pr_perror("cannot open the key file %s", path);
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size != SEAL_KEY_SIZE ||
	    read_at(fd, key->k, SEAL_KEY_SIZE, 0)) {
		pr_err("the key file %s must be a regular file of exactly %d raw bytes",
		       path, SEAL_KEY_SIZE);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int seal_new_set(uint8_t set[SEAL_SET_SIZE])
{
	if (getrandom(set, SEAL_SET_SIZE, 0) != SEAL_SET_SIZE) {
		pr_perror("getrandom");
		return -1;
	}
	return 0;
}

static int make_header(const struct seal_key *key, const uint8_t *set, uint8_t hdr[SEAL_HDR_SIZE])
{
	memset(hdr, 0, SEAL_HDR_SIZE);
	memcpy(hdr, SEAL_MAGIC, 8);
	put32(hdr + 8, SEAL_VERSION);
	put32(hdr + 12, SEAL_CHUNK);
	memcpy(hdr + 16, set, SEAL_SET_SIZE);
	return key_check(key, set, hdr + 32);
}

int seal_fd(const struct seal_key *key, const uint8_t set[SEAL_SET_SIZE], const char *name,
	    int in, int out, bool consume)
{
	gnutls_aead_cipher_hd_t h;
	uint8_t ad[AD_SIZE], *pt = NULL, *ct = NULL;
	uint64_t size, nrec, i;
	struct stat st;
	int ret = -1;

	if (fstat(in, &st) || make_header(key, set, ad) || file_cipher(key, set, name, &h))
		return -1;
	size = st.st_size;
	nrec = size ? (size + SEAL_CHUNK - 1) / SEAL_CHUNK : 1;
	pt = malloc(SEAL_CHUNK);
	ct = malloc(RECORD);
	if (!pt || !ct) {
		pr_err("out of memory");
		goto out;
	}
	if (write_all(out, ad, SEAL_HDR_SIZE))
		goto io;
	for (i = 0; i < nrec; i++) {
		size_t len = size - i * SEAL_CHUNK < SEAL_CHUNK ? size - i * SEAL_CHUNK : SEAL_CHUNK;
		size_t clen = RECORD;

		record_ad(ad, i, i == nrec - 1);
		if (read_at(in, pt, len, i * SEAL_CHUNK)) {
			pr_perror("cannot read %s", name);
			goto out;
		}
		if (gnutls_aead_cipher_encrypt(h, ad + SEAL_HDR_SIZE, NONCE_SIZE, ad, AD_SIZE,
					       SEAL_TAG, pt, len, ct, &clen) || clen != len + SEAL_TAG) {
			pr_err("%s: AES-256-GCM failed", name);
			goto out;
		}
		if (write_all(out, ct, clen))
			goto io;
		/* the copy needs no room of its own: what is sealed leaves the input */
		if (consume && len == SEAL_CHUNK &&
		    fallocate(in, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, i * SEAL_CHUNK, len))
			consume = false;	/* not on this filesystem: twice the room then */
	}
	ret = 0;
	goto out;
io:
	pr_perror("cannot write the sealed %s", name);
out:
	gnutls_aead_cipher_deinit(h);
	free(pt);
	free(ct);
	return ret;
}

/* The header of sealed @name checked against @key and the set: 0 or -1 logged. */
static int check_header(const struct seal_key *key, uint8_t *set, bool set_known,
			const char *name, const uint8_t *hdr)
{
	static const uint8_t zero[16];
	uint8_t kc[16];

	if (memcmp(hdr, SEAL_MAGIC, 8)) {
		pr_err("%s is not sealed, but the other files of the dump are: refused", name);
		return -1;
	}
	if (get32(hdr + 8) != SEAL_VERSION || get32(hdr + 12) != SEAL_CHUNK ||
	    memcmp(hdr + 48, zero, sizeof(zero))) {
		pr_err("%s: not a sealed file of version %d (or changed)", name, SEAL_VERSION);
		return -1;
	}
	if (key_check(key, hdr + 16, kc))
		return -1;
	if (memcmp(kc, hdr + 32, sizeof(kc))) {
		pr_err("%s was sealed with another key: wrong --encrypt-key", name);
		return -1;
	}
	if (set_known && memcmp(set, hdr + 16, SEAL_SET_SIZE)) {
		pr_err("%s belongs to another dump (its set id is not criu-manifest's): refused", name);
		return -1;
	}
	memcpy(set, hdr + 16, SEAL_SET_SIZE);
	return 0;
}

/* Records of a sealed file of @size bytes; -1 when no writer makes that size. */
static int64_t records(uint64_t size, uint64_t *plain)
{
	uint64_t body, n, rem;

	if (size < SEAL_HDR_SIZE + SEAL_TAG)
		return -1;
	body = size - SEAL_HDR_SIZE;
	n = body / RECORD;
	rem = body % RECORD;
	if (rem && rem < SEAL_TAG)
		return -1;
	*plain = n * SEAL_CHUNK + (rem ? rem - SEAL_TAG : 0);
	return n + (rem ? 1 : 0);
}

static int open_records(gnutls_aead_cipher_hd_t h, const char *name, int in, int out,
			uint64_t size, uint8_t *ad)
{
	uint8_t *pt = malloc(SEAL_CHUNK), *ct = malloc(RECORD);
	uint64_t plain, i, off = SEAL_HDR_SIZE;
	int64_t nrec = records(size, &plain);
	int ret = -1;

	if (!pt || !ct) {
		pr_err("out of memory");
		goto out;
	}
	if (nrec < 0) {
		pr_err("%s: %llu bytes fit no sealed file: cut short or extended", name,
		       (unsigned long long)size);
		goto out;
	}
	for (i = 0; i < (uint64_t)nrec; i++) {
		size_t clen = size - off < RECORD ? size - off : RECORD, plen = SEAL_CHUNK;

		record_ad(ad, i, i == (uint64_t)nrec - 1);
		if (read_at(in, ct, clen, off)) {
			pr_perror("cannot read %s", name);
			goto out;
		}
		if (gnutls_aead_cipher_decrypt(h, ad + SEAL_HDR_SIZE, NONCE_SIZE, ad, AD_SIZE,
					       SEAL_TAG, ct, clen, pt, &plen) ||
		    plen != clen - SEAL_TAG) {
			pr_err("%s is changed, cut, extended, reordered or renamed: its record %llu "
			       "does not authenticate", name, (unsigned long long)i);
			goto out;
		}
		if (write_all(out, pt, plen)) {
			pr_perror("cannot write the opened %s", name);
			goto out;
		}
		off += clen;
	}
	ret = 0;
out:
	free(pt);
	free(ct);
	return ret;
}

int unseal_fd(const struct seal_key *key, uint8_t set[SEAL_SET_SIZE], bool set_known,
	      const char *name, int in, int out)
{
	gnutls_aead_cipher_hd_t h;
	uint8_t ad[AD_SIZE];
	struct stat st;
	int ret;

	if (fstat(in, &st) || !S_ISREG(st.st_mode)) {
		pr_err("%s: not a regular file", name);
		return -1;
	}
	if (st.st_size < SEAL_HDR_SIZE) {
		pr_err("%s: %lld bytes, shorter than a sealed file's header", name,
		       (long long)st.st_size);
		return -1;
	}
	if (read_at(in, ad, SEAL_HDR_SIZE, 0)) {
		pr_perror("cannot read %s", name);
		return -1;
	}
	if (check_header(key, set, set_known, name, ad) || file_cipher(key, set, name, &h))
		return -1;
	ret = open_records(h, name, in, out, st.st_size, ad);
	gnutls_aead_cipher_deinit(h);
	return ret;
}

int seal_fd_is_sealed(int fd)
{
	char m[8];
	ssize_t n = pread(fd, m, sizeof(m), 0);

	if (n < 0)
		return -1;
	return n == sizeof(m) && !memcmp(m, SEAL_MAGIC, sizeof(m));
}
