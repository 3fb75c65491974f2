/*
 * libcriu: drive criu from C through its RPC (Documentation/rpc.md).
 *
 * Steps:
 *   1. criu_init_opts()                     fresh options (or criu_local_init_opts
 *                                           for a handle of your own)
 *   2. criu_set_images_dir_fd(), criu_set_pid(), criu_set_*() ...
 *   3. criu_dump() / criu_restore() / criu_check() / criu_get_version():
 *      each starts `criu swrk` (the binary set with criu_set_service_binary,
 *      else the first "criu" in PATH) or connects to a `criu service`
 *      socket (criu_set_service_address + CRIU_COMM_SK), sends one request
 *      and waits for the answer, calling the notify callback at each
 *      action stage when one is set
 *   4. criu_free_opts()
 *
 * Errors: a negative errno-style value: -ECONNREFUSED (criu could not be
 * started or reached), -ECOMM (the conversation broke), -EBADMSG (an answer
 * that does not parse), -EBADE (criu answered with a failure; the log says
 * why), -ENOMEM. A setter returns 0 or -ENOMEM where it can fail.
 */
#ifndef __CRIU_LIB_H__
#define __CRIU_LIB_H__

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum criu_service_comm { CRIU_COMM_SK, CRIU_COMM_FD, CRIU_COMM_BIN };

enum criu_cg_mode {
	CRIU_CG_MODE_IGNORE,
	CRIU_CG_MODE_NONE,
	CRIU_CG_MODE_PROPS,
	CRIU_CG_MODE_SOFT,
	CRIU_CG_MODE_FULL,
	CRIU_CG_MODE_STRICT,
	CRIU_CG_MODE_DEFAULT,
};

enum criu_network_lock_method {
	CRIU_NETWORK_LOCK_IPTABLES = 1,
	CRIU_NETWORK_LOCK_NFTABLES = 2,
	CRIU_NETWORK_LOCK_SKIP = 3,
};

enum criu_pre_dump_mode { CRIU_PRE_DUMP_SPLICE = 1, CRIU_PRE_DUMP_READ = 2 };

typedef struct criu_opts criu_opts;
typedef struct _CriuNotify *criu_notify_arg_t;

/* The callback's return: 0 goes on, anything else fails the stage. */
typedef int (*criu_notify_cb)(char *action, criu_notify_arg_t na);
/* The tree's root pid a notification names (0 when it names none). */
int criu_notify_pid(criu_notify_arg_t na);

struct criu_feature_check {
	bool mem_track;
	bool lazy_pages;
	bool pidfd_store;
};

/* ---- one global handle --------------------------------------------------- */
int criu_init_opts(void);
void criu_free_opts(void);

void criu_set_service_address(const char *path);
void criu_set_service_fd(int fd);
int criu_set_service_binary(const char *path);
int criu_set_service_comm(enum criu_service_comm);

void criu_set_pid(int pid);
void criu_set_images_dir_fd(int fd);
int criu_set_images_dir_path(const char *path);
void criu_set_work_dir_fd(int fd);
int criu_set_parent_images(const char *path);
void criu_set_leave_running(bool leave_running);
void criu_set_leave_stopped(bool leave_stopped);
void criu_set_ext_unix_sk(bool ext_unix_sk);
int criu_add_unix_sk(unsigned int inode);
void criu_set_tcp_established(bool tcp_established);
void criu_set_tcp_skip_in_flight(bool tcp_skip_in_flight);
void criu_set_tcp_close(bool tcp_close);
void criu_set_weak_sysctls(bool val);
void criu_set_evasive_devices(bool evasive_devices);
void criu_set_shell_job(bool shell_job);
void criu_set_orphan_pts_master(bool orphan_pts_master);
void criu_set_file_locks(bool file_locks);
void criu_set_track_mem(bool track_mem);
void criu_set_auto_dedup(bool auto_dedup);
void criu_set_force_irmap(bool force_irmap);
void criu_set_link_remap(bool link_remap);
void criu_set_display_stats(bool display_stats);
void criu_set_log_level(int log_level);
int criu_set_log_file(const char *log_file);
void criu_set_log_to_stderr(bool val);
int criu_set_root(const char *root);
void criu_set_manage_cgroups(bool manage);
void criu_set_manage_cgroups_mode(enum criu_cg_mode mode);
int criu_set_freeze_cgroup(const char *name);
void criu_set_timeout(unsigned int timeout);
void criu_set_auto_ext_mnt(bool val);
void criu_set_ext_sharing(bool val);
void criu_set_ext_masters(bool val);
int criu_set_exec_cmd(int argc, char *argv[]);
int criu_add_ext_mount(const char *key, const char *val);
int criu_add_veth_pair(const char *in, const char *out);
int criu_add_cg_root(const char *ctrl, const char *path);
int criu_add_enable_fs(const char *fs);
int criu_add_skip_mnt(const char *mnt);
void criu_set_ghost_limit(unsigned int limit);
int criu_add_irmap_path(const char *path);
int criu_add_inherit_fd(int fd, const char *key);
int criu_add_external(const char *key);
int criu_set_page_server_address_port(const char *address, int port);
int criu_set_lsm_profile(const char *name);
void criu_set_empty_ns(int namespaces);
void criu_set_network_lock(enum criu_network_lock_method method);
int criu_set_pre_dump_mode(enum criu_pre_dump_mode mode);
int criu_set_config_file(const char *path);
void criu_set_notify_cb(criu_notify_cb cb);

