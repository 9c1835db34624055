# Wiring shared by the rules: the run specs and jobs computed once at parse time, and the input functions
# that hand each rule its files.  No rules here; paths are dd2424.pipeline.paths', target lists
# dd2424.pipeline.targets', the params' parts of the config dd2424.pipeline.projections'.

import glob
import json
import re
import sys

from dd2424.pipeline import experiments as ex
from dd2424.pipeline import jobs
from dd2424.pipeline import paths
from dd2424.pipeline import projections
from dd2424.pipeline import records
from dd2424.pipeline import search
from dd2424.pipeline import targets
from dd2424.pipeline.reports import value_limits
from dd2424.util import git, sourcecode

REPORTS = list(config["reports"])
ASSIGNMENTS = list(config["assignments"])


wildcard_constraints:
    assignment="|".join(map(re.escape, ASSIGNMENTS)),
    report="|".join(map(re.escape, REPORTS)),
    seed="[0-9]+",
    split="|".join(map(re.escape, config["splits"])),


# What `all`, the summary and the report include (`in_all: false` leaves an assignment's reports out).
IN_ALL = ex.reports_in_all(config)
# Static specs of every run, and the training jobs, computed once at parse time.
RUNS = ex.all_static_runs(config)
TRAINING_JOBS = ex.training_jobs(config, RUNS)
# The results files the PDF reads, by kind.
REPORT_FILES = targets.report_files(config, IN_ALL)
# What a run spec accepts, key by key (the bounds of a range refined from a grid): the Snakefile's schema.
RUN_SPEC_DEFS = REPORT_SCHEMA["$defs"]


def experiments_of(report):
    return ex.experiments_of(config, report)


def experiment_config(wildcards):
    return experiments_of(wildcards.report)[wildcards.experiment]


def code(script):
    """What a job depends on in code, as a param: the content of its script and of every package module
    it imports (dd2424.util.sourcecode).  Only a change of content reruns a job; a touch, a branch switched and
    back or a checkout at another path reruns nothing (the profiles leave out Snakemake's own, time-based,
    code trigger)."""
    return sourcecode.workflow_script_digest(workflow.basedir, script)


# ---- Models and searches ----------------------------------------------------


def run_outputs(report, experiment, name="metrics.json"):
    return targets.run_outputs(config, RUNS, report, experiment, name)


def experiment_outputs(name):
    """Input function: one file of every model of the wildcards' experiment, run by run and seed by seed."""
    return lambda wc: run_outputs(wc.report, wc.experiment, name)


def derived_file(report, experiment):
    """The file of earlier results a run's spec depends on (a range or a best point)."""
    source = ex.derived_source(config, report, experiment)
    if source is None:
        return []
    kind, earlier = source
    return paths.stage_file(report, earlier, f"{kind}.json")


def rank_metric(wildcards):
    return search.rank_metric(experiment_config(wildcards))


def coarse_experiment(wildcards):
    """The stage (grid, random search or refine) a refined search takes its ranges from."""
    return experiment_config(wildcards)["refine"]["from"]


def refine_margins(wildcards):
    """What a fine range depends on: which stage, which rule, how many best points, how much margin or factor
    (as the report file gives them: a default left out keeps the params of a file written before it)."""
    refine = experiment_config(wildcards)["refine"]
    return {k: refine[k] for k in ("from", "rule", "top", "margin", "factor") if k in refine}


def coarse_search_table(wildcards):
    return paths.search_table(wildcards.report, coarse_experiment(wildcards))


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
    return paths.search_range(wildcards.report, source) if "refine" in experiments_of(wildcards.report)[source] else []


def coarse_rank_metric(wildcards):
    """The column the stage refined ranks its points by: its best points are the refine's."""
    return search.rank_metric(experiments_of(wildcards.report)[coarse_experiment(wildcards)])


# ---- Figures ----------------------------------------------------------------


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
    return [paths.search_table(wildcards.report, e) for e in search_stages(wildcards.report, wildcards.experiment)]


def first_seed_outputs(name):
    """Input function: per run of an experiment, one file of its first seed's outputs."""

    def inputs(wildcards):
        seed = ex.seeds_of(config, experiment_config(wildcards))[0]
        return [
            paths.model_file(wildcards.report, wildcards.experiment, run, seed, name)
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


# ---- Gradient checks and the report -------------------------------------------


def gradcheck_losses(assignment):
    """The losses an assignment's gradient check covers: its config's, then every other loss a run of its
    reports in the PDF trains with (an SVM report of Assignment 1 gets the hinge checked)."""
    losses = list(config["gradcheck"][assignment]["losses"])
    for (report, _), runs in RUNS.items():
        if report in IN_ALL and config["reports"][report]["assignment"] == assignment:
            losses += [s["loss"] for s in runs.values() if s["loss"] not in losses]
    return losses


def gradcheck_specs(wildcards):
    """Every (check, loss) of an assignment's gradient check, its defaults applied."""
    gc = config["gradcheck"][wildcards.assignment]
    return [
        {**gc["defaults"], **check, "name": name, "loss": loss}
        for name, check in gc["checks"].items()
        for loss in gradcheck_losses(wildcards.assignment)
    ]


def gradcheck_split(wildcards):
    return paths.split_arrays(config["gradcheck"][wildcards.assignment].get("split", "batch1"))


def template_texts():
    """{name: text} of the report's Jinja2 templates: a param, so that only an edit rebuilds the report."""
    return {
        Path(p).name: Path(p).read_text(encoding="utf-8")
        for p in sorted(glob.glob(f"{workflow.basedir}/report/*.tex.j2"))
    }


# ---- Published numbers read from training histories --------------------------


def published_histories():
    """{history.csv: '<report>/<experiment>/<run>'} of the runs a published number of the PDF's reports is
    read from at an epoch or update (``at``): the scorecard's inputs."""
    return targets.published_histories(config, IN_ALL)
