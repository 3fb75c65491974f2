#!/bin/bash
# Two criu binaries against each other on the dump and restore of
# BENCH_MIB MiB (default 1024) of random anonymous memory, images on a
# private tmpfs (test/bench/bigmem.c, as in scripts/bench.sh), alternating
# A and B within each of BENCH_ROUNDS rounds (default 5; B goes first in
# odd rounds). Prints each round's wall times and the ratio B/A of the
# best dump and the best restore times.
#
# Usage: scripts/bench-ab.sh CRIU_A CRIU_B
# (Documentation/performance.md, "The manifest": A built without it.)
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
mount -t tmpfs -o "size=$((MIB + MIB / 4 + 64))m,mode=0700" criu-bench-ab "$WORK/tmpfs" ||
	die "cannot mount a tmpfs"
MNT=$WORK/tmpfs
IMG=$MNT/img

# one dump and restore with criu $1; prints "DUMP_US RESTORE_US"
one() {
	local line sum t0 t1 t2
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
	"$1" dump -t "$VICTIM" -D "$IMG" >"$WORK/dump.log" 2>&1 || { cat "$WORK/dump.log" >&2; die "dump failed"; }
	t1=$(now_us)
	wait_gone "$VICTIM" 200 || die "the dumped victim is still there"
	t2=$(now_us)
	"$1" restore -D "$IMG" -d --pidfile "$WORK/pid" >"$WORK/restore.log" 2>&1 ||
		{ cat "$WORK/restore.log" >&2; die "restore failed"; }
	echo "$((t1 - t0)) $(($(now_us) - t2))"
	kill -TERM "$VICTIM"
	wait_exited "$VICTIM" || die "restored task did not exit"
	VICTIM=
	[ "$(cat "$WORK/result")" = "PASS $sum" ] || die "restored memory differs"
	rm -rf "$IMG"
}

for ((r = 1; r <= ROUNDS; r++)); do
	if ((r % 2)); then
		b=$(one "$B") a=$(one "$A")
	else
		a=$(one "$A") b=$(one "$B")
	fi
	echo "$r $a $b"
done | awk -v mib="$MIB" '
	BEGIN { print "round  A dump ms  A restore ms  B dump ms  B restore ms" }
	{
		printf "%5d %10.1f %13.1f %10.1f %13.1f\n", $1, $2 / 1000, $3 / 1000, $4 / 1000, $5 / 1000
		if (NR == 1 || $2 < ad) ad = $2; if (NR == 1 || $3 < ar) ar = $3
		if (NR == 1 || $4 < bd) bd = $4; if (NR == 1 || $5 < br) br = $5
		sd += $4 / $2; sr += $5 / $3
	}
	END {
		printf "best: dump B/A %.3f, restore B/A %.3f; mean of the rounds'"'"' ratios: dump %.3f, restore %.3f\n",
			bd / ad, br / ar, sd / NR, sr / NR
	}'
