#!/bin/bash
# make bench: benchmarks that report ratios against a baseline measured in
# the same run. Results and the commands that produced them are recorded in
# Documentation/performance.md. (compel's benchmark runs from the Makefile.)
#
# Dump and restore of 1 GiB (BENCH_MIB) of dirty anonymous memory with
# random contents, images on a private tmpfs. Each round (BENCH_ROUNDS,
# default 3), in this order:
#   memcpy   best of 5 copies of a 1 GiB buffer (test/bench/memcpy.c)
#   dump     criu dump -t PID -D TMPFS, wall time from outside; frozen time
#            from stats-dump (the established format's, in the work dir)
#   restore  criu restore -D TMPFS -d --pidfile F, wall time until it returns
#            (the task has reported "R": memory is in place and it runs);
#            then SIGTERM makes the task checksum its memory again and write
#            PASS or FAIL: a FAIL fails the benchmark
# and the images are removed. Throughputs are BENCH_MIB MiB / wall time;
# ratios are against the memcpy of the same round. The table shows every
# round, then the best of each column, its ratios being best dump (restore)
# throughput over best memcpy.
#
# Then threads (BENCH_THREADS, default 1000): a victim of that many
# threads, each waiting in a futex (test/bench/manythreads.c), dumped and
# restored BENCH_ROUNDS times, and a 1-thread victim of the same program
# once per round; the baseline is creating and joining as many threads
# (best of 5) in the same round. Reported: microseconds per thread (wall
# time / threads) for dump and restore and their ratio to the baseline's
# microseconds per thread, best of the rounds; also the cost of each
# thread beyond the first ((T(N) - T(1)) / (N - 1)).
#
# Then scripts/bench-fds.sh: dump and restore of 10,000 descriptors against
# dup2.
#
# Process trees (BENCH_TREE_N processes, default 100; BENCH_TREE_ROUNDS,
# default 5): test/bench/forktree.c starts a tree (a root with children of
# ten children each) under a subreaper holder; each round measures the
# baseline (one fork+exit+wait, best of 5 batches of 200), then dump (wall
# time, the kill included) and restore -d (wall time until criu returns:
# every process reported ready and was released), then SIGTERM makes the
# tree stop top down, each process checking its children and its pid: a
# FAIL fails the benchmark. Reported: ms per process for dump and restore,
# and each divided by the baseline of its round; the best row divides the
# best time per process by the best baseline of the run.
#
# Then test/bench/netlock (built by make bench): the network lock's lock
# and unlock of 1 to 1000 connections against one netlink round trip to
# nf_tables, in a private network namespace.
#
# Then scripts/bench-tcp.py: the longest gap between the echoes a TCP peer
# outside the tree sees (a line every 1 ms) across a dump with
# --tcp-established --leave-running and across a dump and restore, against
# the frozen time of the same dump (BENCH_TCP_ROUNDS, default 3).
#
# Then scripts/bench-predump.py: the frozen time of a dump of BENCH_MIB MiB
# with 16 MiB dirtied since a pre-dump, against the same dump without one
# (Documentation/predump.md), and the first pre-dump's frozen time with
# --pre-dump-mode splice against read.
#
# Then scripts/bench-ps.py: page-server throughput over loopback against the
# local dump and with --tls, alternating in the same run (BENCH_PS_ROUNDS,
# default 3), against the fresh-memory copy of each round.
#
# BENCH_PARTS ("mem threads fds tree netlock tcp predump ps") picks the parts.
#
# Everything started here (victim, restored task, tmpfs mount, work dir) is
# cleaned up on exit, failure or interrupt.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
CRIU=$ROOT/criu/criu
MIB=${BENCH_MIB:-1024}
ROUNDS=${BENCH_ROUNDS:-3}
NTHREADS=${BENCH_THREADS:-1000}
PARTS=${BENCH_PARTS:-mem threads fds tree netlock tcp predump ps}
TREE_N=${BENCH_TREE_N:-100}
TREE_ROUNDS=${BENCH_TREE_ROUNDS:-5}

if "$CRIU" --help | grep -qE '^  dump .*not supported yet'; then
	echo "bench: dump/restore benchmarks arrive with dump and restore (not built yet)"
	exit 0
fi

WORK=
MNT=
SHMDIR=
VICTIM=

die() {
	echo "bench: $*" >&2
	exit 1
}

