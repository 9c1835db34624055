"""The reproduction scorecard: every number the reports publish, against ours.

The published numbers live with their report (``published`` in its file,
see ``dd2424.pipeline.reports``); this module finds our value for each entry in the
results (summary table, search tables, gradient checks, ensembles, and
the runs' histories for an entry read ``at`` an epoch or update), and gives
each a verdict against a stated tolerance and, for a miss, the known causes
the config and the results name.  A quantity of a kind that is not scored (a
training time) is shown beside ours, verdict "shown", and counts in no total.
"""

import json
import math

import numpy as np
import pandas as pd

from dd2424.util import atomic

from .quantities import ENSEMBLE_ACCURACIES, ENSEMBLE_COLUMNS, KINDS, SCORED_KINDS, kind_of, scored
from .search import rank_metric

# The md5 of the official cifar-10-python.tar.gz (config.yaml's default).
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"

# The tolerances, in words for the PDF; ``within`` below is their one definition.
TOLERANCES = KINDS


def published_entries(reports):
    """Every published entry of every report, each with its ``report``, ``assignment`` and ``experiment``
    (the first part of its target; ``gradcheck`` for a gradient check)."""
    return [
        {**entry, "report": rid, "assignment": report["assignment"], "experiment": str(entry["target"]).split("/")[0]}
        for rid, report in reports.items()
        for entry in report.get("published", [])
    ]


def _stats(values):
    values = np.asarray(values, dtype=float)
    std = float(values.std(ddof=1)) if len(values) > 1 else math.nan
    return {"mean": float(values.mean()), "std": std, "n": int(len(values))}


def point_matches(row, point):
    """Whether a search table's row is the grid point ``{key: value}``."""
    return all(math.isclose(float(row[k]), float(v), rel_tol=1e-9, abs_tol=1e-15) for k, v in point.items())


def run_rows(summary, entry):
    """The summary's rows (one per seed) of the run an entry names."""
    experiment, run = entry["target"].split("/")
    return summary[(summary.report == entry["report"]) & (summary.experiment == experiment) & (summary.run == run)]


def ensemble_value(entry, ensembles):
    """An ensemble's accuracy: over seeds, the row of the run the target names; over runs, the mean over
    the seeds' ensembles (``ensembles``: ``{'<report>/<experiment>': ensemble.csv as a table}``)."""
    parts = entry["target"].split("/")
    table = ensembles.get(f"{entry['report']}/{parts[0]}")
    if table is None:
        return None
    column = ENSEMBLE_COLUMNS[entry["quantity"]]
    if len(parts) == 2:
        rows = table[table.ensemble.astype(str) == parts[1]]
        return None if rows.empty else {"mean": float(rows[column].iloc[0]), "std": math.nan, "n": 1}
    return None if table.empty else _stats(table[column])


def at_words(at):
    """Where in a run's history a published value stands, in words: ``{'epoch': 1}`` -> 'at epoch 1'."""
    ((axis, value),) = at.items()
    return f"at {axis} {value:g}"


def history_rows(history, at):
    """The rows of one seed's history (history.csv as a table) at ``at``: ``{'epoch': E}`` or ``{'update': U}``.

    Epochs are updates / updates-per-epoch, written as floats: compared within round-off.
    """
    ((axis, value),) = at.items()
    return history[np.isclose(history[axis].astype(float), float(value), rtol=1e-9, atol=1e-9)]


def unreached(lacking, n, at):
    """Why a run's histories give no value ``at`` an epoch or update: ``lacking``, the tables of its seeds
    without a row there, of ``n`` seeds in all."""
    ((axis, value),) = at.items()
    last = max(float(h[axis].max()) for h in lacking)
    whose, has = (f"{len(lacking)} of {n} seeds' histories", "have") if n > 1 else ("its history", "has")
    if last < value:
        return f"{whose} never reached {axis} {value:g} (the last evaluation: {axis} {last:g})"
    near = sorted({float(x) for h in lacking for x in h[axis]}, key=lambda x: abs(x - value))[:2]
    nearest = " and ".join(f"{x:g}" for x in near)
    return (
        f"{whose} {has} no evaluation at {axis} {value:g} (the nearest: {axis} {nearest}); a cyclic run evaluates "
        "evals_per_cycle times a cycle, other schedules once an epoch: set evals_per_cycle so that one falls "
        f"there, or publish the value at the nearest {axis}"
    )


