/*
 * The value texts of crit's JSON (criu/est-json-text.c) against what
 * Python's quopri, base64, ipaddress and os.major/minor give (the expected
 * strings were printed by Python 3.11, the version Debian's crit runs on),
 * and each reader against its writer. test/est-show.sh checks whole images
 * against crit itself.
 */
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "est-json-text.h"
#include "unit.h"

/* The text @put appended, without the quotes, into @out. */
static void unquote(struct jbuf *jb, char *out, size_t size)
{
	size_t n = jb->len >= 2 ? jb->len - 2 : 0;

	if (n >= size)
		n = size - 1;
	memcpy(out, jb->buf + 1, n);
	out[n] = '\0';
}

/* The bytes, quopri's text for them, and that text as a JSON string body. */
static const struct {
	const char *in;
	size_t len;
	const char *qp, *json;
} qp_cases[] = {
	{ "", 0, "", "" },
	{ "\0abstract", 9, "=00abstract", "=00abstract" },
	{ "a=b", 3, "a=3Db", "a=3Db" },
	{ "trail ", 6, "trail=20", "trail=20" },
	{ "line one \nline two\t\n.\nend ", 26, "line one=20\nline two=09\n=2E\nend=20",
	  "line one=20\\nline two=09\\n=2E\\nend=20" },
	{ "\xff\xfe", 2, "=FF=FE", "=FF=FE" },
	{ "a\r\nb\r\n c \r\n", 11, "a\r\nb\r\n c=20\r\n", "a\\r\\nb\\r\\n c=20\\r\\n" },
	{ "   ", 3, "  =20", "  =20" },
	{ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 80,
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=\nxxxxx",
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=\\nxxxxx" },
};

static int test_qp(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(qp_cases); i++) {
		struct jbuf jb;
		char text[256];
		uint8_t *back;
		size_t n;

		jbuf_init(&jb);
		est_put_qp(&jb, (const uint8_t *)qp_cases[i].in, qp_cases[i].len);
		unquote(&jb, text, sizeof(text));
		CHECK_STR(text, qp_cases[i].json);
		jbuf_free(&jb);
		CHECK(!est_get_qp(qp_cases[i].qp, strlen(qp_cases[i].qp), &back, &n));
		CHECK(n == qp_cases[i].len && (!n || !memcmp(back, qp_cases[i].in, n)));
		free(back);
	}
	return 0;
}

static int test_base64(void)
{
#define B64_56	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc"
	static const char *const want[] = {
		[0] = "", [1] = "AA==\\n", [2] = "AAE=\\n", [3] = "AAEC\\n",
		[56] = B64_56 "=\\n", [57] = B64_56 "4\\n", [58] = B64_56 "4\\nOQ==\\n",
	};
	uint8_t data[64], *back;
	unsigned int i;
	size_t n;

	for (i = 0; i < sizeof(data); i++)
		data[i] = i;
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		struct jbuf jb;
		char text[256];

		if (!want[i])
			continue;
		jbuf_init(&jb);
		est_put_base64(&jb, data, i);
		unquote(&jb, text, sizeof(text));
		CHECK_STR(text, want[i]);
		jbuf_free(&jb);
	}
	CHECK(!est_get_base64("AAECAw==\n", 9, &back, &n) && n == 4 && !memcmp(back, data, 4));
	free(back);
	CHECK(!est_get_base64("AAEC\nAw==", 9, &back, &n) && n == 4);
	free(back);
	CHECK(!est_get_base64("", 0, &back, &n) && !n && !back);
	CHECK(est_get_base64("AAE", 3, &back, &n));		/* cut */
	CHECK(est_get_base64("AA==AA==", 8, &back, &n));	/* data after padding */
	CHECK(est_get_base64("A*==", 4, &back, &n));
	return 0;
}

