/*
 * libFuzzer target for show and encode on images of the established format
 * (criu/est-json*.c).
 *
 * Input: the bytes of an image file. Whatever they hold, printing them must
 * not crash. When the image prints (compact and pretty), each text must read
 * back (est_from_json) to one image, the same from both texts, which prints
 * and encodes again to the same bytes; else abort. (The input itself need
 * not come back: protobuf allows more than one encoding of a message.)
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "est-json.h"
#include "json.h"
#include "log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init(NULL, NULL, LOG_NONE);
	return 0;
}

/* Print @buf; the text in @jb, 0 if it printed. */
static int show(const uint8_t *buf, size_t len, bool pretty, struct jbuf *jb)
{
	const struct est_kind *k = est_kind_of_buf(buf, len, "fuzz");

	jbuf_init(jb);
	return k ? est_to_json(k, buf, len, "fuzz", pretty, 0, jb) : -1;
}

/* Encode text @jb into @img (jbuf_init'ed by the caller); aborts if it cannot. */
static void encode(const struct jbuf *jb, struct jbuf *img)
{
	struct json_value *doc = json_parse(jb->buf, jb->len, "shown", NULL);

	if (!doc || est_from_json(doc, "shown", NULL, img))
		abort();		/* show printed what encode cannot read */
	json_free(doc);
}

static void must_equal(const struct jbuf *a, const struct jbuf *b)
{
	if (a->len != b->len || memcmp(a->buf, b->buf, a->len))
		abort();
}

/*
 * Encode @text into @img, print that and encode it again: the same bytes.
 * (Not always the same text: like crit's, the quoted-printable form of a
 * unix socket name with mixed line ends reads back with one kind of them.)
 */
static void round_trip(const struct jbuf *text, bool pretty, struct jbuf *img)
{
	struct jbuf again, img2;

	jbuf_init(img);
	jbuf_init(&img2);
	encode(text, img);
	if (show((const uint8_t *)img->buf, img->len, pretty, &again))
		abort();
	encode(&again, &img2);
	must_equal(img, &img2);
	jbuf_free(&again);
	jbuf_free(&img2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jbuf compact, pretty, img1, img2;

	if (!est_looks_like_image(data, size))
		return 0;
	if (show(data, size, false, &compact)) {
		jbuf_free(&compact);
		return 0;
	}
	if (show(data, size, true, &pretty))
		abort();		/* the two forms must agree on what is valid */
	round_trip(&compact, false, &img1);
	round_trip(&pretty, true, &img2);
	must_equal(&img1, &img2);
	jbuf_free(&compact);
	jbuf_free(&pretty);
	jbuf_free(&img1);
	jbuf_free(&img2);
	return 0;
}
