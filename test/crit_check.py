#!/usr/bin/python3
"""Every image of a dump directory against the installed crit (Debian's criu).

Usage: /usr/bin/python3 test/crit_check.py CRIU DIR
For each image of DIR except raw page data (pages-N.img), the raw netlink
streams (ifaddr-, route-, route6-, rule-N.img), tmpfs archives
(tmpfs-dev-N.tar.gz.img), our extension
images (xt-*) and non-images (logs, pid files, the manifest), without the fields crit
3.17 does not know (UNKNOWN_TO_CRIT) and the entries of kinds it does not know
(UNKNOWN_ENTRIES):
  - crit's decoder (pycriu, what `crit decode` runs) reads it;
  - crit's encoder gives back the same bytes from the decoded JSON;
  - `criu show FILE` prints exactly what `crit decode -i FILE` prints.
One process for the whole directory: crit's start-up costs more than the
checks. Prints nothing and exits 0 when all hold, else one line per problem
and exits 1. Run with /usr/bin/python3: that is the python crit's modules
(protobuf) are installed for.
"""
import io
import json
import os
import subprocess
import sys

import pycriu


# Raw images crit has no decoder for: the message streams `ip ... save` writes.
RAW_STREAMS = ("ifaddr-", "route-", "route6-", "rule-")


def skipped(name):
    return (name.startswith("xt-") or name.startswith(".") or name.endswith(".log") or
            (name.startswith(RAW_STREAMS) and name.endswith(".img")) or
            name in ("criu-manifest", "parent-manifest") or
            name.endswith(".pid") or (name.startswith("pages-") and name.endswith(".img")) or
            (name.startswith("tmpfs-dev-") and name.endswith(".tar.gz.img")))


# Fields 4.x writes and crit 3.17 does not know (plan §5.3): crit's decode
# drops them, so its encode cannot give them back. Per image, the paths of
# field numbers into each entry of such fields; the round trip and criu show
# are then checked on our bytes without them.
UNKNOWN_TO_CRIT = {
    "files.img": [(4, 20), (4, 16, 5), (4, 16, 6), (4, 16, 7)],  # inet tcp_opts, ip_opts
    "memfd.img": [(9,)],                                         # memfd_inode_entry.mode
    # thread_core.creds no_new_privs, cap_amb; tc stop_signo, membarrier mask
    "core-": [(5, 10, 18), (5, 10, 19), (3, 21), (3, 22)],
    "netns-": [(10,)],                                           # netns_entry.ipv4_sysctl
}


# Entries of kinds crit 3.17 does not know (an fd type it lacks in a
# required enum field): per image, the field number and the values whose
# entries are checked without.
UNKNOWN_ENTRIES = {
    "files.img": (1, {20}),                                      # file_entry.type PIDFD
    "fdinfo-": (3, {20}),                                        # fdinfo_entry.type PIDFD
}


def by_name(table, name):
    for k, v in table.items():
        if name == k or (k.endswith("-") and name.startswith(k)):
            return v
    return None


def unknown_paths(name):
    return by_name(UNKNOWN_TO_CRIT, name)


def fields(b):
    """(number, wire type, start, value start, end, varint value) of each
    top-level field of message bytes @b."""
    i = 0
    while i < len(b):
        start = i
        tag, i = varint(b, i)
        num, wt, j, v = tag >> 3, tag & 7, i, None
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 1:
            i += 8
        elif wt == 5:
            i += 4
        elif wt == 2:
            n, j = varint(b, i)
            i = j + n
        else:
            raise ValueError("wire type %d" % wt)
        yield num, wt, start, j, i, v


def field_value(b, want):
    """The varint field @want at the top of message bytes @b, or None."""
    for num, wt, _, _, _, v in fields(b):
        if num == want and wt == 0:
            return v
    return None


def varint(b, i):
    v = s = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7f) << s
        s += 7
        if c < 0x80:
            return v, i


def put_varint(v):
    out = bytearray()
    while True:
        out.append((v & 0x7f) | (0x80 if v > 0x7f else 0))
        v >>= 7
        if not v:
            return bytes(out)


def strip_fields(b, paths):
    """Protobuf message bytes @b without the fields @paths name."""
    out = bytearray()
    for num, wt, start, j, i, _ in fields(b):
        sub = [p[1:] for p in paths if p[0] == num and len(p) > 1]
        if wt == 2 and sub:
            inner = strip_fields(b[j:i], sub)
            out += b[start:j - len(put_varint(i - j))] + put_varint(len(inner)) + inner
        elif (num,) not in paths:
            out += b[start:i]
    return bytes(out)


def strip_unknown(name, raw):
    """@raw without the fields crit does not know; None if it has none of them."""
    paths = unknown_paths(name) or []
    drop = by_name(UNKNOWN_ENTRIES, name)
    if not paths and not drop:
        return None
    m = pycriu.images.magic.by_name
    i = 8 if int.from_bytes(raw[:4], "little") in (m["IMG_COMMON"], m["IMG_SERVICE"]) else 4
    out = bytearray(raw[:i])
    while i < len(raw):
        n = int.from_bytes(raw[i:i + 4], "little")
        e = strip_fields(raw[i + 4:i + 4 + n], paths)
        i += 4 + n
        if drop and field_value(e, drop[0]) in drop[1]:
            continue
        out += len(e).to_bytes(4, "little") + e
    return bytes(out) if out != raw else None


def check(criu, path):
    with open(path, "rb") as f:
        raw = f.read()
    stripped = strip_unknown(os.path.basename(path), raw)
    if stripped is None:
        return check_bytes(criu, path, raw)
    tmp = path + ".crit-check"
    with open(tmp, "wb") as f:
        f.write(stripped)
    try:
        return check_bytes(criu, tmp, stripped)
    finally:
        os.unlink(tmp)


def check_bytes(criu, path, raw):
    try:
        img = pycriu.images.load(io.BytesIO(raw))
    except Exception as e:  # crit fails on it: that is the finding
        return "crit cannot decode it: %s: %s" % (type(e).__name__, e)
    text = json.dumps(img) + "\n"
    out = io.BytesIO()
    try:
        pycriu.images.dump(json.loads(text), out)
    except Exception as e:
        return "crit cannot encode its own decoding: %s: %s" % (type(e).__name__, e)
    if out.getvalue() != raw:
        return "crit decode | crit encode does not give the same bytes"
    r = subprocess.run([criu, "show", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        return "criu show failed: %s" % r.stderr.decode(errors="replace").strip()[-200:]
    if r.stdout.decode() != text:
        return "criu show differs from crit decode"
    return None


def main():
    criu, d = sys.argv[1], sys.argv[2]
    bad = 0
    for name in sorted(os.listdir(d)):
        p = os.path.join(d, name)
        if skipped(name) or not os.path.isfile(p):
            continue
        why = check(criu, p)
        if why:
            print("%s: %s" % (name, why))
            bad = 1
    return bad


if __name__ == "__main__":
    sys.exit(main())
