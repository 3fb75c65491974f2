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


def _inventory(h, imgs, env):
    rc, out = h.criu(["show", os.path.join(imgs, "inventory.img")], imgs, env)
    if rc != 0:
        raise h.CaseFailed("criu show inventory: %s" % out[:300])
    return json.loads(out)["entries"][0]


def _blocks(d):
    """Bytes allocated to the page files of d (punched pages are not)."""
    return sum(os.stat(os.path.join(d, f)).st_blocks * 512
               for f in os.listdir(d) if f.startswith("pages-"))


def _read_chain(h, p, tmp, dopts, ropts, env, dedup):
    """--pre-dump-mode read: two pre-dumps copied while the program writes
    (predump_writer.c), then dump --track-mem and restore: every page checked.
    With dedup the second pre-dump has --auto-dedup and `criu dedup` runs on
    the dump: the parents' page files must shrink and the restore pass."""
    pid = p.pid
    dirs = [os.path.join(tmp, d) for d in ("d1", "d2", "d3")]
    for d in dirs:
        os.makedirs(d)
    prev = []
    for d in dirs[:2]:
        auto = ["--auto-dedup"] if dedup and prev else []
        before = _blocks(dirs[0]) if auto else 0
        _criu_ok(h, ["pre-dump", "-t", str(pid), "--pre-dump-mode", "read", "-D", d] + prev + auto,
                 d, env, "pre-dump.log")
        if auto and _blocks(dirs[0]) >= before:
            raise h.CaseFailed("--auto-dedup punched nothing out of d1 (%d bytes)" % before)
        if p.poll() is not None:
            raise h.CaseFailed("the tree is gone after the pre-dump (status %s)" % p.returncode)
        mode = _inventory(h, d, env).get("pre_dump_mode")
        if mode not in (2, "READ"):
            raise h.CaseFailed("%s: inventory pre_dump_mode %r, not 2 (read)" % (d, mode))
        with open(os.path.join(d, "pre-dump.log")) as f:
            if "bytes copied while the tree runs" not in f.read():
                raise h.CaseFailed("%s: the pages were not copied after the release" % d)
        prev = ["--prev-images-dir", "../" + os.path.basename(d)]
    _criu_ok(h, ["dump", "-t", str(pid), "--track-mem", "-D", dirs[2]] + prev + dopts, dirs[2],
             env, "dump.log")
    if dedup:
        before = _blocks(dirs[1])
        _criu_ok(h, ["dedup", "-D", dirs[2]], dirs[2], env, "dedup.log")
        if _blocks(dirs[1]) >= before:
            raise h.CaseFailed("criu dedup punched nothing out of d2 (%d bytes)" % before)
    for d in dirs:
        h.crit_check(d)
    status = p.wait(timeout=20)
    if status != -signal.SIGKILL:
        raise h.CaseFailed("after dump the task ended with %s, not SIGKILL" % status)
    h.tree_gone(tmp)
    stored, parent = _pages(h, dirs[2], pid, env)
    if parent < 8192:
        raise h.CaseFailed("the dump stores %d pages and leaves only %d to its parents: "
                           "the chain is not exercised" % (stored, parent))
    h.restore(dirs[2], ropts, env, pid)
    os.kill(pid, signal.SIGTERM)
    return h.wait_pid(pid, 30)


def run_read(h, p, tmp, dopts, ropts, env):
    return _read_chain(h, p, tmp, dopts, ropts, env, False)


def run_dedup(h, p, tmp, dopts, ropts, env):
    return _read_chain(h, p, tmp, dopts, ropts, env, True)


def refused_flow(text):
    """A pre-dump that must fail naming `text` and leave the tree running:
    the program then checks itself as after a restore."""
    def flow(h, p, tmp, dopts, ropts, env):
        imgs = os.path.join(tmp, "imgs")
        os.makedirs(imgs)
        rc, out = h.criu(["pre-dump", "-t", str(p.pid), "-D", imgs, "-o", "pre-dump.log", "-v4"]
                         + dopts, imgs, env)
        errs = h.log_errors(os.path.join(imgs, "pre-dump.log"))
        if rc == 0 or text not in errs:
            raise h.CaseFailed("pre-dump exited %d, expected a refusal with %r: %s" % (rc, text, errs))
        if p.poll() is not None:
            raise h.CaseFailed("the refused tree is gone (status %s)" % p.returncode)
        os.kill(p.pid, signal.SIGTERM)
        return p.wait(timeout=30)
    return flow
