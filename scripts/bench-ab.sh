#!/bin/bash
# Two criu binaries against each other on the dump and restore of
# BENCH_MIB MiB (default 1024) of random anonymous memory, images on a
# private tmpfs (test/bench/bigmem.c, as in scripts/bench.sh), alternating
# A and B within each of BENCH_ROUNDS rounds (default 5; B goes first in
# odd rounds). Prints each round's wall times and the ratio B/A of the
# best dump and the best restore times.
#
# Each round also copies BENCH_MIB into fresh memory (test/bench/freshcopy.c,
# one thread per cpu): the limit any dump or restore meets on this VM
# (machine.md), and the last line divides each side's best throughput by it.
#
# Usage: scripts/bench-ab.sh CRIU_A CRIU_B
# (Documentation/performance.md, "The manifest": A built without it.)
# BENCH_AB_ARGS_A / BENCH_AB_ARGS_B: more options for that side's dump and
# restore (e.g. B the same binary with "--encrypt-key FILE").
# BENCH_AB_LOG=FILE: both sides run at -v3 and FILE gets a line per run,
# "SIDE DUMP_US MANIFEST_US RESTORE_US CHECK_US WAITED_US OPENED_AT_US":
# criu's own timings of the manifest at dump, of its check at restore (up
# front, and the wait for the page files checked beside the restore), and
# when the restore had opened sealed images (its log's timestamp).
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
A=$1 B=$2
MIB=${BENCH_MIB:-1024}
ROUNDS=${BENCH_ROUNDS:-5}
WORK= MNT= VICTIM=

die() {
	echo "bench-ab: $*" >&2
	exit 1
}

. "$ROOT/scripts/bench-lib.sh"

cleanup() {
	kill_victim "$VICTIM" bigmem
	[ -n "$MNT" ] && { umount "$MNT" 2>/dev/null || umount -l "$MNT"; }
	[ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

WORK=$(mktemp -d /tmp/criu-bench-ab.XXXXXX) || die "mktemp failed"
mkdir "$WORK/tmpfs"
${CC:-cc} -O2 -Wall -o "$WORK/bigmem" test/bench/bigmem.c || die "cannot build bigmem"
${CC:-cc} -O2 -Wall -pthread -o "$WORK/freshcopy" test/bench/freshcopy.c || die "cannot build freshcopy"
mount -t tmpfs -o "size=$((MIB + MIB / 4 + 64))m,mode=0700" criu-bench-ab "$WORK/tmpfs" ||
	die "cannot mount a tmpfs"
MNT=$WORK/tmpfs
IMG=$MNT/img

# the figures of BENCH_AB_LOG from the logs of one run ($1: side, $2 $3: wall times)
log_figures() {
	awk -v side="$1" -v dw="$2" -v rw="$3" '
		/checksummed in [0-9]+ us$/ { mf = $(NF - 1) }
		/all [0-9]+ files match/ { sub(/.*checked in /, ""); chk = $1 + 0 }
		/us waited for/ { sub(/ us waited for.*/, ""); w = $NF + 0 }
		/the sealed images opened/ { gsub(/[()]/, "", $1); split($1, t, "."); so = t[1] * 1000000 + t[2] }
		END { printf "%s %d %d %d %d %d %d\n", side, dw, mf, rw, chk, w, so }
	' "$WORK/dump.log" "$WORK/restore.log" >>"$BENCH_AB_LOG"
}

# one dump and restore with criu $1, more options $2, side $3; prints "DUMP_US RESTORE_US"
# (it runs in a $(...) subshell: the victim of a failed dump is killed here)
one() {
	local line sum t0 t1 t2 t3 xargs=$2 side=$3 logs=
	[ -n "${BENCH_AB_LOG:-}" ] && logs=-v3
	rm -f "$WORK/ready" "$WORK/result" "$WORK/pid"
	mkfifo "$WORK/ready" || die "mkfifo failed"
	"$WORK/bigmem" "$MIB" 3 "$WORK/result" 3>"$WORK/ready" </dev/null >/dev/null 2>&1 &
	VICTIM=$!
	disown $!
	read -r -t 120 line <"$WORK/ready"
	set -- "$1" $line
	[ "${2:-}" = ready ] || die "victim did not start"
	sum=$4
	mkdir -p "$IMG"
	t0=$(now_us)
	# shellcheck disable=SC2086
	"$1" dump -t "$VICTIM" -D "$IMG" $xargs $logs >"$WORK/dump.log" 2>&1 ||
		{ cat "$WORK/dump.log" >&2; kill_victim "$VICTIM" bigmem; die "dump failed"; }
	t1=$(now_us)
	wait_gone "$VICTIM" 200 || { kill_victim "$VICTIM" bigmem; die "the dumped victim is still there"; }
	t2=$(now_us)
	# shellcheck disable=SC2086
	"$1" restore -D "$IMG" -d --pidfile "$WORK/pid" $xargs $logs >"$WORK/restore.log" 2>&1 ||
		{ cat "$WORK/restore.log" >&2; die "restore failed"; }
	t3=$(now_us)
	echo "$((t1 - t0)) $((t3 - t2))"
	[ -n "$logs" ] && log_figures "$side" "$((t1 - t0))" "$((t3 - t2))"
	kill -TERM "$VICTIM"
	wait_exited "$VICTIM" || die "restored task did not exit"
	VICTIM=
	[ "$(cat "$WORK/result")" = "PASS $sum" ] || die "restored memory differs"
	rm -rf "$IMG"
}

for ((r = 1; r <= ROUNDS; r++)); do
	if ((r % 2)); then
		b=$(one "$B" "${BENCH_AB_ARGS_B:-}" B) a=$(one "$A" "${BENCH_AB_ARGS_A:-}" A)
	else
		a=$(one "$A" "${BENCH_AB_ARGS_A:-}" A) b=$(one "$B" "${BENCH_AB_ARGS_B:-}" B)
	fi
	f=$("$WORK/freshcopy" "$MIB" 1) || die "freshcopy failed"
	echo "$r $a $b $f"
done | awk -v mib="$MIB" '
	BEGIN { print "round  A dump ms  A restore ms  B dump ms  B restore ms  fresh GB/s" }
	{
		printf "%5d %10.1f %13.1f %10.1f %13.1f %11.2f\n", $1, $2 / 1000, $3 / 1000, $4 / 1000, $5 / 1000, $6
		if (NR == 1 || $2 < ad) ad = $2; if (NR == 1 || $3 < ar) ar = $3
		if (NR == 1 || $4 < bd) bd = $4; if (NR == 1 || $5 < br) br = $5
		if ($6 > fr) fr = $6
		sd += $4 / $2; sr += $5 / $3
	}
	END {
		printf "best: dump B/A %.3f, restore B/A %.3f; mean of the rounds'"'"' ratios: dump %.3f, restore %.3f\n",
			bd / ad, br / ar, sd / NR, sr / NR
		gb = mib * 1048576 / 1e9
		printf "best throughput / best fresh copy (%.2f GB/s): dump A %.3f B %.3f, restore A %.3f B %.3f\n",
			fr, gb / (ad / 1e6) / fr, gb / (bd / 1e6) / fr, gb / (ar / 1e6) / fr, gb / (br / 1e6) / fr
	}'
