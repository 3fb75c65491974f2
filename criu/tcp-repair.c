/*
 * Established TCP connections through repair mode: the steps are in
 * criu/include/tcp-repair.h. What is refused here: queues over
 * TCP_STREAM_MAX, urgent (out-of-band) data not read yet, ECN negotiated.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>

#define LOG_PREFIX "tcp: "
#include "log.h"
#include "tcp-repair.h"

#define TCP_OPTS_KNOWN	(TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE)
#define TCP_WSCALE_MAX	14
#define TCP_CHUNK	(256u << 10)	/* bytes put in a queue per call */

/* TCP option kinds TCP_REPAIR_OPTIONS takes (RFC 793, 1323, 2018) */
#define TCPOPT_MSS_KIND		2
#define TCPOPT_WINDOW_KIND	3
#define TCPOPT_SACK_PERM_KIND	4
#define TCPOPT_TIMESTAMP_KIND	8

int tcp_repair_set(int fd, int tfd, int how)
{
	if (setsockopt(fd, SOL_TCP, TCP_REPAIR, &how, sizeof(how))) {
		pr_perror("fd %d: TCP_REPAIR %d", tfd, how);
		return -1;
	}
	return 0;
}

/*
 * Leaving repair mode clears SO_REUSEADDR (the kernel's SK_NO_REUSE; going
 * in forced SK_FORCE_REUSE, which reads 2): @reuse, read before repair went
 * on, puts it back. An accepted connection has its listener's, and a
 * listener re-bound while it lives needs it.
 */
int tcp_repair_off(int fd, int tfd, bool reuse)
{
	int one = 1;

	if (tcp_repair_set(fd, tfd, TCP_REPAIR_OFF))
		return -1;
	if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one))) {
		pr_perror("fd %d: SO_REUSEADDR back on after repair mode", tfd);
		return -1;
	}
	return 0;
}

int tcp_reuse_get(int fd, int tfd, bool *reuse)
{
	int v = 0;
	socklen_t len = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &v, &len)) {
		pr_perror("fd %d: reading SO_REUSEADDR", tfd);
		return -1;
	}
	*reuse = v != 0;
	return 0;
}

static int get_int(int fd, int tfd, int name, const char *what, uint32_t *v)
{
	int val = 0;
	socklen_t len = sizeof(val);

	if (getsockopt(fd, SOL_TCP, name, &val, &len)) {
		pr_perror("fd %d: reading %s", tfd, what);
		return -1;
	}
	*v = (uint32_t)val;
	return 0;
}

static int set_int(int fd, uint32_t id, int name, const char *what, int val)
{
	if (setsockopt(fd, SOL_TCP, name, &val, sizeof(val))) {
		pr_perror("inet socket %u: setting %s to %d", id, what, val);
		return -1;
	}
	return 0;
}

static int ioctl_len(int fd, int tfd, unsigned long req, const char *what, uint32_t *v)
{
	int n = 0;

	if (ioctl(fd, req, &n) || n < 0) {
		pr_perror("fd %d: %s", tfd, what);
		return -1;
	}
	if ((uint32_t)n > TCP_STREAM_MAX) {
		pr_err("fd %d: %s is %d bytes, more than %u: not supported yet", tfd, what, n,
		       TCP_STREAM_MAX);
		return -1;
	}
	*v = (uint32_t)n;
	return 0;
}

/*
 * Urgent data announced and not read: MSG_OOB|MSG_PEEK finds the byte (or
 * EAGAIN: announced, not arrived). SO_OOBINLINE hides it from that probe,
 * so the probe runs with the flag off for a moment.
 */
static int check_urgent(int fd, int tfd)
{
	int inl = 0, off = 0, ret = 0;
	socklen_t len = sizeof(inl);
	ssize_t n;
	char c;

	if (getsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &inl, &len)) {
		pr_perror("fd %d: SO_OOBINLINE", tfd);
		return -1;
	}
	if (inl && setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &off, sizeof(off))) {
		pr_perror("fd %d: SO_OOBINLINE off", tfd);
		return -1;
	}
	n = recv(fd, &c, 1, MSG_OOB | MSG_PEEK | MSG_DONTWAIT);
	if (n >= 0 || errno == EAGAIN) {
		pr_err("fd %d: urgent (out-of-band) data not read yet: not supported yet", tfd);
		ret = -1;
	}
	if (inl && setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &inl, sizeof(inl))) {
		pr_perror("fd %d: SO_OOBINLINE back on", tfd);
		ret = -1;
	}
	return ret;
}

