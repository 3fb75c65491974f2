/*
 * libFuzzer target for the /proc parsers (pure functions over text).
 *
 * Input: one byte choosing the parser, then the file's text. Every parser
 * must return 0 or -1 without crashing, leaking or tripping a sanitizer;
 * fdinfo input is also run through every kind helper. The parsers of
 * NUL-terminated text (sysfs id lists, autogroup) get a terminated copy.
 */
#include <stdint.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proc_parse.h"
#include "sched-state.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init(NULL, NULL, LOG_NONE);
	return 0;
}

static void fdinfo_kinds(const char *t, size_t n)
{
	struct proc_fdinfo fi = { 0 };
	struct proc_eventfd efd;
	struct proc_epoll_tfd *tfds = NULL;
	struct proc_inotify_wd *wds = NULL;
	struct proc_fanotify fan = { 0 };
	struct proc_timerfd tfd;
	struct proc_locks locks;
	uint64_t mask;
	size_t nr;

	if (proc_parse_fdinfo(t, n, "fdinfo", &fi))
		return;
	proc_fdinfo_eventfd(&fi, &efd);
	if (proc_fdinfo_epoll(&fi, &tfds, &nr) == 0)
		free(tfds);
	proc_fdinfo_signalfd(&fi, &mask);
	proc_fdinfo_timerfd(&fi, &tfd);
	if (proc_fdinfo_inotify(&fi, &wds, &nr) == 0)
		free(wds);
	if (proc_fdinfo_fanotify(&fi, &fan) == 0)
		free(fan.marks);
	if (proc_fdinfo_locks(&fi, &locks) == 0)
		proc_locks_free(&locks);
	proc_fdinfo_free(&fi);
}

static void auxv(const char *t, size_t n)
{
	struct proc_auxv a;
	unsigned long v;

	if (!proc_parse_auxv(t, n, "auxv", &a))
		proc_auxv_get(&a, 33 /* AT_SYSINFO_EHDR */, &v);
}

/* sched_parse_list (@list) or sched_parse_autogroup over a terminated copy. */
static void sched_text(const char *t, size_t n, bool list)
{
	uint64_t mask[SCHED_MASK_WORDS];
	char *z = malloc(n + 1);
	long id;
	int nice;

	if (!z)
		return;
	memcpy(z, t, n);
	z[n] = 0;
	if (list)
		sched_parse_list(z, mask, SCHED_MASK_WORDS);
	else
		sched_parse_autogroup(z, &id, &nice);
	free(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *t = (const char *)data + 1;
	size_t n;

	if (size < 1)
		return 0;
	n = size - 1;
	switch (data[0] % 16) {
	case 0: { struct proc_vmas v = { 0 }; if (!proc_parse_maps(t, n, "maps", &v)) proc_vmas_free(&v); break; }
	case 1: { struct proc_vmas v = { 0 }; if (!proc_parse_smaps(t, n, "smaps", &v)) proc_vmas_free(&v); break; }
	case 2: { struct proc_status s = { 0 }; if (!proc_parse_status(t, n, "status", &s)) proc_status_free(&s); break; }
	case 3: { struct proc_stat s; proc_parse_stat(t, n, "stat", &s); break; }
	case 4: fdinfo_kinds(t, n); break;
	case 5: { struct proc_limits l; proc_parse_limits(t, n, "limits", &l); break; }
	case 6: { struct proc_mounts m = { 0 }; if (!proc_parse_mountinfo(t, n, "mountinfo", &m)) proc_mounts_free(&m); break; }
	case 7: { struct proc_pids p = { 0 }; if (!proc_parse_children(t, n, "children", &p)) proc_pids_free(&p); break; }
	case 8: auxv(t, n); break;
	case 9: { struct proc_timers m = { 0 }; if (!proc_parse_timers(t, n, "timers", &m)) proc_timers_free(&m); break; }
	case 10: { struct proc_cgroups c = { 0 }; if (!proc_parse_cgroup(t, n, "cgroup", &c)) proc_cgroups_free(&c); break; }
	case 11: { struct proc_locks l; if (!proc_parse_locks(t, n, "locks", &l)) proc_locks_free(&l); break; }
	case 12: { uint32_t id; proc_parse_audit_id(t, n, "loginuid", &id); break; }
	case 13: { struct proc_timens tn; proc_parse_timens_offsets(t, n, "timens_offsets", &tn); break; }
	case 14: sched_text(t, n, true); break;
	case 15: sched_text(t, n, false); break;
	}
	return 0;
}
