#!/bin/bash
# Command-line behaviour of the criu binary, as users and runtimes see it.
# One case per function; prints PASS/FAIL lines for test/run.py.
set -u
cd "$(dirname "$0")/.." || exit 1
CRIU=${CRIU:-$PWD/criu/criu}
TMP=$(mktemp -d /tmp/criu-cli.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
export HOME=$TMP/home		# keep the user's ~/.criu/default.conf out
unset CRIU_CONFIG_FILE
mkdir -p "$HOME"
failed=0

# run: capture stdout, stderr and the exit status of criu "$@"
run() {
	"$CRIU" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
}

pass() { echo "PASS cli: $1"; }
fail() { echo "FAIL cli: $1: $2"; failed=1; }

t_help_lists_every_command() {
	run --help
	[ $rc -eq 0 ] || { fail "$1" "--help exited $rc"; return; }
	for c in dump pre-dump restore check page-server lazy-pages service swrk dedup cpuinfo show encode; do
		grep -qE "^  $c( |$)" "$TMP/out" || { fail "$1" "--help does not list $c"; return; }
	done
	for o in --tree --images-dir leave-running tcp-established shell-job exec-cmd; do
		grep -q -- "$o" "$TMP/out" || { fail "$1" "--help does not list $o"; return; }
	done
	run -h
	[ $rc -eq 0 ] && grep -q "Commands:" "$TMP/out" || { fail "$1" "-h differs"; return; }
	pass "$1"
}

t_version() {
	run --version
	[ $rc -eq 0 ] && [ "$(sed -n 1p "$TMP/out")" = "Version: $(cat VERSION)" ] ||
		{ fail "$1" "--version: $(cat "$TMP/out")"; return; }
	grep -qE '^GitID: [^ ]+$' <(sed -n 2p "$TMP/out") || { fail "$1" "no GitID line: $(cat "$TMP/out")"; return; }
	# LXC wants at least 2.0, and compares the text as a string
	[ "$(printf '%s\n' "$(cat VERSION)" 4.0 | sort -V | head -n1)" = 4.0 ] ||
		{ fail "$1" "version $(cat VERSION) is below 4.0"; return; }
	run -V
	[ $rc -eq 0 ] && grep -q "^Version: " "$TMP/out" || { fail "$1" "-V"; return; }
	pass "$1"
}

t_unknown_option_is_usage_error() {
	run --bogus
	[ $rc -eq 1 ] || { fail "$1" "exit $rc, want 1"; return; }
	grep -q "Usage: criu" "$TMP/err" || { fail "$1" "no usage on stderr"; return; }
	[ ! -s "$TMP/out" ] || { fail "$1" "wrote to stdout"; return; }
	run dump -t
	[ $rc -eq 1 ] && grep -q "Usage: criu" "$TMP/err" || { fail "$1" "missing argument: exit $rc"; return; }
	run dump -t notapid
	[ $rc -eq 1 ] && grep -q "bad value 'notapid'" "$TMP/err" || { fail "$1" "malformed -t: exit $rc"; return; }
	run frobnicate
	[ $rc -eq 1 ] && grep -q "unknown command" "$TMP/err" || { fail "$1" "unknown command: exit $rc"; return; }
	run
	[ $rc -eq 1 ] || { fail "$1" "no command: exit $rc"; return; }
	pass "$1"
}

t_not_supported_yet() {
	run dump --evasive-devices -t 1
	[ $rc -ne 0 ] || { fail "$1" "exit 0"; return; }
	grep -qE "^Error \(criu/options.c:[0-9]+\): --evasive-devices is not supported yet$" "$TMP/err" ||
		{ fail "$1" "message: $(cat "$TMP/err")"; return; }
	grep -qi "unknown\|unrecognized" "$TMP/err" && { fail "$1" "called it unknown"; return; }
	run check --lazy-pages
	[ $rc -ne 0 ] && grep -q -- "--lazy-pages is not supported yet" "$TMP/err" ||
		{ fail "$1" "--lazy-pages accepted"; return; }
	pass "$1"
}

t_no_prefix_of_unbuilt_option_is_fine() {
	run check --no-evasive-devices --feature memfd
	grep -q "not supported" "$TMP/err" && { fail "$1" "$(cat "$TMP/err")"; return; }
	pass "$1"
}

t_log_file_relative_to_work_dir() {
	mkdir -p "$TMP/imgs" "$TMP/work"
	run dump -t 1 -D "$TMP/imgs" -o my.log --evasive-devices
	[ -s "$TMP/imgs/my.log" ] || { fail "$1" "log not in images dir"; return; }
	grep -q "^Error (" "$TMP/imgs/my.log" || { fail "$1" "error not in log"; return; }
	[ "$(stat -c %a "$TMP/imgs/my.log")" = 600 ] || { fail "$1" "log mode not 0600"; return; }
	run dump -t 1 -D "$TMP/imgs" -W "$TMP/work" -o w.log --evasive-devices
	[ -s "$TMP/work/w.log" ] && [ ! -e "$TMP/imgs/w.log" ] || { fail "$1" "-W ignored"; return; }
	[ ! -s "$TMP/err" ] || { fail "$1" "errors went to stderr as well as the log"; return; }
	pass "$1"
}

t_timestamps_from_level_3() {
	run dump -t 1 -v3 --evasive-devices
	grep -qE '^\([0-9]{2}\.[0-9]{6}\) Error \(' "$TMP/err" || { fail "$1" "no timestamp: $(cat "$TMP/err")"; return; }
	run dump -t 1 -v2 --evasive-devices
	grep -qE '^\(' "$TMP/err" && { fail "$1" "timestamp at level 2"; return; }
	run dump -t 1 -v0 --evasive-devices
	[ ! -s "$TMP/err" ] || { fail "$1" "-v0 still logs: $(cat "$TMP/err")"; return; }
	pass "$1"
}

t_config_files() {
	printf 'evasive-devices\n' >"$TMP/c.conf"
	CRIU_CONFIG_FILE=$TMP/c.conf "$CRIU" dump -t 1 >"$TMP/out" 2>"$TMP/err"
	grep -q -- "--evasive-devices is not supported yet" "$TMP/err" || { fail "$1" "env config ignored"; return; }
	run dump -t 1 --config "$TMP/c.conf"
	grep -q -- "--evasive-devices is not supported yet" "$TMP/err" || { fail "$1" "--config ignored"; return; }
	run dump -t 1 --config "$TMP/c.conf" --no-evasive-devices
	grep -q -- "--evasive-devices" "$TMP/err" && { fail "$1" "command line did not win"; return; }
	mkdir -p "$HOME/.criu" && printf 'bogus-option\n' >"$HOME/.criu/default.conf"
	run check
	[ $rc -eq 1 ] && grep -q "default.conf:1: unknown option 'bogus-option'" "$TMP/err" ||
		{ fail "$1" "bad user config accepted: $(cat "$TMP/err")"; return; }
	run check --no-default-config --feature memfd
	grep -q "bogus-option" "$TMP/err" && { fail "$1" "--no-default-config ignored"; return; }
	rm -f "$HOME/.criu/default.conf"
	pass "$1"
}

t_commands_not_built_refuse() {
	for c in dump pre-dump restore page-server lazy-pages service dedup; do
		if grep -qE "^  $c .*not supported yet" <("$CRIU" --help); then
			run $c
			[ $rc -ne 0 ] && grep -q "Error (.*): $c is not supported yet" "$TMP/err" ||
				{ fail "$1" "$c: exit $rc: $(cat "$TMP/err")"; return; }
		fi
	done
	pass "$1"
}

t_man_page_lists_every_option() {
	local o
	# the man page as plain text: drop font changes, unescape dashes
	sed 's/\\f[BIRP]//g; s/\\-/-/g; s/\[no-\]//g' Documentation/criu.8 >"$TMP/man.txt"
	run --help
	for o in $(grep -oE -- '--(\[no-\])?[a-z0-9-]+' "$TMP/out" | sed 's/\[no-\]//' | sort -u); do
		grep -qE -- "(^|[ ,])$o([][ ,=]|$)" "$TMP/man.txt" ||
			{ fail "$1" "Documentation/criu.8 does not describe $o"; return; }
	done
	pass "$1"
}

# Start `sleep` as a session leader with only stdin/out/err; sets $SLEEPER.
start_sleeper() {
	(
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] && eval "exec $fd>&-"
		done
		exec setsid sleep 1000
	) </dev/null >/dev/null 2>&1 &
	SLEEPER=$!
	disown "$SLEEPER"	# its end is criu's business, not a job of this shell
	until [ "$(readlink /proc/$SLEEPER/exe 2>/dev/null)" = "$(readlink -f "$(command -v sleep)")" ]; do
		sleep 0.02
	done
}