int criu_check(void);
int criu_dump(void);
int criu_restore(void);
int criu_restore_child(void);
/* major * 10000 + minor * 100 + sublevel, or a negative error */
int criu_get_version(void);
/* 1 when criu is at least @minimum (as criu_get_version counts), 0 when not, < 0 error */
int criu_check_version(int minimum);
int criu_feature_check(struct criu_feature_check *features, size_t size);
int criu_get_orphan_pts_master_fd(void);

/* ---- the same on a handle of the caller's -------------------------------------- */
int criu_local_init_opts(criu_opts **opts);
void criu_local_free_opts(criu_opts *opts);

void criu_local_set_service_address(criu_opts *opts, const char *path);
void criu_local_set_service_fd(criu_opts *opts, int fd);
int criu_local_set_service_binary(criu_opts *opts, const char *path);
int criu_local_set_service_comm(criu_opts *opts, enum criu_service_comm);

void criu_local_set_pid(criu_opts *opts, int pid);
void criu_local_set_images_dir_fd(criu_opts *opts, int fd);
int criu_local_set_images_dir_path(criu_opts *opts, const char *path);
void criu_local_set_work_dir_fd(criu_opts *opts, int fd);
int criu_local_set_parent_images(criu_opts *opts, const char *path);
void criu_local_set_leave_running(criu_opts *opts, bool leave_running);
void criu_local_set_leave_stopped(criu_opts *opts, bool leave_stopped);
void criu_local_set_ext_unix_sk(criu_opts *opts, bool ext_unix_sk);
int criu_local_add_unix_sk(criu_opts *opts, unsigned int inode);
void criu_local_set_tcp_established(criu_opts *opts, bool tcp_established);
void criu_local_set_tcp_skip_in_flight(criu_opts *opts, bool tcp_skip_in_flight);
void criu_local_set_tcp_close(criu_opts *opts, bool tcp_close);
void criu_local_set_weak_sysctls(criu_opts *opts, bool val);
void criu_local_set_evasive_devices(criu_opts *opts, bool evasive_devices);
void criu_local_set_shell_job(criu_opts *opts, bool shell_job);
void criu_local_set_orphan_pts_master(criu_opts *opts, bool orphan_pts_master);
void criu_local_set_file_locks(criu_opts *opts, bool file_locks);
void criu_local_set_track_mem(criu_opts *opts, bool track_mem);
void criu_local_set_auto_dedup(criu_opts *opts, bool auto_dedup);
void criu_local_set_force_irmap(criu_opts *opts, bool force_irmap);
void criu_local_set_link_remap(criu_opts *opts, bool link_remap);
void criu_local_set_display_stats(criu_opts *opts, bool display_stats);
void criu_local_set_log_level(criu_opts *opts, int log_level);
int criu_local_set_log_file(criu_opts *opts, const char *log_file);
void criu_local_set_log_to_stderr(criu_opts *opts, bool val);
int criu_local_set_root(criu_opts *opts, const char *root);
void criu_local_set_manage_cgroups(criu_opts *opts, bool manage);
void criu_local_set_manage_cgroups_mode(criu_opts *opts, enum criu_cg_mode mode);
int criu_local_set_freeze_cgroup(criu_opts *opts, const char *name);
void criu_local_set_timeout(criu_opts *opts, unsigned int timeout);
void criu_local_set_auto_ext_mnt(criu_opts *opts, bool val);
void criu_local_set_ext_sharing(criu_opts *opts, bool val);
void criu_local_set_ext_masters(criu_opts *opts, bool val);
int criu_local_set_exec_cmd(criu_opts *opts, int argc, char *argv[]);
int criu_local_add_ext_mount(criu_opts *opts, const char *key, const char *val);
int criu_local_add_veth_pair(criu_opts *opts, const char *in, const char *out);
int criu_local_add_cg_root(criu_opts *opts, const char *ctrl, const char *path);
int criu_local_add_enable_fs(criu_opts *opts, const char *fs);
int criu_local_add_skip_mnt(criu_opts *opts, const char *mnt);
void criu_local_set_ghost_limit(criu_opts *opts, unsigned int limit);
int criu_local_add_irmap_path(criu_opts *opts, const char *path);
int criu_local_add_inherit_fd(criu_opts *opts, int fd, const char *key);
int criu_local_add_external(criu_opts *opts, const char *key);
int criu_local_set_page_server_address_port(criu_opts *opts, const char *address, int port);
int criu_local_set_lsm_profile(criu_opts *opts, const char *name);
void criu_local_set_empty_ns(criu_opts *opts, int namespaces);
void criu_local_set_network_lock(criu_opts *opts, enum criu_network_lock_method method);
int criu_local_set_pre_dump_mode(criu_opts *opts, enum criu_pre_dump_mode mode);
int criu_local_set_config_file(criu_opts *opts, const char *path);
void criu_local_set_notify_cb(criu_opts *opts, criu_notify_cb cb);

int criu_local_check(criu_opts *opts);
int criu_local_dump(criu_opts *opts);
int criu_local_restore(criu_opts *opts);
int criu_local_restore_child(criu_opts *opts);
int criu_local_get_version(criu_opts *opts);
int criu_local_check_version(criu_opts *opts, int minimum);
int criu_local_feature_check(criu_opts *opts, struct criu_feature_check *features, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* __CRIU_LIB_H__ */
