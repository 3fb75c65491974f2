/*
 * The uts, ipc and time namespaces of a tree (Documentation/namespaces.md,
 * "uts and ipc namespaces", "Time namespace"): what the dump, the export,
 * the import and the restore share.
 *
 * Our own format has no kind of its own for them: the dump writes the
 * established files (utsns-ID.img, ipcns-var-ID.img, timens-ID.img) into its scratch dir
 * with the tree's namespace ids below, the export checks and copies them,
 * the import checks them and copies them under those ids, and the restore
 * reads them from there. A file present means the tree's root has a
 * namespace of that kind of its own (every process of the tree shares it).
 *
 * 1. dump:    dump_utsipc() once the tree is seized (dump-utsipc.c)
 * 2. export:  exp_utsipc() copies, exp_utsipc_ids() sets the ids (est-export-utsipc.c)
 * 3. import:  imp_utsipc_ns() accepts the ids, imp_utsipc() copies (est-import-utsipc.c)
 * 4. restore: rst_utsipc_read() before the fork, rst_utsipc_clone_flags()
 *             for the root's clone, rst_utsipc_apply() in the root (restore-utsipc.c)
 */
#ifndef CRIU_UTSIPC_H
#define CRIU_UTSIPC_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <protobuf-c/protobuf-c.h>

/* The tree's own namespaces' ids: criu's are 1..8 (est-export.c), the tree's 8 + that index. */
#define UTSIPC_IPC_NS_ID	11
#define UTSIPC_UTS_NS_ID	12
#define UTSIPC_UTS_IMG		"utsns-12.img"
#define UTSIPC_IPC_VAR_IMG	"ipcns-var-11.img"
#define UTSIPC_IPC_SEM_IMG	"ipcns-sem-11.img"
#define UTSIPC_SEM_MAGIC	0x59573019u	/* IPCNS_SEM of the format */
#define UTSIPC_IPC_MSG_IMG	"ipcns-msg-11.img"
#define UTSIPC_MSG_MAGIC	0x55453737u	/* IPCNS_MSG */
#define UTSIPC_IPC_SHM_IMG	"ipcns-shm-11.img"	/* only ever empty: segments are refused */
#define UTSIPC_TIME_NS_ID	13
#define UTSIPC_CGROUP_NS_ID	14	/* no image: cgroup.img's cgns_prefix marks it */
#define UTSIPC_TIME_IMG		"timens-13.img"	/* the clocks inside at the freeze */
/* The largest clock value a time namespace may show (the kernel's KTIME_SEC_MAX / 2). */
#define UTSIPC_CLOCK_SEC_MAX	4611686018ULL

#define UTSIPC_NAME_MAX		64	/* __NEW_UTS_LEN */

/* The ipc sysctls but kernel.sem, in this order (utsipc.c has the paths). */
enum ipc_var {
	IV_MSGMAX, IV_MSGMNB, IV_MSGMNI, IV_AUTO_MSGMNI, IV_SHMMAX, IV_SHMALL, IV_SHMMNI,
	IV_SHM_RMID_FORCED, IV_MQ_QUEUES_MAX, IV_MQ_MSG_MAX, IV_MQ_MSGSIZE_MAX,
	IV_MQ_MSG_DEFAULT, IV_MQ_MSGSIZE_DEFAULT, IV_MSG_NEXT_ID, IV_SEM_NEXT_ID, IV_SHM_NEXT_ID,
	IV_NR
};

struct utsipc_vars {
	uint64_t v[IV_NR];	/* next ids: -1 (none asked) as 0xffffffff */
	uint32_t sem[4];	/* semmsl semmns semopm semmni */
};

/* A uts/ipc image read whole, each entry checked: extra[i] is entry i's payload. */
struct utsipc_file {
	uint8_t *buf;
	size_t len, nr;
	ProtobufCMessage **m;
	const uint8_t **extra;	/* into buf */
};
/* What a restore sets in the root's new namespaces (restore-utsipc.c). */
struct rst_utsipc {
	int flags;		/* CLONE_NEWUTS, CLONE_NEWIPC: the root is cloned with them */
	char nodename[UTSIPC_NAME_MAX + 1];
	char domainname[UTSIPC_NAME_MAX + 1];
	struct utsipc_vars vars;
	struct utsipc_file sems;	/* ipcns-sem: the semaphore sets, nr 0 when none */
	struct utsipc_file msqs;	/* ipcns-msg: the message queues */
	bool time;		/* a time namespace of its own, entered by the root */
	struct timespec mono, boot;	/* its clocks at the freeze: they go on from there */
};

/* "/proc/sys/..." of @v */
const char *utsipc_var_path(enum ipc_var v);
#define UTSIPC_SEM_PATH		"/proc/sys/kernel/sem"

struct Est__UtsnsEntry;
struct Est__IpcVarEntry;
/* Checks of an entry read from an image (untrusted): 0, or -1 logged naming @img. */
int utsipc_uts_check(const struct Est__UtsnsEntry *e, const char *img);
int utsipc_var_check(const struct Est__IpcVarEntry *e, const char *img);
/* @e (checked) into @out; @in into @e (e->sem_ctls points into @in). */
void utsipc_var_from_entry(const struct Est__IpcVarEntry *e, struct utsipc_vars *out);
void utsipc_var_to_entry(const struct utsipc_vars *in, struct Est__IpcVarEntry *e);

#define UTSIPC_SEM_MAX		32000	/* semaphores in a set: the kernel's SEMMSL cap */

/* @name in @dirfd, a regular file: 1 read into @f, 0 no such file, -1 (logged). */
int utsipc_load(int dirfd, const char *name, struct utsipc_file *f);
void utsipc_file_release(struct utsipc_file *f);
/*
 * The one entry of the established-format file @name in @dirfd, checked
 * by its kind's check above: 1, 0 when there is no such file, -1 (logged).
 */
int utsipc_read(int dirfd, const char *name, ProtobufCMessage **m);
/* Checks @name's entries and writes its bytes as @out_name into @out: 0 or -1. */
int utsipc_copy(int in, const char *name, int out, const char *out_name);

#endif /* CRIU_UTSIPC_H */
