#!/usr/bin/python3
"""End-to-end checkpoint/restore cases.

Each case starts a program that sets up some state and reports ready, dumps
it with the real criu, restores it, sends SIGTERM, and lets the program check
its own state: it writes PASS or FAIL <why> into a result file and exits.
One line per case in CASES below. Prints PASS/FAIL/SKIP lines (test/run.py
counts them). While dump/restore are refused as "not supported yet" every
case is skipped.
"""
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import e2e_page_server
import e2e_zpages
import e2e_ssh
import predump_flow

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CRIU = os.path.join(ROOT, "criu", "criu")
E2E = os.path.join(ROOT, "test", "e2e")
PR_SET_CHILD_SUBREAPER = 36
WALL = 0x40000000


def prog(name):
    return [os.path.join(E2E, name)]


SYS_POLL, SYS_FUTEX, SYS_CLOCK_NANOSLEEP = 7, 202, 230

# name, command, flow, extra dump options, extra restore options
# State the established image format cannot express: kept in xt-* images
EXT = ["--image-ext"]
TCP = ["--tcp-established"]

# What a tampered copy of the images must be refused with (images.md, "The
# manifest"): action, file (a glob), the text the refusal names it with
# (None: restored, as a dump without a manifest).
TAMPER_GHOST = [
    ("flip", "ghost-file-*.img", "is changed: its checksum"),
    ("delete", "ghost-file-*.img", "is missing: criu-manifest lists it"),
]
TAMPER = [
    ("delete", "pipes-data.img", "pipes-data.img is missing"),
    ("flip", "pipes-data.img", "pipes-data.img is changed"),
    ("flip", "pages-*.img", "is changed: its checksum"),
    ("truncate", "pages-*.img", "truncated or changed"),
    ("extra", "tty-info.img", "tty-info.img is not in criu-manifest"),
    ("flip", "criu-manifest", "criu-manifest: its own count or checksum"),
    ("delete", "criu-manifest", None),
]
# A page file over one 8 MiB part: its checksum is taken while the tree is
# made, and a change kills the tree before it is released.
TAMPER_PAGES = [
    ("flip", "pages-*.img", "is changed: its checksum"),
    ("truncate", "pages-*.img", "truncated or changed"),
]


CG_V1 = "/sys/fs/cgroup/"
CG_V2 = "/sys/fs/cgroup/unified"

