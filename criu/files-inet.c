/*
 * TCP and UDP sockets (images/sk-inet.proto), IPv4 and IPv6: TCP listening
 * (address, port, backlog, IPV6_V6ONLY, options), closed (bound or not) or
 * established (--tcp-established: its stream through repair mode,
 * criu/tcp-repair.c; both ends in the dump are made together), UDP and
 * UDP-Lite unbound, bound and/or connected, shut down or not, with the
 * datagrams they hold (criu/udp-queue.c) and the multicast groups they
 * joined (criu/sk-mcast.c), both with --image-ext only; raw sockets
 * and ICMP ("ping") sockets, bound and/or connected, as UDP ones (their
 * state and peer from /proc/PID/net, criu/sk-proc.c).
 *
 * Dump: the state from TCP_INFO (closed TCP sockets are in no table
 * sock_diag walks), the addresses from getsockname()/getpeername(), the
 * backlog, pending connections, queued bytes and shutdown from sock_diag.
 * Restore: socket, options (IPV6_V6ONLY among them), bind, the queued
 * datagrams sent again and the groups joined, then listen or connect,
 * shutdown, then the options set late (buffer sizes, the filter), in the
 * process that opens the object (before it forks).
 *
 * Refused ("not supported yet"): TCP in any state but LISTEN, CLOSE and
 * ESTABLISHED (an established one without --tcp-established or
 * --tcp-close), listening sockets with connections not accepted yet
 * (unless --skip-in-flight drops them), UDP sockets with unsent corked
 * data or with datagrams queued that criu/udp-queue.c cannot send again
 * (or without a port), and what criu/files-sock.c refuses for every socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/sock_diag.h>
#include <linux/sockios.h>

#define LOG_PREFIX "inet: "
#include "log.h"
#include "dump.h"
#include "files.h"
#include "image.h"
#include "sockets.h"
#include "net-lock.h"
#include "restore.h"
#include "tcp-guard.h"
#include "tcp-repair.h"
#include "sk-mcast.h"
#include "udp-queue.h"
#include "sk-inet.pb-c.h"

#define ISK_LISTEN	10	/* TCP_LISTEN */
#define ISK_CLOSE	7	/* TCP_CLOSE */
#define ISK_CONNECTED	1	/* TCP_ESTABLISHED; a connected UDP socket */
#define ISK_MAX_BACKLOG	(1u << 20)
#define ISK_SHUT_RD	1	/* sk_shutdown bits, as sock_diag and the image keep them */
#define ISK_SHUT_WR	2

static bool is_udp(uint32_t proto)
{
	return proto == IPPROTO_UDP || proto == IPPROTO_UDPLITE;
}

/* A raw socket of any protocol, or an ICMP ("ping") socket. */
static bool raw_or_ping(uint32_t family, uint32_t type, uint32_t proto)
{
	return type == SOCK_RAW ||
	       (type == SOCK_DGRAM && proto == (family == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP));
}

/* What a message calls it. */
static const char *rp_name(uint32_t type)
{
	return type == SOCK_RAW ? "raw" : "ICMP (ping)";
}

static const char *const tcp_states[] = {
	"?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
	"CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV",
};

struct inet_dump {
	struct sk_diag	diag;
	struct sk_opt_cache opts;
	struct fd_list	l;
	/*
	 * criu's copies of the connections put in repair mode, until the dump
	 * ends, and their SO_REUSEADDR before (tcp_repair_off())
	 */
	struct repaired { int fd; bool reuse; } *repaired;
	size_t		nr_repaired, cap_repaired;
};

static struct inet_dump *inet_state(struct dump_files *d)
{
	struct inet_dump *id = d->priv[FD_KIND__FD_INET_SK];

	if (!id) {
		id = calloc(1, sizeof(*id));
		if (!id)
			pr_err("out of memory");
		d->priv[FD_KIND__FD_INET_SK] = id;
	}
	return id;
}

static bool inet_match(const struct fd_probe *p)
{
	int family, type, proto;

	if (!S_ISSOCK(p->st.st_mode) || sk_probe(p, &family, &type, &proto))
		return false;
	if (family != AF_INET && family != AF_INET6)
		return false;
	return (type == SOCK_STREAM && proto == IPPROTO_TCP) ||
	       (type == SOCK_DGRAM && is_udp((uint32_t)proto)) ||
	       raw_or_ping((uint32_t)family, (uint32_t)type, (uint32_t)proto);
}

/* Address and port of a sockaddr as the image keeps them. */
static int put_addr(const struct sockaddr_storage *ss, ProtobufCBinaryData *addr, uint32_t *port)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
	size_t len = ss->ss_family == AF_INET6 ? 16 : 4;

	addr->data = malloc(len);
	if (!addr->data) {
		pr_err("out of memory");
		return -1;
	}
	addr->len = len;
	if (ss->ss_family == AF_INET6) {
		memcpy(addr->data, &in6->sin6_addr, 16);
		*port = ntohs(in6->sin6_port);
	} else {
		memcpy(addr->data, &in->sin_addr, 4);
		*port = ntohs(in->sin_port);
	}
	return 0;
}

