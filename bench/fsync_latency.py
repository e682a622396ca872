#!/usr/bin/env python3
"""Latency of the disk's durable append, the floor under a purchase's p99.

A group commit appends its WAL frames (about 10 pages of 4 KiB per purchase) and calls
fdatasync once. This measures that step alone, outside SQLite and the server, so the API
bench's p99 can be compared with what the disk allows on the same machine at the same time.

Modes:
  append      append FRAMES pages, fdatasync; repeat (the writer's commit, nothing else)
  checkpoint  the same while a second thread writes random pages to another file and
              fdatasyncs it every 100 ms (the background checkpointer's pattern)

Usage: bench/fsync_latency.py [--dir DIR] [--count N] [--frames F] [--mode append|checkpoint]
Prints p50, p90, p99, p99.9 and max in milliseconds.
"""

import argparse
import os
import random
import statistics
import tempfile
import threading
import time

PAGE_BYTES = 4096
WAL_RESET_BYTES = 64 * 1024 * 1024  # start over, as a WAL restart does, so the file stays bounded


def percentile(sorted_values, fraction):
    index = min(len(sorted_values) - 1, int(fraction * len(sorted_values)))
    return sorted_values[index]


def checkpointer(path, stop):
    db_pages = 25_000  # ~100 MB, the seeded 100k-member database
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.ftruncate(fd, db_pages * PAGE_BYTES)
        page = os.urandom(PAGE_BYTES)
        while not stop.is_set():
            for _ in range(300):
                os.pwrite(fd, page, random.randrange(db_pages) * PAGE_BYTES)
            os.fdatasync(fd)
            stop.wait(0.1)
    finally:
        os.close(fd)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=None, help="directory on the disk under test")
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--mode", choices=["append", "checkpoint"], default="append")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        stop = threading.Event()
        helper = None
        if args.mode == "checkpoint":
            helper = threading.Thread(target=checkpointer, args=(os.path.join(tmp, "db"), stop))
            helper.start()
        fd = os.open(os.path.join(tmp, "wal"), os.O_RDWR | os.O_CREAT, 0o600)
        chunk = os.urandom(PAGE_BYTES * args.frames)
        offset = 0
        latencies_ms = []
        try:
            for _ in range(args.count):
                start = time.perf_counter()
                os.pwrite(fd, chunk, offset)
                os.fdatasync(fd)
                latencies_ms.append((time.perf_counter() - start) * 1000.0)
                offset += len(chunk)
                if offset >= WAL_RESET_BYTES:
                    offset = 0
        finally:
            os.close(fd)
            stop.set()
            if helper:
                helper.join()

    values = sorted(latencies_ms)
    print(
        f"mode={args.mode} frames={args.frames} count={args.count} "
        f"mean={statistics.fmean(values):.2f} p50={percentile(values, 0.50):.2f} "
        f"p90={percentile(values, 0.90):.2f} p99={percentile(values, 0.99):.2f} "
        f"p99.9={percentile(values, 0.999):.2f} max={values[-1]:.2f} ms"
    )


if __name__ == "__main__":
    main()
