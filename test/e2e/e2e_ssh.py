"""An ssh session across a checkpoint of sshd (issue 14, Documentation/testing.md).

Debian's sshd runs on 127.0.0.1 with a host key and one authorized user key
made for the case, key login only; `ssh` (outside the dumped tree, a child
of this runner) logs in as root with a pty and runs a shell loop that
answers each numbered line with "got N". The tree dumped is sshd's: the
listener, the session's sshd (which holds the pty master and the TCP
connection to `ssh`) and the shell (the pty slave its terminal, a session of
its own). Flows:
  restore_flow: dump --tcp-established (the tree killed), lines sent into
                the gap, restore, every line echoed once and in order;
  running_flow: dump --tcp-established --leave-running while `ssh` sends a
                line every millisecond.
Both then end the shell with "end" and want `ssh` to exit 0, and SIGTERM
the listener. sshd, `ssh`, the keys and /run/sshd (when the case made it)
are removed on every path.
"""
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import sys
import threading
import time

SSHD = "/usr/sbin/sshd"
PRIVSEP = "/run/sshd"          # sshd's compiled-in chroot for its pre-auth child
LOOP = 'stty -echo; echo ready; while read l; do [ "$l" = end ] && exit 0; echo "got $l"; done'

CONFIG = """ListenAddress 127.0.0.1
Port {port}
HostKey {keys}/host
AuthorizedKeysFile {keys}/user.pub
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
UseDNS no
PrintMotd no
PrintLastLog no
ClientAliveInterval 0
"""


class Sshd:
    """sshd -D on a free port of 127.0.0.1, its keys in a private directory."""

    def __init__(self, h, tmp, env):
        self.h, self.tmp, self.env, self.p, self.made_privsep = h, tmp, env, None, False
        self.keys = tempfile.mkdtemp(dir=tmp, prefix="keys-")    # mode 0700
        for name in ("host", "user"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "criu-e2e",
                            "-f", os.path.join(self.keys, name)], check=True, timeout=30,
                           stdin=subprocess.DEVNULL)
        if not os.path.isdir(PRIVSEP):
            os.mkdir(PRIVSEP, 0o755)
            self.made_privsep = True

    def start(self, tries=10):
        """Pick a free port (bind a socket to port 0, close it) and start
        sshd on it; another process taking the port meanwhile makes sshd
        fail its bind: then again with a new one."""
        for _ in range(tries):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
            s.close()
            cfg = os.path.join(self.tmp, "sshd_config")
            with open(cfg, "w") as f:
                f.write(CONFIG.format(port=self.port, keys=self.keys))
            self.log = os.path.join(self.tmp, "sshd.log")
            with open(self.log, "w") as log:
                self.p = subprocess.Popen([SSHD, "-D", "-e", "-f", cfg], cwd=self.tmp,
                                          env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True)
            if self.listening():
                return
            self.p.wait(timeout=10)
            self.p = None
        raise self.h.CaseFailed("sshd did not start on a free port in %d tries: %s" % (
            tries, self.tail()))

    def listening(self, timeout=20):
        """Until sshd logs that it listens (True) or exits (False)."""
        end, want = time.monotonic() + timeout, "Server listening on 127.0.0.1 port %d" % self.port
        while time.monotonic() < end:
            with open(self.log, errors="replace") as f:
                if want in f.read():
                    return True
            if self.p.poll() is not None:
                return False
            time.sleep(0.01)
        raise self.h.CaseFailed("sshd did not listen within %ds: %s" % (timeout, self.tail()))

    def tail(self):
        with open(self.log, errors="replace") as f:
            return f.read().strip().replace("\n", " | ")[-400:]

    def tree(self):
        """sshd's processes: the listener and every descendant (none once
        the listener's pid runs something else)."""
        try:
            if not self.p or os.readlink("/proc/%d/exe" % self.p.pid) != SSHD:
                return []
            return self.h.descendants(self.p.pid)
        except OSError:
            return []

    def stop(self):
        """SIGKILL what is left of the tree, reap it, remove keys and /run/sshd."""
        if self.p:
            pids = self.tree()
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                self.p.wait(timeout=10)
            except ChildProcessError:       # restored: an adopted orphan, reaped below
                pass
            self.h.reap_orphans()
            self.h.wait_gone(pids)
        shutil.rmtree(self.keys, ignore_errors=True)
        if self.made_privsep:
            os.rmdir(PRIVSEP)


