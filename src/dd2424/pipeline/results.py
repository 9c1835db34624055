"""Readers of a trained model's cached files that name the file when it is damaged.

A cached output cut short (a full disk, a copy interrupted) or edited by
hand would otherwise surface as a bare ``JSONDecodeError`` or
``BadZipFile`` in a figure or summary job; here it is refused with the
file's path and the one command that trains it again.
"""

import json
import zipfile

import numpy as np
import pandas as pd

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
    return history


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
