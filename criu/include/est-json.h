/*
 * Images of the established format <-> the JSON of `crit decode` / `crit
 * encode` (Documentation/images.md, "show and encode"; the rules in
 * Documentation/image-format-plan.md §6).
 *
 * Printing: est_to_json() appends the document {"magic": NAME, "entries":
 * [...]} exactly as crit 3.17 prints it: compact (Python json.dump with ", "
 * and ": ") or pretty (indent 4, "0x" hex, flag names, "major:minor", dict
 * names and IP addresses where the schema's annotation says so, see
 * est_json_note). Bytes fields and extra payloads are MIME base64,
 * unix_sk_entry.name quoted-printable, strings ASCII-only with \u escapes.
 * Where crit cannot print something, we differ and say so:
 *   - a string that is not valid UTF-8: its bad bytes as \udc80..\udcff
 *     (json.h), crit prints a Python bytes repr that does not read back;
 *   - fields no schema of ours names: "_unknown_fields" (after the known
 *     fields, before "extra") as in pbjson.h; crit drops them silently;
 *   - an enum value without a name: the number; crit crashes.
 *
 * Reading: est_from_json() takes that JSON, compact or pretty (numbers as
 * JSON numbers or strings in base 0, "A | B | 0x4" flags, "maj:min", dict
 * names, IP text: whatever crit's dict2pb takes), and gives the file bytes.
 * Unlike crit it is strict: unknown keys, wrong types, out of range values
 * and an extra payload whose length differs from what its entry announces
 * are errors.
 *
 * Both work on whole files in memory; the caps of est-image.h apply.
 */
#ifndef CRIU_EST_JSON_H
#define CRIU_EST_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "est-image.h"
#include "json.h"

/* Whether @buf (a file's first bytes, @len of them) starts like an established image. */
bool est_looks_like_image(const uint8_t *buf, size_t len);

/*
 * The kind of the image in @buf from its magic words (as crit finds it), or
 * NULL (logged) if they name no kind we know.
 */
const struct est_kind *est_kind_of_buf(const uint8_t *buf, size_t len, const char *name);

/*
 * Append the JSON document of image @buf (@len bytes, kind @kind) to @jb.
 * In pretty mode the document's inner lines are indented by 4 * (@level + 1)
 * spaces. No trailing newline. 0 or -1 (logged, with @name).
 */
int est_to_json(const struct est_kind *kind, const uint8_t *buf, size_t len,
		const char *name, bool pretty, unsigned int level, struct jbuf *jb);

/*
 * The image bytes for JSON document @doc into @out (grown as needed; free
 * out->buf). @src labels messages. If @file_name is not NULL, it must be a
 * file name of the kind the document names. 0 or -1 (logged).
 */
int est_from_json(const struct json_value *doc, const char *src, const char *file_name,
		  struct jbuf *out);

#endif /* CRIU_EST_JSON_H */
