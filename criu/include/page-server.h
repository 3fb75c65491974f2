/*
 * Pages over the network (Documentation/page-server.md).
 *
 * Server (criu page-server):
 *   1. ps_listen() or an inherited connected socket (--ps-socket)
 *   2. ps_serve(sock, sock, dirfd)   reads one dump's stream, writes its page
 *                                    files into dirfd, answers ACK; 0 or -1
 * Dump (criu dump --page-server):
 *   1. ps_client_open(o)             connects (or takes --ps-socket) before the seize
 *   2. ps_send_pages(est_dirfd, fd)  after the manifest is written: every
 *                                    pages-N.img of the converted set goes out,
 *                                    the server's ACK is awaited, and the sent
 *                                    files are removed from the set
 * Every message starts with a struct ps_hdr, little-endian; everything the
 * server reads is untrusted and bounded (ps_serve never trusts a length).
 */
#ifndef CRIU_PAGE_SERVER_H
#define CRIU_PAGE_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "options.h"

#define PS_MAGIC	0x3176737075697263ull	/* "criupsv1" read as a little-endian u64 */
#define PS_VERSION	1
#define PS_MAX_FILES	4096			/* files of one dump */
#define PS_MAX_NAME	64			/* "pages-N.img" and its NUL */
#define PS_MAX_CHUNK	(16u << 20)		/* data bytes of one DATA message */
#define PS_MAX_FILE	(1ull << 40)		/* bytes of one page file */

enum ps_kind {
	PS_HELLO = 1,	/* id: version, off: PS_MAGIC, len: 0 */
	PS_OPEN	 = 2,	/* id: new file id, off: 0, len: name length; the name follows */
	PS_DATA	 = 3,	/* id: open file, off: where in it, len: bytes that follow */
	PS_CLOSE = 4,	/* id: open file, off: its size, len: its manifest checksum */
	PS_END	 = 5,	/* id: files closed, off: 0, len: 0; the server answers PS_ACK */
	PS_ACK	 = 6,	/* server -> dump: id: files written */
	PS_REFUSE = 7,	/* server -> dump, at any time: id: enum ps_refusal; then it closes */
};

enum ps_refusal {
	PS_REFUSE_NEED_TLS = 1,	/* the server runs with --tls, the dump spoke plain */
};

struct ps_hdr {
	uint32_t kind;
	uint32_t id;
	uint64_t off;
	uint64_t len;
} __attribute__((packed));

/* Serves one dump's stream from @in into @dirfd; the ACK goes to @out (-1: none). */
int ps_serve(int in, int out, int dirfd);

/* TLS (page-server-tls.c): a session over a connected socket, handshake and peer checked. */
struct ps_tls;
struct ps_tls *ps_tls_new(const struct cr_options *o);		/* certificates loaded */
int ps_tls_handshake(struct ps_tls *t, int sk, const struct cr_options *o, bool server);
struct ps_tls *ps_tls_start(int sk, const struct cr_options *o, bool server);	/* both */
int ps_tls_send(struct ps_tls *t, const void *buf, size_t len);	/* all of it, 0 or -1 */
ssize_t ps_tls_recv(struct ps_tls *t, void *buf, size_t len);	/* > 0, 0 at the end, -1 */
void ps_tls_end(struct ps_tls *t);
/* The same as ps_serve(), the stream inside @tls over @sk. */
int ps_serve_tls(int sk, struct ps_tls *tls, int dirfd);

int cmd_page_server(struct cr_options *o);
int ps_client_open(const struct cr_options *o);
int ps_send_pages(int dirfd, int sock);

#endif /* CRIU_PAGE_SERVER_H */
