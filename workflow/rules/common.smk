# Helpers shared by the rules: paths, run specs and target lists.  No rules here.

import glob
import hashlib
import json
import os

from dd2424 import experiments as ex


wildcard_constraints:
    assignment="a[0-9]+|bonus",
    seed="[0-9]+",
    split="|".join(config["splits"]),


ASSIGNMENTS = list(config["assignments"])
# What `all`, the summary and the report include (`in_all: false` leaves a group out).
IN_ALL = ex.assignments_in_all(config)


def experiments_of(assignment):
    return config["assignments"][assignment]["experiments"]


def experiment_config(wildcards):
    return experiments_of(wildcards.assignment)[wildcards.experiment]


# Static specs of every run, computed once at parse time.
RUNS = {(a, e): ex.static_runs(config, a, e) for a in ASSIGNMENTS for e in experiments_of(a)}


def coarse_experiment(wildcards):
    """The random search a refined search takes its ranges from."""
    return experiment_config(wildcards)["refine"]["from"]


def refine_margins(wildcards):
    """What a fine range depends on: which search, how many best points, how much margin."""
    refine = experiment_config(wildcards)["refine"]
    return {k: refine[k] for k in ("from", "top", "margin") if k in refine}


def coarse_search_table(wildcards):
    return f"results/{wildcards.assignment}/{coarse_experiment(wildcards)}/search.csv"


def coarse_ranges(wildcards):
    return experiments_of(wildcards.assignment)[coarse_experiment(wildcards)]["random"]["sample"]


def split_files(split):
    return expand("results/data/{split}/{part}_{xy}.npy", split=split, part=["train", "val", "test"], xy=["X", "y"])


def derived_file(assignment, experiment):
    """The file of earlier results a run's spec depends on (a range or a best point)."""
    source = ex.derived_source(config, assignment, experiment)
    if source is None:
        return []
    kind, earlier = source
    return f"results/{assignment}/{earlier}/{kind}.json"


TRAINING_JOBS = ex.training_jobs(config, RUNS)


def job_outputs(job, name):
    """One file per model of a training job; a headline job leaves the seed a wildcard."""
    seed = "{seed}" if job["seed"] is None else job["seed"]
    return [f"results/{job['assignment']}/{job['experiment']}/{run}/seed{seed}/{name}" for run in job["runs"]]


def job_seed(job):
    return (lambda wildcards: int(wildcards.seed)) if job["seed"] is None else job["seed"]


def job_file(kind, job, suffix):
    """The log or benchmark of a training job: per run (or stack of runs) and seed, or per search chunk."""
    if job["seed"] is None:
        return f"{kind}/{job['assignment']}/{job['experiment']}/{job['label']}/seed{{seed}}{suffix}"
    return f"{kind}/{job['assignment']}/{job['experiment']}/{job['label']}{suffix}"


def job_message(job):
    where = f"{job['assignment']}/{job['experiment']}"
    if job["seed"] is None and len(job["runs"]) == 1:
        return f"Training {where}/{job['runs'][0]} with seed {{wildcards.seed}}"
    if job["seed"] is None:
        return f"Training {where} runs {', '.join(job['runs'])} as one stack with seed {{wildcards.seed}}"
    return f"Training {len(job['runs'])} points of {where} as one stack ({job['runs'][0]}..{job['runs'][-1]})"


def run_outputs(assignment, experiment, name="metrics.json"):
    exp = experiments_of(assignment)[experiment]
    return [
        f"results/{assignment}/{experiment}/{run}/seed{seed}/{name}"
        for run in RUNS[(assignment, experiment)]
        for seed in ex.seeds_of(config, exp)
    ]


def search_points(wildcards):
    return run_outputs(wildcards.assignment, wildcards.experiment)


def all_metrics(assignment):
    return [m for e in experiments_of(assignment) for m in run_outputs(assignment, e)]


# What a training job writes per model (the outputs of the train rules).
MODEL_FILES = ("model.npz", "history.csv", "predictions.npz", "metrics.json")


def all_model_files(assignment):
    """Every file of every model: a target asking for them all retrains a model any of whose files is gone."""
    return [f for e in experiments_of(assignment) for name in MODEL_FILES for f in run_outputs(assignment, e, name)]


def search_experiments(assignment):
    return [e for e, exp in experiments_of(assignment).items() if ex.experiment_kind(exp) in ex.SEARCH_KINDS]


def curve_figures(assignment):
    return expand("results/{a}/figures/{e}_curves.png", a=assignment, e=experiments_of(assignment))


def config_checksum():
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


def gradcheck_specs(wildcards):
    """Every (check, loss) of an assignment's gradient check, defaults applied."""
    gc = config["gradcheck"][wildcards.assignment]
    return [
        {**gc["defaults"], **check, "name": name, "loss": loss}
        for name, check in gc["checks"].items()
        for loss in gc["losses"]
    ]


def gradcheck_split(wildcards):
    return split_files(config["gradcheck"][wildcards.assignment].get("split", "batch1"))


