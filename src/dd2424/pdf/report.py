"""The PDF report: a context built from results/, Jinja2 LaTeX templates, latexmk."""

import glob
import math
import os
import platform
import shutil
import unicodedata
import warnings
from importlib import metadata
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd

from dd2424.data.cifar import N_CLASSES, D
from dd2424.nn.arithmetic import useful_flop_per_sample
from dd2424.nn.spec import hidden_from_label, keys
from dd2424.pipeline.quantities import kind_of, label
from dd2424.pipeline.scorecard import TOLERANCES, at_words, by_experiment, published_entries, read_scorecard, totals
from dd2424.util import atomic

from . import latex, texescape
from .sections import parts_context

# The Debian packages the PDF needs; the Makefile installs the same list.
TEX_PACKAGES = Path(__file__).with_name("tex-packages.txt").read_text(encoding="utf-8").strip()


def tex(value):
    """Any text as LaTeX (dd2424.pdf.texescape): specials escaped, Greek and maths as symbols, '±' as $\\pm$.

    A character no font here can show becomes a boxed placeholder that
    LaTeX reports in its log; it is reported here too, as a warning.
    """
    for char in texescape.unshown(value):
        warnings.warn(
            f"U+{ord(char):04X} ({unicodedata.name(char, 'unnamed')}) in {str(value)!r} cannot be typeset; "
            "the PDF shows a placeholder",
            stacklevel=2,
        )
    return texescape.latex_text(value)


def pct(value, digits=2):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "--"
    return f"{100 * value:.{digits}f}"


