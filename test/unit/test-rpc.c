/*
 * RPC: every criu_opts field has a row in rpc_opt_map[] and reaches
 * struct cr_options (or is refused by name); every request type gets an
 * answer through a real session (rpc_serve_fd in a child, a socket pair);
 * malformed and truncated requests get an error answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "log.h"
#include "options.h"
#include "rpc.h"
#include "tmpdir.h"
#include "unit.h"

static struct cr_options o;
static struct rpc_conn conn;

static const struct rpc_opt *row(const char *field)
{
	unsigned int i;

	for (i = 0; i < rpc_opt_map_size; i++)
		if (!strcmp(rpc_opt_map[i].field, field))
			return &rpc_opt_map[i];
	return NULL;
}

static int fill(const CriuOpts *ro)
{
	opts_free(&o);
	opts_init(&o);
	rpc_conn_release(&conn);
	conn.peer = getpid();
	log_error_reset();
	log_set_level(LOG_NONE);	/* the errors are expected; log_first_error() has them */
	return rpc_opts_fill(&conn, ro, &o, true) || rpc_opts_fill(&conn, ro, &o, false) ? -1 : 0;
}

static int test_every_field_has_a_row(void)
{
	unsigned int i;

	for (i = 0; i < criu_opts__descriptor.n_fields; i++) {
		const char *name = criu_opts__descriptor.fields[i].name;

		if (!row(name)) {
			snprintf(unit_why, sizeof(unit_why), "criu_opts.%s has no row in rpc_opt_map", name);
			return -1;
		}
	}
	for (i = 0; i < rpc_opt_map_size; i++)
		CHECK(protobuf_c_message_descriptor_get_field_by_name(&criu_opts__descriptor,
								       rpc_opt_map[i].field));
	CHECK(rpc_opt_map_size == criu_opts__descriptor.n_fields);
	return 0;
}

/* Set field @f of @ro to a sample value; the storage lives in statics. */
static void set_sample(CriuOpts *ro, const ProtobufCFieldDescriptor *f, const char *option)
{
	static char *strs[1];
	static const char *str;
	char *base = (char *)ro;

	str = !strcmp(option, "lsm-profile") ? "apparmor:x" :
	      !strcmp(option, "veth-pair") ? "a=b" :
	      !strcmp(option, "ext-mount-map") ? "auto" :
	      !strcmp(option, "file-validation") ? "filesize" : "/x";
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		strs[0] = (char *)str;
		*(size_t *)(base + f->quantifier_offset) = 1;
		*(char ***)(base + f->offset) = strs;
		return;
	}
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_STRING)
		*(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
	switch (f->type) {
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)(base + f->offset) = 1;
		break;
	case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_ENUM:
		*(int32_t *)(base + f->offset) = 1;
		break;
	case PROTOBUF_C_TYPE_STRING:
		*(const char **)(base + f->offset) = str;
		break;
	default:
		break;
	}
}

/* Each row that names an option: the field, alone in a request, sets it. */
static int test_fields_reach_options(void)
{
	unsigned int i;

	for (i = 0; i < rpc_opt_map_size; i++) {
		const struct rpc_opt *m = &rpc_opt_map[i];
		CriuOpts ro = CRIU_OPTS__INIT;

		if (!m->option)
			continue;
		set_sample(&ro, protobuf_c_message_descriptor_get_field_by_name(&criu_opts__descriptor,
										 m->field), m->option);
		if (fill(&ro) || !opts_is_set(&o, m->option)) {
			snprintf(unit_why, sizeof(unit_why), "criu_opts.%s did not set --%s: %s",
				 m->field, m->option, log_first_error() ? log_first_error() : "");
			return -1;
		}
	}
	return 0;
}

