/*
 * Sealed images (--encrypt-key, Documentation/images.md "Sealed images"):
 * every file of a dump encrypted and authenticated with AES-256-GCM
 * (gnutls), its name and its dump bound in.
 *
 *   header (64 bytes)  "CRIUSEAL" | u32 version 1 | u32 chunk size (256 KiB)
 *                      | set id (16 random bytes, one per dump)
 *                      | key check (16) | 16 zero bytes
 *   records            each chunk of the file's bytes encrypted, then its
 *                      16-byte tag; the last record holds the rest (maybe 0
 *                      bytes) and only it is marked last
 *
 *   file key   HMAC-SHA256(key, "criu-seal file key" 0 set-id name 0)
 *   nonce      u64 LE record number | u32 LE 1 for the last record, else 0
 *   auth data  the header | the same 12 bytes
 *   key check  HMAC-SHA256(key, "criu-seal key check" 0 set-id), first 16
 *
 * So a file renamed (another file key), records reordered (another nonce),
 * cut at a record's end or extended (the last record is the one where the
 * file ends, and only the true last one is marked so), a changed byte (the
 * tag), a file of another dump (its set id differs from the manifest's) or
 * another key (the key check) are each refused.
 */
#ifndef CRIU_SEAL_H
#define CRIU_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEAL_KEY_SIZE	32
#define SEAL_SET_SIZE	16
#define SEAL_HDR_SIZE	64
#define SEAL_CHUNK	(256u << 10)
#define SEAL_TAG	16
#define SEAL_MAGIC	"CRIUSEAL"

struct seal_key {
	uint8_t k[SEAL_KEY_SIZE];
};

/* The key file: exactly 32 raw bytes, a regular file. 0, or -1 logged. */
int seal_key_load(const char *path, struct seal_key *key);
/* A new random set id for a dump. */
int seal_new_set(uint8_t set[SEAL_SET_SIZE]);

/*
 * @in's bytes (from offset 0) sealed into @out (from its position) under
 * @name. @consume: @in's sealed parts are punched out as it goes (@in is
 * then lost, but the copy takes no room beyond one record).
 */
int seal_fd(const struct seal_key *key, const uint8_t set[SEAL_SET_SIZE], const char *name,
	    int in, int out, bool consume);
/*
 * Sealed @in opened into @out. *set is the dump's id: checked when @set_known,
 * else filled in (the manifest, the first file opened). 0, or -1 with the
 * reason logged (the name, and what is wrong: not sealed, another key,
 * another dump, changed). @out may hold a prefix of the bytes on failure.
 */
int unseal_fd(const struct seal_key *key, uint8_t set[SEAL_SET_SIZE], bool set_known,
	      const char *name, int in, int out);
/* 1: @fd (from offset 0) starts with the seal magic, 0: not, -1: unreadable. */
int seal_fd_is_sealed(int fd);

/* Every regular file of @dirfd sealed in place (the dump's scratch dir). */
int seal_dir(int dirfd, const struct seal_key *key);
/*
 * Restore: 0 and *opened -1 when @dirfd holds no sealed images (and no key
 * is given); 0 when every file listed in the sealed manifest opened into a
 * new private directory under $TMPDIR: its fd in *opened, its path in
 * @tmp (for seal_dir_remove()). -1 logged: refused, nothing left behind.
 */
int unseal_dir(int dirfd, const char *key_path, char *tmp, size_t tmp_size, int *opened);
void seal_dir_remove(const char *tmp);
/* A new private dir $TMPDIR/PREFIX.XXXXXX, its name in @tmp: an fd, or -1 logged (tmp ""). */
int seal_dir_private(char *tmp, size_t tmp_size, const char *prefix);
/* The regular files of @dirfd: a list to free with seal_dir_free_names(). */
int seal_dir_list(int dirfd, char ***names, size_t *nr);
void seal_dir_free_names(char **names, size_t nr);
/* @name of @dirfd replaced by what @fn writes from it into @tmp, renamed over it. */
int seal_dir_rewrite(int dirfd, const char *name, const char *tmp,
		     int (*fn)(int in, int out, const char *name, void *arg), void *arg);

#endif
