#!/usr/bin/python3
"""Run every test suite and print the closing line "N passed, N failed, N skipped".

A suite is a program that prints one line per case on stdout:
    PASS <name>
    FAIL <name>: <why>
    SKIP <name>: <why>
and exits non-zero if any case failed. A suite that exits non-zero without
printing a FAIL line, or that runs past its time limit, counts as one failed
case of its own.

The harness makes itself a child subreaper, so processes a test leaves behind
are reparented here: they are killed and reaped after each suite (and reported
as a failure, since tests must clean up).

Usage: test/run.py [-v] [SUITE-NAME-SUBSTRING ...]
"""
import ctypes
import glob
import os
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PR_SET_CHILD_SUBREAPER = 36


def unit_suites():
    for path in sorted(glob.glob(os.path.join(ROOT, "test/unit/test-*"))):
        if os.access(path, os.X_OK) and not path.endswith(".c"):
            yield ("unit/" + os.path.basename(path), [path], 120)


# One line per suite: name, command, time limit in seconds.
def suites():
    yield from unit_suites()
    yield ("cli", [os.path.join(ROOT, "test/cli.sh")], 120)
    # house-style size limits of production code (functions, files)
    yield ("size", [os.path.join(ROOT, "scripts/check-size.py"), "--self-test"], 60)
    # libcriu as a C caller links it, driving criu swrk
    yield ("libcriu", [os.path.join(ROOT, "test/rpc/test-libcriu")], 300)
    # x86 specifics only under arch/, every -I exists (also `make check`)
    yield ("check-arch", [os.path.join(ROOT, "scripts/check-arch.py")], 60)
    # restores of images the established tool wrote (../shared/golden)
    yield ("golden", [os.path.join(ROOT, "test/golden.py")], 300)
    yield ("est-show", [os.path.join(ROOT, "test/est-show.sh")], 300)
    # every fuzz target over its corpus, then a few seconds of fuzzing each
    yield ("fuzz", [os.path.join(ROOT, "test/fuzz/run.py")], 600)
    compel = os.path.join(ROOT, "compel/test/run")
    if os.access(compel, os.X_OK):
        yield ("compel", [compel], 600)
    # criu SIGKILLed after every log line of a dump and a restore (issue 18)
    yield ("kill-sweep", [os.path.join(ROOT, "test/e2e/kill_sweep.py")], 600)
    e2e = os.path.join(ROOT, "test/e2e/run.py")
    if os.access(e2e, os.X_OK):
        yield ("e2e", [e2e], 1200)


def children_of(pid):
    """Direct children of pid, from /proc (all threads' children files)."""
    kids = []
    for task in glob.glob("/proc/%d/task/*/children" % pid):
        try:
            with open(task) as f:
                kids += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return kids


def kill_strays():
    """Kill and reap whatever the last suite left behind; return their pids."""
    strays = []
    for _ in range(50):
        kids = children_of(os.getpid())
        if not kids:
            break
        for pid in kids:
            if pid not in strays:
                strays.append(pid)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        reap(0.1)
    reap(0)
    return strays


def reap(timeout):
    end = time.monotonic() + timeout
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if time.monotonic() >= end:
                return
            time.sleep(0.01)


def run_suite(name, cmd, limit, verbose):
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    start = time.monotonic()
    try:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True,
                                errors="replace", start_new_session=True)
    except OSError as e:
        print("FAIL %s: cannot start: %s" % (name, e), flush=True)
        counts["FAIL"] += 1
        return counts
    timed_out = False
    try:
        out, _ = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        timed_out = True
    for line in out.splitlines():
        word = line.split(" ", 1)[0]
        if word in counts:
            counts[word] += 1
            if word != "PASS" or verbose:
                print("  " + line, flush=True)
        elif verbose:
            print("    | " + line)
    if timed_out:
        print("  FAIL %s: timed out after %ds" % (name, limit), flush=True)
        counts["FAIL"] += 1
    elif proc.returncode != 0 and counts["FAIL"] == 0:
        print("  FAIL %s: exited %d without naming a failed case" % (name, proc.returncode))
        tail = out.splitlines()[-15:]
        for line in tail:
            print("    | " + line)
        counts["FAIL"] += 1
    strays = kill_strays()
    if strays:
        print("  FAIL %s: left processes behind: %s" % (name, strays), flush=True)
        counts["FAIL"] += 1
    print("%-28s %3d passed, %d failed, %d skipped (%.1fs)" % (
        name, counts["PASS"], counts["FAIL"], counts["SKIP"], time.monotonic() - start),
        flush=True)
    return counts


def main():
    args = sys.argv[1:]
    verbose = "-v" in args
    wanted = [a for a in args if a != "-v"]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("warning: cannot become a child subreaper", file=sys.stderr)
    total = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    for name, cmd, limit in suites():
        if wanted and not any(w in name for w in wanted):
            continue
        for k, v in run_suite(name, cmd, limit, verbose).items():
            total[k] += v
    print("%d passed, %d failed, %d skipped" % (total["PASS"], total["FAIL"], total["SKIP"]))
    return 1 if total["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