# Dump (and wait for the end of) $SLEEPER with extra options "$@" into $TMP/$name.
dump_sleeper() {
	local name=$1
	shift
	rm -rf "${TMP:?}/$name" && mkdir -p "$TMP/$name"
	run dump -t "$SLEEPER" -D "$TMP/$name" -o dump.log "$@"
	[ $rc -eq 0 ] || kill -9 "$SLEEPER" 2>/dev/null
	while kill -0 "$SLEEPER" 2>/dev/null; do sleep 0.02; done	# reaped by this shell
	return $rc
}

# PTRACE_SEIZE's EPERM names its cause: a kernel thread, or a tracer by pid and name.
t_seize_refusals_name_the_cause() {
	local tracer pid
	run dump -t 2 -D "$TMP"
	[ $rc -eq 1 ] && grep -q "can't seize 2 (kthreadd): a kernel thread" "$TMP/err" ||
		{ fail "$1" "kthreadd: exit $rc: $(cat "$TMP/err")"; return; }
	strace -f -qq -e trace=none -o /dev/null setsid sleep 1000 </dev/null >/dev/null 2>&1 &
	tracer=$!
	pid=
	until [ -n "$pid" ]; do
		pid=$(pgrep -P "$tracer" -x sleep)
		sleep 0.02
	done
	run dump -t "$pid" -D "$TMP"
	kill -9 "$pid"
	wait "$tracer" 2>/dev/null	# strace reaps its child (the sleep), then ends
	[ $rc -eq 1 ] && grep -q "can't seize $pid (sleep): already traced by PID $tracer (strace)" "$TMP/err" ||
		{ fail "$1" "traced: exit $rc: $(cat "$TMP/err")"; return; }
	pass "$1"
}

