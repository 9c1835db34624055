"""What the PDF shows of each report, built from its file and the results, by experiment kind.

The PDF has a part per assignment, a section per report and, in the order
of the report's file, one block per experiment.  The block's template is
chosen by the experiment's kind (``runs``, ``grid``, ``random``,
``refine``); nothing here or in the templates names a report or an
experiment.
"""

import json
import os
from pathlib import Path

import pandas as pd

from dd2424.pipeline.experiments import builds_ensemble, experiment_kind, refine_chain, searched_keys
from dd2424.pipeline.quantities import ENSEMBLE_ACCURACIES, KINDS, kind_of
from dd2424.pipeline.scorecard import at_words, point_matches
from dd2424.pipeline.search import refine_rule
from dd2424.pipeline.summary import aggregate, mean_std

from .settings import describe_split, ignored_keys, relevant, split_settings

CHANCE = 0.1
# A table with more varying keys than this lists each run's own changes in one column instead.
MAX_KEY_COLUMNS = 4
RUN_LOSSES = ("train_loss", "val_loss", "test_loss", "test_cost")
# Every figure an experiment may have (workflow/rules/figures.smk draws them).
FIGURE_KINDS = ("curves", "search", "weights", "histograms", "schedule", "bars")


def published_key(entry):
    """The column a published entry stands in beside ours: its quantity, or, read ``at`` an epoch or update of
    the training, its quantity there ('train_cost at epoch 1'), a column of its own."""
    return f"{entry['quantity']} {at_words(entry['at'])}" if "at" in entry else entry["quantity"]


def _published_of(entries, target):
    """{column: value} of the entries naming one target (``published_key``)."""
    return {published_key(e): e["value"] for e in entries if e["target"] == target}


def stacks_of(rows):
    """The sizes of the stacks of several models some rows' runs trained in: their time is the whole stack's,
    shared (a footnote of the table)."""
    return sorted({row["stack_size"] for row in rows if row["stack_size"] > 1})


def training_time(table):
    """Per run (in the order of ``table``, the summary's rows of one experiment): the mean ``train_seconds`` of
    its models, and the largest stack it trained in (``stack_size``; over 1, the time is the whole stack's)."""
    grouped = table.groupby("run", sort=False)
    return grouped.train_seconds.mean(), grouped.stack_size.max()


def runs_context(exp, table, entries, name):
    """A runs experiment: one row per run (mean ± std over seeds), its settings, published values beside."""
    agg = aggregate(table).set_index("run")
    first = table.groupby("run", sort=False).first()
    means = table.groupby("run", sort=False)[list(RUN_LOSSES) + ["samples_per_s"]].mean()
    diverged = table.diverged.fillna(False).astype(bool).groupby(table.run, sort=False).sum()
    at_chance = (table.test_accuracy <= CHANCE + 0.01).groupby(table.run, sort=False).sum()
    seconds, stacks = training_time(table)
    rows = []
    # in the order of the report's file, as the curves show them
    for run in [str(run) for run in exp["runs"]]:
        r = agg.loc[run]
        spec = first.loc[run].to_dict()
        rows.append(
            {
                **spec,
                "run": run,
                "seeds": int(r.test_accuracy_count),
                "train": mean_std(r.train_accuracy_mean, r.train_accuracy_std, r.train_accuracy_count),
                "val": mean_std(r.val_accuracy_mean, r.val_accuracy_std, r.val_accuracy_count),
                "test": mean_std(r.test_accuracy_mean, r.test_accuracy_std, r.test_accuracy_count),
                "test_mean": float(r.test_accuracy_mean),
                **{f"{k}_mean": float(means.loc[run, k]) for k in RUN_LOSSES},
                "samples_per_s": float(means.loc[run, "samples_per_s"]),
                "train_seconds": float(seconds.loc[run]),
                "stack_size": int(stacks.loc[run]),
                "diverged": int(diverged.loc[run]),
                "at_chance": int(at_chance.loc[run]),
                "changes": {str(k): v for k, v in ((exp["runs"].get(run) or {}).items())},
                "published": _published_of(entries, f"{name}/{run}"),
            }
        )
    common, varying = split_settings(rows)
    for row in rows:
        row["ignored"] = ignored_keys(varying, row, rows)
    # an ensemble's published numbers stand beside its own table (ensemble_context), not the runs'
    published = _columns(entries, lambda e: "/" in e["target"] and e["quantity"] not in ENSEMBLE_ACCURACIES)
    return {
        "rows": rows,
        # the cost differs from the loss only under an L2 penalty
        "show_cost": any(float(row["lambda"]) > 0 for row in rows),
        "common": common,
        "varying": varying if len(varying) <= MAX_KEY_COLUMNS else [],
        "changes_column": len(varying) > MAX_KEY_COLUMNS,
        "published_quantities": published,
        "stacks": stacks_of(rows),
        "seeds": max(row["seeds"] for row in rows),
        "train_images": int(rows[0]["train_images"]),
        "val_images": int(rows[0]["val_images"]),
    }


