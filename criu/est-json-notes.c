/*
 * How crit prints fields of the established format in its pretty JSON
 * (include/est-image.h, est_json_note). Taken from the field options of the
 * 4.2 schemas; Documentation/image-format-plan.md §6 gives the flag maps and
 * dicts behind the names.
 */
#include <string.h>

#include "est-image.h"

#include "est/core.pb-c.h"
#include "est/fdinfo.pb-c.h"
#include "est/fh.pb-c.h"
#include "est/ghost-file.pb-c.h"
#include "est/mm.pb-c.h"
#include "est/mnt.pb-c.h"
#include "est/netdev.pb-c.h"
#include "est/pagemap.pb-c.h"
#include "est/tcp-stream.pb-c.h"

#define N(msg, field, kind, arg) { &est__##msg##__descriptor, #field, EST_JSON_##kind, arg }

static const struct est_json_note notes[] = {
	N(task_core_entry, task_state, DICT, "gen"),
	N(task_core_entry, blk_sigset, HEX, NULL),
	N(task_core_entry, blk_sigset_extended, HEX, NULL),
	N(task_core_entry, membarrier_registration_mask, HEX, NULL),
	N(thread_info_x86, clear_tid_addr, HEX, NULL),
	N(thread_info_x86, gpregs, HEX, NULL),
	N(user_x86_cet_entry, cet, HEX, NULL),
	N(user_x86_cet_entry, ssp, HEX, NULL),
	N(sa_entry, sigaction, HEX, NULL),
	N(sa_entry, flags, HEX, NULL),
	N(sa_entry, restorer, HEX, NULL),
	N(sa_entry, mask, HEX, NULL),
	N(sa_entry, mask_extended, HEX, NULL),
	N(pagemap_entry, vaddr, HEX, NULL),
	N(pagemap_entry, flags, FLAGS, "pmap.flags"),
	N(mm_entry, mm_start_code, HEX, NULL),
	N(mm_entry, mm_end_code, HEX, NULL),
	N(mm_entry, mm_start_data, HEX, NULL),
	N(mm_entry, mm_end_data, HEX, NULL),
	N(mm_entry, mm_start_stack, HEX, NULL),
	N(mm_entry, mm_start_brk, HEX, NULL),
	N(mm_entry, mm_brk, HEX, NULL),
	N(mm_entry, mm_arg_start, HEX, NULL),
	N(mm_entry, mm_arg_end, HEX, NULL),
	N(mm_entry, mm_env_start, HEX, NULL),
	N(mm_entry, mm_env_end, HEX, NULL),
	N(vma_entry, start, HEX, NULL),
	N(vma_entry, end, HEX, NULL),
	N(vma_entry, prot, FLAGS, "mmap.prot"),
	N(vma_entry, flags, FLAGS, "mmap.flags"),
	N(vma_entry, status, FLAGS, "mmap.status"),
	N(vma_entry, madv, HEX, NULL),
	N(vma_entry, fdflags, HEX, NULL),
	N(reg_file_entry, flags, FLAGS, "rfile.flags"),
	N(pipe_entry, flags, HEX, NULL),
	N(signalfd_entry, flags, HEX, NULL),
	N(signalfd_entry, sigmask, HEX, NULL),
	N(timerfd_entry, flags, HEX, NULL),
	N(timerfd_entry, settime_flags, HEX, NULL),
	N(inotify_wd_entry, mask, HEX, NULL),
	N(inotify_wd_entry, ignored_mask, HEX, NULL),
	N(inotify_wd_entry, s_dev, DEV, NULL),
	N(inotify_file_entry, flags, HEX, NULL),
	N(fanotify_mark_entry, mflags, HEX, NULL),
	N(fanotify_mark_entry, mask, HEX, NULL),
	N(fanotify_mark_entry, ignored_mask, HEX, NULL),
	N(fanotify_mark_entry, s_dev, DEV, NULL),
	N(fanotify_file_entry, flags, HEX, NULL),
	N(fanotify_file_entry, faflags, HEX, NULL),
	N(fanotify_file_entry, evflags, HEX, NULL),
	N(irmap_cache_entry, dev, ODEV, NULL),
	N(memfd_file_entry, flags, FLAGS, "rfile.flags"),
	N(memfd_inode_entry, seals, FLAGS, "seals.flags"),
	N(ghost_file_entry, dev, DEV, NULL),
	N(ghost_file_entry, rdev, ODEV, NULL),
	N(tty_file_entry, flags, HEX, NULL),
	N(unix_sk_entry, type, DICT, "sk"),
	N(unix_sk_entry, state, DICT, "sk"),
	N(unix_sk_entry, flags, HEX, NULL),
	N(unix_sk_entry, uflags, HEX, NULL),
	N(unix_sk_entry, name, CONV, "unix_name"),
	N(inet_sk_entry, family, DICT, "sk"),
	N(inet_sk_entry, type, DICT, "sk"),
	N(inet_sk_entry, proto, DICT, "sk"),
	N(inet_sk_entry, state, DICT, "sk"),
	N(inet_sk_entry, flags, HEX, NULL),
	N(inet_sk_entry, src_addr, IPADD, NULL),
	N(inet_sk_entry, dst_addr, IPADD, NULL),
	N(tcp_stream_entry, opt_mask, HEX, NULL),
	N(net_device_entry, flags, HEX, NULL),
	N(mnt_entry, root_dev, DEV, NULL),
	N(mnt_entry, flags, HEX, NULL),
	N(mnt_entry, sb_flags, HEX, NULL),
	N(netlink_sk_entry, flags, HEX, NULL),
	N(packet_sock_entry, flags, HEX, NULL),
};

const struct est_json_note *est_json_notes(unsigned int *n)
{
	*n = sizeof(notes) / sizeof(notes[0]);
	return notes;
}

const struct est_json_note *est_json_note(const ProtobufCMessageDescriptor *msg,
					  const char *field)
{
	unsigned int i;

	for (i = 0; i < sizeof(notes) / sizeof(notes[0]); i++)
		if (notes[i].msg == msg && !strcmp(notes[i].field, field))
			return &notes[i];
	return NULL;
}
