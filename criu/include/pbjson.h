/*
 * Protobuf messages <-> JSON, by reflection over protobuf-c descriptors: a
 * new .proto file needs no code here. The JSON form (Documentation/images.md
 * has the full table):
 *
 *   field names are keys, in field number order; unset optional fields and
 *   empty repeated fields are left out; repeated fields are arrays; nested
 *   messages are objects; enums are their value name (a number if the value
 *   has no name); bools are true/false; integers are exact decimal numbers;
 *   float/double print the shortest text that reads back to the same bits,
 *   non-finite ones as the strings "nan", "inf", "-inf"; strings are JSON
 *   strings (bytes that are not UTF-8 appear as \udc80..\udcff, see json.h);
 *   bytes fields are lowercase hex strings.
 *
 * Unknown fields (from a newer writer) are printed as "_unknown_fields" with
 * their tag, wire type and hex data; pbjson_build re-creates them.
 */
#ifndef CRIU_PBJSON_H
#define CRIU_PBJSON_H

#include <protobuf-c/protobuf-c.h>
#include "json.h"

#define PBJSON_UNKNOWN_KEY	"_unknown_fields"

/* Append @msg as a JSON object; its inner lines are indented at @level + 1. */
void pbjson_print(struct jbuf *jb, const ProtobufCMessage *msg, unsigned int level);

/*
 * Build a message of type @desc from the JSON object @obj. Every error
 * (unknown field, wrong JSON type, number out of the field's range, missing
 * required field, ...) is logged as "@src:LINE:COL: ..." and gives NULL.
 * Free the result with pbjson_free.
 */
ProtobufCMessage *pbjson_build(const ProtobufCMessageDescriptor *desc,
			       const struct json_value *obj, const char *src);
void pbjson_free(ProtobufCMessage *msg);

/* ---- helpers shared with the established format's dialect (est-json*.c) ---- */

/* Bytes of one element of a field of @type in a protobuf-c message. */
size_t pbjson_elem_size(ProtobufCType type);
/* Whether @f is set in @m the way protobuf_c_message_pack decides it. */
bool pbjson_field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);
/* An array of @n zeroed elements for repeated field @f of @m, owned by @m; NULL (logged). */
void *pbjson_repeated_alloc(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, size_t n);
/* Mark non-repeated @f of @m present and return its slot; NULL if its oneof is already set. */
void *pbjson_single_slot(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);
/* Whether @data is one whole value of wire type @wire, as pack writes it. */
bool pbjson_wire_value_ok(unsigned int wire, const uint8_t *data, size_t len);

/* ---- whole images (criu/cmd-show.c) ------------------------------------- */

/*
 * Append image @name in @dirfd as one JSON object {"magic": ..., "entries":
 * [...]} (or the summary of a raw page file). The kind comes from the magic,
 * for raw page files from the name. 0 or -1.
 */
int img_to_json(int dirfd, const char *name, struct jbuf *jb, unsigned int level);

/*
 * Write the image described by @doc (as img_to_json prints it) into @dirfd
 * under @out_name, which must be a file name of the kind @doc names.
 * @src labels error messages. 0 or -1.
 */
int json_to_img(const struct json_value *doc, const char *src, int dirfd, const char *out_name);

#endif /* CRIU_PBJSON_H */