/* Values, not only "set": a few of each kind. */
static int test_values(void)
{
	CriuOpts ro = CRIU_OPTS__INIT;
	char *ext[] = { "unix[42]", "file[1:2]" };

	ro.has_pid = 1, ro.pid = 1234;
	ro.has_leave_running = 1, ro.leave_running = 1;
	ro.has_shell_job = 1, ro.shell_job = 0;
	ro.has_ghost_limit = 1, ro.ghost_limit = 4096;
	ro.has_log_level = 1, ro.log_level = 4;
	ro.has_timeout = 1, ro.timeout = 7;
	ro.has_network_lock = 1, ro.network_lock = CRIU_NETWORK_LOCK_METHOD__SKIP;
	ro.has_pre_dump_mode = 1, ro.pre_dump_mode = CRIU_PRE_DUMP_MODE__VM_READ;
	ro.n_external = 2, ro.external = ext;
	ro.images_dir = "/some/dir";
	CHECK(fill(&ro) == 0);
	CHECK(o.tree_pid == 1234 && o.leave_running && !o.shell_job);
	CHECK(o.ghost_limit == 4096 && o.verbosity == 4 && o.timeout == 7);
	CHECK_STR(o.network_lock, "skip");
	CHECK_STR(o.pre_dump_mode, "read");
	CHECK(o.external.n == 2);
	CHECK_STR(o.external.v[1], "file[1:2]");
	CHECK_STR(o.images_dir, "/some/dir");
	return 0;
}

/* Rows with a function: each one's spelling on the command line. */
static int test_structured_fields(void)
{
	CriuOpts ro = CRIU_OPTS__INIT;
	CriuVethPair veth = CRIU_VETH_PAIR__INIT, *veths[] = { &veth };
	ExtMountMap em = EXT_MOUNT_MAP__INIT, *ems[] = { &em };
	CgroupRoot cg = CGROUP_ROOT__INIT, *cgs[] = { &cg };
	JoinNamespace jn = JOIN_NAMESPACE__INIT, *jns[] = { &jn };
	UnixSk us = UNIX_SK__INIT, *uss[] = { &us };
	InheritFd inh = INHERIT_FD__INIT, *inhs[] = { &inh };
	int dfd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	CHECK(dfd >= 0);
	veth.if_in = "eth0", veth.if_out = "veth1";
	em.key = "/mnt", em.val = "ext";
	cg.ctrl = "cpu", cg.path = "/x";
	jn.ns = "net", jn.ns_file = "/proc/1/ns/net", jn.extra_opt = "opt";
	us.inode = 99;
	inh.key = "pipe:[5]", inh.fd = dfd;
	ro.images_dir_fd = dfd;
	ro.has_work_dir_fd = 1, ro.work_dir_fd = dfd;
	ro.n_veths = 1, ro.veths = veths;
	ro.n_ext_mnt = 1, ro.ext_mnt = ems;
	ro.n_cg_root = 1, ro.cg_root = cgs;
	ro.n_join_ns = 1, ro.join_ns = jns;
	ro.n_unix_sk_ino = 1, ro.unix_sk_ino = uss;
	ro.n_inherit_fd = 1, ro.inherit_fd = inhs;
	ro.has_empty_ns = 1, ro.empty_ns = 0x40000000;	/* CLONE_NEWNET */
	ro.has_notify_scripts = 1, ro.notify_scripts = 1;
	ro.log_file = "x.log";
	ro.has_status_fd = 1, ro.status_fd = dfd;
	ro.has_auto_ext_mnt = 1, ro.auto_ext_mnt = 1;
	ro.has_manage_cgroups = 1, ro.manage_cgroups = 1;
	ro.has_log_to_stderr = 0;
	CHECK(fill(&ro) == 0);
	close(dfd);
	CHECK(!strncmp(o.images_dir, "/proc/self/fd/", 14) && !strncmp(o.work_dir, "/proc/self/fd/", 14));
	CHECK_STR(o.veth_pair.v[0], "eth0=veth1");
	CHECK(o.ext_mount_map.n == 2);
	CHECK_STR(o.ext_mount_map.v[0], "/mnt:ext");
	CHECK_STR(o.ext_mount_map.v[1], "auto");
	CHECK_STR(o.cgroup_root.v[0], "cpu:/x");
	CHECK_STR(o.join_ns.v[0], "net:/proc/1/ns/net,opt");
	CHECK_STR(o.external.v[0], "unix[99]");
	CHECK(!strncmp(o.inherit_fd.v[0], "fd[", 3) && strstr(o.inherit_fd.v[0], "]:pipe:[5]"));
	CHECK_STR(o.empty_ns, "net");
	CHECK_STR(o.log_file, "x.log");
	CHECK_STR(o.manage_cgroups, "soft");
	CHECK(o.status_fd > 2 && conn.notify && conn.nr_held == 4);
	rpc_conn_release(&conn);
	CHECK(conn.nr_held == 0 && !conn.notify);
	return 0;
}

