/* The parasite's formatted logger: records go to the caller as datagrams. */
#include <std/syscall.h>
#include <std/string.h>
#include <std/log.h>

static int log_fd = -1;
static unsigned int log_max = STD_LOG_WARN;

void std_log_set_fd(int fd, unsigned int max_level)
{
	log_fd = fd;
	log_max = max_level;
}

struct out {
	char	*buf;
	size_t	size;
	size_t	len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_num(struct out *o, unsigned long long v, int neg,
		    unsigned int base, int upper, int width, char pad)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (neg)
		width--;
	if (neg && pad == '0')
		put(o, '-');
	for (; width > n; width--)
		put(o, pad);
	if (neg && pad != '0')
		put(o, '-');
	while (n)
		put(o, tmp[--n]);
}

static void put_str(struct out *o, const char *s, int width)
{
	int n;

	if (!s)
		s = "(null)";
	for (n = (int)std_strlen(s); width > n; width--)
		put(o, ' ');
	while (*s)
		put(o, *s++);
}

/* Fetch an argument of `lng` longs (0: int, 1: long, 2: long long). */
static unsigned long long get_arg(std_va_list *ap, int lng, int sgn)
{
	if (lng == 2)
		return __builtin_va_arg(*ap, unsigned long long);
	if (lng == 1)
		return sgn ? (unsigned long long)__builtin_va_arg(*ap, long)
			   : __builtin_va_arg(*ap, unsigned long);
	return sgn ? (unsigned long long)(long long)__builtin_va_arg(*ap, int)
		   : __builtin_va_arg(*ap, unsigned int);
}

static void conv(struct out *o, char c, int lng, int width, char pad,
		 std_va_list *ap)
{
	unsigned long long v;

	switch (c) {
	case 'd': case 'i':
		v = get_arg(ap, lng, 1);
		if ((long long)v < 0)
			put_num(o, -(long long)v, 1, 10, 0, width, pad);
		else
			put_num(o, v, 0, 10, 0, width, pad);
		break;
	case 'u': case 'x': case 'X':
		v = get_arg(ap, lng, 0);
		put_num(o, v, 0, c == 'u' ? 10 : 16, c == 'X', width, pad);
		break;
	case 'p':
		put(o, '0');
		put(o, 'x');
		put_num(o, (unsigned long)__builtin_va_arg(*ap, void *), 0, 16,
			0, width, pad);
		break;
	case 's':
		put_str(o, __builtin_va_arg(*ap, const char *), width);
		break;
	case 'c':
		put(o, (char)__builtin_va_arg(*ap, int));
		break;
	default:
		put(o, '%');
		put(o, c);
	}
}

int std_vsnprintf(char *buf, size_t size, const char *fmt, std_va_list ap)
{
	struct out o = { buf, size, 0 };
	std_va_list aq;

	__builtin_va_copy(aq, ap);
	for (; *fmt; fmt++) {
		int lng = 0, width = 0;
		char pad = ' ';

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		if (*++fmt == '%') {
			put(&o, '%');
			continue;
		}
		if (*fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		for (; *fmt == 'l' || *fmt == 'z' || *fmt == 'h'; fmt++)
			if (*fmt != 'h')
				lng++;
		if (!*fmt)
			break;
		conv(&o, *fmt, lng > 2 ? 2 : lng, width, pad, &aq);
	}
	__builtin_va_end(aq);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int std_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	std_va_list ap;
	int n;

	__builtin_va_start(ap, fmt);
	n = std_vsnprintf(buf, size, fmt, ap);
	__builtin_va_end(ap);
	return n;
}

void std_log(unsigned int level, const char *fmt, ...)
{
	char buf[256];
	std_va_list ap;
	int n;

	if (log_fd < 0 || level > log_max)
		return;
	buf[0] = (char)('0' + level);
	__builtin_va_start(ap, fmt);
	n = std_vsnprintf(buf + 1, sizeof(buf) - 2, fmt, ap);
	__builtin_va_end(ap);
	n = n + 1 > (int)sizeof(buf) - 2 ? (int)sizeof(buf) - 2 : n + 1;
	buf[n++] = '\n';
	/* A datagram per record; never blocks, never raises SIGPIPE. */
	sys_sendto(log_fd, buf, n, STD_MSG_NOSIGNAL | STD_MSG_DONTWAIT);
}
