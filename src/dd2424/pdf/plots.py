"""Figures drawn from results/: training curves, weight images, histograms, searches, runs side by side."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from dd2424.util import atomic  # noqa: E402

DPI = 150
COLOURS = {"train": "tab:blue", "val": "tab:orange", "test": "tab:green"}
PART_LABELS = {"train": "training", "val": "validation", "test": "test"}


def _save(fig, out):
    # Whole or absent: a figure job cut off mid-write leaves no half image under its name.
    with atomic.written(out) as tmp:
        fig.savefig(tmp, dpi=DPI)


def _mean_band(ax, histories, x, column, label, colour):
    """Mean over seeds with a ±1 std band; diverged (non-finite) points are left out."""
    frame = pd.concat([h.set_index(x)[column] for h in histories], axis=1)
    if frame.isna().all().all():  # a split without a validation set: no curve, no legend entry
        return
    mean, std = frame.mean(axis=1), frame.std(axis=1).fillna(0)
    ax.plot(mean.index, mean.values, color=colour, label=label)
    if len(histories) > 1:
        ax.fill_between(mean.index, (mean - std).values, (mean + std).values, color=colour, alpha=0.25)


# Up to this many runs, each has its own row of panels; more are drawn together, one line per run.
MAX_CURVE_ROWS = 6


def training_curves(histories, out, x="epoch"):
    """Cost, loss and accuracy during training (``{run: [history DataFrame per seed]}``): one row of
    panels per run, or, beyond ``MAX_CURVE_ROWS`` runs, one row in which each run is a line (its
    validation curve, or its training curve without a validation set), so that the figure keeps its
    height whatever the number of runs.  A run whose histories have ``test_*`` columns (``test_curves``)
    gets a test curve beside the others."""
    runs = list(histories)
    if len(runs) > MAX_CURVE_ROWS:
        return _curves_together(histories, out, x)
    fig, axes = plt.subplots(len(runs), 3, figsize=(11, 2.6 * len(runs)), squeeze=False)
    for row, run in zip(axes, runs):
        for ax, metric in zip(row, ("cost", "loss", "accuracy")):
            for part, label in PART_LABELS.items():
                if f"{part}_{metric}" in histories[run][0]:
                    _mean_band(ax, histories[run], x, f"{part}_{metric}", label, COLOURS[part])
            ax.set_title(f"{run}: {metric}", fontsize=9)
            _curve_axes(ax, x, metric, histories[run][0][f"train_{metric}"])
        row[0].legend(fontsize=7)
    fig.tight_layout()
    _save(fig, out)
    plt.close(fig)


def _curve_axes(ax, x, metric, train_values):
    ax.set_xlabel("update" if x == "update" else "epoch", fontsize=8)
    ax.tick_params(labelsize=7)
    if metric != "accuracy" and np.nanmax(train_values) > 20:
        ax.set_yscale("log")


def _curves_together(histories, out, x):
    runs = list(histories)
    part = "val" if any(h[0]["val_accuracy"].notna().any() for h in histories.values()) else "train"
    colours = plt.get_cmap("viridis")(np.linspace(0, 0.95, len(runs)))
    columns = min(4, 1 + (len(runs) - 1) // 12)
    legend_rows = -(-len(runs) // columns)
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2 + 0.14 * legend_rows))
    for ax, metric in zip(axes, ("cost", "loss", "accuracy")):
        for run, colour in zip(runs, colours):
            frame = pd.concat([h.set_index(x)[f"{part}_{metric}"] for h in histories[run]], axis=1)
            ax.plot(frame.index, frame.mean(axis=1).values, color=colour, label=run, linewidth=1)
        ax.set_title(f"{'validation' if part == 'val' else 'training'} {metric}, every run", fontsize=9)
        _curve_axes(ax, x, metric, pd.concat([h[0][f"train_{metric}"] for h in histories.values()]))
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=columns, fontsize=6, frameon=False)
    fig.tight_layout(rect=(0, (0.14 * legend_rows + 0.2) / (3.2 + 0.14 * legend_rows), 1, 1))
    _save(fig, out)
    plt.close(fig)


def weight_images(weights, label_names, out):
    """Rows of ten 32x32 class templates, one row per run (``{run: W (10, 3072)}``)."""
    runs = list(weights)
    fig, axes = plt.subplots(len(runs), 10, figsize=(10, 1.25 * len(runs) + 0.3), squeeze=False)
    for row, run in zip(axes, runs):
        W = weights[run]
        for k, ax in enumerate(row):
            img = W[k].reshape(3, 32, 32).transpose(1, 2, 0)
            span = img.max() - img.min()
            ax.imshow((img - img.min()) / (span if span > 0 else 1))
            ax.set_xticks([])
            ax.set_yticks([])
            if row is axes[0]:
                ax.set_title(label_names[k], fontsize=8)
        row[0].set_ylabel(run, fontsize=7, rotation=0, ha="right", va="center")
    fig.tight_layout()
    _save(fig, out)
    plt.close(fig)


def true_class_histograms(predictions, out):
    """For each model (``{label: (y_true, y_pred, p_true)}``): the probability given to
    the true class, for correctly and incorrectly classified test images."""
    fig, axes = plt.subplots(1, len(predictions), figsize=(4.5 * len(predictions), 3.2), squeeze=False)
    bins = np.linspace(0, 1, 41)
    for ax, (label, (y_true, y_pred, p_true)) in zip(axes[0], predictions.items()):
        correct = y_pred == y_true
        ax.hist(p_true[correct], bins=bins, alpha=0.6, label=f"correct ({correct.sum()})", color="tab:green")
        ax.hist(p_true[~correct], bins=bins, alpha=0.6, label=f"incorrect ({(~correct).sum()})", color="tab:red")
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("probability of the true class", fontsize=8)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("test images", fontsize=8)
    fig.tight_layout()
    _save(fig, out)
    plt.close(fig)


def search_scatter(tables, keys, out, metric="val_accuracy"):
    """Validation accuracy against each searched key, one colour per stage.

    A key whose values are all positive numbers is drawn on a log axis (the
    searches sample log10 of eta and lambda), one with a zero on a symlog
    axis, one that is not a number (a grid of layer sizes) by category.
    """
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 3.4), squeeze=False)
    for ax, key in zip(axes[0], keys):
        values = pd.concat([t[key] for t in tables.values()])
        numeric = pd.to_numeric(values, errors="coerce")
        categories = None if numeric.notna().all() else sorted(values.astype(str).unique())
        for label, table in tables.items():
            x = table[key].astype(str).map(categories.index) if categories else table[key].astype(float)
            ax.scatter(x, table[metric], label=label, s=18)
        if categories:
            ax.set_xticks(range(len(categories)), categories)
        elif (numeric > 0).all():
            ax.set_xscale("log")
        elif numeric.nunique() > 1:
            positive = numeric[numeric > 0]
            ax.set_xscale("symlog", linthresh=float(positive.min()) if len(positive) else 1.0)
        ax.set_xlabel(key)
        ax.set_ylabel("validation accuracy")
        ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, out)
    plt.close(fig)


def learning_rates(schedules, out):
    """eta against the update step for each run (``{run: (steps, etas)}``)."""
    fig, ax = plt.subplots(figsize=(6, 2.8))
    for run, (steps, etas) in schedules.items():
        ax.plot(steps, etas, label=run)
    ax.set_xlabel("update step")
    ax.set_ylabel("learning rate")
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, out)
    plt.close(fig)


def _mean_and_spread(values):
    """(mean, std) of one run's values over its seeds; std NaN under two seeds (no spread to show)."""
    values = np.asarray(values, dtype=float)
    return float(np.nanmean(values)), float(np.nanstd(values, ddof=1)) if len(values) > 1 else np.nan