def figures_of(assignment):
    """Every figure an assignment's report section shows, from its config."""
    return list(figure_files(assignment).values())


def figure_files(assignment):
    """{'<assignment>/<experiment>/<kind>': png} of every figure the report shows."""
    wanted = config["assignments"][assignment].get("figures", {})
    runs_experiments = [e for e, exp in experiments_of(assignment).items() if ex.experiment_kind(exp) == "runs"]
    files = {}
    for kind, default in (
        ("curves", runs_experiments),
        ("weights", []),
        ("histograms", []),
        ("schedule", []),
        ("search", []),
    ):
        for experiment in wanted.get(kind, default):
            if experiment not in experiments_of(assignment):
                raise ValueError(f"assignments.{assignment}.figures.{kind} names an unknown experiment {experiment!r}")
            files[f"{assignment}/{experiment}/{kind}"] = f"results/{assignment}/figures/{experiment}_{kind}.png"
    return files


def search_outputs(assignment):
    files = [f"results/{assignment}/{e}/search.csv" for e in search_experiments(assignment)]
    files += [
        f"results/{assignment}/{e}/range.json" for e, exp in experiments_of(assignment).items() if "refine" in exp
    ]
    return files


def report_files():
    """The results the report reads, by kind, each as {'<assignment>/<experiment>': path}."""
    files = {"search": {}, "best": {}, "range": {}, "figure": {}, "gradcheck": {}}
    for a in IN_ALL:
        for e in search_experiments(a):
            files["search"][f"{a}/{e}"] = f"results/{a}/{e}/search.csv"
            files["best"][f"{a}/{e}"] = f"results/{a}/{e}/best.json"
        for e, exp in experiments_of(a).items():
            if "refine" in exp:
                files["range"][f"{a}/{e}"] = f"results/{a}/{e}/range.json"
        files["figure"].update(figure_files(a))
        if a in config["gradcheck"]:
            files["gradcheck"][a] = f"results/{a}/gradcheck.csv"
    return files


REPORT_FILES = report_files()


def assignment_outputs(assignment):
    """Everything one assignment's target rule builds."""
    gradcheck = [f"results/{assignment}/gradcheck.csv"] if assignment in config["gradcheck"] else []
    return (
        gradcheck
        + [f"results/{assignment}/summary.csv"]
        + all_model_files(assignment)
        + search_outputs(assignment)
        + figures_of(assignment)
    )


def package_sources(*modules):
    return [f"{workflow.basedir}/src/dd2424/{m}.py" for m in modules]


# Editing the numerical code retrains the models; editing plots or the report does not.
NETWORK_CODE = package_sources("layers", "losses", "model")
TRAINING_CODE = NETWORK_CODE + package_sources("optim", "augment", "schedules", "trainer", "run", "experiments")


def curves_axis(wildcards):
    """Cyclic runs are read against update steps (as the seeds plot them), others per epoch."""
    specs = RUNS[(wildcards.assignment, wildcards.experiment)].values()
    return "update" if any(s["schedule"] == "cyclic" for s in specs) else "epoch"


def search_stages(assignment, experiment):
    """The stages a search figure shows: a refined search with the coarse one it came from."""
    exp = experiments_of(assignment)[experiment]
    return ([exp["refine"]["from"]] if "refine" in exp else []) + [experiment]


def search_stage_tables(wildcards):
    return [
        f"results/{wildcards.assignment}/{e}/search.csv"
        for e in search_stages(wildcards.assignment, wildcards.experiment)
    ]


def searched_keys(assignment, experiment):
    return ex.searched_keys(config, assignment, experiment)


def first_seed_outputs(name):
    """Per run of an experiment, one file of its first seed's outputs."""

    def inputs(wildcards):
        exp = experiment_config(wildcards)
        seed = ex.seeds_of(config, exp)[0]
        return [
            f"results/{wildcards.assignment}/{wildcards.experiment}/{run}/seed{seed}/{name}"
            for run in RUNS[(wildcards.assignment, wildcards.experiment)]
        ]

    return inputs


def run_names(per_seed):
    """The run each input file of a figure belongs to, in the order of the inputs
    (``run_outputs``: every seed; ``first_seed_outputs``: one file per run)."""

    def names(wildcards):
        runs = RUNS[(wildcards.assignment, wildcards.experiment)]
        repeats = len(ex.seeds_of(config, experiment_config(wildcards))) if per_seed else 1
        return [run for run in runs for _ in range(repeats)]

    return names


def git_commit():
    """The workflow's commit, for the report's provenance table."""
    import subprocess

    def git(*args):
        return subprocess.run(["git", "-C", workflow.basedir, *args], capture_output=True, text=True, encoding="utf-8")

    head = git("rev-parse", "--short=12", "HEAD")
    if head.returncode != 0:
        return "not a git checkout"
    dirty = git("status", "--porcelain", "--untracked-files=no").stdout.strip()
    return head.stdout.strip() + (" (with uncommitted changes)" if dirty else "")
