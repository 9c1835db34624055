"""Data losses on class scores: each returns ``(mean loss, dscores, probabilities)``.

Softmax cross-entropy, multiple binary cross-entropy and the multi-class SVM
(hinge) loss.

Scores have the classes on the last axis and the samples on the one before:
(n, K) for one model, (M, n, K) for a stack; the loss is then one value per
model (the mean over its samples).  It keeps the scores' precision (so a
gradient check in extended precision keeps its digits); callers convert it
where they need to.

The L2 term on the weights belongs to the model, which owns the weights;
``cost = loss + lambda * sum ||W||^2`` is assembled there.
"""

import numpy as np


def _true_class(n, y):
    return np.arange(n), y


# The two definitions of label smoothing eps, by their targets: ``uniform`` (1 - eps) * onehot + eps / K
# (Szegedy et al. 2016, "Rethinking the Inception architecture", section 7; the bonus of earlier years),
# ``others`` 1 - eps for the true class and eps / (K - 1) for every other (DD2424 2025 Assignment 3, Eq. 23).
SMOOTHING_KINDS = ("uniform", "others")


def _smoothing(smoothing, scores, kind="uniform"):
    """Label smoothing as the eps of the ``uniform`` form, shaped (..., 1, 1) against (..., n, K)
    scores, or None when off.

    A scalar or one value per model; ``eps[..., 0]`` is then shaped against
    the (..., n) per-sample losses.  The ``others`` target of eps is the
    ``uniform`` target of eps K / (K - 1): 1 - eps K / (K - 1) + eps / (K - 1) = 1 - eps
    for the true class, eps / (K - 1) for the others.  Raises ValueError for
    another ``kind``.
    """
    if kind not in SMOOTHING_KINDS:
        raise ValueError(f"unknown label_smoothing_kind {kind!r}; choose one of {SMOOTHING_KINDS}")
    if smoothing is None:
        return None
    eps = np.asarray(smoothing, dtype=scores.dtype).reshape(np.shape(smoothing) + (1, 1))
    if kind == "others":
        k = scores.shape[-1]
        eps = eps * (k / (k - 1))
    return eps


def softmax_cross_entropy(scores, y, smoothing=None, kind="uniform"):
    """With ``smoothing`` eps, against the target (1 - eps) * onehot + eps / K (``kind`` uniform)
    or 1 - eps and eps / (K - 1) (``kind`` others)."""
    n, k = scores.shape[-2:]
    shifted = scores - scores.max(axis=-1, keepdims=True)
    log_z = np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    log_p = shifted - log_z
    p = np.exp(log_p)
    rows = _true_class(n, y)
    per_sample = -log_p[..., rows[0], rows[1]]
    dscores = p.copy()
    dscores[..., rows[0], rows[1]] -= 1
    eps = _smoothing(smoothing, scores, kind)
    if eps is not None:
        per_sample = (1 - eps[..., 0]) * per_sample - eps[..., 0] * log_p.mean(axis=-1)
        # p - target = (p - onehot) + eps * (onehot - 1/K)
        dscores[..., rows[0], rows[1]] += eps[..., 0]
        dscores -= eps / k
    dscores /= n
    return per_sample.mean(axis=-1), dscores, p


def _log_sigmoid(s):
    # log(sigmoid(s)) without overflow for large |s|.
    return -np.logaddexp(0, -s)


def multiple_binary_cross_entropy(scores, y, smoothing=None, kind="uniform"):
    """Mean over samples of -(1/K) sum_k [y_k log s(s_k) + (1 - y_k) log(1 - s(s_k))].

    With ``smoothing`` eps the targets y_k are (1 - eps) * onehot + eps / K
    (``kind`` uniform) or 1 - eps and eps / (K - 1) (``kind`` others).
    """
    n, k = scores.shape[-2:]
    onehot = np.zeros(scores.shape[-2:], dtype=scores.dtype)
    onehot[_true_class(n, y)] = 1
    eps = _smoothing(smoothing, scores, kind)
    if eps is not None:
        onehot = (1 - eps) * onehot + eps / k
    per_sample = -(onehot * _log_sigmoid(scores) + (1 - onehot) * _log_sigmoid(-scores)).sum(axis=-1) / k
    p = np.exp(_log_sigmoid(scores))
    dscores = (p - onehot) / (k * n)
    return per_sample.mean(axis=-1), dscores, p


# The SVM's margin: a wrong class costs nothing once its score is this far below the true class's.
SVM_MARGIN = 1.0


def multiclass_svm(scores, y, smoothing=None, kind="uniform"):
    """Multi-class SVM (hinge) loss: mean over samples of sum_{j != y} max(0, s_j - s_y + 1).

    The loss of Assignment 1's bonus (DD2424, "train using the multi-class
    SVM loss"), as in CS231n's linear classifiers notes (Weston and Watkins'
    form: a sum over the wrong classes, margin 1); L2 is the model's, as for
    the other losses.  Scores (n, K) or (M, n, K), y (n,) class indices;
    returns the loss per model (a scalar for (n, K)), dscores of the scores'
    shape, and probabilities.

    At a margin of exactly 0 the hinge has no derivative; the gradient taken
    there is 0 (the subgradient of an inactive margin), so a gradient check
    must keep its margins away from 0 by more than its step.

    "Probabilities" of an SVM (the histograms of the probability given to the
    true class, and ``predictions.npz``) are the softmax of its scores: the
    SVM has none of its own, and the softmax keeps the argmax (accuracy is
    unchanged) and the order of the classes.  They are not calibrated.

    Raises ValueError when ``smoothing`` is given (of either ``kind``): label
    smoothing has no target distribution to smooth for a hinge loss.
    """
    if smoothing is not None:
        raise ValueError("label smoothing is not defined for the svm loss: set label_smoothing to 0")
    n = scores.shape[-2]
    rows = _true_class(n, y)
    true_score = scores[..., rows[0], rows[1]][..., None]
    margins = scores - true_score + SVM_MARGIN
    # The true class's own margin is the constant 1, not a term of the sum.
    margins[..., rows[0], rows[1]] = 0
    active = margins > 0
    per_sample = np.where(active, margins, 0).sum(axis=-1)
    # d/ds_j = 1 for each active wrong class; d/ds_y = -(the number of active wrong classes).
    dscores = active.astype(scores.dtype)
    dscores[..., rows[0], rows[1]] = -active.sum(axis=-1)
    dscores /= n
    shifted = scores - scores.max(axis=-1, keepdims=True)
    p = np.exp(shifted)
    p /= p.sum(axis=-1, keepdims=True)
    return per_sample.mean(axis=-1), dscores, p


LOSSES = {
    "softmax": softmax_cross_entropy,
    "bce": multiple_binary_cross_entropy,
    "svm": multiclass_svm,
}


def get_loss(name):
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; choose one of {sorted(LOSSES)}") from None
