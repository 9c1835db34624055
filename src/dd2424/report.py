"""The PDF report: a context built from results/, Jinja2 LaTeX templates, latexmk."""

import glob
import json
import math
import os
import platform
import shutil
from importlib import metadata
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
import yaml

from . import atomic, latex
from .arithmetic import useful_flop_per_sample
from .experiments import assignments_in_all, experiment_kind, searched_keys, static_runs
from .scorecard import TOLERANCES, load_published, point_matches, scorecard, totals
from .summary import aggregate, hidden_from_label, mean_std

CHANCE = 0.1
# The Debian packages the PDF needs; the Makefile installs the same list.
TEX_PACKAGES = Path(__file__).with_name("tex-packages.txt").read_text().strip()
_TEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def tex(value):
    """Escape text for LaTeX; '±' becomes $\\pm$."""
    text = "".join(_TEX_SPECIALS.get(c, c) for c in str(value))
    return text.replace("±", r"$\pm$")


def pct(value, digits=2):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "--"
    return f"{100 * value:.{digits}f}"


def num(value, digits=3):
    """Compact number: 0.001 -> 0.001, 1.5e-05 -> 1.5e-05, 0.0 -> 0."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "--"
    return f"{value:.{digits}g}"


SYMBOLS = {
    "lambda": r"$\lambda$",
    "eta": r"$\eta$",
    "n_batch": r"$n_\text{batch}$",
    "momentum": r"$\rho$",
    "dropout": "dropout",
    "label_smoothing": "label smoothing",
    "translate": "translation",
    "batch_norm": "batch norm",
}


def symbol(key):
    """A hyper-parameter's name as the assignments write it."""
    return SYMBOLS.get(key, tex(key))


def mnum(value, digits=3):
    """A number in LaTeX, in text or math mode: 2.5e-05 -> 2.5 x 10^{-5} (in \\ensuremath)."""
    text = num(value, digits)
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    power = f"10^{{{int(exponent)}}}"
    return "\\ensuremath{" + (power if mantissa == "1" else f"{mantissa} \\times {power}") + "}"


def environment(template_dir):
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dir),
        block_start_string=r"\BLOCK{",
        block_end_string="}",
        variable_start_string=r"\VAR{",
        variable_end_string="}",
        comment_start_string=r"\#{",
        comment_end_string="}",
        line_comment_prefix="%#",
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(
        tex=tex,
        pct=pct,
        num=num,
        mnum=mnum,
        log10=lambda v: f"{math.log10(v):.3f}" if v and v > 0 else "--",
        symbol=symbol,
        score=score,
        score_difference=score_difference,
    )
    return env


def runs_table(summary, experiment, published_of):
    """One row per run of an experiment: its hyper-parameters, mean ± std over seeds, published."""
    table = summary[summary.experiment == experiment]
    agg = aggregate(table)
    first = table.groupby("run", sort=False).first()
    losses = ["train_loss", "val_loss", "test_loss", "test_cost"]
    means = table.groupby("run", sort=False)[losses + ["diverged"]].agg(
        {**{k: "mean" for k in losses}, "diverged": "sum"}
    )
    # A seed that ends at chance level (10 classes) stopped learning.
    at_chance = (table.test_accuracy <= CHANCE + 0.01).groupby(table.run, sort=False).sum()
    rows = []
    for _, r in agg.iterrows():
        row = first.loc[r.run].to_dict()
        row.update(
            run=r.run,
            seeds=int(r.test_accuracy_count),
            test=mean_std(r.test_accuracy_mean, r.test_accuracy_std, r.test_accuracy_count),
            val=mean_std(r.val_accuracy_mean, r.val_accuracy_std, r.val_accuracy_count),
            train=mean_std(r.train_accuracy_mean, r.train_accuracy_std, r.train_accuracy_count),
            test_mean=r.test_accuracy_mean,
            **{f"{k}_mean": means.loc[r.run, k] for k in losses},
            test_loss=means.loc[r.run, "test_loss"],
            test_cost=means.loc[r.run, "test_cost"],
            diverged=int(means.loc[r.run, "diverged"]),
            at_chance=int(at_chance.loc[r.run]),
            published=published_of(experiment, r.run),
        )
        rows.append(row)
    return rows