. "$ROOT/scripts/bench-lib.sh"

cleanup() {
	kill_victim "$VICTIM" 'bigmem|manythreads'
	if [ -n "$MNT" ]; then
		umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
	fi
	[ -n "$SHMDIR" ] && rm -rf "$SHMDIR"
	[ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

WORK=$(mktemp -d /tmp/criu-bench.XXXXXX) || die "mktemp failed"
mkdir "$WORK/bin" "$WORK/tmpfs"

# ---- build ------------------------------------------------------------------
CC=${CC:-cc}
$CC -O2 -Wall -o "$WORK/bin/bigmem" test/bench/bigmem.c || die "cannot build bigmem"
$CC -O2 -Wall -pthread -o "$WORK/bin/freshcopy" test/bench/freshcopy.c || die "cannot build freshcopy"
$CC -O2 -Wall -o "$WORK/bin/memcpy" test/bench/memcpy.c || die "cannot build memcpy"
$CC -O2 -Wall -o "$WORK/bin/forktree" test/bench/forktree.c || die "cannot build forktree"
$CC -O2 -Wall -o "$WORK/bin/dirtymem" test/bench/dirtymem.c || die "cannot build dirtymem"
$CC -O2 -Wall -Itest/e2e -o "$WORK/bin/tcp_peer" test/e2e/tcp_peer.c || die "cannot build tcp_peer"
$CC -O2 -Wall -pthread -o "$WORK/bin/manythreads" test/bench/manythreads.c ||
	die "cannot build manythreads"

# ---- tmpfs for the images ---------------------------------------------------
# images of MIB MiB plus a little metadata (twice for the page server's part:
# its directory and the dump's scratch copy); a private mount so that nothing
# else competes for it and it disappears with the benchmark
if mount -t tmpfs -o "size=$((2 * MIB + MIB / 4 + 64))m,mode=0700" criu-bench "$WORK/tmpfs" 2>/dev/null; then
	MNT=$WORK/tmpfs
	IMGROOT=$MNT
else
	avail=$(df -Pm /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')
	[ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] && [ "${avail:-0}" -gt $((MIB + 64)) ] ||
		die "cannot mount a tmpfs and /dev/shm is not a tmpfs with $((MIB + 64)) MiB free"
	SHMDIR=$(mktemp -d /dev/shm/criu-bench.XXXXXX) || die "mktemp in /dev/shm failed"
	IMGROOT=$SHMDIR
fi
IMG=$IMGROOT/img

mem_bench() {
# ---- rounds -----------------------------------------------------------------
declare -a R_MEMCPY R_DUMP R_RST R_FROZEN
for ((r = 1; r <= ROUNDS; r++)); do
	# baseline
	R_MEMCPY[r]=$("$WORK/bin/memcpy" "$MIB" 5) || die "memcpy failed"

	# victim: fills its memory, reports "ready PID SUM" through a fifo and
	# closes it (the dump takes no fifos or pipes). Our child, so that we
	# reap it at once when the dump kills it (a lazy init would keep its pid
	# busy and make the restore wait); disowned, so no "Killed" notices.
	rm -f "$WORK/ready" "$WORK/result" "$WORK/pid"
	mkfifo "$WORK/ready" || die "mkfifo failed"
	"$WORK/bin/bigmem" "$MIB" 3 "$WORK/result" 3>"$WORK/ready" </dev/null >/dev/null 2>"$WORK/bigmem.err" &
	echo $! >"$WORK/vpid"
	disown $!
	VICTIM=$(cat "$WORK/vpid")	# for the cleanup, should the start fail
	line=
	read -r -t 120 line <"$WORK/ready"
	set -- $line
	[ "${1:-}" = ready ] && [ "${2:-}" = "$VICTIM" ] ||
		die "victim did not start: '$line' $(cat "$WORK/bigmem.err")"
	sum=$3

	# dump
	mkdir -p "$IMG"
	t0=$(now_us)
	"$CRIU" dump -t "$VICTIM" -D "$IMG" --display-stats >"$WORK/dump.$r.log" 2>&1 ||
		{ cat "$WORK/dump.$r.log" >&2; die "dump failed (round $r)"; }
	t1=$(now_us)
	R_DUMP[r]=$((t1 - t0))
	# wait until the pid is free again, outside the timed part
	wait_gone "$VICTIM" 200
	R_FROZEN[r]=$("$CRIU" show "$IMG/stats-dump" | sed -n 's/.*"frozen_time": *\([0-9]*\).*/\1/p')
	[ -n "${R_FROZEN[r]}" ] || die "no frozen_time in stats-dump"

	# restore
	t0=$(now_us)
	"$CRIU" restore -D "$IMG" -d --pidfile "$WORK/pid" --display-stats >"$WORK/restore.$r.log" 2>&1 ||
		{ cat "$WORK/restore.$r.log" >&2; die "restore failed (round $r)"; }
	t1=$(now_us)
	R_RST[r]=$((t1 - t0))
	[ "$(cat "$WORK/pid")" = "$VICTIM" ] || die "restored pid $(cat "$WORK/pid") is not $VICTIM"
	state=$(sed -n 's/^State:\t\(.\).*/\1/p' "/proc/$VICTIM/status" 2>/dev/null)
	case "$state" in
	R | S) ;;
	*) die "restored task is in state '$state'" ;;
	esac

	# the restored task checks its own memory
	kill -TERM "$VICTIM"
	wait_exited "$VICTIM" || die "restored task did not exit after SIGTERM"
	VICTIM=
	res=$(cat "$WORK/result" 2>/dev/null)
	[ "$res" = "PASS $sum" ] || die "restored memory: '${res:-no result}' (expected PASS $sum)"

	rm -rf "$IMG"
	printf 'bench: round %d/%d done\n' "$r" "$ROUNDS" >&2
done

# ---- report -----------------------------------------------------------------
{
	for ((r = 1; r <= ROUNDS; r++)); do
		echo "$r ${R_MEMCPY[r]} ${R_DUMP[r]} ${R_RST[r]} ${R_FROZEN[r]}"
	done
} | awk -v mib="$MIB" '
	function row(name, m, d, rs, dr, rr, f) {
		printf "| %-5s | %11.2f | %9.2f | %12.2f | %11.2f | %14.2f | %9.0f |\n",
			name, m, d, rs, dr, rr, f / 1000
	}
	BEGIN {
		bytes = mib * 1048576
		printf "\ndump and restore of %d MiB of random anonymous memory, images on tmpfs\n\n", mib
		print "| round | memcpy GB/s | dump GB/s | restore GB/s | dump/memcpy | restore/memcpy | frozen ms |"
		print "| ----- | ----------- | --------- | ------------ | ----------- | -------------- | --------- |"
	}
	{
		m = $2; d = bytes / $3 / 1000; rs = bytes / $4 / 1000
		dr = d / m; rr = rs / m
		row($1, m, d, rs, dr, rr, $5)
		if (NR == 1 || m > bm) bm = m
		if (NR == 1 || d > bd) bd = d
		if (NR == 1 || rs > brs) brs = rs
		if (NR == 1 || $5 < bf) bf = $5
	}
	# the best throughputs over the best baseline: a round with a slow
	# memcpy cannot flatter the ratios
	END { row("best", bm, bd, brs, bd / bm, brs / bm, bf) }
'
# where the time went in the round with the fastest dump / restore
best_d=1 best_r=1
for ((r = 2; r <= ROUNDS; r++)); do
	((R_DUMP[r] < R_DUMP[best_d])) && best_d=$r
	((R_RST[r] < R_RST[best_r])) && best_r=$r
done
echo
echo "fastest dump (round $best_d, --display-stats):"
grep -E 'time|phase|pages' "$WORK/dump.$best_d.log" | sed 's/^/  /'
echo "fastest restore (round $best_r, --display-stats):"
sed 's/^/  /' "$WORK/restore.$best_r.log"
echo
	echo
}

# ---- threads ------------------------------------------------------------------
# start a manythreads victim of $1 threads; sets VICTIM
start_threads_victim() {
	local line=
	rm -f "$WORK/ready" "$WORK/result" "$WORK/pid"
	mkfifo "$WORK/ready" || die "mkfifo failed"
	"$WORK/bin/manythreads" victim "$1" 3 "$WORK/result" 3>"$WORK/ready" </dev/null \
		>/dev/null 2>"$WORK/victim.err" &
	echo $! >"$WORK/vpid"
	disown $!
	VICTIM=$(cat "$WORK/vpid")
	read -r -t 120 line <"$WORK/ready"
	[ "$line" = "ready $VICTIM" ] ||
		die "threads victim did not start: '$line' $(cat "$WORK/victim.err")"
}

# dump and restore a victim of $1 threads; sets TIMES to "DUMP_US RESTORE_US"
# (not run in a subshell: VICTIM must stay visible to the cleanup)
dump_restore_threads() {
	local n=$1 t0 t1 d rs
	start_threads_victim "$n"
	mkdir -p "$IMG"
	t0=$(now_us)
	"$CRIU" dump -t "$VICTIM" -D "$IMG" >"$WORK/tdump.log" 2>&1 ||
		{ cat "$WORK/tdump.log" >&2; die "dump of $n threads failed"; }
	t1=$(now_us)
	d=$((t1 - t0))
	wait_gone "$VICTIM" 200
	t0=$(now_us)
	"$CRIU" restore -D "$IMG" -d --pidfile "$WORK/pid" >"$WORK/trestore.log" 2>&1 ||
		{ cat "$WORK/trestore.log" >&2; die "restore of $n threads failed"; }
	t1=$(now_us)
	rs=$((t1 - t0))
	[ "$(cat "$WORK/pid")" = "$VICTIM" ] || die "restored pid $(cat "$WORK/pid") is not $VICTIM"
	kill -TERM "$VICTIM"
	wait_exited "$VICTIM" || die "restored threads victim did not exit after SIGTERM"
	VICTIM=
	[ "$(cat "$WORK/result" 2>/dev/null)" = PASS ] ||
		die "restored threads: '$(cat "$WORK/result" 2>/dev/null)'"
	rm -rf "$IMG"
	TIMES="$d $rs"
}

threads_bench() {
	local r base one many
	: >"$WORK/trounds"
	for ((r = 1; r <= ROUNDS; r++)); do
		base=$("$WORK/bin/manythreads" base "$NTHREADS" 5) || die "baseline failed"
		dump_restore_threads "$NTHREADS"
		many=$TIMES
		dump_restore_threads 1
		one=$TIMES
		echo "$r $base $many $one" >>"$WORK/trounds"
		printf 'bench: threads round %d/%d done\n' "$r" "$ROUNDS" >&2
	done
	awk -v n="$NTHREADS" '
	function row(name, b, d, rs, dm, rm) {
		printf "| %-5s | %9.1f | %9.1f | %9.1f | %10.2f | %10.2f | %9.1f | %9.1f |\n",
			name, b, d, rs, d / b, rs / b, dm, rm
	}
	BEGIN {
		printf "\ndump and restore of %d threads (each in a futex wait)\n\n", n
		print "| round | create+join us/thr | dump us/thr | restore us/thr | dump/base | restore/base | dump us/extra thr | restore us/extra thr |"
		print "| ----- | --------- | --------- | --------- | ---------- | ---------- | --------- | --------- |"
	}
	{
		b = $2 / (n - 1); d = $3 / n; rs = $4 / n
		dm = ($3 - $5) / (n - 1); rm = ($4 - $6) / (n - 1)
		row($1, b, d, rs, dm, rm)
		if (NR == 1 || b < bb) bb = b
		if (NR == 1 || d < bd) bd = d
		if (NR == 1 || rs < brs) brs = rs
		if (NR == 1 || dm < bdm) bdm = dm
		if (NR == 1 || rm < brm) brm = rm
	}
	# best per-thread times over the best baseline
	END { row("best", bb, bd, brs, bdm, brm) }
' "$WORK/trounds"
	echo
}

# ---- process trees ----------------------------------------------------------
TREE_ROOT=
kill_tree_root() {
	if [ -n "$TREE_ROOT" ] && grep -qs forktree "/proc/$TREE_ROOT/comm"; then
		kill -KILL -- "-$TREE_ROOT" 2>/dev/null	# its session's group: the whole tree
	fi
	TREE_ROOT=
}
trap 'kill_tree_root; cleanup' EXIT

# wait until no process of session $1 is left (zombies reaped by their holder or init)
session_gone() {
	local i
	for ((i = 0; i < 500; i++)); do
		ps -e -o sid= | grep -qw "$1" || return 0
		sleep 0.01
	done
	return 1
}

tree_bench() {
	local r line t0 t1 res
	declare -a B D RS
	for ((r = 1; r <= TREE_ROUNDS; r++)); do
		B[r]=$("$WORK/bin/forktree" base 200) || die "forktree base failed"
		rm -f "$WORK/ready" "$WORK/result" "$WORK/pid"
		mkfifo "$WORK/ready" || die "mkfifo failed"
		"$WORK/bin/forktree" tree "$TREE_N" 3 "$WORK/result" 3>"$WORK/ready" </dev/null >/dev/null 2>&1 &
		disown $!
		# to the end of the fifo: the root has closed it (the dump takes no fifos)
		line=$(timeout 60 cat "$WORK/ready")
		set -- $line
		[ "${1:-}" = ready ] || die "tree did not start: '$line'"
		TREE_ROOT=$2
		mkdir -p "$IMG"
		t0=$(now_us)
		"$CRIU" dump -t "$TREE_ROOT" -D "$IMG" >"$WORK/tdump.$r.log" 2>&1 ||
			{ cat "$WORK/tdump.$r.log" >&2; die "tree dump failed (round $r)"; }
		t1=$(now_us)
		D[r]=$((t1 - t0))
		session_gone "$TREE_ROOT" || die "the dumped tree's processes are still there"
		t0=$(now_us)
		"$CRIU" restore -D "$IMG" -d --pidfile "$WORK/pid" >"$WORK/trst.$r.log" 2>&1 ||
			{ cat "$WORK/trst.$r.log" >&2; die "tree restore failed (round $r)"; }
		t1=$(now_us)
		RS[r]=$((t1 - t0))
		[ "$(ps -e -o sid= | grep -cw "$TREE_ROOT")" = "$TREE_N" ] ||
			die "restored tree does not have $TREE_N processes"
		kill -TERM "$TREE_ROOT"
		session_gone "$TREE_ROOT" || die "restored tree did not stop"
		TREE_ROOT=
		res=$(cat "$WORK/result" 2>/dev/null)
		[ "$res" = PASS ] || die "restored tree: '${res:-no result}'"
		rm -rf "$IMG"
		printf 'bench: tree round %d/%d done\n' "$r" "$TREE_ROUNDS" >&2
	done
	for ((r = 1; r <= TREE_ROUNDS; r++)); do
		echo "$r ${B[r]} ${D[r]} ${RS[r]}"
	done | awk -v n="$TREE_N" '
		function row(name, b, d, rs) {
			printf "| %-5s | %17.1f | %15.3f | %10.2f | %18.3f | %13.2f |\n",
				name, b, d, d * 1000 / b, rs, rs * 1000 / b
		}
		BEGIN {
			printf "\ndump and restore of a tree of %d processes (ms per process; ratio = that / one fork+exit+wait)\n\n", n
			print "| round | fork+exit+wait us | dump ms/process | dump ratio | restore ms/process | restore ratio |"
			print "| ----- | ----------------- | --------------- | ---------- | ------------------ | ------------- |"
		}
		{
			b = $2; d = $3 / 1000 / n; rs = $4 / 1000 / n
			row($1, b, d, rs)
			if (NR == 1 || b < bb) bb = b
			if (NR == 1 || d < bd) bd = d
			if (NR == 1 || rs < brs) brs = rs
		}
		# the best times over the best baseline, as for memory
		END { row("best", bb, bd, brs) }'
	echo
}

for part in $PARTS; do
	case "$part" in
	mem) mem_bench ;;
	threads) threads_bench ;;
	fds) "$ROOT/scripts/bench-fds.sh" || exit 1 ;;
	tree) tree_bench ;;
	netlock) "$ROOT/test/bench/netlock" "${BENCH_NETLOCK_ROUNDS:-20}" || exit 1; echo ;;
	tcp) python3 "$ROOT/scripts/bench-tcp.py" "$CRIU" "$WORK/bin/tcp_peer" \
		"${BENCH_TCP_ROUNDS:-3}" || exit 1; echo ;;
	predump) python3 "$ROOT/scripts/bench-predump.py" "$CRIU" "$WORK/bin/dirtymem" "$WORK" ||
		exit 1; echo ;;
	ps) python3 "$ROOT/scripts/bench-ps.py" "$CRIU" "$WORK/bin/bigmem" "$IMGROOT" "$MIB" \
		"${BENCH_PS_ROUNDS:-3}" "$WORK/bin/freshcopy" || exit 1 ;;
	*) die "unknown BENCH_PARTS entry '$part'" ;;
	esac
done
exit 0
