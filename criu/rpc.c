/*
 * The RPC session: read a request, run it, answer (include/rpc.h,
 * Documentation/rpc.md). `criu swrk FD` serves one connection in criu
 * itself; `criu service` (rpc-service.c) forks one criu per connection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define LOG_PREFIX "rpc: "
#include "action.h"
#include "commands.h"
#include "log.h"
#include "rpc.h"

/* ---- messages ------------------------------------------------------------------ */

CriuReq *rpc_req_decode(const void *buf, size_t len)
{
	CriuReq *req;

	if (len > RPC_MSG_MAX) {
		pr_err("request of %zu bytes: more than %d", len, RPC_MSG_MAX);
		return NULL;
	}
	req = criu_req__unpack(NULL, len, buf);
	if (!req) {
		pr_err("malformed request (%zu bytes)", len);
		return NULL;
	}
	return req;
}

int rpc_send_resp(struct rpc_conn *c, const CriuResp *resp)
{
	size_t len = criu_resp__get_packed_size(resp);
	uint8_t *buf = malloc(len ? len : 1);
	ssize_t n;

	if (!buf) {
		pr_err("no memory for a response of %zu bytes", len);
		return -1;
	}
	criu_resp__pack(resp, buf);
	n = send(c->sk, buf, len, MSG_NOSIGNAL);
	free(buf);
	if (n != (ssize_t)len) {
		pr_perror("cannot send the response");
		return -1;
	}
	return 0;
}

/*
 * One message of the caller: 1 and *out (free()), 0 when it closed, -1 on
 * error. A message larger than RPC_MSG_MAX is read whole and refused.
 */
static int recv_msg(int sk, uint8_t **out, size_t *len)
{
	ssize_t n;

	do
		n = recv(sk, NULL, 0, MSG_PEEK | MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		if (n < 0)
			pr_perror("cannot read a request");
		return n < 0 ? -1 : 0;
	}
	*len = (size_t)n;
	*out = malloc(*len <= RPC_MSG_MAX ? *len : 1);
	if (!*out)
		return -1;
	n = recv(sk, *out, *len <= RPC_MSG_MAX ? *len : 1, MSG_TRUNC);
	if (n < 0) {
		pr_perror("cannot read a request");
		free(*out);
		return -1;
	}
	return 1;
}

/* ---- NOTIFY round trips --------------------------------------------------------- */

static int notify_caller(void *arg, const char *stage, pid_t root)
{
	struct rpc_conn *c = arg;
	CriuResp resp = CRIU_RESP__INIT;
	CriuNotify nt = CRIU_NOTIFY__INIT;
	CriuReq *req;
	uint8_t *buf;
	size_t len;
	int ret;

	resp.type = CRIU_REQ_TYPE__NOTIFY;
	resp.success = true;
	nt.script = (char *)stage;
	nt.has_pid = root > 0;
	nt.pid = root;
	resp.notify = &nt;
	if (rpc_send_resp(c, &resp))
		return -1;
	ret = recv_msg(c->sk, &buf, &len);
	if (ret <= 0) {
		pr_err("the caller went away at stage %s", stage);
		return -1;
	}
	req = rpc_req_decode(buf, len);
	free(buf);
	if (!req)
		return -1;
	ret = req->type == CRIU_REQ_TYPE__NOTIFY && req->notify_success ? 0 : -1;
	if (req->type != CRIU_REQ_TYPE__NOTIFY)
		pr_err("expected the answer to NOTIFY %s, got request type %d", stage, req->type);
	criu_req__free_unpacked(req, NULL);
	return ret;
}

/* ---- requests ----------------------------------------------------------------- */

/*
 * The request's options, checked as the command line's are. The rows that
 * say where the log goes come first, so that whatever is refused after is
 * in the log the caller reads (runc and podman show only its name).
 */