/* criu (root) takes a caller's descriptor with the caller's access mode, never more. */
static int test_fd_access_mode(void)
{
	int dir = unit_fresh_dir("rpc-mode"), ro_fd;
	CriuOpts ro;

	CHECK(dir >= 0);
	ro_fd = openat(dir, "status", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	CHECK(ro_fd >= 0);
	close(ro_fd);
	ro_fd = openat(dir, "status", O_RDONLY | O_CLOEXEC);
	CHECK(ro_fd >= 0);
	criu_opts__init(&ro);
	ro.images_dir = (char *)unit_dir_path();
	ro.has_status_fd = 1, ro.status_fd = ro_fd;
	CHECK(fill(&ro) == 0);
	close(ro_fd);
	CHECK(o.status_fd > 2 && (fcntl(o.status_fd, F_GETFL) & O_ACCMODE) == O_RDONLY);
	rpc_conn_release(&conn);
	return 0;
}

/* ps: a page server by address and port, or the caller's connected socket. */
static int test_page_server(void)
{
	CriuPageServerInfo ps = CRIU_PAGE_SERVER_INFO__INIT;
	CriuOpts ro = CRIU_OPTS__INIT;
	struct stat a, b;
	int sv[2];

	ps.address = "192.0.2.7", ps.has_port = 1, ps.port = 27;
	ro.ps = &ps;
	CHECK(fill(&ro) == 0 && opts_check_supported(&o) == 0);
	CHECK(o.page_server && o.port == 27 && o.ps_socket == -1);
	CHECK_STR(o.address, "192.0.2.7");
	/* the caller's socket: criu's own copy of the same one, held for the request */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	ps = (CriuPageServerInfo)CRIU_PAGE_SERVER_INFO__INIT;
	ps.has_fd = 1, ps.fd = sv[0];
	CHECK(fill(&ro) == 0 && o.ps_socket > 2 && o.ps_socket != sv[0] && conn.nr_held == 1);
	CHECK(fstat(o.ps_socket, &a) == 0 && fstat(sv[0], &b) == 0 && a.st_ino == b.st_ino);
	rpc_conn_release(&conn);
	CHECK(fcntl(o.ps_socket, F_GETFD) == -1);	/* released with the request */
	ps.fd = 99999;
	CHECK(fill(&ro) == -1 && strstr(log_first_error(), "ps.fd"));
	close(sv[0]);
	close(sv[1]);
	/* a restore from a remote server (lazy pages) is not built */
	ps = (CriuPageServerInfo)CRIU_PAGE_SERVER_INFO__INIT;
	conn.req_type = CRIU_REQ_TYPE__RESTORE;
	log_error_reset();
	CHECK(rpc_opts_fill(&conn, &ro, &o, false) == -1 && strstr(log_first_error(), "criu_opts.ps"));
	conn.req_type = 0;
	return 0;
}

/* Refused fields and bad values fail by name. */
static int test_refused(void)
{
	unsigned int i;
	CriuOpts ro;

	for (i = 0; i < rpc_opt_map_size; i++) {
		const struct rpc_opt *m = &rpc_opt_map[i];

		if (!m->refused)
			continue;
		criu_opts__init(&ro);
		set_sample(&ro, protobuf_c_message_descriptor_get_field_by_name(&criu_opts__descriptor,
										 m->field), "");
		if (!strcmp(m->field, "ps")) {
			static CriuPageServerInfo ps = CRIU_PAGE_SERVER_INFO__INIT;

			ro.ps = &ps;
		}
		CHECK(fill(&ro) == -1);
		CHECK(log_first_error() && strstr(log_first_error(), m->field));
	}
	criu_opts__init(&ro);
	ro.log_file = "../escape.log";
	CHECK(fill(&ro) == -1);
	criu_opts__init(&ro);
	ro.has_empty_ns = 1, ro.empty_ns = 0x20000;	/* CLONE_NEWNS */
	CHECK(fill(&ro) == -1 && strstr(log_first_error(), "empty_ns"));
	criu_opts__init(&ro);
	ro.has_network_lock = 1, ro.network_lock = 77;
	CHECK(fill(&ro) == -1 && strstr(log_first_error(), "network_lock"));
	criu_opts__init(&ro);
	ro.has_pid = 1, ro.pid = -5;
	CHECK(fill(&ro) == -1);
	criu_opts__init(&ro);
	ro.images_dir_fd = 99999;
	CHECK(fill(&ro) == -1 && strstr(log_first_error(), "images-dir"));
	/* a field of a newer schema: refused by its number */
	{
		static const uint8_t newer[] = { 0x08, 0x01, 0xc8, 0x06, 0x01 };	/* 1: 1, 105: 1 */
		CriuOpts *u = criu_opts__unpack(NULL, sizeof(newer), newer);

		CHECK(u && fill(u) == -1 && strstr(log_first_error(), "field number 105"));
		criu_opts__free_unpacked(u, NULL);
	}
	/* runc asks for the pty master on dump too: only a restore refuses it */
	criu_opts__init(&ro);
	ro.has_orphan_pts_master = 1, ro.orphan_pts_master = 1;
	CHECK(fill(&ro) == 0);
	conn.req_type = CRIU_REQ_TYPE__RESTORE;
	CHECK(rpc_opts_fill(&conn, &ro, &o, false) == -1);
	CHECK(strstr(log_first_error(), "orphan_pts_master"));
	conn.req_type = 0;
	/* a config file that is not there is no error (runc names one always) */
	criu_opts__init(&ro);
	ro.config_file = "/nonexistent/runc.conf";
	CHECK(fill(&ro) == 0);
	/* an option not built yet: set, then refused as on the command line */
	criu_opts__init(&ro);
	ro.has_lazy_pages = 1, ro.lazy_pages = 1;
	CHECK(fill(&ro) == 0 && opts_check_supported(&o) == -1);
	/* what runc sends for cgroups reaches the options, all built */
	criu_opts__init(&ro);
	ro.freeze_cgroup = "/sys/fs/cgroup/unified/ct";
	ro.has_manage_cgroups_mode = 1, ro.manage_cgroups_mode = CRIU_CG_MODE__FULL;
	ro.cgroup_yard = "/yard";
	ro.n_cgroup_dump_controller = 1, ro.cgroup_dump_controller = (char *[]){ "pids" };
	CHECK(fill(&ro) == 0 && opts_check_supported(&o) == 0);
	CHECK_STR(o.freeze_cgroup, "/sys/fs/cgroup/unified/ct");
	CHECK_STR(o.manage_cgroups, "full");
	CHECK_STR(o.cgroup_yard, "/yard");
	CHECK_STR(o.cgroup_dump_controller, "pids");
	criu_opts__init(&ro);
	ro.cgroup_props = "x";
	CHECK(fill(&ro) == 0 && opts_check_supported(&o) == -1);
	return 0;
}

/* ---- sessions -------------------------------------------------------------------- */

static int sv[2] = { -1, -1 };
static pid_t server;

/* A session served by a child, as criu swrk serves one. */
static int start_session(void)
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -1;
	server = fork();
	if (server == 0) {
		int null = open("/dev/null", O_WRONLY);

		close(sv[0]);
		dup2(null, STDOUT_FILENO);	/* CHECK's "Looks good." */
		log_init(NULL, NULL, LOG_NONE);
		_exit(rpc_serve_fd(sv[1]) ? 1 : 0);
	}
	close(sv[1]);
	return server > 0 ? 0 : -1;
}