def history_values(entry, histories):
    """An entry's quantity read ``at`` an epoch or update of its run's history, per seed: ``(values, None)``, or
    ``(None, why)`` when a seed's history has no row there or the run is not in the results.

    ``histories``: ``{'<report>/<experiment>/<run>': [history.csv as a table, per seed]}``.
    """
    seeds = histories.get(f"{entry['report']}/{entry['target']}")
    if not seeds:
        return None, "not in this configuration's results"
    found = [history_rows(h, entry["at"]) for h in seeds]
    lacking = [h for h, rows in zip(seeds, found) if rows.empty]
    if lacking:
        return None, unreached(lacking, len(seeds), entry["at"])
    # the last row at that point: an evaluation repeated at the same weights replaces the earlier one
    return [float(rows[entry["quantity"]].iloc[-1]) for rows in found], None


def our_value(entry, summary, searches, gradchecks, ensembles=None, metric="val_accuracy", histories=None):
    """Our mean, std and count for an entry, or None when we have no such result.

    ``searches``: ``{'<report>/<experiment>': search table}``; ``gradchecks``:
    ``{assignment: gradient-check table}``; ``ensembles``: ``{'<report>/<experiment>': ensemble table}``;
    ``metric``: the column the entry's search ranks its points by (a ``rank`` is the k-th by it);
    ``histories``: the runs' histories an entry with ``at`` reads (``history_values``).
    """
    if "at" in entry:
        values, _ = history_values(entry, histories or {})
        return None if values is None else _stats(values)
    parts = entry["target"].split("/")
    quantity = entry["quantity"]
    if quantity in ENSEMBLE_ACCURACIES:
        return ensemble_value(entry, ensembles or {})
    if parts[0] == "gradcheck":
        table = gradchecks.get(entry["assignment"])
        if table is None:
            return None
        if len(parts) == 1:  # the worst over every check of the assignment
            return {"mean": float(table[quantity].max()), "std": math.nan, "n": 1}
        rows = table[
            (table.check == parts[1]) & (table.parameter == parts[2]) & (table.loss == entry.get("loss", "softmax"))
        ]
        return None if rows.empty else {"mean": float(rows[quantity].iloc[0]), "std": math.nan, "n": 1}
    if len(parts) == 2:
        rows = run_rows(summary, entry)
        return None if rows.empty else _stats(rows[quantity])
    table = searches.get(f"{entry['report']}/{parts[0]}")
    if table is None:
        return None
    if "rank" in entry:
        ranked = table.sort_values(metric, ascending=False, kind="stable")
        if entry["rank"] > len(ranked):
            return None
        return {"mean": float(ranked[quantity].iloc[entry["rank"] - 1]), "std": math.nan, "n": 1}
    rows = table[[point_matches(r, entry["point"]) for _, r in table.iterrows()]]
    return None if rows.empty else {"mean": float(rows[quantity].iloc[0]), "std": math.nan, "n": 1}


def within(quantity, published, mean, std=math.nan, bound=False):
    """Whether our value reproduces a published one (the rules of ``TOLERANCES``).

    Raises ValueError for a quantity that is not scored (a training time): it has no tolerance.
    """
    if not scored(quantity):
        raise ValueError(f"{quantity} is shown beside the report's, not scored: it has no tolerance")
    if mean is None or not math.isfinite(mean):
        return False
    spread = 2 * std if math.isfinite(std) else 0.0
    kind = kind_of(quantity)
    slack = 1e-12  # a difference of exactly the tolerance is within it, despite round-off
    if kind == "accuracy":
        return abs(mean - published) <= max(0.01, spread) + slack
    if kind == "loss":
        return abs(mean - published) <= max(0.1, 0.1 * abs(published), spread) + slack
    if kind == "hyper":
        return published > 0 and mean > 0 and abs(math.log(mean / published)) <= math.log(2)
    if kind == "error":
        return mean <= (published if bound else 10 * published)
    # gradient statistics
    return mean * published > 0 and abs(math.log(mean / published)) <= math.log(2)


# What the PDF alone shows of an experiment: the scorecard does not depend on it.
DISPLAY_ONLY = ("prose", "figures", "section", "show_top", "baseline")


def setting_overrides(overrides):
    """The experiments' settings a configuration's overrides of one report change, ``{experiment: partial}``:
    what the scorecard names among the causes of a miss (not a title, a figure or a section label)."""
    experiments = (overrides or {}).get("experiments") or {}
    kept = {name: {k: v for k, v in (exp or {}).items() if k not in DISPLAY_ONLY} for name, exp in experiments.items()}
    return {"experiments": {name: exp for name, exp in kept.items() if exp}}


