"""A line logger for pipeline jobs: each line is flushed at once, so a
running job's progress can be followed with ``tail -f`` on its log."""

import time


class LineLog:
    def __init__(self, path):
        self.file = open(path, "a", buffering=1)
        self.start = time.perf_counter()

    def __call__(self, line):
        self.file.write(f"[{time.perf_counter() - self.start:8.1f}s] {line}\n")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()