static int dump_addrs(const struct fd_probe *p, int fd, InetSkEntry *e)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len)) {
		pr_perror("fd %d: getsockname", p->fd);
		return -1;
	}
	e->has_src_addr = e->has_src_port = true;
	if (put_addr(&ss, &e->src_addr, &e->src_port))
		return -1;
	/* a raw or ping peer has no port getpeername() wants: /proc says (dump_proc()) */
	if ((e->proto == IPPROTO_TCP && !tcp_conn_state(e->state)) ||
	    raw_or_ping(e->family, e->type, e->proto))
		return 0;
	len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len)) {
		if (errno == ENOTCONN)
			return 0;
		pr_perror("fd %d: getpeername", p->fd);
		return -1;
	}
	if (is_udp(e->proto))
		e->state = ISK_CONNECTED;
	e->has_dst_addr = e->has_dst_port = true;
	return put_addr(&ss, &e->dst_addr, &e->dst_port);
}

static int tcp_state(const struct fd_probe *p, int fd, InetSkEntry *e)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (getsockopt(fd, SOL_TCP, TCP_INFO, &ti, &len)) {
		pr_perror("fd %d: TCP_INFO", p->fd);
		return -1;
	}
	e->state = ti.tcpi_state;
	if (ti.tcpi_state == ISK_LISTEN || ti.tcpi_state == ISK_CLOSE)
		return 0;
	if ((ti.tcpi_state == ISK_CONNECTED && p->o->tcp_established) ||
	    (tcp_conn_state(ti.tcpi_state) && p->o->tcp_close))
		return 0;
	if (ti.tcpi_state == ISK_CONNECTED)
		pr_err("fd %d: established TCP connection: dump it with --tcp-established "
		       "(or --tcp-close to restore it closed)", p->fd);
	else
		pr_err("fd %d: TCP connection in state %s: not supported yet%s", p->fd,
		       ti.tcpi_state < 13 ? tcp_states[ti.tcpi_state] : "?",
		       tcp_conn_state(ti.tcpi_state) ? " (--tcp-close restores it closed)" : "");
	return -1;
}

/*
 * A UDP socket in no table sock_diag walks (never bound, or disconnected
 * from a port it did not bind itself): its queue from SO_MEMINFO, its
 * shutdown from poll() on criu's copy. poll() tells a read shutdown
 * (POLLRDHUP) and both ways (POLLHUP); a write shutdown alone shows nowhere
 * without sending, which would bind the socket (audit.md).
 */
static int poll_shutdown(const struct fd_probe *p, InetSkEntry *e)
{
	struct pollfd pfd = { p->local, POLLRDHUP, 0 };

	if (poll(&pfd, 1, 0) < 0) {
		pr_perror("fd %d: poll", p->fd);
		return -1;
	}
	if (pfd.revents & POLLRDHUP) {
		e->has_shutdown = true;
		e->shutdown = pfd.revents & POLLHUP ? ISK_SHUT_RD | ISK_SHUT_WR : ISK_SHUT_RD;
	}
	return 0;
}

static int unbound_udp(const struct fd_probe *p, InetSkEntry *e)
{
	uint32_t mem[SK_MEMINFO_VARS] = { 0 };
	socklen_t len = sizeof(mem);

	if (getsockopt(p->local, SOL_SOCKET, SO_MEMINFO, mem, &len)) {
		pr_perror("fd %d: SO_MEMINFO", p->fd);
		return -1;
	}
	if (mem[SK_MEMINFO_RMEM_ALLOC]) {
		pr_err("fd %d: UDP socket with datagrams queued (%u bytes of its receive buffer) "
		       "and no port (disconnected from the one connect() gave it): not supported yet",
		       p->fd, mem[SK_MEMINFO_RMEM_ALLOC]);
		return -1;
	}
	return poll_shutdown(p, e);
}

/*
 * A raw or ping socket: its line of /proc/PID/net says whether it is
 * connected and to what (a peer without a port, which getpeername() does
 * not report), and what it holds; poll() its shutdown, as for an unbound
 * UDP socket (a write-only shutdown shows nowhere: audit.md).
 */
static int dump_proc(const struct fd_probe *p, InetSkEntry *e)
{
	size_t alen = e->family == AF_INET6 ? 16 : 4;
	struct sk_proc s;
	int r;

	if (e->type == SOCK_RAW && (e->proto == IPPROTO_TCP || is_udp(e->proto))) {
		pr_err("fd %d: raw socket of protocol %u (TCP or UDP): not supported yet", p->fd,
		       e->proto);
		return -1;
	}
	r = sk_proc_find(p->pid, (int)e->family, (int)e->type, p->st.st_ino, &s);
	if (r > 0)
		pr_err("fd %d: /proc/%d/net does not list %s socket %llu", p->fd, p->pid,
		       rp_name(e->type), (unsigned long long)p->st.st_ino);
	if (r)
		return -1;
	if (s.rxq) {
		pr_err("fd %d: %s socket with packets received and not read (%u bytes of its "
		       "receive buffer): not supported yet", p->fd, rp_name(e->type), s.rxq);
		return -1;
	}
	if (s.state == ISK_CONNECTED) {
		e->state = ISK_CONNECTED;
		e->has_dst_addr = e->has_dst_port = true;
		e->dst_port = s.dport;
		e->dst_addr.data = malloc(alen);
		if (!e->dst_addr.data) {
			pr_err("out of memory");
			return -1;
		}
		e->dst_addr.len = alen;
		memcpy(e->dst_addr.data, s.dst, alen);
	}
	return poll_shutdown(p, e);
}

