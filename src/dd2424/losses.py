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


def softmax(scores):
    shifted = scores - scores.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def _true_class(n, y):
    return np.arange(n), y


def softmax_cross_entropy(scores, y):
    n = scores.shape[-2]
    shifted = scores - scores.max(axis=-1, keepdims=True)
    log_z = np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    log_p = shifted - log_z
    p = np.exp(log_p)
    rows = _true_class(n, y)
    loss = -log_p[..., rows[0], rows[1]].mean(axis=-1)
    dscores = p.copy()
    dscores[..., rows[0], rows[1]] -= 1
    dscores /= n
    return loss, dscores, p


def _log_sigmoid(s):
    # log(sigmoid(s)) without overflow for large |s|.
    return -np.logaddexp(0, -s)


def multiple_binary_cross_entropy(scores, y):
    """Mean over samples of -(1/K) sum_k [y_k log s(s_k) + (1 - y_k) log(1 - s(s_k))]."""
    n, k = scores.shape[-2:]
    onehot = np.zeros(scores.shape[-2:], dtype=scores.dtype)
    onehot[_true_class(n, y)] = 1
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
