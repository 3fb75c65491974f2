/*
 * criu_opts -> struct cr_options: one row per field of criu_opts. A row
 * names the long option the field sets (its value is turned into the text
 * the command line would carry and goes through the same parser, so the
 * same checks and the same "not supported yet" apply), or a function for
 * the fields that carry the caller's descriptors or a structure, or the
 * reason the field is refused. test-rpc fails on a field without a row.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#define LOG_PREFIX "rpc: "
#include "log.h"
#include "proc_parse.h"
#include "rpc.h"

static const char *const cg_modes[] = { "ignore", "none", "props", "soft", "full", "strict", "soft", NULL };
/* enum value N -> option text; "" where the enum has no value N */
static const char *const lock_methods[] = { "", "iptables", "nftables", "skip", NULL };
static const char *const pre_dump_modes[] = { "", "splice", "read", NULL };
static const char *const validation_methods[] = { "", "filesize", "buildid", NULL };

static const ProtobufCFieldDescriptor *field_desc(const char *name)
{
	return protobuf_c_message_descriptor_get_field_by_name(&criu_opts__descriptor, name);
}

static const void *field_ptr(const CriuOpts *ro, const ProtobufCFieldDescriptor *f)
{
	return (const char *)ro + f->offset;
}

/* Whether the request carries field @f (a required one always does). */
static bool field_present(const CriuOpts *ro, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)ro;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)(base + f->quantifier_offset) > 0;
	if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
		return *(void *const *)(base + f->offset) != NULL;
	if (f->label == PROTOBUF_C_LABEL_REQUIRED)
		return true;
	return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
}

/* ---- the caller's descriptors ------------------------------------------- */

/* Our copy of the caller's descriptor @fd, held until the request ends; -1 logged. */
static int take_fd(struct rpc_conn *c, int fd, const char *what)
{
	struct proc_fdinfo fi;
	char path[64];
	int ours, mode;

	if (fd < 0) {
		pr_err("%s: bad descriptor %d", what, fd);
		return -1;
	}
	if (c->nr_held >= RPC_HELD_FDS_MAX) {
		pr_err("%s: more than %d descriptors in one request", what, RPC_HELD_FDS_MAX);
		return -1;
	}
	/*
	 * Reopened with the caller's own access mode, never more: criu runs as
	 * root, and a client's read-only descriptor must not come back writable.
	 */
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)c->peer, fd);
	ours = open(path, O_PATH | O_CLOEXEC);	/* the caller has it: else named below */
	if (ours >= 0) {
		close(ours);
		ours = -1;
		if (!proc_read_fdinfo(c->peer, fd, &fi)) {
			mode = fi.flags & O_PATH ? O_PATH : (int)(fi.flags & O_ACCMODE);
			proc_fdinfo_free(&fi);
			ours = open(path, mode | O_CLOEXEC);
		}
	}
	if (ours < 0) {
		pr_perror("%s: cannot take descriptor %d of the caller %d", what, fd, (int)c->peer);
		return -1;
	}
	c->held[c->nr_held++] = ours;
	return ours;
}

/* A socket of the caller (no /proc reopen for those): copied with pidfd_getfd, held. */
static int take_sock(struct rpc_conn *c, int fd, const char *what)
{
	int pidfd, ours;

	if (fd < 0 || c->nr_held >= RPC_HELD_FDS_MAX) {
		pr_err("%s: bad descriptor %d, or too many in one request", what, fd);
		return -1;
	}
	pidfd = (int)syscall(SYS_pidfd_open, (int)c->peer, 0);
	ours = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (pidfd >= 0)
		close(pidfd);
	if (ours < 0) {
		pr_perror("%s: cannot take descriptor %d of the caller %d", what, fd, (int)c->peer);
		return -1;
	}
	c->held[c->nr_held++] = ours;
	return ours;
}

void rpc_conn_release(struct rpc_conn *c)
{
	while (c->nr_held)
		close(c->held[--c->nr_held]);
	c->notify = false;
}