/* One queue: the sequence number of its end and its @len bytes (peeked). */
static int read_queue(int fd, int tfd, int q, uint32_t len, uint32_t *seq,
		      ProtobufCBinaryData *b)
{
	ssize_t n;

	if (set_int(fd, (uint32_t)tfd, TCP_REPAIR_QUEUE, "TCP_REPAIR_QUEUE", q) ||
	    get_int(fd, tfd, TCP_QUEUE_SEQ, "TCP_QUEUE_SEQ", seq))
		return -1;
	b->len = len;
	b->data = malloc(len ? len : 1);
	if (!b->data) {
		pr_err("out of memory");
		return -1;
	}
	if (!len)
		return 0;
	n = recv(fd, b->data, len, MSG_PEEK | MSG_DONTWAIT);
	if (n != (ssize_t)len) {
		pr_perror("fd %d: peeking the %s queue: %zd of %u bytes", tfd,
			  q == TCP_SEND_QUEUE ? "send" : "receive", n, len);
		return -1;
	}
	return 0;
}

static int dump_info(int fd, int tfd, TcpStream *ts)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, SOL_TCP, TCP_INFO, &ti, &len)) {
		pr_perror("fd %d: TCP_INFO", tfd);
		return -1;
	}
	if (ti.tcpi_options & TCPI_OPT_ECN) {
		pr_err("fd %d: ECN negotiated on the connection: not supported yet", tfd);
		return -1;
	}
	ts->opt_mask = ti.tcpi_options & TCP_OPTS_KNOWN;
	ts->snd_wscale = ti.tcpi_snd_wscale;
	ts->rcv_wscale = ti.tcpi_rcv_wscale;
	return 0;
}

static int dump_window(int fd, int tfd, TcpStream *ts)
{
	struct tcp_repair_window w;
	socklen_t len = sizeof(w);

	if (getsockopt(fd, SOL_TCP, TCP_REPAIR_WINDOW, &w, &len)) {
		pr_perror("fd %d: TCP_REPAIR_WINDOW", tfd);
		return -1;
	}
	ts->snd_wl1 = w.snd_wl1;
	ts->snd_wnd = w.snd_wnd;
	ts->max_window = w.max_window;
	ts->rcv_wnd = w.rcv_wnd;
	ts->rcv_wup = w.rcv_wup;
	return 0;
}

int tcp_stream_dump(int fd, int tfd, TcpStream *ts)
{
	uint32_t inq, outq;

	tcp_stream__init(ts);
	if (check_urgent(fd, tfd) || tcp_repair_set(fd, tfd, TCP_REPAIR_ON))
		return -1;
	/* in repair mode TCP_MAXSEG reads the clamp the peer's SYN set */
	if (dump_info(fd, tfd, ts) || dump_window(fd, tfd, ts) ||
	    get_int(fd, tfd, TCP_MAXSEG, "TCP_MAXSEG", &ts->mss_clamp) ||
	    get_int(fd, tfd, TCP_TIMESTAMP, "TCP_TIMESTAMP", &ts->timestamp) ||
	    ioctl_len(fd, tfd, SIOCINQ, "the receive queue", &inq) ||
	    ioctl_len(fd, tfd, SIOCOUTQ, "the send queue", &outq) ||
	    ioctl_len(fd, tfd, SIOCOUTQNSD, "the unsent part of the send queue",
		      &ts->unsent_len))
		return -1;
	pr_debug("fd %d: %u bytes to read, %u to be acknowledged (%u never sent)", tfd, inq,
		 outq, ts->unsent_len);
	if (read_queue(fd, tfd, TCP_RECV_QUEUE, inq, &ts->inq_seq, &ts->inq) ||
	    read_queue(fd, tfd, TCP_SEND_QUEUE, outq, &ts->outq_seq, &ts->outq))
		return -1;
	return set_int(fd, (uint32_t)tfd, TCP_REPAIR_QUEUE, "TCP_REPAIR_QUEUE", TCP_NO_QUEUE);
}

/* ---- restore ------------------------------------------------------------------------- */

const char *tcp_stream_check(const TcpStream *ts)
{
	if (ts->inq.len > TCP_STREAM_MAX || ts->outq.len > TCP_STREAM_MAX)
		return "a queue over the limit";
	if (ts->unsent_len > ts->outq.len)
		return "more bytes unsent than in the send queue";
	if (ts->opt_mask & ~(uint32_t)TCP_OPTS_KNOWN)
		return "unknown TCP options";
	if ((ts->opt_mask & TCPI_OPT_WSCALE) ?
	    ts->snd_wscale > TCP_WSCALE_MAX || ts->rcv_wscale > TCP_WSCALE_MAX :
	    ts->snd_wscale || ts->rcv_wscale)
		return "window scale out of range";
	if (!ts->mss_clamp || ts->mss_clamp > 65535)
		return "MSS out of range";
	return NULL;
}

int tcp_stream_prepare(int fd, uint32_t id, const TcpStream *ts)
{
	if (tcp_repair_set(fd, -1, TCP_REPAIR_ON))
		return -1;
	return set_int(fd, id, TCP_REPAIR_QUEUE, "TCP_REPAIR_QUEUE", TCP_SEND_QUEUE) ||
	       set_int(fd, id, TCP_QUEUE_SEQ, "the send sequence",
		       (int)(ts->outq_seq - (uint32_t)ts->outq.len)) ||
	       set_int(fd, id, TCP_REPAIR_QUEUE, "TCP_REPAIR_QUEUE", TCP_RECV_QUEUE) ||
	       set_int(fd, id, TCP_QUEUE_SEQ, "the receive sequence",
		       (int)(ts->inq_seq - (uint32_t)ts->inq.len)) ? -1 : 0;
}

