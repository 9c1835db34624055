"""Where a finished run's time went: the chain of jobs no number of cores can shorten, the wall time a list
schedule of the same jobs takes on 1 to 16 cores, and the training's arithmetic against the GEMM limit.

    python -m dd2424.runtime [WORKDIR]          (or: make runtime)

Reads what Snakemake itself keeps of every output in WORKDIR/.snakemake/metadata (the rule that made
it, its inputs, the job's hash, start and end) rather than a log's text: jobs are the outputs that share a
rule and a hash, and a job depends on each job whose output it reads.  Each job is taken to need
its cores (a training job's ``blas_threads``, one for any other) for as long as it took in the run; the
schedule starts, whenever cores are free, the ready jobs with the longest chain still after them (as
Snakemake's ``priority`` would).  Then the training's useful FLOP (``arithmetic``, from every
metrics.json under results/) over the run's wall time (its first job's start to its last job's end: a
run from scratch), against its cores times the one-core float32 GEMM rate the run measured
(results/report/gemm.json).
"""

import argparse
import base64
import heapq
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from dd2424.nn.arithmetic import network_flop_per_sample
from dd2424.pipeline import paths

CORES = (1, 2, 4, 8, 16)


@dataclass
class Job:
    rule: str
    start: float
    end: float
    outputs: list = field(default_factory=list)
    inputs: set = field(default_factory=set)
    needs: list = field(default_factory=list)  # the jobs whose outputs it reads
    threads: int = 1  # a training job's BLAS threads (its metrics.json's blas_threads)

    @property
    def seconds(self):
        return max(0.0, self.end - self.start)


def read_jobs(workdir):
    """The run's jobs, in order of their start, each with the jobs it needs.

    Raises FileNotFoundError when ``workdir`` holds no Snakemake metadata (no finished run there).
    """
    folder = Path(workdir) / ".snakemake" / "metadata"
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} does not exist: run the workflow in {workdir} first")
    jobs = {}
    for entry in folder.iterdir():
        try:
            record = json.loads(entry.read_text(encoding="utf-8"))
            output = base64.b64decode(entry.name).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            continue  # not a record of an output (a temporary file of Snakemake's)
        if record.get("incomplete") or record.get("starttime") is None or record.get("endtime") is None:
            continue
        # One job's outputs share its rule and hash; each has its own start and end, milliseconds apart.
        key = (record["rule"], record.get("job_hash"))
        job = jobs.setdefault(key, Job(record["rule"], record["starttime"], record["endtime"]))
        job.start, job.end = min(job.start, record["starttime"]), max(job.end, record["endtime"])
        job.outputs.append(output)
        job.inputs.update(record.get("input") or [])
    for job in jobs.values():
        for output in job.outputs:
            if output.endswith("metrics.json") and (Path(workdir) / output).is_file():
                recorded = json.loads((Path(workdir) / output).read_text(encoding="utf-8")).get("blas_threads")
                job.threads = max(job.threads, recorded or 1)
    ordered = sorted(jobs.values(), key=lambda j: (j.start, j.rule))
    made_by = {output: job for job in ordered for output in job.outputs}
    for job in ordered:
        job.needs = list(
            {id(made_by[i]): made_by[i] for i in job.inputs if i in made_by and made_by[i] is not job}.values()
        )
    return ordered


def _remaining(jobs):
    """{id(job): seconds of the longest chain from its start to the end of the run}, and each job's users."""
    users = {id(j): [] for j in jobs}
    for job in jobs:
        for need in job.needs:
            users[id(need)].append(job)
    # Users before the jobs they need (a reversed topological order: Kahn's, from the jobs no one needs).
    unfinished = {id(j): len(users[id(j)]) for j in jobs}
    order = [j for j in jobs if not users[id(j)]]
    for job in order:
        for need in job.needs:
            unfinished[id(need)] -= 1
            if not unfinished[id(need)]:
                order.append(need)
    remaining = {}
    for job in order:
        remaining[id(job)] = job.seconds + max((remaining[id(u)] for u in users[id(job)]), default=0.0)
    return remaining, users


def critical_path(jobs):
    """(seconds, [jobs]) of the longest chain of jobs, each needing the one before it."""
    remaining, users = _remaining(jobs)
    if not jobs:
        return 0.0, []
    job = max((j for j in jobs if not j.needs), key=lambda j: remaining[id(j)])
    chain = [job]
    while users[id(job)]:
        job = max(users[id(job)], key=lambda u: remaining[id(u)])
        chain.append(job)
    return remaining[id(chain[0])], chain