/*
 * What sock_diag knows: the backlog, pending connections, queued bytes
 * (*queued: UDP datagrams to read once the options are known).
 */
static int dump_diag(struct inet_dump *id, const struct fd_probe *p, InetSkEntry *e,
		     bool *queued)
{
	const struct sk_inet_diag *s;
	int err;

	s = sk_diag_inet(&id->diag, (int)e->family, (int)e->proto, p->st.st_ino, &err);
	if (err)
		return -1;
	if (!s) {
		if (e->state == ISK_CLOSE && e->proto == IPPROTO_TCP)
			return 0;	/* closed TCP: in no table sock_diag walks */
		if (e->state == ISK_CLOSE && !e->src_port)
			return unbound_udp(p, e);
		pr_err("fd %d: sock_diag does not list socket %llu", p->fd,
		       (unsigned long long)p->st.st_ino);
		return -1;
	}
	/* sock_diag tells for listeners only: a closed socket's keys stay unseen */
	if (s->md5) {
		pr_err("fd %d: TCP_MD5SIG keys are set: not supported yet", p->fd);
		return -1;
	}
	if (e->state == ISK_LISTEN) {
		if (s->rqueue && !p->o->skip_in_flight) {
			pr_err("fd %d: listening TCP socket with %u connections not accepted yet: "
			       "not supported yet (--skip-in-flight drops them)", p->fd, s->rqueue);
			return -1;
		}
		if (s->rqueue)
			pr_info("fd %d: %u connections not accepted yet dropped (--skip-in-flight)",
				p->fd, s->rqueue);
		e->has_backlog = true;
		e->backlog = s->wqueue;
	}
	if (e->state == ISK_CONNECTED && e->proto == IPPROTO_TCP && s->shutdown) {
		e->has_shutdown = true;		/* SHUT_RD: SHUT_WR is no longer ESTABLISHED */
		e->shutdown = s->shutdown;
	}
	*queued = is_udp(e->proto) && s->rqueue;
	if (is_udp(e->proto) && s->shutdown) {
		e->has_shutdown = true;
		e->shutdown = s->shutdown;
	}
	return 0;
}

/* Bytes in the write queue: SIOCOUTQ, which ping sockets lack, or /proc's count. */
static int outq_of(const struct fd_probe *p, int fd, const InetSkEntry *e, int *outq)
{
	struct sk_proc s;

	if (!raw_or_ping(e->family, e->type, e->proto)) {
		if (!ioctl(fd, SIOCOUTQ, outq))
			return 0;
		pr_perror("fd %d: SIOCOUTQ", p->fd);
		return -1;
	}
	if (sk_proc_find(p->pid, (int)e->family, (int)e->type, p->st.st_ino, &s))
		return -1;	/* listed a moment ago: logged */
	*outq = (int)s.txq;
	return 0;
}

/*
 * Data sent on a corked UDP or raw socket (UDP_CORK, MSG_MORE) waits in
 * its write queue and cannot be read back: refused. Sent datagrams leave
 * the queue as the device takes them, so a non-zero count is looked at a
 * few times.
 */
static int check_unsent(const struct fd_probe *p, int fd, const InetSkEntry *e)
{
	const struct timespec tick = { 0, 5 * 1000 * 1000 };
	int outq = 0, i;

	if (e->type == SOCK_STREAM)
		return 0;
	for (i = 0; i < 20; i++) {
		if (outq_of(p, fd, e, &outq))
			return -1;
		if (!outq)
			return 0;
		nanosleep(&tick, NULL);
	}
	pr_err("fd %d: unsent corked data on a %s socket (%d bytes, UDP_CORK or MSG_MORE): "
	       "not supported yet", p->fd, is_udp(e->proto) ? "UDP" : rp_name(e->type), outq);
	return -1;
}

/*
 * Options a connection reads as the kernel set them, not as they were set:
 * SO_INCOMING_CPU is the cpu its last packet came in on (every packet
 * moves it), TCP_MAXSEG the current segment size (what was set is in the
 * clamp the stream keeps, TCP_REPAIR_OPTIONS), TCP_WINDOW_CLAMP the clamp
 * connect() computed from the buffers (the restore's connect computes it
 * again); IP_MULTICAST_TTL, IPV6_MULTICAST_HOPS and IPV6_MULTICAST_IF,
 * which an accepted connection takes from the TTL and interface of its SYN
 * and TCP never uses (read back, they say what a fresh socket says:
 * audit.md); TCP_QUICKACK, the
 * delayed-ack mode the traffic moves. Not kept.
 */
