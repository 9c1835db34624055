# Helpers shared by the rules: paths, run specs and target lists.  No rules here.

import glob
import hashlib
import json
import os
import re

from dd2424.pipeline import experiments as ex
from dd2424.pipeline import search
from dd2424.util import sourcecode
from dd2424.pipeline.reports import value_limits
from dd2424.pipeline.scorecard import DISPLAY_ONLY, setting_overrides

REPORTS = list(config["reports"])
ASSIGNMENTS = list(config["assignments"])


wildcard_constraints:
    assignment="|".join(map(re.escape, ASSIGNMENTS)),
    report="|".join(map(re.escape, REPORTS)),
    seed="[0-9]+",
    split="|".join(map(re.escape, config["splits"])),


# What `all`, the summary and the report include (`in_all: false` leaves an assignment's reports out).
IN_ALL = ex.reports_in_all(config)


def experiments_of(report):
    return ex.experiments_of(config, report)


def experiment_config(wildcards):
    return experiments_of(wildcards.report)[wildcards.experiment]


# What a run spec accepts, key by key (the bounds of a range refined from a grid): the Snakefile's schema.
RUN_SPEC_DEFS = REPORT_SCHEMA["$defs"]


# Static specs of every run, computed once at parse time.
RUNS = {(r, e): ex.static_runs(config, r, e) for r in REPORTS for e in experiments_of(r)}


def coarse_experiment(wildcards):
    """The stage (grid, random search or refine) a refined search takes its ranges from."""
    return experiment_config(wildcards)["refine"]["from"]


def refine_margins(wildcards):
    """What a fine range depends on: which stage, which rule, how many best points, how much margin or factor
    (as the report file gives them: a default left out keeps the params of a file written before it)."""
    refine = experiment_config(wildcards)["refine"]
    return {k: refine[k] for k in ("from", "rule", "top", "margin", "factor") if k in refine}


def coarse_search_table(wildcards):
    return f"results/{wildcards.report}/{coarse_experiment(wildcards)}/search.csv"


def coarse_ranges(wildcards):
    """The bounds of the stage refined, when the config holds them: a random search's ranges, a grid's
    (dd2424.pipeline.search.grid_bounds); None for a refine, whose range.json holds its own (coarse_range_file)."""
    source = experiments_of(wildcards.report)[coarse_experiment(wildcards)]
    if "random" in source:
        return source["random"]["sample"]
    if "grid" in source:
        return search.grid_bounds(source["grid"], {k: value_limits(RUN_SPEC_DEFS, k) for k in source["grid"]})
    return None


def coarse_range_file(wildcards):
    """The range.json of the stage refined when it is a refine itself (its range bounds the next one's)."""
    source = coarse_experiment(wildcards)
    return (
        f"results/{wildcards.report}/{source}/range.json"
        if "refine" in experiments_of(wildcards.report)[source]
        else []
    )


def coarse_rank_metric(wildcards):
    """The column the stage refined ranks its points by: its best points are the refine's."""
    return search.rank_metric(experiments_of(wildcards.report)[coarse_experiment(wildcards)])


def rank_metric(wildcards):
    return search.rank_metric(experiment_config(wildcards))


def split_files(split):
    return expand("results/data/{split}/{part}_{xy}.npy", split=split, part=["train", "val", "test"], xy=["X", "y"])


def derived_file(report, experiment):
    """The file of earlier results a run's spec depends on (a range or a best point)."""
    source = ex.derived_source(config, report, experiment)
    if source is None:
        return []
    kind, earlier = source
    return f"results/{report}/{earlier}/{kind}.json"


TRAINING_JOBS = ex.training_jobs(config, RUNS)


def job_outputs(job, name):
    """One file per model of a training job; a headline job leaves the seed a wildcard."""
    seed = "{seed}" if job["seed"] is None else job["seed"]
    return [f"results/{job['report']}/{job['experiment']}/{run}/seed{seed}/{name}" for run in job["runs"]]


def job_seed(job):
    return (lambda wildcards: int(wildcards.seed)) if job["seed"] is None else job["seed"]


