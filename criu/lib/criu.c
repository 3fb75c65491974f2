/*
 * libcriu: criu_opts built here, one request over `criu swrk` or a service
 * socket (criu.h has the steps and the error values).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "criu.h"
#include "rpc.pb-c.h"

#define RESP_MAX	(1 << 20)

struct criu_opts {
	CriuOpts		*rpc;
	criu_notify_cb		notify;
	enum criu_service_comm	comm;
	char			*address;
	int			fd;
	char			*binary;
};

static criu_opts *global;

/* ---- handles ---------------------------------------------------------------- */

int criu_local_init_opts(criu_opts **opts)
{
	criu_opts *o = calloc(1, sizeof(*o));

	if (!o)
		return -ENOMEM;
	o->rpc = malloc(sizeof(*o->rpc));
	if (!o->rpc) {
		free(o);
		return -ENOMEM;
	}
	criu_opts__init(o->rpc);
	o->comm = CRIU_COMM_BIN;
	o->fd = -1;
	*opts = o;
	return 0;
}

void criu_local_free_opts(criu_opts *o)
{
	if (!o)
		return;
	criu_opts__free_unpacked(o->rpc, NULL);
	free(o->address);
	free(o->binary);
	free(o);
}

int criu_init_opts(void)
{
	criu_local_free_opts(global);
	global = NULL;
	return criu_local_init_opts(&global);
}

void criu_free_opts(void)
{
	criu_local_free_opts(global);
	global = NULL;
}

static int replace(char **slot, const char *s)
{
	char *c = s ? strdup(s) : NULL;

	if (s && !c)
		return -ENOMEM;
	free(*slot);
	*slot = c;
	return 0;
}

/* Append @item (malloc()ed, owned from now on) to a repeated field. */
static int append(void ***arr, size_t *n, void *item)
{
	void **a;

	if (!item)
		return -ENOMEM;
	a = realloc(*arr, (*n + 1) * sizeof(*a));
	if (!a) {
		free(item);
		return -ENOMEM;
	}
	a[(*n)++] = item;
	*arr = a;
	return 0;
}

#define APPEND(o, field, item)	append((void ***)&(o)->rpc->field, &(o)->rpc->n_##field, item)

/* ---- setters: each criu_local_set_X has its criu_set_X on the global handle ---- */

#define SETTER(name, type, body)						\
	void criu_local_set_##name(criu_opts *o, type v) { body; }		\
	void criu_set_##name(type v) { criu_local_set_##name(global, v); }
#define SETTER_INT(name, type, body)						\
	int criu_local_set_##name(criu_opts *o, type v) { body; }		\
	int criu_set_##name(type v) { return criu_local_set_##name(global, v); }
#define HAS(field, val)		(o->rpc->has_##field = true, o->rpc->field = (val))
#define FLAG(name, field)	SETTER(name, bool, HAS(field, v))
#define STR(name, field)	SETTER_INT(name, const char *, return replace(&o->rpc->field, v))

FLAG(leave_running, leave_running)
FLAG(leave_stopped, leave_stopped)
FLAG(ext_unix_sk, ext_unix_sk)
FLAG(tcp_established, tcp_established)
FLAG(tcp_skip_in_flight, tcp_skip_in_flight)
FLAG(tcp_close, tcp_close)
FLAG(weak_sysctls, weak_sysctls)
FLAG(evasive_devices, evasive_devices)
FLAG(shell_job, shell_job)
FLAG(orphan_pts_master, orphan_pts_master)
FLAG(file_locks, file_locks)
FLAG(track_mem, track_mem)
FLAG(auto_dedup, auto_dedup)
FLAG(force_irmap, force_irmap)
FLAG(link_remap, link_remap)
FLAG(display_stats, display_stats)
FLAG(log_to_stderr, log_to_stderr)
FLAG(manage_cgroups, manage_cgroups)
FLAG(auto_ext_mnt, auto_ext_mnt)
FLAG(ext_sharing, ext_sharing)
FLAG(ext_masters, ext_masters)
SETTER(pid, int, HAS(pid, v))
SETTER(images_dir_fd, int, o->rpc->images_dir_fd = v)
SETTER(work_dir_fd, int, HAS(work_dir_fd, v))
SETTER(log_level, int, HAS(log_level, v))
SETTER(timeout, unsigned int, HAS(timeout, v))
SETTER(ghost_limit, unsigned int, HAS(ghost_limit, v))
SETTER(empty_ns, int, HAS(empty_ns, (uint32_t)v))
SETTER(manage_cgroups_mode, enum criu_cg_mode, HAS(manage_cgroups_mode, (CriuCgMode)v))
SETTER(network_lock, enum criu_network_lock_method,
       HAS(network_lock, (CriuNetworkLockMethod)v))
