"""The table of trained models: one row per model (run x seed) read from their metrics.json, the rows of
summary.csv and of every search table.  Kept apart from the summary's statistics (``summary``) because
search tables, whose best points later runs train from, are built with it: only an edit of this module's
code retrains those runs."""

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
    "blas_threads",
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