/* The same served by the criu binary, as a runtime starts it: criu swrk FD. */
static int start_swrk(void)
{
	char self[4096], fd[16], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 32);

	if (n <= 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -1;
	self[n] = '\0';
	slash = strrchr(self, '/');
	strcpy(slash ? slash : self, "/../../criu/criu");
	snprintf(fd, sizeof(fd), "%d", sv[1]);
	server = fork();
	if (server == 0) {
		fcntl(sv[1], F_SETFD, 0);
		execl(self, "criu", "swrk", fd, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	return server > 0 ? 0 : -1;
}

static int end_session(void)
{
	int st;

	close(sv[0]);
	if (waitpid(server, &st, 0) != server)
		return -1;
	return WIFEXITED(st) ? 0 : -1;	/* 0 or 1, never a crash */
}

static CriuResp *ask_raw(const void *buf, size_t len)
{
	static uint8_t in[65536];
	ssize_t n;

	if (send(sv[0], buf, len, 0) != (ssize_t)len)
		return NULL;
	n = recv(sv[0], in, sizeof(in), 0);
	return n > 0 ? criu_resp__unpack(NULL, n, in) : NULL;
}

static CriuResp *ask(CriuReq *req)
{
	static uint8_t buf[65536];
	size_t len = criu_req__pack(req, buf);

	return ask_raw(buf, len);
}

/* Every request type in one kept-open session: each gets its own answer. */
static int test_every_type(void)
{
	static const struct { CriuReqType type; bool ok; const char *err; } want[] = {
		{ CRIU_REQ_TYPE__VERSION, true, NULL },
		{ CRIU_REQ_TYPE__FEATURE_CHECK, true, NULL },
		{ CRIU_REQ_TYPE__EMPTY, false, "unknown request" },
		{ CRIU_REQ_TYPE__DUMP, false, "images directory" },
		{ CRIU_REQ_TYPE__RESTORE, false, "images directory" },
		{ CRIU_REQ_TYPE__PRE_DUMP, false, "not supported yet" },
		{ CRIU_REQ_TYPE__SINGLE_PRE_DUMP, false, "not supported yet" },
		{ CRIU_REQ_TYPE__PAGE_SERVER, false, "not supported yet" },
		{ CRIU_REQ_TYPE__PAGE_SERVER_CHLD, false, "not supported yet" },
		{ CRIU_REQ_TYPE__NOTIFY, false, "NOTIFY" },
		{ CRIU_REQ_TYPE__CPUINFO_DUMP, false, "images directory" },
		{ CRIU_REQ_TYPE__CPUINFO_CHECK, false, "images directory" },
		{ CRIU_REQ_TYPE__WAIT_PID, false, "WAIT_PID" },
		{ CRIU_REQ_TYPE__CHECK, true, NULL },
	};
	CriuFeatures f = CRIU_FEATURES__INIT;
	unsigned int i;

	CHECK(start_session() == 0);
	f.has_mem_track = 1, f.mem_track = 1;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CriuReq req = CRIU_REQ__INIT;
		CriuResp *r;
		bool good;

		req.type = want[i].type;
		req.has_keep_open = 1, req.keep_open = 1;
		req.features = &f;
		r = ask(&req);
		CHECK(r);
		good = r->type == want[i].type && r->success == want[i].ok &&
		       (!want[i].err || (r->cr_errmsg && strstr(r->cr_errmsg, want[i].err)));
		if (want[i].type == CRIU_REQ_TYPE__VERSION)
			good = good && r->version && r->version->major_number * 100 +
				       r->version->minor_number >= 311 && r->version->gitid;
		if (want[i].type == CRIU_REQ_TYPE__FEATURE_CHECK)
			good = good && r->features && r->features->has_mem_track &&
			       !r->features->mem_track && !r->features->has_lazy_pages;
		if (!good)
			snprintf(unit_why, sizeof(unit_why), "type %d: success %d, '%s'", want[i].type,
				 r->success, r->cr_errmsg ? r->cr_errmsg : "");
		criu_resp__free_unpacked(r, NULL);
		if (!good) {
			end_session();
			return -1;
		}
	}
	CHECK(end_session() == 0);
	return 0;
}

/* Garbage, a truncated request, an unknown type, a hostile size: error answers. */
static int test_malformed(void)
{
	CriuReq req = CRIU_REQ__INIT;
	CriuOpts ro = CRIU_OPTS__INIT;
	uint8_t buf[256];
	CriuResp *r;
	size_t len;

	req.type = CRIU_REQ_TYPE__DUMP;
	req.opts = &ro;
	ro.images_dir = "/tmp";
	ro.has_pid = 1, ro.pid = 1;
	req.has_keep_open = 1, req.keep_open = 1;
	len = criu_req__pack(&req, buf);
	CHECK(start_session() == 0);
	r = ask_raw("\xff\xff\xff\xff\xff", 5);
	CHECK(r && !r->success && r->cr_errmsg);
	criu_resp__free_unpacked(r, NULL);
	CHECK(end_session() == 0);

	CHECK(start_session() == 0);
	r = ask_raw(buf, len - 3);
	CHECK(r && !r->success && strstr(r->cr_errmsg, "malformed"));
	criu_resp__free_unpacked(r, NULL);
	CHECK(end_session() == 0);

	CHECK(start_session() == 0);
	req.type = 1000;
	req.opts = NULL;
	r = ask(&req);
	CHECK(r && !r->success);
	criu_resp__free_unpacked(r, NULL);
	CHECK(end_session() == 0);
	return 0;
}

/* A sleeping session leader to dump, once it is one; -1 when it cannot start. */
static pid_t start_sleeper(void)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		setsid();
		dup2(null, 0), dup2(null, 1), dup2(null, 2);
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		close(p[0]), close(p[1]);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid > 0 && read(p[0], &c, 1) != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(p[0]);
	return pid;
}