def benchmarks(bench_dir):
    """Wall time and peak memory per rule group, from Snakemake's benchmark files."""
    rows = {}
    for path in sorted(glob.glob(os.path.join(bench_dir, "**", "*.tsv"), recursive=True)):
        rel = Path(path).relative_to(bench_dir)
        group = "/".join(rel.parts[:2]) if len(rel.parts) > 2 else str(rel.with_suffix(""))
        b = pd.read_csv(path, sep="\t")
        entry = rows.setdefault(group, {"group": group, "jobs": 0, "seconds": 0.0, "max_rss_mb": 0.0})
        entry["jobs"] += 1
        entry["seconds"] += float(b["s"].iloc[0])
        rss = pd.to_numeric(b["max_rss"], errors="coerce").iloc[0]
        if np.isfinite(rss):
            entry["max_rss_mb"] = max(entry["max_rss_mb"], float(rss))
    return list(rows.values())


def provenance(config, commit, bench_dir, config_checksum, gemm):
    """What the report was made from; ``gemm`` is the workflow's GEMM measurement (gflops, n, threads)."""
    versions = {"python": platform.python_version()}
    for package in ("numpy", "pandas", "matplotlib", "jinja2", "snakemake", "dd2424"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    bench = benchmarks(bench_dir)
    return {
        "commit": commit,
        "config_checksum": config_checksum,
        "versions": versions,
        "data_url": config["data"]["url"],
        "data_md5": config["data"]["md5"],
        "benchmarks": bench,
        "total_seconds": sum(b["seconds"] for b in bench),
        "seeds": config["seeds"],
        "gemm": gemm,
    }


def training_arithmetic(summary, benchmarks, gemm_gflops):
    """Per assignment (and in all): the useful training TFLOP of its models
    (``arithmetic``, per trained sample), its training jobs' time (every job but
    the gradient check), the GFLOP/s those jobs reached per busy core, and that
    rate's share of a float32 GEMM on one core."""

    def row(name, models, flop, seconds):
        gflops = flop / seconds / 1e9 if seconds > 0 else math.nan
        return {
            "part": name,
            "models": models,
            "tflop": flop / 1e12,
            "seconds": seconds,
            "gflops": gflops,
            "share": gflops / gemm_gflops,
        }

    parts = []
    for part, models in summary.groupby("assignment", sort=False):
        flop = sum(
            m.updates * m.n_batch * useful_flop_per_sample(hidden_from_label(m.hidden)) for m in models.itertuples()
        )
        seconds = sum(
            b["seconds"] for b in benchmarks if b["group"].startswith(f"{part}/") and b["group"] != f"{part}/gradcheck"
        )
        parts.append((part, len(models), flop, seconds))
    total = row("in all", *(sum(p[i] for p in parts) for i in (1, 2, 3)))
    return {"parts": [row(*p) for p in parts], "total": total}


def render(template_dir, context, out):
    env = environment(template_dir)
    text = env.get_template("report.tex.j2").render(**context)
    atomic.write_text(out, text)


def build_pdf(tex_path, pdf_path, log_path):
    """latexmk the rendered .tex; a missing TeX installation is named, not a traceback."""
    if shutil.which("latexmk") is None or shutil.which("pdflatex") is None:
        raise SystemExit(
            f"latexmk/pdflatex not found: install TeX Live to build the PDF "
            f"(Debian/Ubuntu: sudo apt-get install {TEX_PACKAGES}; or run `make tex`)"
        )
    tex_path = Path(tex_path)
    # A fresh build each time: an interrupted one's latexmk state cannot block the next.
    with open(log_path, "a") as log:
        built = latex.build(tex_path, pdf_path, log)
    if not built:
        raise SystemExit(f"latexmk failed on {tex_path}; see {log_path} and {tex_path.with_suffix('.log')}")


def load_json(path):
    with open(path) as f:
        return json.load(f)


def assignment_context(config, assignment, summary, files, report_dir, published, searches):
    """Everything a section template shows for one assignment.

    ``files`` holds the results it reads, by kind (search, best, range,
    figure, gradcheck), each ``{'<assignment>/<experiment>': path}`` (figures:
    ``'<assignment>/<experiment>/<kind>'``; gradient checks: by assignment).
    """
    experiments_cfg = config["assignments"][assignment]["experiments"]
    report_dir = Path(report_dir)
    table = summary[summary.assignment == assignment]
    section = {
        "title": config["assignments"][assignment].get("title", assignment),
        "experiments": {},
        "splits": config["splits"],
    }
    gradcheck = files["gradcheck"].get(assignment)
    section["gradcheck"] = pd.read_csv(gradcheck).to_dict("records") if gradcheck else []
    for name, exp in experiments_cfg.items():
        key = f"{assignment}/{name}"
        kind = experiment_kind(exp)
        entry = {"kind": kind, "figures": {}}
        entry.update(
            source=exp.get("source", {"report": "assignment", "section": ""}),
            not_stated=exp.get("not_stated", []),
            note=exp.get("note", ""),
        )
        if kind == "runs":
            # what each run changes of the experiment's base (an ablation's removed ingredient)
            entry["overrides"] = {str(run): overrides or {} for run, overrides in exp["runs"].items()}
            entry["runs"] = runs_table(table, name, lambda e, r: published_accuracies(published, assignment, e, r))
            entry["sources"] = sorted({s for row in entry["runs"] for s in row["published"]})
            entry["published_losses"] = {
                e["target"].split("/")[2]: e["value"]
                for e in published
                if e["target"].startswith(f"{key}/") and e["quantity"] == "train_loss"
            }
        else:
            entry["search"] = searches[key].to_dict("records")
            attach_published_points(entry["search"], published, key)
            entry["published_top"] = sorted(
                (e for e in published if e["target"] == key and "rank" in e), key=lambda e: e["rank"]
            )
            entry["keys"] = searched_keys(config, assignment, name)
            if key in files["range"]:
                entry["ranges"] = load_json(files["range"][key])["ranges"]
            elif kind == "random":
                entry["ranges"] = exp["random"]["sample"]
        if "best_of" in exp:
            entry["best_of"] = load_json(files["best"][f"{assignment}/{exp['best_of']['experiment']}"])["best"]
        section["experiments"][name] = entry
    for figure_id, path in files["figure"].items():
        owner, experiment, kind = figure_id.split("/")
        if owner == assignment:
            section["experiments"][experiment]["figures"][kind] = os.path.relpath(
                Path(path).resolve(), report_dir.resolve()
            )
    return section


def best_published(published):
    """Each seed report's best published test accuracy, with where it stands."""
    best = {}
    for e in published:
        if e["quantity"] == "test_accuracy" and not e.get("bound"):
            if e["report"] not in best or e["value"] > best[e["report"]]["value"]:
                best[e["report"]] = e
    return [best[r] for r in sorted(best)]


def load_student_results(path):
    """Other students' results as quoted (network, test_accuracy, quoted_as); refused if malformed."""
    with open(path) as f:
        rows = yaml.safe_load(f) or []
    for i, row in enumerate(rows):
        missing = {"network", "test_accuracy", "quoted_as"} - set(row)
        if missing or not 0 <= row.get("test_accuracy", -1) <= 1:
            raise ValueError(f"{path}: entry {i} ({row}) needs network, quoted_as and a test_accuracy in [0, 1]")
    return rows


def published_accuracies(published, assignment, experiment, run):
    """{report: published test accuracy} of one run, for the tables beside ours."""
    target = f"{assignment}/{experiment}/{run}"
    return {e["report"]: e["value"] for e in published if e["target"] == target and e["quantity"] == "test_accuracy"}


def attach_published_points(points, published, key):
    """Give each grid point of a search its published value(s), {report: value}."""
    entries = [e for e in published if e["target"] == key and "point" in e]
    for p in points:
        p["published"] = {e["report"]: e["value"] for e in entries if point_matches(p, e["point"])}


def score(value, kind, digits=2):
    """A scorecard number as its kind is read: accuracies in %, losses, hyper-parameters, errors."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "--"
    if kind == "accuracy":
        return f"{100 * value:.{digits}f}"
    if kind == "loss":
        return f"{value:.3f}"
    if kind in ("error",):
        return mnum(value, 2)
    return mnum(value, 3)


def score_difference(row):
    """Ours against published: points or units for accuracies and losses, a ratio otherwise."""
    if row["ours"] is None or not math.isfinite(row["ours"]["mean"]):
        return "--"
    if row["kind"] in ("accuracy", "loss"):
        sign = "+" if row["difference"] >= 0 else ""
        return sign + score(row["difference"], row["kind"])
    if row["value"] == 0:
        return "--"
    return f"$\\times${row['ours']['mean'] / row['value']:.2g}"


def scorecard_context(config, summary, files, published_path, searches):
    """The scorecard's rows, its totals, and the tolerances it applies."""
    entries = load_published(published_path)
    gradchecks = {a: pd.read_csv(path) for a, path in files["gradcheck"].items()}
    rows = scorecard(entries, config, summary, searches, gradchecks, lambda a, e: static_runs(config, a, e))
    overall, per_report = totals(rows)
    return {"rows": rows, "overall": overall, "per_report": per_report, "tolerances": TOLERANCES}, entries


def diverged_runs(summary):
    """Every run with a diverged seed or search point, in any experiment: how many of how many."""
    flags = summary.assign(diverged=summary.diverged.fillna(False).astype(bool))
    grouped = flags.groupby(["assignment", "experiment", "run"], sort=False).diverged.agg(["sum", "count"])
    return [
        {"assignment": a, "experiment": e, "run": r, "diverged": int(row["sum"]), "seeds": int(row["count"])}
        for (a, e, r), row in grouped.iterrows()
        if row["sum"] > 0
    ]


def bonus_cost(config, benchmarks):
    """The bonus's training cost: its whitening splits' jobs (only the bonus whitens), its own jobs
    (``bonus/``), and the job time of those alone."""
    whitening = {f"data/split_{name}" for name, split in config["splits"].items() if split.get("zca_eps")}
    own = [b for b in benchmarks if b["group"].startswith("bonus/")]
    return {
        "whitening": [b for b in benchmarks if b["group"] in whitening],
        "jobs": own,
        "seconds": sum(b["seconds"] for b in own),
    }


def build_context(config, summary_path, files, report_dir, provenance_info, published_path, students_path):
    summary = pd.read_csv(summary_path)
    searches = {key: pd.read_csv(path) for key, path in files["search"].items()}
    card, published = scorecard_context(config, summary, files, published_path, searches)
    return {
        "students": {"seeds": best_published(published), "quoted": load_student_results(students_path)},
        "scorecard": card,
        "assignments": {
            a: assignment_context(config, a, summary, files, report_dir, published, searches)
            for a in assignments_in_all(config)
        },
        "n_models": len(summary),
        "diverged": diverged_runs(summary),
        "gradcheck_bar": config["gradcheck"]["max_rel_error"],
        "seeds": config["seeds"],
        "provenance": provenance_info,
        "bonus_cost": bonus_cost(config, provenance_info["benchmarks"]),
        "arithmetic": training_arithmetic(summary, provenance_info["benchmarks"], provenance_info["gemm"]["gflops"]),
    }
