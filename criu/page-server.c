/*
 * criu page-server and the dump's side of pages over the network
 * (Documentation/page-server.md). The server listens on TCP (or takes an
 * already connected socket, --ps-socket), serves one dump with ps_serve()
 * (page-server-proto.c) and exits. The dump connects before it seizes the
 * tree, so an unreachable server costs the tree nothing; after the manifest
 * of the converted images is written it sends every pages-N.img file of
 * the set (sendfile: the data is not copied through criu), and only once
 * the server has acknowledged every file whole are the other images put
 * into -D: a server that dies or refuses fails the dump before its commit.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <endian.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define LOG_PREFIX "page-server: "
#include "log.h"
#include "commands.h"
#include "manifest.h"
#include "page-server.h"

#define ACK_TIMEOUT_MS	(120 * 1000)	/* the server hashes every file before it answers */
#define DRAIN_TIMEOUT_MS (10 * 1000)	/* a refused plain dump notices within a chunk */
#define TLS_BUF		(1u << 20)	/* file data read per TLS send */
#define HELLO_TIMEOUT_MS (30 * 1000)

/* The dump's TLS session over its one page-server connection (NULL: plain). */
static struct ps_tls *client_tls;

/* ---- the server ---------------------------------------------------------------- */

static int ps_listen(const struct cr_options *o)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *s6 = (void *)&ss;
	struct sockaddr_in *s4 = (void *)&ss;
	socklen_t sl;
	int sk, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (o->address && inet_pton(AF_INET, o->address, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(o->port);
		sl = sizeof(*s4);
	} else if (!o->address || inet_pton(AF_INET6, o->address, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;	/* no address: every one, v4 and v6 */
		s6->sin6_port = htons(o->port);
		sl = sizeof(*s6);
	} else {
		pr_err("--address %s: not an IPv4 or IPv6 address", o->address);
		return -1;
	}
	sk = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sk < 0 && errno == EAFNOSUPPORT && !o->address) {	/* a kernel without IPv6 */
		memset(&ss, 0, sizeof(ss));
		s4->sin_family = AF_INET;
		s4->sin_port = htons(o->port);
		sl = sizeof(*s4);
		sk = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	}
	if (sk < 0 || setsockopt(sk, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(sk, (void *)&ss, sl) || listen(sk, 1) || getsockname(sk, (void *)&ss, &sl)) {
		pr_perror("can't listen on %s port %d", o->address ? o->address : "*", o->port);
		if (sk >= 0)
			close(sk);
		return -1;
	}
	pr_info("listening on %s port %u", o->address ? o->address : "*",
		ntohs(ss.ss_family == AF_INET ? s4->sin_port : s6->sin6_port));
	if (!o->port) {	/* --port 0: the kernel chose; say which on stdout */
		printf("port %u\n", ntohs(ss.ss_family == AF_INET ? s4->sin_port : s6->sin6_port));
		fflush(stdout);
	}
	return sk;
}

/* -d: the server goes on in a child; the parent writes the pidfile and returns. */
static int detach(const struct cr_options *o, bool *parent)
{
	pid_t pid = fork();

	if (pid < 0) {
		pr_perror("can't fork the page server");
		return -1;
	}
	*parent = pid > 0;
	if (pid > 0)
		return write_pidfile(o, pid);
	setsid();
	return 0;
}

static int accept_one(int lsk)
{
	int sk = accept4(lsk, NULL, NULL, SOCK_CLOEXEC);

	if (sk < 0)
		pr_perror("can't accept the dump's connection");
	else
		pr_debug("a dump connected");
	return sk;
}

/*
 * A server SIGKILLed mid-file leaves its ".ps-NAME" behind (it cannot clean
 * up); the next server on the same -D removes them before it serves.
 */
static int drop_stale(int dirfd)
{
	int fd = dup(dirfd);
	struct dirent *de;
	DIR *d = fd < 0 ? NULL : fdopendir(fd);

	if (!d) {
		pr_perror("can't read the images dir");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, ".ps-pages-", 10)) {
			pr_warn("removing %s, left by a page server that was killed", de->d_name);
			unlinkat(dirfd, de->d_name, 0);
		}
	closedir(d);
	return 0;
}