static int setup_opts(struct rpc_conn *c, const CriuReq *req, struct cr_options *o, bool dirs)
{
	if (req->opts && rpc_opts_fill(c, req->opts, o, true))
		return -1;
	if (o->images_dir && !o->work_dir && !(o->work_dir = strdup(o->images_dir)))
		return -1;
	if (o->log_file && log_init(o->work_dir, o->log_file, o->verbosity))
		return -1;
	if (!o->log_file)
		log_set_level(o->verbosity);
	pr_info("criu %s (%s): RPC request %d from %d", CRIU_VERSION, CRIU_GITID, req->type,
		(int)c->peer);
	if (req->opts && rpc_opts_fill(c, req->opts, o, false))
		return -1;
	if (dirs && !o->images_dir) {
		pr_err("the request names no images directory (images_dir_fd or images_dir)");
		return -1;
	}
	if (opts_check_supported(o))
		return -1;
	if (c->notify)
		action_set_notify(notify_caller, c);
	return 0;
}

static int do_dump(struct rpc_conn *c, const CriuReq *req, CriuResp *resp)
{
	static CriuDumpResp dr = CRIU_DUMP_RESP__INIT;
	struct cr_options o;
	int ret;

	opts_init(&o);
	ret = setup_opts(c, req, &o, true);
	if (!ret && o.tree_pid <= 0) {
		pr_err("not supported yet: a dump of the requesting process (set criu_opts.pid)");
		ret = -1;
	}
	if (!ret)
		ret = cmd_dump(&o);
	dr.has_restored = true;
	dr.restored = false;
	resp->dump = &dr;
	opts_free(&o);
	return ret;
}

static int do_restore(struct rpc_conn *c, const CriuReq *req, CriuResp *resp)
{
	static CriuRestoreResp rr = CRIU_RESTORE_RESP__INIT;
	struct cr_options o;
	pid_t root = 0;
	int ret;

	opts_init(&o);
	ret = setup_opts(c, req, &o, true);
	o.restore_detached = true;	/* criu answers; the tree runs on */
	if (!ret)
		ret = restore_run(&o, &root);
	if (!ret) {
		rr.pid = root;
		resp->restore = &rr;
	}
	opts_free(&o);
	return ret;
}

/* CHECK, CPUINFO_DUMP, CPUINFO_CHECK: the command with the request's options. */
static int do_command(struct rpc_conn *c, const CriuReq *req, int (*fn)(struct cr_options *),
		      const char *arg)
{
	struct cr_options o;
	int ret;

	opts_init(&o);
	ret = setup_opts(c, req, &o, arg != NULL);
	if (!ret && arg) {
		o.args.v = calloc(3, sizeof(char *));
		ret = -!o.args.v;
		if (!ret && (o.args.v[0] = strdup("cpuinfo")) && (o.args.v[1] = strdup(arg)))
			o.args.n = 2;
		else
			ret = -1;
	}
	if (!ret)
		ret = fn(&o) ? -1 : 0;
	opts_free(&o);
	return ret;
}

static int do_version(CriuResp *resp)
{
	static CriuVersion v = CRIU_VERSION__INIT;
	int major = 0, minor = 0, sub = 0;

	if (sscanf(CRIU_VERSION, "%d.%d.%d", &major, &minor, &sub) < 2) {
		pr_err("version %s is not MAJOR.MINOR", CRIU_VERSION);
		return -1;
	}
	v.major_number = major;
	v.minor_number = minor;
	v.has_sublevel = sub != 0;
	v.sublevel = sub;
	v.gitid = (char *)CRIU_GITID;
	resp->version = &v;
	return 0;
}

/* Every feature a caller can ask for needs pre-dump or lazy pages: none is there yet. */
static int do_features(const CriuReq *req, CriuResp *resp)
{
	static CriuFeatures f = CRIU_FEATURES__INIT;

	f.has_mem_track = req->features && req->features->has_mem_track;
	f.has_lazy_pages = req->features && req->features->has_lazy_pages;
	f.has_pidfd_store = req->features && req->features->has_pidfd_store;
	f.mem_track = f.lazy_pages = f.pidfd_store = false;
	resp->features = &f;
	return 0;
}

