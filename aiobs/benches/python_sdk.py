"""The Python SDK's column of docs/src/performance.md: aiobs 0.1.5's @observe and flush.

    .venv/bin/python aiobs/benches/python_sdk.py        # the .venv the tests create

Offline: 0.1.5's observe() requires an API key and checks it with its server, and its flush
uploads; those three calls are replaced by no-ops, nothing else is changed.
"""

import gc
import os
import resource
import tempfile
import time

from aiobs import observe, observer

observer._validate_api_key = lambda: None
observer._flush_to_server = lambda export: None
observer._record_usage = lambda count: None
os.environ["AIOBS_API_KEY"] = "offline"


@observe
def f(a, b):
    return a + b


def per_call(n):
    start = time.perf_counter()
    for _ in range(n):
        f(1, 2)
    return (time.perf_counter() - start) / n


def rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    # One observed call, without and with a session.
    print(f"no session: {per_call(2_000) * 1e6:.0f} µs per call")
    observer.observe(session_name="bench")
    print(f"session:    {per_call(2_000) * 1e6:.0f} µs per call")
    observer.end()
    observer.flush(os.path.join(tempfile.gettempdir(), "aiobs-python-warmup.json"))

    # Record and flush 100,000 events of f(1, 2).
    n = 100_000
    gc.collect()
    before = rss_kib()
    observer.observe(session_name="bench")
    start = time.perf_counter()
    for _ in range(n):
        f(1, 2)
    recorded = time.perf_counter() - start
    held = rss_kib() - before
    print(f"record:     {n / recorded / 1e3:.1f} k events/s ({recorded / n * 1e6:.0f} µs/event)")
    print(f"memory:     {held * 1024 / n / 1e3:.1f} kB resident per stored event")
    observer.end()
    path = os.path.join(tempfile.gettempdir(), "aiobs-python-100k.json")
    before_flush = rss_kib()
    start = time.perf_counter()
    observer.flush(path)
    flushed = time.perf_counter() - start
    # The process's peak resident memory, less what it held before the flush.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before_flush
    size = os.path.getsize(path)
    os.remove(path)
    print(f"flush:      {flushed:.1f} s ({size / 1e6:.0f} MB file)")
    print(f"flush peak: {peak / 1024:.0f} MiB more resident memory than before the flush")


if __name__ == "__main__":
    main()
