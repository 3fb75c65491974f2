#!/usr/bin/python3
"""Restore the golden image sets the established tool wrote, and let each victim check itself.

The sets live in <repo>/../shared/golden (or $CRIU_GOLDEN_DIR); its README.md
says how to restore them: the victims' binaries are copied to
/tmp/criu-golden/bin (the images name them there), `criu restore -d -W` puts
the log outside the set, SIGUSR1 asks the restored root to check its state,
and it writes PASS or "FAIL: why" to /tmp/criu-golden/run/NAME.result.

One case per set; SKIP when the sets are absent or a set's fixed pids are
in use. This program is a child subreaper: the restored processes become its
children once criu exits, and it kills and reaps whatever is left of them.
/tmp/criu-golden is removed at the end.
"""
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "test"))
from run import reap  # noqa: E402  (the harness's own: reap children until timeout)
CRIU = os.path.join(ROOT, "criu/criu")
TMP = "/tmp/criu-golden"
SETS = [("single", [32601]), ("tree", [32611, 32612, 32613, 32614]), ("fds", [32621])]
PR_SET_CHILD_SUBREAPER = 36


def golden_dir():
    return os.environ.get("CRIU_GOLDEN_DIR") or os.path.join(ROOT, "..", "shared", "golden")


def alive(pid):
    return os.path.exists("/proc/%d" % pid)


def ours(pid, name):
    try:
        return os.readlink("/proc/%d/exe" % pid) == os.path.join(TMP, "bin", name)
    except OSError:
        return False


def finish(name, pids):
    """Kill what is left of the set's victims (only those running our copy) and reap them."""
    for pid in pids:
        if ours(pid, name):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    end = time.monotonic() + 5
    while any(alive(p) and ours(p, name) for p in pids) and time.monotonic() < end:
        reap(0.1)
    reap(0.2)


def last_error(work):
    for f in ("restore.log", "restore.out"):
        try:
            with open(os.path.join(work, f), errors="replace") as fh:
                errs = [l.strip() for l in fh if "Error" in l]
            if errs:
                return errs[-1][:200]
        except OSError:
            pass
    return "no error logged"


def run_set(gdir, name, pids):
    case = "golden %s" % name
    busy = [p for p in pids if alive(p)]
    if busy:
        print("SKIP %s: pid(s) %s in use, the set needs them free" % (case, busy))
        return True
    shutil.rmtree(TMP, ignore_errors=True)
    work = os.path.join(TMP, "work")
    for d in ("bin", "run", "work"):
        os.makedirs(os.path.join(TMP, d))
    for b in os.listdir(os.path.join(gdir, "bin")):
        shutil.copy2(os.path.join(gdir, "bin", b), os.path.join(TMP, "bin", b))
    with open(os.path.join(work, "restore.out"), "w") as out:
        r = subprocess.run([CRIU, "restore", "-D", os.path.join(gdir, name), "-W", work, "-d",
                            "-o", "restore.log", "-v4"], stdout=out, stderr=subprocess.STDOUT,
                           timeout=60)
    if r.returncode != 0:
        print("FAIL %s: restore failed: %s" % (case, last_error(work)))
        finish(name, pids)
        return False
    result_file = os.path.join(TMP, "run", name + ".result")
    try:
        os.kill(pids[0], signal.SIGUSR1)
    except ProcessLookupError:
        pass
    result = ""
    end = time.monotonic() + 10
    while time.monotonic() < end:
        if os.path.exists(result_file) and os.path.getsize(result_file):
            time.sleep(0.05)	# the victim writes one short line
            with open(result_file) as f:
                result = f.read().strip()
            break
        time.sleep(0.05)
    finish(name, pids)
    if result != "PASS":
        print("FAIL %s: %s" % (case, result or "the victim did not answer"))
        return False
    print("PASS %s" % case)
    return True


def main():
    gdir = golden_dir()
    if not os.path.isdir(gdir):
        for name, _ in SETS:
            print("SKIP golden %s: no golden images at %s: place shared/ next to the "
                  "repository or set CRIU_GOLDEN_DIR" % (name, gdir))
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("FAIL golden: cannot become a child subreaper")
        return 1
    ok = True
    try:
        for name, pids in SETS:
            ok = run_set(gdir, name, pids) and ok
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
