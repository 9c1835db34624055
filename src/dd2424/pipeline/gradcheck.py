"""Analytic gradients against centred finite differences, in float64."""

from pathlib import Path

import numpy as np
import pandas as pd

from dd2424.data.cifar import load_split
from dd2424.nn.spec import defaults, hidden_label

from .training import build_network


def relative_error(g_a, g_n, eps):
    return np.abs(g_a - g_n) / np.maximum(eps, np.abs(g_a) + np.abs(g_n))


def numerical_gradient(f, param, h, entries):
    """Fourth-order centred difference of scalar f() w.r.t. the flat ``entries`` of ``param``.

    (-f(x+2h) + 8 f(x+h) - 8 f(x-h) + f(x-2h)) / 12h: its truncation error is
    O(h^4), so a step large enough to keep round-off small is still exact
    enough for the 1e-6 relative-error bar.
    """
    flat = param.reshape(-1)
    grad = np.empty(len(entries))
    for j, i in enumerate(entries):
        old = flat[i]
        values = []
        for step in (2 * h, h, -h, -2 * h):
            flat[i] = old + step
            values.append(f())
        flat[i] = old
        # Differences first: equal values (a dead ReLU's bias) then give exactly 0.
        grad[j] = (8 * (values[1] - values[2]) - (values[0] - values[3])) / (12 * h)
    return grad


# Every pass of a check draws the same dropout masks: the cost it differentiates is one function.
MASK_SEED = 12345


def same_masks(net):
    net.noise_rng = np.random.default_rng(MASK_SEED)
    return net


def check_network(net, X, y, lam, h=1e-4, eps=1e-6, max_entries=None, rng=None):
    """One row per parameter tensor comparing analytic and numerical gradients.

    The analytic gradients are those of ``net`` (float64 for the checks); the
    finite differences are taken on an extended-precision copy, whose
    round-off (~1e-19 relative) is far below the 1e-6 bar even for entries
    whose gradient is nearly zero.  With ``max_entries``, a random subset of
    that many entries per tensor is compared (the full 3072-dimensional
    weights have 10^5 entries and more).
    """
    rng = np.random.default_rng(0) if rng is None else rng
    # Batch norm in training mode updates the moving averages on every
    # forward pass; they do not enter the training-mode cost, so that is harmless.
    _, grads = same_masks(net).loss_and_grads(X, y, lam)
    reference = net.astype(np.longdouble)
    X_ref = np.asarray(X, dtype=np.longdouble)
    rows = []
    for name, param in reference.params.items():
        size = param.size
        if max_entries and size > max_entries:
            entries = np.sort(rng.choice(size, max_entries, replace=False))
        else:
            entries = np.arange(size)
        g_n = numerical_gradient(lambda: same_masks(reference).cost(X_ref, y, lam, train=True), param, h, entries)
        g_a = grads[name].reshape(-1)[entries].astype(np.longdouble)
        rel = relative_error(g_a, g_n, eps)
        abs_error = np.abs(g_a - g_n)
        rows.append(
            {
                "parameter": name,
                "shape": "x".join(map(str, param.shape)),
                "entries_checked": len(entries),
                # an Assignment 1 report (2022) publishes these statistics of |g_a - g_n| and of the numerical gradient
                "mean_abs_error": float(abs_error.mean()),
                "std_abs_error": float(abs_error.std()),
                "max_abs_error": float(abs_error.max()),
                "max_rel_error": float(rel.max()),
                "mean_rel_error": float(rel.mean()),
                "max_abs_gradient": float(np.abs(g_a).max()),
                "grad_min": float(g_n.min()),
                "grad_max": float(g_n.max()),
                "grad_std": float(g_n.std()),
                "h": h,
                "eps": eps,
            }
        )
    return rows


def run_check(check, X, y):
    """Build the float64 network a check spec describes on the first dims/samples of X, y."""
    check = {**defaults(), **check}
    dims, samples = check["dims"], check["samples"]
    Xs = np.asarray(X[:samples, :dims], dtype=np.float64)
    ys = np.asarray(y[:samples])
    rng = np.random.default_rng(check.get("seed", 0))
    net = build_network(check, dims, rng, dtype=np.float64)
    rows = check_network(
        net, Xs, ys, check["lambda"], h=check["h"], eps=check["eps"], max_entries=check.get("max_entries"), rng=rng
    )
    for row in rows:
        row.update(
            {
                "check": check["name"],
                "loss": check["loss"],
                "dims": dims,
                "samples": samples,
                "hidden": hidden_label(check["hidden"]),
                "batch_norm": check["batch_norm"],
                "bn_position": check["bn_position"],
                "dropout": check["dropout"],
                "label_smoothing": check["label_smoothing"],
                "lambda": check["lambda"],
            }
        )
    return rows


def check_all(checks, split_X_path, log=print):
    """Run every check spec on training images of a prepared split; one table."""
    X, y = load_split(Path(split_X_path).parent, "train")
    rows = []
    for check in checks:
        found = run_check(check, X, y)
        worst = max(r["max_rel_error"] for r in found)
        log(
            f"{check['name']} {check['loss']}: dims {check['dims']}, samples {check['samples']}, "
            f"hidden {check['hidden']}, worst max_rel_error {worst:.2e}"
        )
        rows.extend(found)
    columns = [
        "check",
        "loss",
        "parameter",
        "shape",
        "dims",
        "samples",
        "hidden",
        "batch_norm",
        "bn_position",
        "dropout",
        "label_smoothing",
        "lambda",
        "entries_checked",
        "mean_abs_error",
        "std_abs_error",
        "max_abs_error",
        "max_rel_error",
        "mean_rel_error",
        "max_abs_gradient",
        "grad_min",
        "grad_max",
        "grad_std",
        "h",
        "eps",
    ]
    return pd.DataFrame(rows)[columns]