static bool moving(uint32_t opt)
{
	return opt == ((uint32_t)SOL_SOCKET << 16 | SO_INCOMING_CPU) ||
	       opt == ((uint32_t)SOL_TCP << 16 | TCP_MAXSEG) ||
	       opt == ((uint32_t)SOL_TCP << 16 | TCP_WINDOW_CLAMP) ||
	       opt == ((uint32_t)SOL_TCP << 16 | TCP_QUICKACK) ||
	       opt == ((uint32_t)SOL_IP << 16 | IP_MULTICAST_TTL) ||
	       opt == ((uint32_t)SOL_IPV6 << 16 | IPV6_MULTICAST_HOPS) ||
	       opt == ((uint32_t)SOL_IPV6 << 16 | IPV6_MULTICAST_IF);
}

static void drop_moving(InetSkEntry *e)
{
	size_t i, n = 0;

	if (!tcp_conn_state(e->state) || e->proto != IPPROTO_TCP)
		return;
	for (i = 0; i < e->n_opts; i++) {
		if (moving(e->opts[i]->opt))
			protobuf_c_message_free_unpacked(&e->opts[i]->base, NULL);
		else
			e->opts[n++] = e->opts[i];
	}
	e->n_opts = n;
}

/*
 * The connection, read in repair mode (--tcp-established). Repair stays on
 * until the dump ends: inet_dump_release().
 */
static int dump_stream(struct inet_dump *id, const struct fd_probe *p, int fd, InetSkEntry *e)
{
	struct repaired *r;
	int copy;

	if (e->proto != IPPROTO_TCP || e->state != ISK_CONNECTED || !p->o->tcp_established)
		return 0;
	if (id->nr_repaired == id->cap_repaired) {
		size_t cap = id->cap_repaired ? 2 * id->cap_repaired : 16;
		struct repaired *v = realloc(id->repaired, cap * sizeof(*v));

		if (!v) {
			pr_err("out of memory");
			return -1;
		}
		id->repaired = v;
		id->cap_repaired = cap;
	}
	copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	e->stream = malloc(sizeof(*e->stream));
	if (e->stream)
		tcp_stream__init(e->stream);
	if (copy < 0 || !e->stream) {
		pr_perror("fd %d: keeping the connection", p->fd);
		if (copy >= 0)
			close(copy);
		return -1;
	}
	r = &id->repaired[id->nr_repaired++];
	*r = (struct repaired){ copy, false };
	/* criu's death from here on must not leave the socket in repair mode */
	if (tcp_reuse_get(copy, p->fd, &r->reuse) || tcp_guard_add(copy, r->reuse) ||
	    tcp_stream_dump(copy, p->fd, e->stream))
		return -1;
	/*
	 * Locked, nothing reaches or leaves the socket: it can do without
	 * repair mode until the kill (inet_dump_rearm()), and a tree that
	 * criu's death lets go never finds it there.
	 */
	if (net_lock_holds(p->st.st_ino))
		return tcp_repair_off(copy, p->fd, r->reuse);
	return 0;
}

int inet_dump_release(struct dump_files *d)
{
	struct inet_dump *id = d->priv[FD_KIND__FD_INET_SK];
	int ret = 0;
	size_t i;

	for (i = 0; id && i < id->nr_repaired; i++) {
		if (tcp_repair_off(id->repaired[i].fd, -1, id->repaired[i].reuse))
			ret = -1;
		close(id->repaired[i].fd);
	}
	if (id)
		id->nr_repaired = 0;
	return ret;
}

int inet_dump_rearm(struct dump_files *d)
{
	struct inet_dump *id = d->priv[FD_KIND__FD_INET_SK];
	size_t i;

	for (i = 0; id && i < id->nr_repaired; i++)
		if (tcp_repair_set(id->repaired[i].fd, -1, TCP_REPAIR_ON))
			return -1;
	return 0;
}

static int inet_dump(struct dump_files *d, struct fd_probe *p, uint32_t *oid)
{
	struct inet_dump *id = inet_state(d);
	int fd, family, type, proto;
	bool queued = false;
	InetSkEntry *e;

	if (!id || sk_probe(p, &family, &type, &proto))
		return -1;
	fd = p->local;
	e = calloc(1, sizeof(*e));
	if (!e) {
		pr_err("out of memory");
		return -1;
	}
	inet_sk_entry__init(e);
	e->ino = p->st.st_ino;
	e->family = (uint32_t)family;
	e->type = (uint32_t)type;
	e->proto = (uint32_t)proto;
	e->state = ISK_CLOSE;
	e->flags = p->fi.flags & O_NONBLOCK;
	if (sk_check_error(fd, p->fd) || (type == SOCK_STREAM && tcp_state(p, fd, e)) ||
	    dump_addrs(p, fd, e) ||
	    (raw_or_ping(e->family, e->type, e->proto) ? dump_proc(p, e) :
						       dump_diag(id, p, e, &queued)) ||
	    check_unsent(p, fd, e) ||
	    mcast_dump(p, fd, e) ||
	    sk_opts_dump(&id->opts, fd, p->fd, family, type, proto, &e->opts, &e->n_opts) ||
	    (queued && udpq_dump(fd, p->fd, e, p->o->leave_running || p->o->leave_stopped)))
		goto err;
	drop_moving(e);
	if (dump_stream(id, p, fd, e))
		goto err;
	e->id = *oid = fd_obj_id(d);
	return fd_list_add(&id->l, e);
err:
	protobuf_c_message_free_unpacked(&e->base, NULL);
	return -1;
}

