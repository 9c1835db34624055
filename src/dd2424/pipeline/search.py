"""Search bookkeeping: rank sampled points, pick the best, derive a finer range.

A search ranks its points by ``rank_by`` (its report file): ``final``, the
validation accuracy of the final weights (``val_accuracy``), or
``best_val``, the best validation accuracy evaluated during training
(``best_val_accuracy``; the search's jobs then evaluate the validation set
every epoch, or ``evals_per_cycle`` times a cycle).  Its table, its best
point (``best_of``) and the ranges a refined search derives from it all
follow that one ranking.

A refined search's range comes from the best points of the stage it
refines by one of three rules (``refine.rule``), each on a key's log10 for
a log10 key and on its value for a linear one:

- ``span`` (default): from the smallest to the largest value of the ``top``
  best points, widened by ``margin`` on each side;
- ``best``: the single best point ± ``margin`` (``margin: 1``: a decade);
- ``factor``: [min / ``factor``, max × ``factor``] of the values of the
  ``top`` best points (log10: the span widened by log10(factor)).

The range is then kept inside the source stage's bounds (``bounds``).
"""

import math

# The column each ranking sorts by.
RANK_METRICS = {"final": "val_accuracy", "best_val": "best_val_accuracy"}
RULES = ("span", "best", "factor")
# A refine's parameters when its report file leaves them out (the schema states the same).
RULE_DEFAULTS = {"rule": "span", "top": 3, "margin": 0.25, "factor": 3.0}
# What each rule reads of them.
RULE_PARAMETERS = {"span": ("top", "margin"), "best": ("margin",), "factor": ("top", "factor")}


def rank_metric(exp):
    """The search table's column an experiment's points are ranked by (``rank_by``, default ``final``)."""
    return RANK_METRICS[exp.get("rank_by", "final")]


def ranked(table, metric="val_accuracy"):
    """The table best first by ``metric`` (ties keep their order; a missing value ranks last)."""
    return table.sort_values(metric, ascending=False, kind="stable").reset_index(drop=True)


def refine_rule(refine):
    """``{rule, <its parameters>}`` of a report file's ``refine`` entry, with the defaults filled in."""
    rule = refine.get("rule", RULE_DEFAULTS["rule"])
    return {"rule": rule, **{k: refine.get(k, RULE_DEFAULTS[k]) for k in RULE_PARAMETERS[rule]}}


def grid_bounds(grid, limits=None):
    """The bounds a range derived from a grid is kept in, per key: ``{scale, low, high}``.

    A grid samples no range.  A key whose values are all positive is taken
    in log10 and bounded only by what a run accepts (``limits``: ``{key:
    {low, high}}`` in the key's units, an end None for none, from the run
    spec's schema, ``reports.value_limits``): a best point on the grid's
    edge may be refined beyond it, but a dropout rate not to 1 or beyond.
    A key with a value <= 0 (λ = 0) has no log and is taken linearly, kept
    inside [min, max] of the grid's values (beyond them a linear range
    could reach values no run accepts, a negative λ).
    """
    bounds = {}
    for key, values in grid.items():
        values = [float(v) for v in values]
        if all(v > 0 for v in values):
            limit = (limits or {}).get(key) or {}
            low, high = limit.get("low"), limit.get("high")
            bounds[key] = {
                "scale": "log10",
                "low": math.log10(low) if low is not None and low > 0 else None,
                "high": math.log10(high) if high is not None and high > 0 else None,
            }
        else:
            bounds[key] = {"scale": "linear", "low": min(values), "high": max(values)}
    return bounds


def _clip(value, bound, inside):
    return value if bound is None else inside(bound, value)


def refine_ranges(table, coarse_ranges, top=3, margin=0.25, metric="val_accuracy", rule="span", factor=3.0):
    """Ranges ``{key: {low, high, scale}}`` derived from the best points of an earlier stage.

    ``table``: the earlier stage's points (a column per searched key and
    ``metric``); ``coarse_ranges``: its bounds per key, ``{low, high,
    scale}`` as a random search's ``sample`` (log10 ends for a log10 key),
    an end None for no bound (``grid_bounds``).  ``rule`` (``RULES``, see the
    module) with ``top``, ``margin`` (log10 units for a log10 key, the key's
    units for a linear one) and ``factor`` (> 0; 3 gives [min/3, max×3]).
    ``best`` is ``span`` with ``top`` 1.  Raises ValueError for an unknown
    rule, or ``factor`` on a linear key with a negative value.
    """
    if rule not in RULES:
        raise ValueError(f"refine rule {rule!r} is not one of {', '.join(RULES)}")
    best = ranked(table, metric).head(1 if rule == "best" else top)
    ranges = {}
    for key, r in coarse_ranges.items():
        log = r.get("scale", "log10") == "log10"
        values = [math.log10(v) if log else v for v in best[key]]
        low, high = min(values), max(values)
        if rule == "factor" and log:
            low, high = low - math.log10(factor), high + math.log10(factor)
        elif rule == "factor":
            if low < 0:
                raise ValueError(f"refine rule factor on {key}: its best values reach {low} < 0, which /factor widens")
            low, high = low / factor, high * factor
        else:
            low, high = low - margin, high + margin
        ranges[key] = {
            "low": _clip(low, r.get("low"), max),
            "high": _clip(high, r.get("high"), min),
            "scale": "log10" if log else "linear",
        }
    return ranges
