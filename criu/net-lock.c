/*
 * The network lock (criu/include/net-lock.h): which connections, in which
 * table, and that the table goes away on every way out of criu. The
 * messages themselves are built in criu/net-lock-nft.c.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#define LOG_PREFIX "net-lock: "
#include "log.h"
#include "net-lock.h"
#include "proc_parse.h"
#include "net-lock-nft.h"
#include "sockets.h"

/* NF_IP_PRI_RAW: before connection tracking, which never sees a locked packet */
#define LOCK_PRIO	(-300)
#define CHAIN_IN	"in"
#define CHAIN_OUT	"out"

static const int lock_signals[] = { SIGTERM, SIGINT, SIGHUP };

/*
 * This process's lock: kept whole so that it can be replaced or handed
 * over. The table is NFT_TABLE_F_OWNER of @fd: the kernel deletes it when
 * that socket closes, so even a SIGKILLed criu leaves no rule behind, and
 * only @fd may change it.
 */
static struct {
	char			table[NET_LOCK_NAME_MAX];	/* "": none */
	int			fd;		/* the owner socket, while table[0] */
	pid_t			owner;
	struct net_lock_conn	*conns;
	size_t			nr;
	uint64_t		*ino;		/* net_lock_tree_conns(): the sockets */
	size_t			nr_ino;
	/* the DELTABLE batch, built beforehand for the signal handler */
	char			del[512];
	size_t			del_len;
	struct sigaction	old[3];
	bool			handlers, atexit_set;
	bool			unowned;	/* the kernel has no NFT_TABLE_F_OWNER */
} lk;

void net_lock_set_unowned(bool on)
{
	lk.unowned = on;
}

int net_lock_method(const char *name, enum net_lock_method *m)
{
	if (!name || !strcmp(name, "nftables") || !strcmp(name, "iptables")) {
		*m = NET_LOCK_NFT;
		return 0;
	}
	if (!strcmp(name, "skip") || !strcmp(name, "none")) {
		*m = NET_LOCK_SKIP;
		return 0;
	}
	pr_err("unknown --network-lock %s", name);
	return -1;
}

const char *net_lock_table(void)
{
	return lk.table;
}

/* ---- names ---------------------------------------------------------------------- */

/* The task's start time (clock ticks since boot); 0 if it is gone. */
static unsigned long long start_time(pid_t pid)
{
	struct proc_stat st;

	return proc_read_stat_or_gone(pid, &st) ? 0 : st.start_time;
}

/* criu-lock-PID-START of a running criu: 1; of a dead one: 0; not such a name: -1. */
static int lock_name_alive(const char *name)
{
	unsigned long long start;
	int pid, end = 0;

	if (strncmp(name, NET_LOCK_PREFIX, strlen(NET_LOCK_PREFIX)) ||
	    !isdigit((unsigned char)name[strlen(NET_LOCK_PREFIX)]))
		return -1;
	if (sscanf(name + strlen(NET_LOCK_PREFIX), "%d-%llu%n", &pid, &start, &end) != 2 ||
	    name[strlen(NET_LOCK_PREFIX) + end] != '\0' || pid <= 0)
		return -1;
	return start_time(pid) == start;
}

/* ---- removal on the way out --------------------------------------------------------- */

/*
 * Only syscalls: called from a signal handler too. Closing the owner
 * socket would be enough; the explicit delete does not depend on it.
 */
static void drop_own_table(void)
{
	if (!lk.table[0] || lk.owner != getpid())
		return;
	/* the kernel commits the batch before send() returns */
	if (send(lk.fd, lk.del, lk.del_len, 0) < 0)
		(void)0;
	close(lk.fd);
	lk.table[0] = '\0';
}

static void on_signal(int sig)
{
	unsigned int i;

	drop_own_table();
	for (i = 0; i < sizeof(lock_signals) / sizeof(lock_signals[0]); i++)
		if (lock_signals[i] == sig)
			sigaction(sig, &lk.old[i], NULL);
	raise(sig);
}

static void at_exit(void)
{
	drop_own_table();
}

static void handlers_set(bool on)
{
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned int i;

	if (on == lk.handlers)
		return;
	sigfillset(&sa.sa_mask);
	for (i = 0; i < sizeof(lock_signals) / sizeof(lock_signals[0]); i++) {
		/* an ignored one (nohup) stays ignored: it must not drop the lock */
		if (on)
			sigaction(lock_signals[i], NULL, &lk.old[i]);
		if (lk.old[i].sa_handler != SIG_IGN)
			sigaction(lock_signals[i], on ? &sa : &lk.old[i], NULL);
	}
	lk.handlers = on;
	if (on && !lk.atexit_set && !atexit(at_exit))
		lk.atexit_set = true;
}

