"""The runs working in a directory: a live one blocks --unlock, a dead or reused pid does not."""

import json
import os
import subprocess
import sys

from dd2424.util import live_run


def test_a_recorded_live_process_blocks_unlock_and_an_ended_one_does_not(tmp_path):
    assert live_run.unlock_problem(tmp_path) is None  # no run ever recorded
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        started = live_run._started(child.pid)
        (tmp_path / ".snakemake").mkdir()
        runs = [
            {"pid": child.pid, "started": started},
            {"pid": child.pid, "started": started + 1},  # the same pid, another process: reused
            {"pid": 2**22 + 1, "started": 5},  # above any pid: ended
        ]
        (tmp_path / live_run.RUNS_FILE).write_text(json.dumps(runs))
        assert live_run.live(tmp_path) == runs[:1]
        problem = live_run.unlock_problem(tmp_path)
        assert f"process {child.pid}" in problem and f"kill {child.pid}" in problem
        live_run.record(tmp_path)  # this process joins; the ended and the reused are forgotten
        recorded = json.loads((tmp_path / live_run.RUNS_FILE).read_text())
        assert [r["pid"] for r in recorded] == [child.pid, os.getpid()]
    finally:
        child.kill()
        child.wait()
    assert [r["pid"] for r in live_run.live(tmp_path)] == [os.getpid()]


def test_a_damaged_runs_file_counts_as_no_run(tmp_path):
    (tmp_path / ".snakemake").mkdir()
    (tmp_path / live_run.RUNS_FILE).write_text('[{"pid": ')
    assert live_run.live(tmp_path) == [] and live_run.unlock_problem(tmp_path) is None