CASES = [
    ("counter", prog("counter"), "once", [], []),
    # cgroups: v1 and v2 membership and properties, restored into fresh groups
    ("cgroup_soft", prog("cgroup"), ("cgroup", "soft"), [], []),
    ("cgroup_full", prog("cgroup"), ("cgroup", "full"), [], []),
    ("cgroup_props", prog("cgroup"), ("cgroup", "props"), [], []),
    ("cgroup_strict_refused", prog("cgroup"), ("cgroup", "strict"), [], []),
    ("cgroup_none_refused", prog("cgroup"), ("cgroup", "none"), [], []),
    ("cgroup_ns", prog("cgroup") + ["ns"], ("cgroup", "soft"), [], []),
    ("cgroup_thread_refused", prog("cgroup_thread"),
     ("refused", "per-thread cgroups are not supported yet"), [], []),
    ("freeze_cgroup_v1", prog("freeze"), ("freeze", CG_V1 + "freezer"), [], []),
    ("freeze_cgroup_v2", prog("freeze"), ("freeze", CG_V2), [], []),
    ("memory", prog("memory"), "once", [], []),
    ("bigpages", prog("bigpages"), "once", [], []),
    ("bigpages_tampered", prog("bigpages"), ("tampered", TAMPER_PAGES), [], []),
    ("bigpages_sealed", prog("bigpages"), "sealed", [], []),
    ("pipe_sealed", prog("pipe"), "sealed", [], []),
    ("bigheap_compressed", prog("bigheap"), ("flow", e2e_zpages.flow), [], []),
    ("tree_compressed", prog("tree"), ("flow", e2e_zpages.flow), [], []),
    ("predump_chain", prog("predump"), "predump", [], []),
    ("predump_read", prog("predump_writer"), ("flow", predump_flow.run_read), [], []),
    ("predump_dedup", prog("predump_writer"), ("flow", predump_flow.run_dedup), [], []),
    # pages over the network (e2e_page_server.py)
    ("page_server", prog("bigheap"), ("flow", e2e_page_server.restore_flow), [], []),
    ("page_server_dies", prog("bigheap"), ("flow", e2e_page_server.dies_flow), [], []),
    ("page_server_killed", prog("bigheap"), ("flow", e2e_page_server.killed_flow), [], []),
    ("page_server_tree", prog("tree"), ("flow", e2e_page_server.restore_flow), [], []),
    ("page_server_unreachable", prog("bigheap"), ("flow", e2e_page_server.unreachable_flow), [], []),
    ("page_server_tls", prog("bigheap"), ("flow", e2e_page_server.tls_flow), [], []),
    ("page_server_tls_refused", prog("bigheap"), ("flow", e2e_page_server.tls_refused_flow), [], []),
    # Debian's sshd with a live ssh session (e2e_ssh.py; no program: the flow starts sshd)
    ("ssh_session", None, ("flow", e2e_ssh.restore_flow), TCP, []),
    ("ssh_session_leave_running", None, ("flow", e2e_ssh.running_flow), TCP, []),
    ("sleeper", prog("sleeper"), ("blocked", SYS_CLOCK_NANOSLEEP), [], []),
    ("futex", prog("futex"), ("blocked", SYS_FUTEX), [], []),
    ("poll_forever", prog("poll_forever"), ("blocked", SYS_POLL), [], []),
    ("signals", prog("signals"), "once", [], []),
    ("task_attrs", prog("task_attrs"), "once", [], []),
    ("task_prctl", prog("task_prctl"), "once", [], []),
    ("task_prctl_tree", prog("task_prctl_tree"), "once", EXT, []),
    # prctl values (task_gaps.c sets one each, as for the known gaps below)
    ("prctl_timerslack", prog("task_gaps") + ["timerslack"], "once", EXT, []),
    ("prctl_pdeathsig_root", prog("task_gaps") + ["pdeathsig"], "once", [], []),
    ("prctl_pdeathsig_root_attached", prog("task_gaps") + ["pdeathsig"], "attached", [], []),
    ("prctl_pdeathsig_root_stopped", prog("task_gaps") + ["pdeathsig"], "stopped", [], []),
    ("prctl_securebits", prog("task_gaps") + ["securebits"], "once", [], []),
    ("prctl_keepcaps", prog("task_gaps") + ["keepcaps"], "once", [], []),
    ("prctl_tsc", prog("task_gaps") + ["tsc"], "once", EXT, []),
    ("prctl_mce", prog("task_gaps") + ["mce"], "once", EXT, []),
    ("prctl_memory_merge", prog("task_gaps") + ["memory_merge"], "once", EXT, []),
    ("read_implies_exec", prog("task_gaps") + ["read_implies_exec"], "once", [], []),
    ("thread_securebits_refused", prog("thread_prctl_refused") + ["securebits"],
     ("refused", "per-thread credentials are not supported yet"), [], []),
    ("thread_pdeathsig_refused", prog("thread_prctl_refused") + ["pdeathsig"],
     ("refused", "a parent death signal on a thread other than the leader is not supported yet"),
     [], []),
    ("sud_refused", prog("task_gaps") + ["sud"],
     ("refused", "syscall user dispatch (PR_SET_SYSCALL_USER_DISPATCH, mode 1) is not supported yet"),
     [], []),
    ("mdwe_refused", prog("task_gaps") + ["mdwe"],
     ("refused", "memory-deny-write-execute (PR_SET_MDWE, flags 0x1) is not supported yet"),
     [], []),
    # scheduling, placement, keyrings, root, exit signals (sched-state.h)
    ("sched_attrs", prog("sched_attrs"), "once", EXT, []),
    ("affinity", prog("task_gaps") + ["affinity"], "once", EXT, []),
    # without --image-ext, state the established format cannot express is refused
    ("affinity_no_ext_refused", prog("task_gaps") + ["affinity"],
     ("refused", "cannot be written in the established format"), [], []),
    ("ioprio", prog("task_gaps") + ["ioprio"], "once", EXT, []),
    ("coredump_filter", prog("task_gaps") + ["coredump_filter"], "once", EXT, []),
    ("autogroup", prog("task_gaps") + ["autogroup"], "once", EXT, []),
    ("mempolicy", prog("task_gaps") + ["mempolicy"], "once", EXT, []),
    ("exit_signal", prog("task_gaps") + ["exit_signal"], "once", EXT, []),
    ("zombie_uid", prog("task_gaps") + ["zombie_uid"], "once", [], []),
    ("chroot", prog("task_gaps") + ["chroot"], "once", [], []),
    # a tree that is a pid namespace of its own (its init and children)
    ("pidns", prog("pidns"), "pidns", [], []),
    # its children in other pid namespaces: below the root's, or the root's own below criu's
    ("pidns_nested_refused", prog("pidns") + ["nested"],
     ("pidns_refused", "nested pid namespaces are not supported yet"), [], []),
    ("pidns_child_refused", prog("pidns"),
     ("refused", "nested pid namespaces are not supported yet"), [], []),
    # a /proc of the namespace needs a mount namespace: not carried yet
    ("pidns_mntns_refused", prog("pidns") + ["mntns"],
     ("pidns_refused", "shared, slave or unbindable propagation"), [], []),
    # a mount namespace of its own (Documentation/namespaces.md, "Mount namespace")
    ("mntns", ["unshare", "-m", "--propagation", "private"] + prog("mntns"), "once", [], []),
    ("mntns_overlay_refused",
     ["unshare", "-m", "--propagation", "private"] + prog("mntns") + ["overlay"],
     ("refused", "not supported yet: mount"), [], []),
    ("mntns_mixed_refused",
     ["unshare", "-m", "--propagation", "private"] + prog("mntns") + ["mixed"],
     ("refused", "nested/mixed mount namespaces: not supported yet"), [], []),
    # an init ignores the stop it would send itself
    # a network namespace of its own (test/e2e/netns.c); @PID@: the launcher's pid
    ("netns", prog("netns"), "netns", TCP, TCP + ["--veth-pair", "eth0=cvr@PID@"]),
    ("netns_ext", prog("netns") + ["ext"], "netns", TCP + EXT,
     TCP + ["--external", "veth[eth0]:cvr@PID@"]),
    ("netns_empty", prog("netns") + ["empty"], "netns", [], ["--empty-ns", "net"]),
    ("netns_nopid", prog("netns") + ["nopid"], "netns_nopid", TCP, TCP + ["--veth-pair", "eth0=cvr@PID@"]),
    # the outside end joins a bridge the harness makes (@BR@) and removes
    ("netns_veth_bridge", prog("netns"), "netns", TCP, TCP + ["--veth-pair", "eth0=cvr@PID@@@BR@"]),
    ("netns_no_veth_refused", prog("netns") + ["empty"],
     ("netns", "veth eth0: its outside end needs a name"), [], []),
    ("netns_bridge_refused", prog("netns") + ["bridge"],
     ("pidns_refused", "link cbr0 of kind bridge: not supported yet"), [], []),
    ("netns_sysctl_refused", prog("netns") + ["sysctl"],
     ("pidns_refused", "net.ipv4/tcp_syn_retries is 3"), [], []),
    ("pidns_leave_stopped_refused", prog("pidns"), ("pidns", "is to stay stopped"), [],
     ["--leave-stopped"]),
    # uts and ipc namespaces of the tree's own (Documentation/namespaces.md)
    ("utsipc", prog("utsipc"), "once", [], []),
    ("utsipc_uts", prog("utsipc") + ["uts"], "once", [], []),
    ("utsipc_pidns", prog("utsipc") + ["pidns"], "pidns", [], []),
    ("utsipc_host_shm", prog("utsipc") + ["host"], "once", [], []),
    ("utsipc_child_refused", prog("utsipc") + ["child"],
     ("refused", "is in another uts namespace than the tree's root"), [], []),
    ("utsipc_thread_refused", prog("utsipc") + ["thread"],
     ("refused", "is in another uts namespace than the tree's root"), [], []),
    ("thread_mntns_refused", prog("utsipc") + ["thread_mnt"],
     ("refused", "is in another mount namespace than its process"), [], []),
    ("thread_cgroupns_refused", prog("utsipc") + ["thread_cgroup"],
     ("refused", "is in another cgroup namespace than"), [], []),
    ("utsipc_sem", prog("utsipc") + ["sem"], "once", [], []),
    ("utsipc_msg", prog("utsipc") + ["msg"], "once", [], []),
    ("utsipc_shm_refused", prog("utsipc") + ["shm"],
     ("refused", "not supported yet: the tree's ipc namespace holds objects (1 SysV shared"),
     [], []),
    ("utsipc_mq_refused", prog("utsipc") + ["mq"],
     ("refused", "memory segments, 1 POSIX message queues)"), [], []),
    ("keyring_refused", prog("task_gaps") + ["keyring"],
     ("refused", "a session keyring (keyctl JOIN_SESSION_KEYRING) other than criu's is "
                 "not supported yet"),
     [], []),
    ("process_keyring_refused", prog("task_gaps") + ["process_keyring"],
     ("refused", "has a process keyring"), [], []),
    ("thread_keyring_refused", prog("task_gaps") + ["thread_keyring"],
     ("refused", "has a thread keyring"), [], []),
    ("no_session_keyring", prog("no_session_keyring"), "leave_running", [], []),
    ("no_session_keyring_nproc", prog("no_session_keyring") + ["nproc"],
     ("refused", "its child asking for the session keyring failed"), [], []),
    ("pid_for_children_refused", prog("task_gaps") + ["pid_for_children"],
     ("refused", "a pid namespace for children (unshare(CLONE_NEWPID)) is not supported yet"),
     [], []),
    ("mbind_refused", prog("task_gaps") + ["mbind"],
     ("refused", "NUMA policies of mappings are not supported yet"), [], []),
    ("mbind_same_refused", prog("task_gaps") + ["mbind_same"],
     ("refused", "NUMA policies of mappings are not supported yet"), [], []),
    ("vector_regs", prog("vector_regs"), "once", [], []),
    ("leave_running_twice", prog("counter"), "twice", [], []),
    ("restore_attached", prog("counter"), "attached", [], []),
    ("itimer", prog("itimer"), "once", [], []),
    ("uid1000", prog("uid1000"), "once", [], []),
    ("rseq", prog("rseq"), "once", [], []),
    ("threads", prog("threads"), "once", [], []),
    ("threads_blocked", prog("threads_blocked"), "once", [], []),
    ("threads_many", prog("threads_many"), "once", [], []),
    ("thread_timer", prog("thread_timer"), "once", [], []),
    ("posix_timers", prog("posix_timers"), "once", [], []),
    ("posix_timers_many", prog("posix_timers") + ["many"], "once", [], []),
    ("membarrier", prog("membarrier"), "once", EXT, []),
    ("audit_same", prog("audit") + ["same"], ("audit", "once"), EXT, []),
    ("audit_cleared", prog("audit") + ["cleared"], ("audit", "once"), [], []),
    ("audit_own_refused", prog("audit") + ["own"],
     ("restore_refused", "only from within that session", None), EXT, []),
    ("audit_thread_refused", prog("audit") + ["thread"], ("refused", "per-thread audit ids"),
     [], []),
    ("timens_pending", prog("timens") + ["pending"], "once", EXT, []),
    ("timens_entered_refused", prog("timens") + ["entered"],
     ("refused", "that a process has entered already"), [], []),
    ("timens_tree", prog("timens") + ["tree"],
     ("flow", lambda m, p, tmp, d, r, env: m.pidns_flow(p, tmp, d, r, env, own_pidns=False)),
     [], []),
    ("timens_pidtree", prog("timens") + ["pidtree"], "pidns", [], []),
    ("timens_nested_refused", prog("timens") + ["nested"],
     ("pidns_refused", "inside the tree's own time namespace"), [], []),
    ("shmem", prog("shmem"), "once", [], []),
    ("memfd", prog("memfd"), "once", [], []),
    ("python", ["/usr/bin/python3", os.path.join(E2E, "py_loop.py")], "once", [], []),
    ("shell_job_tmux", prog("echo_job"), "tmux", [], []),
    ("shell_job_tree", [], "tmux_tree", [], []),
    ("pipe", prog("pipe"), "once", [], []),
    ("pipe_tampered", prog("pipe"), ("tampered", TAMPER), [], []),
    ("eventfd", prog("eventfd"), "once", EXT, []),
    ("signalfd", prog("signalfd"), "once", [], []),
    ("timerfd", prog("timerfd"), "once", [], []),
    ("timerfd_flags", prog("timerfd_flags"), "once", EXT, []),
    ("timerfd_abs_no_ext_refused", prog("timerfd_flags"),
     ("refused", "the wall-clock expiry of a TFD_TIMER_ABSTIME timerfd"), [], []),
    ("epoll", prog("epoll"), "once", EXT, []),
    ("inotify", prog("inotify"), "once", [], []),
    ("fanotify", prog("fanotify"), "once", [], []),
    ("fanotify_mount_marks", prog("fanotify") + ["--mount-marks"], "once", EXT, []),
    ("tree", prog("tree"), "once", [], []),
    ("tree_attached", prog("tree"), "attached", [], []),
    ("pgrp_orphan", prog("pgrp_orphan"), "once", [], []),
    ("cow", prog("cow"), "once", [], []),
    ("sess_orphan", prog("sess_orphan"), "once", [], []),
    ("shared_file", prog("shared_file"), "once", [], []),
    ("shared_mem", prog("shared_mem"), "once", [], []),
    ("pipe_tree", prog("pipe_tree"), "once", [], []),
    ("fown", prog("fown"), "once", [], []),
    ("fown_uid", prog("fown") + ["uid"], "once", [], []),
    ("fown_twice", prog("fown"), "twice", [], []),
    ("dnotify_refused", prog("task_gaps") + ["dnotify"],
     ("refused", "has a signal owner (", ), [], []),
    ("fown_outside_refused", prog("fown") + ["outside"],
     ("refused", "(F_SETOWN), which the dump does not restore: not supported yet"), [], []),
    ("fd_table", prog("fd_table"), "once", [], []),
    ("fd_table_two", prog("fd_table") + ["two"], "once", [], []),
    ("fd_table_twice", prog("fd_table"), "twice", [], []),
    ("fd_table_attrs", prog("fd_table") + ["attrs"], "once", EXT, []),
    ("fd_table_nested", prog("fd_table") + ["nested"],
     ("refused", "(the child has children of its own) is not supported yet"), [], []),
    ("fd_table_outside_refused", prog("fd_table") + ["outside"],
     ("refused", "is also used by task"), [], []),
    ("pipe_combos", prog("pipe_combos"), "once", [], []),
    ("pipeline", prog("pipeline"), "once", [], []),
    ("tree_leave_running_twice", prog("tree"), "twice", [], []),
    ("tree_stopped", prog("tree"), "stopped", [], []),
    # Stopped by job control: no /proc snapshot, a restored stopped process
    # still maps the restorer's region until continued (restore.md, Known gaps)
    ("stopped", prog("stopped"), "nosnap", [], []),
    ("stopped_twice", prog("stopped"), "twice", [], []),
    ("stopped_root", prog("stopped") + ["root"], "stopped_root", [], []),
    # a reaped child's exit code: the established format holds SIGKILL's alone
    ("pidfd", prog("pidfd"), "once", EXT, []),
    ("pidfd_kill", prog("pidfd") + ["kill"], "once", [], []),
    ("pidfd_twice", prog("pidfd") + ["kill"], "twice", [], []),
    ("pidfd_exit_no_ext_refused", prog("pidfd"),
     ("refused", "an established restore gives SIGKILL's"), [], []),
    ("pidfd_outside_refused", prog("pidfd") + ["outside"],
     ("refused", "which is not in the dumped tree: not supported yet"), [], []),
    ("seccomp", prog("seccomp"), "once", [], []),
    ("seccomp_twice", prog("seccomp"), "twice", [], []),
    ("seccomp_drop", prog("seccomp") + ["--drop"], "once", [], []),
    ("seccomp_refuse_strict", prog("seccomp") + ["--strict"],
     ("refused", "seccomp strict mode is not supported yet"), [], []),
    ("seccomp_refuse_notify", prog("seccomp") + ["--notify"],
     ("refused", "SECCOMP_RET_USER_NOTIF"), [], []),
    ("seccomp_refuse_thread", prog("seccomp") + ["--thread"],
     ("refused", "per-thread seccomp is not supported yet"), [], []),
    ("seccomp_refuse_thread_predump", prog("seccomp") + ["--thread"],
     ("flow", predump_flow.refused_flow("per-thread seccomp is not supported yet")), [], []),
    # a filter that kills on a call of the parasite (vmsplice): refused, runs on
    ("seccomp_refuse_kill", prog("seccomp") + ["--kill"],
     ("refused", "may answer vmsplice() with SECCOMP_RET_KILL_PROCESS"), [], []),
    ("stopped_collected", prog("stopped") + ["collected"],
     ("refused", "has already collected the stop with wait()"), [], []),
    ("tree_dump_fault", prog("tree"), "dump_fault", [], []),
    ("tree_criu_dies", prog("tree"), "criu_dies", [], []),
    ("tree_criu_dies_committed", prog("tree"), "criu_dies_committed", [], []),
    ("tree_restore_fault", prog("tree"), "restore_fault", [], []),
    ("sh_pipeline", ["/usr/bin/python3", os.path.join(E2E, "sh_pipeline.py")], "once", [], []),
    ("py_workers", ["/usr/bin/python3", os.path.join(E2E, "py_workers.py")], "once", [], []),
    ("ghost", prog("ghost"), "once", EXT, []),
    # times of whole microseconds: the established format alone holds them
    ("ghost_us", prog("ghost") + ["us"], "once", [], []),
    ("ghost_tampered", prog("ghost") + ["us"], ("tampered", TAMPER_GHOST), [], []),
    ("ghost_exe", prog("ghost_exe"), "once", EXT, []),
    ("ghost_dir", prog("ghost_dir"), "once", [], []),
    ("link_remap", prog("link_remap"), "once", ["--link-remap"], []),
    ("link_remap_twice", prog("link_remap"), "twice", ["--link-remap"], []),
    ("link_remap_dump_fault", prog("link_remap"), "dump_fault_late", ["--link-remap"], []),
    # the kill sweeps' victim (kill_sweep.py), through one plain dump and restore
    ("sweep", prog("sweep"), "once", EXT, []),
    ("procfs", prog("procfs"), "once", [], []),
    ("procfs_twice", prog("procfs"), "twice", [], []),
    ("procfs_thread_refused", prog("procfs") + ["thread"],
     ("refused", "a file of another process's or thread's /proc directory"), [], []),
    ("lease", prog("lease"), "once", ["--file-locks"], []),
    ("lease_twice", prog("lease"), "twice", ["--file-locks"], []),
    ("lease_breaking_refused", prog("lease") + ["breaking"],
     ("refused", "a lease being broken (or breaking one): not supported yet"), ["--file-locks"], []),
    ("ghost_dir_twice", prog("ghost_dir"), "twice", [], []),
    ("tmpfile", prog("tmpfile"), "once", EXT, []),
    ("tmpfile_twice", prog("tmpfile"), "twice", EXT, []),
    ("memfd_fd", prog("memfd_fd"), "once", [], []),
    ("tail_f", ["tail", "-f"], "tail", [], []),
    ("memfd_open_mapped", prog("memfd_open_mapped"), "once", [], []),
    ("vma_flags", prog("vma_flags"), "once", EXT, []),
    ("memfd_exec", prog("memfd_exec"), "once", [], []),
    ("memfd_noexec", prog("memfd_noexec"), "once", EXT, []),
    ("mlockall_future", prog("mlockall") + ["future"], "once", EXT, []),
    ("mlockall_onfault", prog("mlockall") + ["onfault"], "once", EXT, []),
    ("mlockall_none", prog("mlockall") + ["none"], "once", [], []),
    ("mlockall_limit_refused", prog("mlockall") + ["limit"],
     ("refused", "under mlockall(MCL_FUTURE) with no RLIMIT_MEMLOCK left"), [], []),
    ("vma_maxprot", prog("vma_maxprot"), "once", [], []),
    ("guard", prog("guard"), "once", EXT, []),
    ("aio", prog("aio"), "once", [], []),
    ("aio_forked_refused", prog("aio") + ["forked"],
     ("refused", "is a copy inherited by fork(), no context of"), [], []),
    ("guard_no_ext_refused", prog("guard"),
     ("refused", "has guard regions (MADV_GUARD_INSTALL"), [], []),
    ("vma_refuse_seal", prog("vma_refuse") + ["seal"], ("refused", "VMA flag 'sl' (sealed"), [], []),
    ("vma_refuse_uffd", prog("vma_refuse") + ["uffd"],
     ("refused", "VMA flag 'um' (userfaultfd missing-page"), [], []),
    ("renamed", prog("renamed"), "once", [], []),
    ("opath", prog("opath"), "once", EXT, []),
    ("file_flags", prog("file_flags"), "once", [], []),
    ("write_hint", prog("write_hint"), "once", EXT, []),
    ("write_hint_twice", prog("write_hint"), "twice", EXT, []),
    ("dir_pos", prog("file_flags") + ["--dir"], "once", [], []),
    ("dir_pos_tmpfs", prog("file_flags") + ["--dir-tmpfs"], "once", [], []),
    ("dir_pos_twice", prog("file_flags") + ["--dir"], "twice", [], []),
    ("dir_pos_devpts_refused", prog("file_flags") + ["--dir-devpts"],
     ("refused", "position in the listing of directory /dev/pts"), [], []),
    ("unlinked_linked", prog("unlinked_linked"),
     ("refused", "keeps 1 other name(s), which /proc does not tell"), [], []),
    ("locks", prog("locks"), "once", ["--file-locks"], []),
    ("tree_files", prog("tree_files"), "once", ["--file-locks"] + EXT, []),
    ("locks_taken_meanwhile", prog("locks"),
     ("restore_refused", "another process holds a conflicting one", "flock-ex"),
     ["--file-locks"], []),
    ("lock_mapped", prog("lock_mapped"), ("refused", "which the task also maps"),
     ["--file-locks"], []),
    ("locks_need_l", prog("locks"), ("refused", "dump with -l/--file-locks"), [], []),
    # 600 KiB, about 24 KiB of data: holes are not counted, with FIEMAP or SEEK_DATA
    ("ghost_over_limit", prog("ghost"), ("refused", "over --ghost-limit (16384 bytes)"),
     ["--ghost-limit", "16K"], []),
    # --file-validation: a mapped ELF file whose build-id changed, not its size
    ("build_id_changed_refused", prog("build_id"),
     ("restore_refused", "its build-id differs", lambda tmp: flip_build_id(tmp)), [], []),
    ("build_id_filesize", prog("build_id"), ("changed", lambda tmp: flip_build_id(tmp)), [],
     ["--file-validation", "filesize"]),
    ("build_id_dumped_filesize", prog("build_id"), ("changed", lambda tmp: flip_build_id(tmp)),
     ["--file-validation", "filesize"], []),
    ("build_id_same", prog("build_id"), "once", [], []),
    ("ghost_sparse_limit", prog("ghost") + ["us"], "once", ["--ghost-limit", "64K"], []),
    ("ghost_sparse_seek", prog("ghost") + ["us"], "once", ["--ghost-limit", "64K", "--no-ghost-fiemap"], []),
    ("pty_pair", prog("pty_pair"), "once", EXT, []),
    # the second dump sees the master's unread bytes only if the first gave them back
    ("pty_pair_twice", prog("pty_pair"), "twice", EXT, []),
    ("pty_refuse_peer_cloexec", prog("pty_pair") + ["--peer-cloexec"],
     ("refused", "has O_CLOEXEC among its file flags"), [], []),
    ("pty_lock", prog("pty_lock"), "once", [], []),
    ("pty_io_error", prog("pty_lock") + ["--io-error"], "once", EXT, []),
    ("pty_refuse_stopped", prog("pty_lock") + ["--stopped"], ("refused", "stopped (^S or tcflow TCOOFF)"),
     [], []),
    ("pty_ctty", prog("pty_ctty"), "once", [], []),
    ("pty_owner", prog("pty_owner"), "once", EXT, []),
    ("python_pty", ["/usr/bin/python3", os.path.join(E2E, "py_pty.py")], "once", [], []),
    ("pty_ctty_fg_child", prog("pty_ctty") + ["--fg-child"], "once", [], []),
    ("pty_script", prog("pty_script"), "once", [], []),
    ("unix_pair", prog("unix_pair"), "once", EXT, []),
    ("unix_listen", prog("unix_listen"), "once", [], []),
    ("unix_relative", prog("unix_relative"), "once", [], []),
    # connected to a socket closed since: our own image only (--image-ext)
    ("unix_dead_peer", prog("unix_dead_peer"), "once", EXT, []),
    ("sk_refuse_unix_relative_moved", prog("unix_relative") + ["--moved"],
     ("refused", "found neither from the cwd nor from the root"), [], []),
    ("unix_pending", prog("unix_pending"), "once", [], []),
    ("unix_scm_stream", prog("unix_scm") + ["stream"], "once", [], []),
    ("unix_scm_self", prog("unix_scm") + ["self"], "once", [], []),
    ("unix_scm_dgram", prog("unix_scm") + ["dgram"], "once", [], []),
    ("unix_scm_tree", prog("unix_scm") + ["tree"], "once", [], []),
    # two dumps with --leave-running: the peeks leave the queue and its descriptors as they were
    ("unix_scm_self_twice", prog("unix_scm") + ["self"], "twice", [], []),
    ("unix_tree", prog("unix_tree"), "once", [], []),
    ("gap_unix_peercred", prog("unix_cred"), ("gap", "socketpair: SO_PEERCRED pid"), [], []),
    ("sk_prefork", prog("sk_prefork"), "once", [], []),
    ("inet_listen", prog("inet_listen"), "once", EXT, []),
    ("sk_opts", prog("sk_opts"), "once", EXT, []),
    ("inet_udp", prog("inet_udp"), "once", [], []),
    ("inet_raw", prog("inet_raw"), "once", [], []),
    ("netlink", prog("netlink"), "once", EXT, []),
    ("netlink_est", prog("netlink") + ["plain"], "once", [], []),
    ("netlink_noext", prog("netlink"), ("refused", "no field in the format"), [], []),
    ("packet", prog("packet"), "once", EXT, []),
    ("packet_est", prog("packet") + ["plain"], "once", [], []),
    ("packet_noext", prog("packet"), ("refused", "no field in the format"), [], []),
    ("packet_ring", prog("packet_ring"), "once", [], []),
    ("sk_filter", prog("sk_filter"), "once", [], []),
    ("sk_filter_lock", prog("sk_filter") + ["lock"], "once", EXT, []),
    ("sk_filter_lock_noext", prog("sk_filter") + ["lock"],
     ("refused", "option SO_LOCK_FILTER (1) has no field in the format"), [], []),
    ("inet_udplite", prog("inet_udp") + ["lite"], "once", [], []),
    ("inet_udplite_cscov", prog("inet_udp") + ["cscov"], "once", EXT, []),
    ("inet_udplite_cscov_noext", prog("inet_udp") + ["cscov"],
     ("refused", "UDPLITE_SEND_CSCOV (20) has no field in the format"), [], []),
    ("unix_ext_refused", prog("unix_ext"), ("refused", "--ext-unix-sk"), [], []),
    ("unix_ext", prog("unix_ext") + ["--ext"], "once", ["--ext-unix-sk"], []),
    ("tcp_established_refused", prog("tcp_est") + ["refused"], ("refused", "--tcp-established"),
     [], []),
    ("tcp_est", prog("tcp_est"), "once", TCP, []),
    # the peer is the harness, outside the tree (tcp_peer() below)
    ("tcp_peer", prog("tcp_peer"), "tcp_peer", TCP, []),
    ("tcp_peer_leave_running", prog("tcp_peer"), "tcp_peer_running", TCP, []),
    # the peer sends every millisecond from before the dump to after the
    # restore: the network lock holds its lines (without it: a reset)
    ("tcp_peer_gap", prog("tcp_peer"), "tcp_peer_gap", TCP, []),
    # the same, each echo bound to leave within 50 ms: the restored process
    # must not run before its connection is unlocked (net-lock.md)
    ("tcp_peer_gap_prompt", prog("tcp_peer") + ["prompt"], "tcp_peer_gap", TCP, []),
    # criu killed with the sockets in repair mode, before the commit: the
    # guardian takes them out, the lock goes, the tree talks on
    ("tcp_peer_criu_dies", prog("tcp_peer"), "tcp_peer_dies", TCP, []),
    # killed after the commit: the tree dies with criu, the guardian keeps
    # the lock, the restore finds the peer (sending all along) waiting
    ("tcp_peer_gap_criu_dies", prog("tcp_peer"), "tcp_peer_gap_dies", TCP, []),
    # no lock kept (as after a reboot): the restore goes without one
    ("tcp_peer_no_lock", prog("tcp_peer"), "tcp_peer", TCP + ["--network-lock", "skip"], []),
    ("tcp_refuse_fin_wait", prog("tcp_est") + ["finwait"], ("refused", "in state FIN_WAIT"),
     TCP, []),
    ("tcp_refuse_oob", prog("tcp_est") + ["oob"], ("refused", "urgent (out-of-band) data"),
     TCP, []),
    ("tcp_est_v6", prog("tcp_est") + ["v6"], "once", TCP, []),
    ("tcp_est_mapped", prog("tcp_est") + ["mapped"], "once", TCP, []),
    ("tcp_est_rdshut", prog("tcp_est") + ["rdshut"], "once", TCP, []),
    ("tcp_est_twice", prog("tcp_est"), "twice", TCP, []),
    ("tcp_est_stopped", prog("tcp_est"), "stopped", TCP, []),
    # a failed dump gives the connections back out of repair mode
    ("tcp_est_dump_fault", prog("tcp_est"), "dump_fault_late", TCP, []),
    ("tcp_close", prog("tcp_est") + ["close"], "once", ["--tcp-close"], ["--tcp-close"]),
    ("tcp_skip_in_flight", prog("tcp_est") + ["inflight"], "once", TCP + ["--skip-in-flight"],
     []),
    ("tcp_close_stream", prog("tcp_est") + ["close"], "once", TCP, ["--tcp-close"]),
    ("tcp_close_half_closed", prog("tcp_est") + ["closefin"], "once", ["--tcp-close"],
     ["--tcp-close"]),
    ("sk_epoll", prog("sk_epoll"), "once", [], []),
    ("sk_refuse_rights", prog("sk_refuse") + ["rights"],
     ("refused", "in flight in its queue (SCM_RIGHTS): not supported yet"), [], []),
    ("sk_refuse_dgram_peer_gone", prog("sk_refuse") + ["dgpeergone"],
     ("refused", "connected to a socket that has closed"), [], []),
    ("sk_refuse_pending_unix", prog("sk_refuse") + ["pending"], ("refused", "sent on a connection not accepted yet"),
     [], []),
    ("sk_refuse_pending_tcp", prog("sk_refuse") + ["tcp"], ("refused", "not accepted yet"), [], []),
    # queued UDP datagrams: our own image only (--image-ext)
    ("udp_queue", prog("udp_queue"), "once", EXT, []),
    ("udp_queue_noext", prog("udp_queue"),
     ("refused", "datagrams queued (the format has no UDP queue) (--image-ext"), [], []),
    ("sk_refuse_udp_queue", prog("sk_refuse") + ["udp"], ("refused", "datagrams queued"), [], []),
    ("sk_refuse_udp_pktinfo", prog("sk_refuse") + ["udppktinfo"], ("refused", "ancillary data"),
     EXT, []),
    ("sk_refuse_udp_queue_unbound", prog("sk_refuse") + ["udpdisc"],
     ("refused", "datagrams queued"), [], []),
    ("sk_refuse_netlink", prog("sk_refuse") + ["netlink"],
     ("refused", "queued bytes (of its receive buffer)"), [], []),
    ("sk_refuse_packet", prog("sk_refuse") + ["packet"],
     ("refused", "packet socket with frames queued"), [], []),
    ("sk_refuse_packet_ring", prog("sk_refuse") + ["packetring"],
     ("refused", "RX ring: its first block was filled"), [], []),
    ("sk_refuse_packet_type", prog("sk_refuse") + ["sockpacket"],
     ("refused", "(SOCK_PACKET): not supported yet"), [], []),
    ("sk_refuse_raw_queue", prog("sk_refuse") + ["rawq"],
     ("refused", "raw socket with packets received and not read"), [], []),
    ("sk_refuse_raw_tcp", prog("sk_refuse") + ["rawtcp"],
     ("refused", "raw socket of protocol 6 (TCP or UDP)"), [], []),
    ("sk_refuse_self", prog("sk_refuse") + ["self"], ("refused", "connected to itself"), [], []),
    ("sk_refuse_accepted_name", prog("sk_refuse") + ["acceptgone"],
     ("refused", "whose listener is not in the dump"), [], []),
    ("sk_refuse_oob", prog("sk_refuse") + ["oob"], ("refused", "out-of-band"), [], []),
    ("sk_refuse_dgram_named", prog("sk_refuse") + ["dgnamed"], ("refused", "senders with names"),
     [], []),
    ("sk_refuse_udp_cork", prog("sk_refuse") + ["udpcork"],
     ("refused", "unsent corked data on a UDP socket"), [], []),
    ("sk_refuse_udp_more", prog("sk_refuse") + ["udpmore"],
     ("refused", "unsent corked data on a UDP socket"), [], []),
    ("sk_refuse_udp_error", prog("sk_refuse") + ["udperr"], ("refused", "pending socket error"),
     [], []),
    ("sk_refuse_unix_error", prog("sk_refuse") + ["unixerr"], ("refused", "pending socket error"),
     [], []),
    ("sk_refuse_unix_dgram_error", prog("sk_refuse") + ["unixdgerr"],
     ("refused", "pending socket error"), [], []),
    ("sk_refuse_udp_encap", prog("sk_refuse") + ["encap"], ("refused", "UDP_ENCAP"), [], []),
    ("sk_refuse_tcp_repair", prog("sk_refuse") + ["repair"], ("refused", "TCP_REPAIR"), [], []),
    ("sk_refuse_ip_options", prog("sk_refuse") + ["ipopts"], ("refused", "IP_OPTIONS"), [], []),
    ("sk_refuse_ipv6_hopopts", prog("sk_refuse") + ["v6hop"], ("refused", "IPV6_HOPOPTS"), [], []),
    ("sk_refuse_filter", prog("sk_refuse") + ["filter"], ("refused", "socket filter"), [], []),
    ("sk_refuse_udp_zerocopy", prog("sk_refuse") + ["zerocopy"],
     ("refused", "SO_ZEROCOPY (on UDP"), [], []),
    ("sk_refuse_udp_ts_opt_id", prog("sk_refuse") + ["tsoptid"],
     ("refused", "SOF_TIMESTAMPING_OPT_ID on UDP"), [], []),
    ("sk_refuse_tcp_md5", prog("sk_refuse") + ["md5"], ("refused", "TCP_MD5SIG"), [], []),
    # multicast memberships: our own image only (--image-ext)
    ("inet_mcast", prog("inet_mcast"), "once", EXT, []),
    ("sk_refuse_mcast", prog("sk_refuse") + ["mcast"],
     ("refused", "member of 1 multicast groups (the format has no memberships) (--image-ext"),
     [], []),
    ("sk_refuse_mcast6", prog("sk_refuse") + ["mcast6"],
     ("refused", "member of 1 multicast groups (the format has no memberships)"), [], []),
    ("http_server", ["/usr/bin/python3", "-m", "http.server"], "http", [], []),
    ("redis_unix", ["/usr/bin/redis-server"], "redis", [], []),
    ("tmux_server", [], "tmux_server", [], []),
]


