/* The established image format: kind table and framing, see include/est-image.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define LOG_PREFIX "est-image: "
#include "est-image.h"
#include "log.h"

#include "est/cgroup.pb-c.h"
#include "est/core.pb-c.h"
#include "est/cpuinfo.pb-c.h"
#include "est/fdinfo.pb-c.h"
#include "est/file-lock.pb-c.h"
#include "est/fs.pb-c.h"
#include "est/ghost-file.pb-c.h"
#include "est/inventory.pb-c.h"
#include "est/ipc-msg.pb-c.h"
#include "est/ipc-sem.pb-c.h"
#include "est/ipc-shm.pb-c.h"
#include "est/ipc-var.pb-c.h"
#include "est/memfd.pb-c.h"
#include "est/mnt.pb-c.h"
#include "est/mm.pb-c.h"
#include "est/netdev.pb-c.h"
#include "est/pagemap.pb-c.h"
#include "est/pipe-data.pb-c.h"
#include "est/pstree.pb-c.h"
#include "est/remap-file-path.pb-c.h"
#include "est/seccomp.pb-c.h"
#include "est/sk-packet.pb-c.h"
#include "est/stats.pb-c.h"
#include "est/tcp-stream.pb-c.h"
#include "est/timens.pb-c.h"
#include "est/tty.pb-c.h"
#include "est/utsns.pb-c.h"

#define C	EST_MAGIC_COMMON
#define S	EST_MAGIC_SERVICE
#define D(x)	&est__##x##__descriptor

/* One row per file name pattern; the magics are those of the format (§1.1). New rows go last: the fuzz corpora name kinds by their index. */
static const struct est_kind kinds[] = {
	{ "INVENTORY",   "inventory.img",	 0, 0x58313116, D(inventory_entry), NULL, 1, EST_EXTRA_NONE },
	{ "STATS",       "stats-dump",		 S, 0x57093306, D(stats_entry), NULL, 1, EST_EXTRA_NONE },
	{ "STATS",       "stats-restore",	 S, 0x57093306, D(stats_entry), NULL, 1, EST_EXTRA_NONE },
	{ "PSTREE",      "pstree.img",		 C, 0x50273030, D(pstree_entry), NULL, 0, EST_EXTRA_NONE },
	{ "CORE",        "core-%u.img",		 C, 0x55053847, D(core_entry), NULL, 1, EST_EXTRA_NONE },
	{ "IDS",         "ids-%u.img",		 C, 0x54432030, D(task_kobj_ids_entry), NULL, 1, EST_EXTRA_NONE },
	{ "MM",          "mm-%u.img",		 C, 0x57492820, D(mm_entry), NULL, 1, EST_EXTRA_NONE },
	{ "PAGEMAP",     "pagemap-%u.img",	 C, 0x56084025, D(pagemap_head), D(pagemap_entry), 0, EST_EXTRA_NONE },
	{ "PAGEMAP",     "pagemap-shmem-%u.img", C, 0x56084025, D(pagemap_head), D(pagemap_entry), 0, EST_EXTRA_NONE },
	{ "pages",       "pages-%u.img",	 0, 0, NULL, NULL, 0, EST_EXTRA_NONE },
	{ "FS",          "fs-%u.img",		 C, 0x51403912, D(fs_entry), NULL, 1, EST_EXTRA_NONE },
	{ "FILES",       "files.img",		 C, 0x56303138, D(file_entry), NULL, 0, EST_EXTRA_NONE },
	{ "FDINFO",      "fdinfo-%u.img",	 C, 0x56213732, D(fdinfo_entry), NULL, 0, EST_EXTRA_NONE },
	{ "PIPES_DATA",  "pipes-data.img",	 C, 0x56453709, D(pipe_data_entry), NULL, 0, EST_EXTRA_PIPE_DATA },
	{ "FIFO_DATA",   "fifo-data.img",	 C, 0x59333054, D(pipe_data_entry), NULL, 0, EST_EXTRA_PIPE_DATA },
	{ "SK_QUEUES",   "sk-queues.img",	 C, 0x56264026, D(sk_packet_entry), NULL, 0, EST_EXTRA_SK_QUEUE },
	{ "TCP_STREAM",  "tcp-stream-%x.img",	 C, 0x51465506, D(tcp_stream_entry), NULL, 1, EST_EXTRA_TCP_STREAM },
	{ "REMAP_FPATH", "remap-fpath.img",	 C, 0x59133954, D(remap_file_path_entry), NULL, 0, EST_EXTRA_NONE },
	{ "GHOST_FILE",  "ghost-file-%x.img",	 C, 0x52583605, D(ghost_file_entry), D(ghost_chunk_entry), 0, EST_EXTRA_GHOST },
	{ "MEMFD_INODE", "memfd.img",		 C, 0x48453499, D(memfd_inode_entry), NULL, 0, EST_EXTRA_NONE },
	{ "TTY_INFO",    "tty-info.img",	 C, 0x59453036, D(tty_info_entry), NULL, 0, EST_EXTRA_NONE },
	{ "TTY_DATA",    "tty-data.img",	 C, 0x59413026, D(tty_data_entry), NULL, 0, EST_EXTRA_NONE },
	{ "FILE_LOCKS",  "filelocks.img",	 C, 0x54323616, D(file_lock_entry), NULL, 0, EST_EXTRA_NONE },
	{ "SECCOMP",     "seccomp.img",		 C, 0x64413049, D(seccomp_entry), NULL, 1, EST_EXTRA_NONE },
	{ "TIMENS",      "timens-%u.img",	 C, 0x43114433, D(timens_entry), NULL, 1, EST_EXTRA_NONE },
	{ "MNTS",        "mountpoints-%u.img",	 C, 0x55563928, D(mnt_entry), NULL, 0, EST_EXTRA_NONE },
	{ "tmpfs",       "tmpfs-dev-%u.tar.gz.img", 0, 0, NULL, NULL, 0, EST_EXTRA_NONE },
	{ "CPUINFO",     "cpuinfo.img",		 C, 0x61404013, D(cpuinfo_entry), NULL, 1, EST_EXTRA_NONE },
	{ "NETDEV",      "netdev-%u.img",	 C, 0x57373951, D(net_device_entry), NULL, 0, EST_EXTRA_NONE },
	{ "NETNS",       "netns-%u.img",	 C, 0x55933752, D(netns_entry), NULL, 1, EST_EXTRA_NONE },
	/* raw: what `ip addr save` / `ip route save` write (their own magic word, then netlink messages) */
	{ "ifaddr",      "ifaddr-%u.img",	 0, 0, NULL, NULL, 0, EST_EXTRA_NONE },
	{ "route",       "route-%u.img",	 0, 0, NULL, NULL, 0, EST_EXTRA_NONE },
	{ "route6",      "route6-%u.img",	 0, 0, NULL, NULL, 0, EST_EXTRA_NONE },
	{ "CGROUP",      "cgroup.img",		 C, 0x59383330, D(cgroup_entry), NULL, 1, EST_EXTRA_NONE },
	/* appended: the fuzz seeds name kinds by their index here */
	{ "UTSNS",       "utsns-%u.img",	 C, 0x54473203, D(utsns_entry), NULL, 1, EST_EXTRA_NONE },
	{ "IPC_VAR",     "ipcns-var-%u.img",	 C, 0x53115007, D(ipc_var_entry), NULL, 1, EST_EXTRA_NONE },
	{ "IPCNS_SEM",   "ipcns-sem-%u.img",	 C, 0x59573019, D(ipc_sem_entry), NULL, 0, EST_EXTRA_SEM },
	{ "IPCNS_MSG",   "ipcns-msg-%u.img",	 C, 0x55453737, D(ipc_msg_entry), NULL, 0, EST_EXTRA_MSG },
	{ "IPCNS_SHM",   "ipcns-shm-%u.img",	 C, 0x46283044, D(ipc_shm_entry), NULL, 0, EST_EXTRA_SHM },
};

