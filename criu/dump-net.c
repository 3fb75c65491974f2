/*
 * The network lock and the guardian in a --tcp-established dump:
 * criu/include/dump-net.h, Documentation/net-lock.md.
 */
#include <stdlib.h>

#define LOG_PREFIX "dump: "
#include "log.h"
#include "action.h"
#include "dump.h"
#include "dump-net.h"
#include "net-lock.h"
#include "tcp-guard.h"

static bool locked;	/* this dump holds a lock on the tree's connections */
static bool staged;	/* the network-lock stage ran: network-unlock is owed */

static pid_t root_of(const struct dump_tree *tr)
{
	return tr->nr ? tr->t[0]->pid : tr->o->tree_pid;
}

bool dump_net_skipped(const struct cr_options *o)
{
	enum net_lock_method m;

	return !net_lock_method(o->network_lock, &m) && m == NET_LOCK_SKIP;
}

static int lock_tree(const struct dump_tree *tr, size_t *n)
{
	pid_t *pids = calloc(tr->nr + 1, sizeof(*pids));
	size_t i, nr = 0;
	int ret;

	if (!pids) {
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < tr->nr; i++)
		if (!tr->t[i]->zombie)
			pids[nr++] = tr->t[i]->pid;
	ret = net_lock_tree_conns(pids, nr, n);
	free(pids);
	if (ret) {
		pr_err("cannot lock the tree's TCP connections (--network-lock skip goes without)");
		return -1;
	}
	return 0;
}

int dump_net_lock(struct dump_tree *tr)
{
	const struct cr_options *o = tr->o;
	enum net_lock_method m;
	size_t n = 0;

	if (!o->tcp_established)
		return 0;
	if (net_lock_method(o->network_lock, &m))
		return -1;
	if (m == NET_LOCK_NFT) {
		if (lock_tree(tr, &n))
			return -1;
		locked = n > 0;
		if (!locked && net_unlock())	/* nothing to hold */
			return -1;
		pr_info("%zu TCP connections locked", n);
	}
	/* the guardian shares the lock's owner socket: fork it after the lock */
	if (tcp_guard_start(root_of(tr)))
		return -1;
	if (m == NET_LOCK_SKIP || locked) {
		staged = true;
		return run_action(o, ACT_NET_LOCK, root_of(tr));
	}
	return 0;
}

int dump_net_committed(const struct dump_tree *tr)
{
	if (tr->o->leave_running || tr->o->leave_stopped)
		return 0;
	return tcp_guard_committed();
}

int dump_net_keep(const struct dump_tree *tr)
{
	if (locked && net_lock_keep(root_of(tr)))
		return -1;
	locked = staged = false;
	tcp_guard_end();
	return 0;
}

int dump_net_unlock(const struct dump_tree *tr)
{
	int ret = 0;

	if (locked && net_unlock())
		ret = -1;
	locked = false;
	tcp_guard_end();
	if (staged && run_action(tr->o, ACT_NET_UNLOCK, root_of(tr)))
		ret = -1;
	staged = false;
	return ret;
}