static int set_options(int fd, uint32_t id, const TcpStream *ts)
{
	struct tcp_repair_opt o[4];
	size_t n = 0;

	o[n].opt_code = TCPOPT_MSS_KIND, o[n++].opt_val = ts->mss_clamp;
	if (ts->opt_mask & TCPI_OPT_WSCALE)
		o[n].opt_code = TCPOPT_WINDOW_KIND,
		o[n++].opt_val = ts->snd_wscale | ts->rcv_wscale << 16;
	if (ts->opt_mask & TCPI_OPT_TIMESTAMPS)
		o[n].opt_code = TCPOPT_TIMESTAMP_KIND, o[n++].opt_val = 0;
	if (ts->opt_mask & TCPI_OPT_SACK)
		o[n].opt_code = TCPOPT_SACK_PERM_KIND, o[n++].opt_val = 0;
	if (setsockopt(fd, SOL_TCP, TCP_REPAIR_OPTIONS, o, (socklen_t)(n * sizeof(o[0])))) {
		pr_perror("inet socket %u: TCP_REPAIR_OPTIONS", id);
		return -1;
	}
	if ((ts->opt_mask & TCPI_OPT_TIMESTAMPS) &&
	    set_int(fd, id, TCP_TIMESTAMP, "TCP_TIMESTAMP", (int)ts->timestamp))
		return -1;
	return 0;
}

/*
 * @len bytes into the queue selected (repair on) or sent as usual (repair
 * off). The receive queue takes each call as one linear buffer, which a
 * large call may fail to get (ENOMEM): smaller ones are tried then.
 */
static int fill(int fd, uint32_t id, const uint8_t *p, size_t len, const char *what)
{
	size_t chunk = TCP_CHUNK;

	while (len) {
		ssize_t n = send(fd, p, len < chunk ? len : chunk, MSG_DONTWAIT);

		if (n < 0 && errno == ENOMEM && chunk > 4096) {
			chunk /= 2;
			continue;
		}
		if (n <= 0) {
			pr_perror("inet socket %u: %s: %zu bytes left", id, what, len);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int set_window(int fd, uint32_t id, const TcpStream *ts)
{
	struct tcp_repair_window w = {
		.snd_wl1 = ts->snd_wl1, .snd_wnd = ts->snd_wnd, .max_window = ts->max_window,
		.rcv_wnd = ts->rcv_wnd, .rcv_wup = ts->rcv_wup,
	};

	if (setsockopt(fd, SOL_TCP, TCP_REPAIR_WINDOW, &w, sizeof(w))) {
		pr_perror("inet socket %u: TCP_REPAIR_WINDOW", id);
		return -1;
	}
	return 0;
}

int tcp_stream_fill(int fd, uint32_t id, const TcpStream *ts)
{
	size_t sent = ts->outq.len - ts->unsent_len;

	return set_options(fd, id, ts) ||
	       fill(fd, id, ts->inq.data, ts->inq.len, "filling the receive queue") ||
	       set_int(fd, id, TCP_REPAIR_QUEUE, "TCP_REPAIR_QUEUE", TCP_SEND_QUEUE) ||
	       fill(fd, id, ts->outq.data, sent, "filling the send queue") ||
	       set_int(fd, id, TCP_REPAIR_QUEUE, "TCP_REPAIR_QUEUE", TCP_NO_QUEUE) ||
	       set_window(fd, id, ts) ? -1 : 0;
}

/*
 * Repair off, then what was never sent. The part sent before the dump stays
 * queued as sent (tcp_stream_fill()): sent again as new data, it would start
 * below the peer's rcv_nxt, and an ACK of the peer beyond this socket's
 * snd_nxt is ignored, window update included; behind a closed window the
 * connection then never moves (tcp_est stalled so).
 */
int tcp_stream_resume(int fd, uint32_t id, const TcpStream *ts, bool reuse)
{
	size_t sent = ts->outq.len - ts->unsent_len;

	if (tcp_repair_off(fd, -1, reuse))
		return -1;
	return fill(fd, id, ts->outq.data + sent, ts->unsent_len, "sending what was never sent");
}

/*
 * Sends what the send queue holds now, unless the process corked it:
 * TCP_CORK set to 0 where it is 0 changes nothing but pushes the queue.
 * For a socket whose process does not run yet (no one else sets TCP_CORK).
 */
int tcp_stream_push(int fd, uint32_t id)
{
	uint32_t cork;

	if (get_int(fd, (int)id, TCP_CORK, "TCP_CORK", &cork))
		return -1;
	return cork ? 0 : set_int(fd, id, TCP_CORK, "TCP_CORK", 0);
}