static int build_del(const char *table)
{
	struct nlb b = { 0 };
	int ret = -1;

	nft_batch_begin(&b);
	nft_table(&b, NFT_MSG_DELTABLE, table, 0);
	nft_batch_end(&b);
	if (!b.oom && b.len <= sizeof(lk.del)) {
		memcpy(lk.del, b.p, b.len);
		lk.del_len = b.len;
		ret = 0;
	}
	nlb_free(&b);
	return ret;
}

/* ---- rules ---------------------------------------------------------------------------- */

static bool v4_mapped(const uint8_t *a)
{
	static const uint8_t pre[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(a, pre, sizeof(pre));
}

/* The keys of both directions of @c at @v4/@v6 (counts in @n4/@n6). */
static void conn_keys(const struct net_lock_conn *c, uint8_t *v4, size_t *n4,
		      uint8_t *v6, size_t *n6)
{
	bool six = c->family == AF_INET6 && !(v4_mapped(c->src) && v4_mapped(c->dst));
	unsigned int skip = c->family == AF_INET6 && !six ? 12 : 0;
	uint8_t *k = six ? v6 + *n6 * NFT_KEY_V6 : v4 + *n4 * NFT_KEY_V4;
	size_t len;

	len = nft_conn_key(k, six, c->src + skip, c->dst + skip, c->sport, c->dport);
	nft_conn_key(k + len, six, c->dst + skip, c->src + skip, c->dport, c->sport);
	*(six ? n6 : n4) += 2;
}

/*
 * The table with its two sets and two chains (kept if present), emptied,
 * then one rule per family in each chain and @c's keys. Out of memory is
 * kept in @b, for nft_commit() to report.
 */
static void table_rules(struct nlb *b, const char *table, uint32_t flags,
		       const struct net_lock_conn *c, size_t nr)
{
	static const char *const chains[] = { CHAIN_IN, CHAIN_OUT };
	uint8_t *v4 = malloc(2 * nr * NFT_KEY_V4 + 1), *v6 = malloc(2 * nr * NFT_KEY_V6 + 1);
	size_t n4 = 0, n6 = 0, i;
	int f;

	if (!v4 || !v6) {
		b->oom = true;
		goto out;
	}
	for (i = 0; i < nr; i++)
		conn_keys(&c[i], v4, &n4, v6, &n6);
	nft_table(b, NFT_MSG_NEWTABLE, table, flags);
	nft_chain(b, table, CHAIN_IN, NF_INET_LOCAL_IN, LOCK_PRIO);
	nft_chain(b, table, CHAIN_OUT, NF_INET_LOCAL_OUT, LOCK_PRIO);
	for (f = 0; f < 2; f++) {
		nft_set(b, table, f);
		nft_flush_set(b, table, f);
	}
	for (i = 0; i < 2; i++) {
		nft_flush_chain(b, table, chains[i]);
		for (f = 0; f < 2; f++)
			nft_lookup_rule(b, table, chains[i], f);
	}
	nft_add_keys(b, table, false, v4, n4);
	nft_add_keys(b, table, true, v6, n6);
out:
	free(v4);
	free(v6);
}

static int check_conns(const struct net_lock_conn *c, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		if (c[i].family != AF_INET && c[i].family != AF_INET6) {
			pr_err("connection %zu: family %d is neither IPv4 nor IPv6", i, c[i].family);
			return -1;
		}
	}
	return 0;
}

/* ---- the API ---------------------------------------------------------------------------- */

/* A copy of @c, or NULL (logged) when @nr is not 0 and memory is short. */
static struct net_lock_conn *conns_dup(const struct net_lock_conn *c, size_t nr, bool *oom)
{
	struct net_lock_conn *copy;

	*oom = false;
	if (!nr)
		return NULL;
	copy = malloc(nr * sizeof(*c));
	if (!copy) {
		pr_err("out of memory");
		*oom = true;
		return NULL;
	}
	return memcpy(copy, c, nr * sizeof(*c));
}

/* The owner socket and the prebuilt delete of a first lock; -1 logged. */
static int lock_start(void)
{
	snprintf(lk.table, sizeof(lk.table), NET_LOCK_PREFIX "%d-%llu", (int)getpid(),
		 start_time(getpid()));
	if (build_del(lk.table)) {
		pr_err("the removal message of %s does not fit", lk.table);
		goto fail;
	}
	lk.fd = nft_socket();
	if (lk.fd < 0) {
		pr_perror("NETLINK_NETFILTER socket");
		goto fail;
	}
	lk.owner = getpid();
	handlers_set(true);
	return 0;
fail:
	lk.table[0] = '\0';
	return -1;
}