t_pre_dump_mode() {
	start_sleeper
	dump_sleeper pdm --pre-dump-mode splice ||
		{ fail "$1" "dump --pre-dump-mode splice: $(cat "$TMP/err" "$TMP/pdm/dump.log")"; return; }
	start_sleeper
	dump_sleeper pdm --pre-dump-mode=read ||
		{ fail "$1" "dump --pre-dump-mode=read: $(cat "$TMP/err" "$TMP/pdm/dump.log")"; return; }
	run dump -t 1 --pre-dump-mode copy
	[ $rc -eq 1 ] && grep -q "bad value 'copy' for --pre-dump-mode" "$TMP/err" ||
		{ fail "$1" "--pre-dump-mode copy: exit $rc: $(cat "$TMP/err")"; return; }
	run dump -t 1 -D "$TMP" --prev-images-dir ../x
	[ $rc -ne 0 ] && grep -q "Error (.*: --prev-images-dir needs --track-mem" "$TMP/err" ||
		{ fail "$1" "dump --prev-images-dir without --track-mem: exit $rc: $(cat "$TMP/err")"; return; }
	pass "$1"
}

# What -v... gives, seen from the log of one passing and one failing check:
# 0 silent, 1 errors, 3 info with timestamps, 4 debug ("kerndat:" lines).
verbosity_of() {
	run check --feature memfd --feature tun "$@"
	if grep -q "kerndat: " "$TMP/err"; then echo 4
	elif grep -q "^(.*check: memfd: yes" "$TMP/err"; then echo 3
	elif grep -q "Error" "$TMP/err"; then echo 1
	elif [ -s "$TMP/err" ]; then echo "?"
	else echo 0
	fi
}

