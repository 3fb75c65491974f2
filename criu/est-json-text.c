/* Value texts of crit's JSON: see include/est-json-text.h. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "est-json-text.h"

/* ---- strings ----------------------------------------------------------------- */

/* The code point of the valid UTF-8 sequence at @s (at most @n bytes); its length or 0. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t min;
	size_t len, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, *cp = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, *cp = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, *cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (s[i] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return len;
}

void est_put_string(struct jbuf *jb, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t cp;

	jbuf_putn(jb, "\"", 1);
	while (i < len) {
		const char *esc = json_short_escape(u[i]);

		if (esc) {
			jbuf_puts(jb, esc);
			i++;
		} else if (u[i] >= 0x20 && u[i] < 0x7f) {
			jbuf_putn(jb, s + i++, 1);
		} else if (!(n = utf8_decode(u + i, len - i, &cp))) {
			jbuf_printf(jb, "\\udc%02x", u[i++]);	/* a raw byte, see json.h */
		} else {
			i += n;
			if (cp >= 0x10000) {
				cp -= 0x10000;
				jbuf_printf(jb, "\\u%04x\\u%04x", 0xd800 + (cp >> 10),
					    0xdc00 + (cp & 0x3ff));
			} else {
				jbuf_printf(jb, "\\u%04x", cp);
			}
		}
	}
	jbuf_putn(jb, "\"", 1);
}

/* ---- base64 ------------------------------------------------------------------ */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void est_put_base64(struct jbuf *jb, const uint8_t *d, size_t len)
{
	size_t i, col = 0;
	char q[4];

	jbuf_putn(jb, "\"", 1);
	for (i = 0; i < len; i += 3) {
		uint32_t v = d[i] << 16 | (i + 1 < len ? d[i + 1] << 8 : 0) |
			     (i + 2 < len ? d[i + 2] : 0);

		q[0] = b64[v >> 18];
		q[1] = b64[(v >> 12) & 63];
		q[2] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		q[3] = i + 2 < len ? b64[v & 63] : '=';
		jbuf_putn(jb, q, 4);
		col += 4;
		if (col == 76 || i + 3 >= len) {
			jbuf_puts(jb, "\\n");
			col = 0;
		}
	}
	jbuf_putn(jb, "\"", 1);
}

int est_get_base64(const char *s, size_t len, uint8_t **out, size_t *out_len)
{
	uint8_t *o = len ? malloc(len / 4 * 3 + 3) : NULL;
	uint32_t acc = 0;
	size_t i, n = 0, k = 0, pad = 0;

	*out = NULL;
	*out_len = 0;
	if (len && !o)
		return -1;
	for (i = 0; i < len; i++) {
		const char *hit = s[i] ? strchr(b64, s[i]) : NULL;

		if (s[i] == '\n' || s[i] == ' ' || s[i] == '\r' || s[i] == '\t')
			continue;
		if (s[i] == '=') {
			pad++;
			continue;
		}
		if (!hit || pad)
			goto err;
		acc = acc << 6 | (hit - b64);
		if (++k == 4) {
			o[n++] = acc >> 16;
			o[n++] = acc >> 8;
			o[n++] = acc;
			k = 0;
			acc = 0;
		}
	}
	if (k == 1 || (k && pad != 4 - k) || (!k && pad))
		goto err;
	if (k == 2) {
		o[n++] = acc >> 4;
	} else if (k == 3) {
		o[n++] = acc >> 10;
		o[n++] = acc >> 2;
	}
	if (!n) {
		free(o);
		o = NULL;
	}
	*out = o;
	*out_len = n;
	return 0;
err:
	free(o);
	return -1;
}

/* ---- quoted-printable ------------------------------------------------------------ */

#define QP_LINE	76

struct qp {
	char *o;
	size_t n;
};

static void qp_put(struct qp *q, char c)
{
	q->o[q->n++] = c;
}

static void qp_hex(struct qp *q, uint8_t c)
{
	static const char hex[] = "0123456789ABCDEF";

	qp_put(q, '=');
	qp_put(q, hex[c >> 4]);
	qp_put(q, hex[c & 15]);
}

static void qp_soft_break(struct qp *q, bool crlf)
{
	qp_put(q, '=');
	if (crlf)
		qp_put(q, '\r');
	qp_put(q, '\n');
}

static bool qp_must_quote(const uint8_t *d, size_t i, size_t len, size_t col)
{
	uint8_t c = d[i];

	if (c > 126 || c == '=')
		return true;
	if (c == '.' && !col && (i + 1 == len || d[i + 1] == '\n' || d[i + 1] == '\r' || !d[i + 1]))
		return true;
	if ((c == '\t' || c == ' ') && i + 1 == len)
		return true;
	return c < 33 && c != '\r' && c != '\n' && c != '\t' && c != ' ';
}

