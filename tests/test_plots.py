"""Figures drawn from made-up results: what each bar or marker stands for."""

import shutil

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from dd2424.pdf import latex
from dd2424.pdf.filters import environment
from dd2424.pdf.plots import MAX_CURVE_ROWS, run_bars, scorecard_figure, training_curves


def test_the_bar_figure_has_a_bar_per_run_at_the_mean_over_seeds_with_the_std_as_error_bar(tmp_path):
    """Runs in the report file's order; test accuracy in % (an error bar only where there are two seeds or
    more), training seconds (hatched where the time is a whole stack's)."""
    runs = {
        "mlp": {"test_accuracy": [0.50, 0.54], "train_seconds": [30.0, 34.0], "stack_size": [1, 1]},
        "patchify": {"test_accuracy": [0.61, 0.63, 0.65], "train_seconds": [90.0, 96.0, 93.0], "stack_size": [1] * 3},
        "one_seed": {"test_accuracy": [0.40], "train_seconds": [12.0], "stack_size": [4]},
    }
    out = tmp_path / "bars.png"
    accuracy, seconds = run_bars(runs, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [b.get_height() for b in accuracy] == pytest.approx([52.0, 63.0, 40.0])
    assert [b.get_height() for b in seconds] == pytest.approx([32.0, 93.0, 12.0])
    ticks = [t.get_text() for t in accuracy[0].axes.get_xticklabels()]
    assert ticks == ["mlp", "patchify", "one_seed"]
    # the error bars: one per run with a spread (std over seeds, ddof 1), none for the run of one seed
    (errors,) = [c for c in accuracy[0].axes.containers if c not in (accuracy,)]
    (segments,) = errors.lines[2]
    spans = [abs(s[1][1] - s[0][1]) / 2 for s in segments.get_segments()]
    assert spans == pytest.approx([np.std([50, 54], ddof=1), np.std([61, 63, 65], ddof=1)])
    assert [b.get_hatch() for b in seconds] == [None, None, "//"]
    assert [t.get_text() for t in seconds[0].axes.texts] == ["stack of 4"]


def test_the_scorecard_figure_shows_a_training_time_in_a_panel_of_its_own(tmp_path):
    """A "shown" verdict (not scored) has its marker and its panel; the scored ones theirs."""
    rows = [
        {"report": "r", "kind": "accuracy", "value": 0.4, "ours": {"mean": 0.41}, "verdict": "reproduced"},
        {"report": "r", "kind": "time", "value": 60.0, "ours": {"mean": 12.0}, "verdict": "shown"},
        {"report": "r", "kind": "time", "value": 60.0, "ours": None, "verdict": "not run"},
    ]
    out = tmp_path / "scorecard.png"
    fig = scorecard_figure(rows, out)
    assert out.stat().st_size > 1000
    accuracy, time = fig.axes
    assert (accuracy.get_title(), time.get_title()) == ("accuracies (%)", "training times (s)")
    (marker,) = time.collections
    assert marker.get_offsets().tolist() == [[60.0, 12.0]] and time.get_xscale() == "log"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["r", "reproduced", "missed", "shown"]


def _histories(n_runs, seeds=2):
    rng = np.random.default_rng(0)
    epochs = np.arange(6)
    out = {}
    for r in range(n_runs):
        out[f"run{r}"] = [
            pd.DataFrame(
                {
                    "epoch": epochs,
                    **{
                        f"{part}_{m}": 2.3 * np.exp(-epochs / 3) + rng.uniform(0, 0.1, 6)
                        for part in ("train", "val")
                        for m in ("cost", "loss")
                    },
                    "train_accuracy": 0.1 + 0.1 * epochs,
                    "val_accuracy": 0.1 + 0.08 * epochs + 0.001 * r,
                }
            )
            for _ in range(seeds)
        ]
    return out


@pytest.mark.parametrize("n_runs, panels", [(3, 9), (MAX_CURVE_ROWS, 3 * MAX_CURVE_ROWS), (60, 3)])
def test_the_curves_figure_keeps_its_height_whatever_the_number_of_runs(tmp_path, n_runs, panels):
    out = tmp_path / "curves.png"
    training_curves(_histories(n_runs), out)
    height, width = plt.imread(out).shape[:2]
    assert height / width <= 2.6 * MAX_CURVE_ROWS / 11 + 0.01
    if n_runs > MAX_CURVE_ROWS:  # one row of panels, a line per run, every run in the legend
        assert height / width < 0.75


def test_a_tall_figure_fits_its_page_in_the_pdf(tmp_path):
    """The figure macro scales a figure of any height to the page: LaTeX reports no overfull page and no
    float too large for it (the curves of 60 runs, one row each, were 156 inches tall)."""
    if shutil.which("latexmk") is None:
        pytest.fail("latexmk is not installed: `make test` installs TeX (or see README)")
    fig = plt.figure(figsize=(11, 60))
    fig.savefig(tmp_path / "tall.png", dpi=20)
    plt.close(fig)
    templates = {
        "macros.tex.j2": (ROOT / "report/macros.tex.j2").read_text(encoding="utf-8"),
        "doc.tex.j2": '\\BLOCK{import "macros.tex.j2" as m}\n\\documentclass{article}\n\\usepackage{graphicx}\n'
        "\\usepackage{float}\n\\usepackage{booktabs}\n\\usepackage{longtable}\n\\begin{document}\nText.\n"
        "\\VAR{m.figure('tall.png', 'A tall figure.')}\n\\end{document}\n",
    }
    tex = tmp_path / "doc.tex"
    tex.write_text(environment(templates).get_template("doc.tex.j2").render(), encoding="utf-8")
    with open(tmp_path / "latexmk.log", "w", encoding="utf-8") as log:
        assert latex.build(tex, tmp_path / "doc.pdf", log)
    assert latex.page_overflows((tmp_path / "doc.log").read_text(encoding="latin-1")) == []