class CaseFailed(Exception):
    pass


def log_errors(path, limit=6):
    try:
        with open(path, errors="replace") as f:
            lines = [l.rstrip() for l in f if "Error" in l]
    except OSError:
        return ""
    return " | ".join(lines[:limit])


def no_errors(path, what):
    """Tools grep criu's logs for "Error": a run that succeeded has none."""
    errs = log_errors(path)
    if errs:
        raise CaseFailed("%s succeeded but logged errors: %s" % (what, errs))


def criu(args, workdir, env, timeout=120):
    res = subprocess.run([CRIU] + args, cwd=workdir, env=env, timeout=timeout,
                         stdin=subprocess.DEVNULL, capture_output=True, text=True)
    return res.returncode, res.stdout + res.stderr


def wait_pid(pid, timeout):
    """Wait for a child (or adopted orphan) to exit; return its wait status."""
    fd = os.pidfd_open(pid)
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            raise CaseFailed("pid %d still running after %ds" % (pid, timeout))
        _, status = os.waitpid(pid, 0)
        return status
    finally:
        os.close(fd)


def start(cmd, tmp):
    r, w = os.pipe()
    env = dict(os.environ, E2E_READY_FD=str(w))
    log = open(os.path.join(tmp, "program.log"), "w")
    p = subprocess.Popen(cmd + [os.path.join(tmp, "result")], cwd=tmp, env=env,
                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                         pass_fds=(w,), start_new_session=True)
    os.close(w)
    log.close()
    # Ready means "R" and then end of file: the program has closed its end
    # of the pipe, which must not be in the checkpoint.
    got, end = b"", time.monotonic() + 20
    while time.monotonic() < end:
        ready, _, _ = select.select([r], [], [], max(0, end - time.monotonic()))
        chunk = os.read(r, 16) if ready else b""
        if not chunk:
            break
        got += chunk
    os.close(r)
    if got != b"R":
        p.kill()
        p.wait()
        raise CaseFailed("program did not get ready")
    return p


