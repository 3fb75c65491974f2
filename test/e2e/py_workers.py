"""A real program that forks workers: python3 forks three workers that keep
computing (a chain of LCG steps) and leave a progress file every 100 steps.
After the restore the parent removes the progress files and waits until
every worker has written its file again (they run on), then stops them:
each checks its chain against a recomputation and its parent."""
import os
import signal
import sys
import time

stop = False
M = (1 << 64) - 1


def on_term(sig, frame):
    global stop
    stop = True


def step(x):
    return (x * 6364136223846793005 + 1442695040888963407) & M


def worker(idx, ppid, tmp):
    n, x = 0, idx
    while not stop:
        n += 1
        x = step(x)
        if n % 100 == 0:
            with open(os.path.join(tmp, "w%d" % idx), "w") as f:
                f.write(str(n))
        time.sleep(0.0002)
    y = idx
    for _ in range(n):
        y = step(y)
    os._exit(0 if y == x and os.getppid() == ppid else 1)


def wait_files(tmp, n, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if all(os.path.exists(os.path.join(tmp, "w%d" % i)) for i in range(n)):
            return True
        time.sleep(0.005)
    return False


def main():
    result = sys.argv[1]
    tmp = os.path.dirname(os.path.abspath(result))
    signal.signal(signal.SIGTERM, on_term)
    ready = int(os.environ["E2E_READY_FD"])
    pids = []
    for i in range(3):
        pid = os.fork()
        if pid == 0:
            os.close(ready)
            worker(i, os.getppid(), tmp)
        pids.append(pid)
    ok = wait_files(tmp, 3)
    with open(os.path.join(tmp, "pids"), "w") as f:
        f.write("".join("%d\n" % p for p in [os.getpid()] + pids))
    os.write(ready, b"R")
    os.close(ready)
    while not stop:
        time.sleep(0.01)
    why = "" if ok else "workers never started"
    for i in range(3):
        os.unlink(os.path.join(tmp, "w%d" % i))
    if not why and not wait_files(tmp, 3):
        why = "workers do not run after the restore"
    for p in pids:
        os.kill(p, signal.SIGTERM)
        _, st = os.waitpid(p, 0)
        if st != 0 and not why:
            why = "worker %d ended with status %#x" % (p, st)
    with open(result, "w") as f:
        f.write("PASS\n" if not why else "FAIL %s\n" % why)


main()
