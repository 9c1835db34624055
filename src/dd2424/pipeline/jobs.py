"""A training job's files, seed and message, as its rule declares them (``experiments.training_jobs``
gives the jobs).  A headline job is one rule for every seed (the seed a wildcard); a search chunk's seed
is fixed."""

from . import paths
from .experiments import step_mflop


def outputs(job, name):
    """One file per model of a training job; a headline job leaves the seed a wildcard."""
    seed = "{seed}" if job["seed"] is None else job["seed"]
    return [paths.model_file(job["report"], job["experiment"], run, seed, name) for run in job["runs"]]


def seed(job):
    return (lambda wildcards: int(wildcards.seed)) if job["seed"] is None else job["seed"]


def side_file(kind, job, suffix):
    """The log or benchmark of a training job (``kind`` logs or benchmarks): per run (or stack of runs) and
    seed, or per search chunk."""
    if job["seed"] is None:
        return f"{kind}/{job['report']}/{job['experiment']}/{job['label']}/seed{{seed}}{suffix}"
    return f"{kind}/{job['report']}/{job['experiment']}/{job['label']}{suffix}"


def message(job):
    where = f"{job['report']}/{job['experiment']}"
    if job["seed"] is None and len(job["runs"]) == 1:
        return f"Training {where}/{job['runs'][0]} with seed {{wildcards.seed}}"
    if job["seed"] is None:
        return f"Training {where} runs {', '.join(job['runs'])} as one stack with seed {{wildcards.seed}}"
    return f"Training {len(job['runs'])} points of {where} as one stack ({job['runs'][0]}..{job['runs'][-1]})"


def threads(job, training):
    """The cores (BLAS threads) a training job asks for: ``training.threads`` where its step reaches
    ``training.large_step_mflop`` (config.yaml), one otherwise: a small step's products gain nothing from a
    second thread."""
    return training["threads"] if step_mflop(job["specs"]) >= training["large_step_mflop"] else 1