SETTER_INT(pre_dump_mode, enum criu_pre_dump_mode,
	   if (v != CRIU_PRE_DUMP_SPLICE && v != CRIU_PRE_DUMP_READ) return -EINVAL;
	   HAS(pre_dump_mode, (CriuPreDumpMode)v); return 0)
STR(images_dir_path, images_dir)
STR(parent_images, parent_img)
STR(log_file, log_file)
STR(root, root)
STR(freeze_cgroup, freeze_cgroup)
STR(lsm_profile, lsm_profile)
STR(config_file, config_file)
SETTER(notify_cb, criu_notify_cb, o->notify = v; HAS(notify_scripts, v != NULL))
SETTER(service_address, const char *, replace(&o->address, v); o->comm = CRIU_COMM_SK)
SETTER(service_fd, int, o->fd = v; o->comm = CRIU_COMM_FD)
SETTER_INT(service_binary, const char *, o->comm = CRIU_COMM_BIN; return replace(&o->binary, v))
SETTER_INT(service_comm, enum criu_service_comm,
	   if (v > CRIU_COMM_BIN) return -EINVAL; o->comm = v; return 0)

/* Repeated fields: one criu_local_add_X per kind. */
static int add_string(char ***arr, size_t *n, const char *s)
{
	return append((void ***)arr, n, s ? strdup(s) : NULL);
}

int criu_local_add_enable_fs(criu_opts *o, const char *fs)
{
	return add_string(&o->rpc->enable_fs, &o->rpc->n_enable_fs, fs);
}

int criu_local_add_skip_mnt(criu_opts *o, const char *mnt)
{
	return add_string(&o->rpc->skip_mnt, &o->rpc->n_skip_mnt, mnt);
}

int criu_local_add_irmap_path(criu_opts *o, const char *path)
{
	return add_string(&o->rpc->irmap_scan_paths, &o->rpc->n_irmap_scan_paths, path);
}

int criu_local_add_external(criu_opts *o, const char *key)
{
	return add_string(&o->rpc->external, &o->rpc->n_external, key);
}

int criu_local_set_exec_cmd(criu_opts *o, int argc, char *argv[])
{
	int i, ret = 0;

	for (i = 0; i < argc && !ret; i++)
		ret = add_string(&o->rpc->exec_cmd, &o->rpc->n_exec_cmd, argv[i]);
	return ret;
}

int criu_local_add_unix_sk(criu_opts *o, unsigned int inode)
{
	UnixSk *u = malloc(sizeof(*u));

	if (u) {
		unix_sk__init(u);
		u->inode = inode;
	}
	return APPEND(o, unix_sk_ino, u);
}

int criu_local_add_inherit_fd(criu_opts *o, int fd, const char *key)
{
	InheritFd *f = malloc(sizeof(*f));

	if (f) {
		inherit_fd__init(f);
		f->fd = fd;
		f->key = strdup(key);
		if (!f->key) {
			free(f);
			f = NULL;
		}
	}
	return APPEND(o, inherit_fd, f);
}

/* Messages of two strings: ext_mount_map, criu_veth_pair, cgroup_root. */
#define PAIR_ADDER(fn, Type, init, field, a, b, a_may_be_null)			\
	int criu_local_##fn(criu_opts *o, const char *x, const char *y)		\
	{									\
		Type *m = malloc(sizeof(*m));					\
		if (!m)								\
			return -ENOMEM;						\
		init(m);							\
		m->a = x ? strdup(x) : NULL;					\
		m->b = strdup(y);						\
		if ((!m->a && !(a_may_be_null && !x)) || !m->b) {		\
			free(m->a);						\
			free(m->b);						\
			free(m);						\
			return -ENOMEM;						\
		}								\
		return APPEND(o, field, m);					\
	}									\
	int criu_##fn(const char *x, const char *y) { return criu_local_##fn(global, x, y); }

PAIR_ADDER(add_ext_mount, ExtMountMap, ext_mount_map__init, ext_mnt, key, val, 0)
PAIR_ADDER(add_veth_pair, CriuVethPair, criu_veth_pair__init, veths, if_in, if_out, 0)
PAIR_ADDER(add_cg_root, CgroupRoot, cgroup_root__init, cg_root, ctrl, path, 1)

int criu_local_set_page_server_address_port(criu_opts *o, const char *address, int port)
{
	CriuPageServerInfo *ps = o->rpc->ps;

	if (!ps) {
		ps = malloc(sizeof(*ps));
		if (!ps)
			return -ENOMEM;
		criu_page_server_info__init(ps);
		o->rpc->ps = ps;
	}
	ps->has_port = true;
	ps->port = port;
	return replace(&ps->address, address);
}