def wait_blocked(pid, nr, timeout=20):
    """Ready means inside syscall nr: poll /proc/PID/syscall until it says so."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with open("/proc/%d/syscall" % pid) as f:
            words = f.read().split()
        if words and words[0] == str(nr):
            return
        time.sleep(0.005)
    raise CaseFailed("never blocked in syscall %d (/proc says %s)" % (nr, words[:1]))


def dump(pid, imgs, opts, env):
    os.makedirs(imgs)
    rc, out = criu(["dump", "-t", str(pid), "-D", imgs, "-o", "dump.log", "-v4"] + opts,
                   imgs, env)
    if rc != 0:
        raise CaseFailed("dump exited %d: %s %s" % (rc, out.strip()[:300],
                                                     log_errors(os.path.join(imgs, "dump.log"))))
    no_errors(os.path.join(imgs, "dump.log"), "dump")
    crit_check(imgs)


def crit_check(imgs):
    """Every image decodes with crit, round-trips, and criu show == crit decode."""
    r = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "test", "crit_check.py"), CRIU,
                        imgs], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        # the end of the output: a traceback's exception is on its last line
        raise CaseFailed("the images fail the crit check: " +
                         r.stdout.decode(errors="replace").strip().replace("\n", " | ")[-600:])


def restore(imgs, opts, env, pid):
    rc, out = criu(["restore", "-D", imgs, "-d", "--pidfile", "restored.pid", "-o",
                    "restore.log", "-v4"] + opts, imgs, env)
    if rc != 0:
        raise CaseFailed("restore exited %d: %s %s" % (rc, out.strip()[:300],
                                                        log_errors(os.path.join(imgs, "restore.log"))))
    no_errors(os.path.join(imgs, "restore.log"), "restore")
    with open(os.path.join(imgs, "restored.pid")) as f:
        got = int(f.read().strip())
    if got != pid:
        raise CaseFailed("restored as pid %d, not %d" % (got, pid))


def restore_attached(imgs, opts, env, pid):
    """criu restore without -d waits for the task and exits with its status."""
    pidfile = os.path.join(imgs, "restored.pid")
    proc = subprocess.Popen([CRIU, "restore", "-D", imgs, "--pidfile", "restored.pid",
                             "-o", "restore.log", "-v4"] + opts, cwd=imgs, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    end = time.monotonic() + 30
    while not os.path.exists(pidfile) and proc.poll() is None and time.monotonic() < end:
        time.sleep(0.005)
    if proc.poll() is not None or not os.path.exists(pidfile):
        proc.kill()
        out = proc.communicate()[0]
        raise CaseFailed("restore ended early (%s): %s %s" % (
            proc.returncode, out.strip()[:300], log_errors(os.path.join(imgs, "restore.log"))))
    with open(pidfile) as f:
        got = int(f.read().strip() or 0)
    if got != pid:
        proc.kill()
        proc.wait()
        raise CaseFailed("restored as pid %d, not %d" % (got, pid))
    os.kill(pid, signal.SIGTERM)
    try:
        rc = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise CaseFailed("criu restore did not return after the task exited")
    if rc != 0:
        raise CaseFailed("criu restore exited %d; the task's status should be 0: %s" % (
            rc, log_errors(os.path.join(imgs, "restore.log"))))


class Tmux:
    """A private tmux server with one bash pane, driven like a person would."""

    def __init__(self, tmp):
        self.sock = os.path.join(tmp, "tmux.sock")
        self.tmux("-f", "/dev/null", "new-session", "-d", "-x", "150", "-y", "40",
                  "env", "PS1=$ ", "bash", "--norc", "--noprofile", "-i")
        # The server daemonizes and so becomes this subreaper's child: reap it.
        self.server = int(self.tmux("display", "-p", "#{pid}").strip())

    def tmux(self, *args):
        return subprocess.run(["tmux", "-S", self.sock] + list(args), check=True,
                              capture_output=True, text=True, timeout=20).stdout

    def type(self, text):
        self.tmux("send-keys", "-l", text)
        self.tmux("send-keys", "Enter")

    def screen(self):
        return self.tmux("capture-pane", "-p", "-S", "-200")

    def wait_for(self, text, after=0, timeout=20):
        """Wait until text shows on a screen line at or past `after`; return
        the number of the line after it."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            lines = self.screen().splitlines()
            for i in range(after, len(lines)):
                if text in lines[i]:
                    return i + 1
            time.sleep(0.02)
        raise CaseFailed("%r never showed; screen: %s" % (text, " | ".join(
            l for l in self.screen().splitlines() if l.strip())[-600:]))

    def kill(self):
        subprocess.run(["tmux", "-S", self.sock, "kill-server"], capture_output=True)
        try:
            os.kill(self.server, signal.SIGKILL)
            wait_pid(self.server, 10)
        except (ProcessLookupError, ChildProcessError):
            pass


def shell_job(cmd, tmp, env):
    """Dump a shell job with --shell-job, restore it in the same pane, type to it."""
    t = Tmux(tmp)
    try:
        shell = int(t.tmux("display", "-p", "#{pane_pid}").strip())
        t.wait_for("$")
        t.type(" ".join(cmd))
        t.wait_for("READY")
        kids = children_of(shell)
        if len(kids) != 1:
            raise CaseFailed("expected one job under the shell, found %s" % kids)
        pid = kids[0]
        tree = descendants(pid)
        imgs = os.path.join(tmp, "imgs")
        dump(pid, imgs, ["--shell-job"], env)
        # the job's children come to this subreaper when it dies: reap them
        wait_gone(tree)
        n = t.wait_for("$", t.wait_for("Killed"))
        t.type("%s restore --shell-job -D %s -o restore.log -v4" % (CRIU, imgs))
        n = t.wait_for("restore --shell-job", n - 1)
        # The job comes back with its pid, under criu, in the pane's foreground.
        end = time.monotonic() + 20
        while not os.path.exists("/proc/%d" % pid) and time.monotonic() < end:
            time.sleep(0.01)
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        pgrp, tpgid = int(fields[2]), int(fields[5])
        if pgrp != tpgid:
            raise CaseFailed("restored job (group %d) is not the terminal's foreground (%d)"
                             % (pgrp, tpgid))
        t.type("typed after restore")
        t.wait_for("echo: typed after restore", n)
        t.tmux("send-keys", "C-d")
        t.type("echo criu-said-$?")
        t.wait_for("criu-said-0", n)
    finally:
        t.kill()


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children_of(p)
    return out


def wait_gone(pids, timeout=10):
    end = time.monotonic() + timeout
    while True:
        reap_orphans()
        left = [p for p in pids if os.path.exists("/proc/%d" % p)]
        if not left:
            return
        if time.monotonic() > end:
            raise CaseFailed("processes left behind: %s" % left)
        time.sleep(0.01)


