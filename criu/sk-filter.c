/*
 * Classic socket filters: read back with SO_GET_FILTER, attached again with
 * SO_ATTACH_FILTER (criu/include/sk-filter.h).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/filter.h>

#define LOG_PREFIX "sk-filter: "
#include "log.h"
#include "sk-filter.h"

int sk_filter_count(int fd, int64_t *n)
{
	socklen_t len = 0;	/* asks for the number of instructions */

	*n = getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, NULL, &len) ? -1 : (int64_t)len;
	return 0;
}

bool sk_filter_valid(int64_t n, size_t len)
{
	return n >= 1 && n <= BPF_MAXINSNS && len == (size_t)n * sizeof(struct sock_filter);
}

int sk_filter_read(int fd, int64_t n, uint8_t **prog, size_t *len)
{
	socklen_t got = (socklen_t)n;	/* in instructions, not bytes */

	*prog = NULL;
	*len = 0;
	if (n < 1 || n > BPF_MAXINSNS)
		return -1;
	*prog = malloc((size_t)n * sizeof(struct sock_filter));
	if (!*prog) {
		pr_err("out of memory");
		return -1;
	}
	*len = (size_t)n * sizeof(struct sock_filter);
	if (getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, *prog, &got) || (int64_t)got != n) {
		pr_perror("reading the socket filter (%lld instructions)", (long long)n);
		return -1;
	}
	return 0;
}

int sk_filter_attach(int fd, const uint8_t *prog, size_t len)
{
	struct sock_fprog fp = { .len = (unsigned short)(len / sizeof(struct sock_filter)) };
	int ret;

	if (!sk_filter_valid(fp.len, len)) {
		pr_err("a socket filter of %zu bytes", len);
		return -1;
	}
	fp.filter = malloc(len);	/* aligned, as the bytes read may not be */
	if (!fp.filter) {
		pr_err("out of memory");
		return -1;
	}
	memcpy(fp.filter, prog, len);
	ret = setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp));
	if (ret)
		pr_perror("SO_ATTACH_FILTER (%u instructions)", fp.len);
	free(fp.filter);
	return ret ? -1 : 0;
}
