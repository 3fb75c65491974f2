"""A real interpreter running a terminal program: python3 leads its session
with a pty as controlling terminal, in raw mode, and serves it (reads keys
on the slave, answers them upper-cased) until SIGTERM. After the restore
the pty is the same /dev/pts/N with the same modes, still its controlling
terminal with python in the foreground, and carries bytes both ways."""
import fcntl
import os
import select
import signal
import struct
import sys
import termios
import time
import tty

stop = False


def on_term(sig, frame):
    global stop
    stop = True


def fail(result, why):
    with open(result, "w") as f:
        f.write("FAIL %s\n" % why)
    sys.exit(1)


def read_n(m, n):
    """Up to n bytes from the master, waiting at most 5 s for each part."""
    got = b""
    while len(got) < n:
        if not select.select([m], [], [], 5)[0]:
            break
        got += os.read(m, 64)
    return got


def serve(s):
    if select.select([s], [], [], 0.05)[0]:
        os.write(s, os.read(s, 64).upper())


def state(m, s):
    return (os.ttyname(s), termios.tcgetattr(s), fcntl.ioctl(m, termios.TIOCGWINSZ, b"\0" * 8),
            os.tcgetpgrp(s), os.getsid(0))


def main():
    result = sys.argv[1]
    signal.signal(signal.SIGTERM, on_term)
    m, s = os.openpty()
    fcntl.ioctl(s, termios.TIOCSCTTY, 0)
    tty.setraw(s)
    fcntl.ioctl(m, termios.TIOCSWINSZ, struct.pack("HHHH", 43, 117, 0, 0))
    before = state(m, s)
    if before[3] != os.getpgrp() or before[4] != os.getpid():
        fail(result, "not the foreground of its own session before the dump: %s" % (before,))
    ready = int(os.environ["E2E_READY_FD"])
    os.write(ready, b"R")
    os.close(ready)
    while not stop:
        serve(s)
    after = state(m, s)
    if after != before:
        fail(result, "pty state changed: %s, was %s" % (after, before))
    os.write(m, b"key")
    got, end = b"", time.monotonic() + 5
    while len(got) < 3 and time.monotonic() < end:
        serve(s)
        if select.select([m], [], [], 0)[0]:
            got += os.read(m, 64)
    if got != b"KEY":
        fail(result, "typed 'key', the program answered %r" % got)
    with open("/dev/tty", "wb", buffering=0) as t:
        t.write(b"via /dev/tty")
    got = read_n(m, 12)
    if got != b"via /dev/tty":
        fail(result, "/dev/tty wrote %r to the master" % got)
    with open(result, "w") as f:
        f.write("PASS\n")


main()