const struct est_kind *est_kinds(unsigned int *n)
{
	*n = sizeof(kinds) / sizeof(kinds[0]);
	return kinds;
}

/* Does @name match @pat, whose only conversion may be one %u or %x? */
static bool name_matches(const char *pat, const char *name)
{
	const char *conv = strchr(pat, '%');
	size_t pre, digits;

	if (!conv)
		return !strcmp(pat, name);
	pre = conv - pat;
	if (strncmp(pat, name, pre))
		return false;
	name += pre;
	digits = strspn(name, conv[1] == 'x' ? "0123456789abcdef" : "0123456789");
	if (!digits || digits > 16)
		return false;
	return !strcmp(conv + 2, name + digits);
}

const struct est_kind *est_kind_by_name(const char *name)
{
	unsigned int i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (name_matches(kinds[i].pattern, name))
			return &kinds[i];
	return NULL;
}

const struct est_kind *est_kind_by_magic(uint32_t magic)
{
	unsigned int i;

	for (i = 0; magic && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].magic == magic)
			return &kinds[i];
	return NULL;
}

int est_parse_init(struct est_parser *p, const struct est_kind *kind,
		   const void *buf, size_t len, const char *name)
{
	size_t words = kind->head ? 2 : 1;

	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->name = name;
	p->buf = buf;
	p->len = len;
	if (!kind->magic) {
		pr_err("%s: a raw %s file has no entries", name, kind->name);
		return -1;
	}
	if (len < words * 4) {
		pr_err("%s: %zu bytes, too short for the magic", name, len);
		return -1;
	}
	if (kind->head && est_le32(p->buf) != kind->head) {
		pr_err("%s: head word 0x%x, expected 0x%x", name, est_le32(p->buf), kind->head);
		return -1;
	}
	if (est_le32(p->buf + (words - 1) * 4) != kind->magic) {
		pr_err("%s: magic 0x%x, expected 0x%x (%s)", name,
		       est_le32(p->buf + (words - 1) * 4), kind->magic, kind->name);
		return -1;
	}
	p->off = words * 4;
	return 0;
}

