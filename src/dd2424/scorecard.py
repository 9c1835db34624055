"""The reproduction scorecard: every number the seed reports publish, against ours.

The published numbers live in one reviewed file (``report/published.yaml``);
this module reads it, finds our value for each entry in the results
(summary table, search tables, gradient checks), and gives each a verdict
against a stated tolerance and, for a miss, the known causes the config and
the results name.
"""

import math

import numpy as np
import yaml

# The md5 of the official cifar-10-python.tar.gz (config.yaml's default).
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"

ACCURACIES = ("train_accuracy", "val_accuracy", "test_accuracy")
LOSSES = ("train_loss", "val_loss", "test_loss", "train_cost", "val_cost", "test_cost")
HYPER_PARAMETERS = ("lambda", "eta", "n_batch")
ERRORS = ("mean_abs_error", "std_abs_error", "max_abs_error", "max_rel_error")
GRADIENTS = ("grad_min", "grad_max", "grad_std")
QUANTITIES = ACCURACIES + LOSSES + HYPER_PARAMETERS + ERRORS + GRADIENTS
REPORTS = ("000", "001", "002", "003", "004")

# The tolerances, in words for the PDF; ``within`` below is their one definition.
TOLERANCES = {
    "accuracy": "within max(1 point, 2 std over seeds)",
    "loss": "within max(0.1, 10 %, 2 std over seeds)",
    "hyper": "within a factor of 2",
    "error": "at most 10 times the report's error (a bound: at most the bound)",
    "gradient": "same sign, within a factor of 2",
}


class PublishedError(ValueError):
    """An entry of the published-numbers file that cannot be read; names the entry."""


def kind_of(quantity):
    for kind, names in (
        ("accuracy", ACCURACIES),
        ("loss", LOSSES),
        ("hyper", HYPER_PARAMETERS),
        ("error", ERRORS),
        ("gradient", GRADIENTS),
    ):
        if quantity in names:
            return kind
    raise KeyError(quantity)


def load_published(path):
    """The entries of the published-numbers file, each with its ``report``; malformed ones refused."""
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    entries = []
    for report, items in data.items():
        report = str(report)
        if report not in REPORTS:
            raise PublishedError(f"{path}: {report!r} is not a seed report ({', '.join(REPORTS)})")
        for i, item in enumerate(items or []):
            where = f"{path}: report {report}, entry {i + 1}"
            missing = [k for k in ("section", "target", "quantity", "value") if k not in item]
            if missing:
                raise PublishedError(f"{where} lacks {missing}")
            if item["quantity"] not in QUANTITIES:
                raise PublishedError(f"{where}: unknown quantity {item['quantity']!r} (one of {', '.join(QUANTITIES)})")
            if not isinstance(item["value"], (int, float)):
                raise PublishedError(f"{where}: value {item['value']!r} is not a number")
            parts = str(item["target"]).split("/")
            if parts[0] == "gradcheck":
                if len(parts) not in (2, 4):
                    raise PublishedError(f"{where}: target {item['target']!r} is not gradcheck/<a>[/<check>/<param>]")
            elif len(parts) == 2 and not ("rank" in item or "point" in item):
                raise PublishedError(f"{where}: a search target {item['target']!r} needs a rank or a point")
            elif len(parts) not in (2, 3):
                raise PublishedError(f"{where}: target {item['target']!r} is not <assignment>/<experiment>[/<run>]")
            entries.append({"report": report, **item})
    return entries


def unknown_targets(entries, config, runs_of):
    """Entries whose target the config does not have: ``(entry, why)`` pairs.

    ``runs_of(assignment, experiment)`` gives an experiment's run names.
    """
    problems = []
    for entry in entries:
        parts = entry["target"].split("/")
        if parts[0] == "gradcheck":
            checks = config["gradcheck"].get(parts[1])
            if checks is None:
                problems.append((entry, f"no gradient check for {parts[1]}"))
            elif len(parts) == 4 and parts[2] not in checks["checks"]:
                problems.append((entry, f"no gradient check {parts[2]!r} in gradcheck.{parts[1]}"))
            continue
        a, e = parts[:2]
        experiments = config["assignments"].get(a, {}).get("experiments", {})
        if e not in experiments:
            problems.append((entry, f"no experiment {a}/{e}"))
        elif len(parts) == 3 and parts[2] not in runs_of(a, e):
            problems.append((entry, f"no run {parts[2]!r} in {a}/{e}"))
    return problems


def _stats(values):
    values = np.asarray(values, dtype=float)
    std = float(values.std(ddof=1)) if len(values) > 1 else math.nan
    return {"mean": float(values.mean()), "std": std, "n": int(len(values))}


def point_matches(row, point):
    """Whether a search table's row is the grid point ``{key: value}``."""
    return all(math.isclose(float(row[k]), float(v), rel_tol=1e-9, abs_tol=1e-15) for k, v in point.items())


