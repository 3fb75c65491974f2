"""A real interpreter: python3 with its shared libraries, heap and a loop."""
import hashlib
import os
import signal
import sys
import time

stop = False


def on_term(sig, frame):
    global stop
    stop = True


def main():
    result = sys.argv[1]
    signal.signal(signal.SIGTERM, on_term)
    data = {i: str(i) * 3 for i in range(20000)}
    digest = hashlib.sha256(repr(sorted(data.items())).encode()).hexdigest()
    pid = os.getpid()
    ready = int(os.environ["E2E_READY_FD"])
    os.write(ready, b"R")
    os.close(ready)
    n = 0
    while not stop:
        n += 1
        time.sleep(0.001)
    ok = (hashlib.sha256(repr(sorted(data.items())).encode()).hexdigest() == digest
          and os.getpid() == pid)
    with open(result, "w") as f:
        f.write("PASS\n" if ok else "FAIL state changed (n=%d)\n" % n)


main()
