"""Re-read every result, name each damaged file with the command that rebuilds it, each model whose
record disagrees with today's config and code, and each result the run should have made that is missing.

    python -m dd2424.verify [DIR] [--configfile F ...] [--config K=V ...]
    (or: make verify VERIFY_ARGS="--configfile F")

Snakemake reruns a job when an output is missing or older than its
inputs, never when an output is damaged after the fact (a disk that
filled, a copy cut short, an edit by hand), and a damaged result that no
job reads again would sit in results/ unnoticed.  This reads every file
under ``DIR/results`` (and the unpacked batches under
``DIR/resources/cifar-10``) the way its readers do, checks that a run's
files agree with each other (the history's last row is the final one of
metrics.json; the predictions give its test accuracy), and prints one
line per damaged file with ``snakemake --force <file>``.  Exit status 1
if anything is damaged, stale or missing.

A result can also be whole but *stale*: trained with another spec or other
code than today's config would train it (a report file edited while
``.snakemake/`` was lost, a results folder copied from elsewhere).  With the
run's own ``--configfile`` and ``--config`` options, every model's
metrics.json and every split's stats.json is compared with today's job (``dd2424.pipeline.records``) and
each disagreement is named; the next run retrains exactly those.  And a result can be *missing*: removed by
hand, or by Snakemake itself when a job that would have remade it failed; every file the default target
builds with those options is looked for, and those that do not exist are named by report.

Every path printed is relative to DIR (the run's working directory, the one positional argument), and every
command printed is the run's own: its directory and config options included.
"""

import argparse
import csv
import json
import math
import sys
from pathlib import Path

import numpy as np

import dd2424
from dd2424.pdf.filters import count_of
from dd2424.pdf.latex import BUILD_PREFIX
from dd2424.pipeline import experiments, paths, records, results, targets, training, workflow_config
from dd2424.pipeline.checks import ConfigError
from dd2424.pipeline.configuration import ConfigFileError
from dd2424.pipeline.reports import ReportError
from dd2424.util import clock, damaged, rerun, sourcecode
from dd2424.util.atomic import is_partial

PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def _json(path):
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        return f"not valid JSON ({e})"


def _csv(path):
    text = path.read_text(encoding="utf-8", errors="replace")
    if not text.endswith("\n"):
        return "cut short: its last line is incomplete"
    rows = list(csv.reader(text.splitlines()))
    widths = {len(row) for row in rows if row}
    if len(widths) > 1:
        return f"rows of {sorted(widths)} fields: one is incomplete or damaged"


def _png(path):
    blob = path.read_bytes()
    if not blob.startswith(b"\x89PNG") or not blob.endswith(PNG_END):
        return "not a whole PNG image (cut short or damaged)"


def _pdf(path):
    blob = path.read_bytes()
    if not blob.startswith(b"%PDF") or b"%%EOF" not in blob[-1024:]:
        return "not a whole PDF (cut short or damaged)"


def _tex(path):
    if "\\end{document}" not in path.read_text(encoding="utf-8", errors="replace")[-200:]:
        return "cut short: it does not end with \\end{document}"


def _reader(read):
    """A check from one of dd2424.pipeline.results' readers, which raise CorruptResult."""

    def check(path):
        try:
            read(path)
        except damaged.CorruptResult as e:
            return e.problem

    return check


BY_NAME = {
    "metrics.json": _reader(results.read_metrics),
    "history.csv": _reader(results.read_history),
    "model.npz": _reader(training.load_model),
    "predictions.npz": _reader(results.load_predictions),
}
BY_SUFFIX = {
    ".npy": damaged.npy_problem,
    ".json": _json,
    ".csv": _csv,
    ".png": _png,
    ".pdf": _pdf,
    ".tex": _tex,
}


def file_problem(path):
    """What is wrong with one result file, or None (also for kinds it does not know)."""
    path = Path(path)
    if path.stat().st_size == 0:
        return "empty (0 bytes)"
    check = BY_NAME.get(path.name) or BY_SUFFIX.get(path.suffix)
    return check(path) if check else None


