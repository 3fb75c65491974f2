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

The third sweep kills a `--tcp-established` dump of tcp_peer, whose TCP
connection goes to this runner, outside the tree (Documentation/net-lock.md):
  not committed: the tree runs on untraced, the connection carries lines
           both ways (each echoed once, in order), SO_REUSEADDR is as the
           program set it, and no table of the network lock is left (nor
           the guardian that holds it);
  committed: the lock is kept for the restore (table criu-kept-ROOT), the
           restore takes it away and the connection goes on, nothing lost.
The victim lives on from one uncommitted kill to the next.

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
page-server dump); the TCP sweep takes every line from its lock on all
the same. Prints one line per sweep: "PASS kill-sweep: dump (N
kills)".
"""
import hashlib
import os
import shutil
import select
import signal
import socket
import struct
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


# ---- a --tcp-established dump, the peer outside the tree ------------------

NETLINK_NETFILTER, NFT_MSG_GETTABLE, NFTA_TABLE_NAME = 12, (10 << 8) | 1, 1


def nft_tables():
    """Names of this network namespace's nf_tables tables: a netlink dump,
    as there is no nft binary."""
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    names, done = [], False
    try:
        # nlmsghdr (NLM_F_REQUEST | NLM_F_DUMP), nfgenmsg (every family)
        s.sendall(struct.pack("=IHHII", 20, NFT_MSG_GETTABLE, 0x301, 1, 0) + bytes(4))
        while not done:
            buf, off = s.recv(1 << 16), 0
            while off + 16 <= len(buf) and not done:
                ln, typ = struct.unpack_from("=IH", buf, off)
                if typ == 2 and struct.unpack_from("=i", buf, off + 16)[0]:
                    raise e2e.CaseFailed("listing nf_tables tables: errno %d" %
                                         -struct.unpack_from("=i", buf, off + 16)[0])
                done = typ in (2, 3)         # NLMSG_ERROR (ack), NLMSG_DONE
                a = off + 20
                while not done and a + 4 <= off + ln:
                    alen, atype = struct.unpack_from("=HH", buf, a)
                    if alen < 4:
                        break
                    if atype & 0x7fff == NFTA_TABLE_NAME:
                        names.append(buf[a + 4:a + alen].split(b"\0")[0].decode())
                    a += (alen + 3) & ~3
                off += max(16, (ln + 3) & ~3)
    finally:
        s.close()
    return names


def my_guardians_gone(timeout=10):
    """Until no guardian (criu-tcp-guard) of a criu this runner started runs:
    criu's death hands it to this subreaper."""
    end = time.monotonic() + timeout
    while True:
        e2e.reap_orphans()
        left = []
        for pid in e2e.children_of(os.getpid()):
            try:
                with open("/proc/%d/comm" % pid) as f:
                    if f.read().strip() == "criu-tcp-guard":
                        left.append(pid)
            except OSError:
                pass
        if not left:
            return
        if time.monotonic() > end:
            raise e2e.CaseFailed("the guardian %s is still running" % left)
        time.sleep(0.002)


# Known gap (net-lock.md, "criu's death"): criu killed while it reads a
# connection in repair mode lets the tree go before its guardian switches
# repair off; a read() the tree restarts meanwhile fails once with EPERM.
EPERM_GAP = ": -1 (Operation not permitted)"


class RepairGap(Exception):
    pass


class TcpVictim:
    """tcp_peer connected to this runner: numbered lines out, echoes back."""

    def __init__(self, tmp):
        self.tmp = tempfile.mkdtemp(dir=tmp, prefix="tcp-victim-")
        ls = socket.socket()
        try:
            ls.bind(("127.0.0.1", 0))
            ls.listen(1)
            ls.settimeout(20)
            self.p = e2e.start(e2e.prog("tcp_peer") + [str(ls.getsockname()[1])], self.tmp)
            conn, _ = ls.accept()
        finally:
            ls.close()
        self.root, self.peer = self.p.pid, e2e.Peer(conn)
        self.talk()

    def talk(self, n=10):
        """@n lines both ways, each echoed once and in order (CaseFailed)."""
        self.peer.send(n)
        self.peer.drain(self.peer.sent, timeout=20)

    def ended_by_gap(self, e):
        """The failure @e: RepairGap if the program met EPERM_GAP, else @e."""
        try:
            self.p.wait(timeout=5)
            with open(os.path.join(self.tmp, "result"), errors="replace") as f:
                why = f.read().strip()
        except (subprocess.TimeoutExpired, OSError):
            raise e
        if EPERM_GAP in why:
            raise RepairGap(why)
        raise e2e.CaseFailed("%s (the program: %s)" % (e, why))

    def finish(self, restored):
        """"end": the program checks SO_REUSEADDR and passes."""
        self.talk()
        self.peer.sock.sendall(b"end\n")
        self.peer.sock.close()
        status = e2e.wait_pid(self.root, 30) if restored else self.p.wait(timeout=30)
        e2e.check_result(self.tmp, status)


