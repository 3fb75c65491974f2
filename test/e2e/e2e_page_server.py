"""Page server flows for test/e2e/run.py (cases page_server*).

Each flow gets the harness module (`e2e`) and runs one case's program `p`:
  restore_flow:  `criu page-server --port 0` on 127.0.0.1 (the kernel picks
                 the port, the server prints it), `dump --page-server`; the
                 local images alone are refused by the manifest; merged
                 with the server's page files they restore, and the
                 program checks its memory;
  dies_flow:     a page server that dies (SIGKILL) after 1 MiB: the dump
                 fails and the tree runs on, unchanged;
  killed_flow:   criu page-server killed (CRIU_FAULT=die-log-10) once it has
                 the page file whole, before its ACK: the same;
  unreachable_flow: nothing listens on the port: the dump fails before it
                 seizes the tree;
  tls_flow:      restore_flow with --tls on both sides (certificates made
                 at run time by openssl in the case's temp dir);
  tls_refused_flow: a server certificate from another CA, one naming
                 another host, a TLS server with a plain dump and a plain
                 server with a TLS dump: each dump refused naming why, the
                 tree running and unchanged, nothing left in the server's -D.
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


def start_server(e2e, srv, env, opts=()):
    os.makedirs(srv)
    return subprocess.Popen([e2e.CRIU, "page-server", "--address", "127.0.0.1", "--port", "0",
                             "-D", srv, "-o", "ps.log", "-v4"] + list(opts), cwd=srv, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)


def openssl(e2e, d, *args):
    r = subprocess.run(["openssl"] + list(args), cwd=d, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True)
    if r.returncode:
        raise e2e.CaseFailed("openssl %s: %s" % (args[0], r.stderr.strip()[-300:]))


def make_ca(e2e, d, name):
    openssl(e2e, d, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", name + ".key", "-out", name + ".pem", "-days", "2",
            "-subj", "/CN=" + name, "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")


def make_cert(e2e, d, ca, name, cn, ext):
    with open(os.path.join(d, name + ".ext"), "w") as f:
        f.write(ext + "\n")
    openssl(e2e, d, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn)
    openssl(e2e, d, "x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey",
            ca + ".key", "-set_serial", str(abs(hash(name)) % 100000 + 1), "-days", "2",
            "-extfile", name + ".ext", "-out", name + ".pem")


def make_certs(e2e, tmp):
    """A CA with a server certificate for 127.0.0.1 and a client certificate;
    another CA with its own server certificate; a server certificate of the
    first CA for another host. All under tmp/pki, removed with the case."""
    d = os.path.join(tmp, "pki")
    os.makedirs(d)
    make_ca(e2e, d, "ca")
    make_ca(e2e, d, "ca2")
    make_cert(e2e, d, "ca", "srv", "127.0.0.1",
              "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth")
    make_cert(e2e, d, "ca", "dump", "criu-dump", "extendedKeyUsage=clientAuth")
    make_cert(e2e, d, "ca2", "srv2", "127.0.0.1",
              "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth")
    make_cert(e2e, d, "ca", "other", "other.example",
              "subjectAltName=DNS:other.example\nextendedKeyUsage=serverAuth")
    return d


def tls_opts(d, ca, cert):
    return ["--tls", "--tls-cacert", os.path.join(d, ca + ".pem"),
            "--tls-cert", os.path.join(d, cert + ".pem"), "--tls-key", os.path.join(d, cert + ".key")]


def page_files(d):
    return sorted(f for f in os.listdir(d) if f.startswith("pages-"))


def restore_flow(e2e, p, tmp, dopts, ropts, env, sopts=(), copts=()):
    srv, imgs = os.path.join(tmp, "srv"), os.path.join(tmp, "imgs")
    server = start_server(e2e, srv, env, sopts)
    try:
        port = read_port(e2e, server)
        e2e.dump(p.pid, imgs, ["--page-server", "--address", "127.0.0.1", "--port", port] +
                 list(copts) + dopts, env)
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
    server = start_server(e2e, srv, dict(env, CRIU_FAULT="die-log-10"))
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
    with open(os.path.join(srv, "ps.log"), errors="replace") as f:
        last = [l for l in f if "fault injected" not in l][-1]
    if "bytes received" not in last:   # its 10th line: the file whole, before the ACK
        raise e2e.CaseFailed("the page server was killed elsewhere: after %r" % last)
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


def tls_flow(e2e, p, tmp, dopts, ropts, env):
    d = make_certs(e2e, tmp)
    return restore_flow(e2e, p, tmp, dopts, ropts, env, tls_opts(d, "ca", "srv"),
                        tls_opts(d, "ca", "dump"))


def refused_by(e2e, p, tmp, n, sopts, copts, dopts, env, text, server_text):
    """One dump to a fresh server that must fail with @text (and the server
    with @server_text in its log), leaving the tree running and unchanged
    and the server's -D empty."""
    srv, imgs = os.path.join(tmp, "srv%d" % n), os.path.join(tmp, "imgs%d" % n)
    before = e2e.snapshot(p.pid)
    server = start_server(e2e, srv, env, sopts)
    try:
        port = read_port(e2e, server)
        try:
            e2e.dump(p.pid, imgs, ["--page-server", "--address", "127.0.0.1", "--port", port] +
                     copts + dopts, env)
        except e2e.CaseFailed as e:
            if text not in str(e):
                raise e2e.CaseFailed("dump %d failed, but not with %r: %s" % (n, text, e))
        else:
            raise e2e.CaseFailed("dump %d succeeded; expected a refusal with %r" % (n, text))
        if server.wait(timeout=30) != 1:
            raise e2e.CaseFailed("server %d ended with %s" % (n, server.returncode))
    finally:
        if server.poll() is None:
            server.kill()
        server.wait()
        server.stdout.close()
    with open(os.path.join(srv, "ps.log"), errors="replace") as f:
        if server_text not in f.read():
            raise e2e.CaseFailed("server %d: no %r in its log: %s" %
                                 (n, server_text, e2e.log_errors(os.path.join(srv, "ps.log"))))
    if [f for f in os.listdir(srv) if f != "ps.log"]:
        raise e2e.CaseFailed("server %d left %s" % (n, os.listdir(srv)))
    if p.poll() is not None:
        raise e2e.CaseFailed("the tree is gone after refusal %d" % n)
    e2e.untouched(tmp, "refusal %d" % n, p.pid)
    diff = e2e.settled_diff("bigheap", before, p.pid)
    if diff:
        raise e2e.CaseFailed("after refusal %d the tree changed: %s" % (n, diff))


