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
	run dump --tcp-established -t 1
	[ $rc -ne 0 ] || { fail "$1" "exit 0"; return; }
	grep -qE "^Error \(criu/options.c:[0-9]+\): --tcp-established is not supported yet$" "$TMP/err" ||
		{ fail "$1" "message: $(cat "$TMP/err")"; return; }
	grep -qi "unknown\|unrecognized" "$TMP/err" && { fail "$1" "called it unknown"; return; }
	run check --lazy-pages
	[ $rc -ne 0 ] && grep -q -- "--lazy-pages is not supported yet" "$TMP/err" ||
		{ fail "$1" "--lazy-pages accepted"; return; }
	pass "$1"
}

t_no_prefix_of_unbuilt_option_is_fine() {
	run check --no-tcp-established --feature memfd
	grep -q "not supported" "$TMP/err" && { fail "$1" "$(cat "$TMP/err")"; return; }
	pass "$1"
}

t_log_file_relative_to_work_dir() {
	mkdir -p "$TMP/imgs" "$TMP/work"
	run dump -t 1 -D "$TMP/imgs" -o my.log --tcp-established
	[ -s "$TMP/imgs/my.log" ] || { fail "$1" "log not in images dir"; return; }
	grep -q "^Error (" "$TMP/imgs/my.log" || { fail "$1" "error not in log"; return; }
	[ "$(stat -c %a "$TMP/imgs/my.log")" = 600 ] || { fail "$1" "log mode not 0600"; return; }
	run dump -t 1 -D "$TMP/imgs" -W "$TMP/work" -o w.log --tcp-established
	[ -s "$TMP/work/w.log" ] && [ ! -e "$TMP/imgs/w.log" ] || { fail "$1" "-W ignored"; return; }
	[ ! -s "$TMP/err" ] || { fail "$1" "errors went to stderr as well as the log"; return; }
	pass "$1"
}

t_timestamps_from_level_3() {
	run dump -t 1 -v3 --tcp-established
	grep -qE '^\([0-9]{2}\.[0-9]{6}\) Error \(' "$TMP/err" || { fail "$1" "no timestamp: $(cat "$TMP/err")"; return; }
	run dump -t 1 -v2 --tcp-established
	grep -qE '^\(' "$TMP/err" && { fail "$1" "timestamp at level 2"; return; }
	run dump -t 1 -v0 --tcp-established
	[ ! -s "$TMP/err" ] || { fail "$1" "-v0 still logs: $(cat "$TMP/err")"; return; }
	pass "$1"
}

t_config_files() {
	printf 'tcp-established\n' >"$TMP/c.conf"
	CRIU_CONFIG_FILE=$TMP/c.conf "$CRIU" dump -t 1 >"$TMP/out" 2>"$TMP/err"
	grep -q -- "--tcp-established is not supported yet" "$TMP/err" || { fail "$1" "env config ignored"; return; }
	run dump -t 1 --config "$TMP/c.conf"
	grep -q -- "--tcp-established is not supported yet" "$TMP/err" || { fail "$1" "--config ignored"; return; }
	run dump -t 1 --config "$TMP/c.conf" --no-tcp-established
	grep -q -- "--tcp-established" "$TMP/err" && { fail "$1" "command line did not win"; return; }
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
	[ $rc -eq 1 ] && grep -q "wrong magic" "$TMP/err" || { fail "$1" "corrupt image: exit $rc"; return; }
	run cpuinfo frob -D "$TMP/cpu"
	[ $rc -eq 1 ] || { fail "$1" "cpuinfo frob: exit $rc"; return; }
	pass "$1"
}

for t in $(declare -F | awk '{print $3}' | grep '^t_'); do
	$t "${t#t_}"
done
exit $failed