/* A directory given as the caller's descriptor: option @name is /proc/self/fd/N. */
static int set_dir_fd(struct rpc_conn *c, int fd, const char *name, struct cr_options *o)
{
	char path[64];
	int ours = take_fd(c, fd, name);

	if (ours < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", ours);
	return opts_set_rpc(o, name, path);
}

static int fn_images_dir_fd(struct rpc_conn *c, const CriuOpts *ro, struct cr_options *o)
{
	if (ro->images_dir_fd == -1)	/* the images_dir path instead */
		return 0;
	return set_dir_fd(c, ro->images_dir_fd, "images-dir", o);
}

static int fn_work_dir_fd(struct rpc_conn *c, const CriuOpts *ro, struct cr_options *o)
{
	return set_dir_fd(c, ro->work_dir_fd, "work-dir", o);
}

static int fn_status_fd(struct rpc_conn *c, const CriuOpts *ro, struct cr_options *o)
{
	int ours = take_fd(c, ro->status_fd, "status_fd");
	char num[16];

	if (ours < 0)
		return -1;
	snprintf(num, sizeof(num), "%d", ours);
	return opts_set_rpc(o, "status-fd", num);
}

static int fn_inherit_fd(struct rpc_conn *c, const CriuOpts *ro, struct cr_options *o)
{
	char spec[PATH_MAX + 32];
	size_t i;

	for (i = 0; i < ro->n_inherit_fd; i++) {
		int ours = take_fd(c, ro->inherit_fd[i]->fd, "inherit_fd");

		if (ours < 0)
			return -1;
		snprintf(spec, sizeof(spec), "fd[%d]:%s", ours, ro->inherit_fd[i]->key);
		if (opts_set_rpc(o, "inherit-fd", spec))
			return -1;
	}
	return 0;
}

/* ---- structured fields: the command line's spelling ------------------------ */

static int fn_notify_scripts(struct rpc_conn *c, const CriuOpts *ro, struct cr_options *o)
{
	(void)o;
	c->notify = ro->notify_scripts;
	return 0;
}

static int fn_log_file(struct rpc_conn *c, const CriuOpts *ro, struct cr_options *o)
{
	(void)c;
	if (strchr(ro->log_file, '/') || !strcmp(ro->log_file, "..")) {
		pr_err("log_file '%s': a name in the work dir, no path", ro->log_file);
		return -1;
	}
	return opts_set_rpc(o, "log-file", ro->log_file);
}

static int fn_log_to_stderr(struct rpc_conn *c, const CriuOpts *ro, struct cr_options *o)
{
	(void)c;
	return ro->log_to_stderr ? opts_set_rpc(o, "log-file", "-") : 0;
}

/* runc names /etc/criu/runc.conf in every request: a file that is not there is no error. */
static int fn_config_file(struct rpc_conn *c, const CriuOpts *ro, struct cr_options *o)
{
	(void)c;
	if (access(ro->config_file, F_OK) && errno == ENOENT) {
		pr_info("config file %s is not there: nothing to read", ro->config_file);
		return 0;
	}
	if (opts_apply_config_file(o, ro->config_file)) {	/* it said why on stderr */
		pr_err("config file %s refused", ro->config_file);
		return -1;
	}
	return 0;
}

/* Two strings joined by @sep, set as option @name. */
static int set_pair(struct cr_options *o, const char *name, const char *a, char sep, const char *b)
{
	char *v;
	int ret;

	if (asprintf(&v, "%s%c%s", a, sep, b) < 0)
		return -1;
	ret = opts_set_rpc(o, name, v);
	free(v);
	return ret;
}

static int fn_veths(struct rpc_conn *c, const CriuOpts *ro, struct cr_options *o)
{
	size_t i;

	(void)c;
	for (i = 0; i < ro->n_veths; i++)
		if (set_pair(o, "veth-pair", ro->veths[i]->if_in, '=', ro->veths[i]->if_out))
			return -1;
	return 0;
}

static int fn_ext_mnt(struct rpc_conn *c, const CriuOpts *ro, struct cr_options *o)
{
	size_t i;

	(void)c;
	for (i = 0; i < ro->n_ext_mnt; i++)
		if (set_pair(o, "ext-mount-map", ro->ext_mnt[i]->key, ':', ro->ext_mnt[i]->val))
			return -1;
	return 0;
}

static int fn_auto_ext_mnt(struct rpc_conn *c, const CriuOpts *ro, struct cr_options *o)
{
	(void)c;
	return ro->auto_ext_mnt ? opts_set_rpc(o, "ext-mount-map", "auto") : 0;
}

static int fn_cg_root(struct rpc_conn *c, const CriuOpts *ro, struct cr_options *o)
{
	size_t i;
	int ret;

	(void)c;
	for (i = 0; i < ro->n_cg_root; i++) {
		const CgroupRoot *r = ro->cg_root[i];

		ret = r->ctrl ? set_pair(o, "cgroup-root", r->ctrl, ':', r->path) :
				opts_set_rpc(o, "cgroup-root", r->path);
		if (ret)
			return -1;
	}
	return 0;
}

static int fn_join_ns(struct rpc_conn *c, const CriuOpts *ro, struct cr_options *o)
{
	size_t i;
	char *v;
	int ret;

	(void)c;
	for (i = 0; i < ro->n_join_ns; i++) {
		const JoinNamespace *j = ro->join_ns[i];

		if (asprintf(&v, "%s:%s%s%s", j->ns, j->ns_file, j->extra_opt ? "," : "",
			     j->extra_opt ? j->extra_opt : "") < 0)
			return -1;
		ret = opts_set_rpc(o, "join-ns", v);
		free(v);
		if (ret)
			return -1;
	}
	return 0;
}

static int fn_unix_sk_ino(struct rpc_conn *c, const CriuOpts *ro, struct cr_options *o)
{
	char v[32];
	size_t i;

	(void)c;
	for (i = 0; i < ro->n_unix_sk_ino; i++) {
		snprintf(v, sizeof(v), "unix[%u]", ro->unix_sk_ino[i]->inode);
		if (opts_set_rpc(o, "external", v))
			return -1;
	}
	return 0;
}

static int fn_empty_ns(struct rpc_conn *c, const CriuOpts *ro, struct cr_options *o)
{
	(void)c;
	if (ro->empty_ns & ~(uint32_t)CLONE_NEWNET) {
		pr_err("not supported yet: empty_ns %#x (only CLONE_NEWNET has an option)", ro->empty_ns);
		return -1;
	}
	return ro->empty_ns ? opts_set_rpc(o, "empty-ns", "net") : 0;
}

/*
 * The master of an external pty, sent back to the caller at restore. runc
 * asks for it on dump too, where it means nothing: only a restore refuses it.
 */
static int fn_orphan_pts_master(struct rpc_conn *c, const CriuOpts *ro, struct cr_options *o)
{
	(void)o;
	if (ro->orphan_pts_master && c->req_type == CRIU_REQ_TYPE__RESTORE) {
		pr_err("not supported yet: criu_opts.orphan_pts_master on restore");
		return -1;
	}
	return 0;
}

/*
 * The page server of a dump: address and port, or a socket of the caller
 * already connected to one (the dump sends on its own copy of it).
 */
static int fn_ps(struct rpc_conn *c, const CriuOpts *ro, struct cr_options *o)
{
	const CriuPageServerInfo *ps = ro->ps;
	char num[16];
	int ours;

	if (c->req_type == CRIU_REQ_TYPE__RESTORE) {
		pr_err("not supported yet: criu_opts.ps on restore (pages from a remote server)");
		return -1;
	}
	if (ps->has_fd) {
		ours = take_sock(c, ps->fd, "ps.fd");
		if (ours < 0)
			return -1;
		snprintf(num, sizeof(num), "%d", ours);
		return opts_set_rpc(o, "ps-socket", num);
	}
	if (opts_set_rpc(o, "page-server", "true") ||
	    (ps->address && opts_set_rpc(o, "address", ps->address)))
		return -1;
	snprintf(num, sizeof(num), "%d", ps->port);
	return ps->has_port ? opts_set_rpc(o, "port", num) : 0;
}

static int fn_manage_cgroups(struct rpc_conn *c, const CriuOpts *ro, struct cr_options *o)
{
	(void)c;
	/* the old switch: on is the default mode, off asks for nothing */
	return ro->manage_cgroups ? opts_set_rpc(o, "manage-cgroups", "soft") : 0;
}

/* ---- the table ---------------------------------------------------------------- */

#define TO(f, opt)		{ .field = f, .option = opt }
#define ENUM(f, opt, t)		{ .field = f, .option = opt, .enum_text = t }
#define FN(f, fun)		{ .field = f, .fn = fun }
#define REFUSE(f, why)		{ .field = f, .refused = why }
#define EARLY(f, opt, fun)	{ .field = f, .option = opt, .fn = fun, .early = true }

const struct rpc_opt rpc_opt_map[] = {
	EARLY("images_dir_fd", NULL, fn_images_dir_fd),
	EARLY("images_dir", "images-dir", NULL),
	TO("pid", "tree"),
	TO("leave_running", "leave-running"),
	TO("ext_unix_sk", "ext-unix-sk"),
	TO("tcp_established", "tcp-established"),
	TO("evasive_devices", "evasive-devices"),
	TO("shell_job", "shell-job"),
	TO("file_locks", "file-locks"),
	EARLY("log_level", "verbosity", NULL),
	EARLY("log_file", NULL, fn_log_file),
	FN("ps", fn_ps),
	FN("notify_scripts", fn_notify_scripts),
	TO("root", "root"),
	TO("parent_img", "prev-images-dir"),
	TO("track_mem", "track-mem"),
	TO("auto_dedup", "auto-dedup"),
	EARLY("work_dir_fd", NULL, fn_work_dir_fd),
	TO("link_remap", "link-remap"),
	FN("veths", fn_veths),
	REFUSE("cpu_cap", "CPU capability mask"),
	TO("force_irmap", "force-irmap"),
	REFUSE("exec_cmd", "exec after restore"),
	FN("ext_mnt", fn_ext_mnt),
	FN("manage_cgroups", fn_manage_cgroups),
	FN("cg_root", fn_cg_root),
	TO("rst_sibling", "restore-sibling"),
	FN("inherit_fd", fn_inherit_fd),
	FN("auto_ext_mnt", fn_auto_ext_mnt),
	TO("ext_sharing", "enable-external-sharing"),
	TO("ext_masters", "enable-external-masters"),
	TO("skip_mnt", "skip-mnt"),
	TO("enable_fs", "enable-fs"),
	FN("unix_sk_ino", fn_unix_sk_ino),
	ENUM("manage_cgroups_mode", "manage-cgroups", cg_modes),
	TO("ghost_limit", "ghost-limit"),
	TO("irmap_scan_paths", "irmap-scan-path"),
	TO("external", "external"),
	FN("empty_ns", fn_empty_ns),
	FN("join_ns", fn_join_ns),
	TO("cgroup_props", "cgroup-props"),
	TO("cgroup_props_file", "cgroup-props-file"),
	TO("cgroup_dump_controller", "cgroup-dump-controller"),
	TO("freeze_cgroup", "freeze-cgroup"),
	TO("timeout", "timeout"),
	TO("tcp_skip_in_flight", "skip-in-flight"),
	TO("weak_sysctls", "weak-sysctls"),
	TO("lazy_pages", "lazy-pages"),
	FN("status_fd", fn_status_fd),
	FN("orphan_pts_master", fn_orphan_pts_master),
	FN("config_file", fn_config_file),
	TO("tcp_close", "tcp-close"),
	TO("lsm_profile", "lsm-profile"),
	TO("tls_cacert", "tls-cacert"),
	TO("tls_cacrl", "tls-cacrl"),
	TO("tls_cert", "tls-cert"),
	TO("tls_key", "tls-key"),
	TO("tls", "tls"),
	TO("tls_no_cn_verify", "tls-no-cn-verify"),
	TO("cgroup_yard", "cgroup-yard"),
	ENUM("pre_dump_mode", "pre-dump-mode", pre_dump_modes),
	REFUSE("pidfd_store_sk", "pidfd store"),
	TO("lsm_mount_context", "lsm-mount-context"),
	ENUM("network_lock", "network-lock", lock_methods),
	TO("mntns_compat_mode", "mntns-compat-mode"),
	TO("skip_file_rwx_check", "skip-file-rwx-check"),
	TO("unprivileged", "unprivileged"),
	TO("leave_stopped", "leave-stopped"),
	TO("display_stats", "display-stats"),
	EARLY("log_to_stderr", NULL, fn_log_to_stderr),
	TO("allow_uprobes", "allow-uprobes"),
	TO("ghost_fiemap", "ghost-fiemap"),
	ENUM("file_validation_method", "file-validation", validation_methods),
	TO("encrypt_key", "encrypt-key"),
};

const unsigned int rpc_opt_map_size = sizeof(rpc_opt_map) / sizeof(rpc_opt_map[0]);

static const char *enum_text(const char *const *text, int v)
{
	int i;

	for (i = 0; text && text[i]; i++)
		if (i == v)
			return text[i][0] ? text[i] : NULL;
	return NULL;
}

/* One scalar value as the command line would spell it; -1 when it has no spelling. */
static int scalar_text(const struct rpc_opt *m, const ProtobufCFieldDescriptor *f,
		       const void *p, char *buf, size_t size, const char **out)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_BOOL:
		*out = *(const protobuf_c_boolean *)p ? "true" : "false";
		return 0;
	case PROTOBUF_C_TYPE_INT32:
		snprintf(buf, size, "%d", *(const int32_t *)p);
		break;
	case PROTOBUF_C_TYPE_UINT32:
		snprintf(buf, size, "%u", *(const uint32_t *)p);
		break;
	case PROTOBUF_C_TYPE_STRING:
		*out = *(char *const *)p;
		return 0;
	case PROTOBUF_C_TYPE_ENUM:
		*out = enum_text(m->enum_text, *(const int *)p);
		if (!*out) {
			pr_err("bad value %d for criu_opts.%s", *(const int *)p, m->field);
			return -1;
		}
		return 0;
	default:
		pr_err("criu_opts.%s: a field of this type has no option", m->field);
		return -1;
	}
	*out = buf;
	return 0;
}