static int test_ipadd(void)
{
	static const char *const v6[][2] = {
		{ "fe80::1:0:0:5", "fe80::1:0:0:5" }, { "1:0:0:2:0:0:0:3", "1:0:0:2::3" },
		{ "::", "::" }, { "1:2::", "1:2::" }, { "::1", "::1" },
		{ "1:0:2:0:3:0:4:5", "1:0:2:0:3:0:4:5" }, { "0:0:1::", "0:0:1::" },
		{ "::ffff:1.2.3.4", "::ffff:102:304" }, { "1:0:0:2:2:0:0:3", "1::2:2:0:0:3" },
	};
	uint32_t w[4];
	unsigned int i;
	size_t n;

	for (i = 0; i < ARRAY_SIZE(v6); i++) {
		struct jbuf jb;
		char text[64];

		CHECK(!est_get_ipadd(v6[i][0], w, &n) && n == 4);
		jbuf_init(&jb);
		est_put_ipadd(&jb, w, n);
		unquote(&jb, text, sizeof(text));
		CHECK_STR(text, v6[i][1]);
		jbuf_free(&jb);
	}
	CHECK(!est_get_ipadd("10.1.2.3", w, &n) && n == 1 && w[0] == 0x0302010a);
	CHECK(est_get_ipadd("10.1.2", w, &n) && est_get_ipadd("", w, &n));
	return 0;
}

static int test_numbers(void)
{
	struct jbuf jb;
	uint64_t v;
	bool neg;

	CHECK(!est_get_int("0x1f", &neg, &v) && v == 31 && !neg);
	CHECK(!est_get_int("-0x5", &neg, &v) && v == 5 && neg);
	CHECK(!est_get_int("0o17", &neg, &v) && v == 15);
	CHECK(!est_get_int("0b101", &neg, &v) && v == 5);
	CHECK(!est_get_int("0", &neg, &v) && v == 0);
	CHECK(!est_get_int("18446744073709551615", &neg, &v) && v == UINT64_MAX);
	CHECK(est_get_int("18446744073709551616", &neg, &v));
	CHECK(est_get_int("017", &neg, &v) && est_get_int("0x", &neg, &v) &&
	      est_get_int("12a", &neg, &v) && est_get_int("", &neg, &v));

	jbuf_init(&jb);
	est_put_dev(&jb, 0x12345678abcull, true);
	est_put_dev(&jb, 259u << 20 | 1048575, false);
	CHECK_STR(jb.buf, "\"1930:305419964\"\"259:1048575\"");
	jbuf_free(&jb);
	CHECK(!est_get_dev("1930:305419964", true, &v) && v == 0x12345678abcull);
	CHECK(!est_get_dev("259:1048575", false, &v) && v == (259u << 20 | 1048575));
	CHECK(est_get_dev("1:2:3", false, &v) && est_get_dev("-1:2", false, &v));

	jbuf_init(&jb);
	est_put_flags(&jb, "mmap.status", 0x4201);
	est_put_flags(&jb, "rfile.flags", 0);
	est_put_flags(&jb, "no.such.map", 10);
	CHECK_STR(jb.buf, "\"VMA_AREA_REGULAR | VMA_ANON_PRIVATE | 0x4000\"\"\"\"0xa\"");
	jbuf_free(&jb);
	CHECK(!est_get_flags("mmap.status", "VMA_AREA_REGULAR | VMA_ANON_PRIVATE | 0x4000", &v) &&
	      v == 0x4201);
	CHECK(!est_get_flags("rfile.flags", "", &v) && v == 0);
	CHECK(est_get_flags("rfile.flags", "O_RDWR |", &v) &&
	      est_get_flags("rfile.flags", "BOGUS", &v));

	CHECK_STR(est_dict_name("sk", "state", 10), "LISTEN");
	CHECK(!est_dict_name("sk", "state", 99) && !est_dict_name("gen", "state", 1));
	CHECK(!est_dict_value("gen", "task_state", "Zombie", &v) && v == 3);
	return 0;
}

static int test_strings(void)
{
	struct jbuf jb;

	jbuf_init(&jb);
	est_put_string(&jb, "caf\xc3\xa9 \xf0\x9f\x98\x80\x01\x7f\"\\\t\xff", 16);
	CHECK_STR(jb.buf, "\"caf\\u00e9 \\ud83d\\ude00\\u0001\\u007f\\\"\\\\\\t\\udcff\"");
	jbuf_free(&jb);
	return 0;
}

static const struct unit_case cases[] = {
	{ "quoted-printable as Python's quopri", test_qp },
	{ "base64 as Python's encodebytes, and back", test_base64 },
	{ "IP address texts as Python's ipaddress", test_ipadd },
	{ "base-0 integers, devices, flag maps, dicts", test_numbers },
	{ "strings ASCII-only as json.dumps, bad bytes as \\udcXX", test_strings },
};

UNIT_MAIN(cases)