def run_bars(runs, out):
    """Two bar charts side by side, one bar per run in the order of ``runs``: the final test accuracy (%, mean
    over seeds, an error bar of one std where there are two seeds or more) and the training time (mean seconds).

    ``runs``: ``{run: {"test_accuracy": [fraction per seed], "train_seconds": [seconds per seed],
    "stack_size": [models per seed's job]}}``.  A run whose models trained as a stack of several has its bar
    hatched and labelled: its time is the whole stack's, shared.  Returns the two BarContainers (accuracy,
    time), whose heights are the means.
    """
    names = list(runs)
    x = np.arange(len(names))
    fig, (acc_ax, time_ax) = plt.subplots(1, 2, figsize=(max(7.0, 1.2 * len(names) + 3), 3.2))
    accuracy = [_mean_and_spread(100 * np.asarray(runs[r]["test_accuracy"], dtype=float)) for r in names]
    acc_bars = acc_ax.bar(x, [m for m, _ in accuracy], color="tab:blue")
    spread = [(i, m, s) for i, (m, s) in enumerate(accuracy) if np.isfinite(s)]
    if spread:  # error bars only where there is a spread: one seed has none
        i, m, s = map(list, zip(*spread))
        acc_ax.errorbar(i, m, yerr=s, fmt="none", ecolor="black", capsize=3)
    acc_ax.set_ylabel("test accuracy (%)")
    seconds = [_mean_and_spread(runs[r]["train_seconds"])[0] for r in names]
    time_bars = time_ax.bar(x, seconds, color="tab:orange")
    for bar, r in zip(time_bars, names):
        stack = int(max(runs[r].get("stack_size", [1])))
        if stack > 1:  # the job's time, not this model's alone
            bar.set_hatch("//")
            time_ax.annotate(
                f"stack of {stack}", (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", fontsize=7
            )
    time_ax.set_ylabel("training time (s)")
    for ax in (acc_ax, time_ax):
        ax.set_xticks(x, names, rotation=30 if len(names) > 4 else 0, ha="right" if len(names) > 4 else "center")
        ax.tick_params(labelsize=8)
    fig.tight_layout()
    _save(fig, out)
    plt.close(fig)
    return acc_bars, time_bars


# The scorecard figure's panels: one per kind of number, each on the scale it is read on.
SCORECARD_PANELS = (
    ("accuracy", "accuracies (%)", "linear", 100),
    ("loss", "losses and costs", "linear", 1),
    ("hyper", "hyper-parameters", "log", 1),
    ("error", "gradient errors", "log", 1),
    ("gradient", "gradient statistics", "linear", 1),
    ("time", "training times (s)", "log", 1),
)
# "shown": a number set beside ours and not scored (a training time)
VERDICT_MARKERS = {"reproduced": "o", "missed": "x", "shown": "^", "preview": "d"}


def scorecard_figure(rows, out):
    """Ours against published, one marker per number: colour by report, marker by verdict, a panel per kind.

    ``rows`` are the scorecard's (``dd2424.pipeline.scorecard``); numbers we have no
    value for are left out (the table lists them).  Returns the figure (closed).
    """
    kinds = [p for p in SCORECARD_PANELS if any(r["kind"] == p[0] and r["ours"] for r in rows)]
    reports = list(dict.fromkeys(r["report"] for r in rows))
    colours = {r: plt.get_cmap("tab10")(i % 10) for i, r in enumerate(reports)}
    fig, axes = plt.subplots(1, max(len(kinds), 1), figsize=(3.3 * max(len(kinds), 1), 3.4), squeeze=False)
    for ax, (kind, title, scale, factor) in zip(axes[0], kinds):
        mine = [r for r in rows if r["kind"] == kind and r["ours"] and np.isfinite(r["ours"]["mean"])]
        xs = np.array([r["value"] * factor for r in mine])
        ys = np.array([r["ours"]["mean"] * factor for r in mine])
        for r, x, y in zip(mine, xs, ys):
            ax.scatter(x, y, marker=VERDICT_MARKERS[r["verdict"]], color=colours[r["report"]], s=22)
        if scale == "log" and (xs > 0).all() and (ys > 0).all():
            ax.set_xscale("log")
            ax.set_yscale("log")
        if len(xs):
            low, high = min(xs.min(), ys.min()), max(xs.max(), ys.max())
            ax.plot([low, high], [low, high], color="grey", lw=0.8, zorder=0)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("published")
        ax.set_ylabel("ours")
    handles = [plt.Line2D([], [], color=colours[r], marker="s", ls="", label=r) for r in reports]
    # the scored verdicts always, "shown" and "preview" where a number is
    verdicts = [v for v in VERDICT_MARKERS if v in ("reproduced", "missed") or any(r["verdict"] == v for r in rows)]
    handles += [plt.Line2D([], [], color="black", marker=VERDICT_MARKERS[v], ls="", label=v) for v in verdicts]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 5), fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.06 + 0.04 * (len(handles) // 5), 1, 1))
    _save(fig, out)
    plt.close(fig)
    return fig
