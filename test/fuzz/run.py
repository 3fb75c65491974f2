#!/usr/bin/python3
"""The fuzz targets as a test suite: one case per target (test/fuzz/fuzz-*).

Each target runs every input of its corpus (test/fuzz/corpus/NAME: seeds and
the inputs of past findings, kept as regression tests), then fuzzes for
FUZZ_TEST_TIME seconds (default 3) more, starting from that corpus. What it
adds goes to a scratch directory, removed afterwards; a crash, leak, timeout
or sanitizer report fails the case, and its input is kept under
test/fuzz/crashes/NAME/ to be added to the corpus once fixed.
`make fuzz` does the long runs.

Usage: test/fuzz/run.py [NAME-SUBSTRING ...]
"""
import ctypes
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

FUZZ = os.path.dirname(os.path.abspath(__file__))
PR_SET_CHILD_SUBREAPER = 36


def targets(wanted):
    for path in sorted(glob.glob(os.path.join(FUZZ, "fuzz-*"))):
        name = os.path.basename(path)
        if os.path.splitext(name)[1] or not os.access(path, os.X_OK):
            continue
        if not wanted or any(w in name for w in wanted):
            yield name, path


def reap_orphans():
    """The sanitizers' symbolizer outlives a target that printed a report: end it."""
    for task in glob.glob("/proc/%d/task/*/children" % os.getpid()):
        try:
            with open(task) as f:
                kids = [int(x) for x in f.read().split()]
        except OSError:
            continue
        for pid in kids:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (OSError, ChildProcessError):
                pass


def last_stat(out, key):
    m = re.findall(r"^stat::%s:\s*(\d+)" % key, out, re.M)
    return int(m[-1]) if m else 0


def run_one(name, path, seconds):
    corpus = os.path.join(FUZZ, "corpus", name)
    crashes = os.path.join(FUZZ, "crashes", name)
    os.makedirs(crashes, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="criu-%s-run." % name)
    dirs = [scratch] + ([corpus] if os.path.isdir(corpus) else [])
    # -print_funcs=0: no symbolizer process just to name new functions
    cmd = [path, "-max_total_time=%d" % seconds, "-timeout=20", "-rss_limit_mb=2048",
           "-print_funcs=0", "-print_final_stats=1", "-artifact_prefix=%s/" % crashes] + dirs
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           errors="replace", timeout=seconds + 240)
        out, rc = r.stdout, r.returncode
    except subprocess.TimeoutExpired as e:
        out, rc = (e.stdout or b"").decode(errors="replace"), -1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        reap_orphans()
    seeds = len(os.listdir(corpus)) if os.path.isdir(corpus) else 0
    if rc != 0:
        found = sorted(os.listdir(crashes))
        why = [l for l in out.splitlines() if "ERROR:" in l or "SUMMARY:" in l or
               "deadly signal" in l][:2]
        print("FAIL %s: exit %d, %s; input kept in %s" % (
            name, rc, " | ".join(why) or "no report", ", ".join(
                os.path.join("test/fuzz/crashes", name, f) for f in found) or "none"))
        for line in out.splitlines()[-20:]:
            print("    | " + line)
        return False
    if not os.listdir(crashes):
        os.rmdir(crashes)
    print("PASS %s: %d corpus inputs, %d executions in %ds, %d new inputs" % (
        name, seeds, last_stat(out, "number_of_executed_units"), seconds,
        last_stat(out, "new_units_added")))
    return True


def main():
    seconds = int(os.environ.get("FUZZ_TEST_TIME", "3"))
    ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    ok = True
    found = False
    for name, path in targets(sys.argv[1:]):
        found = True
        ok = run_one(name, path, seconds) and ok
    if not found:
        print("SKIP fuzz: no fuzz target built (make fuzz-build; needs clang)")
    try:
        os.rmdir(os.path.join(FUZZ, "crashes"))
    except OSError:
        pass
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
