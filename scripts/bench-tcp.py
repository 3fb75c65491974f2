#!/usr/bin/env python3
"""make bench, part tcp: the downtime a TCP peer outside the tree sees.

test/e2e/tcp_peer (the tree: one process echoing every line) is connected
to this script over loopback. One thread sends a numbered line every
millisecond, another reads the echoes, checks that each comes once and in
order, and notes the longest gap between two echoes. Each round dumps the
process with --tcp-established --leave-running, then (another round) dumps
it and restores it; the line keeps coming all along, the network lock
holding it while the process is gone. A reset, an end of file, a line out
of order, missing or twice fails the benchmark. Reported per round: the
longest gap, the frozen time of the dump (criu's --display-stats, the
tree's freeze to its release or, killed, to the images in place) and
their ratio. Usage: bench-tcp.py CRIU TCP_PEER ROUNDS

BENCH_TCP_BASE=OLD_CRIU: A/B in one run, on the same connection and
process: each round dumps (and restores) with OLD_CRIU (A) and with CRIU
(B), in alternating order, and the medians of the longest gaps are
compared. BENCH_TCP_KEEP=1: criu runs with -v4 and the images and logs
stay in the temporary directory (printed).
"""
import ctypes, os, select, socket, subprocess, sys, tempfile, threading, time

PR_SET_CHILD_SUBREAPER = 36


class Peer:
    def __init__(self, sock):
        self.sock, self.sent, self.echoed, self.err = sock, 0, 0, []
        self.gap, self.last, self.halt = 0.0, time.monotonic(), threading.Event()
        self.threads = [threading.Thread(target=self.pace), threading.Thread(target=self.check)]
        for t in self.threads:
            t.start()

    def pace(self):
        try:
            while not self.halt.wait(0.001) and not self.err:
                self.sock.sendall(b"%d\n" % self.sent)
                self.sent += 1
        except OSError as e:
            self.err.append("sending line %d: %s" % (self.sent, e))

    def check(self):
        buf = b""
        try:
            while not self.err and not (self.halt.is_set() and self.echoed >= self.sent):
                r, _, _ = select.select([self.sock], [], [], 0.05)
                if not r:
                    continue
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise OSError("end of file after echo %d" % self.echoed)
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if line != b"%d" % self.echoed:
                        raise OSError("echo %r where %d belongs" % (line, self.echoed))
                    now = time.monotonic()
                    self.gap, self.last = max(self.gap, now - self.last), now
                    self.echoed += 1
        except OSError as e:
            self.err.append(str(e))

    def reset_gap(self):
        self.gap, self.last = 0.0, time.monotonic()

    def stop(self):
        self.halt.set()
        for t in self.threads:
            t.join(60)
        if self.err:
            sys.exit("bench: tcp: " + self.err[0])


