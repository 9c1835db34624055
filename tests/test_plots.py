"""Figures drawn from made-up results: what each bar or marker stands for."""

import numpy as np
import pytest

from dd2424.pdf.plots import run_bars, scorecard_figure


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