static char proc_state(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	return p && p[1] ? p[2] : 0;
}

/*
 * The caller says go on at pre-dump and goes away at post-dump, while the
 * tree is frozen and its images written: the dump fails, the tree runs on.
 */
static int caller_gone(pid_t pid)
{
	CriuReq req = CRIU_REQ__INIT;
	CriuOpts ro = CRIU_OPTS__INIT;
	CriuResp *r;
	int i;

	req.type = CRIU_REQ_TYPE__DUMP;
	req.opts = &ro;
	ro.images_dir = (char *)unit_dir_path();
	ro.has_pid = 1, ro.pid = pid;
	ro.has_notify_scripts = 1, ro.notify_scripts = 1;
	CHECK(start_session() == 0);
	r = ask(&req);
	CHECK(r && r->type == CRIU_REQ_TYPE__NOTIFY && r->notify);
	CHECK_STR(r->notify->script, "pre-dump");
	criu_resp__free_unpacked(r, NULL);
	req.type = CRIU_REQ_TYPE__NOTIFY;
	req.opts = NULL;
	req.has_notify_success = 1, req.notify_success = 1;
	r = ask(&req);
	CHECK(r && r->type == CRIU_REQ_TYPE__NOTIFY && r->notify);
	CHECK_STR(r->notify->script, "post-dump");
	criu_resp__free_unpacked(r, NULL);
	CHECK(end_session() == 0);	/* closes our end, waits for the server */
	for (i = 0; i < 100 && proc_state(pid) != 'S'; i++)
		usleep(10000);
	CHECK(proc_state(pid) == 'S');	/* running (sleeping in pause), not stopped */
	return 0;
}

