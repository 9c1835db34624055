"""The summary's statistics over seeds: mean ± std of a run's models (the rows of ``table``), for the PDF."""

import numpy as np


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
