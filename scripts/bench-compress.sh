#!/bin/bash
# dump --compress against a plain dump of a realistic heap: python3 holding
# a dict of BENCH_KEYS (default 2,000,000) strings, images (and the restore's
# TMPDIR) on a private tmpfs. Each of BENCH_ROUNDS rounds (default 3) dumps
# it plain (-R), then compressed (the tree killed), restores the compressed
# dump, kills it, restores the plain one, and copies the heap's size into
# fresh memory (test/bench/freshcopy.c, both cpus): the limit of machine.md.
# Prints per round: heap MiB, page bytes plain and compressed (ratio), and
# the wall times of both dumps and restores (Documentation/performance.md,
# "Compressed page files").
#
# Usage: scripts/bench-compress.sh [CRIU]   (default criu/criu)
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
CRIU=${1:-$ROOT/criu/criu}
KEYS=${BENCH_KEYS:-2000000}
ROUNDS=${BENCH_ROUNDS:-3}
WORK= MNT= VICTIM=

die() {
	echo "bench-compress: $*" >&2
	exit 1
}

. "$ROOT/scripts/bench-lib.sh"

cleanup() {
	kill_victim "$VICTIM" python3
	[ -n "$MNT" ] && { umount "$MNT" 2>/dev/null || umount -l "$MNT"; }
	[ -n "$WORK" ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

WORK=$(mktemp -d /tmp/criu-bench-z.XXXXXX) || die "mktemp failed"
mkdir "$WORK/tmpfs"
${CC:-cc} -O2 -Wall -pthread -o "$WORK/freshcopy" test/bench/freshcopy.c || die "cannot build freshcopy"
mount -t tmpfs -o "size=4g,mode=0700" criu-bench-z "$WORK/tmpfs" || die "cannot mount a tmpfs"
MNT=$WORK/tmpfs
export TMPDIR=$MNT

# the heap: keys and values like a cache of records; ready when "R" is in the file
setsid python3 -c '
import sys, time
d = {}
for i in range(int(sys.argv[1])):
    d["user:%08d" % i] = "name=user%d;email=user%d@example.org;score=%d;tags=a,b,c" % (i, i, i * 7 % 1000)
open(sys.argv[2], "w").write("R")
while True:
    time.sleep(3600)
' "$KEYS" "$WORK/ready" </dev/null >/dev/null 2>&1 &
VICTIM=$!
disown
for ((i = 0; i < 6000; i++)); do
	[ -s "$WORK/ready" ] && break
	sleep 0.05
done
[ -s "$WORK/ready" ] || die "python3 did not get ready"
HEAP=$(awk '/^Rss:/ { s += $2 } END { print int(s / 1024) }' "/proc/$VICTIM/smaps")

# timed CMD...: wall milliseconds of CMD to stdout, "failed" when it fails
timed() {
	local t0 t1
	t0=$(now_us)
	"$@" >/dev/null 2>&1 || { echo failed; return; }
	t1=$(now_us)
	echo "$(((t1 - t0) / 1000))"
}

pagebytes() {
	cat "$1"/pages-*.img | wc -c
}

echo "python3 pid $VICTIM, $KEYS strings, RSS $HEAP MiB"
echo "round  plain_MiB  z_MiB  ratio  dump_ms  dump_z_ms  restore_ms  restore_z_ms  fresh_GB/s"
for ((r = 1; r <= ROUNDS; r++)); do
	rm -rf "$MNT/p" "$MNT/z"
	mkdir "$MNT/p" "$MNT/z"
	dp=$(timed "$CRIU" dump -t "$VICTIM" -D "$MNT/p" -R -o dump.log)
	dz=$(timed "$CRIU" dump -t "$VICTIM" -D "$MNT/z" --compress -o dump.log)
	case "$dp $dz" in *failed*) die "dump failed (logs in $MNT/p, $MNT/z)" ;; esac
	wait_gone "$VICTIM" 500 || die "the dumped tree did not go"
	rz=$(timed "$CRIU" restore -D "$MNT/z" -d -o restore.log)
	[ "$rz" = failed ] && die "the compressed restore failed: $(tail -3 "$MNT/z/restore.log")"
	kill -KILL "$VICTIM"
	wait_gone "$VICTIM" 500 || die "the restored tree did not go"
	rp=$(timed "$CRIU" restore -D "$MNT/p" -d -o restore.log)
	case "$rz $rp" in *failed*) die "restore failed: $rz $rp" ;; esac
	f=$("$WORK/freshcopy" "$HEAP" 1) || die "freshcopy failed"
	echo "$r $(pagebytes "$MNT/p") $(pagebytes "$MNT/z") $dp $dz $rp $rz $f" | awk '{
		printf "%5d  %9.1f  %5.1f  %5.2f  %7d  %9d  %10d  %12d  %s\n", $1, $2 / 1048576,
			$3 / 1048576, $2 / $3, $4, $5, $6, $7, $8 }'
done
