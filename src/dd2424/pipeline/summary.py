"""Tables of trained models: one row per run x seed, and mean ± std over seeds."""

import numpy as np
import pandas as pd

from dd2424.nn.spec import hidden_label, summary_columns

from .results import read_metrics

ID = ["assignment", "report", "experiment", "run", "seed"]
# The run-spec keys summary.csv has a column for (``run_spec.yaml``: summary).
HYPER = summary_columns()
RESULTS = [f"{part}_{m}" for part in ("train", "val", "test") for m in ("accuracy", "loss", "cost")] + [
    # during training (runs with curves, searches ranked by it): empty for a search point's final figures alone
    "best_val_accuracy",
    "best_val_epoch",
    "best_val_update",
    "diverged",
    "train_images",
    "val_images",
    "updates",
    "epochs_trained",
    "train_seconds",
    "eval_seconds",
    "samples_per_s",
    "stack_size",
]


def from_metrics(paths):
    rows = []
    for path in paths:
        m = read_metrics(path)
        m["hidden"] = hidden_label(m["hidden"])
        rows.append(m)
    table = pd.DataFrame(rows)
    # reindex: metrics written by an older version may lack a newer column.
    return table.reindex(columns=ID + HYPER + RESULTS).sort_values(ID, kind="stable").reset_index(drop=True)


def aggregate(table, by=("experiment", "run"), metrics=("test_accuracy", "val_accuracy", "train_accuracy")):
    """Mean, std and count over seeds for each (experiment, run)."""
    grouped = table.groupby(list(by), sort=False)
    out = grouped[list(metrics)].agg(["mean", "std", "count"])
    out.columns = [f"{m}_{s}" for m, s in out.columns]
    return out.reset_index()


def mean_std(mean, std, n, scale=100, digits=2):
    """'39.10 ± 0.21' as a percentage; one seed gives no spread to show."""
    if mean is None or not np.isfinite(mean):
        return "--"
    if n is None or n < 2 or not np.isfinite(std):
        return f"{mean * scale:.{digits}f}"
    return f"{mean * scale:.{digits}f} ± {std * scale:.{digits}f}"
