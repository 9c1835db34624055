"""Analytic gradients against centred finite differences, in float64; and the
patchify network against the course's debug file (``check_debug_file``)."""

from pathlib import Path

import numpy as np
import pandas as pd

from dd2424.data.cifar import N_CLASSES, load_split
from dd2424.nn import patchify
from dd2424.nn.model import Network
from dd2424.nn.spec import defaults, hidden_label, summary_columns

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
    """Build the float64 network a check spec describes on the first dims/samples of X, y.

    A check may hold the run spec's convolution keys (``patch_size``,
    ``patch_filters``; then ``dims`` must be 3072, whole images) and
    ``label_smoothing_kind``.  Raises ValueError for a convolution on fewer dims.
    """
    check = {**defaults(), **check}
    dims, samples = check["dims"], check["samples"]
    if check["patch_size"] is not None and dims != X.shape[1]:
        raise ValueError(f"check {check.get('name')!r}: a patchify layer needs whole images, dims {X.shape[1]}")
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
                # the check's network: every run-spec key as summary.csv writes it
                **{k: _cell(k, check[k]) for k in spec_columns()},
            }
        )
    return rows


def spec_columns():
    """The run-spec keys of the table (summary.csv's, less the split, which is the check's own, and the
    loss, a column of its own)."""
    return [k for k in summary_columns() if k not in ("split", "loss")]


def _cell(key, value):
    """A run-spec value as one table cell: hidden sizes as '50-30', filter banks as '2+4'."""
    if key == "hidden":
        return hidden_label(value)
    return bank_label(value) if key in ("patch_size", "patch_filters") else value


def bank_label(values):
    """A patchify key as one table cell: None -> 'none', 4 -> '4', [2, 4] -> '2+4'."""
    if values is None:
        return "none"
    return "+".join(map(str, np.atleast_1d(values).tolist()))


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
        *spec_columns(),
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


# What the course's debug file holds (DD2424 2025 Assignment 3, Exercises 1-2), as its Python code reads it:
# column data, one image or vector per column.
DEBUG_FORWARD = ("MX", "conv_outputs", "conv_flat", "X1", "P")
DEBUG_GRADIENTS = {"grad_Fs_flat": "F1", "grad_W1": "W1", "grad_b1": "b1", "grad_W2": "W2", "grad_b2": "b2"}


def debug_network(data):
    """The float64 network of the debug file ``data`` (a mapping of its arrays) and its inputs: (net, X (n, 3072), y).

    One bank of n_f filters of f x f x 3 (``Fs`` (f, f, 3, n_f), flattened
    as the course does, ``Fs.reshape((3 f^2, n_f), order="C")``, which is
    ``F1``'s layout), no conv bias (``c1`` stays 0), one hidden layer
    (``W1`` (n_h, n_p n_f), ``b1`` (n_h, 1)), ``W2``, ``b2``; labels from
    the one-hot ``Y`` (10, n).
    """
    Fs = np.asarray(data["Fs"], dtype=np.float64)
    f, n_f = Fs.shape[0], Fs.shape[3]
    W1, W2 = np.asarray(data["W1"], dtype=np.float64), np.asarray(data["W2"], dtype=np.float64)
    net = Network(
        [patchify.CHANNELS * patchify.SIDE**2, W1.shape[0], N_CLASSES],
        dtype=np.float64,
        rng=np.random.default_rng(0),
        patch_size=f,
        patch_filters=n_f,
    )
    net.params["F1"][0] = Fs.reshape(-1, n_f)
    net.params["c1"][0] = 0.0
    net.params["W1"][0], net.params["b1"][0] = W1, np.asarray(data["b1"]).reshape(-1)
    net.params["W2"][0], net.params["b2"][0] = W2, np.asarray(data["b2"]).reshape(-1)
    X = np.asarray(data["X"], dtype=np.float64).T.copy()
    y = np.asarray(data["Y"]).argmax(axis=0)
    return net, X, y