t_verbosity_spellings() {
	local spell want got
	# spelling:level as the established tool reads it
	for case in "-v0:0" "-v1:1" "-v3:3" "-v4:4" "-v:3" "-vv:4" "-vvv:4" "--verbosity=0:0" \
		    "--verbosity=3:3" "--verbosity:3" "-verbosity=0:0" "-verbosity=4:0" "-vabc:0"; do
		spell=${case%:*} want=${case##*:}
		got=$(verbosity_of "$spell")
		[ "$got" = "$want" ] || { fail "$1" "$spell gives level $got, want $want"; return; }
	done
	got=$(verbosity_of -v0 -v)
	[ "$got" = 1 ] || { fail "$1" "-v0 -v gives $got, want 1"; return; }
	run check -verbosity=0 --feature memfd
	[ $rc -eq 0 ] && [ ! -s "$TMP/err" ] && grep -qx "Looks good." "$TMP/out" ||
		{ fail "$1" "check -verbosity=0 --feature memfd: exit $rc: $(cat "$TMP/err")"; return; }
	# the number must be attached: "--verbosity 4" is --verbosity and a word "4"
	run check --verbosity 4
	[ $rc -eq 1 ] && grep -q "check takes no arguments" "$TMP/err" ||
		{ fail "$1" "--verbosity 4: exit $rc: $(cat "$TMP/err")"; return; }
	pass "$1"
}

# Every option of this line is built; the dump fails on the missing freezer group.
t_lxc_dump_command_line() {
	local o
	mkdir -p "$TMP/lxc"
	run dump --tcp-established --file-locks --link-remap --manage-cgroups=full \
		--ext-mount-map auto --enable-external-sharing --enable-external-masters \
		--enable-fs hugetlbfs --enable-fs tracefs --cgroup-root /lxc/ct \
		--cgroup-root memory:/lxc/ct --skip-in-flight --freeze-cgroup /sys/fs/cgroup/freezer/lxc/ct \
		--ext-mount-map /dev/console:console --force-irmap -D "$TMP/lxc" -o dump.log -t 1
	[ $rc -eq 1 ] || { fail "$1" "exit $rc"; return; }
	[ ! -s "$TMP/err" ] || { fail "$1" "stderr: $(cat "$TMP/err")"; return; }
	# the freezer group of the line does not exist here: that is what fails
	grep -q "Error (.*): .*--freeze-cgroup /sys/fs/cgroup/freezer/lxc/ct: neither" "$TMP/lxc/dump.log" ||
		{ fail "$1" "no refusal of the missing group: $(cat "$TMP/lxc/dump.log")"; return; }
	for o in tcp-established skip-in-flight file-locks link-remap ext-mount-map enable-external enable-fs force-irmap manage-cgroups cgroup-root; do
		grep -q -- "--$o is not supported" "$TMP/lxc/dump.log" && { fail "$1" "--$o refused: $(cat "$TMP/lxc/dump.log")"; return; }
	done
	pass "$1"
}

# Every option of the established tool's man page, with a value where it takes one.
MAN_OPTIONS=(
	"-v" "-vvv" "-v4" "--verbosity=4" "--config=/dev/null" "--no-default-config" "--pidfile /tmp/x"
	"-o -" "--log-file -" "--display-stats" "--no-display-stats" "-D ." "--images-dir ."
	"--stream" "--prev-images-dir ../x" "-W ." "--work-dir ." "--close 99" "-L /tmp" "--libdir /tmp"
	"--enable-fs hugetlbfs" "--enable-fs all" "--action-script /bin/true" "--unprivileged" "--track-mem"
	"--pre-dump-mode=splice" "--pre-dump-mode=read" "-t 1" "--tree 1" "-R" "--leave-running" "-s"
	"--leave-stopped" "--external mnt[]:sm" "--freeze-cgroup /x" "--manage-cgroups"
	"--manage-cgroups=ignore" "--cgroup-props x" "--cgroup-props-file /x" "--cgroup-dump-controller cpu"
	"--cgroup-yard /x" "--tcp-established" "--tcp-close" "--skip-in-flight" "--evasive-devices"
	"--page-server" "--force-irmap" "--auto-dedup" "-l" "--file-locks" "--link-remap" "--timeout 5"
	"--ghost-limit 1M" "--ghost-fiemap" "--no-ghost-fiemap" "-j" "--shell-job" "--cpu-cap"
	"--cpu-cap=fpu,ins" "--cgroup-root /x" "--cgroup-root cpu:/x" "--lazy-pages"
	"--file-validation filesize" "--file-validation buildid" "--network-lock iptables"
	"--network-lock nftables" "--network-lock skip" "--allow-uprobes" "--inherit-fd fd[3]:tty[1:2]"
	"-d" "--restore-detached" "-S" "--restore-sibling" "--log-pid" "-r /x" "--root /x"
	"-J net:/x" "--join-ns uts:1" "--veth-pair eth0=veth0" "--lsm-profile apparmor:x"
	"--lsm-mount-context system_u:object_r:x:s0" "--auto-dedup" "--weak-sysctls"
	"--skip-file-rwx-check" "--extra" "--experimental" "--all" "--daemon" "--status-fd 9"
	"--address 127.0.0.1" "--port 1234" "--ps-socket 9" "--tls-cacert /x" "--tls-cacrl /x"
	"--tls-cert /x" "--tls-key /x" "--tls" "--tls-no-cn-verify" "--ext-mount-map auto"
	"-M a:b" "--enable-external-sharing" "--enable-external-masters" "--skip-mnt /x"
	"--irmap-scan-path /x" "--mntns-compat-mode" "--deprecated" "-x" "--ext-unix-sk"
	"--empty-ns net" "--exec-cmd" "--no-leave-running"
)

t_man_page_options_parse() {
	local spell
	for spell in "${MAN_OPTIONS[@]}"; do
		# shellcheck disable=SC2086
		run check --feature memfd $spell
		if [ $rc -ne 0 ]; then
			grep -qE "Error \(.*\): --[a-z-]+(=[a-z]+)? is not supported yet" "$TMP/err" ||
				{ fail "$1" "$spell: exit $rc: $(cat "$TMP/err")"; return; }
		fi
		grep -qi "usage\|bad value\|unknown\|unrecognized" "$TMP/err" &&
			{ fail "$1" "$spell: $(cat "$TMP/err")"; return; }
	done
	for spell in "--ext-mount-map nocolon" "--veth-pair eth0" "--lsm-profile smack:x" \
		     "--file-validation md5" "--network-lock ebtables" "--close x" "--enable-fs="; do
		# shellcheck disable=SC2086
		run check $spell
		[ $rc -eq 1 ] && grep -q "bad value" "$TMP/err" || { fail "$1" "$spell accepted"; return; }
	done
	pass "$1"
}

# Options whose meaning is already true of every tree we dump: a real dump
# and restore with all of them.
t_options_true_of_every_tree() {
	local pid
	start_sleeper
	pid=$SLEEPER
	dump_sleeper free --ext-mount-map auto -M /dev/console:console --enable-external-sharing \
		--enable-external-masters --enable-fs hugetlbfs --skip-mnt /proc --force-irmap \
		--ghost-fiemap --network-lock skip --manage-cgroups=ignore --pre-dump-mode splice \
		--deprecated --close 99 ||
		{ fail "$1" "dump: $(cat "$TMP/err" "$TMP/free/dump.log")"; return; }
	# Attached, so the restored sleep is criu's child and criu reaps it
	# (detached, it would be left to whoever adopts orphans).
	"$CRIU" restore -D "$TMP/free" -o restore.log -v3 --mntns-compat-mode --weak-sysctls \
		--skip-file-rwx-check --file-validation filesize --lsm-mount-context x \
		--veth-pair eth0=veth0 --no-ghost-fiemap --manage-cgroups=ignore \
		>"$TMP/out" 2>"$TMP/err" &
	local crpid=$! i want
	want=$(readlink -f "$(command -v sleep)")
	for i in $(seq 500); do	# until criu released the restored sleep, or gave up
		grep -q "tree of $pid restored" "$TMP/free/restore.log" 2>/dev/null && break
		kill -0 "$crpid" 2>/dev/null || break
		sleep 0.02
	done
	if [ "$(readlink /proc/$pid/exe 2>/dev/null)" != "$want" ]; then
		kill -9 "$pid" 2>/dev/null; wait "$crpid"
		fail "$1" "pid $pid is not sleep after restore: $(cat "$TMP/err" "$TMP/free/restore.log")"
		return
	fi
	kill -9 "$pid"
	wait "$crpid"
	grep -q "Error" "$TMP/free/dump.log" "$TMP/free/restore.log" && { fail "$1" "Error in a log"; return; }
	pass "$1"
}

# --action-script: every stage of a dump and a restore, in order, with the
# root's pid where it is known; a script failing at pre-dump fails the dump
# and the tree runs on.
t_action_scripts() {
	local pid crpid i
	printf '#!/bin/sh\necho "$CRTOOLS_SCRIPT_ACTION ${CRTOOLS_INIT_PID:-none}" >> %s/stages\n' "$TMP" >"$TMP/act.sh"
	printf '#!/bin/sh\n[ "$CRTOOLS_SCRIPT_ACTION" != pre-dump ]\n' >"$TMP/no.sh"
	chmod +x "$TMP/act.sh" "$TMP/no.sh"
	start_sleeper
	pid=$SLEEPER
	run dump -t "$pid" -D "$TMP" -o refused.log --action-script "$TMP/no.sh"
	[ $rc -eq 1 ] && grep -q "action script .* failed at pre-dump" "$TMP/refused.log" &&
		kill -0 "$pid" || { kill -9 "$pid"; fail "$1" "a failing pre-dump script: exit $rc"; return; }
	rm -f "$TMP/stages"
	dump_sleeper act --action-script "$TMP/act.sh" ||
		{ fail "$1" "dump: $(cat "$TMP/err")"; return; }
	"$CRIU" restore -D "$TMP/act" -o restore.log --action-script "$TMP/act.sh" \
		>"$TMP/out" 2>"$TMP/err" &
	crpid=$!
	for i in $(seq 500); do
		grep -q post-resume "$TMP/stages" 2>/dev/null && break
		kill -0 "$crpid" 2>/dev/null || break
		sleep 0.02
	done
	kill -9 "$pid" 2>/dev/null
	wait "$crpid"
	printf '%s\n' "pre-dump $pid" "post-dump $pid" "pre-restore none" "post-restore $pid" \
		"pre-resume $pid" "post-resume $pid" | cmp -s - "$TMP/stages" ||
		{ fail "$1" "stages: $(tr '\n' ' ' <"$TMP/stages") $(cat "$TMP/err")"; return; }
	pass "$1"
}

# make install into a DESTDIR: the binary, the library and its links, the
# header, the man page and a pkg-config file that points at them.
t_make_install() {
	local d=$TMP/inst
	make -s install DESTDIR="$d" PREFIX=/usr/local >"$TMP/out" 2>&1 ||
		{ fail "$1" "make install: $(cat "$TMP/out")"; return; }
	for f in sbin/criu lib/libcriu.so.2 lib/libcriu.so include/criu/criu.h \
		share/man/man8/criu.8 lib/pkgconfig/criu.pc; do
		[ -e "$d/usr/local/$f" ] || { fail "$1" "no $f"; return; }
	done
	[ "$("$d/usr/local/sbin/criu" --version | head -1)" = "$("$CRIU" --version | head -1)" ] ||
		{ fail "$1" "installed criu --version differs"; return; }
	PKG_CONFIG_PATH=$d/usr/local/lib/pkgconfig pkg-config --cflags --libs criu >"$TMP/out" 2>&1 &&
		grep -q -- "-I/usr/local/include/criu" "$TMP/out" && grep -q -- "-lcriu" "$TMP/out" ||
		{ fail "$1" "pkg-config: $(cat "$TMP/out")"; return; }
	pass "$1"
}

t_swrk_needs_a_socket() {
	run swrk abc
	[ $rc -eq 1 ] && grep -q "swrk takes a descriptor number" "$TMP/err" ||
		{ fail "$1" "swrk abc: exit $rc: $(cat "$TMP/err")"; return; }
	run swrk 0 </dev/null
	[ $rc -eq 1 ] && grep -q "fd 0 is not a unix socket" "$TMP/err" ||
		{ fail "$1" "swrk 0: exit $rc: $(cat "$TMP/err")"; return; }
	pass "$1"
}

t_tls_without_page_server_warns() {
	local gone
	true & gone=$!
	wait $gone	# a pid no process has now: the dump fails at the seize
	run dump -t $gone -R -D "$TMP/tls-nodir" --tls --tls-cacert /nonexistent
	[ $rc -ne 0 ] || { fail "$1" "dump of a gone pid exited 0"; return; }
	for o in --tls --tls-cacert; do
		grep -q "Warn.*$o without --page-server or --ps-socket has no effect" "$TMP/err" ||
			{ fail "$1" "$o not named: $(cat "$TMP/err")"; return; }
	done
	pass "$1"
}

t_dedup_needs_a_dump() {
	mkdir -p "$TMP/nodump"
	run dedup -D "$TMP/nodump"
	[ $rc -eq 1 ] && grep -q "no dump in $TMP/nodump" "$TMP/err" ||
		{ fail "$1" "dedup of an empty dir: exit $rc: $(cat "$TMP/err")"; return; }
	pass "$1"
}

t_close_option() {
	run check --close 1 --feature memfd
	[ $rc -eq 0 ] && [ ! -s "$TMP/out" ] || { fail "$1" "--close 1 kept stdout: $(cat "$TMP/out")"; return; }
	pass "$1"
}

# The names the established tool knows, plus ours.
FEATURES="mnt_id mem_dirty_track aio_remap timerfd tun tun_ns userns fdinfo_lock seccomp_suspend
seccomp_filters loginuid cgroupns autofs tcp_half_closed compat_cr uffd uffd-noncoop can_map_vdso
sk_ns sk_unix_file net_diag_raw nsid link_nsid kcmp_epoll timens external_net_ns clone3_set_tid
newifindex nftables has_ipt_legacy pidfd_store ns_pid apparmor_stacking network_lock_nftables
sockopt_buf_lock memfd_hugetlb move_mount_set_group openat2 get_rseq_conf ipv6_freebind pagemap_scan
timer_cr_ids overlayfs_maps breakpoints pagemap_scan_guard_pages
ptrace_seize ptrace_peeksiginfo ptrace_rseq_conf map_files kcmp ns_last_pid memfd pidfd_open vdso
cap_checkpoint_restore prctl_mm_map uffd-wp uffd_wp_async tcp_repair sock_diag_unix sock_diag_inet
sock_diag_netlink sock_diag_packet pidfd_getfd cgroupv2"

t_check_feature_names() {
	local f
	for f in $FEATURES; do
		run check --feature "$f"
		if [ $rc -eq 0 ]; then
			grep -qx "Looks good." "$TMP/out" || { fail "$1" "$f: exit 0 without Looks good."; return; }
		else
			grep -qE "Error \(.*\): check: $f( is missing: this system lacks it|: the kernel has it, but it is not supported by this criu yet|: not supported by this criu yet)" "$TMP/err" ||
				{ fail "$1" "$f: exit $rc: $(cat "$TMP/err")"; return; }
		fi
	done
	# kernel support alone is not enough: these are things our dump cannot carry yet
	for f in tun userns cgroupns autofs compat_cr sk_ns external_net_ns \
		 aio_remap breakpoints; do
		run check --feature "$f"
		[ $rc -eq 1 ] && grep -q "not supported by this criu yet" "$TMP/err" ||
			{ fail "$1" "$f answered yes"; return; }
	done
	run check --feature memfd --feature mnt_id --feature tun
	[ $rc -eq 1 ] && grep -q "check: tun" "$TMP/err" && grep -q "check: mnt_id" <("$CRIU" check --feature memfd --feature mnt_id -v3 2>&1) ||
		{ fail "$1" "--feature does not accumulate"; return; }
	run check --feature no_such_thing
	[ $rc -eq 1 ] && grep -q "unknown feature 'no_such_thing'; valid names: .*pagemap_scan_guard_pages" "$TMP/err" ||
		{ fail "$1" "unknown name: exit $rc: $(cat "$TMP/err")"; return; }
	pass "$1"
}

t_cpuinfo_dump_and_check() {
	mkdir -p "$TMP/cpu"
	run cpuinfo dump -D "$TMP/cpu"
	[ $rc -eq 0 ] || { fail "$1" "dump exited $rc: $(cat "$TMP/err")"; return; }
	[ "$(stat -c %a "$TMP/cpu/cpuinfo.img")" = 600 ] || { fail "$1" "cpuinfo.img not 0600"; return; }
	ls -A "$TMP/cpu" | grep -q part && { fail "$1" "left a .part file"; return; }
	run cpuinfo check -D "$TMP/cpu"
	[ $rc -eq 0 ] && grep -q "CPU is compatible" "$TMP/out" || { fail "$1" "check exited $rc"; return; }
	printf 'XXXX' >"$TMP/cpu/cpuinfo.img"
	run cpuinfo check -D "$TMP/cpu"
	[ $rc -eq 1 ] && grep -q "too short for the magic" "$TMP/err" || { fail "$1" "corrupt image: exit $rc"; return; }
	run cpuinfo frob -D "$TMP/cpu"
	[ $rc -eq 1 ] || { fail "$1" "cpuinfo frob: exit $rc"; return; }
	pass "$1"
}

for t in $(declare -F | awk '{print $3}' | grep '^t_'); do
	$t "${t#t_}"
done
exit $failed
