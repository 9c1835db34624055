"""The run-time report: jobs read from Snakemake's metadata, their critical path and list schedules, on a
made-up run whose answers are worked out by hand."""

import base64
import json

import pytest

from dd2424 import runtime


def write_run(workdir, jobs):
    """Snakemake's metadata of ``jobs``: {name: (rule, start, end, [outputs], [inputs])}."""
    folder = workdir / ".snakemake" / "metadata"
    folder.mkdir(parents=True)
    for name, (rule, start, end, outputs, inputs) in jobs.items():
        for k, output in enumerate(outputs):
            # as Snakemake stamps them: each output its own start and end, milliseconds apart
            record = {"rule": rule, "job_hash": hash(name), "starttime": start + k / 1e4, "endtime": end - k / 1e4}
            record["input"] = inputs
            (folder / base64.b64encode(output.encode()).decode()).write_text(json.dumps(record))
    return workdir


# a -> b (30 s) -> d, a -> c (10 s) -> d, and e (25 s) alone: the chain a, b, d is 1 + 30 + 2 s.  b and c are
# two jobs of one rule that started at the same time.
RUN = {
    "a": ("split", 0, 1, ["s/x.npy", "s/y.npy"], ["raw"]),
    "b": ("train", 1, 31, ["m/b.npz"], ["s/x.npy", "s/y.npy"]),
    "c": ("train", 1, 11, ["m/c.npz"], ["s/x.npy"]),
    "d": ("report", 31, 33, ["report.pdf"], ["m/b.npz", "m/c.npz"]),
    "e": ("gemm", 0, 25, ["gemm.json"], []),
}


def test_jobs_are_the_outputs_of_one_rule_and_start_and_need_the_jobs_whose_outputs_they_read(tmp_path):
    jobs = {j.rule + j.outputs[0]: j for j in runtime.read_jobs(write_run(tmp_path, RUN))}
    assert len(jobs) == 5 and sorted(jobs["splits/x.npy"].outputs) == ["s/x.npy", "s/y.npy"]
    assert [n.outputs[0] for n in jobs["reportreport.pdf"].needs] in (["m/b.npz", "m/c.npz"], ["m/c.npz", "m/b.npz"])
    assert jobs["gemmgemm.json"].needs == [] and jobs["trainm/c.npz"].seconds == 10


def test_the_critical_path_and_the_schedules_by_hand(tmp_path):
    jobs = runtime.read_jobs(write_run(tmp_path, RUN))
    seconds, chain = runtime.critical_path(jobs)
    assert seconds == 33 and [j.outputs[0] for j in chain][1:] == ["m/b.npz", "report.pdf"]
    # one core: the sum; two: a then b beside e (25 s), c after e at 25 -> 35, then d: 37; three or more: the chain
    assert runtime.simulated_wall(jobs, 1) == 1 + 30 + 10 + 2 + 25
    assert runtime.simulated_wall(jobs, 2) == pytest.approx(37)
    assert runtime.simulated_wall(jobs, 3) == runtime.simulated_wall(jobs, 16) == 33


def test_a_workdir_without_a_run_is_named(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        runtime.main([str(tmp_path)])
    assert stop.value.code == 2 and "run the workflow" in capsys.readouterr().err


def test_a_job_of_several_threads_takes_as_many_cores_and_a_smaller_one_goes_by(tmp_path):
    """b recorded 2 BLAS threads: on 2 cores it waits for e to end (25 s) while c (one core) runs, then
    a, b, d chain on: 25 + 30 + 2 s; on 3 cores b starts at once beside e, and c waits for e."""
    rule, start, end, outputs, inputs = RUN["b"]
    write_run(tmp_path, {**RUN, "b": (rule, start, end, [*outputs, "m/metrics.json"], inputs)})
    (tmp_path / "m").mkdir()
    (tmp_path / "m/metrics.json").write_text(json.dumps({"blas_threads": 2}))
    jobs = runtime.read_jobs(tmp_path)
    assert sorted(j.threads for j in jobs) == [1, 1, 1, 1, 2]
    assert runtime.simulated_wall(jobs, 2) == 57
    assert runtime.simulated_wall(jobs, 3) == 37
    assert runtime.simulated_wall(jobs, 1) == 68  # a two-thread job on one core: its time, alone
