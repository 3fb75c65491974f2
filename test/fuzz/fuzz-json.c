/*
 * libFuzzer target for the JSON reader and the encode path.
 *
 * Input: a JSON document. It must never crash the reader; when it parses
 * and names an image kind, it is encoded with json_to_img. When that
 * succeeds, the image is shown and the shown JSON encoded again: the two
 * images must be byte-identical (show and encode are inverses), else abort.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "json.h"
#include "log.h"
#include "pbjson.h"
#include "fuzz-dir.h"

static int dirfd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	dirfd = fuzz_dir_init("fuzz-json");
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
	int fd = openat(dirfd, name, O_RDONLY);
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

	if (json_to_img(doc, "fuzz", dirfd, name))
		return;
	n1 = slurp(name, first, sizeof(first));
	jbuf_init(&jb);
	if (img_to_json(dirfd, name, &jb, 0))
		abort();		/* encode wrote what show cannot read */
	again = json_parse(jb.buf, jb.len, "shown", NULL);
	jbuf_free(&jb);
	if (!again || json_to_img(again, "shown", dirfd, name))
		abort();
	json_free(again);
	n2 = slurp(name, second, sizeof(second));
	if (n1 != n2 || memcmp(first, second, n1))
		abort();
	unlinkat(dirfd, name, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_value *doc = json_parse((const char *)data, size, "fuzz", NULL);
	char buf[64];
	const char *name;

	if (!doc)
		return 0;
	name = out_name(doc, buf, sizeof(buf));
	if (name)
		round_trip(doc, name);
	json_free(doc);
	return 0;
}
