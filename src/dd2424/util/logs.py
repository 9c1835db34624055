"""A line logger for pipeline jobs: each line is flushed at once, so a
running job's progress can be followed with ``tail -f`` on its log."""

import os
import socket
import time
import traceback


class LineLog:
    def __init__(self, path):
        self.file = open(path, "a", encoding="utf-8", buffering=1)
        self.start = time.perf_counter()
        # Where the job ran: on a cluster, the SLURM job id ties the log to sacct/squeue.
        slurm = os.environ.get("SLURM_JOB_ID")
        self(f"host {socket.gethostname()}" + (f", SLURM job {slurm}" if slurm else ", local"))

    def __call__(self, line):
        self.file.write(f"[{time.perf_counter() - self.start:8.1f}s] {line}\n")

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb):
        # A failing job's reason belongs in its own log: on a cluster the
        # console is far away.  The exception still propagates (job fails).
        if kind is not None and not issubclass(kind, KeyboardInterrupt):
            self.file.write("".join(traceback.format_exception(kind, error, tb)))
            self(f"FAILED: {kind.__name__}: {error}")
        self.file.close()
