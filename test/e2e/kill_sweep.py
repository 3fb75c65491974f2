#!/usr/bin/python3
"""Kill sweeps: criu SIGKILLed after each line it logs, in a dump and in a
restore of a tree holding memory, threads, pipes, sockets and a pty
(the `sweep` program).

CRIU_FAULT=die-log-N has criu kill itself right after its Nth log line
(criu.8, "ENVIRONMENT"), as a kill from outside at that moment would.
Every outcome must be one of:
  dump:    not committed: every process of the tree runs on, untraced and
           unstopped, with the mappings, descriptors and threads it had;
           committed: the tree is gone and the images restore it whole;
  restore: the tree restored whole (it passes its own checks), or nothing
           of it left;
and the images are byte for byte what they were before each restore.

`kill_sweep.py [--step K]`: every Kth log line only (default: every one).
Prints one line per sweep: "PASS kill-sweep: dump (N kills)".
"""
import hashlib
import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as e2e  # noqa: E402  (the e2e harness: start, snapshot, criu, ...)

OPTS = ["--image-ext"]   # the pty's state needs our image extension
DIED = "fault injected at log line"


class Victim:
    def __init__(self, tmp):
        self.tmp = tempfile.mkdtemp(dir=tmp, prefix="victim-")
        self.p = e2e.start(e2e.prog("sweep"), self.tmp)
        self.root = self.p.pid
        self.before = e2e.snapshot(self.root)

    def finish(self):
        """SIGTERM after the restore: the tree checks itself."""
        os.kill(self.root, signal.SIGTERM)
        status = e2e.wait_pid(self.root, 20)
        e2e.check_result(self.tmp, status)


def criu_at(args, workdir, n):
    env = dict(os.environ, CRIU_FAULT="die-log-%d" % n)
    rc, out = e2e.criu(args, workdir, env)
    log = os.path.join(workdir, args[args.index("-o") + 1])
    with open(log, errors="replace") as f:
        died = DIED in f.read()
    if died != (rc == -signal.SIGKILL):
        raise e2e.CaseFailed("log line %d: exit %d, the log says it %s" % (
            n, rc, "died" if died else "did not die"))
    if rc not in (0, -signal.SIGKILL):
        raise e2e.CaseFailed("log line %d: exit %d: %s %s" % (n, rc, out.strip()[:200],
                                                             e2e.log_errors(log)))
    return died


def dump_point(v, n, tmp):
    """A dump killed after log line @n; returns True once it was committed."""
    imgs = os.path.join(tmp, "dump-%d" % n)
    work = os.path.join(tmp, "work-%d" % n)
    os.makedirs(imgs)
    os.makedirs(work)
    criu_at(["dump", "-t", str(v.root), "-D", imgs, "-W", work, "-o", "dump.log", "-v4"]
            + OPTS, work, n)
    if not os.path.exists(os.path.join(imgs, "inventory.img")):
        e2e.untouched(v.tmp, "a kill after log line %d" % n)
        e2e.guard_gone()
        diff = e2e.settled_diff("sweep", v.before, v.root)
        if diff:
            raise e2e.CaseFailed("after a kill at log line %d the tree changed: %s" % (n, diff))
        shutil.rmtree(imgs)
        shutil.rmtree(work)
        return None
    e2e.tree_gone(v.tmp)
    return imgs


def tree_of(imgs):
    """Every file under @imgs with its digest."""
    out = {}
    for top, _, names in os.walk(imgs):
        for name in names:
            path = os.path.join(top, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, imgs)] = hashlib.sha256(f.read()).hexdigest()
    return out


def restore_point(v, imgs, n, tmp, digests):
    """A restore killed after log line @n: the whole tree or nothing."""
    work = os.path.join(tmp, "rwork-%d" % n)
    os.makedirs(work)
    died = criu_at(["restore", "-D", imgs, "-W", work, "-d", "-o", "restore.log", "-v4"]
                   + OPTS, work, n)
    if tree_of(imgs) != digests:
        raise e2e.CaseFailed("a restore killed at log line %d changed the images" % n)
    pids = e2e.tree_pids(v.tmp)
    end = time.monotonic() + 10
    while time.monotonic() < end:
        e2e.reap_orphans()
        alive = [p for p in pids if os.path.exists("/proc/%d" % p) and
                 e2e.proc_status(p)["State"].split()[0] != "Z"]
        if not alive or (len(alive) == len(pids) and all(whole(p) for p in alive)):
            break
        time.sleep(0.01)
    shutil.rmtree(work)
    if not alive:
        return died
    if len(alive) != len(pids):
        raise e2e.CaseFailed("a restore killed at log line %d left part of the tree: %s of %s"
                             % (n, alive, pids))
    if os.path.exists(os.path.join(v.tmp, "result")):
        os.unlink(os.path.join(v.tmp, "result"))
    v.finish()          # the tree restored whole: it checks itself
    return died


def whole(pid):
    """A restored process runs its own program again (not criu's)."""
    try:
        return os.readlink("/proc/%d/exe" % pid).endswith("/sweep")
    except OSError:
        return False


def dump_sweep(tmp, step):
    """Kill points 1, 1+step, ... until a dump runs to its end; returns the
    number of kills and the last committed images (with their victim)."""
    v, n, kills, last = Victim(tmp), 1, 0, None
    while True:
        imgs = dump_point(v, n, tmp)
        if imgs is None:
            kills += 1
            n += step
            continue
        with open(os.path.join(imgs, "..", "work-%d" % n, "dump.log"), errors="replace") as f:
            done = DIED not in f.read()
        if last:
            shutil.rmtree(last[1])
        last = (v, imgs)
        e2e.restore(imgs, OPTS, os.environ, v.root)
        v.finish()
        if done:
            return kills, last
        kills += 1
        n += step
        v = Victim(tmp)


def restore_sweep(tmp, step, v, imgs):
    """Kill points along a restore until one runs to its end."""
    # a fresh copy: the dump sweep's restore wrote its log and pidfile there
    clean = os.path.join(tmp, "clean")
    shutil.copytree(imgs, clean, ignore=shutil.ignore_patterns("*.log", "restored.pid"))
    digests, n, kills = tree_of(clean), 1, 0
    while restore_point(v, clean, n, tmp, digests):
        kills += 1
        n += step
    return kills


def main():
    import ctypes
    ctypes.CDLL(None).prctl(e2e.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    step = int(sys.argv[sys.argv.index("--step") + 1]) if "--step" in sys.argv else 1
    failed = 0
    tmp = tempfile.mkdtemp(prefix="criu-kill-sweep.")
    try:
        try:
            kills, (v, imgs) = dump_sweep(tmp, step)
            print("PASS kill-sweep: dump (%d kills)" % kills, flush=True)
        except e2e.CaseFailed as e:
            print("FAIL kill-sweep: dump: %s" % e, flush=True)
            return 1
        try:
            kills = restore_sweep(tmp, step, v, imgs)
            print("PASS kill-sweep: restore (%d kills)" % kills, flush=True)
        except e2e.CaseFailed as e:
            print("FAIL kill-sweep: restore: %s" % e, flush=True)
            failed = 1
    finally:
        left = e2e.strays()
        if left:
            print("FAIL kill-sweep: left processes behind: %s" % "; ".join(left), flush=True)
            failed = 1
        shutil.rmtree(tmp, ignore_errors=True)
    return failed


if __name__ == "__main__":
    sys.exit(main())
