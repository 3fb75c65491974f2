/*
 * criu show / encode on images of the established format (criu/est-show.c).
 * cmd-show.c asks est_file_kind() / est_doc_names_est_kind() first and
 * falls back to our own format when they say no.
 */
#ifndef CRIU_EST_SHOW_H
#define CRIU_EST_SHOW_H

#include <stdbool.h>

#include "json.h"

/* 1 if file @name in @dirfd starts like an established image, 0 if not, -1 on error. */
int est_file_kind(int dirfd, const char *name);

/* Append crit's document of image @name (pretty: indented as at @level). */
int est_show_file(int dirfd, const char *name, bool pretty, unsigned int level, struct jbuf *jb);

/*
 * Show every image of the directory @dirfd as one object keyed by file
 * name; @flush writes out what is in @jb so far (0 or -1).
 */
int est_show_dir(int dirfd, bool pretty, struct jbuf *jb, int (*flush)(struct jbuf *));

/* Whether the "magic" of @doc names a kind of the established format. */
bool est_doc_names_est_kind(const struct json_value *doc);

/* Write the image @doc describes to @out_name in @dirfd. */
int est_encode(const struct json_value *doc, const char *src, int dirfd, const char *out_name);

#endif /* CRIU_EST_SHOW_H */
