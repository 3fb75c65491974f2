#!/usr/bin/python3
"""make bench, part "ps": page-server throughput over loopback against the
local dump of the same run.

bench-ps.py CRIU BIGMEM IMGROOT MIB ROUNDS

A bigmem victim of MIB MiB of random memory is dumped ROUNDS times each way,
alternating, with --leave-running (the same pages every time):
  local  criu dump -D IMGROOT/local
  ps     criu page-server --address 127.0.0.1 --port 0 -D IMGROOT/srv, and
         criu dump --page-server --address 127.0.0.1 --port P -D IMGROOT/rest
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


def ps_dump(criu, pid, root):
    srv = os.path.join(root, "srv")
    os.makedirs(srv)
    server = subprocess.Popen([criu, "page-server", "--address", "127.0.0.1", "--port", "0",
                               "-D", srv, "-o", "ps.log"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([server.stdout], [], [], 20)
        line = server.stdout.readline() if ready else ""
        if not line.startswith("port "):
            sys.exit("bench-ps: the page server did not start: %r" % line)
        res = run_dump(criu, pid, os.path.join(root, "rest"),
                       ["--page-server", "--address", "127.0.0.1", "--port", line.split()[1]])
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


def main():
    criu, bigmem, root, mib, rounds = sys.argv[1:6]
    mib, rounds = int(mib), int(rounds)
    victim = start_victim(bigmem, mib, root)
    rows = []
    try:
        for _ in range(rounds):
            row = []
            for kind in ("local", "ps"):
                d = os.path.join(root, "ps-bench")
                if kind == "local":
                    row.append(run_dump(criu, victim.pid, os.path.join(d, "local"), []))
                else:
                    row.append(ps_dump(criu, victim.pid, d))
                shutil.rmtree(d)
            rows.append(row)
    finally:
        victim.kill()
        victim.wait()
        shutil.rmtree(os.path.join(root, "ps-bench"), ignore_errors=True)
    gbs = mib * 1048576 / 1e9
    print("\npage server over loopback: dump of %d MiB with --leave-running, "
          "local -D against --page-server (images on tmpfs on both sides)\n" % mib)
    print("| round | local GB/s | ps GB/s | ps/local | local frozen ms | ps frozen ms |")
    print("| ----- | ---------- | ------- | -------- | --------------- | ------------ |")
    for i, ((lt, lf), (pt, pf)) in enumerate(rows, 1):
        print("| %-5d | %10.2f | %7.2f | %8.2f | %15.0f | %12.0f |" %
              (i, gbs / lt, gbs / pt, lt / pt, lf, pf))
    bl, bp = min(r[0][0] for r in rows), min(r[1][0] for r in rows)
    print("| best  | %10.2f | %7.2f | %8.2f | %15.0f | %12.0f |\n" %
          (gbs / bl, gbs / bp, bl / bp, min(r[0][1] for r in rows), min(r[1][1] for r in rows)))


main()
