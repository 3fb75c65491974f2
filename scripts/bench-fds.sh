#!/bin/bash
# The descriptor part of make bench (called by scripts/bench.sh; alone:
# BENCH_PARTS=fds make bench, or scripts/bench-fds.sh). Results go to
# Documentation/performance.md.
#
# A victim (test/bench/manyfds.c) holding BENCH_FDS (default 10,000)
# descriptors of mixed kinds is dumped and restored; so is the same victim
# with no descriptors beyond stdio. Each round (BENCH_ROUNDS, default 3),
# in this order:
#   dup2       ns per dup2() over BENCH_FDS numbers, best of 5 (the baseline)
#   dump       criu dump of the empty victim, then of the full one (wall time)
#   restore    criu restore -d of each (wall time until it returns); the
#              restored full victim then checks its fds (count, queued pipe
#              bytes, eventfd counters) on SIGTERM: anything but PASS fails
# Per descriptor = (full - empty) / BENCH_FDS, and its ratio to one dup2 of
# the same round. The best row takes the best (lowest) of each time column,
# so its per-fd figures are (best full - best empty) / BENCH_FDS, and its
# ratios are those over the best dup2.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
CRIU=$ROOT/criu/criu
NFDS=${BENCH_FDS:-10000}
ROUNDS=${BENCH_ROUNDS:-3}
WORK=
VICTIM=

die() {
	echo "bench-fds: $*" >&2
	exit 1
}

# kill PID only if it is still one of our manyfds processes (pids get reused)
kill_victim() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	if grep -qs manyfds "/proc/$pid/comm"; then
		kill -KILL "$pid" 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			[ -e "/proc/$pid" ] || break
			sleep 0.02
		done
	fi
	return 0
}

cleanup() {
	kill_victim "$VICTIM"
	[ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

WORK=$(mktemp -d /dev/shm/criu-bench-fds.XXXXXX 2>/dev/null || mktemp -d /tmp/criu-bench-fds.XXXXXX) ||
	die "mktemp failed"
mkdir "$WORK/bin" "$WORK/files"
: >"$WORK/files/file"
${CC:-cc} -O2 -Wall -o "$WORK/bin/manyfds" test/bench/manyfds.c || die "cannot build manyfds"

now_us() {
	echo "${EPOCHREALTIME/./}"
}

# wait until pid $1 is gone (the shell reaps its disowned child)
wait_gone() {
	local i
	for ((i = 0; i < 300; i++)); do
		[ -e "/proc/$1" ] || return 0
		sleep 0.01
	done
	die "pid $1 did not go away"
}

# start a victim with $1 fds; sets VICTIM
start_victim() {
	local line
	rm -f "$WORK/ready" "$WORK/result"
	mkfifo "$WORK/ready" || die "mkfifo failed"
	"$WORK/bin/manyfds" "$1" 3 "$WORK/result" "$WORK/files" 3>"$WORK/ready" </dev/null >/dev/null 2>"$WORK/victim.err" &
	VICTIM=$!
	disown $!
	read -r -t 60 line <"$WORK/ready"
	set -- $line
	[ "${1:-}" = ready ] && [ "${2:-}" = "$VICTIM" ] ||
		die "victim did not start: '$line' $(cat "$WORK/victim.err")"
}

# dump and restore a victim with $1 fds; sets CY_D and CY_R (microseconds)
cycle() {
	local img=$WORK/img t0 t1 i
	start_victim "$1"
	mkdir -p "$img"
	t0=$(now_us)
	"$CRIU" dump -t "$VICTIM" -D "$img" -o dump.log ||
		{ grep Error "$img/dump.log" >&2; die "dump of $1 fds failed"; }
	t1=$(now_us)
	CY_D=$((t1 - t0))
	wait_gone "$VICTIM"
	t0=$(now_us)
	"$CRIU" restore -D "$img" -d --pidfile "$WORK/pid" -o restore.log ||
		{ grep Error "$img/restore.log" >&2; die "restore of $1 fds failed"; }
	t1=$(now_us)
	CY_R=$((t1 - t0))
	[ "$(cat "$WORK/pid")" = "$VICTIM" ] || die "restored as $(cat "$WORK/pid"), not $VICTIM"
	kill -TERM "$VICTIM"
	for ((i = 0; i < 300; i++)); do
		[ -s "$WORK/result" ] && break
		sleep 0.01
	done
	kill_victim "$VICTIM"
	VICTIM=
	[ "$(cat "$WORK/result" 2>/dev/null)" = PASS ] ||
		die "restored victim with $1 fds: $(cat "$WORK/result" 2>/dev/null || echo no result)"
	rm -rf "$img"
}

declare -a R_DUP R_D0 R_R0 R_DN R_RN
for ((r = 1; r <= ROUNDS; r++)); do
	R_DUP[r]=$("$WORK/bin/manyfds" --dup2 "$NFDS" 5) || die "dup2 baseline failed"
	cycle 0
	R_D0[r]=$CY_D R_R0[r]=$CY_R
	cycle "$NFDS"
	R_DN[r]=$CY_D R_RN[r]=$CY_R
	printf 'bench-fds: round %d/%d done\n' "$r" "$ROUNDS" >&2
done

{
	for ((r = 1; r <= ROUNDS; r++)); do
		echo "$r ${R_DUP[r]} ${R_D0[r]} ${R_DN[r]} ${R_R0[r]} ${R_RN[r]}"
	done
} | awk -v n="$NFDS" '
	function row(name, dup, d0, dn, r0, rn,   dpf, rpf) {
		dpf = (dn - d0) / n; rpf = (rn - r0) / n
		printf "| %-5s | %8.0f | %7.1f / %7.1f | %7.1f / %7.1f | %7.2f | %7.2f | %6.0f | %6.0f |\n",
			name, dup, d0 / 1000, dn / 1000, r0 / 1000, rn / 1000, dpf, rpf,
			dpf * 1000 / dup, rpf * 1000 / dup
	}
	BEGIN {
		printf "\ndump and restore of %d descriptors of mixed kinds\n\n", n
		print "| round | dup2 ns | dump ms (0 / N fds) | restore ms (0 / N) | dump us/fd | restore us/fd | dump ÷ dup2 | restore ÷ dup2 |"
		print "| ----- | ------- | ------------------- | ------------------ | ---------- | ------------- | ----------- | -------------- |"
	}
	{
		row($1, $2, $3, $4, $5, $6)
		if (NR == 1 || $2 < bdup) bdup = $2
		if (NR == 1 || $3 < bd0) bd0 = $3
		if (NR == 1 || $4 < bdn) bdn = $4
		if (NR == 1 || $5 < br0) br0 = $5
		if (NR == 1 || $6 < brn) brn = $6
	}
	END { row("best", bdup, bd0, bdn, br0, brn) }
'
echo
exit 0
