"""Results that disagree with today's config or code, found without Snakemake's own records.

Snakemake reruns a job whose params or code changed by comparing them with what it keeps in
``.snakemake/``; where that folder is lost (a clone with ``results/`` copied, a folder removed for lock
trouble) it falls back to file times and misses every edit.  Each model's metrics.json records its run
spec, its seed and the digest of the code that trained it (``code_digest``), and each split's stats.json
its split spec and code digest; at parse time the main process
compares them with today's job (``stale``) and sets the modification time of the job's *marker*, an input
of its rule (``paths.job_marker``): now where its results disagree, so that Snakemake reruns the job by
time alone, and the epoch where they agree, so that a marker never reruns anything by itself.
"""

import json
import os
import time
from pathlib import Path

from dd2424.nn.spec import stackable

from . import paths
from .experiments import experiments_of, seeds_of

CODE_KEY = "code_digest"
SPEC_KEY = "spec"


def _derived_keys(job):
    """Keys an earlier result decides (a refined point's sampled scalars, a best_of's keys): today's static
    spec does not know their value."""
    derived_by = job["derived_by"]
    if "refine" in derived_by:
        return set(stackable())
    if "best_of" in derived_by:
        return set(derived_by["best_of"]["keys"])
    return set()


def stale(job, exp, config, code_digest, workdir="."):
    """Why the job's existing results were made otherwise than today's job would make them, or None.

    Reads the metrics.json of every model of the job (each seed of ``exp``'s that has one) and returns
    the first disagreement, in words: a code digest, or a run-spec key whose recorded value differs.
    Results that do not exist, or cannot be read (``make verify`` names those), are no disagreement.
    """
    skip = _derived_keys(job)
    seeds = [job["seed"]] if job["seed"] is not None else seeds_of(config, exp)
    for seed in seeds:
        for run, spec in zip(job["runs"], job["specs"]):
            # Named relative to the run's directory, as the run and make verify name every file.
            path = paths.model_file(job["report"], job["experiment"], run, seed, "metrics.json")
            try:
                recorded = json.loads(Path(workdir, path).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if recorded.get(CODE_KEY) != code_digest:
                return f"{path}: trained by other code ({recorded.get(CODE_KEY)} recorded, {code_digest} today)"
            for key, value in spec.items():
                if key not in skip and recorded.get(key, value) != value:
                    return f"{path}: {key} {recorded[key]!r} recorded, {value!r} today"
    return None


def stale_jobs(config, jobs, code_digest, workdir="."):
    """``[(job, why)]``: every job of ``jobs`` (``experiments.training_jobs``) whose existing results
    ``stale`` finds made otherwise, in order."""
    found = []
    for job in jobs:
        why = stale(job, experiments_of(config, job["report"])[job["experiment"]], config, code_digest, workdir)
        if why:
            found.append((job, why))
    return found


def split_record(spec, code_digest):
    """What a split's stats.json records of what made it: its config spec and its job's code digest."""
    return {SPEC_KEY: spec, CODE_KEY: code_digest}


def stale_split(name, spec, code_digest, workdir="."):
    """Why split ``name``'s existing stats.json was made otherwise than ``spec`` and today's code would
    make it, or None (also where it does not exist or cannot be read: ``make verify`` names those)."""
    path = paths.split_stats(name)
    try:
        recorded = json.loads(Path(workdir, path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if recorded.get(CODE_KEY) != code_digest:
        return f"{path}: made by other code ({recorded.get(CODE_KEY)} recorded, {code_digest} today)"
    # Through JSON both ways: a YAML list and the list stats.json holds compare equal.
    if recorded.get(SPEC_KEY) != json.loads(json.dumps(spec)):
        return f"{path}: split spec {recorded.get(SPEC_KEY)} recorded, {spec} today"
    return None


def stale_splits(config, code_digest, workdir="."):
    """``[(split name, why)]``: every split of the config whose existing arrays ``stale_split`` finds made
    otherwise, in config order."""
    found = [(name, stale_split(name, spec, code_digest, workdir)) for name, spec in config["splits"].items()]
    return [(name, why) for name, why in found if why]


def mark(marker, is_stale, workdir="."):
    """Create the job's marker if missing; stamp it now where its results are stale, at the epoch otherwise."""
    path = Path(workdir) / marker
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("the modification time of this file reruns its job (dd2424.pipeline.records)\n")
    stamp = time.time() if is_stale else 0
    os.utime(path, (stamp, stamp))
