"""What each target builds, and what the PDF reads: lists of results files computed from the config at parse
time (``runs``: ``{(report, experiment): {run: spec}}``, ``experiments.static_runs`` of every experiment)."""

from . import experiments as ex
from . import paths


def run_outputs(config, runs, report, experiment, name="metrics.json"):
    """One file of every model of an experiment, run by run and seed by seed."""
    exp = ex.experiments_of(config, report)[experiment]
    return [
        paths.model_file(report, experiment, run, seed, name)
        for run in runs[(report, experiment)]
        for seed in ex.seeds_of(config, exp)
    ]


def all_model_files(config, runs, report):
    """Every file of every model: a target asking for them all retrains a model any of whose files is gone."""
    return [
        f
        for e in ex.experiments_of(config, report)
        for name in paths.MODEL_FILES
        for f in run_outputs(config, runs, report, e, name)
    ]


def search_experiments(config, report):
    return [e for e, exp in ex.experiments_of(config, report).items() if ex.experiment_kind(exp) in ex.SEARCH_KINDS]


def ensemble_experiments(config, report):
    return [e for e, exp in ex.experiments_of(config, report).items() if ex.builds_ensemble(config, exp)]


def refine_experiments(config, report):
    return [e for e, exp in ex.experiments_of(config, report).items() if "refine" in exp]


def figure_files(config, report):
    """{'<report>/<experiment>/<kind>': png} of every figure the PDF shows of a report.

    Runs experiments get their training curves and searches their plot; the
    others are those an experiment asks for (``figures``).
    """
    files = {}
    for experiment, exp in ex.experiments_of(config, report).items():
        kind = ex.experiment_kind(exp)
        for figure in ["curves" if kind == "runs" else "search"] + exp.get("figures", []):
            files[f"{report}/{experiment}/{figure}"] = paths.figure(report, experiment, figure)
    return files


def search_outputs(config, report):
    return [paths.search_table(report, e) for e in search_experiments(config, report)] + [
        paths.search_range(report, e) for e in refine_experiments(config, report)
    ]


def gradcheck_tables(config, report):
    """The gradient-check table of a report's assignment, if it has one."""
    a = config["reports"][report]["assignment"]
    return [paths.gradcheck_table(a)] if a in config["gradcheck"] else []


def report_files(config, reports):
    """The results the PDF reads, by kind, each as {'<report>/<experiment>': path} (gradient checks: by
    assignment)."""
    files = {"search": {}, "best": {}, "range": {}, "ensemble": {}, "figure": {}, "gradcheck": {}}
    for r in reports:
        for e in search_experiments(config, r):
            files["search"][f"{r}/{e}"] = paths.search_table(r, e)
            files["best"][f"{r}/{e}"] = paths.best_point(r, e)
        for e in refine_experiments(config, r):
            files["range"][f"{r}/{e}"] = paths.search_range(r, e)
        for e in ensemble_experiments(config, r):
            files["ensemble"][f"{r}/{e}"] = paths.ensemble_table(r, e)
        files["figure"].update(figure_files(config, r))
        a = config["reports"][r]["assignment"]
        if a in config["gradcheck"]:
            files["gradcheck"][a] = paths.gradcheck_table(a)
    return files


def published_histories(config, reports):
    """{history.csv: '<report>/<experiment>/<run>'} of every seed of every run a published entry of ``reports``
    reads ``at`` an epoch or update (the scorecard's inputs), in the order of the entries."""
    files = {}
    for r in reports:
        for entry in config["reports"][r].get("published", []):
            if "at" in entry:
                experiment, run = entry["target"].split("/")
                for seed in ex.seeds_of(config, ex.experiments_of(config, r)[experiment]):
                    files[paths.model_file(r, experiment, run, seed, "history.csv")] = f"{r}/{experiment}/{run}"
    return files


def report_outputs(config, runs, report):
    """Everything one report's target builds: its assignment's gradient check, models, searches, ensembles,
    figures."""
    return (
        gradcheck_tables(config, report)
        + [paths.report_summary(report)]
        + all_model_files(config, runs, report)
        + search_outputs(config, report)
        + [paths.ensemble_table(report, e) for e in ensemble_experiments(config, report)]
        + list(figure_files(config, report).values())
    )


def assignment_outputs(config, runs, assignment):
    """Everything the target named after an assignment builds: each of its reports."""
    return [f for r in ex.reports_of(config, assignment) for f in report_outputs(config, runs, r)]


def default_outputs(config, runs):
    """``{file: the reports it belongs to}``: every file the default target (``all``) leaves under results/,
    in build order: each split the included reports train on (belonging to each of them), every report's
    outputs (``report_outputs``), then the summary and the PDF (belonging to none: they gather them all).
    ``make verify`` names those that are missing."""
    reports = ex.reports_in_all(config)
    files = {}
    for r in reports:
        for e in ex.experiments_of(config, r):
            for split in {spec["split"] for spec in runs[(r, e)].values()}:
                for f in [*paths.split_arrays(split), paths.split_stats(split)]:
                    files[f] = files.get(f, ()) + ((r,) if r not in files.get(f, ()) else ())
    for r in reports:
        files.update(dict.fromkeys(report_outputs(config, runs, r), (r,)))
    files.update(dict.fromkeys([paths.summary(), paths.report_pdf()], ()))
    return files
