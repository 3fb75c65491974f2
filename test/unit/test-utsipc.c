/* The uts, ipc and time namespace images: their checks and the reader (criu/utsipc.c). */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "est-image.h"
#include "log.h"
#include "tmpdir.h"
#include "unit.h"
#include "utsipc.h"

#include "est/ipc-msg.pb-c.h"
#include "est/ipc-sem.pb-c.h"
#include "est/ipc-var.pb-c.h"
#include "est/timens.pb-c.h"
#include "est/utsns.pb-c.h"

static void sample(struct utsipc_vars *v)
{
	int i;

	memset(v, 0, sizeof(*v));
	for (i = 0; i < IV_NR; i++)
		v->v[i] = 100 + i;
	v->v[IV_SHMMAX] = 18446744073692774399ull;	/* a u64 sysctl */
	v->v[IV_SEM_NEXT_ID] = UINT32_MAX;		/* -1: none asked for */
	v->sem[0] = 250, v->sem[1] = 32000, v->sem[2] = 32, v->sem[3] = 128;
}

static int read_back(int dir, const char *name, ProtobufCMessage **m)
{
	return utsipc_read(dir, name, m);
}

static int test_var_round_trip(void)
{
	int dir = unit_fresh_dir("utsipc");
	struct utsipc_vars in, out;
	Est__IpcVarEntry e;
	ProtobufCMessage *m;

	sample(&in);
	utsipc_var_to_entry(&in, &e);
	CHECK(est_write_one(dir, UTSIPC_IPC_VAR_IMG, &e.base) == 0);
	CHECK(read_back(dir, UTSIPC_IPC_VAR_IMG, &m) == 1);
	utsipc_var_from_entry((Est__IpcVarEntry *)m, &out);
	protobuf_c_message_free_unpacked(m, NULL);
	CHECK(!memcmp(&in, &out, sizeof(in)));
	CHECK(read_back(dir, "ipcns-var-99.img", &m) == 0 && !m);	/* absent */
	return 0;
}

static int test_var_refused(void)
{
	struct utsipc_vars v;
	Est__IpcVarEntry e;

	sample(&v);
	utsipc_var_to_entry(&v, &e);
	CHECK(utsipc_var_check(&e, "x") == 0);
	e.n_sem_ctls = 3;
	CHECK(utsipc_var_check(&e, "x") == -1);
	e.n_sem_ctls = 4;
	v.sem[2] = 0x80000000u;
	CHECK(utsipc_var_check(&e, "x") == -1);
	v.sem[2] = 32;
	e.msg_ctlmni = 0x80000000u;
	CHECK(utsipc_var_check(&e, "x") == -1);
	e.msg_ctlmni = 32000;
	e.shm_next_id = 0xfffffffeu;		/* neither -1 nor an int */
	CHECK(utsipc_var_check(&e, "x") == -1);
	e.shm_next_id = 7;
	e.has_mq_msg_default = false;		/* before kernel 3.5: not restored */
	CHECK(utsipc_var_check(&e, "x") == -1);
	e.has_mq_msg_default = true;
	e.has_msg_next_id = false;		/* an older dump: none asked for */
	CHECK(utsipc_var_check(&e, "x") == 0);
	return 0;
}

