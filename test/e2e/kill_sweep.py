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

Then the same dump to `criu page-server` on 127.0.0.1 (Documentation/
page-server.md), killed two ways:
  page-server dump:   the dumping criu after every PS_STEPth log line;
  page-server server: the page server after each of its log lines (it
                      logs at the connection, at each file and each chunk of
                      data, before the ACK);
each plain and with --tls (the dump's criu at every 2*PS_STEPth line);
the tree as above, and the server's side never part of a set a restore
accepts: a server that outlives the dump ends by itself, keeping page files
only when it received them whole; whatever it kept, the server's -D merged
with a dump's -D that was not committed is refused by a restore; a
server SIGKILLed mid-file leaves its temporary file, which the next server
on the same -D removes. Once the dump commits, the merged set restores
the tree.

`kill_sweep.py [--step K] [--ps-step K] [--only-ps]`: every Kth log line
only (default: every one for dump and restore, every 10th for the
page-server dump). Prints one line per sweep: "PASS kill-sweep: dump (N
kills)".
"""
import hashlib
import os
import shutil
import select
import signal
import subprocess
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


# --tls options of the server and of the dump for the sweep under way ([]: plain)
PS_TLS = {"server": [], "dump": []}


def ps_server(srv, fault):
    """criu page-server on 127.0.0.1 into @srv, killed after log line @fault (0: never)."""
    env = dict(os.environ)
    env.pop("CRIU_FAULT", None)
    if fault:
        env["CRIU_FAULT"] = "die-log-%d" % fault
    os.makedirs(srv, exist_ok=True)
    server = subprocess.Popen([e2e.CRIU, "page-server", "--address", "127.0.0.1", "--port", "0",
                               "-D", srv, "-o", "ps.log", "-v4"] + PS_TLS["server"],
                              cwd=srv, env=env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
    ready, _, _ = select.select([server.stdout], [], [], 20)
    line = server.stdout.readline() if ready else ""
    if line.startswith("port "):
        return server, line.split()[1]
    if line or server.wait(timeout=5) != -signal.SIGKILL or not fault:
        server.kill()
        server.wait()
        raise e2e.CaseFailed("the page server did not say its port: %r" % line)
    server.stdout.close()
    return None, None       # killed before it listened: no transfer to break


def server_end(server, work, what):
    """The server's exit status once the dump is over. A dump that got to
    its connect() was accepted, and its end (EOF) ends the server; one
    killed before may never have connected: the server waits in accept()
    and is killed here."""
    with open(os.path.join(work, "dump.log"), errors="replace") as f:
        connected = "connected to the page server" in f.read()
    try:
        return server.wait(timeout=30 if connected else 2)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
        if connected:
            raise e2e.CaseFailed("%s: the page server outlived the dump" % what)
        return None
    finally:
        server.stdout.close()


def merged_refused(srv, imgs, work, what):
    """The server's files with the dump's uncommitted ones: no restore."""
    merged = os.path.join(work, "merged")
    shutil.copytree(srv, merged, ignore=shutil.ignore_patterns("*.log"))
    for f in os.listdir(imgs):
        shutil.copy(os.path.join(imgs, f), merged)
    rc, out = e2e.criu(["restore", "-D", merged, "-d", "-o", "r.log"] + OPTS, merged, os.environ)
    if rc == 0:
        raise e2e.CaseFailed("%s: the server's files with the dump's restored" % what)


def stale_kept(srv, stale, what):
    """The temporary files a killed server left must be removed by the next."""
    if not stale:
        return
    with open(os.path.join(srv, "ps.log"), errors="replace") as f:
        log = f.read()
    kept = [n for n in stale if "removing %s," % n not in log]
    if kept:
        raise e2e.CaseFailed("%s: the server did not remove %s, left by the one before" %
                             (what, kept))


def ps_point(v, tmp, tag, dump_fault, server_fault, srv):
    """A dump to a page server, criu or the server killed after a log line;
    returns the merged images once the dump committed (else None) and
    whether the kill happened."""
    what = "a kill of %s at log line %d" % (("criu", dump_fault) if dump_fault else
                                            ("the page server", server_fault))
    imgs, work = os.path.join(tmp, "psd-" + tag), os.path.join(tmp, "psw-" + tag)
    stale = [f for f in os.listdir(srv) if f.startswith(".")] if os.path.isdir(srv) else []
    os.makedirs(imgs)
    os.makedirs(work)
    server, port = ps_server(srv, server_fault)
    if not server:
        shutil.rmtree(imgs)
        shutil.rmtree(work)
        return None, True
    try:
        args = ["dump", "-t", str(v.root), "-D", imgs, "-W", work, "-o", "dump.log", "-v4",
                "--page-server", "--address", "127.0.0.1", "--port", port] + OPTS + PS_TLS["dump"]
        if dump_fault:
            died = criu_at(args, work, dump_fault)
        else:
            e2e.criu(args, work, os.environ)
        status = server_end(server, work, what)
        if server_fault:
            died = status == -signal.SIGKILL
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    left = [f for f in os.listdir(srv) if f != "ps.log"]
    stale_kept(srv, stale, what)
    if status == 1 and left:
        raise e2e.CaseFailed("%s: the server refused the stream but kept %s" % (what, left))
    if not os.path.exists(os.path.join(imgs, "inventory.img")):
        e2e.untouched(v.tmp, what)
        e2e.guard_gone()
        diff = e2e.settled_diff("sweep", v.before, v.root)
        if diff:
            raise e2e.CaseFailed("after %s the tree changed: %s" % (what, diff))
        if left:
            merged_refused(srv, imgs, work, what)
        shutil.rmtree(imgs)
        shutil.rmtree(work)
        return None, died
    # committed: the server wrote every file whole (it may die after its ACK)
    if status not in (0, -signal.SIGKILL) or [f for f in left if f.startswith(".")]:
        raise e2e.CaseFailed("%s: committed, but the server ended %s with %s" % (what, status, left))
    e2e.tree_gone(v.tmp)
    for f in left:
        shutil.copy(os.path.join(srv, f), imgs)
    shutil.rmtree(work)
    return imgs, died


def ps_sweep(tmp, step, server_side):
    """Kill points until a dump to the page server commits; the images it
    committed restore the tree. Returns the number of kills."""
    v, n, kills = Victim(tmp), 1, 0
    srv = os.path.join(tmp, "ps-srv")
    while True:
        if not server_side:
            shutil.rmtree(srv, ignore_errors=True)
        tag = "%s%d" % ("s" if server_side else "d", n)
        imgs, died = ps_point(v, tmp, tag, 0 if server_side else n, n if server_side else 0,
                              srv)
        if imgs is None:
            kills += 1
            n += step
            continue
        e2e.restore(imgs, OPTS, os.environ, v.root)
        v.finish()
        shutil.rmtree(imgs)
        shutil.rmtree(srv, ignore_errors=True)
        if not died:
            return kills
        kills += 1
        n += step
        v = Victim(tmp)


def ps_sweeps(tmp, ps_step):
    import e2e_page_server
    failed = 0
    pki = e2e_page_server.make_certs(e2e, tmp)
    tls = {"server": e2e_page_server.tls_opts(pki, "ca", "srv"),
           "dump": e2e_page_server.tls_opts(pki, "ca", "dump")}
    for name, step, server_side, opts in (
            ("page-server dump", ps_step, False, None),
            ("page-server server", 1, True, None),
            ("page-server dump --tls", 2 * ps_step, False, tls),
            ("page-server server --tls", 1, True, tls)):
        PS_TLS.update(opts or {"server": [], "dump": []})
        t0 = time.monotonic()
        try:
            kills = ps_sweep(tmp, step, server_side)
            print("PASS kill-sweep: %s (%d kills, %.0f s)" % (name, kills, time.monotonic() - t0),
                  flush=True)
        except e2e.CaseFailed as e:
            print("FAIL kill-sweep: %s: %s" % (name, e), flush=True)
            failed = 1
    return failed


def main():
    import ctypes
    ctypes.CDLL(None).prctl(e2e.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    step = int(sys.argv[sys.argv.index("--step") + 1]) if "--step" in sys.argv else 1
    ps_step = int(sys.argv[sys.argv.index("--ps-step") + 1]) if "--ps-step" in sys.argv else 10
    failed = 0
    tmp = tempfile.mkdtemp(prefix="criu-kill-sweep.")
    try:
        if "--only-ps" in sys.argv:
            return ps_sweeps(tmp, ps_step)
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
        failed |= ps_sweeps(tmp, ps_step)
    finally:
        left = e2e.strays()
        if left:
            print("FAIL kill-sweep: left processes behind: %s" % "; ".join(left), flush=True)
            failed = 1
        shutil.rmtree(tmp, ignore_errors=True)
    return failed


if __name__ == "__main__":
    sys.exit(main())