/* binascii.b2a_qp(data, quotetabs=False, istext=True, header=False), CPython's algorithm. */
void est_put_qp(struct jbuf *jb, const uint8_t *d, size_t len)
{
	const uint8_t *nl = len ? memchr(d, '\n', len) : NULL;
	bool crlf = nl && nl > d && nl[-1] == '\r';
	struct qp q = { .o = malloc(len * 6 + 8) };	/* worst case: "=XX=\r\n" per byte */
	size_t i = 0, col = 0;

	if (!q.o) {
		jb->oom = true;
		return;
	}
	while (i < len) {
		if (qp_must_quote(d, i, len, col)) {
			if (col + 3 >= QP_LINE) {
				qp_soft_break(&q, crlf);
				col = 0;
			}
			qp_hex(&q, d[i++]);
			col += 3;
		} else if (d[i] == '\n' || (i + 1 < len && d[i] == '\r' && d[i + 1] == '\n')) {
			col = 0;
			if (q.n && (q.o[q.n - 1] == ' ' || q.o[q.n - 1] == '\t')) {
				uint8_t c = q.o[--q.n];

				qp_hex(&q, c);
			}
			if (crlf)
				qp_put(&q, '\r');
			qp_put(&q, '\n');
			i += d[i] == '\r' ? 2 : 1;
		} else {
			if (i + 1 != len && d[i + 1] != '\n' && col + 1 >= QP_LINE) {
				qp_soft_break(&q, crlf);
				col = 0;
			}
			col++;
			qp_put(&q, d[i++]);
		}
	}
	est_put_string(jb, q.o, q.n);
	free(q.o);
}

/* binascii.a2b_qp(data, header=False). */
int est_get_qp(const char *s, size_t len, uint8_t **out, size_t *out_len)
{
	uint8_t *o = len ? malloc(len) : NULL;
	size_t i = 0, n = 0;

	*out = NULL;
	*out_len = 0;
	if (len && !o)
		return -1;
	while (i < len) {
		if (s[i] != '=') {
			o[n++] = s[i++];
			continue;
		}
		if (++i >= len)
			break;
		if (s[i] == '\n' || s[i] == '\r') {
			while (i < len && s[i] != '\n')
				i++;
			if (i < len)
				i++;
		} else if (s[i] == '=') {
			o[n++] = '=';
			i++;
		} else if (i + 1 < len && json_hex_digit(s[i]) >= 0 &&
			   json_hex_digit(s[i + 1]) >= 0) {
			o[n++] = json_hex_digit(s[i]) << 4 | json_hex_digit(s[i + 1]);
			i += 2;
		} else {
			o[n++] = '=';
		}
	}
	if (!n) {
		free(o);
		o = NULL;
	}
	*out = o;
	*out_len = n;
	return 0;
}

/* ---- numbers, devices ------------------------------------------------------------- */

int est_get_int(const char *s, bool *neg, uint64_t *mag)
{
	unsigned int base = 10;
	uint64_t m = 0;
	int d;

	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	*neg = *s == '-';
	if (*s == '-' || *s == '+')
		s++;
	if (s[0] == '0' && s[1] && strchr("xXoObB", s[1])) {
		base = strchr("xX", s[1]) ? 16 : strchr("oO", s[1]) ? 8 : 2;
		s += 2;
	} else if (s[0] == '0' && s[1] >= '0' && s[1] <= '9') {
		return -1;		/* Python refuses leading zeros */
	}
	if (!*s)
		return -1;
	for (; *s && *s != ' ' && *s != '\t' && *s != '\n'; s++) {
		d = json_hex_digit(*s);
		if (d < 0 || (unsigned int)d >= base || m > (UINT64_MAX - d) / base)
			return -1;
		m = m * base + d;
	}
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	if (*s)
		return -1;
	*mag = m;
	return 0;
}

void est_put_dev(struct jbuf *jb, uint64_t v, bool old)
{
	uint64_t maj, mnr;

	if (old) {
		maj = ((v >> 32) & 0xfffff000) | ((v >> 8) & 0xfff);
		mnr = ((v >> 12) & 0xffffff00) | (v & 0xff);
	} else {
		maj = v >> 20;
		mnr = v & 0xfffff;
	}
	jbuf_printf(jb, "\"%llu:%llu\"", (unsigned long long)maj, (unsigned long long)mnr);
}

