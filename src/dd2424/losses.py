"""Data losses on class scores: each returns ``(mean loss, dscores, probabilities)``.

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


def _smoothing(smoothing, scores):
    """Label smoothing shaped (..., 1, 1) against (..., n, K) scores, or None when off.

    A scalar or one value per model; ``eps[..., 0]`` is then shaped against
    the (..., n) per-sample losses.
    """
    if smoothing is None:
        return None
    return np.asarray(smoothing, dtype=scores.dtype).reshape(np.shape(smoothing) + (1, 1))


def softmax_cross_entropy(scores, y, smoothing=None):
    """With ``smoothing`` eps, against the target (1 - eps) * onehot + eps / K."""
    n, k = scores.shape[-2:]
    shifted = scores - scores.max(axis=-1, keepdims=True)
    log_z = np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    log_p = shifted - log_z
    p = np.exp(log_p)
    rows = _true_class(n, y)
    per_sample = -log_p[..., rows[0], rows[1]]
    dscores = p.copy()
    dscores[..., rows[0], rows[1]] -= 1
    eps = _smoothing(smoothing, scores)
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


def multiple_binary_cross_entropy(scores, y, smoothing=None):
    """Mean over samples of -(1/K) sum_k [y_k log s(s_k) + (1 - y_k) log(1 - s(s_k))].

    With ``smoothing`` eps the targets y_k are (1 - eps) * onehot + eps / K.
    """
    n, k = scores.shape[-2:]
    onehot = np.zeros(scores.shape[-2:], dtype=scores.dtype)
    onehot[_true_class(n, y)] = 1
    eps = _smoothing(smoothing, scores)
    if eps is not None:
        onehot = (1 - eps) * onehot + eps / k
    per_sample = -(onehot * _log_sigmoid(scores) + (1 - onehot) * _log_sigmoid(-scores)).sum(axis=-1) / k
    p = np.exp(_log_sigmoid(scores))
    dscores = (p - onehot) / (k * n)
    return per_sample.mean(axis=-1), dscores, p


LOSSES = {
    "softmax": softmax_cross_entropy,
    "bce": multiple_binary_cross_entropy,
}


def get_loss(name):
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; choose one of {sorted(LOSSES)}") from None
