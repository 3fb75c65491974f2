#!/bin/bash
# make demo: checkpoint a running counter, kill it, restore it, watch it go on.
set -u
cd "$(dirname "$0")/.."
CRIU=$PWD/criu/criu

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "criu check: can this kernel checkpoint and restore?"
"$CRIU" check || { echo "criu check failed: see the lines above"; exit 1; }

if "$CRIU" --help | grep -qE '^  (dump|restore) .*not supported yet'; then
	say "What is coming"
	cat <<'TXT'
dump and restore are not built yet. When they land, this demo starts a
counter, checkpoints it with `criu dump -t PID -D DIR`, shows it gone,
restores it with `criu restore -D DIR` and shows it counting on from where
it stopped, with the same pid. See README.md for what works today.
TXT
	exit 0
fi

DIR=$(mktemp -d /tmp/criu-demo.XXXXXX)
OUT=$DIR/counter.out
cleanup() { [ -n "${PID:-}" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$DIR"; }
trap cleanup EXIT

say "Start a counter"
# Only stdin, stdout and stderr: whatever else this shell holds open is not
# the counter's business (and might be of a kind criu does not handle yet).
(
	for fd in /proc/$BASHPID/fd/*; do
		fd=${fd##*/}
		[ "$fd" -gt 2 ] && eval "exec $fd>&-"
	done
	exec setsid ./scripts/demo-counter
) </dev/null >"$OUT" 2>&1 &
PID=$!
disown "$PID"		# its end is criu's business, not a job for this shell
until [ -s "$OUT" ] && [ "$(wc -l <"$OUT")" -ge 5 ]; do sleep 0.1; done
echo "pid $PID has counted to $(tail -n1 "$OUT")"

say "criu dump -t $PID -D $DIR/images"
mkdir "$DIR/images"
"$CRIU" dump -t "$PID" -D "$DIR/images" -o dump.log || { echo "dump failed:"; cat "$DIR/images/dump.log"; exit 1; }
last=$(tail -n1 "$OUT")
while kill -0 "$PID" 2>/dev/null; do sleep 0.05; done	# reaped by this shell
echo "pid $PID is gone; its last number was $last"
ls -l "$DIR/images"

say "criu restore -D $DIR/images -d"
"$CRIU" restore -D "$DIR/images" -d -o restore.log || { echo "restore failed:"; cat "$DIR/images/restore.log"; exit 1; }
until [ "$(tail -n1 "$OUT")" -ge $((last + 5)) ] 2>/dev/null; do sleep 0.1; done
echo "pid $PID is back and counting: $(tail -n3 "$OUT" | tr '\n' ' ')"
ps -o pid,stat,cmd -p "$PID"
