"""The pre-dump chain flow of test/e2e/run.py (Documentation/predump.md).

pre-dump into d1, the program changes its memory and forks a child (step
1), pre-dump into d2 on top of d1 (the child's first), step 2, then dump --track-mem into d3 on top of d2 (the tree
is killed) and restore from d3: the program checks every page. In between:
the pre-dumped tree keeps running, d2 and d3 hold only the pages written
since their parent (counted in their pagemaps), and afterwards a changed or
missing parent makes the restore refuse.
"""
import json
import os
import shutil
import signal
import time

STEP_PAGES = {"d2": 8 + 16, "d3": 2 + 1 + 32}   # written by the program: see predump.c
SLACK = 16          # its stack, libc's data, the vdso the export adds


def _criu_ok(h, args, imgs, env, log):
    rc, out = h.criu(args + ["-o", log, "-v4"], imgs, env)
    if rc != 0:
        raise h.CaseFailed("criu %s exited %d: %s %s" % (args[0], rc, out.strip()[:300],
                                                          h.log_errors(os.path.join(imgs, log))))
    h.no_errors(os.path.join(imgs, log), args[0])


def _step(h, p, tmp, n):
    if p.poll() is not None:
        raise h.CaseFailed("the tree is gone after the pre-dump (status %s)" % p.returncode)
    os.kill(p.pid, signal.SIGUSR1)
    path, end = os.path.join(tmp, "step"), time.monotonic() + 20
    while time.monotonic() < end:
        try:
            with open(path) as f:
                if f.read().strip() == str(n):
                    return
        except OSError:
            pass
        time.sleep(0.005)
    raise h.CaseFailed("the program did not report step %d" % n)


def _pages(h, imgs, pid, env):
    """(pages stored, pages left to the parent) in imgs/pagemap-PID.img."""
    rc, out = h.criu(["show", os.path.join(imgs, "pagemap-%d.img" % pid)], imgs, env)
    if rc != 0:
        raise h.CaseFailed("criu show pagemap: %s" % out[:300])
    stored = parent = 0
    for e in json.loads(out)["entries"][1:]:
        n = e.get("nr_pages", e.get("compat_nr_pages", 0))
        if e.get("flags", 0) & 1 or e.get("in_parent"):     # PE_PARENT
            parent += n
        else:
            stored += n
    return stored, parent


def _refused(h, imgs, env, want):
    rc, out = h.criu(["restore", "-D", imgs, "-d", "-o", "refused.log", "-v4"], imgs, env)
    errs = h.log_errors(os.path.join(imgs, "refused.log"))
    if rc == 0 or want not in errs:
        raise h.CaseFailed("restore exited %d, expected a refusal with %r: %s" % (rc, want, errs))
    h.tree_gone(os.path.dirname(imgs))


def run(h, p, tmp, env):
    pid = p.pid
    d1, d2, d3 = (os.path.join(tmp, d) for d in ("d1", "d2", "d3"))
    for d in (d1, d2, d3):
        os.makedirs(d)
    _criu_ok(h, ["pre-dump", "-t", str(pid), "-D", d1], d1, env, "pre-dump.log")
    _step(h, p, tmp, 1)
    _criu_ok(h, ["pre-dump", "-t", str(pid), "--prev-images-dir", "../d1", "-D", d2], d2, env,
             "pre-dump.log")
    _step(h, p, tmp, 2)
    _criu_ok(h, ["dump", "-t", str(pid), "--track-mem", "--prev-images-dir", "../d2", "-D", d3],
             d3, env, "dump.log")
    for d in (d1, d2, d3):
        h.crit_check(d)
    status = p.wait(timeout=20)
    if status != -signal.SIGKILL:
        raise h.CaseFailed("after dump the task ended with %s, not SIGKILL" % status)
    h.tree_gone(tmp)
    total = _pages(h, d1, pid, env)
    for d in ("d2", "d3"):
        stored, parent = _pages(h, os.path.join(tmp, d), pid, env)
        if stored > STEP_PAGES[d] + SLACK or parent < 40:
            raise h.CaseFailed("%s stores %d pages and leaves %d to its parent (the first "
                               "pre-dump stored %d): more than what changed" %
                               (d, stored, parent, total[0]))
    h.restore(d3, [], env, pid)
    os.kill(pid, signal.SIGTERM)
    status = h.wait_pid(pid, 30)
    h.check_result(tmp, status)
    # a changed parent, then a missing one: refused before anything is made
    pages = [f for f in os.listdir(d1) if f.startswith("pages-")][0]
    with open(os.path.join(d1, pages), "r+b") as f:
        b = f.read(1)
        f.seek(0)
        f.write(bytes([b[0] ^ 1]))
    _refused(h, d3, env, "is changed: its checksum")
    shutil.rmtree(d1)
    _refused(h, d3, env, "are missing")
    return None
