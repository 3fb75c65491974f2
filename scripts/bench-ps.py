#!/usr/bin/python3
"""make bench, part "ps": page-server throughput over loopback against the
local dump of the same run.

bench-ps.py CRIU BIGMEM IMGROOT MIB ROUNDS [FRESHCOPY]

A bigmem victim of MIB MiB of random memory is dumped ROUNDS times each way,
alternating, with --leave-running (the same pages every time):
  local  criu dump -D IMGROOT/local
  ps     criu page-server --address 127.0.0.1 --port 0 -D IMGROOT/srv, and
         criu dump --page-server --address 127.0.0.1 --port P -D IMGROOT/rest
  tls    the same with --tls on both sides (P-256 certificates made by
         openssl under IMGROOT/pki for the run)
and, with FRESHCOPY (test/bench/freshcopy), each round copies MIB into
fresh memory: the baseline every throughput is also given against.
Wall time of the dump (the server's start excluded: it is listening before
the dump starts; its exit is awaited outside the timed part); frozen time
from stats-dump. Reported per round and best: throughput (MIB / wall time)
of each and ps/local (throughput ratio), and the frozen times. The images
go to tmpfs on both sides, so the ratio is the cost of the socket and the
server. The victim is killed and the images removed at the end.
"""
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time


def run_dump(criu, pid, imgs, extra):
    os.makedirs(imgs)
    t0 = time.monotonic()
    r = subprocess.run([criu, "dump", "-t", str(pid), "-D", imgs, "-R", "-o", "dump.log"] + extra,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True)
    t = time.monotonic() - t0
    if r.returncode:
        with open(os.path.join(imgs, "dump.log")) as f:
            sys.exit("bench-ps: dump failed: " + r.stdout + r.stderr +
                     "".join(l for l in f if "Error" in l))
    show = subprocess.run([criu, "show", os.path.join(imgs, "stats-dump")], capture_output=True,
                          text=True).stdout
    m = re.search(r'"frozen_time": *(\d+)', show)
    return t, int(m.group(1)) / 1000 if m else float("nan")


def make_pki(d):
    """A CA, a server certificate for 127.0.0.1 and a client one; returns the
    options of each side."""
    def ossl(*a):
        subprocess.run(["openssl"] + list(a), cwd=d, check=True, capture_output=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    os.makedirs(d)
    ossl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
         "-subj", "/CN=bench-ca", "-addext", "basicConstraints=critical,CA:TRUE")
    opts = []
    for n, (name, ext) in enumerate([("srv", "subjectAltName=IP:127.0.0.1"),
                                     ("dump", "extendedKeyUsage=clientAuth")], 1):
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write(ext + "\n")
        ossl("req", *ec, "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=127.0.0.1")
        ossl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-set_serial", str(n), "-days", "2", "-extfile", name + ".ext", "-out", name + ".pem")
        opts.append(["--tls", "--tls-cacert", os.path.join(d, "ca.pem"), "--tls-cert",
                     os.path.join(d, name + ".pem"), "--tls-key", os.path.join(d, name + ".key")])
    return opts


def ps_dump(criu, pid, root, tls=None):
    srv = os.path.join(root, "srv")
    os.makedirs(srv)
    server = subprocess.Popen([criu, "page-server", "--address", "127.0.0.1", "--port", "0",
                               "-D", srv, "-o", "ps.log"] + (tls[0] if tls else []),
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([server.stdout], [], [], 20)
        line = server.stdout.readline() if ready else ""
        if not line.startswith("port "):
            sys.exit("bench-ps: the page server did not start: %r" % line)
        res = run_dump(criu, pid, os.path.join(root, "rest"),
                       ["--page-server", "--address", "127.0.0.1", "--port", line.split()[1]] +
                       (tls[1] if tls else []))
        if server.wait(timeout=60):
            sys.exit("bench-ps: the page server failed")
    finally:
        if server.poll() is None:
            server.kill()
        server.wait()
        server.stdout.close()
    if not any(f.startswith("pages-") for f in os.listdir(srv)):
        sys.exit("bench-ps: no page file on the server's side")
    return res


def start_victim(bigmem, mib, root):
    r, w = os.pipe()
    p = subprocess.Popen([bigmem, str(mib), str(w), os.path.join(root, "result")],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, pass_fds=(w,))
    os.close(w)
    line = b""
    while True:
        ready, _, _ = select.select([r], [], [], 120)
        chunk = os.read(r, 64) if ready else b""
        if not chunk:
            break
        line += chunk
    os.close(r)
    if not line.startswith(b"ready"):
        p.kill()
        p.wait()
        sys.exit("bench-ps: victim did not start")
    return p


def fresh(freshcopy, mib):
    if not freshcopy:
        return float("nan")
    out = subprocess.run([freshcopy, str(mib), "1"], capture_output=True, text=True).stdout
    return float(out.split()[0])


def one_round(criu, victim, root, tls, freshcopy, mib):
    row = []
    d = os.path.join(root, "ps-bench")
    for kind in ("local", "ps", "tls"):
        if kind == "local":
            row.append(run_dump(criu, victim.pid, os.path.join(d, "local"), []))
        else:
            row.append(ps_dump(criu, victim.pid, d, tls if kind == "tls" else None))
        shutil.rmtree(d)
    return row + [fresh(freshcopy, mib)]


def report(rows, mib):
    gbs = mib * 1048576 / 1e9
    print("\npage server over loopback: dump of %d MiB with --leave-running, "
          "local -D against --page-server plain and --tls (images on tmpfs on both sides); "
          "fresh: the fresh-memory copy of the same round\n" % mib)
    print("| round | local GB/s | ps GB/s | tls GB/s | fresh GB/s | ps/local | tls/ps | "
          "ps/fresh | tls/fresh | local, ps, tls frozen ms |")
    print("| ----- | ---------- | ------- | -------- | ---------- | -------- | ------ | "
          "-------- | --------- | ------------------------ |")
    best = [min(r[k][0] for r in rows) for k in range(3)] + [max(r[3] for r in rows)]
    frozen = [min(r[k][1] for r in rows) for k in range(3)]
    for i, r in enumerate(rows + [None], 1):
        t = best[:3] if r is None else [r[k][0] for k in range(3)]
        f = best[3] if r is None else r[3]
        fz = frozen if r is None else [r[k][1] for k in range(3)]
        print("| %-5s | %10.2f | %7.2f | %8.2f | %10.2f | %8.2f | %6.2f | %8.2f | %9.2f | "
              "%s |" % ("best" if r is None else i, gbs / t[0], gbs / t[1], gbs / t[2], f,
                        t[0] / t[1], t[1] / t[2], gbs / t[1] / f, gbs / t[2] / f,
                        ", ".join("%.0f" % x for x in fz)))
    print()


def main():
    criu, bigmem, root, mib, rounds = sys.argv[1:6]
    freshcopy = sys.argv[6] if len(sys.argv) > 6 else None
    mib, rounds = int(mib), int(rounds)
    tls = make_pki(os.path.join(root, "pki"))
    victim = start_victim(bigmem, mib, root)
    rows = []
    try:
        for _ in range(rounds):
            rows.append(one_round(criu, victim, root, tls, freshcopy, mib))
    finally:
        victim.kill()
        victim.wait()
        shutil.rmtree(os.path.join(root, "ps-bench"), ignore_errors=True)
        shutil.rmtree(os.path.join(root, "pki"), ignore_errors=True)
    report(rows, mib)


main()