static int inet_write(struct dump_files *d, int dirfd)
{
	struct inet_dump *id = d->priv[FD_KIND__FD_INET_SK];

	return id ? fd_write_entries(dirfd, IMG_INET_SKS, id->l.v, id->l.nr) : 0;
}

static void inet_free(struct dump_files *d)
{
	struct inet_dump *id = d->priv[FD_KIND__FD_INET_SK];
	size_t i;

	if (!id)
		return;
	for (i = 0; i < id->l.nr; i++)
		protobuf_c_message_free_unpacked(id->l.v[i], NULL);
	free(id->l.v);
	for (i = 0; i < id->nr_repaired; i++)	/* left in repair mode: the tree is gone */
		close(id->repaired[i].fd);
	free(id->repaired);
	sk_diag_free(&id->diag);
	free(id);
	d->priv[FD_KIND__FD_INET_SK] = NULL;
}

/* ---- restore ------------------------------------------------------------------------- */

static int bad(const InetSkEntry *e, const char *what)
{
	pr_err("inet-sks.img: object %u: %s", e->id, what);
	return -1;
}

static int check_addr(const InetSkEntry *e, bool has, const ProtobufCBinaryData *a,
		      bool has_port, uint32_t port)
{
	if (!has)
		return has_port ? bad(e, "a port without an address") : 0;
	if (a->len != (e->family == AF_INET6 ? 16u : 4u) || !has_port || port > 65535)
		return bad(e, "address of the wrong size or port out of range");
	return 0;
}

static int inet_validate(const ProtobufCMessage *m, uint32_t *id)
{
	const InetSkEntry *e = (const InetSkEntry *)m;
	bool tcp = e->type == SOCK_STREAM && e->proto == IPPROTO_TCP;
	bool udp = e->type == SOCK_DGRAM && is_udp(e->proto);
	bool rp = raw_or_ping(e->family, e->type, e->proto) && e->proto >= 1 && e->proto <= 255 &&
		  e->proto != IPPROTO_TCP && !is_udp(e->proto);

	if ((e->family != AF_INET && e->family != AF_INET6) || (!tcp && !udp && !rp))
		return bad(e, "not TCP, UDP, UDP-Lite, raw or ping over IPv4 or IPv6");
	if (tcp ? e->state != ISK_LISTEN && e->state != ISK_CLOSE && !tcp_conn_state(e->state) :
		  e->state != ISK_CONNECTED && e->state != ISK_CLOSE)
		return bad(e, "state out of range");
	if (e->stream && (!tcp || e->state != ISK_CONNECTED))
		return bad(e, "a TCP stream on a socket not connected");
	if (e->stream && tcp_stream_check(e->stream))
		return bad(e, tcp_stream_check(e->stream));
	if (udpq_check(e))
		return bad(e, udpq_check(e));
	if (mcast_check(e))
		return bad(e, mcast_check(e));
	if (e->has_shutdown && (!tcp ? e->shutdown & ~(uint32_t)(ISK_SHUT_RD | ISK_SHUT_WR) :
				      e->state != ISK_CONNECTED || e->shutdown & ~1u))
		return bad(e, "a shutdown out of place");
	if ((e->state == ISK_LISTEN) != e->has_backlog || e->backlog > ISK_MAX_BACKLOG)
		return bad(e, "backlog missing or out of range");
	if ((tcp ? tcp_conn_state(e->state) : e->state == ISK_CONNECTED) != e->has_dst_addr ||
	    (e->flags & ~(uint32_t)O_NONBLOCK))
		return bad(e, "peer address or flags out of place");
	if (check_addr(e, e->has_src_addr, &e->src_addr, e->has_src_port, e->src_port) ||
	    check_addr(e, e->has_dst_addr, &e->dst_addr, e->has_dst_port, e->dst_port) ||
	    sk_opts_check(e->opts, e->n_opts, "inet-sks.img", e->id))
		return -1;
	if ((e->state == ISK_LISTEN || (tcp && tcp_conn_state(e->state))) &&
	    (!e->has_src_port || !e->src_port))
		return bad(e, "listening or connected without a port");
	*id = e->id;
	return 0;
}

static socklen_t make_addr(const InetSkEntry *e, const ProtobufCBinaryData *a, uint32_t port,
			   struct sockaddr_storage *ss)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (e->family == AF_INET6) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		memcpy(&in6->sin6_addr, a->data, 16);
		return sizeof(*in6);
	}
	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)port);
	memcpy(&in->sin_addr, a->data, 4);
	return sizeof(*in);
}