/* Set m->option from every value the field carries. */
static int apply_generic(const struct rpc_opt *m, const ProtobufCFieldDescriptor *f,
			 const CriuOpts *ro, struct cr_options *o)
{
	const char *p = field_ptr(ro, f), *text;
	size_t n = 1, i, step = sizeof(int32_t);
	char buf[32];

	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		n = *(const size_t *)((const char *)ro + f->quantifier_offset);
		p = *(const char *const *)p;
		if (f->type == PROTOBUF_C_TYPE_STRING)
			step = sizeof(char *);
	}
	for (i = 0; i < n; i++, p += step)
		if (scalar_text(m, f, p, buf, sizeof(buf), &text) || opts_set_rpc(o, m->option, text))
			return -1;
	return 0;
}

static int apply_one(struct rpc_conn *c, const struct rpc_opt *m, const CriuOpts *ro,
		     struct cr_options *o)
{
	const ProtobufCFieldDescriptor *f = field_desc(m->field);

	if (!f) {
		pr_err("criu_opts has no field %s", m->field);
		return -1;
	}
	if (!field_present(ro, f))
		return 0;
	/* false asks for nothing, as --no-x of an option not built yet */
	if (m->refused && f->type == PROTOBUF_C_TYPE_BOOL && f->label != PROTOBUF_C_LABEL_REPEATED &&
	    !*(const protobuf_c_boolean *)field_ptr(ro, f))
		return 0;
	if (m->refused) {
		pr_err("not supported yet: criu_opts.%s (%s)", m->field, m->refused);
		return -1;
	}
	if (m->fn)
		return m->fn(c, ro, o);
	return apply_generic(m, f, ro, o);
}

int rpc_opts_fill(struct rpc_conn *c, const CriuOpts *ro, struct cr_options *o, bool early)
{
	unsigned int i;

	/* the config file first: the request's own fields win over it */
	if (!early && ro->config_file && fn_config_file(c, ro, o))
		return -1;
	for (i = 0; i < rpc_opt_map_size; i++) {
		if (rpc_opt_map[i].fn == fn_config_file || rpc_opt_map[i].early != early)
			continue;
		if (apply_one(c, &rpc_opt_map[i], ro, o))
			return -1;
	}
	if (!early && ro->base.n_unknown_fields) {
		pr_err("not supported yet: criu_opts field number %u (this criu does not know it)",
		       ro->base.unknown_fields[0].tag);
		return -1;
	}
	return 0;
}