static void lock_forget(void)
{
	if (lk.table[0])
		close(lk.fd);
	lk.table[0] = '\0';
	handlers_set(false);
	free(lk.conns);
	lk.conns = NULL;
	lk.nr = 0;
	free(lk.ino);
	lk.ino = NULL;
	lk.nr_ino = 0;
}

/* The table of this process with @c's rules: 0, or -1 with errno (not logged). */
static int lock_commit(const struct net_lock_conn *c, size_t nr)
{
	struct nlb b = { 0 };
	int ret, err;

	nft_batch_begin(&b);
	table_rules(&b, lk.table, lk.unowned ? 0 : NFT_TABLE_F_OWNER, c, nr);
	nft_batch_end(&b);
	ret = nft_commit_on(lk.fd, &b);
	err = errno;
	nlb_free(&b);
	errno = err;
	return ret;
}

int net_lock_conns(const struct net_lock_conn *c, size_t nr)
{
	struct net_lock_conn *copy;
	bool first = !lk.table[0], oom;
	int ret;

	if (check_conns(c, nr))
		return -1;
	copy = conns_dup(c, nr, &oom);
	if (oom)
		return -1;
	if (first) {
		net_lock_cleanup_stale();	/* what an older criu left: logged, not fatal */
		if (lock_start()) {
			free(copy);
			return -1;
		}
	}
	ret = lock_commit(c, nr);
	if (ret && first && errno == EOPNOTSUPP && !lk.unowned) {
		pr_warn("nftables tables have no owner here (before Linux 5.12): a killed "
			"criu leaves its table to the next run");
		lk.unowned = true;
		ret = lock_commit(c, nr);
	}
	if (ret) {
		pr_perror("locking %zu connections in nftables table inet %s", nr, lk.table);
		free(copy);
		if (first)
			lock_forget();	/* nothing was created: the batch is all or nothing */
		return -1;
	}
	free(lk.conns);
	lk.conns = copy;
	lk.nr = nr;
	pr_info("%zu connections locked in table inet %s", nr, lk.table);
	return 0;
}

/* Delete table inet @name (through @fd if >= 0); absent is not an error. */
static int drop_table(int fd, const char *name)
{
	struct nlb b = { 0 };
	int ret = 0;

	nft_batch_begin(&b);
	nft_table(&b, NFT_MSG_DELTABLE, name, 0);
	nft_batch_end(&b);
	if (!(fd >= 0 ? nft_commit_on(fd, &b) : nft_commit(&b))) {
		pr_info("table inet %s removed", name);
	} else if (errno == ENOENT) {
		pr_info("no table inet %s: nothing to remove", name);
	} else {
		pr_perror("removing nftables table inet %s", name);
		ret = -1;
	}
	nlb_free(&b);
	return ret;
}

int net_unlock(void)
{
	int ret;

	if (!lk.table[0])
		return 0;
	ret = drop_table(lk.fd, lk.table);
	lock_forget();		/* closes the owner socket: the table is gone anyway */
	return ret;
}

int net_lock_keep(pid_t root)
{
	struct nlb b = { 0 };
	char kept[NET_LOCK_NAME_MAX];
	int ret = 0;

	if (!lk.table[0]) {
		pr_err("no lock to hand over to the restore of %d", (int)root);
		return -1;
	}
	snprintf(kept, sizeof(kept), NET_LOCK_KEPT_PREFIX "%d", (int)root);
	nft_batch_begin(&b);
	table_rules(&b, kept, 0, lk.conns, lk.nr);	/* no owner: it outlives criu */
	nft_table(&b, NFT_MSG_DELTABLE, lk.table, 0);
	nft_batch_end(&b);
	if (nft_commit_on(lk.fd, &b)) {
		pr_perror("handing table inet %s over to inet %s", lk.table, kept);
		ret = -1;
	} else {
		pr_info("%zu connections stay locked in table inet %s", lk.nr, kept);
		lock_forget();
	}
	nlb_free(&b);
	return ret;
}

int net_unlock_kept(pid_t root)
{
	char kept[NET_LOCK_NAME_MAX];

	snprintf(kept, sizeof(kept), NET_LOCK_KEPT_PREFIX "%d", (int)root);
	return drop_table(-1, kept);
}