static int test_uts(void)
{
	int dir = unit_fresh_dir("utsipc");
	Est__UtsnsEntry e = EST__UTSNS_ENTRY__INIT;
	char name[UTSIPC_NAME_MAX + 2];
	ProtobufCMessage *m;

	memset(name, 'h', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	e.nodename = name;
	e.domainname = "dom";
	CHECK(utsipc_uts_check(&e, "x") == -1);		/* 65 bytes */
	CHECK(est_write_one(dir, UTSIPC_UTS_IMG, &e.base) == 0);
	CHECK(read_back(dir, UTSIPC_UTS_IMG, &m) == -1 && !m);
	name[UTSIPC_NAME_MAX] = '\0';
	CHECK(est_write_one(dir, UTSIPC_UTS_IMG, &e.base) == 0);
	CHECK(read_back(dir, UTSIPC_UTS_IMG, &m) == 1);
	CHECK_STR(((Est__UtsnsEntry *)m)->nodename, name);
	CHECK_STR(((Est__UtsnsEntry *)m)->domainname, "dom");
	protobuf_c_message_free_unpacked(m, NULL);
	return 0;
}

/* A time namespace's clocks: read back as written; a clock no namespace can show refused. */
static int test_time(void)
{
	static const struct {
		uint64_t ms, mn, bs, bn;
		int want;
	} c[] = {
		{ 130627, 248955499, 45227, 999999999, 1 },
		{ 0, 0, 0, 0, 1 },
		{ UTSIPC_CLOCK_SEC_MAX, 0, 1, 0, 1 },
		{ UTSIPC_CLOCK_SEC_MAX + 1, 0, 1, 0, -1 },
		{ 1, 1000000000, 1, 0, -1 },
		{ 1, 0, 1, 1000000000, -1 },
		{ 1, 0, UINT64_MAX, 0, -1 },
	};
	int dir = unit_fresh_dir("utsipc");
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		Est__TimensEntry e = EST__TIMENS_ENTRY__INIT;
		Est__Timespec m = EST__TIMESPEC__INIT, b = EST__TIMESPEC__INIT;
		ProtobufCMessage *got;

		m.tv_sec = c[i].ms, m.tv_nsec = c[i].mn, b.tv_sec = c[i].bs, b.tv_nsec = c[i].bn;
		e.monotonic = &m;
		e.boottime = &b;
		CHECK(est_write_one(dir, UTSIPC_TIME_IMG, &e.base) == 0);
		CHECK(read_back(dir, UTSIPC_TIME_IMG, &got) == c[i].want);
		if (c[i].want < 0) {
			CHECK(!got);
			continue;
		}
		CHECK(((Est__TimensEntry *)got)->monotonic->tv_sec == c[i].ms);
		CHECK(((Est__TimensEntry *)got)->monotonic->tv_nsec == c[i].mn);
		CHECK(((Est__TimensEntry *)got)->boottime->tv_sec == c[i].bs);
		CHECK(((Est__TimensEntry *)got)->boottime->tv_nsec == c[i].bn);
		protobuf_c_message_free_unpacked(got, NULL);
	}
	return 0;
}

static int put(int dir, const char *name, const void *buf, size_t len)
{
	int fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int ret = fd >= 0 && write(fd, buf, len) == (ssize_t)len ? 0 : -1;

	if (fd >= 0)
		close(fd);
	return ret;
}