/* Under --tls, a dump that opens with anything but a TLS handshake record speaks plain. */
static bool speaks_plain(int sk)
{
	struct pollfd p = { .fd = sk, .events = POLLIN };
	unsigned char b;

	return poll(&p, 1, DRAIN_TIMEOUT_MS) == 1 && recv(sk, &b, 1, MSG_PEEK) == 1 && b != 0x16;
}

/*
 * After a refusal was sent: read what the dump still sends until it hangs
 * up, so that closing with unread data does not reset the connection and
 * lose the refusal on its way.
 */
static void drain(int sk)
{
	struct pollfd p = { .fd = sk, .events = POLLIN };
	char buf[4096];

	shutdown(sk, SHUT_WR);
	while (poll(&p, 1, DRAIN_TIMEOUT_MS) == 1 && recv(sk, buf, sizeof(buf), 0) > 0)
		;
}

/* Tell a plain dump why it is refused. */
static int refuse_plain(int sk)
{
	struct ps_hdr h = { .kind = htole32(PS_REFUSE), .id = htole32(PS_REFUSE_NEED_TLS) };

	pr_err("the dump speaks plain, this page server runs with --tls: dump with --tls");
	if (send(sk, &h, sizeof(h), MSG_NOSIGNAL) == sizeof(h))
		drain(sk);
	return -1;
}

static int serve_tls(int sk, struct ps_tls *t, const struct cr_options *o, int dirfd)
{
	if (speaks_plain(sk))
		return refuse_plain(sk);
	if (ps_tls_handshake(t, sk, o, true)) {
		drain(sk);	/* the alert, if one went out, reaches the dump */
		return -1;
	}
	return ps_serve_tls(sk, t, dirfd);
}

int cmd_page_server(struct cr_options *o)
{
	int lsk = -1, sk = o->ps_socket, dirfd, ret = -1;
	struct ps_tls *tls = NULL;
	bool parent = false;

	/* certificates first: a server that could never serve says so at once */
	if (o->tls && !(tls = ps_tls_new(o)))
		return -1;
	if (sk < 0 && (lsk = ps_listen(o)) < 0)
		goto out;
	if (o->restore_detached ? detach(o, &parent) : write_pidfile(o, getpid()))
		goto out;
	if (parent) {
		ret = 0;
		goto out;
	}
	dirfd = open(o->images_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		pr_perror("can't open the images dir %s", o->images_dir);
		goto out;
	}
	if (drop_stale(dirfd)) {
		close(dirfd);
		goto out;
	}
	if (sk < 0)
		sk = accept_one(lsk);
	if (sk < 0)
		ret = -1;
	else
		ret = tls ? serve_tls(sk, tls, o, dirfd) : ps_serve(sk, sk, dirfd);
	if (!ret)
		pr_info("the dump's pages are in %s", o->images_dir);
	close(dirfd);
out:
	ps_tls_end(tls);
	if (lsk >= 0)
		close(lsk);
	if (sk >= 0)
		close(sk);
	return ret;
}

/* ---- the dump's side ----------------------------------------------------------- */

static int ps_connect(const char *addr, int port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	char serv[16];
	int sk = -1, r;

	snprintf(serv, sizeof(serv), "%d", port);
	r = getaddrinfo(addr, serv, &hints, &res);
	if (r) {
		pr_err("page server %s: %s", addr, gai_strerror(r));
		return -1;
	}
	for (ai = res; ai && sk < 0; ai = ai->ai_next) {
		sk = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (sk >= 0 && connect(sk, ai->ai_addr, ai->ai_addrlen)) {
			close(sk);
			sk = -1;
		}
	}
	freeaddrinfo(res);
	if (sk < 0)
		pr_perror("can't connect to the page server at %s port %d", addr, port);
	return sk;
}

/* A message the server sent before the end: its refusal, or its going away. */
static void log_answer(const struct ps_hdr *h, ssize_t n)
{
	if (n == sizeof(*h) && le32toh(h->kind) == PS_REFUSE &&
	    le32toh(h->id) == PS_REFUSE_NEED_TLS)
		pr_err("the page server runs with --tls: dump with --tls");
	else if (n == sizeof(*h) && le32toh(h->kind) == PS_REFUSE)
		pr_err("the page server refused the dump (reason %u)", le32toh(h->id));
	else
		pr_err("the page server refused the pages (see its log) or died");
}