# ensemble.csv's columns shown per ensemble, and the published quantity each stands beside
ENSEMBLE_SHOWN = ("mean_single_accuracy", "best_single_accuracy", "hard_accuracy", "soft_accuracy")


def ensemble_context(exp, table, entries, name):
    """An experiment's ensembles: one row each (members, mean and best single, hard and soft vote), the
    published values beside; over runs, also their mean ± std over the seeds (what a published number
    of the experiment is scored against)."""
    over = exp["ensemble"]["over"]
    rows = []
    for record in table.to_dict("records"):
        target = f"{name}/{record['ensemble']}" if over == "seeds" else None
        rows.append({**record, "ensemble": str(record["ensemble"]), "published": _published_of(entries, target)})
    mean = None
    if over == "runs" and len(table) > 0:
        stats = table[list(ENSEMBLE_SHOWN)].agg(["mean", "std", "count"])
        mean = {k: mean_std(stats.loc["mean", k], stats.loc["std", k], stats.loc["count", k]) for k in ENSEMBLE_SHOWN}
        mean["published"] = _published_of(entries, name)
    return {
        "over": over,
        "rows": rows,
        "mean": mean,
        "published_quantities": [q for q in ENSEMBLE_ACCURACIES if any(e["quantity"] == q for e in entries)],
    }


def _quantities(entries, keep):
    """The published quantities of some entries, in the order of ``kind_of`` then of appearance."""
    seen = []
    for e in entries:
        if keep(e) and e["quantity"] not in seen:
            seen.append(e["quantity"])
    return sorted(seen, key=lambda q: list(KINDS).index(kind_of(q)))


def _columns(entries, keep):
    """The published columns of some entries, ``{key, quantity, at}`` (``published_key``), in the order of the
    quantities' kinds, then of appearance."""
    columns = {}
    for e in entries:
        if keep(e):
            key = published_key(e)
            columns.setdefault(key, {"key": key, "quantity": e["quantity"], "at": e.get("at")})
    return sorted(columns.values(), key=lambda c: list(KINDS).index(kind_of(c["quantity"])))


def published_by_rank(entries):
    """The report's ranked rows of a search, one per rank: ``{rank, setting, values: {quantity: value}}``.

    A report may publish several quantities of one rank (its best point's
    validation accuracy and its λ): each goes in its own column.
    """
    rows = {}
    for e in sorted((e for e in entries if "rank" in e), key=lambda e: e["rank"]):
        row = rows.setdefault(e["rank"], {"rank": e["rank"], "setting": "", "values": {}})
        row["values"][e["quantity"]] = e["value"]
        if e.get("setting") and not row["setting"]:
            row["setting"] = e["setting"]
    return list(rows.values())


def search_context(config, report_id, exp, name, table, entries, ranges=None):
    """A search stage: its points, the keys it searches, its settings, the published rows beside ours."""
    keys = searched_keys(config, report_id, name)
    points = table.to_dict("records")
    mine = [e for e in entries if e["target"] == name]
    for p in points:
        p["published"] = {e["quantity"]: e["value"] for e in mine if "point" in e and point_matches(p, e["point"])}
    common, _ = split_settings(points)
    for key in keys:
        common.pop(key, None)
    context = {
        "keys": keys,
        "points": points,
        "common": common,
        "published_top": published_by_rank(mine),
        "top_quantities": _quantities(mine, lambda e: "rank" in e),
        "point_quantities": _quantities(mine, lambda e: "point" in e),
        "train_images": int(points[0]["train_images"]),
        "val_images": int(points[0]["val_images"]),
        "show_top": exp.get("show_top", 3),
        "rank_by": exp.get("rank_by", "final"),
        "grid": None,
    }
    if "grid" in exp:
        context["grid"] = grid_layout(points, keys)
    if "random" in exp:
        context["ranges"] = exp["random"]["sample"]
    if "refine" in exp:
        context["ranges"] = ranges
        context["refined_from"] = refined_from(config["reports"][report_id]["experiments"], name)
    return context