def our_value(entry, summary, searches, gradchecks):
    """Our mean, std and count for an entry, or None when we have no such result."""
    parts = entry["target"].split("/")
    quantity = entry["quantity"]
    if parts[0] == "gradcheck":
        table = gradchecks.get(parts[1])
        if table is None:
            return None
        if len(parts) == 2:  # the worst over every check of the assignment
            return {"mean": float(table[quantity].max()), "std": math.nan, "n": 1}
        rows = table[
            (table.check == parts[2]) & (table.parameter == parts[3]) & (table.loss == entry.get("loss", "softmax"))
        ]
        return None if rows.empty else {"mean": float(rows[quantity].iloc[0]), "std": math.nan, "n": 1}
    if len(parts) == 3:
        a, e, run = parts
        rows = summary[(summary.assignment == a) & (summary.experiment == e) & (summary.run == run)]
        return None if rows.empty else _stats(rows[quantity])
    table = searches.get(f"{parts[0]}/{parts[1]}")
    if table is None:
        return None
    if "rank" in entry:
        ranked = table.sort_values("val_accuracy", ascending=False, kind="stable")
        if entry["rank"] > len(ranked):
            return None
        return {"mean": float(ranked[quantity].iloc[entry["rank"] - 1]), "std": math.nan, "n": 1}
    rows = table[[point_matches(r, entry["point"]) for _, r in table.iterrows()]]
    return None if rows.empty else {"mean": float(rows[quantity].iloc[0]), "std": math.nan, "n": 1}


def within(quantity, published, mean, std=math.nan, bound=False):
    """Whether our value reproduces a published one (the rules of ``TOLERANCES``)."""
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


def causes(entry, config, summary, ours):
    """The known reasons a published number may not be reproduced, generated from config and results."""
    found = []
    parts = entry["target"].split("/")
    md5 = config["data"]["md5"]
    if md5 != CIFAR10_MD5 and not entry.get("bound"):
        found.append(f"data: a stand-in archive (md5 {md5[:8]}), not CIFAR-10")
    if parts[0] == "gradcheck":
        if len(parts) == 4:
            check = {**config["gradcheck"][parts[1]]["defaults"], **config["gradcheck"][parts[1]]["checks"][parts[2]]}
            found.append(
                f"ours checks {check['dims']} dimensions of {check['samples']} images at lambda {check['lambda']:g}; "
                "the report does not state its own"
            )
        return found
    exp = config["assignments"][parts[0]]["experiments"][parts[1]]
    found += [f"not stated in the report: {s}" for s in exp.get("not_stated", [])]
    if "note" in exp:
        found.append(exp["note"].rstrip("."))
    if "rank" in entry and "grid" not in exp:
        found.append("a random search's k-th best depends on the points it sampled")
    if "best_of" in exp:
        experiments = config["assignments"][parts[0]]["experiments"]
        source = exp["best_of"]["experiment"]
        if kind_of(entry["quantity"]) == "hyper" and entry["quantity"] in exp["best_of"]["keys"]:
            how = "the results of its grid" if "grid" in experiments[source] else "the points it sampled"
            found.append(f"chosen by the search {source}, whose best point depends on {how}")
        if "note" in experiments[source]:
            found.append(f"{source}: {experiments[source]['note'].rstrip('.')}")
    if len(parts) == 3:
        rows = summary[(summary.assignment == parts[0]) & (summary.experiment == parts[1]) & (summary.run == parts[2])]
        diverged = int(rows.diverged.fillna(False).astype(bool).sum())
        if diverged:
            found.append(f"{diverged} of {len(rows)} seeds diverged")
    if ours is not None and ours["n"] == 1 and len(parts) == 3 and kind_of(entry["quantity"]) in ("accuracy", "loss"):
        found.append("one seed (no spread to widen the tolerance)")
    return found


def scorecard(entries, config, summary, searches, gradchecks, runs_of):
    """One row per published number: ours, the difference, the verdict, the known causes of a miss."""
    missing = {id(e): why for e, why in unknown_targets(entries, config, runs_of)}
    rows = []
    for entry in entries:
        ours = None if id(entry) in missing else our_value(entry, summary, searches, gradchecks)
        row = {
            **entry,
            "kind": kind_of(entry["quantity"]),
            "ours": ours,
            "bound": bool(entry.get("bound", False)),
            "setting": entry.get("setting", ""),
        }
        if ours is None:
            row.update(
                verdict="not run",
                difference=None,
                causes=[missing.get(id(entry), "not in this configuration's results")],
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


def totals(rows):
    """'N of M reproduced', overall and per report."""
    per_report = {}
    for row in rows:
        t = per_report.setdefault(row["report"], {"report": row["report"], "reproduced": 0, "total": 0, "not_run": 0})
        t["total"] += 1
        t["reproduced"] += row["verdict"] == "reproduced"
        t["not_run"] += row["verdict"] == "not run"
    overall = {
        "reproduced": sum(t["reproduced"] for t in per_report.values()),
        "total": len(rows),
        "not_run": sum(t["not_run"] for t in per_report.values()),
    }
    return overall, [per_report[r] for r in sorted(per_report)]