/* @fn on a fresh sleeper in a fresh directory; the sleeper is ended after. */
static int with_sleeper(int (*fn)(pid_t pid))
{
	pid_t pid;
	int ret;

	CHECK(unit_fresh_dir("rpc") >= 0);
	pid = start_sleeper();
	CHECK(pid > 0);
	ret = fn(pid);
	if (kill(pid, SIGKILL) == 0)
		waitpid(pid, NULL, 0);
	return ret;
}

static int test_caller_gone(void)
{
	return with_sleeper(caller_gone);
}

/* Answer NOTIFYs with go on until @stage, then go away; 0 when @stage came. */
static int notify_until(CriuReq *req, const char *stage)
{
	CriuReq go = CRIU_REQ__INIT;
	CriuResp *r = ask(req);

	go.type = CRIU_REQ_TYPE__NOTIFY;
	go.has_notify_success = 1, go.notify_success = 1;
	while (r && r->type == CRIU_REQ_TYPE__NOTIFY && r->notify && strcmp(r->notify->script, stage)) {
		criu_resp__free_unpacked(r, NULL);
		r = ask(&go);
	}
	CHECK(r && r->type == CRIU_REQ_TYPE__NOTIFY);
	criu_resp__free_unpacked(r, NULL);
	return end_session();
}

/*
 * A dump over RPC, then a restore whose caller goes away at post-restore,
 * the whole tree made and waiting: nothing of it is left.
 */