int est_get_dev(const char *s, bool old, uint64_t *v)
{
	unsigned long long maj, mnr;
	int end = 0;

	if (sscanf(s, "%llu:%llu%n", &maj, &mnr, &end) != 2 || s[end] || *s == '-' ||
	    strchr(s, '-') || maj > UINT32_MAX || mnr > UINT32_MAX)
		return -1;
	if (old)
		*v = (maj & 0xfff) << 8 | (maj & ~0xfffull) << 32 | (mnr & 0xff) |
		     (mnr & ~0xffull) << 12;
	else
		*v = maj << 20 | mnr;
	return 0;
}

/* ---- flag maps and dicts (crit's pb2dict tables) ------------------------------ */

struct name_val {
	const char *name;
	uint64_t val;
};

#define END	{ NULL, 0 }

static const struct name_val mmap_prot[] = {
	{ "PROT_READ", 1 }, { "PROT_WRITE", 2 }, { "PROT_EXEC", 4 }, END
};
static const struct name_val mmap_flags[] = {
	{ "MAP_SHARED", 1 }, { "MAP_PRIVATE", 2 }, { "MAP_ANON", 0x20 },
	{ "MAP_GROWSDOWN", 0x100 }, END
};
static const struct name_val mmap_status[] = {
	{ "VMA_AREA_NONE", 0 }, { "VMA_AREA_REGULAR", 1 }, { "VMA_AREA_STACK", 2 },
	{ "VMA_AREA_VSYSCALL", 4 }, { "VMA_AREA_VDSO", 8 }, { "VMA_AREA_HEAP", 0x20 },
	{ "VMA_FILE_PRIVATE", 0x40 }, { "VMA_FILE_SHARED", 0x80 },
	{ "VMA_ANON_SHARED", 0x100 }, { "VMA_ANON_PRIVATE", 0x200 },
	{ "VMA_AREA_SYSVIPC", 0x400 }, { "VMA_AREA_SOCKET", 0x800 },
	{ "VMA_AREA_VVAR", 0x1000 }, { "VMA_AREA_AIORING", 0x2000 },
	{ "VMA_UNSUPP", 1u << 31 }, END
};
static const struct name_val rfile_flags[] = {
	{ "O_WRONLY", 01 }, { "O_RDWR", 02 }, { "O_CREAT", 0100 }, { "O_EXCL", 0200 },
	{ "O_NOCTTY", 0400 }, { "O_TRUNC", 01000 }, { "O_APPEND", 02000 },
	{ "O_NONBLOCK", 04000 }, { "O_DSYNC", 010000 }, { "FASYNC", 020000 },
	{ "O_DIRECT", 040000 }, { "O_LARGEFILE", 0100000 }, { "O_DIRECTORY", 0200000 },
	{ "O_NOFOLLOW", 0400000 }, { "O_NOATIME", 01000000 }, { "O_CLOEXEC", 02000000 }, END
};
static const struct name_val pmap_flags[] = {
	{ "PE_PARENT", 1 }, { "PE_LAZY", 2 }, { "PE_PRESENT", 4 }, END
};
static const struct name_val seals_flags[] = {
	{ "F_SEAL_SEAL", 1 }, { "F_SEAL_SHRINK", 2 }, { "F_SEAL_GROW", 4 },
	{ "F_SEAL_WRITE", 8 }, { "F_SEAL_FUTURE_WRITE", 0x10 }, END
};

static const struct {
	const char *name;
	const struct name_val *map;
} flag_maps[] = {
	{ "mmap.prot", mmap_prot }, { "mmap.flags", mmap_flags },
	{ "mmap.status", mmap_status }, { "rfile.flags", rfile_flags },
	{ "pmap.flags", pmap_flags }, { "seals.flags", seals_flags },
};

static const struct name_val task_state[] = {
	{ "Alive", 1 }, { "Zombie", 3 }, { "Stopped", 6 }, END
};
static const struct name_val sk_family[] = {
	{ "UNIX", 1 }, { "INET", 2 }, { "INET6", 10 }, { "NETLINK", 16 }, { "PACKET", 17 }, END
};
static const struct name_val sk_type[] = {
	{ "STREAM", 1 }, { "DGRAM", 2 }, { "RAW", 3 }, { "SEQPACKET", 5 }, { "PACKET", 10 }, END
};
static const struct name_val sk_state[] = {
	{ "ESTABLISHED", 1 }, { "SYN_SENT", 2 }, { "SYN_RECV", 3 }, { "FIN_WAIT1", 4 },
	{ "FIN_WAIT2", 5 }, { "TIME_WAIT", 6 }, { "CLOSE", 7 }, { "CLOSE_WAIT", 8 },
	{ "LAST_ACK", 9 }, { "LISTEN", 10 }, END
};
static const struct name_val sk_proto[] = {
	{ "IP", 0 }, { "TCP", 6 }, { "UDP", 17 }, { "UDPLITE", 136 }, END
};