class Session:
    """`ssh -tt` running LOOP; numbered lines out, "got N" back in order."""

    def __init__(self, h, sshd, tmp, env):
        self.h, self.sent, self.echoed, self.buf, self.err = h, 0, 0, b"", []
        self.errlog = open(os.path.join(tmp, "ssh.log"), "w")
        self.p = subprocess.Popen(
            ["ssh", "-tt", "-F", "/dev/null", "-i", os.path.join(sshd.keys, "user"),
             "-p", str(sshd.port), "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
             "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
             "-o", "LogLevel=ERROR", "root@127.0.0.1", LOOP],
            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errlog,
            start_new_session=True)
        self.wait_line(b"ready", 30)

    def read_line(self, end):
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            ready, _, _ = select.select([self.p.stdout], [], [], max(0, left))
            chunk = os.read(self.p.stdout.fileno(), 65536) if ready else None
            if chunk is None:
                raise self.h.CaseFailed("no line from the session after echo %d" % self.echoed)
            if not chunk:
                raise self.h.CaseFailed("ssh's output ended after echo %d (ssh %s)" % (
                    self.echoed, self.p.poll()))
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def wait_line(self, want, timeout):
        end = time.monotonic() + timeout
        line = self.read_line(end)
        if line != want:
            raise self.h.CaseFailed("the session said %r, not %r" % (line[:80], want))

    def send(self, n=1):
        for _ in range(n):
            self.p.stdin.write(b"%d\n" % self.sent)
            self.p.stdin.flush()
            self.sent += 1

    def drain(self, timeout=30):
        """Every line sent echoed once, in order."""
        while self.echoed < self.sent:
            self.wait_line(b"got %d" % self.echoed, timeout)
            self.echoed += 1

    def end(self):
        """"end" ends the shell: sshd closes the session, ssh exits 0."""
        self.p.stdin.write(b"end\n")
        self.p.stdin.close()
        try:
            rc = self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise self.h.CaseFailed("ssh did not exit after the shell ended")
        rest = self.p.stdout.read()
        if rc != 0 or rest.strip() or self.buf.strip():
            raise self.h.CaseFailed("ssh exited %d, output after the last echo: %r" % (
                rc, (self.buf + rest)[:80]))

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        for f in (self.p.stdin, self.p.stdout, self.errlog):
            try:
                f.close()
            except OSError:
                pass


class Pacer:
    """A line every millisecond (one thread) and the echoes read meanwhile
    (another), until stop(): then every echo."""

    def __init__(self, s):
        self.s, self.halt, self.lock = s, threading.Event(), threading.Lock()
        self.threads = [threading.Thread(target=self.pace), threading.Thread(target=self.check)]
        for t in self.threads:
            t.start()

    def pace(self):
        try:
            while not self.halt.wait(0.001) and not self.s.err:
                with self.lock:
                    self.s.send()
        except OSError as e:
            self.s.err.append("sending line %d: %s" % (self.s.sent, e))

    def check(self):
        try:
            while not self.s.err:
                with self.lock:
                    behind = self.s.echoed < self.s.sent
                if behind:
                    self.s.wait_line(b"got %d" % self.s.echoed, 30)
                    self.s.echoed += 1
                elif self.halt.is_set():
                    return
                else:
                    time.sleep(0.0005)
        except (self.s.h.CaseFailed, OSError) as e:
            self.s.err.append(str(e))

    def wait_lines(self, n, timeout=20):
        want, end = self.s.sent + n, time.monotonic() + timeout
        while self.s.sent < want and not self.s.err and time.monotonic() < end:
            time.sleep(0.001)

    def stop(self):
        self.halt.set()
        for t in self.threads:
            t.join()
        if self.s.err:
            raise self.s.h.CaseFailed(self.s.err[0])


def session_pids(h, sshd):
    """The listener, the session's sshd and the shell, once the shell runs."""
    pids = sshd.tree()
    if len(pids) < 3:
        raise h.CaseFailed("sshd's tree is %s, not listener, session and shell" % pids)
    return pids


def across(h, tmp, dopts, ropts, env, running):
    sshd = Sshd(h, tmp, env)
    s = pacer = None
    try:
        sshd.start()
        s = Session(h, sshd, tmp, env)
        s.send(50)
        s.drain()
        pids = session_pids(h, sshd)
        imgs = os.path.join(tmp, "imgs")
        if running:
            pacer = Pacer(s)
            h.dump(sshd.p.pid, imgs, ["--leave-running"] + dopts, env)
            pacer.wait_lines(200)
            pacer.stop()
            pacer = None
        else:
            h.dump(sshd.p.pid, imgs, dopts, env)
            if sshd.p.wait(timeout=20) != -signal.SIGKILL:
                raise h.CaseFailed("after dump sshd ended with %s" % sshd.p.returncode)
            h.wait_gone(pids)
            s.send(20)                  # into the gap: held by the peer's TCP
            h.restore(imgs, ropts, env, sshd.p.pid)
            if sorted(sshd.tree()) != sorted(pids):
                raise h.CaseFailed("restored sshd's tree is %s, not %s" % (sshd.tree(), pids))
        t = time.monotonic()
        s.send(50)
        s.drain()
        print("ssh: %d lines, %.2f s from the first after the %s to the last echo" % (
              s.sent, time.monotonic() - t, "dump" if running else "restore"), file=sys.stderr)
        s.end()
        os.kill(sshd.p.pid, signal.SIGTERM)
        if running:
            ok = sshd.p.wait(timeout=30) == 0
        else:       # restored: an orphan this runner adopted
            status = h.wait_pid(sshd.p.pid, 30)
            ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        sshd.p = None
        if not ok:
            raise h.CaseFailed("sshd did not exit 0 on SIGTERM")
    finally:
        if pacer:
            pacer.halt.set()
            for t in pacer.threads:
                t.join()
        if s:
            s.close()
        sshd.stop()
    return None


def restore_flow(h, p, tmp, dopts, ropts, env):
    return across(h, tmp, dopts, ropts, env, False)


def running_flow(h, p, tmp, dopts, ropts, env):
    return across(h, tmp, dopts, ropts, env, True)