static const char *addr_str(const InetSkEntry *e, const ProtobufCBinaryData *a, uint32_t port,
			    char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	inet_ntop((int)e->family, a->data, ip, sizeof(ip));
	snprintf(buf, len, e->family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
	return buf;
}

static bool zero_addr(const ProtobufCBinaryData *a)
{
	size_t i;

	for (i = 0; i < a->len; i++)
		if (a->data[i])
			return false;
	return true;
}

/*
 * bind() to the dumped address; one not configured on this host yet (an
 * IPv6 address still tentative) is taken with IP_FREEBIND set for the
 * bind alone (a raw socket binds only local addresses, any way). A raw
 * socket's port is its protocol, and a raw socket bound to no address has
 * nothing to bind.
 */
static int bind_to(int fd, const InetSkEntry *e)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(e, &e->src_addr, e->src_port, &ss);
	char buf[INET6_ADDRSTRLEN + 16];
	int on = 1, off = 0;

	if (e->type == SOCK_RAW && zero_addr(&e->src_addr))
		return 0;
	if (!bind(fd, (struct sockaddr *)&ss, len))
		return 0;
	if (errno == EADDRNOTAVAIL && e->type != SOCK_RAW &&
	    !setsockopt(fd, SOL_IP, IP_FREEBIND, &on, sizeof(on))) {
		pr_info("inet socket %u: %s is not configured here yet: bound with IP_FREEBIND",
			e->id, addr_str(e, &e->src_addr, e->src_port, buf, sizeof(buf)));
		if (!bind(fd, (struct sockaddr *)&ss, len))
			return setsockopt(fd, SOL_IP, IP_FREEBIND, &off, sizeof(off));
	}
	pr_perror("inet socket %u: bind to %s", e->id,
		  addr_str(e, &e->src_addr, e->src_port, buf, sizeof(buf)));
	return -1;
}

/*
 * A raw IPv6 socket's IPV6_V6ONLY is fixed when it is made (its protocol
 * is its port from the start, and setsockopt refuses a socket with one):
 * net.ipv6.bindv6only decides. It is checked, not set.
 */
static int raw_v6only(int fd, const InetSkEntry *e)
{
	const uint32_t v6only = (uint32_t)SOL_IPV6 << 16 | IPV6_V6ONLY;
	socklen_t len = sizeof(int);
	size_t i;
	int now;

	if (e->type != SOCK_RAW || e->family != AF_INET6)
		return 0;
	for (i = 0; i < e->n_opts && e->opts[i]->opt != v6only; i++)
		;
	if (i == e->n_opts)
		return 0;
	if (getsockopt(fd, SOL_IPV6, IPV6_V6ONLY, &now, &len)) {
		pr_perror("inet socket %u: IPV6_V6ONLY", e->id);
		return -1;
	}
	if (now == e->opts[i]->val)
		return 0;
	pr_err("inet socket %u: a raw IPv6 socket is made with IPV6_V6ONLY %d here, the dump had "
	       "%lld: net.ipv6.bindv6only differs (it cannot be set later)", e->id, now,
	       (long long)e->opts[i]->val);
	return -1;
}

/* An address as IPv6 (IPv4 as ::ffff:a.b.c.d), to match ends of different families. */
static void addr6(const InetSkEntry *e, const ProtobufCBinaryData *a, uint8_t out[16])
{
	memset(out, 0, 16);
	if (e->family == AF_INET6 && a->len == 16) {
		memcpy(out, a->data, 16);
		return;
	}
	out[10] = out[11] = 0xff;
	if (a->len == 4)
		memcpy(out + 12, a->data, 4);
}

/*
 * The options set again: all but IPV6_V6ONLY where it is not the task's to
 * set: on a TCP connection whose IPv6 address is not v4-mapped (bind() to it
 * turns it on whatever it was; a connection's own bind by connect() leaves
 * it: audit.md), and on a raw IPv6 socket (raw_v6only()).
 */
#define OPT_REUSEADDR	((uint32_t)SOL_SOCKET << 16 | SO_REUSEADDR)

/* A connection's SO_REUSEADDR, set once repair mode is off (tcp_repair_off()). */
static bool conn_reuse(const InetSkEntry *e)
{
	size_t i;

	for (i = 0; i < e->n_opts; i++)
		if (e->opts[i]->opt == OPT_REUSEADDR)
			return e->opts[i]->val != 0;
	return false;
}

/* The options to set; with @repair, not SO_REUSEADDR (repair mode forces it). */
static SkOpt **opts_set(const InetSkEntry *e, size_t *n, bool repair)
{
	const uint32_t v6only = (uint32_t)SOL_IPV6 << 16 | IPV6_V6ONLY;
	SkOpt **v = calloc(e->n_opts + 1, sizeof(*v));
	bool conn = e->type == SOCK_STREAM && tcp_conn_state(e->state);
	uint8_t a[16];
	size_t i;

	if (!v) {
		pr_err("out of memory");
		return NULL;
	}
	addr6(e, &e->src_addr, a);
	for (i = 0, *n = 0; i < e->n_opts; i++)
		if (repair && e->opts[i]->opt == OPT_REUSEADDR)
			continue;
		else if (e->opts[i]->opt != v6only || e->family != AF_INET6 ||
		    (e->type != SOCK_RAW && (!conn || (a[10] == 0xff && a[11] == 0xff && !a[0]))))
			v[(*n)++] = e->opts[i];
	return v;
}