/* Dump @pid over RPC into the scratch dir (which kills it) and reap it. */
static int dump_over_rpc(pid_t pid)
{
	CriuReq req = CRIU_REQ__INIT;
	CriuOpts ro = CRIU_OPTS__INIT;
	CriuResp *r;

	req.type = CRIU_REQ_TYPE__DUMP;
	req.opts = &ro;
	ro.images_dir = (char *)unit_dir_path();
	ro.has_pid = 1, ro.pid = pid;
	CHECK(start_session() == 0);
	r = ask(&req);
	CHECK(r && r->success && r->dump && !r->dump->restored);
	criu_resp__free_unpacked(r, NULL);
	CHECK(end_session() == 0);
	CHECK(waitpid(pid, NULL, 0) == pid);	/* killed by the dump */
	return 0;
}

static int restore_gone(pid_t pid)
{
	CriuReq req = CRIU_REQ__INIT;
	CriuOpts ro = CRIU_OPTS__INIT;
	int i;

	CHECK(dump_over_rpc(pid) == 0);
	req.type = CRIU_REQ_TYPE__RESTORE;
	req.opts = &ro;
	ro.images_dir = (char *)unit_dir_path();
	ro.has_notify_scripts = 1, ro.notify_scripts = 1;
	CHECK(start_swrk() == 0);	/* a restore needs criu's own image to leave */
	CHECK(notify_until(&req, "post-restore") == 0);
	for (i = 0; i < 100 && kill(pid, 0) == 0; i++)
		usleep(10000);
	CHECK(kill(pid, 0) == -1 && errno == ESRCH);
	return 0;
}

static int test_restore_caller_gone(void)
{
	return with_sleeper(restore_gone);
}

/*
 * RESTORE then WAIT_PID on one kept-open swrk session: the restored root
 * is that criu's child, and its end is the status WAIT_PID answers.
 */
static int restore_wait(pid_t pid)
{
	CriuReq req = CRIU_REQ__INIT;
	CriuOpts ro = CRIU_OPTS__INIT;
	CriuResp *r;
	int ok;

	CHECK(dump_over_rpc(pid) == 0);
	req.type = CRIU_REQ_TYPE__RESTORE;
	req.opts = &ro;
	req.has_keep_open = 1, req.keep_open = 1;
	ro.images_dir = (char *)unit_dir_path();
	CHECK(start_swrk() == 0);
	r = ask(&req);
	ok = r && r->success && r->restore && r->restore->pid == pid;
	if (r)
		criu_resp__free_unpacked(r, NULL);
	kill(pid, SIGKILL);
	req.type = CRIU_REQ_TYPE__WAIT_PID;
	req.opts = NULL;
	req.has_keep_open = 0;
	req.has_pid = 1, req.pid = pid;
	r = ok ? ask(&req) : NULL;
	ok = ok && r && r->success && r->has_status && WIFSIGNALED(r->status) &&
	     WTERMSIG(r->status) == SIGKILL;
	if (r)
		criu_resp__free_unpacked(r, NULL);
	CHECK(end_session() == 0);
	CHECK(ok);
	return 0;
}

static int test_restore_wait_pid(void)
{
	return with_sleeper(restore_wait);
}

static int test_decode_bounds(void)
{
	static uint8_t big[RPC_MSG_MAX + 1];

	log_init(NULL, NULL, LOG_NONE);
	CHECK(rpc_req_decode(big, sizeof(big)) == NULL);
	CHECK(rpc_req_decode("", 0) == NULL);	/* type is required */
	log_set_level(LOG_WARN);
	return 0;
}

static const struct unit_case cases[] = {
	{ "every criu_opts field has a row", test_every_field_has_a_row },
	{ "every option row reaches cr_options", test_fields_reach_options },
	{ "values reach cr_options", test_values },
	{ "descriptors and structured fields", test_structured_fields },
	{ "a caller's read-only descriptor is not taken writable", test_fd_access_mode },
	{ "refused fields are named", test_refused },
	{ "ps reaches the page server options", test_page_server },
	{ "every request type answered", test_every_type },
	{ "malformed requests answered", test_malformed },
	{ "decoder bounds", test_decode_bounds },
	{ "a caller gone mid-dump leaves the tree running", test_caller_gone },
	{ "a caller gone mid-restore leaves nothing", test_restore_caller_gone },
	{ "RESTORE then WAIT_PID on one session", test_restore_wait_pid },
};

UNIT_MAIN(cases)