def refined_from(experiments, name):
    """How a refined search's range was derived: the stage it refines, that stage's kind and ranking, the
    rule with its parameters (``dd2424.pipeline.search.refine_rule``), and the chain of stages, coarse to fine."""
    source = experiments[experiments[name]["refine"]["from"]]
    return {
        "from": experiments[name]["refine"]["from"],
        "source_kind": experiment_kind(source),
        "source_rank_by": source.get("rank_by", "final"),
        "chain": refine_chain(experiments, name),
        **refine_rule(experiments[name]["refine"]),
    }


def grid_layout(points, keys):
    """A grid's validation accuracies as 2-D tables: rows by the second-last key, columns by the last,
    one table per value of a first key when it has three (none for one key)."""
    if len(keys) not in (2, 3):
        return None
    *outer, row_key, col_key = keys

    # Each key's values sorted once, not once per table row.
    values = {key: sorted({p[key] for p in points}, key=_sort_key) for key in keys}
    tables = []
    for outer_value in values[outer[0]] if outer else [None]:
        cells = {}
        for p in points:
            if outer and p[outer[0]] != outer_value:
                continue
            cells[(str(p[row_key]), str(p[col_key]))] = p
        tables.append(
            {
                "outer": outer_value,
                "rows": [
                    {"value": rv, "cells": [cells.get((str(rv), str(cv))) for cv in values[col_key]]}
                    for rv in values[row_key]
                ],
            }
        )
    return {
        "outer_key": outer[0] if outer else None,
        "row_key": row_key,
        "col_key": col_key,
        "columns": values[col_key],
        "tables": tables,
    }


def _sort_key(value):
    try:
        return (0, float(value), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(value))


def figure_paths(files, report_id, name, report_dir):
    """{kind: path relative to the .tex, or None} of one experiment's figures, for every kind of figure."""
    prefix = f"{report_id}/{name}/"
    drawn = {
        key[len(prefix) :]: os.path.relpath(Path(path).resolve(), Path(report_dir).resolve())
        for key, path in files["figure"].items()
        if key.startswith(prefix)
    }
    return {kind: drawn.get(kind) for kind in FIGURE_KINDS}


def gradcheck_statistics(entries, gradcheck):
    """The gradient-check statistics a report publishes, ours per check: [{check, loss, quantities, rows}]."""
    wanted = {}
    for e in entries:
        parts = e["target"].split("/")
        if parts[0] == "gradcheck" and len(parts) == 3:
            key = (parts[1], e.get("loss", "softmax"))
            wanted.setdefault(key, [])
            if e["quantity"] not in wanted[key]:
                wanted[key].append(e["quantity"])
    out = []
    for (check, loss), quantities in wanted.items():
        rows = [r for r in gradcheck if r["check"] == check and r["loss"] == loss]
        if rows:
            out.append({"check": check, "loss": loss, "quantities": quantities, "rows": rows})
    return out


def experiment_context(config, report_id, name, exp, summary, files, searches, entries, report_dir):
    """Everything one experiment's block shows."""
    kind = experiment_kind(exp)
    context = {
        "name": name,
        "kind": kind,
        "section": exp.get("section", ""),
        "not_stated": exp.get("not_stated", []),
        "note": exp.get("note", ""),
        "prose": exp.get("prose", ""),
        "figures": figure_paths(files, report_id, name, report_dir),
        "best_of": None,
        "baseline": None,
        "ensemble": None,
    }
    mine = [e for e in entries if e["experiment"] == name]
    if kind == "runs":
        table = summary[(summary.report == report_id) & (summary.experiment == name)]
        context.update(runs_context(exp, table, mine, name))
        if builds_ensemble(config, exp):
            ensembles = pd.read_csv(files["ensemble"][f"{report_id}/{name}"])
            context["ensemble"] = ensemble_context(exp, ensembles, mine, name)
    else:
        key = f"{report_id}/{name}"
        ranges = _load_json(files["range"][key])["ranges"] if key in files["range"] else None
        context.update(search_context(config, report_id, exp, name, searches[key], mine, ranges))
    if "best_of" in exp:
        experiments = config["reports"][report_id]["experiments"]
        best = _load_json(files["best"][f"{report_id}/{exp['best_of']['experiment']}"])["best"]
        context["best_of"] = {
            "experiment": exp["best_of"]["experiment"],
            "values": {k: best[k] for k in exp["best_of"]["keys"]},
            "rank_by": experiments[exp["best_of"]["experiment"]].get("rank_by", "final"),
        }
    return context