/* Options, bind, then listen or connect, shutdown, late options. -1 logged. */
static int setup(int fd, const InetSkEntry *e)
{
	struct sockaddr_storage ss;
	char buf[INET6_ADDRSTRLEN + 16];
	size_t n = 0;
	SkOpt **opts = opts_set(e, &n, false);
	int ret = -1;

	if (!opts || raw_v6only(fd, e) || sk_opts_restore(fd, opts, n, false) ||
	    (e->has_src_port && e->src_port && bind_to(fd, e)))
		goto out;
	/* before a peer, a shutdown or a filter could turn any away */
	if (udpq_restore(fd, e) || mcast_restore(fd, e))
		goto out;

	if (e->state == ISK_LISTEN && listen(fd, (int)e->backlog)) {
		pr_perror("inet socket %u: listen(%u)", e->id, e->backlog);
		goto out;
	}
	if (e->state == ISK_CONNECTED &&
	    connect(fd, (struct sockaddr *)&ss, make_addr(e, &e->dst_addr, e->dst_port, &ss))) {
		pr_perror("inet socket %u: connect to %s", e->id,
			  addr_str(e, &e->dst_addr, e->dst_port, buf, sizeof(buf)));
		goto out;
	}
	/* an unconnected socket answers ENOTCONN but is shut down all the same */
	if (e->has_shutdown && e->shutdown && shutdown(fd, (int)e->shutdown - 1) &&
	    errno != ENOTCONN) {
		pr_perror("inet socket %u: shutdown(%u)", e->id, e->shutdown - 1);
		goto out;
	}
	if (!sk_opts_restore(fd, opts, n, true))
		ret = sk_set_flags(fd, e->flags);
out:
	free(opts);
	return ret;
}

/* ---- restore: TCP connections ------------------------------------------------------- */

/*
 * Both ends of a connection in the dump are made together (one group, one
 * opener): each end's kernel must find the other's socket when repair mode
 * ends, or it answers the first segment with a RST. The end made for its
 * peer waits here until the peer's own open() takes it; a process opens a
 * group whole before it forks, so the wait never crosses processes.
 */
struct conn_wait {
	uint32_t	id;
	int		fd;
};

static struct conn_wait waiting[64];
static size_t nr_waiting;

static bool ends_meet(const InetSkEntry *a, const InetSkEntry *b)
{
	uint8_t as[16], ad[16], bs[16], bd[16];

	if (a->src_port != b->dst_port || a->dst_port != b->src_port)
		return false;
	addr6(a, &a->src_addr, as);
	addr6(a, &a->dst_addr, ad);
	addr6(b, &b->src_addr, bs);
	addr6(b, &b->dst_addr, bd);
	return !memcmp(as, bd, 16) && !memcmp(ad, bs, 16);
}

static bool is_conn(const InetSkEntry *e)
{
	return e->proto == IPPROTO_TCP && e->state == ISK_CONNECTED && e->stream;
}

/* The other end of connection @e in the dump, or NULL. */
static const InetSkEntry *peer_in_dump(const struct fd_rst *r, const InetSkEntry *e)
{
	const struct fd_list *l = fd_rst_list(r, FD_KIND__FD_INET_SK);
	size_t i;

	for (i = 0; l && is_conn(e) && i < l->nr; i++) {
		const InetSkEntry *p = (const InetSkEntry *)l->v[i];

		if (p != e && is_conn(p) && ends_meet(e, p))
			return p;
	}
	return NULL;
}

static uint64_t inet_group(const struct fd_rst *r, const struct fd_obj *o)
{
	const InetSkEntry *e = (const InetSkEntry *)o->e, *p = peer_in_dump(r, e);

	if (!p)
		return 0;
	return 1 + (uint64_t)(e->id < p->id ? e->id : p->id);
}