/* A plain send failed: the server may have said why before it hung up. */
static void log_gone(int sk, const char *what)
{
	struct ps_hdr h;
	ssize_t n;
	int err = errno;

	n = recv(sk, &h, sizeof(h), MSG_DONTWAIT | MSG_PEEK);
	if (n == sizeof(h) && le32toh(h.kind) == PS_REFUSE) {
		log_answer(&h, n);
		return;
	}
	errno = err;
	pr_perror("the page server is gone (%s)", what);
}

static int ps_write(int sk, const void *buf, size_t len, bool more, const char *what)
{
	if (client_tls)
		return ps_tls_send(client_tls, buf, len);
	if (send(sk, buf, len, MSG_NOSIGNAL | (more ? MSG_MORE : 0)) != (ssize_t)len) {
		log_gone(sk, what);
		return -1;
	}
	return 0;
}

static int wait_ack(int sk, uint32_t nr, int timeout_ms);

int ps_client_open(const struct cr_options *o)
{
	struct ps_hdr h = { .kind = htole32(PS_HELLO), .id = htole32(PS_VERSION),
			    .off = htole64(PS_MAGIC) };
	/* a copy: the caller's socket stays the caller's (an RPC request's is released with it) */
	int sk = o->ps_socket >= 0 ? fcntl(o->ps_socket, F_DUPFD_CLOEXEC, 0) : -1;

	if (o->ps_socket >= 0 && sk < 0) {
		pr_perror("--ps-socket %d", o->ps_socket);
		return -1;
	}
	if (sk < 0 && (!o->address || !o->port)) {
		pr_err("--page-server needs --address and --port (or --ps-socket)");
		return -1;
	}
	if (sk < 0 && (sk = ps_connect(o->address, o->port)) < 0)
		return -1;
	pr_info("connected to the page server");
	/* under TLS the server answers HELLO once it has accepted our certificate */
	if ((o->tls && !(client_tls = ps_tls_start(sk, o, false))) ||
	    ps_write(sk, &h, sizeof(h), false, "greeting") ||
	    (client_tls && wait_ack(sk, 0, HELLO_TIMEOUT_MS))) {
		ps_tls_end(client_tls);
		client_tls = NULL;
		close(sk);
		return -1;
	}
	return sk;
}

static int send_hdr(int sk, uint32_t kind, uint32_t id, uint64_t off, uint64_t len, bool more)
{
	struct ps_hdr h = { .kind = htole32(kind), .id = htole32(id), .off = htole64(off),
			    .len = htole64(len) };

	return ps_write(sk, &h, sizeof(h), more, "sending a message");
}

/* Plain: a server that answers before END is refusing (or gone); stop sending. */
static int answered_early(int sk)
{
	struct pollfd p = { .fd = sk, .events = POLLIN };
	struct ps_hdr h;

	if (client_tls || poll(&p, 1, 0) != 1)
		return 0;
	log_answer(&h, recv(sk, &h, sizeof(h), MSG_WAITALL));
	return -1;
}

/* @n bytes of @fd at @off: sendfile() when plain, 1 MiB reads into records under TLS. */
static int send_data(int sk, int fd, const char *name, uint64_t off, uint64_t n, char *buf)
{
	off_t pos = off;

	while ((uint64_t)pos < off + n) {
		size_t want = off + n - pos;
		ssize_t w;

		if (!client_tls) {
			w = sendfile(sk, fd, &pos, want);
			if (w <= 0) {
				log_gone(sk, name);
				return -1;
			}
			continue;
		}
		w = pread(fd, buf, want < TLS_BUF ? want : TLS_BUF, pos);
		if (w <= 0) {
			pr_perror("can't read %s at %lu", name, (unsigned long)pos);
			return -1;
		}
		if (ps_tls_send(client_tls, buf, w))
			return -1;
		pos += w;
	}
	return 0;
}

/* One page file: OPEN, DATA chunks straight from the file, CLOSE with its manifest entry. */
static int send_file(int dirfd, int sk, uint32_t id, const struct manifest_entry *e, char *buf)
{
	size_t nl = strlen(e->name);
	uint64_t off = 0;
	int fd, ret = -1;

	fd = openat(dirfd, e->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		pr_perror("can't open %s", e->name);
		return -1;
	}
	if (send_hdr(sk, PS_OPEN, id, 0, nl, true) ||
	    ps_write(sk, e->name, nl, true, e->name))
		goto out;
	while (off < e->size) {
		uint64_t n = e->size - off < PS_MAX_CHUNK ? e->size - off : PS_MAX_CHUNK;

		if (answered_early(sk) || send_hdr(sk, PS_DATA, id, off, n, true) ||
		    send_data(sk, fd, e->name, off, n, buf))
			goto out;
		off += n;
	}
	ret = send_hdr(sk, PS_CLOSE, id, e->size, e->hash, false);
out:
	close(fd);
	return ret;
}