/* ---- stale tables ------------------------------------------------------------------------ */

struct names {
	char	(*v)[NFT_TABLE_MAXNAMELEN];
	size_t	nr, cap;
	const char *want;	/* net_lock_table_exists() */
	bool	found;
};

/* Owned tables go with their socket: only an unowned one of a dead criu is stale. */
static int collect_stale(const char *name, uint32_t flags, void *arg)
{
	struct names *n = arg;

	if ((flags & NFT_TABLE_F_OWNER) || lock_name_alive(name) != 0)
		return 0;
	if (n->nr == n->cap) {
		size_t cap = n->cap ? 2 * n->cap : 8;
		void *v = realloc(n->v, cap * sizeof(*n->v));

		if (!v)
			return -1;
		n->v = v;
		n->cap = cap;
	}
	snprintf(n->v[n->nr++], sizeof(n->v[0]), "%s", name);
	return 0;
}

int net_lock_cleanup_stale(void)
{
	struct names n = { 0 };
	struct nlb b = { 0 };
	int ret = -1;
	size_t i;

	if (nft_list_tables(collect_stale, &n)) {
		pr_perror("listing nftables tables");
		goto out;
	}
	ret = (int)n.nr;
	if (!n.nr)
		goto out;
	nft_batch_begin(&b);
	for (i = 0; i < n.nr; i++)
		nft_table(&b, NFT_MSG_DELTABLE, n.v[i], 0);
	nft_batch_end(&b);
	if (nft_commit(&b)) {
		pr_perror("removing %zu stale lock tables (the first: inet %s)", n.nr, n.v[0]);
		ret = -1;
		goto out;
	}
	for (i = 0; i < n.nr; i++)
		pr_info("removed stale table inet %s of a criu that died", n.v[i]);
out:
	free(n.v);
	nlb_free(&b);
	return ret;
}

static int match_name(const char *name, uint32_t flags, void *arg)
{
	struct names *n = arg;

	(void)flags;
	if (!strcmp(name, n->want))
		n->found = true;
	return 0;
}

int net_lock_table_exists(const char *name)
{
	struct names n = { .want = name };

	if (nft_list_tables(match_name, &n)) {
		pr_perror("listing nftables tables");
		return -1;
	}
	return n.found;
}

/* ---- the probe -------------------------------------------------------------------------- */

int net_lock_probe(char *why, size_t len)
{
	struct net_lock_conn c = { .family = AF_INET6, .sport = 1, .dport = 2 };
	struct nlb b = { 0 };
	char table[NET_LOCK_NAME_MAX];
	int ret = 0;

	c.src[15] = c.dst[15] = 1;
	/* not a criu-lock- name: a killed probe leaves nothing, the batch deletes it */
	snprintf(table, sizeof(table), "criu-probe-%d", (int)getpid());
	nft_batch_begin(&b);
	table_rules(&b, table, 0, &c, 1);
	nft_table(&b, NFT_MSG_DELTABLE, table, 0);
	nft_batch_end(&b);
	if (nft_commit(&b)) {
		snprintf(why, len, "an nftables table with a drop rule over NETLINK_NETFILTER: %s",
			 strerror(errno));
		ret = -1;
	}
	nlb_free(&b);
	return ret;
}

/* ---- the tree's connections -------------------------------------------------------------- */

struct conns {
	struct net_lock_conn	*v;
	uint64_t		*ino;
	size_t			nr, cap;
};

static int conns_add(struct conns *cs, uint64_t ino, const struct sk_inet_diag *s)
{
	struct net_lock_conn *c;
	size_t i;

	for (i = 0; i < cs->nr; i++)
		if (cs->ino[i] == ino)
			return 0;	/* one socket open in two tasks */
	if (cs->nr == cs->cap) {
		size_t cap = cs->cap ? 2 * cs->cap : 16;
		void *v = realloc(cs->v, cap * sizeof(*cs->v)), *n;

		if (v)
			cs->v = v;
		n = v ? realloc(cs->ino, cap * sizeof(*cs->ino)) : NULL;
		if (!n) {
			pr_err("out of memory");
			return -1;
		}
		cs->ino = n;
		cs->cap = cap;
	}
	c = &cs->v[cs->nr];
	memset(c, 0, sizeof(*c));
	c->family = s->family;
	memcpy(c->src, s->src, sizeof(c->src));
	memcpy(c->dst, s->dst, sizeof(c->dst));
	c->sport = s->sport;
	c->dport = s->dport;
	cs->ino[cs->nr++] = ino;
	return 0;
}

