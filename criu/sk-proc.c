/*
 * Raw and ping sockets as the task's network namespace lists them in
 * /proc/PID/net/{raw,raw6,icmp,icmp6}: state, both addresses and ports,
 * queued bytes. sock_diag has no table of ping sockets, and neither
 * getpeername() (which wants a port) nor sock_diag tells a raw or ping
 * socket connected with port 0; these files do. See criu/include/sockets.h.
 */
#include <stdio.h>
#include <string.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define LOG_PREFIX "sk-proc: "
#include "log.h"
#include "sockets.h"

/* "ADDR:PORT": 8 hex digits a word (each the word as the kernel holds it), then the port. */
static int parse_ep(const char *s, size_t words, uint8_t *addr, uint16_t *port)
{
	unsigned int w, p;
	size_t i;
	char hex[9];

	for (i = 0; i < words; i++) {
		memcpy(hex, s + 8 * i, 8);
		hex[8] = 0;
		if (strspn(hex, "0123456789ABCDEFabcdef") != 8 || sscanf(hex, "%x", &w) != 1)
			return -1;
		memcpy(addr + 4 * i, &w, 4);	/* printed as the host reads the word */
	}
	if (s[8 * words] != ':' || sscanf(s + 8 * words + 1, "%4x", &p) != 1 ||
	    strspn(s + 8 * words + 1, "0123456789ABCDEFabcdef") != 4)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

int sk_proc_parse(const char *line, bool v6, struct sk_proc *s)
{
	size_t words = v6 ? 4 : 1, elen = 8 * words + 5;
	char src[40], dst[40];
	unsigned int st, tx, rx;
	unsigned long long ino;
	int n = 0;

	memset(s, 0, sizeof(*s));
	/* sl: local remote st tx:rx tr:when retrnsmt uid timeout inode ... */
	if (sscanf(line, " %*u: %39s %39s %x %x:%x %*x:%*x %*x %*u %*d %llu%n", src, dst, &st, &tx,
		   &rx, &ino, &n) != 6 || !n)
		return 1;	/* the heading, or not a socket line */
	if (strlen(src) != elen || strlen(dst) != elen || st > 255 ||
	    parse_ep(src, words, s->src, &s->sport) || parse_ep(dst, words, s->dst, &s->dport))
		return -1;
	s->ino = ino;
	s->state = (uint8_t)st;
	s->txq = tx;
	s->rxq = rx;
	return 0;
}

int sk_proc_find(int pid, int family, int type, uint64_t ino, struct sk_proc *s)
{
	bool v6 = family == AF_INET6;
	const char *name = type == SOCK_RAW ? (v6 ? "raw6" : "raw") : (v6 ? "icmp6" : "icmp");
	char path[64], line[512];
	int ret = 1, r;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/net/%s", pid, name);
	f = fopen(path, "re");
	if (!f) {
		pr_perror("%s", path);
		return -1;
	}
	while (ret == 1 && fgets(line, sizeof(line), f)) {
		r = sk_proc_parse(line, v6, s);
		if (r < 0) {
			pr_err("%s: a line it cannot read: %s", path, line);
			ret = -1;
		} else if (!r && s->ino == ino) {
			ret = 0;
		}
	}
	fclose(f);
	return ret;
}