/* Framing: magic, size, entries; what the reader refuses. */
static int test_reader_refuses(void)
{
	int dir = unit_fresh_dir("utsipc");
	/* common magic, UTSNS magic, size 6, nodename "a" domainname "b" */
	uint8_t ok[] = { 0x19, 0x43, 0x56, 0x54, 0x03, 0x32, 0x47, 0x54, 6, 0, 0, 0,
			 0x0a, 1, 'a', 0x12, 1, 'b' };
	uint8_t two[sizeof(ok) + 10], unk[sizeof(ok) + 2];
	ProtobufCMessage *m;

	CHECK(put(dir, UTSIPC_UTS_IMG, ok, sizeof(ok)) == 0);
	CHECK(read_back(dir, UTSIPC_UTS_IMG, &m) == 1);
	protobuf_c_message_free_unpacked(m, NULL);
	CHECK(put(dir, UTSIPC_UTS_IMG, ok, sizeof(ok) - 1) == 0);	/* truncated */
	CHECK(read_back(dir, UTSIPC_UTS_IMG, &m) == -1 && !m);
	CHECK(put(dir, UTSIPC_UTS_IMG, ok, 8) == 0);			/* no entry */
	CHECK(read_back(dir, UTSIPC_UTS_IMG, &m) == -1 && !m);
	memcpy(two, ok, sizeof(ok));
	memcpy(two + sizeof(ok), ok + 8, 10);				/* a second entry */
	CHECK(put(dir, UTSIPC_UTS_IMG, two, sizeof(two)) == 0);
	CHECK(read_back(dir, UTSIPC_UTS_IMG, &m) == -1 && !m);
	memcpy(unk, ok, sizeof(ok));
	unk[8] = 8;
	unk[sizeof(ok)] = 0x18, unk[sizeof(ok) + 1] = 1;		/* field 3: unknown */
	CHECK(put(dir, UTSIPC_UTS_IMG, unk, sizeof(unk)) == 0);
	CHECK(read_back(dir, UTSIPC_UTS_IMG, &m) == -1 && !m);
	ok[4] = 0x04;							/* another kind's magic */
	CHECK(put(dir, UTSIPC_UTS_IMG, ok, sizeof(ok)) == 0);
	CHECK(read_back(dir, UTSIPC_UTS_IMG, &m) == -1 && !m);
	ok[4] = 0x03;
	CHECK(put(dir, UTSIPC_UTS_IMG, ok, sizeof(ok)) == 0);
	CHECK(symlinkat(UTSIPC_UTS_IMG, dir, "utsns-1.img") == 0);	/* to a good image */
	CHECK(read_back(dir, "utsns-1.img", &m) == -1 && !m);
	return 0;
}

/* An ipcns-sem image of the sets (id, key, nsems, mode) in @s, values 1, 2, ... */
static int put_sems(int dir, const uint32_t (*s)[4], size_t n, size_t cut)
{
	uint8_t buf[1024];
	size_t len = 8, i, k;

	memcpy(buf, (uint8_t[]){ 0x19, 0x43, 0x56, 0x54, 0x19, 0x30, 0x57, 0x59 }, 8);
	for (i = 0; i < n; i++) {
		Est__IpcDescEntry d = EST__IPC_DESC_ENTRY__INIT;
		Est__IpcSemEntry e = EST__IPC_SEM_ENTRY__INIT;
		size_t m;

		d.id = s[i][0], d.key = s[i][1], d.mode = s[i][3];
		e.desc = &d;
		e.nsems = s[i][2];
		m = protobuf_c_message_pack(&e.base, buf + len + 4);
		memcpy(buf + len, (uint8_t[]){ m, 0, 0, 0 }, 4);
		len += 4 + m;
		for (k = 0; k < (2 * e.nsems + 7) / 8 * 8 && len < sizeof(buf); k++)
			buf[len++] = k % 2 ? 0 : (uint8_t)(k / 2 + 1);
	}
	return put(dir, UTSIPC_IPC_SEM_IMG, buf, len - cut);
}

static int test_sems(void)
{
	static const uint32_t good[][4] = { { 6, 0x1234, 3, 0640 }, { 0, 0, 1, 0600 },
					    { 32768, 0, 2, 0600 } };
	static const uint32_t same_id[][4] = { { 6, 0, 1, 0600 }, { 6, 0, 1, 0600 } };
	static const uint32_t same_key[][4] = { { 6, 0x55, 1, 0600 }, { 7, 0x55, 1, 0600 } };
	static const uint32_t bad[][4] = { { 1, 0, 0, 0600 }, { 1, 0, 32001, 0600 },
					   { 1, 0, 1, 01600 }, { 0x80000000u, 0, 1, 0600 } };
	int dir = unit_fresh_dir("utsipc");
	struct utsipc_file f;
	size_t i;

	CHECK(put_sems(dir, good, 3, 0) == 0);
	CHECK(utsipc_load(dir, UTSIPC_IPC_SEM_IMG, &f) == 1);
	CHECK(f.nr == 3 && ((Est__IpcSemEntry *)f.m[0])->nsems == 3);
	CHECK(f.extra[0][0] == 1 && f.extra[0][2] == 2 && f.extra[0][4] == 3);	/* u16 LE */
	CHECK(f.extra[1][0] == 1 && f.extra[1][1] == 0);					/* the next set's */
	utsipc_file_release(&f);
	CHECK(put_sems(dir, good, 3, 1) == 0);		/* a value cut short */
	CHECK(utsipc_load(dir, UTSIPC_IPC_SEM_IMG, &f) == -1 && !f.nr);
	CHECK(put_sems(dir, same_id, 2, 0) == 0);
	CHECK(utsipc_load(dir, UTSIPC_IPC_SEM_IMG, &f) == -1);
	CHECK(put_sems(dir, same_key, 2, 0) == 0);
	CHECK(utsipc_load(dir, UTSIPC_IPC_SEM_IMG, &f) == -1);
	for (i = 0; i < 4; i++) {	/* no semaphores, too many, a flag in mode, an id < 0 */
		CHECK(put_sems(dir, &bad[i], 1, 0) == 0);
		CHECK(utsipc_load(dir, UTSIPC_IPC_SEM_IMG, &f) == -1);
	}
	return 0;
}