static int read_manifest_of(int dirfd, struct manifest *m)
{
	int fd = openat(dirfd, MANIFEST_NAME, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	int ret = -1;

	if (fd < 0 || fstat(fd, &st) || st.st_size > MANIFEST_MAX_SIZE ||
	    !(buf = malloc(st.st_size + 1)) || read(fd, buf, st.st_size) != st.st_size) {
		pr_perror("can't read the dump's own manifest");
		goto out;
	}
	ret = manifest_parse(buf, st.st_size, m);
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return ret;
}

static int wait_ack(int sk, uint32_t nr, int timeout_ms)
{
	struct pollfd p = { .fd = sk, .events = POLLIN };
	struct ps_hdr h;
	ssize_t n;

	if (poll(&p, 1, timeout_ms) != 1) {
		pr_err("the page server did not answer %s", nr ? "the end of the dump" : "HELLO");
		return -1;
	}
	if (client_tls) {
		size_t got = 0;

		while (got < sizeof(h) && (n = ps_tls_recv(client_tls, (char *)&h + got,
							   sizeof(h) - got)) > 0)
			got += n;
		n = got;
	} else {
		n = recv(sk, &h, sizeof(h), MSG_WAITALL);
	}
	if (n != sizeof(h) || le32toh(h.kind) != PS_ACK || le32toh(h.id) != nr) {
		log_answer(&h, n);
		return -1;
	}
	return 0;
}

static bool is_page_file(const char *n)
{
	return !strncmp(n, "pages-", 6);
}

/*
 * A server that dies must fail the send, not kill criu: sendfile() has no
 * MSG_NOSIGNAL, so SIGPIPE is blocked while sending and a pending one
 * dropped after (not ignored: the disposition would reach action scripts).
 */
static void sigpipe_block(sigset_t *old)
{
	sigset_t pipe;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe, old);
}

static void sigpipe_restore(const sigset_t *old)
{
	const struct timespec zero = { 0, 0 };
	sigset_t pipe;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	while (!sigismember(old, SIGPIPE) && sigtimedwait(&pipe, NULL, &zero) == SIGPIPE)
		;
	sigprocmask(SIG_SETMASK, old, NULL);
}

static int send_all(int dirfd, int sk, const struct manifest *m, char *buf)
{
	uint32_t nr = 0;
	size_t i;

	for (i = 0; i < m->nr; i++) {
		if (!is_page_file(m->e[i].name))
			continue;
		if (nr == PS_MAX_FILES) {
			pr_err("more than %d page files: not supported yet", PS_MAX_FILES);
			return -1;
		}
		if (send_file(dirfd, sk, nr++, &m->e[i], buf))
			return -1;
	}
	if (send_hdr(sk, PS_END, nr, 0, 0, false) || wait_ack(sk, nr, ACK_TIMEOUT_MS))
		return -1;
	pr_info("%u page files sent to the page server", nr);
	return 0;
}

int ps_send_pages(int dirfd, int sk)
{
	struct manifest m = { 0 };
	char *buf = NULL;
	sigset_t old;
	size_t i;
	int ret = -1;

	if (client_tls && !(buf = malloc(TLS_BUF))) {
		pr_err("out of memory");
		goto out;
	}
	if (read_manifest_of(dirfd, &m))
		goto out;
	sigpipe_block(&old);
	ret = send_all(dirfd, sk, &m, buf);
	sigpipe_restore(&old);
	if (ret)
		goto out;
	ret = -1;
	/* the server has them whole: they stay out of -D (criu-manifest still lists them) */
	for (i = 0; i < m.nr; i++)
		if (is_page_file(m.e[i].name) && unlinkat(dirfd, m.e[i].name, 0)) {
			pr_perror("can't drop %s from the local set", m.e[i].name);
			goto out;
		}
	ret = 0;
out:
	manifest_free(&m);
	free(buf);
	ps_tls_end(client_tls);
	client_tls = NULL;
	return ret;
}