def debug_outputs(net, X, y):
    """Our network's values in the debug file's layout: {key: array} for ``DEBUG_FORWARD`` and ``DEBUG_GRADIENTS``.

    MX (n_p, 3 f^2, n), conv_outputs (P, P, n_f, n) before the ReLU, conv_flat
    (n_p n_f, n) after it, X1 (n_h, n), P (10, n), and the gradients of the
    mean cross-entropy (no L2) in the parameters' own shapes, b1 and b2 as
    columns.  Everything comes from the network's own forward and backward
    passes (the caches), not from a second implementation.  The network is
    the debug file's: one bank, one hidden layer, no dropout.
    """
    scores, caches = net.forward(X, train=True)
    _, dscores, p = net.loss_fn(scores, y)
    grads = net.backward(dscores, caches)
    (f, n_f), n = net.banks[0], X.shape[0]
    MX, H = caches[-1][0]
    grid = patchify.SIDE // f
    # The layer keeps only its ReLU's output: the outputs before it from the cached M_X.
    pre_relu = (MX @ net.params["F1"][0] + net.params["c1"][0]).reshape(n, grid, grid, n_f)
    hidden = caches[1][0][0]  # the second linear layer's input, x1
    out = {
        "MX": MX.reshape(n, grid * grid, -1).transpose(1, 2, 0),
        "conv_outputs": pre_relu.transpose(1, 2, 3, 0),
        "conv_flat": H[0].T,
        "X1": hidden[0].T,
        "P": p[0].T,
    }
    for key, name in DEBUG_GRADIENTS.items():
        g = grads[name][0]
        out[key] = g[:, None] if g.ndim == 1 else g
    return out


def check_debug_file(path, eps=1e-10):
    """{key: max relative error} of our patchify network against the course's ``debug_conv_info.npz``.

    The file (DD2424 2025 Assignment 3, Exercises 1-2: f = 4, n_f = 2, n_h = 10,
    5 images, no conv bias, no L2) holds X (3072, n), Fs, the forward values
    ``DEBUG_FORWARD`` and the gradients ``DEBUG_GRADIENTS``; each present is
    compared, |a - b| / max(eps, |a| + |b|) entry by entry (the relative
    error of the gradient checks).  A match says that our patch layout (M_X's
    rows and columns), the filters' flattening and the order of h (W1's
    columns) are the course's.  Raises KeyError when X, Fs, W1, b1, W2, b2
    or Y is missing.
    """
    with np.load(path) as f:
        data = {k: f[k] for k in f.files}
    ours = debug_outputs(*debug_network(data))
    errors = {}
    for key in (*DEBUG_FORWARD, *DEBUG_GRADIENTS):
        if key in data:
            theirs = np.asarray(data[key], dtype=np.float64)
            if theirs.shape != ours[key].shape:
                errors[key] = np.inf
            else:
                errors[key] = float(relative_error(ours[key], theirs, eps).max())
    return errors


def debug_file_rows(path, eps=1e-10):
    """Rows of the gradient-check table for the course's debug file (``check_debug_file``'s comparison): one
    per array it holds, with its shape, entries, and max absolute and relative error of ours against it."""
    with np.load(path) as f:
        data = {k: f[k] for k in f.files}
    ours = debug_outputs(*debug_network(data))
    rows = []
    for key in (*DEBUG_FORWARD, *DEBUG_GRADIENTS):
        if key not in data:
            continue
        theirs = np.asarray(data[key], dtype=np.float64)
        same = theirs.shape == ours[key].shape
        rows.append(
            {
                "check": "course_debug_file",
                "loss": "softmax",
                "parameter": key,
                "shape": "x".join(map(str, theirs.shape)),
                "entries_checked": int(theirs.size),
                "max_abs_error": float(np.abs(ours[key] - theirs).max()) if same else np.inf,
                "max_rel_error": float(relative_error(ours[key], theirs, eps).max()) if same else np.inf,
            }
        )
    return rows