/* An ipcns-msg image of one queue (qbytes) holding messages of @types, sizes 3, 9, ... */
static int put_msq(int dir, uint32_t qbytes, const uint64_t *types, uint32_t n, uint32_t qnum)
{
	Est__IpcDescEntry d = EST__IPC_DESC_ENTRY__INIT;
	Est__IpcMsgEntry e = EST__IPC_MSG_ENTRY__INIT;
	uint8_t buf[1024];
	size_t len = 8, m;
	uint32_t i;

	memcpy(buf, (uint8_t[]){ 0x19, 0x43, 0x56, 0x54, 0x37, 0x37, 0x45, 0x55 }, 8);
	d.id = 5, d.mode = 0600;
	e.desc = &d;
	e.qbytes = qbytes;
	e.qnum = qnum;
	m = protobuf_c_message_pack(&e.base, buf + len + 4);
	buf[len] = (uint8_t)m, buf[len + 1] = buf[len + 2] = buf[len + 3] = 0;
	len += 4 + m;
	for (i = 0; i < n; i++) {
		Est__IpcMsg h = EST__IPC_MSG__INIT;

		h.mtype = types[i];
		h.msize = 3 + 6 * i;
		m = protobuf_c_message_pack(&h.base, buf + len + 4);
		buf[len] = (uint8_t)m, buf[len + 1] = buf[len + 2] = buf[len + 3] = 0;
		len += 4 + m;
		memset(buf + len, 'a' + (int)i, (h.msize + 7) / 8 * 8);
		len += (h.msize + 7) / 8 * 8;
	}
	return put(dir, UTSIPC_IPC_MSG_IMG, buf, len);
}

static int test_msqs(void)
{
	static const uint64_t ok[] = { 1, 2, 0x7fffffffffffffffull };
	static const uint64_t zero[] = { 1, 0 }, big[] = { 0x8000000000000000ull };
	int dir = unit_fresh_dir("utsipc");
	struct utsipc_file f;
	uint64_t mtype;
	uint32_t msize;

	CHECK(put_msq(dir, 100, ok, 3, 3) == 0);
	CHECK(utsipc_load(dir, UTSIPC_IPC_MSG_IMG, &f) == 1 && f.nr == 1);
	CHECK(est_msg_next(f.extra[0], f.buf + f.len - f.extra[0], &mtype, &msize) == 4 + 4 + 8);
	CHECK(mtype == 1 && msize == 3 && f.extra[0][8] == 'a');
	utsipc_file_release(&f);
	CHECK(put_msq(dir, 100, ok, 3, 4) == 0);	/* qnum says one more */
	CHECK(utsipc_load(dir, UTSIPC_IPC_MSG_IMG, &f) == -1);
	CHECK(put_msq(dir, 100, ok, 3, 2) == 0);	/* one message too many: data after */
	CHECK(utsipc_load(dir, UTSIPC_IPC_MSG_IMG, &f) == -1);
	CHECK(put_msq(dir, 20, ok, 3, 3) == 0);		/* 3 + 9 + 15 bytes over qbytes */
	CHECK(utsipc_load(dir, UTSIPC_IPC_MSG_IMG, &f) == -1);
	CHECK(put_msq(dir, 100, zero, 2, 2) == 0);	/* type 0 cannot be sent */
	CHECK(utsipc_load(dir, UTSIPC_IPC_MSG_IMG, &f) == -1);
	CHECK(put_msq(dir, 100, big, 1, 1) == 0);	/* over LONG_MAX */
	CHECK(utsipc_load(dir, UTSIPC_IPC_MSG_IMG, &f) == -1);
	return 0;
}

