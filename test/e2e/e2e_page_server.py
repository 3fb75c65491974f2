"""Page server flows for test/e2e/run.py (cases page_server*).

Each flow gets the harness module (`e2e`) and runs one case's program `p`:
  restore_flow:  `criu page-server --port 0` on 127.0.0.1 (the kernel picks
                 the port, the server prints it), `dump --page-server`; the
                 local images alone are refused by the manifest; merged
                 with the server's page files they restore, and the
                 program checks its memory;
  dies_flow:     a page server that dies (SIGKILL) after 1 MiB: the dump
                 fails and the tree runs on, unchanged;
  killed_flow:   criu page-server killed (CRIU_FAULT=die-log-3) once it has
                 the page file whole, before its ACK: the same;
  unreachable_flow: nothing listens on the port: the dump fails before it
                 seizes the tree.
"""
import os
import select
import shutil
import signal
import socket
import subprocess
import sys

DYING_SERVER = r"""
import os, signal, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
print("port %d" % s.getsockname()[1], flush=True)
c, _ = s.accept()
got = 0
while got < (1 << 20):
    b = c.recv(65536)
    if not b:
        sys.exit(1)
    got += len(b)
os.kill(os.getpid(), signal.SIGKILL)
"""


def read_port(e2e, server, timeout=20):
    ready, _, _ = select.select([server.stdout], [], [], timeout)
    line = server.stdout.readline() if ready else ""
    if not line.startswith("port "):
        server.kill()
        server.wait()
        raise e2e.CaseFailed("the page server did not say its port: %r" % line)
    return line.split()[1]


def start_server(e2e, srv, env):
    os.makedirs(srv)
    return subprocess.Popen([e2e.CRIU, "page-server", "--address", "127.0.0.1", "--port", "0",
                             "-D", srv, "-o", "ps.log", "-v4"], cwd=srv, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)


def page_files(d):
    return sorted(f for f in os.listdir(d) if f.startswith("pages-"))


def restore_flow(e2e, p, tmp, dopts, ropts, env):
    srv, imgs = os.path.join(tmp, "srv"), os.path.join(tmp, "imgs")
    server = start_server(e2e, srv, env)
    try:
        port = read_port(e2e, server)
        e2e.dump(p.pid, imgs, ["--page-server", "--address", "127.0.0.1", "--port", port] + dopts,
                 env)
        if server.wait(timeout=60) != 0:
            raise e2e.CaseFailed("the page server exited %d: %s" %
                                 (server.returncode, e2e.log_errors(os.path.join(srv, "ps.log"))))
    finally:
        if server.poll() is None:
            server.kill()
        server.wait()
        server.stdout.close()
    e2e.no_errors(os.path.join(srv, "ps.log"), "page-server")
    if page_files(imgs) or not page_files(srv) or [f for f in os.listdir(srv) if f[0] == "."]:
        raise e2e.CaseFailed("page files: local %s, server %s" % (page_files(imgs), os.listdir(srv)))
    status = p.wait(timeout=20)
    if status != -signal.SIGKILL:
        raise e2e.CaseFailed("after dump the task ended with %s, not SIGKILL" % status)
    e2e.tree_gone(tmp)
    rc, out = e2e.criu(["restore", "-D", imgs, "-d", "-o", "alone.log"], imgs, env)
    with open(os.path.join(imgs, "alone.log")) as f:
        if rc == 0 or "pages-1.img is missing: criu-manifest lists it" not in f.read():
            raise e2e.CaseFailed("the local images alone were not refused by the manifest")
    for f in os.listdir(imgs):
        if not f.endswith(".log"):
            shutil.copy(os.path.join(imgs, f), srv)
    e2e.restore(srv, ropts, env, p.pid)
    os.kill(p.pid, signal.SIGTERM)
    return e2e.wait_pid(p.pid, 30)


def dies_flow(e2e, p, tmp, dopts, ropts, env):
    server = subprocess.Popen([sys.executable, "-c", DYING_SERVER], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, text=True)
    try:
        port = read_port(e2e, server)
        status = e2e.refused(p.pid, p, tmp, ["--page-server", "--address", "127.0.0.1",
                                             "--port", port] + dopts, env, "the page server is gone")
        if server.wait(timeout=20) != -signal.SIGKILL:
            raise e2e.CaseFailed("the dying page server ended with %s" % server.returncode)
    finally:
        if server.poll() is None:
            server.kill()
        server.wait()
        server.stdout.close()
    return status


def killed_flow(e2e, p, tmp, dopts, ropts, env):
    srv = os.path.join(tmp, "srv")
    server = start_server(e2e, srv, dict(env, CRIU_FAULT="die-log-3"))
    try:
        port = read_port(e2e, server)
        status = e2e.refused(p.pid, p, tmp, ["--page-server", "--address", "127.0.0.1",
                                             "--port", port] + dopts, env,
                             "the page server refused the pages (see its log) or died")
        if server.wait(timeout=20) != -signal.SIGKILL:
            raise e2e.CaseFailed("the page server ended with %s, not by its fault" %
                                 server.returncode)
    finally:
        if server.poll() is None:
            server.kill()
        server.wait()
        server.stdout.close()
    if page_files(os.path.join(tmp, "imgs")):
        raise e2e.CaseFailed("page files in the dump's own -D")
    return status


def unreachable_flow(e2e, p, tmp, dopts, ropts, env):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = str(s.getsockname()[1])   # bound, never listening: connections are refused
    try:
        return e2e.refused(p.pid, p, tmp, ["--page-server", "--address", "127.0.0.1", "--port",
                                           port] + dopts, env, "can't connect to the page server")
    finally:
        s.close()