int criu_add_enable_fs(const char *fs) { return criu_local_add_enable_fs(global, fs); }
int criu_add_skip_mnt(const char *mnt) { return criu_local_add_skip_mnt(global, mnt); }
int criu_add_irmap_path(const char *path) { return criu_local_add_irmap_path(global, path); }
int criu_add_external(const char *key) { return criu_local_add_external(global, key); }
int criu_set_exec_cmd(int argc, char *argv[]) { return criu_local_set_exec_cmd(global, argc, argv); }
int criu_add_unix_sk(unsigned int inode) { return criu_local_add_unix_sk(global, inode); }
int criu_add_inherit_fd(int fd, const char *key) { return criu_local_add_inherit_fd(global, fd, key); }
int criu_set_page_server_address_port(const char *address, int port)
{
	return criu_local_set_page_server_address_port(global, address, port);
}

int criu_notify_pid(criu_notify_arg_t na)
{
	CriuNotify *n = (CriuNotify *)na;

	return n && n->has_pid ? n->pid : 0;
}

/* ---- the conversation ------------------------------------------------------------- */

struct conn {
	int	sk;
	pid_t	child;		/* the criu swrk we started, or 0 */
};

/* CRIU_COMM_BIN: criu swrk on one end of a socket pair. */
static int start_swrk(const criu_opts *o, struct conn *c)
{
	const char *bin = o->binary ? o->binary : "criu";
	char num[16];
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -ECONNREFUSED;
	snprintf(num, sizeof(num), "%d", sv[1]);
	c->child = fork();
	if (c->child < 0) {
		close(sv[0]);
		close(sv[1]);
		return -ECONNREFUSED;
	}
	if (c->child == 0) {
		if (fcntl(sv[1], F_SETFD, 0) == 0)
			execlp(bin, bin, "swrk", num, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	c->sk = sv[0];
	return 0;
}

static int conn_open(const criu_opts *o, struct conn *c)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	c->child = 0;
	c->sk = -1;
	if (o->comm == CRIU_COMM_BIN)
		return start_swrk(o, c);
	if (o->comm == CRIU_COMM_FD) {
		c->sk = fcntl(o->fd, F_DUPFD_CLOEXEC, 3);
		return c->sk < 0 ? -ECONNREFUSED : 0;
	}
	if (!o->address || strlen(o->address) >= sizeof(a.sun_path))
		return -ECONNREFUSED;
	strcpy(a.sun_path, o->address);
	c->sk = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->sk < 0 || connect(c->sk, (struct sockaddr *)&a, sizeof(a))) {
		if (c->sk >= 0)
			close(c->sk);
		c->sk = -1;
		return -ECONNREFUSED;
	}
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->sk >= 0)
		close(c->sk);
	c->sk = -1;
	while (c->child > 0 && waitpid(c->child, NULL, 0) < 0 && errno == EINTR)
		;
	c->child = 0;
}

static int send_req(int sk, const CriuReq *req)
{
	size_t len = criu_req__get_packed_size(req);
	uint8_t *buf = malloc(len ? len : 1);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	criu_req__pack(req, buf);
	n = send(sk, buf, len, MSG_NOSIGNAL);
	free(buf);
	return n == (ssize_t)len ? 0 : -ECOMM;
}

static int recv_resp(int sk, CriuResp **out)
{
	uint8_t *buf = malloc(RESP_MAX);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	do
		n = recv(sk, buf, RESP_MAX, 0);
	while (n < 0 && errno == EINTR);
	*out = n > 0 ? criu_resp__unpack(NULL, (size_t)n, buf) : NULL;
	free(buf);
	if (n <= 0)
		return -ECOMM;
	return *out ? 0 : -EBADMSG;
}

/* The caller's answer to one NOTIFY. */
static int answer_notify(const criu_opts *o, int sk, CriuNotify *nt)
{
	CriuReq req = CRIU_REQ__INIT;
	int ok = 0;

	if (o->notify && nt)
		ok = o->notify(nt->script ? nt->script : "", (criu_notify_arg_t)nt);
	req.type = CRIU_REQ_TYPE__NOTIFY;
	req.has_notify_success = true;
	req.notify_success = ok == 0;
	return send_req(sk, &req);
}