def fixed(value, digits=3):
    """A loss or cost to ``digits`` decimals; a missing figure (no validation set, a diverged run) as "--"."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "--"
    return f"{value:.{digits}f}"


def seconds(value):
    """A training time in seconds: one decimal from 10 s (32.4, 1234.5), two significant digits below (3.2,
    0.045: a toy run's); a missing one as "--"."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "--"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2g}"


def num(value, digits=3):
    """Compact number: 0.001 -> 0.001, 1.5e-05 -> 1.5e-05, 0.0 -> 0."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "--"
    return f"{value:.{digits}g}"


def symbol(key):
    """A hyper-parameter's name as the assignments write it."""
    declared = keys().get(key, {})
    return declared.get("symbol") or label(key) or tex(key)


def mnum(value, digits=3):
    """A number in LaTeX, in text or math mode: 2.5e-05 -> 2.5 x 10^{-5} (in \\ensuremath)."""
    text = num(value, digits)
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    power = f"10^{{{int(exponent)}}}"
    return "\\ensuremath{" + (power if mantissa == "1" else f"{mantissa} \\times {power}") + "}"


def environment(templates):
    """Jinja2 with LaTeX-friendly delimiters; ``templates`` is a directory or ``{name: text}``
    (the workflow passes their text, so that only a change of content rebuilds the report)."""
    loader = jinja2.DictLoader(templates) if isinstance(templates, dict) else jinja2.FileSystemLoader(templates)
    env = jinja2.Environment(
        loader=loader,
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
        fixed=fixed,
        seconds=seconds,
        mnum=mnum,
        log10=lambda v: f"{math.log10(v):.3f}" if v and v > 0 else "--",
        symbol=symbol,
        score=score,
        score_difference=score_difference,
        prose=prose,
        heading=heading,
        setting=setting,
        kind=kind_of,
        at=at_words,
    )
    return env


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
    """Per report (and in all): the useful training TFLOP of its models
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
    for part, models in summary.groupby("report", sort=False):
        flop = sum(
            m.updates * m.n_batch * useful_flop_per_sample([D, *hidden_from_label(m.hidden), N_CLASSES])
            for m in models.itertuples()
        )
        seconds = sum(b["seconds"] for b in benchmarks if b["group"].startswith(f"{part}/"))
        parts.append((part, len(models), flop, seconds))
    total = row("in all", *(sum(p[i] for p in parts) for i in (1, 2, 3)))
    return {"parts": [row(*p) for p in parts], "total": total}


def render(templates, context, out):
    env = environment(templates)
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
    with open(log_path, "a", encoding="utf-8") as log:
        built = latex.build(tex_path, pdf_path, log)
    if not built:
        raise SystemExit(f"latexmk failed on {tex_path}; see {log_path} and {tex_path.with_suffix('.log')}")


def score(value, kind, digits=2):
    """A scorecard number as its kind is read: accuracies in %, losses, hyper-parameters, errors, seconds."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "--"
    if kind == "accuracy":
        return f"{100 * value:.{digits}f}"
    if kind == "loss":
        return f"{value:.3f}"
    if kind == "time":
        return seconds(value)
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


def diverged_runs(summary):
    """Every run with a diverged seed or search point, in any experiment: how many of how many."""
    flags = summary.assign(diverged=summary.diverged.fillna(False).astype(bool))
    grouped = flags.groupby(["report", "experiment", "run"], sort=False).diverged.agg(["sum", "count"])
    return [
        {"report": a, "experiment": e, "run": r, "diverged": int(row["sum"]), "seeds": int(row["count"])}
        for (a, e, r), row in grouped.iterrows()
        if row["sum"] > 0
    ]


def heading(text):
    """A section title: typeset as ``tex`` would, and in the PDF's bookmarks as the text itself
    (hyperref takes Unicode there; only TeX's specials are escaped)."""
    bookmark = "".join(texescape.SPECIALS.get(c, c) for c in str(text))
    return f"\\texorpdfstring{{{tex(text)}}}{{{bookmark}}}"


def prose(text):
    """Text from a report or config file for LaTeX: escaped, except mathematics between $...$ kept as written."""
    pieces = str(text).split("$")
    if len(pieces) % 2 == 0:  # an odd number of $: no mathematics, every $ is text
        return tex(text)
    return "".join(f"${piece}$" if i % 2 else tex(piece) for i, piece in enumerate(pieces))


def setting(value, key=None):
    """A hyper-parameter's value in a table or a settings line: numbers compact, flags as yes/no."""
    declared = keys().get(key, {})
    boolean = declared.get("schema", {}).get("type") == "boolean"
    if isinstance(value, bool) or boolean and value in (0, 1):
        return "yes" if value else "no"
    if isinstance(value, str) and value in declared.get("labels", {}):
        return declared["labels"][value]
    if isinstance(value, (list, tuple)):
        return tex("-".join(map(str, value)) or "none")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and value.is_integer() and abs(value) >= 1:
            return str(int(value))
        return mnum(value, 4)
    return tex(value)


def build_context(config, reports, summary_path, scorecard_path, files, report_dir, provenance_info):
    """Everything the templates show: the scorecard, a part per assignment, provenance and arithmetic.

    ``reports``: the ids the PDF includes; ``files``: the results it reads by
    kind (search, best, range, figure, gradcheck), each ``{id: path}``.
    """
    summary = pd.read_csv(summary_path)
    searches = {key: pd.read_csv(path) for key, path in files["search"].items()}
    gradchecks = {a: pd.read_csv(path) for a, path in files["gradcheck"].items()}
    rows = read_scorecard(scorecard_path)
    overall, per_report = totals(rows)
    entries = published_entries({r: config["reports"][r] for r in reports})
    return {
        "scorecard": {
            "rows": rows,
            "groups": by_experiment(rows),
            "overall": overall,
            "per_report": per_report,
            "tolerances": TOLERANCES,
            "figure": os.path.relpath(Path(files["scorecard_figure"]).resolve(), Path(report_dir).resolve()),
        },
        "reports": {r: {"title": config["reports"][r]["title"], "file": config["reports"][r]["file"]} for r in reports},
        "parts": parts_context(
            config, reports, summary, files, searches, entries, gradchecks, report_dir, provenance_info["benchmarks"]
        ),
        "n_models": len(summary),
        "diverged": diverged_runs(summary),
        "gradcheck_bar": config["gradcheck"]["max_rel_error"],
        "seeds": config["seeds"],
        "provenance": provenance_info,
        "arithmetic": training_arithmetic(summary, provenance_info["benchmarks"], provenance_info["gemm"]["gflops"]),
    }
