#!/usr/bin/python3
"""make bench, part "predump": frozen time of a dump with and without a
pre-dump before it (Documentation/predump.md, performance.md).

    bench-predump.py CRIU DIRTYMEM WORKDIR

A victim of BENCH_MIB MiB (default 1024) that rewrites its first
BENCH_DIRTY_MIB MiB (default 16) when told. Each round (BENCH_ROUNDS,
default 3), alternating:
  full   start, dirty, criu dump: the frozen time from stats-dump
  incr   start, criu pre-dump, dirty, criu dump --track-mem
         --prev-images-dir ../pre: the same; then restore from the dump
         and SIGTERM: the victim checks every word (a FAIL fails the bench)
Images on a private tmpfs in WORKDIR. Prints each round and the best of
each column, with incr/full as the ratio.

Then the first pre-dump of the same victim (every page stored) with
--pre-dump-mode splice and read, alternating: its frozen time, and for read
the time criu then spent copying while the victim ran (memwrite_time).
"""
import os
import shutil
import signal
import subprocess
import sys
import time


def run(criu, args, cwd):
    r = subprocess.run([criu] + args, cwd=cwd, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode:
        raise SystemExit("bench-predump: criu %s failed: %s" % (args[0], r.stdout[-500:]))


def stat_ms(criu, imgs, key):
    r = subprocess.run([criu, "show", os.path.join(imgs, "stats-dump")],
                       stdout=subprocess.PIPE, text=True, check=True)
    text = r.stdout
    at = text.index('"%s"' % key)
    return int(text[at:].split(":")[1].split(",")[0].split("}")[0]) / 1000.0


def frozen_ms(criu, imgs):
    return stat_ms(criu, imgs, "frozen_time")


def pre_only(criu, victim, mnt, mib, dmib, mode):
    """(frozen ms, copy ms) of a first pre-dump in @mode."""
    top = os.path.join(mnt, "r")
    shutil.rmtree(top, ignore_errors=True)
    pre = os.path.join(top, "pre")
    os.makedirs(pre)
    p = start(victim, mib, dmib, os.path.join(top, "result"))
    try:
        run(criu, ["pre-dump", "-t", str(p.pid), "-D", pre, "-o", "pre.log",
                   "--pre-dump-mode", mode], pre)
        return frozen_ms(criu, pre), stat_ms(criu, pre, "memwrite_time")
    finally:
        p.kill()
        p.wait()
        shutil.rmtree(top, ignore_errors=True)


def modes(criu, victim, mnt, mib, dmib, rounds):
    print("pre-dump of %d MiB, every page stored: frozen ms by --pre-dump-mode "
          "(read: then copied while the victim runs)" % mib)
    print("  round  splice ms   read ms   read/splice   read copy ms")
    best = [None, None]
    for r in range(rounds):
        s = pre_only(criu, victim, mnt, mib, dmib, "splice")[0]
        rd, copy = pre_only(criu, victim, mnt, mib, dmib, "read")
        best = [min(x for x in (best[0], s) if x is not None),
                min(x for x in (best[1], rd) if x is not None)]
        print("  %5d %10.1f %9.1f %13.3f %14.1f" % (r + 1, s, rd, rd / s, copy), flush=True)
    print("  best  %10.1f %9.1f %13.3f" % (best[0], best[1], best[1] / best[0]))


def start(victim, mib, dirty, result):
    r, w = os.pipe()
    p = subprocess.Popen([victim, str(mib), str(dirty), str(w), result], pass_fds=(w,),
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    os.close(w)
    line = os.read(r, 64).decode()
    os.close(r)
    if not line.startswith("ready"):
        p.kill()
        raise SystemExit("bench-predump: the victim did not start")
    return p


def dirty(p, result):
    mark = result + ".dirty"
    if os.path.exists(mark):
        os.unlink(mark)
    os.kill(p.pid, signal.SIGUSR1)
    end = time.monotonic() + 60
    while not os.path.exists(mark) and time.monotonic() < end:
        time.sleep(0.002)
    if not os.path.exists(mark):
        raise SystemExit("bench-predump: the victim did not dirty its memory")


def check_restored(criu, imgs, pid, result):
    run(criu, ["restore", "-D", imgs, "-d", "--pidfile", "r.pid", "-o", "restore.log"], imgs)
    os.kill(pid, signal.SIGTERM)
    end = time.monotonic() + 60
    while os.path.exists("/proc/%d" % pid) and time.monotonic() < end:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.01)
    with open(result) as f:
        got = f.read().strip()
    if got != "PASS":
        raise SystemExit("bench-predump: the restored victim says %s" % got)


def one(criu, victim, mnt, mib, dmib, incr):
    top = os.path.join(mnt, "r")
    shutil.rmtree(top, ignore_errors=True)
    pre, img = os.path.join(top, "pre"), os.path.join(top, "img")
    os.makedirs(pre)
    os.makedirs(img)
    result = os.path.join(top, "result")
    p = start(victim, mib, dmib, result)
    try:
        if incr:
            run(criu, ["pre-dump", "-t", str(p.pid), "-D", pre, "-o", "pre.log"], pre)
        dirty(p, result)
        opts = ["--track-mem", "--prev-images-dir", "../pre"] if incr else []
        run(criu, ["dump", "-t", str(p.pid), "-D", img, "-o", "dump.log"] + opts, img)
        p.wait(timeout=60)
        ms = frozen_ms(criu, img)
        if incr:
            check_restored(criu, img, p.pid, result)
        return ms
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        shutil.rmtree(top, ignore_errors=True)


def main():
    import ctypes
    criu, victim, work = sys.argv[1:4]
    mib = int(os.environ.get("BENCH_MIB", "1024"))
    dmib = int(os.environ.get("BENCH_DIRTY_MIB", "16"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)     # PR_SET_CHILD_SUBREAPER: reap the restored
    mnt = os.path.join(work, "predump")
    os.makedirs(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm,mode=0700" % (2 * mib + 256),
                    "criu-bench-predump", mnt], check=True)
    try:
        print("pre-dump: frozen time of a dump of %d MiB with %d MiB dirtied since "
              "(ms; incr: after a pre-dump, full: without)" % (mib, dmib))
        print("  round   full ms   incr ms   incr/full")
        best = [None, None]
        for r in range(rounds):
            full = one(criu, victim, mnt, mib, dmib, False)
            incr = one(criu, victim, mnt, mib, dmib, True)
            best = [min(x for x in (best[0], full) if x is not None),
                    min(x for x in (best[1], incr) if x is not None)]
            print("  %5d %9.1f %9.1f %11.3f" % (r + 1, full, incr, incr / full), flush=True)
        print("  best  %9.1f %9.1f %11.3f" % (best[0], best[1], best[1] / best[0]))
        modes(criu, victim, mnt, mib, dmib, rounds)
    finally:
        subprocess.run(["umount", mnt])
    return 0


if __name__ == "__main__":
    sys.exit(main())