def _load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def by_name_and_run(baseline, experiments):
    """(experiment context, run) a ``baseline`` names: ``<experiment>`` (its first run) or ``<experiment>/<run>``."""
    name, _, run = str(baseline).partition("/")
    source = experiments[name]
    return source, run or source["rows"][0]["run"]


def baseline_row(context, source, run):
    """The row an ablation's runs are compared with, labelled ``<experiment>/<run>``, and the settings of this
    experiment's settings line it does not share (they are not in the table's columns)."""
    row = next(r for r in source["rows"] if r["run"] == run)
    differs = {
        k: row.get(k)
        for k in context["common"]
        if str(row.get(k)) != str(context["common"][k]) and (relevant(k, row) or relevant(k, context["common"]))
    }
    return {**row, "name": f"{source['name']}/{run}", "differs": differs}


def report_context(config, report_id, summary, files, searches, entries, gradcheck, report_dir, benchmarks):
    """One report's section: its title, citation, prose, experiments in file order, and cost."""
    report = config["reports"][report_id]
    mine = [e for e in entries if e["report"] == report_id]
    experiments = [
        experiment_context(config, report_id, name, exp, summary, files, searches, mine, report_dir)
        for name, exp in report["experiments"].items()
    ]
    by_name = {e["name"]: e for e in experiments}
    for name, exp in report["experiments"].items():
        if "baseline" in exp:
            by_name[name]["baseline"] = baseline_row(by_name[name], *by_name_and_run(exp["baseline"], by_name))
            by_name[name]["stacks"] = stacks_of(by_name[name]["rows"] + [by_name[name]["baseline"]])
    jobs = [b for b in benchmarks if b["group"].startswith(f"{report_id}/")]
    context = {
        "id": report_id,
        "title": report["title"],
        "citation": report.get("citation", ""),
        "prose": report.get("prose", ""),
        "file": Path(report["file"]).name,
        "experiments": experiments,
        # The splits its runs use, in the order they first appear.
        "splits": [
            describe_split(name, config["splits"][name])
            for name in dict.fromkeys(summary[summary.report == report_id].split)
        ],
        "gradcheck_statistics": gradcheck_statistics(mine, gradcheck),
        "cost": {
            "jobs": sum(b["jobs"] for b in jobs),
            "seconds": sum(b["seconds"] for b in jobs),
            "max_rss_mb": max((b["max_rss_mb"] for b in jobs), default=0.0),
            "samples_per_s": float(summary[summary.report == report_id].samples_per_s.mean()),
        },
        "compare": None,
    }
    if "compare" in report:
        context["compare"] = compare_context(report, by_name, entries, report_id)
    return context


def compare_context(report, experiments, entries, report_id):
    """One experiment's test accuracy against each other report's best published one and quoted results."""
    ours = experiments[report["compare"]["experiment"]]
    best = {}
    for e in entries:
        if e["report"] != report_id and e["quantity"] == "test_accuracy" and not e.get("bound"):
            if e["report"] not in best or e["value"] > best[e["report"]]["value"]:
                best[e["report"]] = e
    return {
        "experiment": report["compare"]["experiment"],
        "ours": ours["rows"][0],
        "published": list(best.values()),
        "quoted": report["compare"].get("quoted", []),
    }


def parts_context(config, reports, summary, files, searches, entries, gradchecks, report_dir, benchmarks):
    """The PDF's parts: one per assignment that has reports, each with its gradient check and its reports."""
    parts = []
    for assignment in sorted(config["assignments"]):
        group = config["assignments"][assignment]
        mine = [r for r in reports if config["reports"][r]["assignment"] == assignment]
        if not mine:
            continue
        gradcheck = gradchecks[assignment].to_dict("records") if assignment in gradchecks else []
        parts.append(
            {
                "assignment": assignment,
                "title": group.get("title", assignment),
                "prose": group.get("prose", ""),
                "gradcheck": gradcheck,
                "reports": [
                    report_context(config, r, summary, files, searches, entries, gradcheck, report_dir, benchmarks)
                    for r in mine
                ],
            }
        )
    return parts