/* How many bytes follow entry @e (already unpacked); -1 if not known. */
int64_t est_msg_next(const uint8_t *buf, size_t len, uint64_t *mtype, uint32_t *msize)
{
	Est__IpcMsg *m;
	uint32_t n;
	int64_t ret = -1;

	if (len < 4)
		return -1;
	n = est_le32(buf);
	if (n > len - 4 || n > 64)
		return -1;
	m = est__ipc_msg__unpack(NULL, n, buf + 4);
	if (!m)
		return -1;
	if (m->msize <= len - 4 - n && ((uint64_t)m->msize + 7) / 8 * 8 <= len - 4 - n) {
		*mtype = m->mtype;
		*msize = m->msize;
		ret = 4 + n + ((int64_t)m->msize + 7) / 8 * 8;
	}
	est__ipc_msg__free_unpacked(m, NULL);
	return ret;
}

/* The messages after a queue's entry: as many bytes as its qnum take, -1 if they do not fit. */
static int64_t msg_len(const struct est_parser *p, const Est__IpcMsgEntry *q)
{
	size_t off = p->off;
	uint64_t mtype;
	uint32_t i, msize;

	for (i = 0; i < q->qnum; i++) {
		int64_t n = est_msg_next(p->buf + off, p->len - off, &mtype, &msize);

		if (n < 0)
			return -1;
		off += n;
	}
	return (int64_t)(off - p->off);
}