def job_file(kind, job, suffix):
    """The log or benchmark of a training job: per run (or stack of runs) and seed, or per search chunk."""
    if job["seed"] is None:
        return f"{kind}/{job['report']}/{job['experiment']}/{job['label']}/seed{{seed}}{suffix}"
    return f"{kind}/{job['report']}/{job['experiment']}/{job['label']}{suffix}"


def job_message(job):
    where = f"{job['report']}/{job['experiment']}"
    if job["seed"] is None and len(job["runs"]) == 1:
        return f"Training {where}/{job['runs'][0]} with seed {{wildcards.seed}}"
    if job["seed"] is None:
        return f"Training {where} runs {', '.join(job['runs'])} as one stack with seed {{wildcards.seed}}"
    return f"Training {len(job['runs'])} points of {where} as one stack ({job['runs'][0]}..{job['runs'][-1]})"


def run_outputs(report, experiment, name="metrics.json"):
    exp = experiments_of(report)[experiment]
    return [
        f"results/{report}/{experiment}/{run}/seed{seed}/{name}"
        for run in RUNS[(report, experiment)]
        for seed in ex.seeds_of(config, exp)
    ]


def search_points(wildcards):
    return run_outputs(wildcards.report, wildcards.experiment)


def ensemble_members(wildcards):
    """Every model's predictions of an experiment with an ensemble, run by run and seed by seed."""
    return run_outputs(wildcards.report, wildcards.experiment, "predictions.npz")


def ensemble_experiments(report):
    return [e for e, exp in experiments_of(report).items() if ex.builds_ensemble(config, exp)]


def all_metrics(report):
    return [m for e in experiments_of(report) for m in run_outputs(report, e)]


# What a training job writes per model (the outputs of the train rules).
MODEL_FILES = ("model.npz", "history.csv", "predictions.npz", "metrics.json")


def all_model_files(report):
    """Every file of every model: a target asking for them all retrains a model any of whose files is gone."""
    return [f for e in experiments_of(report) for name in MODEL_FILES for f in run_outputs(report, e, name)]


def search_experiments(report):
    return [e for e, exp in experiments_of(report).items() if ex.experiment_kind(exp) in ex.SEARCH_KINDS]


def portable_config():
    """The config as the report's jobs take it: the reports in the PDF, each file by its name only, the md5
    in lower case, so that the same checkout at another path, or the same md5 typed otherwise, reruns nothing."""
    return {
        **config,
        "data": {**config["data"], "md5": config["data"]["md5"].lower()},
        "reports": {r: {**config["reports"][r], "file": Path(config["reports"][r]["file"]).name} for r in IN_ALL},
    }


def scorecard_config():
    """What the scorecard reads of the config: the md5 and the gradient checks (for the causes of a miss),
    and each report's assignment, experiments and published numbers, without what only the PDF shows."""
    portable = portable_config()
    reports = portable["reports"]
    return {
        "data": portable["data"],
        "gradcheck": config["gradcheck"],
        # named among the causes of a miss: what a configuration changed of a report's settings
        "overrides": {
            r: changed
            for r, changed in ((r, setting_overrides(o)) for r, o in (config.get("overrides") or {}).items())
            if r in reports and changed["experiments"]
        },
        "reports": {
            r: {
                "assignment": report["assignment"],
                "published": report.get("published", []),
                "experiments": {
                    name: {k: v for k, v in exp.items() if k not in DISPLAY_ONLY}
                    for name, exp in report["experiments"].items()
                },
            }
            for r, report in reports.items()
        },
    }


def config_checksum():
    return hashlib.sha256(json.dumps(portable_config(), sort_keys=True).encode()).hexdigest()[:16]


def template_texts():
    """{name: text} of the report's Jinja2 templates: a param, so that only an edit rebuilds the report."""
    return {
        Path(p).name: Path(p).read_text(encoding="utf-8")
        for p in sorted(glob.glob(f"{workflow.basedir}/report/*.tex.j2"))
    }


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


def gradcheck_table(assignment):
    return f"results/gradcheck/{assignment}.csv"


def figure_files(report):
    """{'<report>/<experiment>/<kind>': png} of every figure the PDF shows of a report.

    Runs experiments get their training curves and searches their plot; the
    others are those an experiment asks for (``figures``).
    """
    files = {}
    for experiment, exp in experiments_of(report).items():
        kind = ex.experiment_kind(exp)
        for figure in ["curves" if kind == "runs" else "search"] + exp.get("figures", []):
            files[f"{report}/{experiment}/{figure}"] = f"results/{report}/figures/{experiment}_{figure}.png"
    return files