/* The established tool writes ipcns-sem/msg/shm even without objects: empty, accepted; a segment: refused. */
static int test_empty_and_shm(void)
{
	static const uint8_t sem0[] = { 0x19, 0x43, 0x56, 0x54, 0x19, 0x30, 0x57, 0x59 };
	static const uint8_t shm0[] = { 0x19, 0x43, 0x56, 0x54, 0x44, 0x30, 0x28, 0x46 };
	/* one segment: desc { all 0 but mode 0600 }, size 4, then its 4 bytes */
	static const uint8_t shm1[] = { 0x19, 0x43, 0x56, 0x54, 0x44, 0x30, 0x28, 0x46, 19, 0, 0, 0,
					0x0a, 15, 0x08, 0, 0x10, 0, 0x18, 0, 0x20, 0, 0x28, 0,
					0x30, 0x80, 0x03, 0x38, 0, 0x10, 4, 1, 2, 3, 4 };
	int dir = unit_fresh_dir("utsipc");
	struct utsipc_file f;
	ProtobufCMessage *m;

	CHECK(put(dir, UTSIPC_IPC_SEM_IMG, sem0, sizeof(sem0)) == 0);
	CHECK(utsipc_load(dir, UTSIPC_IPC_SEM_IMG, &f) == 1 && f.nr == 0);
	utsipc_file_release(&f);
	CHECK(put(dir, UTSIPC_IPC_SHM_IMG, shm0, sizeof(shm0)) == 0);
	CHECK(utsipc_load(dir, UTSIPC_IPC_SHM_IMG, &f) == 1 && f.nr == 0);
	utsipc_file_release(&f);
	CHECK(put(dir, UTSIPC_IPC_SHM_IMG, shm1, sizeof(shm1)) == 0);
	CHECK(utsipc_load(dir, UTSIPC_IPC_SHM_IMG, &f) == -1);
	CHECK(put(dir, UTSIPC_IPC_SHM_IMG, shm1, sizeof(shm1) - 1) == 0);	/* bytes cut */
	CHECK(utsipc_load(dir, UTSIPC_IPC_SHM_IMG, &f) == -1);
	CHECK(put(dir, UTSIPC_UTS_IMG, sem0, 4) == 0 && put(dir, "utsns-2.img", shm0, 0) == 0);
	CHECK(utsipc_read(dir, "utsns-2.img", &m) == -1);	/* uts needs its entry */
	return 0;
}

static const struct unit_case cases[] = {
	{ "ipc objects: empty files, shared memory refused", test_empty_and_shm },
	{ "message queues: messages, types, qbytes", test_msqs },
	{ "semaphore sets: values, ids, keys, sizes", test_sems },
	{ "ipc sysctls: image round trip", test_var_round_trip },
	{ "ipc sysctls: out of range, missing", test_var_refused },
	{ "uts: names up to 64 bytes", test_uts },
	{ "time: clocks a namespace can show", test_time },
	{ "reader: framing, entries, unknown fields, symlinks", test_reader_refuses },
};

int main(int argc, char **argv)
{
	(void)argc;
	log_init(NULL, NULL, LOG_NONE);
	return unit_run(argv[0], cases, sizeof(cases) / sizeof(cases[0]));
}