def lock_tables(cpid, root):
    """The tables of criu @cpid's lock and of the lock kept for @root."""
    return [t for t in nft_tables()
            if t.startswith("criu-lock-%d-" % cpid) or t == "criu-kept-%d" % root]


def tcp_dump_at(v, n, tmp):
    """A --tcp-established dump killed after log line @n (none: n = 0).
    Returns (committed, killed)."""
    imgs, work = os.path.join(tmp, "tdump-%d" % n), os.path.join(tmp, "twork-%d" % n)
    os.makedirs(imgs)
    os.makedirs(work)
    env = dict(os.environ, CRIU_FAULT="die-log-%d" % n) if n else os.environ
    proc = subprocess.Popen([e2e.CRIU, "dump", "-t", str(v.root), "-D", imgs, "-W", work,
                             "-o", "dump.log", "-v4", "--tcp-established"], cwd=work, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    out = proc.communicate(timeout=120)[0].decode(errors="replace")
    with open(os.path.join(work, "dump.log"), errors="replace") as f:
        log = f.read()
    killed = DIED in log
    if killed != (proc.returncode == -signal.SIGKILL) or proc.returncode not in (0, -9):
        raise e2e.CaseFailed("log line %d: exit %d (%s) %s" % (
            n, proc.returncode, out.strip()[:200], e2e.log_errors(os.path.join(work, "dump.log"))))
    my_guardians_gone()
    committed = os.path.exists(os.path.join(imgs, "inventory.img"))
    left = lock_tables(proc.pid, v.root)
    if not committed:
        if left:
            raise e2e.CaseFailed("a kill after log line %d left tables %s" % (n, left))
        try:
            e2e.untouched(v.tmp, "a kill after log line %d" % n)
            v.talk()
        except (e2e.CaseFailed, OSError) as e:
            v.ended_by_gap(e)
        shutil.rmtree(imgs)
        shutil.rmtree(work)
        return False, killed, log
    if left != ["criu-kept-%d" % v.root]:
        raise e2e.CaseFailed("a dump committed, killed after log line %d, left tables %s, "
                             "not criu-kept-%d" % (n, left, v.root))
    e2e.tree_gone(v.tmp)        # reaped by this subreaper (reap_orphans())
    v.peer.send(5)              # into the gap: the kept lock holds them
    e2e.restore(imgs, [], os.environ, v.root)
    left = lock_tables(proc.pid, v.root)
    if left:
        raise e2e.CaseFailed("the restore after a kill at log line %d left tables %s" % (n, left))
    v.finish(True)
    shutil.rmtree(imgs)
    shutil.rmtree(work)
    return True, killed, log


def tcp_sweep(tmp, step):
    """A whole dump first (its log says where the lock is taken), then a kill
    after each line: every @step-th before the lock, every one from it on.
    Returns (kills, kill points that met the EPERM gap, lines, seconds)."""
    t0 = time.monotonic()
    _, _, log = tcp_dump_at(TcpVictim(tmp), 0, tmp)
    lines = log.splitlines()
    lock = next((i + 1 for i, l in enumerate(lines) if "connections locked in table" in l), None)
    if lock is None:
        raise e2e.CaseFailed("the whole dump never logged its lock")
    points = sorted(set(range(1, lock, step)) | set(range(max(1, lock - 2), len(lines) + 1)))
    v, kills, gaps = TcpVictim(tmp), 0, []
    for n in points:
        try:
            committed, killed, _ = tcp_dump_at(v, n, tmp)
        except e2e.CaseFailed as e:
            raise e2e.CaseFailed("killed after log line %d: %s" % (n, e))
        except RepairGap:
            committed, killed = True, True      # the victim is gone: a new one
            gaps.append(n)
            v.peer.sock.close()
            e2e.tree_gone(v.tmp)
        kills += killed
        if committed and n != points[-1]:
            v = TcpVictim(tmp)
    if not committed:
        v.finish(False)
    return kills, gaps, len(lines), time.monotonic() - t0


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
        try:
            kills, gaps, lines, secs = tcp_sweep(tmp, step)
            print("PASS kill-sweep: tcp-established dump (%d kills of %d lines, %.0f s%s)" %
                  (kills, lines, secs, ", known gap: EPERM once after line %s" %
                   ", ".join(map(str, gaps)) if gaps else ""), flush=True)
        except (e2e.CaseFailed, OSError, subprocess.TimeoutExpired) as e:
            print("FAIL kill-sweep: tcp-established dump: %s" % e, flush=True)
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
