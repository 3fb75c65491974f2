/*
 * The value texts of crit's JSON (include/est-json.h), both ways. The
 * writers append a complete JSON value (quoted where it is a string); the
 * readers take a decoded JSON string and return 0 or -1 (not logged: the
 * caller knows the field and the place).
 */
#ifndef CRIU_EST_JSON_TEXT_H
#define CRIU_EST_JSON_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"

#define EST_UNKNOWN_KEY	"_unknown_fields"
#define EST_TAG_MAX	((1u << 29) - 1)	/* the largest protobuf field number */

/* Python json.dumps(ensure_ascii=True); bytes that are not UTF-8 as \udcXX. */
void est_put_string(struct jbuf *jb, const char *s, size_t len);

/* base64.encodebytes: standard alphabet, '\n' after every 76 chars and at the end. */
void est_put_base64(struct jbuf *jb, const uint8_t *data, size_t len);
/* The inverse; newlines and spaces are skipped. *out is malloc'ed (NULL if empty). */
int est_get_base64(const char *s, size_t len, uint8_t **out, size_t *out_len);

/* quopri.encodestring (binascii.b2a_qp, quotetabs off, text mode). */
void est_put_qp(struct jbuf *jb, const uint8_t *data, size_t len);
/* quopri.decodestring. *out is malloc'ed (NULL if empty). */
int est_get_qp(const char *s, size_t len, uint8_t **out, size_t *out_len);

/* "major:minor", kernel encoding (minor = low 20 bits) or glibc's (@old). */
void est_put_dev(struct jbuf *jb, uint64_t v, bool old);
int est_get_dev(const char *s, bool old, uint64_t *v);

/* "NAME | NAME | 0xrest" from flag map @map ("mmap.prot"); "" for 0. */
void est_put_flags(struct jbuf *jb, const char *map, uint64_t v);
int est_get_flags(const char *map, const char *s, uint64_t *v);

/* The name of @v of field @field in dict @dict ("sk"), or NULL. */
const char *est_dict_name(const char *dict, const char *field, uint64_t v);
int est_dict_value(const char *dict, const char *field, const char *name, uint64_t *v);

/* ["a.b.c.d"] from one word, or the compressed IPv6 text from four (network order bytes). */
void est_put_ipadd(struct jbuf *jb, const uint32_t *words, size_t n);
/* The words of an address text: 1 for IPv4, 4 for IPv6; *n set. */
int est_get_ipadd(const char *s, uint32_t words[4], size_t *n);

/* Python int(s, 0): optional sign, then 0x / 0o / 0b or plain decimal. */
int est_get_int(const char *s, bool *neg, uint64_t *mag);

#endif /* CRIU_EST_JSON_TEXT_H */
