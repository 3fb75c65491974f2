"""A real shell pipeline: python runs `sh -c 'sleep 1000 | sleep 1000'`
(sh forks both sleeps, which share one pipe, and waits). The whole tree
is dumped and restored; then python checks that the shell and both sleeps
are back with their pids, parents and group, the sleeps still joined by
one pipe, and ends the pipeline."""
import os
import signal
import subprocess
import sys
import time

stop = False


def on_term(sig, frame):
    global stop
    stop = True


def kids(pid):
    out = []
    for t in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/children" % (pid, t)) as f:
            out += [int(x) for x in f.read().split()]
    return sorted(out)


def state(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[2])  # ppid, pgrp


def pipe_of(pid, fd):
    return os.readlink("/proc/%d/fd/%d" % (pid, fd))


def sleeping(pid):
    try:
        with open("/proc/%d/syscall" % pid) as f:
            return f.read().split()[0] == "230"
    except (OSError, IndexError):
        return False


def snapshot(sh):
    sleeps = kids(sh)
    if len(sleeps) != 2:
        return None
    a, b = sleeps
    ends = {pipe_of(a, 1), pipe_of(b, 0), pipe_of(a, 0), pipe_of(b, 1)}
    joined = pipe_of(a, 1) == pipe_of(b, 0) or pipe_of(b, 1) == pipe_of(a, 0)
    return {"sleeps": sleeps, "sh": state(sh), "a": state(a), "b": state(b),
            "joined": joined and any(e.startswith("pipe:") for e in ends)}


def main():
    result = sys.argv[1]
    tmp = os.path.dirname(os.path.abspath(result))
    signal.signal(signal.SIGTERM, on_term)
    ready = int(os.environ["E2E_READY_FD"])
    sh = subprocess.Popen(["sh", "-c", "sleep 1000 | sleep 1000"], stdin=subprocess.DEVNULL,
                          close_fds=True, pass_fds=())
    end = time.monotonic() + 20
    before = None
    while time.monotonic() < end:
        before = snapshot(sh.pid)
        # both sleeps asleep in clock_nanosleep (230): past execve and
        # their start-up (locale files), so nothing changes until the dump
        if before and all(sleeping(p) for p in before["sleeps"]):
            break
        time.sleep(0.01)
    with open(os.path.join(tmp, "pids"), "w") as f:
        f.write("".join("%d\n" % p for p in [os.getpid(), sh.pid] + before["sleeps"]))
    os.write(ready, b"R")
    os.close(ready)
    while not stop:
        time.sleep(0.01)
    after = snapshot(sh.pid)
    why = ""
    if not before or not before["joined"]:
        why = "the sleeps were not joined by a pipe before the dump: %s" % before
    elif after != before:
        why = "pipeline changed: before %s, after %s" % (before, after)
    sh.send_signal(signal.SIGTERM)  # sh waits for the pipeline: end the sleeps
    for p in before["sleeps"] if before else []:
        try:
            os.kill(p, signal.SIGTERM)
        except ProcessLookupError:
            pass
    sh.wait()
    with open(result, "w") as f:
        f.write("PASS\n" if not why else "FAIL %s\n" % why)


main()
