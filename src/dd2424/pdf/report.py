"""The PDF report: a context built from results/, Jinja2 LaTeX templates, latexmk."""

import os
import shutil
from pathlib import Path

import pandas as pd

from dd2424.pipeline.scorecard import TOLERANCES, by_experiment, published_entries, read_scorecard, totals
from dd2424.util import atomic

from . import latex
from .filters import environment
from .provenance import training_arithmetic
from .sections import parts_context

# The Debian packages the PDF needs; the Makefile installs the same list.
TEX_PACKAGES = Path(__file__).with_name("tex-packages.txt").read_text(encoding="utf-8").strip()


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
    overflows = latex.page_overflows(tex_path.with_suffix(".log").read_text(encoding="latin-1", errors="replace"))
    if overflows:
        with open(log_path, "a", encoding="utf-8") as log:
            log.write("warning: something runs off its page in the PDF:\n" + "\n".join(overflows) + "\n")


def diverged_runs(summary):
    """Every run with a diverged seed or search point, in any experiment: how many of how many."""
    flags = summary.assign(diverged=summary.diverged.fillna(False).astype(bool))
    grouped = flags.groupby(["report", "experiment", "run"], sort=False).diverged.agg(["sum", "count"])
    return [
        {"report": a, "experiment": e, "run": r, "diverged": int(row["sum"]), "seeds": int(row["count"])}
        for (a, e, r), row in grouped.iterrows()
        if row["sum"] > 0
    ]


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
        "seeds": config["seeds"][:1] if config.get("preview") else config["seeds"],
        "preview": config.get("preview"),
        "provenance": provenance_info,
        "arithmetic": training_arithmetic(summary, provenance_info["benchmarks"], provenance_info["gemm"]["gflops"]),
    }
