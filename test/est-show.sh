#!/bin/bash
# criu show / criu encode on images of the established format, against the
# installed crit (Debian's criu package): for every golden image and every
# hand-written one in test/fixtures/est-json,
#   - criu show [--pretty] FILE prints byte for byte what crit decode [--pretty] prints;
#   - criu encode of crit's JSON (either form) gives what crit encode gives;
#   - criu show | criu encode gives the file back.
# crit 3.17 does not know some fields 4.x writes (Documentation/images.md):
# for a golden file crit's own round trip changes, show is compared on crit's
# re-encoded file, whose bytes those fields are stripped from.
# Prints PASS/FAIL/SKIP lines for test/run.py.
set -u
cd "$(dirname "$0")/.." || exit 1
CRIU=${CRIU:-$PWD/criu/criu}
CRIT=/usr/bin/crit
PY=/usr/bin/python3		# crit's python, which has json and protobuf
GOLDEN=${CRIU_GOLDEN_DIR:-$PWD/../shared/golden}
FIXTURES=$PWD/test/fixtures/est-json
TMP=$(mktemp -d /tmp/criu-est-show.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
failed=0

pass() { echo "PASS est-show: $1"; }
fail() { echo "FAIL est-show: $1: $2"; failed=1; }
skip() { echo "SKIP est-show: $1: $2"; }

# same FILE-A FILE-B: byte-identical
same() { cmp -s "$1" "$2"; }

# check_file CASE IMG: the three checks on one image file
check_file() {
	local c=$1 img=$2 b ref pretty
	b=$(basename "$img")
	mkdir -p "$TMP/re" "$TMP/enc"
	"$CRIT" decode -i "$img" >"$TMP/crit-compact.json" 2>"$TMP/err" ||
		{ fail "$c" "crit decode $b: $(tail -1 "$TMP/err")"; return 1; }
	"$CRIT" encode -i "$TMP/crit-compact.json" -o "$TMP/re/$b" 2>"$TMP/err" ||
		{ fail "$c" "crit encode $b: $(tail -1 "$TMP/err")"; return 1; }
	ref=$img
	same "$img" "$TMP/re/$b" || ref=$TMP/re/$b	# §5.3 fields: compare on crit's bytes
	for pretty in "" --pretty; do
		if [ -n "$pretty" ]; then
			"$CRIT" decode -i "$img" --pretty >"$TMP/crit.json" 2>/dev/null
		else
			cp "$TMP/crit-compact.json" "$TMP/crit.json"
		fi
		"$CRIU" show $pretty "$ref" >"$TMP/ours.json" 2>"$TMP/err" ||
			{ fail "$c" "criu show $pretty $b: $(tail -1 "$TMP/err")"; return 1; }
		same "$TMP/crit.json" "$TMP/ours.json" ||
			{ fail "$c" "criu show $pretty $b differs from crit decode: $(diff "$TMP/crit.json" "$TMP/ours.json" | head -3 | tr '\n' ' ')"; return 1; }
		rm -f "$TMP/enc/$b"
		"$CRIU" encode "$TMP/crit.json" "$TMP/enc/$b" 2>"$TMP/err" ||
			{ fail "$c" "criu encode of crit decode $pretty $b: $(tail -1 "$TMP/err")"; return 1; }
		same "$TMP/enc/$b" "$TMP/re/$b" ||
			{ fail "$c" "criu encode of crit decode $pretty $b differs from crit encode"; return 1; }
		"$CRIU" show $pretty "$img" >"$TMP/ours.json" 2>"$TMP/err" &&
			"$CRIU" encode "$TMP/ours.json" "$TMP/enc/$b" 2>"$TMP/err" ||
			{ fail "$c" "criu show $pretty | encode $b: $(tail -1 "$TMP/err")"; return 1; }
		same "$TMP/enc/$b" "$img" ||
			{ fail "$c" "criu show $pretty | encode does not give $b back"; return 1; }
	done
	return 0
}

# check_dir CASE DIR: show [--pretty] DIR is json.dump of {name: show [--pretty] FILE}
check_dir() {
	local c=$1 dir=$2 f b pretty indent
	for pretty in "" --pretty; do
		indent=None
		[ -n "$pretty" ] && indent=4
		"$CRIU" show $pretty "$dir" >"$TMP/dir.json" 2>"$TMP/err" ||
			{ fail "$c" "criu show $pretty DIR: $(tail -1 "$TMP/err")"; return 1; }
		$PY - "$TMP/dir.json" $indent <<-'EOF' || { fail "$c" "show $pretty DIR is not laid out as json.dump"; return 1; }
		import json, sys
		text = open(sys.argv[1]).read()
		indent = None if sys.argv[2] == "None" else int(sys.argv[2])
		sys.exit(0 if json.dumps(json.loads(text), indent=indent) + "\n" == text else 1)
		EOF
		for f in "$dir"/*; do
			b=$(basename "$f")
			case $b in pages-*) continue ;; esac
			"$CRIU" show $pretty "$f" >"$TMP/one.json" 2>/dev/null
			$PY - "$TMP/dir.json" "$TMP/one.json" "$b" <<-'EOF' || { fail "$c" "show $pretty DIR: member $b"; return 1; }
			import json, sys
			d = json.load(open(sys.argv[1]))
			sys.exit(0 if d.get(sys.argv[3]) == json.load(open(sys.argv[2])) else 1)
			EOF
		done
	done
	return 0
}

t_golden() {
	local set=$1 c="golden $1: show = crit decode, encode = crit encode" f n=0
	for f in "$GOLDEN/$set"/*; do
		case $(basename "$f") in pages-*) continue ;; esac
		check_file "$c" "$f" || return
		n=$((n + 1))
	done
	[ $n -gt 0 ] || { fail "$c" "no images in $GOLDEN/$set"; return; }
	check_dir "$c" "$GOLDEN/$set" || return
	pass "$c ($n files)"
}

t_fixtures() {
	local c="hand-written images: IP, unix names, dev, flags, ghosts, TCP queues" f b
	mkdir -p "$TMP/fix"
	for f in "$FIXTURES"/*.json; do
		b=$(basename "$f" .json)
		"$CRIT" encode -i "$f" -o "$TMP/fix/$b" 2>"$TMP/err" ||
			{ fail "$c" "crit encode $b: $(tail -1 "$TMP/err")"; return; }
		check_file "$c" "$TMP/fix/$b" || return
	done
	pass "$c"
}

# Where crit is lax, encode is strict, and show fails on a broken file.
t_strict() {
	local c="encode refuses what does not fit, show refuses a cut file"
	mkdir -p "$TMP/strict"
	echo '{"magic": "SK_QUEUES", "entries": [{"id_for": 1, "length": 4, "extra": "YWI=\n"}]}' >"$TMP/s.json"
	"$CRIU" encode "$TMP/s.json" "$TMP/strict/sk-queues.img" 2>"$TMP/err" &&
		{ fail "$c" "an extra shorter than its length was taken"; return; }
	echo '{"magic": "FS", "entries": [{"cwd_id": 1, "root_id": 2, "bogus": 3}]}' >"$TMP/s.json"
	"$CRIU" encode "$TMP/s.json" "$TMP/strict/fs-1.img" 2>"$TMP/err" &&
		{ fail "$c" "an unknown key was taken"; return; }
	echo '{"magic": "FS", "entries": [{"cwd_id": 1, "root_id": 2}]}' >"$TMP/s.json"
	"$CRIU" encode "$TMP/s.json" "$TMP/strict/core-1.img" 2>"$TMP/err" &&
		{ fail "$c" "an FS image was written as core-1.img"; return; }
	"$CRIU" encode "$TMP/s.json" "$TMP/strict/fs-1.img" 2>"$TMP/err" ||
		{ fail "$c" "a good FS image: $(tail -1 "$TMP/err")"; return; }
	head -c 14 "$TMP/strict/fs-1.img" >"$TMP/strict/fs-2.img"
	"$CRIU" show "$TMP/strict/fs-2.img" >"$TMP/out" 2>"$TMP/err" &&
		{ fail "$c" "a cut image was shown"; return; }
	grep -q "fs-2.img" "$TMP/err" || { fail "$c" "the error does not name the file"; return; }
	pass "$c"
}

if [ ! -x "$CRIT" ]; then
	skip "all" "no $CRIT (Debian package criu, see scripts/install-deps.sh)"
	exit 0
fi
if [ -d "$GOLDEN" ]; then
	for set in single tree fds; do
		t_golden $set
	done
else
	skip "golden sets" "no golden images at $GOLDEN: place shared/ next to the repository or set CRIU_GOLDEN_DIR"
fi
t_fixtures
t_strict
exit $failed