/* A TCP socket of either family with a peer: LISTEN and CLOSE have none. */
static int one_fd(struct sk_diag *t, struct conns *cs, uint64_t ino)
{
	static const int families[] = { AF_INET, AF_INET6 };
	const struct sk_inet_diag *s;
	unsigned int i;
	int err;

	for (i = 0; i < 2; i++) {
		s = sk_diag_inet(t, families[i], IPPROTO_TCP, ino, &err);
		if (err)
			return -1;
		if (s)
			return s->state == TCP_LISTEN || s->state == TCP_CLOSE ? 0 :
			       conns_add(cs, ino, s);
	}
	return 0;
}

static int task_conns(pid_t pid, struct sk_diag *t, struct conns *cs)
{
	char path[32], link[64];
	unsigned long long ino;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d) {
		pr_perror("open %s", path);
		return -1;
	}
	while (!ret && (de = readdir(d))) {
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;	/* closed meanwhile */
		link[n] = '\0';
		if (sscanf(link, "socket:[%llu]", &ino) == 1)
			ret = one_fd(t, cs, ino);
	}
	closedir(d);
	return ret;
}

/* An address as IPv6 (IPv4 as ::ffff:a.b.c.d), to compare ends of either family. */
static void addr16(int family, const uint8_t *a, uint8_t out[16])
{
	if (family != AF_INET) {
		memcpy(out, a, 16);
		return;
	}
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, a, 4);
}

/*
 * Whether the other end of @c is a socket of the tree (in @cs) or one no
 * task holds (waiting in a listener's queue): then no peer outside the
 * tree is to be kept quiet, and the ends must talk as soon as the restore
 * makes them.
 */
static bool peer_inside(const struct sk_diag *t, const struct conns *cs,
			const struct net_lock_conn *c)
{
	uint8_t cs6[16], cd6[16], ss6[16], sd6[16];
	size_t i, j;

	addr16(c->family, c->src, cs6);
	addr16(c->family, c->dst, cd6);
	for (i = 0; i < t->nr_in; i++) {
		const struct sk_inet_diag *s = &t->in[i];

		if (s->proto != IPPROTO_TCP || s->sport != c->dport || s->dport != c->sport)
			continue;
		addr16(s->family, s->src, ss6);
		addr16(s->family, s->dst, sd6);
		if (memcmp(ss6, cd6, 16) || memcmp(sd6, cs6, 16))
			continue;
		for (j = 0; s->ino && j < cs->nr; j++)
			if (cs->ino[j] == s->ino)
				break;
		return !s->ino || j < cs->nr;
	}
	return false;
}

/* Keep in @cs only the connections with a peer outside the tree. */
static int drop_inner(struct sk_diag *t, struct conns *cs)
{
	static const int families[] = { AF_INET, AF_INET6 };
	bool *inner = calloc(cs->nr + 1, sizeof(*inner));
	size_t i, n = 0;
	int err;

	if (!inner) {
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < 2; i++) {	/* both families listed, whatever the tree's */
		sk_diag_inet(t, families[i], IPPROTO_TCP, 0, &err);
		if (err) {
			free(inner);
			return -1;
		}
	}
	for (i = 0; i < cs->nr; i++)
		inner[i] = peer_inside(t, cs, &cs->v[i]);
	for (i = 0; i < cs->nr; i++)
		if (!inner[i]) {
			cs->v[n] = cs->v[i];
			cs->ino[n++] = cs->ino[i];
		}
	cs->nr = n;
	free(inner);
	return 0;
}

bool net_lock_holds(uint64_t ino)
{
	size_t i;

	for (i = 0; lk.table[0] && i < lk.nr_ino; i++)
		if (lk.ino[i] == ino)
			return true;
	return false;
}

int net_lock_tree_conns(const pid_t *pids, size_t nr, size_t *nr_locked)
{
	struct sk_diag t = { 0 };
	struct conns cs = { 0 };
	int ret = -1;
	size_t i;

	for (i = 0; i < nr; i++)
		if (task_conns(pids[i], &t, &cs))
			goto out;
	if (drop_inner(&t, &cs))
		goto out;
	ret = net_lock_conns(cs.v, cs.nr);
	if (!ret && nr_locked)
		*nr_locked = cs.nr;
	if (!ret) {
		free(lk.ino);
		lk.ino = cs.ino;
		lk.nr_ino = cs.nr;
		cs.ino = NULL;
	}
out:
	sk_diag_free(&t);
	free(cs.v);
	free(cs.ino);
	return ret;
}