def tls_refused_flow(e2e, p, tmp, dopts, ropts, env):
    d = make_certs(e2e, tmp)
    srv, dump = tls_opts(d, "ca", "srv"), tls_opts(d, "ca", "dump")
    # a server whose key cannot be read says so at once, before it listens
    bad = os.path.join(tmp, "srvbad")
    os.makedirs(bad)
    rc, out = e2e.criu(["page-server", "--address", "127.0.0.1", "--port", "0", "-D", bad,
                        "-o", "ps.log"] + srv[:-1] + [os.path.join(d, "nokey.key")], bad, env)
    with open(os.path.join(bad, "ps.log"), errors="replace") as f:
        if rc != 1 or "port " in out or "TLS certificate %s with key" % srv[4] not in f.read():
            raise e2e.CaseFailed("a page server without its key: exit %d, %r" % (rc, out))
    cases = [
        # the server's certificate is from a CA the dump does not trust
        (tls_opts(d, "ca2", "srv2"), dump, "the peer's certificate is refused", "TLS"),
        # the right CA, but the certificate names another host
        (tls_opts(d, "ca", "other"), dump, "the peer's certificate is refused", "TLS"),
        # the dump's certificate is from a CA the server does not trust (so
        # gnutls does not offer it: the server names none of the CAs it asks for)
        (srv, ["--tls", "--tls-cacert", os.path.join(d, "ca.pem"), "--tls-cert",
               os.path.join(d, "srv2.pem"), "--tls-key", os.path.join(d, "srv2.key")],
         "the peer refused the TLS session: Certificate is required",
         "TLS handshake with the dump failed: Certificate is required"),
        # TLS server, plain dump: refused once the pages would go
        (srv, [], "the page server runs with --tls: dump with --tls",
         "the dump speaks plain, this page server runs with --tls"),
        # plain server, TLS dump: refused at the handshake
        ([], dump, "does it run with --tls?", "the dump speaks TLS: run the page server with --tls"),
    ]
    for n, (sopts, copts, text, server_text) in enumerate(cases):
        refused_by(e2e, p, tmp, n, sopts, copts, dopts, env, text, server_text)
    os.kill(p.pid, signal.SIGTERM)
    return p.wait(timeout=30)