def job_stat(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return fields[0], int(fields[2]), int(fields[5])  # state, pgrp, tpgid


def shell_job_tree(tmp, env):
    """A job of three processes (sh, and echo_job | cat under it) is dumped
    with --shell-job and restored in the same pane: it is the terminal's
    foreground, echoes what is typed, stops on Ctrl-Z (the shell says so),
    and carries on after fg."""
    t = Tmux(tmp)
    try:
        shell = int(t.tmux("display", "-p", "#{pane_pid}").strip())
        t.wait_for("$")
        t.type("sh -c '%s | cat'" % os.path.join(E2E, "echo_job"))
        t.wait_for("READY")
        kids = children_of(shell)
        if len(kids) != 1:
            raise CaseFailed("expected one job under the shell, found %s" % kids)
        root = kids[0]
        pids = [root] + children_of(root)
        if len(pids) != 3:
            raise CaseFailed("expected sh with two children, found %s" % pids)
        imgs = os.path.join(tmp, "imgs")
        dump(root, imgs, ["--shell-job"], env)
        n = t.wait_for("$", t.wait_for("Killed"))
        reap_orphans()  # the job's children came to this subreaper
        t.type("%s restore --shell-job -D %s -o restore.log -v4" % (CRIU, imgs))
        n = t.wait_for("restore --shell-job", n - 1)
        end = time.monotonic() + 20
        while not all(os.path.exists("/proc/%d" % p) for p in pids) and time.monotonic() < end:
            time.sleep(0.01)
        for p in pids:
            _, pgrp, tpgid = job_stat(p)
            if pgrp != tpgid:
                raise CaseFailed("restored process %d (group %d) is not in the terminal's "
                                 "foreground group (%d)" % (p, pgrp, tpgid))
        t.type("typed after restore")
        n = t.wait_for("echo: typed after restore", n)
        t.tmux("send-keys", "C-z")
        n = t.wait_for("Stopped", n)
        for p in pids:
            if job_stat(p)[0] != "T":
                raise CaseFailed("process %d did not stop on Ctrl-Z" % p)
        t.type("fg")
        t.type("typed after fg")
        n = t.wait_for("echo: typed after fg", n)
        t.tmux("send-keys", "C-d")
        t.type("echo criu-said-$?")
        t.wait_for("criu-said-0", n)
    finally:
        t.kill()


def socket_fds(pid):
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            n += os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:")
        except OSError:
            pass
    return n


def top_clock(t, window):
    """The clock of top's header line in @window, or None."""
    for line in t.tmux("capture-pane", "-p", "-t", window).splitlines():
        if line.startswith("top - "):
            return line.split()[2]
    return None


def tmux_server(tmp, env):
    """A tmux server with bash in one window and top in another is dumped
    (server, shells, ptys, listening socket) and restored; clients that
    attach afterwards find bash with its variable and top still running."""
    t = Tmux(tmp)
    try:
        t.wait_for("$")
        t.type("X=criu$((6*7)); echo set-$X")
        n = t.wait_for("set-criu42")
        t.tmux("new-window", "-d", "top", "-d", "0.3")
        end = time.monotonic() + 20
        while top_clock(t, ":1") is None and time.monotonic() < end:
            time.sleep(0.05)
        if top_clock(t, ":1") is None:
            raise CaseFailed("top never showed")
        # Only the listening socket: every client has gone.
        end = time.monotonic() + 20
        while socket_fds(t.server) != 1 and time.monotonic() < end:
            time.sleep(0.01)
        pids = [t.server] + children_of(t.server)
        imgs = os.path.join(tmp, "imgs")
        dump(t.server, imgs, [], env)
        wait_pid(t.server, 20)
        end = time.monotonic() + 20
        while any(os.path.exists("/proc/%d" % p) for p in pids) and time.monotonic() < end:
            reap_orphans()  # the shells, orphaned by the dump's kill, are this subreaper's
            time.sleep(0.01)
        for p in pids:
            if os.path.exists("/proc/%d" % p):
                raise CaseFailed("process %d of the tmux tree is still there after the dump" % p)
        restore(imgs, [], env, t.server)
        t.type("echo again-$X")
        t.wait_for("again-criu42", n)
        first = top_clock(t, ":1")
        end = time.monotonic() + 20
        while top_clock(t, ":1") == first and time.monotonic() < end:
            time.sleep(0.05)
        if top_clock(t, ":1") == first:
            raise CaseFailed("top stopped refreshing after the restore (%s)" % first)
        t.type("exit")
    finally:
        t.kill()


def wait_text(path, text, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with open(path, errors="replace") as f:
            if text in f.read():
                return
        time.sleep(0.02)
    with open(path, errors="replace") as f:
        raise CaseFailed("%r never showed in %s: %r" % (text, path, f.read()[-300:]))


def tail_f(cmd, tmp, env):
    """A real `tail -f` (inotify, a regular file as stdout) is dumped and
    restored, and prints the lines appended after the restore."""
    log, out = os.path.join(tmp, "watched.log"), os.path.join(tmp, "tail.out")
    with open(log, "w") as f:
        f.write("line 1\nline 2\nbefore dump\n")
    with open(out, "w") as o:
        p = subprocess.Popen(cmd + [log], cwd=tmp, env=env, stdin=subprocess.DEVNULL,
                             stdout=o, stderr=subprocess.STDOUT, start_new_session=True)
    pid = p.pid
    try:
        wait_text(out, "before dump")
        imgs = os.path.join(tmp, "imgs")
        dump(pid, imgs, [], env)
        if p.wait(timeout=20) != -signal.SIGKILL:
            raise CaseFailed("after dump tail ended with %s, not SIGKILL" % p.returncode)
        with open(log, "a") as f:
            f.write("while it was dumped\n")
        restore(imgs, [], env, pid)
        with open(log, "a") as f:
            f.write("after restore\n")
        wait_text(out, "after restore")
        with open(out) as f:
            got = f.read()
        if got != "line 1\nline 2\nbefore dump\nwhile it was dumped\nafter restore\n":
            raise CaseFailed("tail printed %r" % got)
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            wait_pid(pid, 10)
        except (ProcessLookupError, ChildProcessError):
            pass


def children_of(pid):
    kids = []
    for task in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/children" % (pid, task)) as f:
            kids += [int(x) for x in f.read().split()]
    return kids


def refused(pid, p, tmp, dopts, env, text, stop=None):
    """The dump must fail naming why, and leave the task running: it then
    checks itself as after a restore. SIGTERM goes to `stop` (default: pid)."""
    imgs = os.path.join(tmp, "imgs")
    try:
        dump(pid, imgs, dopts, env)
    except CaseFailed as e:
        if text not in str(e):
            raise CaseFailed("dump failed, but not with %r: %s" % (text, e))
    else:
        raise CaseFailed("dump succeeded; expected a refusal with %r" % text)
    if p.poll() is not None:
        raise CaseFailed("the refused task is gone (status %s)" % p.returncode)
    os.kill(stop or pid, signal.SIGTERM)
    return p.wait(timeout=30)


def tamper(imgs, action, pattern):
    import glob
    if action == "extra":
        shutil.copy(os.path.join(imgs, "pstree.img"), os.path.join(imgs, pattern))
        return
    path = sorted(glob.glob(os.path.join(imgs, pattern)))[0]
    if action == "delete":
        os.unlink(path)
    elif action == "truncate":
        os.truncate(path, os.path.getsize(path) - 1)
    elif os.path.basename(path) == "criu-manifest":
        # a text file: a hex digit of a checksum from the middle on changes,
        # so the file still parses and its own checksum must catch it
        with open(path, "r+b") as f:
            data = bytearray(f.read())
            k = next(i for i in range(len(data) // 2, len(data)) if chr(data[i]) in "0123456789abcdef")
            data[k] = ord("1" if data[k] != ord("1") else "2")
            f.seek(0)
            f.write(data)
    else:
        with open(path, "r+b") as f:
            f.seek(os.path.getsize(path) // 2)
            b = f.read(1)
            f.seek(-1, os.SEEK_CUR)
            f.write(bytes([b[0] ^ 0x40]))


def tampered(p, tmp, dopts, ropts, env, changes):
    """Each tampered copy of the images is refused naming the file, with no
    process left (without the manifest: restored as a dump of the
    established tool, whose format lets pipes-data.img be absent); then the
    untouched images restore."""
    imgs = os.path.join(tmp, "imgs")
    dump(p.pid, imgs, dopts, env)
    if p.wait(timeout=20) != -signal.SIGKILL:
        raise CaseFailed("after dump the task ended with %s, not SIGKILL" % p.returncode)
    for action, pattern, text in changes:
        copy = os.path.join(tmp, "imgs-%s-%s" % (action, pattern.replace("*", "N")))
        shutil.copytree(imgs, copy)
        tamper(copy, action, pattern)
        try:
            restore(copy, ropts, env, p.pid)
        except CaseFailed as e:
            if text is None or text not in str(e):
                raise CaseFailed("%s %s: refused, but not with %r: %s" % (action, pattern, text, e))
        else:
            if text is not None:
                raise CaseFailed("%s %s: restored; expected a refusal with %r" % (action, pattern, text))
            os.kill(p.pid, signal.SIGKILL)
            wait_gone([p.pid])
            continue
        if os.path.exists("/proc/%d" % p.pid):
            raise CaseFailed("%s %s: pid %d exists after the refused restore" % (action, pattern, p.pid))
    restore(imgs, ropts, env, p.pid)
    os.kill(p.pid, signal.SIGTERM)
    return wait_pid(p.pid, 30)


def images_digest(imgs):
    """Name -> bytes of every image file (logs, pid files, stats left out)."""
    got = {}
    for n in sorted(os.listdir(imgs)):
        if n.endswith(".log") or n.endswith(".pid") or n.startswith("stats-"):
            continue
        with open(os.path.join(imgs, n), "rb") as f:
            got[n] = f.read()
    return got


def sealed(p, tmp, dopts, ropts, env):
    """--encrypt-key: every file of the dump is sealed (crit cannot read
    them, by design); a restore without the key, with another key, with one
    byte of a page file flipped or with two files swapped is refused with
    nothing created, the images untouched and no plaintext left in TMPDIR;
    with the key the task comes back and checks its memory."""
    imgs = os.path.join(tmp, "imgs")
    keys = [os.path.join(tmp, k) for k in ("key", "key2")]
    for k in keys:
        with open(k, "wb") as f:
            f.write(os.urandom(32))
    env = dict(env, TMPDIR=os.path.join(tmp, "tmpdir"))
    os.makedirs(env["TMPDIR"])
    os.makedirs(imgs)
    rc, out = criu(["dump", "-t", str(p.pid), "-D", imgs, "-o", "dump.log", "-v4",
                    "--encrypt-key", keys[0]] + dopts, imgs, env)
    if rc != 0:
        raise CaseFailed("sealed dump exited %d: %s %s" % (rc, out.strip()[:300],
                                                           log_errors(os.path.join(imgs, "dump.log"))))
    if p.wait(timeout=20) != -signal.SIGKILL:
        raise CaseFailed("after dump the task ended with %s, not SIGKILL" % p.returncode)
    files = images_digest(imgs)
    plain = [n for n, b in files.items() if not b.startswith(b"CRIUSEAL")]
    if plain or "criu-manifest" not in files:
        raise CaseFailed("files not sealed: %s" % (plain or "no criu-manifest"))

    def flip(d):
        import glob
        path = sorted(glob.glob(os.path.join(d, "pages-*.img")))[0]
        with open(path, "r+b") as f:
            f.seek(os.path.getsize(path) // 2)
            b = f.read(1)
            f.seek(-1, os.SEEK_CUR)
            f.write(bytes([b[0] ^ 1]))

    def swap(d):
        os.rename(os.path.join(d, "inventory.img"), os.path.join(d, "x"))
        os.rename(os.path.join(d, "pstree.img"), os.path.join(d, "inventory.img"))
        os.rename(os.path.join(d, "x"), os.path.join(d, "pstree.img"))

    for what, key, change, text in [
            ("no key", None, None, "the images are sealed: --encrypt-key needed"),
            ("another key", keys[1], None, "wrong --encrypt-key"),
            ("a page byte flipped", keys[0], flip, "does not authenticate"),
            ("two files swapped", keys[0], swap, "does not authenticate")]:
        d = imgs
        if change:
            d = os.path.join(tmp, "imgs-" + what.replace(" ", "-"))
            shutil.copytree(imgs, d)
            change(d)
        before = images_digest(d)
        try:
            restore(d, (["--encrypt-key", key] if key else []) + ropts, env, p.pid)
        except CaseFailed as e:
            if text not in str(e):
                raise CaseFailed("%s: refused, but not with %r: %s" % (what, text, e))
        else:
            raise CaseFailed("%s: restored; expected a refusal with %r" % (what, text))
        if os.path.exists("/proc/%d" % p.pid):
            raise CaseFailed("%s: pid %d exists after the refused restore" % (what, p.pid))
        if images_digest(d) != before:
            raise CaseFailed("%s: the refused restore changed the images" % what)
        if os.listdir(env["TMPDIR"]):
            raise CaseFailed("%s: left %s in TMPDIR" % (what, os.listdir(env["TMPDIR"])))
    restore(imgs, ["--encrypt-key", keys[0]] + ropts, env, p.pid)
    if os.listdir(env["TMPDIR"]):
        raise CaseFailed("the restore left plaintext in TMPDIR: %s" % os.listdir(env["TMPDIR"]))
    # a second sealed dump into the same dir replaces the first one's files
    rc, out = criu(["dump", "-t", str(p.pid), "-D", imgs, "-o", "dump2.log", "-v4",
                    "--encrypt-key", keys[0]] + dopts, imgs, env)
    if rc != 0:
        raise CaseFailed("second sealed dump exited %d: %s" % (rc, log_errors(os.path.join(imgs, "dump2.log"))))
    no_errors(os.path.join(imgs, "dump2.log"), "second sealed dump")
    wait_gone([p.pid])
    restore(imgs, ["--encrypt-key", keys[0]] + ropts, env, p.pid)
    os.kill(p.pid, signal.SIGTERM)
    return wait_pid(p.pid, 30)


def leave_running(p, tmp, dopts, env):
    """Dump with --leave-running, no restore: the task then checks that the
    dump left it as it was."""
    dump(p.pid, os.path.join(tmp, "imgs"), ["--leave-running"] + dopts, env)
    if p.poll() is not None:
        raise CaseFailed("--leave-running: the task is gone")
    os.kill(p.pid, signal.SIGTERM)
    return p.wait(timeout=30)


def flip_build_id(tmp):
    """Between dump and restore: one byte of the GNU build-id of build_id's
    mapped copy of itself changes, its size does not."""
    with open(os.path.join(tmp, "buildid-off")) as f:
        off = int(f.read())
    with open(os.path.join(tmp, "mapped-elf"), "r+b") as f:
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ 0xff]))


def restore_refused(p, tmp, dopts, ropts, env, text, locked):
    """The restore must fail naming why, and leave no task. With `locked`,
    someone else takes an exclusive flock on that file between dump and
    restore; a function instead is called with the case's directory then."""
    import fcntl
    imgs = os.path.join(tmp, "imgs")
    dump(p.pid, imgs, dopts, env)
    p.wait(timeout=20)
    if callable(locked):
        locked(tmp)
        locked = None
    with open(os.path.join(tmp, locked or "locked"), "a+") as f:
        if locked:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        try:
            restore(imgs, ropts, env, p.pid)
        except CaseFailed as e:
            if text not in str(e):
                raise CaseFailed("restore failed, but not with %r: %s" % (text, e))
        else:
            raise CaseFailed("restore succeeded; expected a refusal with %r" % text)
    if os.path.exists("/proc/%d" % p.pid):
        raise CaseFailed("pid %d exists after the refused restore" % p.pid)


def dump_and_restore(name, p, flow, tmp, dopts, ropts, env):
    """Dump the task (its tree), restore it, stop it; return its wait status.
    ("changed", fn): as "once", with fn(tmp) called between dump and restore."""
    pid = p.pid
    before = None
    between = None
    if isinstance(flow, tuple) and flow[0] == "changed":
        between, flow = flow[1], "once"
    if isinstance(flow, tuple):
        wait_blocked(pid, flow[1])
    if flow == "stopped_root":
        wait_state(pid, "T")
    if flow == "twice":
        dump(pid, os.path.join(tmp, "imgs1"), ["--leave-running"] + dopts, env)
        if p.poll() is not None:
            raise CaseFailed("--leave-running: the task is gone")
        dump(pid, os.path.join(tmp, "imgs2"), ["--leave-running"] + dopts, env)
        p.kill()
        kill_tree(tmp)
        imgs = os.path.join(tmp, "imgs2")
    elif flow == "stopped":
        imgs = os.path.join(tmp, "imgs")
        dump(pid, imgs, ["--leave-stopped"] + dopts, env)
        tree_states(tmp, "T")
        p.kill()
        kill_tree(tmp)
    else:
        if flow == "dump_fault":
            dump_fault(pid, tmp, dopts, env)
        if flow == "dump_fault_late":   # every socket read, the images written
            dump_fault(pid, tmp, dopts, env, "before-inventory", "1")
        if flow == "once" or isinstance(flow, tuple):
            before = snapshot(pid)
        imgs = os.path.join(tmp, "imgs")
        if flow in CRIU_DIES:
            imgs = criu_dies(pid, tmp, dopts, env, CRIU_DIES[flow])
        else:
            dump(pid, imgs, dopts, env)
    status = p.wait(timeout=20)
    if flow not in ("twice", "stopped") and status != -signal.SIGKILL:
        raise CaseFailed("after dump the task ended with %s, not SIGKILL" % status)
    tree_gone(tmp)  # the dump killed the whole tree; orphans are reaped here
    if between:
        between(tmp)
    if flow == "attached":
        restore_attached(imgs, ropts, env, pid)
        return 0
    if flow == "restore_fault":
        restore_fault(imgs, tmp, ropts, env)
    if flow == "stopped":
        restore(imgs, ["--leave-stopped"] + ropts, env, pid)
        tree_states(tmp, "T")
        for q in tree_pids(tmp):
            os.kill(q, signal.SIGCONT)
        # (e2e_wait_stop sleeps in short steps, so a SIGTERM arriving as
        # the tree resumes is seen: see restore.md, Known gaps)
    else:
        restore(imgs, ropts, env, pid)
    if flow == "stopped_root":
        wait_state(pid, "T")
        os.kill(pid, signal.SIGCONT)
    diff = settled_diff(name, before, pid) if before else ""
    os.kill(pid, signal.SIGTERM)
    status = wait_pid(pid, 30)
    if diff:
        raise CaseFailed("/proc differs after the restore:\n    " + diff)
    return status


# ---- the safety net: /proc before the dump == /proc after the restore --------
#
# For "once"-style cases every process and thread of the tree is read from
# /proc once the program is ready and again right after the restore; any
# difference fails the case. What legitimately differs is normalised where it
# is read, each with its reason. Objects the restore creates anew (pipes, sockets,
# deleted files, memfds, shared anonymous memory) get new inode numbers:
# those are replaced by labels in order of first sight, so sharing (two fds,
# or an fd and a mapping, on one object) is still compared.

# status fields that move on their own (memory use, scheduling, counters);
# Ngid is the NUMA balancing group, chosen by the kernel
STATUS_SKIP = ("State", "FDSize", "VmPeak", "VmSize", "VmLck", "VmPin", "VmHWM", "VmRSS",
               "RssAnon", "RssFile", "RssShmem", "VmData", "VmStk", "VmExe", "VmLib", "VmPTE",
               "VmSwap", "HugetlbPages", "voluntary_ctxt_switches",
               "nonvoluntary_ctxt_switches", "SigQ", "Ngid")
# /proc/PID/stat fields compared (0-based after the comm); the others are
# counters, times and the current cpu and stack pointer
STAT_KEEP = {1: "ppid", 2: "pgrp", 3: "session", 4: "tty_nr", 5: "tpgid", 6: "flags",
             15: "priority", 16: "nice", 17: "num_threads", 22: "rsslim", 23: "startcode",
             24: "endcode", 25: "startstack", 35: "exit_signal", 37: "rt_priority",
             38: "policy", 42: "start_data", 43: "end_data", 44: "start_brk", 45: "arg_start",
             46: "arg_end", 47: "env_start", 48: "env_end", 49: "exit_code"}
# What a zombie still tells: who it was, its ids and how it ended (the rest
# of its status is whatever it had when it died, or the restore's helper's)
ZOMBIE_KEEP = ("status Name", "status Uid", "status Gid", "status Groups",
               "status Tgid", "status Pid", "status PPid", "status NSpid",
               "status NStgid", "status NSpgid", "status NSsid", "stat ppid", "stat pgrp",
               "stat session", "stat exit_code", "stat exit_signal", "zombie")
# PF_ bits of stat's flags that tell what the task did, not what it is:
# PF_FORKNOEXEC (restored tasks are forked by criu and never exec),
# PF_SUPERPRIV (used root powers: the restorer does), PF_NPROC_EXCEEDED
PF_VOLATILE = 0x40 | 0x100 | 0x1000
PROC_FILES = ("limits", "personality", "timerslack_ns", "loginuid", "sessionid",
              "oom_score_adj", "coredump_filter", "cgroup", "cmdline", "environ",
              "timers", "attr/current", "setgroups", "uid_map", "gid_map")
# per thread, besides status and stat
TASK_FILES = ("comm",)
INO = re.compile(r"\{ino:(\d+)\}")
RECREATED = re.compile(r"^(pipe|socket):\[(\d+)\]$")
# Cases whose program changes its own /proc state while it runs: key regex
# left out of the comparison, and why.
NET_SKIP = {
    # the workers open and close their progress files all the time
    "py_workers": (r"^\d+ fd(info)? 3\b", "progress files come and go"),
    # a mount namespace made anew: its inode and its mounts' ids are the kernel's choice
    "mntns": (r"^\d+ (fdinfo \d+ mnt_id|ns mnt)$", "a new mount namespace, new mount ids"),
}


def read_proc(path, binary=False):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return "<%s>" % (e.strerror or e)
    return data.hex() if binary else data.decode(errors="replace")


def recreated_name(name):
    """A file the restore makes anew (a new inode number); a process's /proc
    entries are made for the restored process, with new inode numbers; so
    are the processes a pidfd names."""
    return (name.endswith(" (deleted)") or name.startswith("/memfd:")
            or name == "anon_inode:[pidfd]"     # pidfs: one inode per struct pid
            or name.startswith("/SYSV") or name.startswith("/dev/zero")
            or re.match(r"/proc/\d+(/|$)", name) is not None)


def snap_task(pid, tid, out):
    base = "%d/%d" % (pid, tid)
    task = {}
    snap_task_files(pid, tid, task)
    if task.get("status State", "").startswith("Z"):
        task = {k: v for k, v in task.items() if k in ZOMBIE_KEEP}
        task["zombie"] = "yes"
    task.pop("status State", None)
    for k, v in task.items():
        out["%s %s" % (base, k)] = v


def snap_task_files(pid, tid, out):
    for line in read_proc("/proc/%d/task/%d/status" % (pid, tid)).splitlines():
        k, _, v = line.partition(":")
        if k and (k not in STATUS_SKIP or k == "State"):
            out["status %s" % k] = " ".join(v.split())
    fields = read_proc("/proc/%d/task/%d/stat" % (pid, tid)).rsplit(")", 1)[-1].split()
    for i, name in STAT_KEEP.items():
        if i < len(fields):
            v = fields[i]
            if name == "flags":
                v = "%#x" % (int(v) & ~PF_VOLATILE)
            out["stat %s" % name] = v
    for f in TASK_FILES:
        out[f] = read_proc("/proc/%d/task/%d/%s" % (pid, tid, f)).strip()
    # timerslack_ns is per thread, readable through /proc/TID
    out["timerslack_ns"] = read_proc("/proc/%d/timerslack_ns" % tid).strip()
    for line in read_proc("/proc/%d/task/%d/sched" % (pid, tid)).splitlines():
        k, _, v = line.partition(":")
        if k.strip() in ("policy", "prio"):
            out["sched %s" % k.strip()] = v.strip()


def fdinfo_value(key, v):
    if key == "ino" and v.isdigit():
        return "{ino:%s}" % v
    if key == "eventfd-id":
        return "(id)"           # one per eventfd, from a kernel counter
    if key == "it_value":
        return "(time left)"    # a timerfd's time left runs on
    if key == "tfd":
        # epoll target: "N events: E data: D pos:P ino:HEX sdev:DEV"
        return re.sub(r"ino:([0-9a-f]+)", lambda m: "ino:{ino:%d}" % int(m.group(1), 16), v)
    return v


def info_raw_armed(info):
    """A timerfd's fdinfo with time left (running): "it_value: (S, NS)"."""
    m = re.search(r"^it_value:\s*\((\d+), (\d+)\)", info, re.M)
    return bool(m) and (m.group(1), m.group(2)) != ("0", "0")


def snap_fds(pid, out, recreated):
    for fd in sorted(int(x) for x in os.listdir("/proc/%d/fd" % pid)):
        try:
            link = os.readlink("/proc/%d/fd/%d" % (pid, fd))
        except OSError:
            continue
        info = read_proc("/proc/%d/fdinfo/%d" % (pid, fd))
        m = RECREATED.match(link)
        if m:
            recreated.append(int(m.group(2)))
            link = "%s:[{ino:%s}]" % (m.group(1), m.group(2))
        # keys repeat (one "tfd:" per epoll target, one line per watch or
        # mark) in the kernel's own order: compare them sorted
        lines = {}
        for line in info.splitlines():
            k, _, v = line.partition(":")
            lines.setdefault(k, []).append(fdinfo_value(k, v.strip()))
        if "ticks" in lines and info_raw_armed(info):
            # an armed timerfd expires on its own between the snapshot and
            # the dump and after the restore: its unread count may only grow
            lines["ticks"] = ["%s (armed)" % v for v in lines["ticks"]]
        ino = INO.match(lines.get("ino", [""])[0])
        if ino and recreated_name(link):
            recreated.append(int(ino.group(1)))
        out["%d fd %d" % (pid, fd)] = link
        for k, vs in lines.items():
            out["%d fdinfo %d %s" % (pid, fd, k)] = " | ".join(sorted(vs))


def snap_maps(pid, out, recreated):
    cur = None
    for line in read_proc("/proc/%d/smaps" % pid).splitlines():
        parts = line.split(None, 5)
        if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
            addr, perms, off, dev, ino = parts[:5]
            name = parts[5] if len(parts) > 5 else ""
            if ino != "0" and recreated_name(name):
                recreated.append(int(ino))
            # a packet ring's socket is made anew: its name carries the inode
            name = RECREATED.sub(lambda m: "%s:[{ino:%s}]" % m.groups(), name)
            cur = "%d vma %s" % (pid, addr)
            out[cur] = " ".join((perms, off, dev, "{ino:%s}" % ino, name))
        elif cur and parts and parts[0] in ("VmFlags:", "ProtectionKey:"):
            out["%s %s" % (cur, parts[0][:-1])] = " ".join(parts[1:])


def snap_process(pid, out, recreated):
    for f in PROC_FILES:
        out["%d %s" % (pid, f)] = read_proc("/proc/%d/%s" % (pid, f))
    # the kernel lists POSIX timers in hash order: compare them by id
    timers = re.split(r"(?m)^(?=ID: )", out["%d timers" % pid])
    out["%d timers" % pid] = "".join(sorted(timers, key=lambda t: int(t.split()[1])
                                            if t.startswith("ID: ") else -1))
    out["%d auxv" % pid] = read_proc("/proc/%d/auxv" % pid, binary=True)
    for link in ("cwd", "root", "exe"):
        try:
            out["%d %s" % (pid, link)] = os.readlink("/proc/%d/%s" % (pid, link))
        except OSError as e:
            out["%d %s" % (pid, link)] = "<%s>" % e.strerror
    for ns in sorted(os.listdir("/proc/%d/ns" % pid)):
        try:
            out["%d ns %s" % (pid, ns)] = os.readlink("/proc/%d/ns/%s" % (pid, ns))
        except OSError as e:
            # pid_for_children after unshare(CLONE_NEWPID), before a child
            out["%d ns %s" % (pid, ns)] = "<%s>" % e.strerror
    # a time namespace made for the children is made anew by the restore:
    # what is compared is that it is the task's own (its offsets are checked
    # by the program), not its inode number
    tfc = "%d ns time_for_children" % pid
    if out.get(tfc, "").startswith("time:") and out[tfc] != out.get("%d ns time" % pid):
        out[tfc] = "(a time namespace of its own for the children)"
    # a tree's own uts or ipc namespace is made anew by the restore too; the
    # program checks its names and sysctls
    for ns in ("uts", "ipc"):
        k = "%d ns %s" % (pid, ns)
        if k in out and out[k] != os.readlink("/proc/self/ns/%s" % ns):
            out[k] = "(a %s namespace of its own)" % ns
    tids = sorted(int(t) for t in os.listdir("/proc/%d/task" % pid))
    out["%d threads" % pid] = " ".join(map(str, tids))
    for tid in tids:
        snap_task(pid, tid, out)
    snap_maps(pid, out, recreated)
    snap_fds(pid, out, recreated)


def same(a, b):
    """Values that differ only as documented."""
    # files.md, ghosts: a deleted file whose name is taken by another file
    # at restore is made as an O_TMPFILE: its link reads DIR/#INO (deleted)
    m = re.match(r"^(.*/)#\d+ \(deleted\)$", b)
    if m:
        return a.startswith(m.group(1)) and a.endswith(" (deleted)")
    # an armed timerfd's unread expirations: more, never fewer (snap_fds);
    # armed on one side only: a one-shot one fired meanwhile, or a periodic
    # one that expired unread shows no time left until read (restored armed)
    ma, mb = (re.match(r"^(\d+)( \(armed\))?$", x) for x in (a, b))
    return bool(ma and mb and (ma.group(2) or mb.group(2))) and \
        int(mb.group(1)) >= int(ma.group(1))


def snapshot(root):
    """Everything /proc says about the tree under root, as key -> text."""
    out, recreated = {}, []
    pids = sorted(descendants(root))
    out["tree"] = " ".join(map(str, pids))
    for pid in pids:
        try:
            snap_process(pid, out, recreated)
        except FileNotFoundError:
            out["%d" % pid] = "<gone while read>"
    labels = {}
    for ino in recreated:
        labels.setdefault(ino, "I%d" % len(labels))
    for k, v in out.items():
        out[k] = INO.sub(lambda m: labels.get(int(m.group(1)), m.group(1)), v)
    return out


def snapshot_diff(name, before, after, limit=12):
    """'' if equal, else the differences, one per line."""
    skip = NET_SKIP.get(name, (None,))[0]
    lines = []
    for k in sorted(set(before) | set(after)):
        a, b = before.get(k, "<none>"), after.get(k, "<none>")
        if a != b and not (skip and re.match(skip, k)) and not same(a, b):
            lines.append("%s: %r -> %r" % (k, a[:160], b[:160]))
    if len(lines) > limit:
        lines = lines[:limit] + ["... and %d more" % (len(lines) - limit)]
    return "\n    ".join(lines)


def settled_diff(name, before, pid, timeout=2.0):
    """The difference of /proc after the restore. criu restore -d returns
    once every task is released, but a task may still be finishing its way
    out of the restorer for a moment (seen under load: every signal still
    blocked, no handler yet): compare again until equal or the time is up,
    and say so when it took more than one look."""
    end = time.monotonic() + timeout
    first = diff = snapshot_diff(name, before, snapshot(pid))
    while diff and time.monotonic() < end:
        time.sleep(0.02)
        diff = snapshot_diff(name, before, snapshot(pid))
    if first and not diff:
        print("note e2e: %s: /proc matched only %.2fs after the restore returned; first "
              "look: %s" % (name, timeout - (end - time.monotonic()),
                            " ".join(first.split())[:300]), flush=True)
    return diff


def http_get(port, path, timeout=10):
    import urllib.request
    url = "http://127.0.0.1:%d/%s" % (port, path)
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read()


def one_thread(pid, timeout=20):
    """Wait until a server's request threads are gone (threads are not dumped yet)."""
    end = time.monotonic() + timeout
    while len(os.listdir("/proc/%d/task" % pid)) > 1:
        if time.monotonic() > end:
            raise CaseFailed("pid %d still has several threads" % pid)
        time.sleep(0.01)


def serve_across(p, tmp, dopts, ropts, env, ready, before, after):
    """A real server @p: wait until ready() (polled), before(), dump it,
    restore it, after(), then stop it. The checks raise CaseFailed."""
    try:
        end = time.monotonic() + 20
        while not ready():
            if p.poll() is not None or time.monotonic() > end:
                raise CaseFailed("the server never answered")
            time.sleep(0.05)
        before()
        imgs = os.path.join(tmp, "imgs")
        dump(p.pid, imgs, dopts, env)
        if p.wait(timeout=20) != -signal.SIGKILL:
            raise CaseFailed("after dump the server ended with %s" % p.returncode)
        restore(imgs, ropts, env, p.pid)
        try:
            after()
        finally:
            os.kill(p.pid, signal.SIGTERM)
            wait_pid(p.pid, 30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


class Peer:
    """The end of a TCP connection outside the tree: numbered lines out, their
    echoes back in order; a reset or an end of file fails the case."""

    def __init__(self, sock):
        self.sock, self.sent, self.echoed, self.buf = sock, 0, 0, b""
        self.gap, self.last = 0.0, time.monotonic()

    def send(self, n=1):
        for _ in range(n):
            self.sock.sendall(b"%d\n" % self.sent)
            self.sent += 1

    def drain(self, until, timeout=30):
        """Read echoes until `until` of them came; check their order."""
        end = time.monotonic() + timeout
        while self.echoed < until:
            self.sock.settimeout(max(0.01, end - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                raise CaseFailed("the peer outside the tree saw a reset after echo %d" %
                                 self.echoed)
            except socket.timeout:
                raise CaseFailed("echo %d never came" % self.echoed)
            if not chunk:
                raise CaseFailed("the peer outside the tree saw the end after echo %d" %
                                 self.echoed)
            self.buf += chunk
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                if line != b"%d" % self.echoed:
                    raise CaseFailed("echo %r came where %d belongs" % (line, self.echoed))
                now = time.monotonic()
                self.gap, self.last = max(self.gap, now - self.last), now
                self.echoed += 1
        # a delayed ACK still pending would reach a socket gone with the
        # dumped tree, whose kernel answers with a reset: send it now
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)


class Pacer:
    """A line from the peer every millisecond (one thread) and its echoes
    checked as they come (another), until stop(): then every echo."""

    def __init__(self, peer):
        import threading
        self.peer, self.halt, self.err = peer, threading.Event(), []
        self.threads = [threading.Thread(target=self.pace), threading.Thread(target=self.check)]
        for t in self.threads:
            t.start()

    def pace(self):
        try:
            while not self.halt.wait(0.001):
                self.peer.send()
        except OSError as e:
            self.err.append("sending line %d: %s" % (self.peer.sent, e))

    def check(self):
        try:
            while not self.err:
                if self.peer.echoed < self.peer.sent:
                    self.peer.drain(self.peer.echoed + 1)
                elif self.halt.is_set():
                    return
                else:
                    time.sleep(0.0005)
        except (CaseFailed, OSError) as e:
            self.err.append(str(e))

    def wait_lines(self, n, timeout=20):
        """Until @n more lines were sent (the peer is sending meanwhile)."""
        want, end = self.peer.sent + n, time.monotonic() + timeout
        while self.peer.sent < want and not self.err and time.monotonic() < end:
            time.sleep(0.001)

    def stop(self):
        self.halt.set()
        self.threads[0].join()
        self.threads[1].join()
        if self.err:
            raise CaseFailed(self.err[0])


def tcp_peer(cmd, tmp, dopts, ropts, env, mode):
    """The connection of tcp_peer.c to the harness across a dump with
    --leave-running (mode "running": lines every millisecond meanwhile),
    across a dump and a restore ("restore": the peer sends nothing while the
    tree is gone, "gap": lines every millisecond all along, which only the
    network lock keeps from a reset), or across criu's death with the
    sockets in repair mode ("dies": before the commit, the tree runs on;
    "gap_dies": after it, the tree is restored)."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    p = start(cmd + [str(ls.getsockname()[1])], tmp)
    pacer = None
    try:
        ls.settimeout(20)
        conn, _ = ls.accept()
        ls.close()
        peer = Peer(conn)
        peer.send(50)
        peer.drain(50)
        imgs = os.path.join(tmp, "imgs")
        if mode in ("running", "gap", "gap_dies"):
            pacer = Pacer(peer)
        if mode == "running":
            dump(p.pid, imgs, ["--leave-running"] + dopts, env)
            pacer.wait_lines(200)
        elif mode == "dies":
            criu_dies_at(p.pid, os.path.join(tmp, "imgs-died"), dopts, env, "before-commit")
            guard_gone()
        else:
            if mode == "gap_dies":
                criu_dies_at(p.pid, imgs, dopts, env, "after-commit")
            else:
                dump(p.pid, imgs, dopts, env)
            if p.wait(timeout=20) != -signal.SIGKILL:
                raise CaseFailed("after dump the task ended with %s" % p.returncode)
            tree_gone(tmp)
            if pacer:
                pacer.wait_lines(20)   # the peer sends into the gap
            restore(imgs, ropts, env, p.pid)
            if pacer:
                pacer.wait_lines(200)
        if pacer:
            pacer.stop()
            pacer = None
        peer.send(50)
        peer.drain(peer.sent)
        print("tcp_peer: %d lines, longest gap between echoes %.1f ms" %
              (peer.sent, peer.gap * 1000), file=sys.stderr)
        conn.sendall(b"end\n")
        conn.close()
        status = p.wait(timeout=30) if mode in ("running", "dies") else wait_pid(p.pid, 30)
        check_result(tmp, status)
    finally:
        if pacer:
            pacer.halt.set()
            for t in pacer.threads:
                t.join()
        if p.poll() is None:
            p.kill()
            p.wait()


def server(cmd, tmp, cwd, env):
    with open(os.path.join(tmp, "server.log"), "w") as log:
        return subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)


def http_server(cmd, tmp, dopts, ropts, env):
    """python3 -m http.server: answers before the dump and after the restore."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    www = os.path.join(tmp, "www")
    os.makedirs(www)
    body = b"served across a checkpoint\n" * 100
    with open(os.path.join(www, "file.txt"), "wb") as f:
        f.write(body)

    def ready():
        try:
            return http_get(port, "file.txt", 2) == body
        except OSError:
            return False

    def after():
        for i in range(3):
            if http_get(port, "file.txt") != body:
                raise CaseFailed("wrong answer %d after the restore" % i)

    p = server(cmd + ["--bind", "127.0.0.1", str(port)], tmp, www, env)
    serve_across(p, tmp, dopts, ropts, env, ready, lambda: one_thread(p.pid), after)


def redis_server(cmd, tmp, dopts, ropts, env):
    """redis-server on a unix socket only: a key set before the dump is
    read back after the restore, through a new connection to the socket."""
    sock = os.path.join(tmp, "redis.sock")

    def cli(*args):
        return subprocess.run(["redis-cli", "-s", sock] + list(args), capture_output=True,
                              text=True, timeout=10, env=env).stdout.strip()

    def before():
        if cli("SET", "checkpoint", "kept") != "OK":
            raise CaseFailed("SET failed before the dump")

    def after():
        if cli("GET", "checkpoint") != "kept" or cli("SET", "after", "1") != "OK":
            raise CaseFailed("redis lost its key or stopped answering after the restore")

    p = server(cmd + ["--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no",
                      "--daemonize", "no", "--dir", tmp], tmp, tmp, env)
    serve_across(p, tmp, dopts, ropts, env,
                 lambda: os.path.exists(sock) and cli("PING") == "PONG", before, after)


AUDIT_LOGINUID = "4242"


def in_audit_session(name, env):
    """Run case @name with its inner flow in a runner of its own that first
    enters an audit session (sets its login uid): the program, criu dump and
    criu restore all inherit that session."""
    res = subprocess.run([sys.executable, os.path.abspath(__file__), "--audit-session", name],
                         env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                         timeout=300)
    out = res.stdout.strip()
    if res.returncode == 0 and out == "PASS":
        return None
    return "in an audit session: %s %s" % (out, res.stderr.strip()[-300:])


def audit_session_main(name, env):
    with open("/proc/self/loginuid", "w") as f:
        f.write(AUDIT_LOGINUID)
    _, cmd, flow, dopts, ropts = [c for c in CASES if c[0] == name][0]
    err = run_case(name, cmd, flow[1], dopts, ropts, env)
    print(err or "PASS", flush=True)
    return 1 if err else 0


# Host settings a case needs while it runs (the host's network namespace):
# each is set before the case and put back after it, whatever happened.
PING_ROOT = ("/proc/sys/net/ipv4/ping_group_range", "0 0")
SYSCTLS = {
    "inet_raw": [PING_ROOT],
}


def with_sysctls(name, fn):
    old = []
    try:
        for path, value in SYSCTLS.get(name, []):
            with open(path) as f:
                old.append((path, f.read()))
            with open(path, "w") as f:
                f.write(value)
        return fn()
    finally:
        for path, value in reversed(old):
            with open(path, "w") as f:
                f.write(value)


def run_case(name, cmd, flow, dopts, ropts, env):
    if isinstance(flow, tuple) and flow[0] == "audit":
        return in_audit_session(name, env)
    tmp = tempfile.mkdtemp(prefix="criu-e2e-%s." % name)
    pid = None
    try:
        if flow == "tmux":
            shell_job(cmd, tmp, env)
            return None
        if flow == "tmux_tree":
            shell_job_tree(tmp, env)
            return None
        if flow == "tmux_server":
            tmux_server(tmp, env)
            return None
        if flow == "tail":
            tail_f(cmd, tmp, env)
            return None
        if flow == "http":
            http_server(cmd, tmp, dopts, ropts, env)
            return None
        if flow == "redis":
            redis_server(cmd, tmp, dopts, ropts, env)
            return None
        if isinstance(flow, str) and flow.startswith("tcp_peer"):
            tcp_peer(cmd, tmp, dopts, ropts, env, flow[len("tcp_peer"):].lstrip("_") or "restore")
            return None
        p = None if cmd is None or (isinstance(flow, tuple) and flow[0] in ("cgroup", "freeze")) \
            else start(cmd, tmp)
        pid = p.pid if p else None
        if isinstance(flow, tuple) and flow[0] == "refused":
            status = refused(pid, p, tmp, dopts, env, flow[1])
        elif isinstance(flow, tuple) and flow[0] == "restore_refused":
            restore_refused(p, tmp, dopts, ropts, env, flow[1], flow[2])
            return None
        elif flow == "leave_running":
            status = leave_running(p, tmp, dopts, env)
        elif flow == "sealed":
            status = sealed(p, tmp, dopts, ropts, env)
        elif flow == "predump":
            import predump_flow
            predump_flow.run(sys.modules[__name__], p, tmp, env)
            pid = None
            return None
        elif isinstance(flow, tuple) and flow[0] == "flow":
            status = flow[1](sys.modules[__name__], p, tmp, dopts, ropts, env)
            if status is None:      # no program: the flow checked it all
                return None
        elif isinstance(flow, tuple) and flow[0] == "tampered":
            status = tampered(p, tmp, dopts, ropts, env, flow[1])
        elif flow == "pidns":
            status = pidns_flow(p, tmp, dopts, ropts, env)
        elif flow in ("netns", "netns_nopid") or (isinstance(flow, tuple) and flow[0] == "netns"):
            status = netns_flow(p, tmp, flow, dopts, ropts, env)
            if status is None:
                return None
        elif isinstance(flow, tuple) and flow[0] == "pidns":
            pidns_flow(p, tmp, dopts, ropts, env, refusal=flow[1])
            return None
        elif isinstance(flow, tuple) and flow[0] == "pidns_refused":
            status = refused(tree_pids(tmp)[0], p, tmp, dopts, env, flow[1], stop=p.pid)
        elif isinstance(flow, tuple) and flow[0] == "freeze":
            status = freeze_flow(name, cmd, tmp, dopts, ropts, env, flow[1])
        elif isinstance(flow, tuple) and flow[0] == "cgroup":
            status = cgroup_flow(name, cmd, tmp, dopts, ropts, env, flow[1])
            if status is None:
                return None
        elif isinstance(flow, tuple) and flow[0] == "gap":
            known_gap(name, p, tmp, dopts, ropts, env, flow[1])
            return None
        else:
            status = dump_and_restore(name, p, flow, tmp, dopts, ropts, env)
        pid = None
        check_result(tmp, status)
        return None
    except (CaseFailed, subprocess.TimeoutExpired, OSError, ValueError) as e:
        return str(e)
    finally:
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        # a failed tree case may leave processes of its tree: end them
        try:
            kill_tree(tmp, check=True)
            reap_orphans()
        except (OSError, ValueError):
            pass
        # E2E_KEEP_TMP=1 keeps the case's directory (logs, images) to look into
        if not os.environ.get("E2E_KEEP_TMP"):
            shutil.rmtree(tmp, ignore_errors=True)
        reap_orphans()


# group (relative to each hierarchy) -> {hierarchy mount: {file: value}}
CG_PROPS = {
    "": {CG_V1 + "pids": {"pids.max": "64"}, CG_V1 + "cpu": {"cpu.shares": "512"},
         CG_V2: {"cgroup.max.descendants": "7"}},
    "sub": {CG_V1 + "pids": {"pids.max": "32"}, CG_V2: {"cgroup.max.depth": "3"}},
}


def cg_make(name, props):
    """Groups NAME and NAME/sub in each hierarchy, with @props or as made."""
    for sub in ("", "sub"):
        for mnt in (CG_V1 + "pids", CG_V1 + "cpu", CG_V2):
            d = os.path.join(mnt, name, sub)
            os.makedirs(d, exist_ok=True)
            for f, v in (CG_PROPS[sub].get(mnt, {}).items() if props else ()):
                with open(os.path.join(d, f), "w") as fh:
                    fh.write(v)


def cg_remove(name, timeout=10):
    """rmdir NAME/sub and NAME everywhere (their tasks may still be exiting)."""
    end = time.monotonic() + timeout
    for sub in ("sub", ""):
        for mnt in (CG_V1 + "pids", CG_V1 + "cpu", CG_V2):
            d = os.path.join(mnt, name, sub)
            while os.path.exists(d):
                try:
                    os.rmdir(d)
                except OSError:
                    if time.monotonic() > end:
                        raise CaseFailed("cannot remove cgroup %s" % d)
                    time.sleep(0.01)


def cgroup_flow(name, cmd, tmp, dopts, ropts, env, mode):
    """The program in groups of its own (v1 pids and cpu, v2) with
    properties, its child below: dumped, the groups removed, restored with
    --manage-cgroups=MODE into fresh ones (--cgroup-root); "full", "props"
    and "strict" find them made already, with the kernel's default
    properties (strict must refuse them, the others write the dump's)."""
    before = "criu-e2e-%s-%d" % (name, os.getpid())
    after = before + "-r"
    try:
        cg_make(before, True)
        p = start(cmd + [before, after], tmp)
        imgs = os.path.join(tmp, "imgs")
        dump(p.pid, imgs, dopts, env)
        if p.wait(timeout=20) != -signal.SIGKILL:
            raise CaseFailed("after dump the task ended with %s, not SIGKILL" % p.returncode)
        tree_gone(tmp)
        cg_remove(before)
        if mode in ("full", "strict", "props"):
            cg_make(after, False)
        roots = ["--cgroup-root", "pids:/" + after, "--cgroup-root", "cpu:/" + after,
                 "--cgroup-root", "unified:/" + after]
        refusal = {"strict": "--manage-cgroups=strict: cgroup",
                   "none": "--manage-cgroups=none does not make groups"}.get(mode)
        if refusal:
            rc, out = criu(["restore", "-D", imgs, "-d", "-o", "restore.log", "-v4",
                            "--manage-cgroups=" + mode] + roots + ropts, imgs, env)
            errors = log_errors(os.path.join(imgs, "restore.log"))
            if rc == 0 or refusal not in errors:
                raise CaseFailed("restore exited %d, expected a refusal with %r: %s" % (
                    rc, refusal, errors))
            if os.path.exists("/proc/%d" % p.pid) or os.path.exists(CG_V2 + "/" + before):
                raise CaseFailed("the refused restore left its process or a group behind")
            return None
        if mode == "soft":
            # a restore failing in its last process removes the groups it made
            rc, out = criu(["restore", "-D", imgs, "-d", "-o", "restore-fault.log", "-v4",
                            "--manage-cgroups=soft"] + roots + ropts, imgs,
                           dict(env, CRIU_FAULT="restore-last-task"))
            tree_gone(tmp)
            left = [m for m in (CG_V1 + "pids", CG_V1 + "cpu", CG_V2)
                    if os.path.exists(os.path.join(m, after))]
            if rc == 0 or left:
                raise CaseFailed("the failed restore exited %d and left %s" % (rc, left))
        restore(imgs, ["--manage-cgroups=" + mode] + roots + ropts, env, p.pid)
        os.kill(p.pid, signal.SIGTERM)
        return wait_pid(p.pid, 30)
    finally:
        kill_tree(tmp, check=True)
        reap_orphans()
        cg_remove(before)
        cg_remove(after)


def freezer_state(group):
    """"frozen", "thawed" or "freezing" (v1 freezer.state or v2 cgroup.events)."""
    try:
        with open(os.path.join(group, "freezer.state")) as f:
            return f.read().strip().lower()
    except FileNotFoundError:
        with open(os.path.join(group, "cgroup.events")) as f:
            return "frozen" if "frozen 1" in f.read() else "thawed"


def freeze_flow(name, cmd, tmp, dopts, ropts, env, mnt):
    """A forking tree in a group of its own dumped with --freeze-cgroup: first
    criu kills itself while the group is frozen (its guardian must thaw it
    and the tree runs on), then a real dump; the group is thawed after each
    and the tree restored checks itself."""
    group = os.path.join(mnt, "criu-e2e-%s-%d" % (name, os.getpid()))
    os.mkdir(group)
    try:
        p = start(cmd + [group], tmp)
        fopts = ["--freeze-cgroup", group] + dopts
        criu_dies_at(p.pid, os.path.join(tmp, "imgs-died"), fopts, env, "frozen")
        end = time.monotonic() + 10
        while freezer_state(group) != "thawed":
            if time.monotonic() > end:
                raise CaseFailed("criu died with %s frozen, and it stays so" % group)
            time.sleep(0.01)
        untouched(tmp, "criu's death while the group was frozen")
        imgs = os.path.join(tmp, "imgs")
        dump(p.pid, imgs, fopts, env)
        if p.wait(timeout=20) != -signal.SIGKILL:
            raise CaseFailed("after dump the task ended with %s, not SIGKILL" % p.returncode)
        tree_gone(tmp)
        if freezer_state(group) != "thawed":
            raise CaseFailed("%s is %s after the dump" % (group, freezer_state(group)))
        restore(imgs, ropts, env, p.pid)
        os.kill(p.pid, signal.SIGTERM)
        return wait_pid(p.pid, 30)
    finally:
        kill_tree(tmp, check=True)
        reap_orphans()
        end = time.monotonic() + 10
        while os.path.exists(group):
            try:
                os.rmdir(group)
            except OSError:
                if time.monotonic() > end:
                    raise CaseFailed("cannot remove cgroup %s" % group)
                time.sleep(0.01)


def netns_flow(p, tmp, flow, dopts, ropts, env):
    """pidns_flow for test/e2e/netns.c: @PID@ in the restore options is the
    launcher's pid; with @BR@ the harness makes bridge cbrPID for the veth's
    outside end, checks it joined it and is up, and removes it."""
    bridge = "cbr%d" % p.pid if any("@BR@" in o for o in ropts) else None
    ropts = [o.replace("@PID@", str(p.pid)).replace("@BR@", bridge or "") for o in ropts]
    after = None
    if bridge:
        subprocess.run(["ip", "link", "add", bridge, "type", "bridge"], check=True)

        def after():
            out = "/sys/class/net/cvr%d" % p.pid
            master = os.path.basename(os.readlink(out + "/master"))
            with open(out + "/flags") as f:
                up = int(f.read(), 16) & 1
            if master != bridge or not up:
                raise CaseFailed("the outside end is in %s (up: %d), not %s" % (master, up, bridge))
    try:
        return pidns_flow(p, tmp, dopts, ropts, env,
                          refusal=flow[1] if isinstance(flow, tuple) else None,
                          own_pidns=flow != "netns_nopid", after=after)
    finally:
        if bridge:
            subprocess.run(["ip", "link", "del", bridge])


def pidns_flow(p, tmp, dopts, ropts, env, refusal=None, own_pidns=True, after=None):
    """The program's first child is pid 1 of a pid namespace of its own (its
    host pid in "pids"): dump that tree, restore it into a new pid namespace
    (the root's host pid is the kernel's choice), check it is pid 1 there,
    stop it. Without @own_pidns the child is in criu's pid namespace (in
    other namespaces of its own) and comes back with its pid."""
    root = tree_pids(tmp)[0]
    imgs = os.path.join(tmp, "imgs")
    dump(root, imgs, dopts, env)
    if p.wait(timeout=20) != 0:
        raise CaseFailed("the launcher ended with %s" % p.returncode)
    tree_gone(tmp)
    rc, out = criu(["restore", "-D", imgs, "-d", "--pidfile", "restored.pid", "-o",
                    "restore.log", "-v4"] + ropts, imgs, env)
    errors = log_errors(os.path.join(imgs, "restore.log"))
    if refusal:
        if rc == 0 or refusal not in errors:
            raise CaseFailed("restore exited %d, expected a refusal with %r: %s" % (
                rc, refusal, errors))
        if os.path.exists(os.path.join(imgs, "restored.pid")):
            raise CaseFailed("a refused restore wrote its pidfile")
        return None
    if rc != 0:
        raise CaseFailed("restore exited %d: %s %s" % (rc, out.strip()[:300], errors))
    no_errors(os.path.join(imgs, "restore.log"), "restore")
    with open(os.path.join(imgs, "restored.pid")) as f:
        got = int(f.read().strip())
    with open(os.path.join(tmp, "pids"), "w") as f:
        f.write("%d\n" % got)  # what kill_tree ends if the case fails
    nspid = proc_status(got)["NSpid"].split()
    if own_pidns and (len(nspid) != 2 or nspid[-1] != "1"):
        raise CaseFailed("the restored root's NSpid is %s, not HOST 1" % nspid)
    if after:
        after()
    os.kill(got, signal.SIGTERM)
    return wait_pid(got, 30)


def check_result(tmp, status):
    try:
        with open(os.path.join(tmp, "result")) as f:
            result = f.read().strip()
    except OSError:
        result = "no result (wait status %#x)" % status
    if result != "PASS":
        raise CaseFailed(result)
    tree_gone(tmp)


def known_gap(name, p, tmp, dopts, ropts, env, text):
    """A gap listed in Documentation/audit.md ("Known gaps"): the case runs
    as a "once" case and must fail, with `text` in the reason, until the
    gap is closed; then its line becomes a "once" case."""
    try:
        check_result(tmp, dump_and_restore(name, p, "once", tmp, dopts, ropts, env))
    except CaseFailed as e:
        if text not in str(e):
            raise CaseFailed("known gap, but it failed otherwise (not with %r): %s" % (text, e))
        return
    raise CaseFailed("known gap %r is closed: make the case \"once\" and update "
                     "Documentation/audit.md" % text)


def wait_state(pid, want, timeout=10):
    end = time.monotonic() + timeout
    while proc_status(pid)["State"].split()[0] != want:
        if time.monotonic() > end:
            raise CaseFailed("%d is not in state %s" % (pid, want))
        time.sleep(0.005)


def tree_pids(tmp):
    with open(os.path.join(tmp, "pids")) as f:
        return [int(x) for x in f.read().split()]


def proc_status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(l.split(":", 1) for l in f if ":" in l)


def dump_fault(pid, tmp, opts, env, point="after-parasite", nth="2"):
    """A dump failing in the tree's second process (or at @point) leaves
    every process running: not traced, not stopped (zombies stay zombies)."""
    imgs = os.path.join(tmp, "imgs-fault")
    os.makedirs(imgs)
    fenv = dict(env, CRIU_FAULT=point, CRIU_FAULT_NTH=nth)
    rc, out = criu(["dump", "-t", str(pid), "-D", imgs, "-o", "dump.log", "-v4"] + opts,
                   imgs, fenv)
    if rc == 0 or ("fault injected at %s" % point) not in open(
            os.path.join(imgs, "dump.log")).read():
        raise CaseFailed("dump with a fault in the second process: exit %d" % rc)
    if os.path.exists(os.path.join(imgs, "inventory.img")):
        raise CaseFailed("a failed dump left an inventory")
    for top, _, names in os.walk(tmp):
        left = [n for n in names if n.startswith(".criu-link-remap.")]
        if left:
            raise CaseFailed("a failed dump left %s in %s" % (left[0], top))
    untouched(tmp, "the failed dump", pid)


def untouched(tmp, what, pid=None):
    """Every process of the tree (a lone @pid if it lists none) runs on:
    not traced, not stopped."""
    lone = pid is not None and not os.path.exists(os.path.join(tmp, "pids"))
    for p in [pid] if lone else tree_pids(tmp):
        st = proc_status(p)
        state = st["State"].split()[0]
        if int(st["TracerPid"]) != 0 or state in ("T", "t"):
            raise CaseFailed("after %s %d is %s, traced by %s" % (
                what, p, state, st["TracerPid"].strip()))


# flow -> the point past the commit where criu_dies() has criu SIGKILL itself
CRIU_DIES = {"criu_dies": "during-kill", "criu_dies_committed": "after-commit"}


def guard_gone(timeout=10):
    """Until no guardian of a dump (criu/tcp-guard.c) runs: it outlives criu
    for the moment it takes to put the sockets back."""
    end = time.monotonic() + timeout
    while True:
        left = []
        for d in os.listdir("/proc"):
            try:
                st = open("/proc/%s/stat" % d).read() if d.isdigit() else ""
                if "(criu-tcp-guard) " in st and st.rsplit(") ", 1)[1][0] != "Z":
                    left.append(d)
            except OSError:
                pass
        if not left:
            return
        if time.monotonic() > end:
            raise CaseFailed("the guardian %s is still running" % left)
        time.sleep(0.002)


def criu_dies_at(pid, imgs, opts, env, point):
    """A dump into @imgs where criu SIGKILLs itself at @point."""
    os.makedirs(imgs)
    rc, out = criu(["dump", "-t", str(pid), "-D", imgs, "-o", "dump.log", "-v4"] + opts,
                   imgs, dict(env, CRIU_FAULT="die-" + point))
    if rc != -signal.SIGKILL or "fault injected at %s" % point not in open(
            os.path.join(imgs, "dump.log")).read():
        raise CaseFailed("criu told to die at %s: exit %d %s" % (point, rc, out[:200]))


def criu_dies(pid, tmp, opts, env, after):
    """criu SIGKILLed just before the images are committed leaves the tree
    running untouched and no inventory; SIGKILLed at `after` (a point past
    the commit) it leaves none of the tree: the kernel ends what it traced
    (PTRACE_O_EXITKILL). Returns the images of the second dump."""
    for point, imgs in (("before-commit", "imgs-died"), (after, "imgs")):
        imgs = os.path.join(tmp, imgs)
        criu_dies_at(pid, imgs, opts, env, point)
        if point == "before-commit":
            if os.path.exists(os.path.join(imgs, "inventory.img")):
                raise CaseFailed("criu died before the commit and left an inventory")
            untouched(tmp, "criu's death before the commit")
    return imgs


def restore_fault(imgs, tmp, opts, env):
    """A restore failing in the last process, or after the release, leaves
    no process behind."""
    fenv = dict(env, CRIU_FAULT="restore-last-task")
    rc, out = criu(["restore", "-D", imgs, "-d", "-o", "restore-fault.log", "-v4"] + opts,
                   imgs, fenv)
    if rc == 0 or "fault injected" not in open(os.path.join(imgs, "restore-fault.log")).read():
        raise CaseFailed("restore with a fault in the last process: exit %d" % rc)
    tree_gone(tmp, 0)
    # failing after the tree was released (the pidfile cannot be written):
    # every process is running its own code by then, and is killed all the same
    rc, out = criu(["restore", "-D", imgs, "-d", "--pidfile", "no/such/dir/pid",
                    "-o", "restore-late.log", "-v4"] + opts, imgs, env)
    if rc == 0 or "cannot write the pidfile" not in open(
            os.path.join(imgs, "restore-late.log")).read():
        raise CaseFailed("restore with an unwritable pidfile: exit %d" % rc)
    tree_gone(tmp, 0)


def tree_states(tmp, want):
    """Every listed process is in state `want` (zombies stay zombies)."""
    for p in tree_pids(tmp):
        end = time.monotonic() + 10
        while True:
            state = proc_status(p)["State"].split()[0]
            if state in (want, "Z"):
                break
            if time.monotonic() > end:
                raise CaseFailed("%d is in state %s, not %s" % (p, state, want))
            time.sleep(0.005)


def kill_tree(tmp, check=False):
    """SIGKILL every live process a tree case listed. With check, only those
    still running the case's program (its command line names tmp): a pid
    that ended may belong to someone else by now."""
    if not os.path.exists(os.path.join(tmp, "pids")):
        return
    for p in tree_pids(tmp):
        try:
            if check:
                with open("/proc/%d/cmdline" % p, "rb") as f:
                    if tmp.encode() not in f.read():
                        continue
            os.kill(p, signal.SIGKILL)
        except (ProcessLookupError, FileNotFoundError):
            pass


def tree_gone(tmp, timeout=10):
    """Every pid a tree case listed in its "pids" file is gone (this runner,
    a subreaper, reaps the ones it inherits)."""
    try:
        with open(os.path.join(tmp, "pids")) as f:
            pids = [int(x) for x in f.read().split()]
    except OSError:
        return
    wait_gone(pids, timeout)


def reap_orphans():
    """As a subreaper this runner inherits orphans (daemons, criu's helpers):
    reap every child that has already exited."""
    while True:
        try:
            # __WALL: also children whose exit signal is not SIGCHLD
            pid, _ = os.waitpid(-1, os.WNOHANG | WALL)
        except ChildProcessError:
            return
        if pid == 0:
            return


def strays(timeout=5):
    """Children this runner still has after a case (each case's processes are
    gone by then, or reaped as orphans): waited for a while, then killed.
    Their pids and command lines, for naming the case that left them."""
    end = time.monotonic() + timeout
    while True:
        reap_orphans()
        kids = []
        for task in os.listdir("/proc/self/task"):
            try:
                with open("/proc/self/task/%s/children" % task) as f:
                    kids += [int(x) for x in f.read().split()]
            except OSError:
                pass
        if not kids or time.monotonic() > end:
            break
        time.sleep(0.01)
    named = []
    for pid in kids:
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                named.append("%d %s" % (pid, f.read().replace(b"\0", b" ").decode(errors="replace")[:80]))
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, WALL)
        except OSError:
            pass
    reap_orphans()
    return named


def not_built():
    out = subprocess.run([CRIU, "--help"], capture_output=True, text=True).stdout
    return [l.split()[0] for l in out.splitlines()
            if l.split()[:1] in (["dump"], ["restore"]) and "not supported yet" in l]


def main():
    import ctypes
    ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    env = dict(os.environ)
    missing = not_built()
    if missing:
        for case in CASES:
            print("SKIP e2e: %s: %s not built yet" % (case[0], " and ".join(missing)))
        return 0
    wanted = sys.argv[1:]
    if wanted[:1] == ["--audit-session"]:
        return audit_session_main(wanted[1], env)
    failed = 0
    for name, cmd, flow, dopts, ropts in CASES:
        if wanted and name not in wanted:
            continue
        err = with_sysctls(name, lambda: run_case(name, cmd, flow, dopts, ropts, env))
        left = strays()
        if left and not err:
            err = "left processes behind: %s" % "; ".join(left)
        if err:
            failed += 1
            print("FAIL e2e: %s: %s" % (name, err), flush=True)
        else:
            print("PASS e2e: %s" % name, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
