#!/usr/bin/python3
"""Every image of a dump directory against the installed crit (Debian's criu).

Usage: /usr/bin/python3 test/crit_check.py CRIU DIR
For each image of DIR except raw page data (pages-N.img), our extension
images (xt-*) and non-images (logs, pid files):
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


def skipped(name):
    return (name.startswith("xt-") or name.startswith(".") or name.endswith(".log") or
            name.endswith(".pid") or (name.startswith("pages-") and name.endswith(".img")))


def check(criu, path):
    with open(path, "rb") as f:
        raw = f.read()
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