def criu(binary, args, cwd):
    r = subprocess.run([binary] + args, cwd=cwd, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        sys.exit("bench: tcp: criu %s failed: %s" % (args[0], (r.stdout + r.stderr)[-500:]))
    for l in r.stdout.splitlines():
        if "frozen time" in l:
            return int(l.split()[2])
    return 0


def wait_gone(pid, timeout=20):
    end = time.monotonic() + timeout
    while os.path.exists("/proc/%d" % pid):
        try:
            if open("/proc/%d/stat" % pid).read().rsplit(") ", 1)[1][0] == "Z":
                os.waitpid(pid, os.WNOHANG)
        except (OSError, ChildProcessError):
            pass
        if time.monotonic() > end:
            sys.exit("bench: tcp: %d still there" % pid)
        time.sleep(0.002)


def round_(peer, pid, imgs, binary, restore):
    """One dump (and restore): the longest gap in us, the frozen time in us."""
    os.makedirs(imgs)
    time.sleep(0.1)
    peer.reset_gap()
    opts = ["dump", "-t", str(pid), "-D", imgs, "--tcp-established", "--display-stats",
            "-o", "dump.log"] + VERBOSE
    frozen = criu(binary, opts + ([] if restore else ["--leave-running"]), imgs)
    if restore:
        wait_gone(pid)
        criu(binary, ["restore", "-D", imgs, "-d", "--tcp-established", "-o", "restore.log"] +
             VERBOSE, imgs)
    want = peer.sent + 300      # the echoes well past the dump
    end = time.monotonic() + 30
    while peer.echoed < want and not peer.err and time.monotonic() < end:
        time.sleep(0.01)
    if peer.echoed < want:
        peer.stop()
        sys.exit("bench: tcp: the echoes stopped at %d" % peer.echoed)
    return peer.gap * 1e6, frozen


def start(prog, tmp):
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    r, w = os.pipe()
    p = subprocess.Popen([prog, str(ls.getsockname()[1]), os.path.join(tmp, "result")],
                         cwd=tmp, env=dict(os.environ, E2E_READY_FD=str(w)), pass_fds=(w,),
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    os.close(w)
    ls.settimeout(20)
    return p.pid, ls, r


def report(rows, sent, ab):
    print("\na TCP peer outside the tree, a line every 1 ms, echoed (%d lines, none lost, "
          "reordered, repeated; no reset)\n" % sent)
    print("| round | criu | dump | longest gap ms | frozen ms | gap / frozen |")
    print("| ----- | ---- | ---- | -------------- | --------- | ------------ |")
    for i, who, kind, gap, frozen in rows:
        print("| %5d | %s | %-13s | %14.1f | %9.1f | %12.1f |" % (
            i, who, kind, gap / 1000, frozen / 1000, gap / frozen if frozen else 0))
    if not ab:
        return
    for kind in ("leave-running", "dump+restore"):
        g = {w: sorted(r[3] for r in rows if r[1] == w and r[2] == kind) for w in "AB"}
        med = {w: g[w][len(g[w]) // 2] for w in "AB"}
        print("%s: median longest gap A %.1f ms, B %.1f ms, B / A %.2f" % (
            kind, med["A"] / 1000, med["B"] / 1000, med["B"] / med["A"]))


def main():
    global VERBOSE
    binary, prog, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    base = os.environ.get("BENCH_TCP_BASE")     # A/B: A = this criu, B = the one tested
    keep = os.environ.get("BENCH_TCP_KEEP")
    VERBOSE = ["-v4"] if keep else []
    runs = [("A", base), ("B", binary)] if base else [("-", binary)]
    # The restored process, orphaned when criu restore -d exits, comes to this
    # script and not to the system's init: its zombie is reaped here at once
    # (wait_gone()), while this VM's init took up to 2 s, the pid held all along.
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0):
        sys.exit("bench: tcp: PR_SET_CHILD_SUBREAPER: %s" % os.strerror(ctypes.get_errno()))
    tmp = tempfile.mkdtemp(prefix="criu-bench-tcp.")
    pid, rows = None, []
    try:
        pid, ls, r = start(prog, tmp)
        conn, _ = ls.accept()
        if os.read(r, 1) != b"R":
            sys.exit("bench: tcp: the process did not get ready")
        peer = Peer(conn)
        for i in range(1, rounds + 1):
            for who, b in (runs if i % 2 else runs[::-1]):
                for restore in (False, True):
                    kind = "dump+restore" if restore else "leave-running"
                    imgs = os.path.join(tmp, "imgs%d%s%s" % (i, who, kind[0]))
                    gap, frozen = round_(peer, pid, imgs, b, restore)
                    rows.append((i, who, kind, gap, frozen))
        peer.stop()
        conn.sendall(b"end\n")
        wait_gone(pid, 30)
        res = open(os.path.join(tmp, "result")).read().strip()
        if res != "PASS":
            sys.exit("bench: tcp: the process says %r" % res)
    finally:
        if pid:
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        if keep:
            print("bench: tcp: images and logs kept in %s" % tmp)
        else:
            subprocess.run(["rm", "-rf", tmp])
    report(rows, peer.sent, bool(base))


if __name__ == "__main__":
    main()
