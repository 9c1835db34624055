"""Readers of a trained model's cached files that name the file when it is damaged.

A cached output cut short (a full disk, a copy interrupted) or edited by
hand would otherwise surface as a bare ``JSONDecodeError`` or
``BadZipFile`` in a figure or summary job; here it is refused with the
file's path and the one command that trains it again.
"""

import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from dd2424.nn import trainer
from dd2424.util.damaged import CorruptResult

HISTORY_COLUMNS = ["update", "epoch", "eta", "val_loss", "val_cost", "val_accuracy"]


def read_metrics(path):
    try:
        with open(path, encoding="utf-8") as f:
            metrics = json.load(f)
    except json.JSONDecodeError as e:
        raise CorruptResult(path, f"not valid JSON ({e})") from None
    if not isinstance(metrics, dict) or "test_accuracy" not in metrics or "run" not in metrics:
        raise CorruptResult(path, "no test_accuracy or run in it")
    return metrics


def read_history(path):
    try:
        history = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise CorruptResult(path, f"not a readable CSV table ({e})") from None
    missing = [c for c in HISTORY_COLUMNS if c not in history.columns]
    if missing:
        raise CorruptResult(path, f"columns {missing} are missing")
    if history.empty:
        raise CorruptResult(path, "it has no rows")
    # A row cut short leaves its last fields empty; the update count never is.  A split without
    # a validation set leaves the val_* fields of every row empty.
    val_missing = history["val_accuracy"].isna()
    if history["update"].isna().any() or (val_missing.any() and not val_missing.all()):
        raise CorruptResult(path, "a row is incomplete (the file was cut short)")
    with open(path, "rb") as f:  # a whole file ends its last row; one cut short at a field boundary does not
        f.seek(-1, 2)
        if f.read(1) != b"\n":
            raise CorruptResult(path, "cut short: its last line is incomplete")
    problem = rows_problem(Path(path).with_name("metrics.json"), history)
    if problem:
        raise CorruptResult(path, problem)
    return history


def rows_problem(metrics_path, history):
    """Why a model's history is not the rows its finished run recorded (``schedule_problem``), judged by its
    metrics.json beside it; None where that is whole and agrees, or is missing or unreadable (named by
    its own reader), or the run diverged (its history stops where it did)."""
    try:
        metrics = read_metrics(metrics_path)
    except (CorruptResult, OSError):
        return None
    if metrics.get("diverged"):
        return None
    problem = schedule_problem(metrics, history)
    if problem:
        return problem
    last = int(history["update"].iloc[-1])
    if "updates" in metrics and last != metrics["updates"]:
        return (
            f"its last row is update {last}, but training ended at update {metrics['updates']} (metrics.json): "
            "rows are missing"
        )
    return None


def schedule_problem(metrics, history):
    """Why a finished run's history.csv is not the rows its schedule records (None if it is): a row
    removed, added or moved.  Results written before metrics.json recorded ``curves`` are judged by
    their first row (update 0: curves; a single row: none; otherwise validation curves)."""
    if "updates" not in metrics or "train_images" not in metrics:
        return None
    got = [int(u) for u in history["update"]]
    curves = metrics.get("curves")
    if curves is None:
        curves = True if got[0] == 0 else (False if len(got) == 1 else "val")
    try:
        expected = trainer.recorded_updates(metrics, metrics["train_images"], metrics["updates"], curves)
    except (KeyError, TypeError, ValueError):
        return None  # a spec this version cannot schedule: the other checks still apply
    if got == expected:
        return None
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    what = []
    if missing:
        what.append(f"{len(missing)} row(s) missing (updates {_few(missing)})")
    if extra:
        what.append(f"{len(extra)} row(s) its schedule never records (updates {_few(extra)})")
    if not what:
        what.append("its rows are out of order")
    return f"{'; '.join(what)}: its schedule records {len(expected)} rows, it has {len(got)}"


def _few(values, shown=4):
    return ", ".join(map(str, values[:shown])) + (", ..." if len(values) > shown else "")


def load_predictions(path):
    try:
        with np.load(path) as f:
            return f["y_true"], f["y_pred"], f["p_true"]
    except (zipfile.BadZipFile, EOFError, KeyError, ValueError, OSError) as e:
        raise CorruptResult(path, f"not a readable predictions file ({type(e).__name__}: {e})") from None


def load_probabilities(path):
    """(y_true (n,), probabilities (n, classes) float32) of a model's test predictions.

    A file written before the probabilities were stored is refused by name, with the command that
    trains its model again.
    """
    try:
        with np.load(path) as f:
            stored = f.files
            y_true = f["y_true"]
            probabilities = f["probabilities"] if "probabilities" in stored else None
    except (zipfile.BadZipFile, EOFError, KeyError, ValueError, OSError) as e:
        raise CorruptResult(path, f"not a readable predictions file ({type(e).__name__}: {e})") from None
    if probabilities is None:
        raise CorruptResult(path, "it has no class probabilities (written before they were stored)")
    if probabilities.ndim != 2 or len(probabilities) != len(y_true):
        raise CorruptResult(path, f"its probabilities have shape {probabilities.shape} for {len(y_true)} images")
    return y_true, probabilities
