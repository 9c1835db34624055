"""Forward/backward pairs of the network's layers, with a leading model axis.

A network here is a *stack* of M models of the same shape trained side by
side on the same mini-batches (the points of a search; a single run is a
stack of one).  Activations have shape (M, n, d): model, sample, feature.
The input batch ``x`` (n, d) is shared by every model, so the first layer
of all M models is one product ``x @ [W_1 ... W_M]^T``; deeper layers are
batched products.  Weights keep the course's (out, in) shape per model:
(M, out, in).  Each ``*_forward`` returns ``(out, cache)``; the matching
``*_backward`` takes the upstream gradient and that cache.
"""

import numpy as np


def linear_forward(x, W, b=None):
    """Scores (M, n, out) of x (n, in) shared by every model, or (M, n, in).

    ``b`` (M, out) is None before batch norm, whose beta takes its place.
    """
    M, out, d = W.shape
    if x.ndim == 2:
        # One GEMM for the whole stack: (n, d) @ (d, M*out).
        s = (x @ W.reshape(M * out, d).T).reshape(x.shape[0], M, out).transpose(1, 0, 2)
    else:
        s = x @ W.transpose(0, 2, 1)
    return (s if b is None else s + b[:, None, :]), (x, W)


def linear_backward(dout, cache, input_grad=True):
    """(dx, dW, db); dx is None when ``input_grad`` is false (the data needs none)."""
    x, W = cache
    M, out, d = W.shape
    if x.ndim == 2:
        # (M*out, n) @ (n, d): the weight gradients of every model in one GEMM.
        dW = (dout.transpose(0, 2, 1).reshape(M * out, -1) @ x).reshape(M, out, d)
    else:
        dW = dout.transpose(0, 2, 1) @ x
    dx = dout @ W if input_grad else None
    return dx, dW, dout.sum(axis=-2)


def relu_forward(x):
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def dropout_forward(x, rate, uniform):
    """Inverted dropout: zero each unit with probability ``rate``, scale the kept ones by 1 / (1 - rate).

    ``rate`` broadcasts against x ((M, 1, 1) for a stack, one rate per
    model); ``uniform`` holds one U[0, 1) draw per unit, so that a caller
    who repeats the draws (a gradient check) gets the same mask.  At rate 0
    every unit is kept and nothing is scaled.  The expected activation is
    unchanged, so inference uses the network without the layer.
    """
    keep = (uniform >= rate) / (1 - rate)
    keep = keep.astype(x.dtype, copy=False)
    return x * keep, keep


def dropout_backward(dout, keep):
    return dout * keep


def batchnorm_forward(x, gamma, beta, eps=1e-8):
    """Training-mode batch norm over the sample axis (-2), biased variance.

    ``gamma`` and ``beta`` broadcast against x: (d,) for x (n, d), (M, 1, d)
    for a stack.  Returns ``(out, cache, mean, var)``, mean and var with the
    sample axis kept; the caller keeps the moving averages.
    """
    mean = x.mean(axis=-2, keepdims=True)
    centred = x - mean
    var = np.square(centred).mean(axis=-2, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = centred * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std), mean, var


def batchnorm_inference(x, gamma, beta, mean, var, eps=1e-8):
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    n = dout.shape[-2]
    dgamma = (dout * x_hat).sum(axis=-2)
    dbeta = dout.sum(axis=-2)
    dx_hat = dout * gamma
    # The compact form of the chain rule through the batch mean and variance.
    dx = (
        inv_std
        / n
        * (n * dx_hat - dx_hat.sum(axis=-2, keepdims=True) - x_hat * (dx_hat * x_hat).sum(axis=-2, keepdims=True))
    )
    return dx, dgamma, dbeta