def search_outputs(report):
    files = [f"results/{report}/{e}/search.csv" for e in search_experiments(report)]
    files += [f"results/{report}/{e}/range.json" for e, exp in experiments_of(report).items() if "refine" in exp]
    return files


def report_files():
    """The results the PDF reads, by kind, each as {'<report>/<experiment>': path} (gradient checks: by assignment)."""
    files = {"search": {}, "best": {}, "range": {}, "ensemble": {}, "figure": {}, "gradcheck": {}}
    for r in IN_ALL:
        for e in search_experiments(r):
            files["search"][f"{r}/{e}"] = f"results/{r}/{e}/search.csv"
            files["best"][f"{r}/{e}"] = f"results/{r}/{e}/best.json"
        for e, exp in experiments_of(r).items():
            if "refine" in exp:
                files["range"][f"{r}/{e}"] = f"results/{r}/{e}/range.json"
        for e in ensemble_experiments(r):
            files["ensemble"][f"{r}/{e}"] = f"results/{r}/{e}/ensemble.csv"
        files["figure"].update(figure_files(r))
        a = config["reports"][r]["assignment"]
        if a in config["gradcheck"]:
            files["gradcheck"][a] = gradcheck_table(a)
    return files


REPORT_FILES = report_files()


def report_outputs(report):
    """Everything one report's target builds: its assignment's gradient check, models, searches, ensembles,
    figures."""
    a = config["reports"][report]["assignment"]
    gradcheck = [gradcheck_table(a)] if a in config["gradcheck"] else []
    return (
        gradcheck
        + [f"results/{report}/summary.csv"]
        + all_model_files(report)
        + search_outputs(report)
        + [f"results/{report}/{e}/ensemble.csv" for e in ensemble_experiments(report)]
        + list(figure_files(report).values())
    )


def assignment_outputs(assignment):
    """Everything the target named after an assignment builds: each of its reports."""
    return [f for r in ex.reports_of(config, assignment) for f in report_outputs(r)]


def code(script):
    """What a job depends on in code, as a param: the content of its script and of every package module
    it imports (dd2424.util.sourcecode).  Only a change of content reruns a job; a touch, a branch switched and
    back or a checkout at another path reruns nothing (the profiles leave out Snakemake's own, time-based,
    code trigger)."""
    return sourcecode.digest(f"{workflow.basedir}/workflow/scripts/{script}", f"{workflow.basedir}/src/dd2424")


def curves_axis(wildcards):
    """Cyclic runs are read against update steps (as the seeds plot them), others per epoch."""
    specs = RUNS[(wildcards.report, wildcards.experiment)].values()
    return "update" if any(s["schedule"] == "cyclic" for s in specs) else "epoch"


def search_stages(report, experiment):
    """The stages a search figure shows: a refined search with every stage of its chain, coarse to fine."""
    return ex.refine_chain(experiments_of(report), experiment)


def search_stage_metrics(report, experiment):
    """The column each stage of a search figure ranks its points by."""
    return [search.rank_metric(experiments_of(report)[e]) for e in search_stages(report, experiment)]


def search_stage_tables(wildcards):
    return [f"results/{wildcards.report}/{e}/search.csv" for e in search_stages(wildcards.report, wildcards.experiment)]


def searched_keys(report, experiment):
    return ex.searched_keys(config, report, experiment)


def first_seed_outputs(name):
    """Per run of an experiment, one file of its first seed's outputs."""

    def inputs(wildcards):
        exp = experiment_config(wildcards)
        seed = ex.seeds_of(config, exp)[0]
        return [
            f"results/{wildcards.report}/{wildcards.experiment}/{run}/seed{seed}/{name}"
            for run in RUNS[(wildcards.report, wildcards.experiment)]
        ]

    return inputs


def run_names(per_seed):
    """The run each input file of a figure belongs to, in the order of the inputs
    (``run_outputs``: every seed; ``first_seed_outputs``: one file per run)."""

    def names(wildcards):
        runs = RUNS[(wildcards.report, wildcards.experiment)]
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
