/*
 * libFuzzer target for the JSON reader and the encode path.
 *
 * Input: a JSON document. It must never crash the reader; when it parses
 * and names an image kind, it is encoded with json_to_img. When that
 * succeeds, the image is shown and the shown JSON encoded again: the two
 * images must be byte-identical (show and encode are inverses), else abort.
 * A document naming a kind of the established format goes through that
 * format's encoder (est-json.h) instead, shown compact and pretty.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "est-json.h"
#include "est-show.h"
#include "image.h"
#include "json.h"
#include "log.h"
#include "pbjson.h"
#include "fuzz-dir.h"

static int dir_fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dir_fd = fuzz_dir_init("fuzz-json");
	return 0;
}

/* The standard file name of the kind @doc names, or NULL. */
static const char *out_name(const struct json_value *doc, char *buf, size_t size)
{
	const struct json_value *magic = json_get(doc, "magic");
	int k;

	if (!magic || magic->type != JSON_STRING)
		return NULL;
	for (k = 0; k < IMG_KIND_MAX; k++) {
		if (!strcmp(img_desc(k)->name, magic->str)) {
			snprintf(buf, size, img_desc(k)->fmt, 1u);
			return buf;
		}
	}
	return NULL;
}

static size_t slurp(const char *name, uint8_t *buf, size_t size)
{
	int fd = openat(dir_fd, name, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		abort();
	n = read(fd, buf, size);
	close(fd);
	if (n < 0 || (size_t)n == size)
		abort();
	return n;
}

/* Encode @doc, show it, encode that, compare. */
static void round_trip(const struct json_value *doc, const char *name)
{
	static uint8_t first[1 << 20], second[1 << 20];
	struct json_value *again;
	struct jbuf jb;
	size_t n1, n2;

	if (json_to_img(doc, "fuzz", dir_fd, name))
		return;
	n1 = slurp(name, first, sizeof(first));
	jbuf_init(&jb);
	if (img_to_json(dir_fd, name, &jb, 0))
		abort();		/* encode wrote what show cannot read */
	again = json_parse(jb.buf, jb.len, "shown", NULL);
	jbuf_free(&jb);
	if (!again || json_to_img(again, "shown", dir_fd, name))
		abort();
	json_free(again);
	n2 = slurp(name, second, sizeof(second));
	if (n1 != n2 || memcmp(first, second, n1))
		abort();
	unlinkat(dir_fd, name, 0);
}

/* Show the established image @img, encode that: the same bytes; else abort. */
static void est_again(const struct jbuf *img, bool pretty)
{
	const struct est_kind *k = est_kind_of_buf((const uint8_t *)img->buf, img->len, "fuzz");
	struct json_value *doc;
	struct jbuf text, again;

	jbuf_init(&text);
	jbuf_init(&again);
	if (!k || est_to_json(k, (const uint8_t *)img->buf, img->len, "fuzz", pretty, 0, &text))
		abort();		/* encode wrote what show cannot read */
	doc = json_parse(text.buf, text.len, "shown", NULL);
	if (!doc || est_from_json(doc, "shown", NULL, &again))
		abort();
	if (again.len != img->len || memcmp(again.buf, img->buf, img->len))
		abort();
	json_free(doc);
	jbuf_free(&text);
	jbuf_free(&again);
}

static void est_round_trip(const struct json_value *doc)
{
	struct jbuf img, norm;
	struct json_value *d2;

	jbuf_init(&img);
	jbuf_init(&norm);
	if (est_from_json(doc, "fuzz", NULL, &img))
		goto out;
	/*
	 * One show/encode first: like crit's, the quoted-printable text of a
	 * unix name with mixed line ends reads back with one kind of them.
	 */
	if (est_to_json(est_kind_of_buf((const uint8_t *)img.buf, img.len, "fuzz"),
			(const uint8_t *)img.buf, img.len, "fuzz", false, 0, &norm))
		abort();
	d2 = json_parse(norm.buf, norm.len, "shown", NULL);
	jbuf_free(&img);
	jbuf_init(&img);
	if (!d2 || est_from_json(d2, "shown", NULL, &img))
		abort();
	json_free(d2);
	est_again(&img, false);
	est_again(&img, true);
out:
	jbuf_free(&img);
	jbuf_free(&norm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_value *doc = json_parse((const char *)data, size, "fuzz", NULL);
	char buf[64];
	const char *name;

	if (!doc)
		return 0;
	if (est_doc_names_est_kind(doc)) {
		est_round_trip(doc);
		json_free(doc);
		return 0;
	}
	name = out_name(doc, buf, sizeof(buf));
	if (name)
		round_trip(doc, name);
	json_free(doc);
	return 0;
}