def _flat(tree, prefix=""):
    """A nested mapping as ``key.path=value`` strings (the overrides of an experiment, in a sentence)."""
    if not isinstance(tree, dict):
        return [f"{prefix}={tree}"]
    return [item for k, v in tree.items() for item in _flat(v, f"{prefix}.{k}" if prefix else str(k))]


def causes(entry, config, summary, ours):
    """The known reasons a published number may not be reproduced, generated from config and results."""
    found = []
    parts = entry["target"].split("/")
    md5 = config["data"]["md5"]
    if md5.lower() != CIFAR10_MD5 and not entry.get("bound"):
        found.append(f"data: a stand-in archive (md5 {md5[:8]}), not CIFAR-10")
    if parts[0] == "gradcheck":
        if len(parts) == 3:
            gradcheck = config["gradcheck"][entry["assignment"]]
            check = {**gradcheck["defaults"], **gradcheck["checks"][parts[1]]}
            found.append(
                f"ours checks {check['dims']} dimensions of {check['samples']} images at lambda {check['lambda']:g}; "
                "the report does not state its own"
            )
        return found
    experiments = config["reports"][entry["report"]]["experiments"]
    exp = experiments[parts[0]]
    report_overrides = setting_overrides((config.get("overrides") or {}).get(entry["report"]))
    overridden = report_overrides["experiments"].get(parts[0])
    if overridden:
        found.append(f"not the report's settings: the configuration overrides {', '.join(_flat(overridden))}")
    defaulted = (config.get("defaults_set") or {}).get(entry["report"], {}).get(parts[0])
    if defaulted:
        found.append(f"not the report's settings: the configuration's defaults set {', '.join(_flat(defaulted))}")
    found += [f"not stated in the report: {s}" for s in exp.get("not_stated", [])]
    if "note" in exp:
        found.append(exp["note"].rstrip("."))
    if "rank" in entry and "grid" not in exp:
        found.append("a random search's k-th best depends on the points it sampled")
    if "best_of" in exp:
        source = exp["best_of"]["experiment"]
        if kind_of(entry["quantity"]) == "hyper" and entry["quantity"] in exp["best_of"]["keys"]:
            how = "the results of its grid" if "grid" in experiments[source] else "the points it sampled"
            found.append(f"chosen by the search {source}, whose best point depends on {how}")
        if "note" in experiments[source]:
            found.append(f"{source}: {experiments[source]['note'].rstrip('.')}")
    if len(parts) == 2:
        rows = run_rows(summary, entry)
        diverged = int(rows.diverged.fillna(False).astype(bool).sum())
        if diverged:
            found.append(f"{diverged} of {len(rows)} seeds diverged")
    single_run = len(parts) == 2 and entry["quantity"] not in ENSEMBLE_ACCURACIES
    if ours is not None and ours["n"] == 1 and single_run and kind_of(entry["quantity"]) in ("accuracy", "loss"):
        found.append("one seed (no spread to widen the tolerance)")
    return found


def missing(entry, histories):
    """Why we have no value for an entry: a history that never reached its ``at``, or no result at all."""
    if "at" in entry:
        return history_values(entry, histories or {})[1]
    return "not in this configuration's results"


def scorecard(entries, config, summary, searches, gradchecks, ensembles=None, histories=None):
    """One row per published number: ours, the difference, the verdict, the known causes of a miss.

    ``entries`` from ``published_entries``, whose targets the workflow has
    checked (``dd2424.pipeline.reports.check_published``) before any job ran;
    ``histories``: ``{'<report>/<experiment>/<run>': [history per seed]}`` of
    the runs an entry reads ``at`` an epoch or update.  Verdicts: reproduced,
    missed, not run, shown (a quantity that is not scored, beside ours), or
    preview (config ``preview``: every run trained shorter, on one seed, so
    no training result is scored; gradient checks are not shortened).
    """
    rows = []
    for entry in entries:
        exp = config["reports"][entry["report"]]["experiments"].get(entry["experiment"], {})
        ours = our_value(entry, summary, searches, gradchecks, ensembles, rank_metric(exp), histories)
        row = {
            **entry,
            "kind": kind_of(entry["quantity"]),
            "ours": ours,
            "bound": bool(entry.get("bound", False)),
            "setting": entry.get("setting", ""),
        }
        if ours is None:
            row.update(verdict="not run", difference=None, causes=[missing(entry, histories)])
        elif not scored(entry["quantity"]):
            row.update(verdict="shown", difference=ours["mean"] - entry["value"], causes=[])
        elif config.get("preview") and entry["experiment"] != "gradcheck":  # a gradient check is not shortened
            row.update(
                verdict="preview",
                difference=ours["mean"] - entry["value"],
                causes=[f"a preview: every run trained {config['preview']} times shorter, on one seed"],
            )
        else:
            ok = within(entry["quantity"], entry["value"], ours["mean"], ours["std"], row["bound"])
            row.update(
                verdict="reproduced" if ok else "missed",
                difference=ours["mean"] - entry["value"],
                causes=[] if ok else causes(entry, config, summary, ours),
            )
        rows.append(row)
    return rows


