"""Search bookkeeping: rank sampled points, pick the best, derive a finer range."""

import math


def ranked(table, metric="val_accuracy"):
    return table.sort_values(metric, ascending=False, kind="stable").reset_index(drop=True)


def refine_ranges(table, coarse_ranges, top, margin, metric="val_accuracy"):
    """Ranges around the ``top`` best points of a coarse search.

    For each searched key: from the smallest to the largest value among the
    best points, widened by ``margin`` (in log10 units for log10 keys) on
    each side and kept inside the coarse range.
    """
    best = ranked(table, metric).head(top)
    ranges = {}
    for key, r in coarse_ranges.items():
        log = r.get("scale", "log10") == "log10"
        values = [math.log10(v) if log else v for v in best[key]]
        ranges[key] = {
            "low": max(r["low"], min(values) - margin),
            "high": min(r["high"], max(values) + margin),
            "scale": "log10" if log else "linear",
        }
    return ranges