/* Socket, options, repair mode, bind, connect, queues: repair still on. -1 logged. */
static int make_conn(const InetSkEntry *e)
{
	struct sockaddr_storage ss;
	char buf[INET6_ADDRSTRLEN + 16];
	int fd = socket((int)e->family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	SkOpt **opts;
	size_t n = 0;

	if (fd < 0) {
		pr_perror("inet socket %u: socket", e->id);
		return -1;
	}
	opts = opts_set(e, &n, true);
	if (!opts || sk_opts_restore(fd, opts, n, false) ||
	    tcp_stream_prepare(fd, e->id, e->stream))
		goto err;
	if (bind(fd, (struct sockaddr *)&ss, make_addr(e, &e->src_addr, e->src_port, &ss))) {
		pr_perror("inet socket %u: bind to %s", e->id,
			  addr_str(e, &e->src_addr, e->src_port, buf, sizeof(buf)));
		goto err;
	}
	if (connect(fd, (struct sockaddr *)&ss, make_addr(e, &e->dst_addr, e->dst_port, &ss))) {
		pr_perror("inet socket %u: connect (repair mode) to %s", e->id,
			  addr_str(e, &e->dst_addr, e->dst_port, buf, sizeof(buf)));
		goto err;
	}
	/* the buffer sizes before the queues fill them */
	if (sk_opts_restore(fd, opts, n, true) || tcp_stream_fill(fd, e->id, e->stream))
		goto err;
	free(opts);
	return fd;
err:
	free(opts);
	close(fd);
	return -1;
}

/* Repair off, what was never sent, shutdown, O_NONBLOCK. */
static int resume_conn(int fd, const InetSkEntry *e)
{
	if (tcp_stream_resume(fd, e->id, e->stream, conn_reuse(e)))
		return -1;
	if (e->has_shutdown && e->shutdown && shutdown(fd, SHUT_RD)) {
		pr_perror("inet socket %u: shutdown(SHUT_RD)", e->id);
		return -1;
	}
	return sk_set_flags(fd, e->flags);
}

static int open_conn(const struct fd_rst *r, const InetSkEntry *e)
{
	const InetSkEntry *p = peer_in_dump(r, e);
	int fd, pfd = -1;
	size_t i;

	for (i = 0; i < nr_waiting; i++)
		if (waiting[i].id == e->id) {
			fd = waiting[i].fd;
			waiting[i] = waiting[--nr_waiting];
			return fd;
		}
	if (p && nr_waiting == sizeof(waiting) / sizeof(waiting[0])) {
		pr_err("inet socket %u: more than %zu connections made ahead of their open",
		       e->id, nr_waiting);
		return -1;
	}
	fd = make_conn(e);
	if (fd >= 0 && p)
		pfd = make_conn(p);
	if (fd < 0 || (p && pfd < 0) || resume_conn(fd, e) || (p && resume_conn(pfd, p)))
		goto err;
	if (p)
		waiting[nr_waiting++] = (struct conn_wait){ p->id, pfd };
	return fd;
err:
	if (fd >= 0)
		close(fd);
	if (pfd >= 0)
		close(pfd);
	return -1;
}

/*
 * --tcp-close: a fresh socket, never connected, shut down both ways (as the
 * established tool makes it): reads give end of file, writes EPIPE.
 */
static int closed_conn(int fd, const InetSkEntry *e)
{
	if (sk_opts_restore(fd, e->opts, e->n_opts, false) ||
	    sk_opts_restore(fd, e->opts, e->n_opts, true))
		return -1;
	if (shutdown(fd, SHUT_RDWR) && errno != ENOTCONN) {
		pr_perror("inet socket %u: shutdown(SHUT_RDWR)", e->id);
		return -1;
	}
	return sk_set_flags(fd, e->flags);
}

static int inet_open(struct fd_rst *r, const struct fd_obj *o, const struct cr_options *opt)
{
	const InetSkEntry *e = (const InetSkEntry *)o->e;
	bool conn = e->proto == IPPROTO_TCP && tcp_conn_state(e->state);
	int fd;

	if (conn && !opt->tcp_close && !e->stream) {
		pr_err("inet socket %u: a TCP connection dumped without its stream (--tcp-close): "
		       "restore it with --tcp-close", e->id);
		return -1;
	}
	if (conn && !opt->tcp_close)
		return open_conn(r, e);
	fd = socket((int)e->family, (int)e->type | SOCK_CLOEXEC, (int)e->proto);
	if (fd < 0) {
		pr_perror("inet socket %u: socket", e->id);
		return -1;
	}
	if (conn ? closed_conn(fd, e) : setup(fd, e)) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The network lock is gone and the tree not yet released: every restored
 * connection with bytes in its send queue sends them now (tcp_stream_push()
 * on criu's copy, pidfd_getfd), instead of when its probe timer, backed off
 * by the drops of the lock, fires. Their segments carry the ACK its peer's
 * own retransmission waits for. A copy that cannot be had is only logged:
 * the connection recovers all the same, later.
 */
void inet_rst_push(const struct rst_tree *tr, const int *pidfd)
{
	size_t i, k, n = 0;

	for (i = 0; i < tr->nr; i++) {
		const struct rst_image *ri = &tr->ri[i];

		for (k = 0; !ri->zombie && pidfd[i] >= 0 && k < ri->nr_fds; k++) {
			const FdEntry *fe = ri->fds[k];
			const struct fd_obj *o = fe->kind == FD_KIND__FD_INET_SK ?
						 fd_rst_find(&ri->fdr, fe->id) : NULL;
			const InetSkEntry *e = o ? (const InetSkEntry *)o->e : NULL;
			int fd;

			if (!e || !is_conn(e) || !e->stream->outq.len)
				continue;
			fd = (int)syscall(__NR_pidfd_getfd, pidfd[i], (int)fe->fd, 0);
			if (fd < 0) {
				pr_warn("inet socket %u: no copy of fd %u of %d (%s): not pushed",
					e->id, fe->fd, (int)ri->pid, strerror(errno));
				continue;
			}
			if (!tcp_stream_push(fd, e->id))
				n++;
			close(fd);
		}
	}
	pr_info("%zu restored connections pushed their send queue", n);
}

const struct fd_ops fd_inet_sk_ops = {
	.kind = FD_KIND__FD_INET_SK, .name = "inet socket", .img = IMG_INET_SKS,
	.match = inet_match, .dump = inet_dump, .write = inet_write, .free = inet_free,
	.validate = inet_validate, .open = inet_open, .group = inet_group,
};