/* Send @req, answer notifications, return the final response in *out. */
static int exchange(const criu_opts *o, CriuReq *req, CriuResp **out)
{
	struct conn c;
	int ret;

	*out = NULL;
	ret = conn_open(o, &c);
	if (ret)
		return ret;
	ret = send_req(c.sk, req);
	while (!ret) {
		ret = recv_resp(c.sk, out);
		if (ret || (*out)->type != CRIU_REQ_TYPE__NOTIFY)
			break;
		ret = answer_notify(o, c.sk, (*out)->notify);
		criu_resp__free_unpacked(*out, NULL);
		*out = NULL;
	}
	conn_close(&c);
	if (!ret && (*out)->type != req->type)
		ret = -EBADMSG;
	if (ret && *out) {
		criu_resp__free_unpacked(*out, NULL);
		*out = NULL;
	}
	return ret;
}

/* One request of @type with the handle's options; the response's value through @get. */
static int request(criu_opts *o, CriuReqType type, int (*get)(const CriuResp *r))
{
	CriuReq req = CRIU_REQ__INIT;
	CriuResp *resp;
	int ret;

	req.type = type;
	req.opts = o->rpc;
	ret = exchange(o, &req, &resp);
	if (ret)
		return ret;
	if (!resp->success) {
		errno = resp->has_cr_errno ? resp->cr_errno : 0;
		ret = -EBADE;
	} else {
		ret = get ? get(resp) : 0;
	}
	criu_resp__free_unpacked(resp, NULL);
	return ret;
}

static int get_restored(const CriuResp *r)
{
	return r->dump && r->dump->has_restored && r->dump->restored;
}

static int get_pid(const CriuResp *r)
{
	return r->restore ? r->restore->pid : -EBADMSG;
}

static int get_version(const CriuResp *r)
{
	if (!r->version)
		return -EBADMSG;
	return r->version->major_number * 10000 + r->version->minor_number * 100 +
	       (r->version->has_sublevel ? r->version->sublevel : 0);
}

int criu_local_check(criu_opts *o) { return request(o, CRIU_REQ_TYPE__CHECK, NULL); }
int criu_local_dump(criu_opts *o) { return request(o, CRIU_REQ_TYPE__DUMP, get_restored); }
int criu_local_restore(criu_opts *o) { return request(o, CRIU_REQ_TYPE__RESTORE, get_pid); }
int criu_local_get_version(criu_opts *o) { return request(o, CRIU_REQ_TYPE__VERSION, get_version); }

int criu_local_restore_child(criu_opts *o)
{
	o->rpc->has_rst_sibling = true;
	o->rpc->rst_sibling = true;
	return criu_local_restore(o);
}

int criu_local_check_version(criu_opts *o, int minimum)
{
	int v = criu_local_get_version(o);

	return v < 0 ? v : v >= minimum;
}

int criu_local_feature_check(criu_opts *o, struct criu_feature_check *features, size_t size)
{
	CriuFeatures f = CRIU_FEATURES__INIT;
	CriuReq req = CRIU_REQ__INIT;
	struct criu_feature_check got;
	CriuResp *resp;
	int ret;

	if (!features || size > sizeof(got))
		return -EINVAL;
	memset(&got, 0, sizeof(got));
	memcpy(&got, features, size);
	f.has_mem_track = got.mem_track;
	f.has_lazy_pages = got.lazy_pages;
	f.has_pidfd_store = got.pidfd_store;
	f.mem_track = f.lazy_pages = f.pidfd_store = true;
	req.type = CRIU_REQ_TYPE__FEATURE_CHECK;
	req.features = &f;
	ret = exchange(o, &req, &resp);
	if (ret)
		return ret;
	if (!resp->success || !resp->features) {
		criu_resp__free_unpacked(resp, NULL);
		return -EBADE;
	}
	got.mem_track = got.mem_track && resp->features->mem_track;
	got.lazy_pages = got.lazy_pages && resp->features->lazy_pages;
	got.pidfd_store = got.pidfd_store && resp->features->pidfd_store;
	memcpy(features, &got, size);
	criu_resp__free_unpacked(resp, NULL);
	return 0;
}

int criu_check(void) { return criu_local_check(global); }
int criu_dump(void) { return criu_local_dump(global); }
int criu_restore(void) { return criu_local_restore(global); }
int criu_restore_child(void) { return criu_local_restore_child(global); }
int criu_get_version(void) { return criu_local_get_version(global); }
int criu_check_version(int minimum) { return criu_local_check_version(global, minimum); }
int criu_feature_check(struct criu_feature_check *features, size_t size)
{
	return criu_local_feature_check(global, features, size);
}

/* criu answers orphan_pts_master with "not supported yet": there is never a master to give. */
int criu_get_orphan_pts_master_fd(void)
{
	return -1;
}