/* WAIT_PID: the wait status of a child of this criu (a tree it restored). */
static int do_wait_pid(const CriuReq *req, CriuResp *resp)
{
	int st;

	if (!req->has_pid || !req->pid || req->pid > 0x7fffffff) {
		pr_err("WAIT_PID needs the pid of a child of criu");
		return -1;
	}
	while (waitpid((pid_t)req->pid, &st, 0) < 0) {
		if (errno != EINTR) {
			pr_perror("WAIT_PID %u", req->pid);
			return -1;
		}
	}
	resp->has_status = true;
	resp->status = st;
	return 0;
}

static int dispatch(struct rpc_conn *c, const CriuReq *req, CriuResp *resp)
{
	switch (req->type) {
	case CRIU_REQ_TYPE__DUMP:
		return do_dump(c, req, resp);
	case CRIU_REQ_TYPE__RESTORE:
		return do_restore(c, req, resp);
	case CRIU_REQ_TYPE__CHECK:
		return do_command(c, req, cmd_check, NULL);
	case CRIU_REQ_TYPE__CPUINFO_DUMP:
		return do_command(c, req, cmd_cpuinfo, "dump");
	case CRIU_REQ_TYPE__CPUINFO_CHECK:
		return do_command(c, req, cmd_cpuinfo, "check");
	case CRIU_REQ_TYPE__VERSION:
		return do_version(resp);
	case CRIU_REQ_TYPE__FEATURE_CHECK:
		return do_features(req, resp);
	case CRIU_REQ_TYPE__WAIT_PID:
		return do_wait_pid(req, resp);
	case CRIU_REQ_TYPE__PRE_DUMP:
	case CRIU_REQ_TYPE__SINGLE_PRE_DUMP:
		pr_err("not supported yet: pre-dump");
		return -1;
	case CRIU_REQ_TYPE__PAGE_SERVER:
	case CRIU_REQ_TYPE__PAGE_SERVER_CHLD:
		pr_err("not supported yet: page server");
		return -1;
	case CRIU_REQ_TYPE__NOTIFY:
		pr_err("NOTIFY outside a dump or restore");
		return -1;
	default:
		pr_err("unknown request type %d", req->type);
		return -1;
	}
}

/* Serve one request and answer it; sets *keep_open. Returns -1 when the caller is gone. */
static int serve_one(struct rpc_conn *c, const uint8_t *buf, size_t len, bool *keep_open)
{
	CriuResp resp = CRIU_RESP__INIT;
	const char *err;
	CriuReq *req;
	int ret;

	log_error_reset();
	*keep_open = false;
	req = rpc_req_decode(buf, len);
	resp.type = req ? req->type : CRIU_REQ_TYPE__EMPTY;
	c->req_type = resp.type;
	ret = req ? dispatch(c, req, &resp) : -1;
	resp.success = ret == 0;
	if (ret) {
		err = log_first_error();
		resp.cr_errmsg = (char *)(err ? err : "failed");
		resp.has_cr_errno = true;
		resp.cr_errno = errno ? errno : EINVAL;
	}
	action_set_notify(NULL, NULL);
	log_fini();
	rpc_conn_release(c);
	ret = rpc_send_resp(c, &resp);
	if (req) {
		*keep_open = req->keep_open;
		criu_req__free_unpacked(req, NULL);
	}
	return ret;
}

int rpc_serve_fd(int sk)
{
	struct rpc_conn c = { .sk = sk, .peer = 0 };
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	bool keep_open = true;
	uint8_t *buf;
	size_t len;
	int ret;

	if (getsockopt(sk, SOL_SOCKET, SO_PEERCRED, &cr, &crlen)) {
		pr_perror("fd %d is not a unix socket", sk);
		return -1;
	}
	c.peer = cr.pid;
	while (keep_open) {
		ret = recv_msg(sk, &buf, &len);
		if (ret <= 0)
			return ret;
		ret = serve_one(&c, buf, len, &keep_open);
		free(buf);
		if (ret)
			return -1;
	}
	return 0;
}