def simulated_wall(jobs, cores):
    """Seconds a list schedule of ``jobs`` on ``cores`` cores takes: whenever cores are free, the ready jobs
    with the longest remaining chain first, each on its ``threads`` cores (at most ``cores``; a job that does
    not fit lets a smaller one by), for as long as it took in the run."""
    remaining, users = _remaining(jobs)
    waiting = {id(j): len(j.needs) for j in jobs}
    ready = sorted((j for j in jobs if not j.needs), key=lambda j: -remaining[id(j)])
    running, now, free, started = [], 0.0, cores, 0
    while ready or running:
        for job in list(ready):
            need = min(job.threads, cores)
            if need <= free:
                ready.remove(job)
                started += 1
                heapq.heappush(running, (now + job.seconds, started, job, need))
                free -= need
        now, _, job, need = heapq.heappop(running)
        free += need
        for user in users[id(job)]:
            waiting[id(user)] -= 1
            if not waiting[id(user)]:
                ready.append(user)
        ready.sort(key=lambda j: -remaining[id(j)])
    return now


def training_flop(workdir):
    """(useful FLOP, models) of every model whose metrics.json is under WORKDIR/results."""
    flop, models = 0.0, 0
    for path in (Path(workdir) / paths.RESULTS).rglob("metrics.json"):
        m = json.loads(path.read_text(encoding="utf-8"))
        if "updates" not in m or "hidden" not in m:
            continue  # not a trained model's (a search's or a check's summary)
        per_sample = network_flop_per_sample(m["hidden"], m.get("patch_size"), m.get("patch_filters"))
        flop += m["updates"] * m["n_batch"] * per_sample
        models += 1
    return flop, models


def provided_cores(workdir):
    """The cores the newest Snakemake log says the run had ("Provided cores: N"), or None."""
    logs = sorted((Path(workdir) / ".snakemake" / "log").glob("*.snakemake.log"))
    for log in reversed(logs):
        found = re.search(r"^Provided cores: (\d+)", log.read_text(encoding="utf-8", errors="replace"), re.M)
        if found:
            return int(found.group(1))
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", nargs="?", default=".", help="the run's work directory (default: here)")
    parser.add_argument(
        "--cores", type=int, help="the cores the run had (default: its newest log's, or this machine's)"
    )
    parser.add_argument("--top", type=int, default=12, help="jobs of the critical path listed (default 12)")
    args = parser.parse_args(argv)
    try:
        jobs = read_jobs(args.workdir)
    except FileNotFoundError as e:
        parser.exit(2, f"{e}\n")
    total = sum(j.seconds for j in jobs)
    first, last = min(j.start for j in jobs), max(j.end for j in jobs)
    cores = args.cores or provided_cores(args.workdir) or os.cpu_count()
    seconds, chain = critical_path(jobs)
    print(f"{len(jobs)} jobs, {total:,.0f} job-seconds; wall {last - first:,.0f} s on {cores} cores")
    print(f"critical path {seconds:,.0f} s ({seconds / 60:.1f} min), {len(chain)} jobs; the longest:")
    for job in sorted(chain, key=lambda j: -j.seconds)[: args.top]:
        print(f"  {job.seconds:8,.0f} s  {job.rule}  {job.outputs[0] if job.outputs else ''}")
    print("simulated wall of a list schedule of these jobs (each on its threads' cores):")
    for n in CORES:
        wall = simulated_wall(jobs, n)
        work = sum(j.seconds * min(j.threads, n) for j in jobs)
        print(f"  {n:3d} cores: {wall:8,.0f} s ({wall / 60:5.1f} min)  bound {max(seconds, work / n):8,.0f} s")
    gemm_file = Path(args.workdir) / paths.pdf_file("gemm.json")
    flop, models = training_flop(args.workdir)
    if gemm_file.is_file():
        gemm = json.loads(gemm_file.read_text(encoding="utf-8"))["gflops"]
        rate = flop / (last - first) / 1e9
        print(
            f"training: {models} models, {flop / 1e12:,.1f} TFLOP useful; {rate:.1f} GFLOP/s over the wall, "
            f"{rate / (gemm * cores):.0%} of {cores} x the {gemm:.1f} GFLOP/s one-core GEMM the run measured"
        )
    else:
        print(f"training: {models} models, {flop / 1e12:,.1f} TFLOP useful (no {gemm_file}: no GEMM rate to compare)")


if __name__ == "__main__":
    main()