/* crit looks a dict up by the dict's name and then the field's own name. */
static const struct {
	const char *dict, *field;
	const struct name_val *map;
} dicts[] = {
	{ "gen", "task_state", task_state }, { "sk", "family", sk_family },
	{ "sk", "type", sk_type }, { "sk", "state", sk_state }, { "sk", "proto", sk_proto },
};

static const struct name_val *flag_map(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(flag_maps); i++)
		if (!strcmp(flag_maps[i].name, name))
			return flag_maps[i].map;
	return NULL;
}

void est_put_flags(struct jbuf *jb, const char *map, uint64_t v)
{
	const struct name_val *m = flag_map(map);
	uint64_t all = 0;
	bool first = true;

	if (!m) {
		jbuf_printf(jb, "\"0x%llx\"", (unsigned long long)v);
		return;
	}
	jbuf_putn(jb, "\"", 1);
	for (; m->name; m++) {
		all |= m->val;
		if (!(v & m->val))
			continue;
		jbuf_printf(jb, "%s%s", first ? "" : " | ", m->name);
		first = false;
	}
	if (v & ~all)
		jbuf_printf(jb, "%s0x%llx", first ? "" : " | ", (unsigned long long)(v & ~all));
	jbuf_putn(jb, "\"", 1);
}

/* unmap_flags: the sum of the names' values and base-0 numbers between " | ". */
int est_get_flags(const char *map, const char *s, uint64_t *v)
{
	const struct name_val *m = flag_map(map), *x;
	char part[64];
	uint64_t val;
	bool neg;

	*v = 0;
	if (!*s)
		return 0;
	while (*s) {
		const char *bar = strchr(s, '|');
		size_t n = bar ? (size_t)(bar - s) : strlen(s);

		while (n && (*s == ' ' || *s == '\t'))
			s++, n--;
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if (!n || n >= sizeof(part))
			return -1;
		memcpy(part, s, n);
		part[n] = '\0';
		for (x = m; x && x->name && strcmp(x->name, part); x++)
			;
		if (x && x->name)
			val = x->val;
		else if (est_get_int(part, &neg, &val) || neg)
			return -1;
		*v += val;
		s = bar ? bar + 1 : s + n;
		if (bar && !*s)
			return -1;
	}
	return 0;
}

static const struct name_val *dict_map(const char *dict, const char *field)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(dicts); i++)
		if (!strcmp(dicts[i].dict, dict) && !strcmp(dicts[i].field, field))
			return dicts[i].map;
	return NULL;
}

const char *est_dict_name(const char *dict, const char *field, uint64_t v)
{
	const struct name_val *m = dict_map(dict, field);

	for (; m && m->name; m++)
		if (m->val == v)
			return m->name;
	return NULL;
}

int est_dict_value(const char *dict, const char *field, const char *name, uint64_t *v)
{
	const struct name_val *m = dict_map(dict, field);

	for (; m && m->name; m++) {
		if (!strcmp(m->name, name)) {
			*v = m->val;
			return 0;
		}
	}
	return -1;
}

/* ---- IP addresses ------------------------------------------------------------------ */

/* Python's IPv6Address.compressed: the first longest run (>= 2) of zero groups is "::". */
static void put_ipv6(struct jbuf *jb, const uint8_t *a)
{
	int best = -1, best_len = 0, cur = -1, cur_len = 0, i;
	uint16_t g[8];

	for (i = 0; i < 8; i++) {
		g[i] = a[2 * i] << 8 | a[2 * i + 1];
		if (g[i]) {
			cur = -1;
			cur_len = 0;
			continue;
		}
		if (cur < 0)
			cur = i;
		if (++cur_len > best_len) {
			best_len = cur_len;
			best = cur;
		}
	}
	if (best_len < 2)
		best = -1;
	for (i = 0; i < 8; i++) {
		if (i == best) {
			jbuf_puts(jb, "::");
			i += best_len - 1;
			if (i == 7)
				break;
			continue;
		}
		jbuf_printf(jb, "%s%x", i && i != best + best_len ? ":" : "", g[i]);
	}
}

void est_put_ipadd(struct jbuf *jb, const uint32_t *words, size_t n)
{
	uint8_t a[16];

	memcpy(a, words, n == 1 ? 4 : 16);
	jbuf_putn(jb, "\"", 1);
	if (n == 1)
		jbuf_printf(jb, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
	else
		put_ipv6(jb, a);
	jbuf_putn(jb, "\"", 1);
}

int est_get_ipadd(const char *s, uint32_t words[4], size_t *n)
{
	uint8_t a[16];

	if (inet_pton(AF_INET, s, a) == 1) {
		memcpy(words, a, 4);
		*n = 1;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a) == 1) {
		memcpy(words, a, 16);
		*n = 4;
		return 0;
	}
	return -1;
}