static int64_t extra_len(struct est_parser *p, const struct est_entry *e)
{
	switch (p->kind->extra) {
	case EST_EXTRA_NONE:
		return 0;
	case EST_EXTRA_PIPE_DATA:
		return ((const Est__PipeDataEntry *)e->msg)->bytes;
	case EST_EXTRA_SK_QUEUE:
		return ((const Est__SkPacketEntry *)e->msg)->length;
	case EST_EXTRA_TCP_STREAM: {
		const Est__TcpStreamEntry *t = (const void *)e->msg;

		return (int64_t)t->inq_len + t->outq_len;
	}
	case EST_EXTRA_SEM:
		/* u16 values, padded to 8 bytes; uint32 nsems cannot overflow that */
		return ((2 * (int64_t)((const Est__IpcSemEntry *)e->msg)->nsems) + 7) & ~7ll;
	case EST_EXTRA_MSG:
		return msg_len(p, (const Est__IpcMsgEntry *)e->msg);
	case EST_EXTRA_SHM: {
		const Est__IpcShmEntry *m = (const void *)e->msg;

		if (m->has_in_pagemaps && m->in_pagemaps)
			return 0;
		return m->size > INT64_MAX - 3 ? -1 : (int64_t)((m->size + 3) & ~3ull);
	}
	case EST_EXTRA_GHOST:
		if (e->desc == &est__ghost_chunk_entry__descriptor) {
			uint64_t l = ((const Est__GhostChunkEntry *)e->msg)->len;

			return l > INT64_MAX ? -1 : (int64_t)l;
		}
		if (((const Est__GhostFileEntry *)e->msg)->chunks)
			return 0;
		p->rest_is_extra = true;
		return p->len - p->off;
	}
	return -1;
}

int est_parse_next(struct est_parser *p, struct est_entry *e)
{
	uint32_t size;
	int64_t extra;

	memset(e, 0, sizeof(*e));
	if (p->off == p->len || p->rest_is_extra)
		return 0;
	e->offset = p->off;
	if (p->kind->max_entries && p->nr >= p->kind->max_entries) {
		pr_err("%s: more than %u entries at offset %zu", p->name,
		       p->kind->max_entries, p->off);
		return -1;
	}
	if (p->len - p->off < 4) {
		pr_err("%s: truncated entry size at offset %zu", p->name, p->off);
		return -1;
	}
	size = est_le32(p->buf + p->off);
	if (size > EST_ENTRY_MAX || size > p->len - p->off - 4) {
		pr_err("%s: entry of %u bytes at offset %zu: over the cap or the file",
		       p->name, size, p->off);
		return -1;
	}
	e->desc = p->nr && p->kind->rest ? p->kind->rest : p->kind->first;
	e->packed = p->buf + p->off + 4;
	e->packed_len = size;
	e->msg = protobuf_c_message_unpack(e->desc, NULL, size, e->packed);
	if (!e->msg) {
		pr_err("%s: entry at offset %zu is not a valid %s", p->name, p->off,
		       e->desc->name);
		return -1;
	}
	p->off += 4 + size;
	extra = extra_len(p, e);
	if (extra < 0 || (uint64_t)extra > p->len - p->off) {
		pr_err("%s: entry at offset %zu announces more data than the file has",
		       p->name, e->offset);
		est_entry_release(e);
		return -1;
	}
	if (p->kind->extra != EST_EXTRA_NONE) {
		e->extra = p->buf + p->off;
		e->extra_len = extra;
	}
	p->off += extra;
	p->nr++;
	return 1;
}

void est_entry_release(struct est_entry *e)
{
	if (e->msg)
		protobuf_c_message_free_unpacked(e->msg, NULL);
	e->msg = NULL;
}

size_t est_unknown_fields(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	size_t n = m->n_unknown_fields;
	unsigned int i;

	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *at = (const char *)m + f->offset;
		size_t j, count;

		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->label != PROTOBUF_C_LABEL_REPEATED) {
			const ProtobufCMessage *sub = *(ProtobufCMessage *const *)at;

			if (sub)
				n += est_unknown_fields(sub);
			continue;
		}
		count = *(const size_t *)((const char *)m + f->quantifier_offset);
		for (j = 0; j < count; j++)
			n += est_unknown_fields((*(ProtobufCMessage *const *const *)at)[j]);
	}
	return n;
}