def by_experiment(rows):
    """The rows in groups of one report's experiment, in order, each with the causes of its misses stated once."""
    groups = []
    for row in rows:
        if not groups or (groups[-1]["report"], groups[-1]["experiment"]) != (row["report"], row["experiment"]):
            groups.append({"report": row["report"], "experiment": row["experiment"], "rows": [], "causes": []})
        groups[-1]["rows"].append(row)
        groups[-1]["causes"] += [c for c in row["causes"] if c not in groups[-1]["causes"]]
    return groups


def totals(rows):
    """'N of M reproduced', overall and per report: ``{reproduced, total, not_run, shown, preview}``
    (a preview's rows count in ``preview`` alone).

    A row of a kind that is not scored (a training time) counts in no total,
    neither hit nor miss nor "not run"; ``shown`` counts those shown beside ours.
    """
    counts = ("reproduced", "total", "not_run", "shown", "preview")
    per_report = {}
    for row in rows:
        t = per_report.setdefault(row["report"], {"report": row["report"], **dict.fromkeys(counts, 0)})
        if row["kind"] not in SCORED_KINDS:
            t["shown"] += row["verdict"] == "shown"
            continue
        if row["verdict"] == "preview":
            t["preview"] += 1
            continue
        t["total"] += 1
        t["reproduced"] += row["verdict"] == "reproduced"
        t["not_run"] += row["verdict"] == "not run"
    overall = {k: sum(t[k] for t in per_report.values()) for k in counts}
    return overall, list(per_report.values())


# The columns of results/report/scorecard.csv, one row per published number.
COLUMNS = [
    "report",
    "experiment",
    "section",
    "target",
    "rank",
    "point",
    "at",
    "setting",
    "quantity",
    "kind",
    "bound",
    "value",
    "ours_mean",
    "ours_std",
    "ours_n",
    "difference",
    "verdict",
    "causes",
]


def write_scorecard(rows, path):
    """The scorecard as CSV: ``point``, ``at`` and ``causes`` as JSON, ours as mean, std and count."""
    records = []
    for row in rows:
        ours = row["ours"] or {}
        records.append(
            {
                **{k: row.get(k) for k in COLUMNS},
                "point": json.dumps(row["point"]) if "point" in row else "",
                "at": json.dumps(row["at"]) if "at" in row else "",
                "ours_mean": ours.get("mean"),
                "ours_std": ours.get("std"),
                "ours_n": ours.get("n"),
                "causes": json.dumps(row["causes"]),
            }
        )
    table = pd.DataFrame(records, columns=COLUMNS)
    # counts stay integers in a column with gaps (a number with no result of ours)
    table["ours_n"] = table["ours_n"].astype("Int64")
    table["rank"] = table["rank"].astype("Int64")
    with atomic.written(path) as tmp:
        table.to_csv(tmp, index=False, encoding="utf-8")


def read_scorecard(path):
    """The rows ``write_scorecard`` wrote, as ``scorecard`` returned them."""
    table = pd.read_csv(path, encoding="utf-8", keep_default_na=False, na_values={"ours_mean": [""], "ours_std": [""]})
    rows = []
    for record in table.to_dict("records"):
        row = {k: record[k] for k in ("report", "experiment", "section", "target", "setting", "quantity", "kind")}
        row.update(
            report=str(record["report"]),
            value=float(record["value"]),
            bound=str(record["bound"]) == "True",
            verdict=record["verdict"],
            causes=json.loads(record["causes"]),
            difference=None if record["difference"] == "" else float(record["difference"]),
            ours=None
            if record["ours_n"] == ""
            else {
                "mean": float(record["ours_mean"]),
                "std": float(record["ours_std"]),
                "n": int(float(record["ours_n"])),
            },
        )
        if record["rank"] != "":
            row["rank"] = int(float(record["rank"]))
        for key in ("point", "at"):
            if record[key]:
                row[key] = json.loads(record[key])
        rows.append(row)
    return rows