def run_problems(run_dir):
    """Disagreements between the four files of one trained model, each as (file, problem)."""
    run_dir = Path(run_dir)
    try:
        metrics = results.read_metrics(run_dir / "metrics.json")
        history = results.read_history(run_dir / "history.csv")
        y_true, y_pred, _ = results.load_predictions(run_dir / "predictions.npz")
    except (damaged.CorruptResult, OSError):
        return []  # named file by file already
    found = []
    last = history.iloc[-1]
    # (its rows against its schedule: results.read_history, which every reader of a history calls)
    if not metrics.get("diverged"):
        val = metrics.get("val_accuracy")
        if val is not None and math.isfinite(val) and not math.isclose(last["val_accuracy"], val, abs_tol=1e-6):
            found.append(
                (
                    run_dir / "history.csv",
                    f"its last validation accuracy {last['val_accuracy']} is not the final {val} of metrics.json",
                )
            )
        accuracy = float(np.mean(y_true == y_pred)) if len(y_true) else float("nan")
        if not math.isclose(accuracy, metrics["test_accuracy"], abs_tol=1e-6):
            found.append(
                (
                    run_dir / "predictions.npz",
                    f"its test accuracy {accuracy:.4f} is not the {metrics['test_accuracy']:.4f} of metrics.json",
                )
            )
    return found


def verify(root="."):
    """(number of files read, [(damaged file relative to root, its problems)], [leftovers of interrupted writes])."""
    root = Path(root)
    markers = root / Path(paths.job_marker("x")).parent  # empty files whose times alone matter
    files = sorted(
        p
        for top in ("results", "resources/cifar-10")
        if (root / top).is_dir()
        for p in (root / top).rglob("*")
        if markers not in p.parents
    )
    leftovers = [p for p in files if is_partial(p) or p.name.startswith(BUILD_PREFIX)]
    damaged, checked = [], 0
    for path in files:
        if not path.is_file() or is_partial(path) or BUILD_PREFIX in str(path):
            continue
        checked += 1
        problem = file_problem(path)
        if problem:
            damaged.append((path, problem))
        if path.name == "metrics.json":
            damaged.extend(run_problems(path.parent))
    by_file = {}  # one entry per file, its problems joined
    for path, problem in damaged:
        by_file.setdefault(path.relative_to(root), []).append(problem)
    return (
        checked,
        [(p, "; ".join(problems)) for p, problems in by_file.items()],
        [p.relative_to(root) for p in leftovers],
    )


# The checkout whose code a run here would train with (the Snakefile refuses any other installed dd2424).
CHECKOUT = Path(dd2424.__file__).resolve().parents[2]


def compare(root, configfiles=(), config_args=(), basedir=CHECKOUT):
    """``(missing, not_built, stale)`` for the results under ``root`` against a run with these options today.

    ``missing``: ``{report: (its files that do not exist, how many it has in all)}`` for each report that
    has results (a model or its summary) and lacks some of the files the default target leaves
    (``targets.default_outputs``): removed by hand, by Snakemake when a job that would have remade them
    failed, or never built (a part of a report built alone).  ``not_built``: ``{report or "": [file]}``,
    the reports that have no result yet ("" for the summary and the PDF).  Paths are relative to ``root``.
    ``stale``: ``[(job, why)]``, the splits and training jobs whose existing results were made with another
    spec or other code (``records.stale_splits``, ``records.stale_jobs``).

    Raises what ``workflow_config.load`` raises for a config the run itself would refuse."""
    config = workflow_config.load(basedir, configfiles, config_args, root).config
    runs = experiments.all_static_runs(config)
    expected = targets.default_outputs(config, runs)
    # A report has results once one of its models or its summary exists: not a split or a gradient check,
    # which it shares with the other reports of its assignment.
    started = [
        r
        for r in experiments.reports_in_all(config)
        if (root / paths.report_summary(r)).exists()
        or any(
            (root / f).exists()
            for e in experiments.experiments_of(config, r)
            for f in targets.run_outputs(config, runs, r, e)
        )
    ]
    missing, not_built = {}, {}
    for f, owners in expected.items():
        mine = [r for r in owners if r in started]
        if mine:
            have, total = missing.get(mine[0], ([], 0))
            missing[mine[0]] = (have + ([f] if not (root / f).exists() else []), total + 1)
        elif not (root / f).exists():
            not_built.setdefault(owners[0] if owners else "", []).append(f)
    missing = {r: (files, total) for r, (files, total) in missing.items() if files}
    jobs = experiments.training_jobs(config, runs)
    split_digest = sourcecode.workflow_script_digest(basedir, "split.py")
    splits = [
        (f"split (split {name}, and every training job on it)", why)
        for name, why in records.stale_splits(config, split_digest, root)
    ]
    digest = sourcecode.workflow_script_digest(basedir, "train.py")
    stale = splits + [(job["name"], why) for job, why in records.stale_jobs(config, jobs, digest, root)]
    return missing, not_built, stale


def arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m dd2424.verify", description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", default=".", help="the run's working directory (default: .)")
    parser.add_argument(
        "--configfile", nargs="+", action="extend", default=[], help="the run's --configfile options, in order"
    )
    parser.add_argument("--config", nargs="+", action="extend", default=[], help="the run's --config K=V options")
    return parser.parse_args(argv)


MISSING_SHOWN = 10  # files named per report: the count says how many more


def snakemake_command(args, *more):
    """The snakemake command line of the run in ``args.directory`` with its own config options."""
    return rerun.command(*more, run=rerun.run_of(CHECKOUT, args.directory, args.configfile, args.config))


def main(argv=None):
    args = arguments(sys.argv[1:] if argv is None else argv)
    root = Path(args.directory)
    checked, damaged, leftovers = verify(root)
    for path, problem in damaged:
        print(f"DAMAGED {path}: {problem}\n  rebuild: {snakemake_command(args, '--force', str(path))}")
    for path in leftovers:
        print(f"leftover of an interrupted write (safe to delete): {path}")
    print(f"{count_of(checked, 'file')} read, {len(damaged)} damaged")
    # Snakemake would refuse to run on (and before this check, delete the outputs after) a file from the future.
    future = clock.future_problem([root / "resources", root / "results"])
    if future:
        print(f"FUTURE: {future}")
    try:
        missing, not_built, stale = compare(root, [Path(f).resolve() for f in args.configfile], args.config)
    except (ConfigFileError, ReportError, ConfigError) as error:
        print(f"The config cannot be read, so no result was compared with it:\n{type(error).__name__}: {error}")
        return 1
    options = [*(f"--configfile {f}" for f in args.configfile), *(f"--config {c}" for c in args.config)]
    config = " ".join(options) or "config.yaml alone"
    for report, (files, total) in missing.items():
        print(
            f"report {report}: {len(files)} of its {count_of(total, 'file')} missing; its target builds them: "
            + snakemake_command(args, experiments.rule_name(report))
        )
        for path in files[:MISSING_SHOWN]:
            print(f"MISSING {path}")
        if len(files) > MISSING_SHOWN:
            print(f"  and {len(files) - MISSING_SHOWN} more of report {report}")
    n_missing = sum(len(files) for files, _ in missing.values())
    print(f"{count_of(n_missing, 'file')} missing of reports that have results (with {config})")
    for report, files in not_built.items():
        what = f"report {report} is not built yet" if report else "not built yet"
        print(f"({what}: {count_of(len(files), 'file')}, such as {files[0]})")
    for name, why in stale:
        print(f"STALE {why}\n  its job {name} reruns in the next run")
    print(f"{count_of(len(stale), 'job')} whose results today's config and code ({config}) would make otherwise")
    if damaged:
        files = sorted({str(p) for p, _ in damaged})
        print(
            f"To rebuild the damaged files:\n  {snakemake_command(args, '--force', *files)}\n"
            "then the run's own command again, which reruns what depends on them."
        )
    if stale and not (args.configfile or args.config):
        print(
            "These results disagree with config.yaml alone. If the run that made them had --configfile or --config "
            'options, give them (make verify VERIFY_ARGS="--configfile my.yaml"): a run without them would retrain '
            "every result named STALE."
        )
    elif stale:
        print(f"The run's own command makes the stale results again: {snakemake_command(args)}")
    return 1 if damaged or stale or missing or future else 0


if __name__ == "__main__":
    sys.exit(main())