bool est_file_fown(Est__FileEntry *f, Est__FownEntry ***fown, uint32_t **flags)
{
#define M(type, m)					\
	case EST__FD_TYPES__##type:			\
		if (!f->m)				\
			return false;			\
		*fown = &f->m->fown;			\
		*flags = &f->m->flags;			\
		return true
	switch (f->type) {
	M(REG, reg);
	M(INETSK, isk);
	M(NETLINKSK, nlsk);
	M(PACKETSK, psk);
	M(EVENTFD, efd);
	M(EVENTPOLL, epfd);
	M(SIGNALFD, sgfd);
	M(TIMERFD, tfd);
	M(INOTIFY, ify);
	M(FANOTIFY, ffy);
	M(UNIXSK, usk);
	M(PIPE, pipe);
	M(TTY, tty);
	M(MEMFD, memfd);
	M(PIDFD, pidfd);
	default:
		return false;
	}
#undef M
}

int est_sk_default_opt(int family, int type, int proto, int level, int name)
{
	int fd = socket(family, type | SOCK_CLOEXEC, proto), v = -1;
	socklen_t l = sizeof(v);

	if (fd >= 0) {
		if (getsockopt(fd, level, name, &v, &l))
			v = -1;
		close(fd);
	}
	return v;
}

int est_sk_default_buf(int family, int type, int proto, int name)
{
	return est_sk_default_opt(family, type, proto, SOL_SOCKET, name);
}

int est_load_file(int dirfd, const char *name, size_t max, uint8_t **buf, size_t *len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	struct stat st;
	size_t done = 0;
	ssize_t n;

	*buf = NULL;
	if (fd < 0 || fstat(fd, &st)) {
		pr_perror("can't open %s", name);
		goto err;
	}
	if ((unsigned long long)st.st_size > max) {
		pr_err("%s: %lld bytes, more than is read of it", name, (long long)st.st_size);
		goto err;
	}
	*buf = malloc(st.st_size + 1);
	if (!*buf) {
		pr_err("out of memory");
		goto err;
	}
	while (done < (size_t)st.st_size + 1) {
		n = read(fd, *buf + done, st.st_size + 1 - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pr_perror("can't read %s", name);
			goto err;
		}
		if (!n)
			break;
		done += n;
	}
	if (done > (size_t)st.st_size) {
		pr_err("%s grew while it was read", name);
		goto err;
	}
	*len = done;
	close(fd);
	return 0;
err:
	free(*buf);
	*buf = NULL;
	if (fd >= 0)
		close(fd);
	return -1;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v, p[1] = v >> 8, p[2] = v >> 16, p[3] = v >> 24;
}

int est_write_one(int dirfd, const char *name, const ProtobufCMessage *m)
{
	const struct est_kind *k = est_kind_by_name(name);
	size_t n = protobuf_c_message_get_packed_size(m), len, off = 0;
	char part[128];
	uint8_t *buf;
	int fd = -1, ret = -1;

	if (!k || !k->magic || n > EST_ENTRY_MAX) {
		pr_err("%s: not an image of the established format, or an entry too large", name);
		return -1;
	}
	buf = malloc(12 + n);
	if (!buf) {
		pr_err("%s: out of memory", name);
		return -1;
	}
	if (k->head)
		put_le32(buf + off, k->head), off += 4;
	put_le32(buf + off, k->magic), off += 4;
	put_le32(buf + off, n), off += 4;
	protobuf_c_message_pack(m, buf + off);
	len = off + n;
	/* whole or not at all: a .part file renamed over any old one */
	snprintf(part, sizeof(part), "%s.part", name);
	fd = openat(dirfd, part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0 && write(fd, buf, len) == (ssize_t)len && !fsync(fd))
		ret = 0;
	if (fd >= 0 && close(fd))
		ret = -1;
	if (!ret && renameat(dirfd, part, dirfd, name))
		ret = -1;
	if (ret) {
		pr_perror("cannot write %s", name);
		if (fd >= 0)
			unlinkat(dirfd, part, 0);
	}
	free(buf);
	return ret;
}
