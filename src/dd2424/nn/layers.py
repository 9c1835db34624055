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

    ``b`` (M, out) is None before a batch norm that precedes the ReLU, whose beta takes its place.
    """
    M, out, d = W.shape
    if x.ndim == 2:
        # One GEMM for the whole stack: (n, d) @ (d, M*out).
        s = (x @ W.reshape(M * out, d).T).reshape(x.shape[0], M, out).transpose(1, 0, 2)
    else:
        s = x @ W.transpose(0, 2, 1)
    return (s if b is None else s + b[:, None, :]), (x, W)


def linear_backward(dout, cache, input_grad=True, bias=True):
    """(dx, dW, db); dx is None when ``input_grad`` is false (the data needs none),
    db None without ``bias`` (a layer before batch norm has none)."""
    x, W = cache
    M, out, d = W.shape
    if x.ndim == 2:
        # (M*out, n) @ (n, d): the weight gradients of every model in one GEMM.
        dW = (dout.transpose(0, 2, 1).reshape(M * out, -1) @ x).reshape(M, out, d)
    else:
        dW = dout.transpose(0, 2, 1) @ x
    dx = dout @ W if input_grad else None
    return dx, dW, (np.add.reduce(dout, axis=-2) if bias else None)


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
    # add.reduce and in-place scaling: ndarray.mean is several times slower on
    # a stack's (M, n, d) float32 activations.
    scale = 1.0 / x.shape[-2]
    mean = np.add.reduce(x, axis=-2, keepdims=True)
    mean *= scale
    x_hat = x - mean
    var = np.add.reduce(np.square(x_hat), axis=-2, keepdims=True)
    var *= scale
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat *= inv_std
    out = x_hat * gamma
    out += beta
    return out, (x_hat, gamma, inv_std), mean, var


def batchnorm_inference(x, gamma, beta, mean, var, eps=1e-8):
    """gamma * (x - mean) / sqrt(var + eps) + beta, as one scale and one shift per feature."""
    scale = gamma / np.sqrt(var + eps)
    out = x * scale
    out += beta - mean * scale
    return out


def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    dbeta = np.add.reduce(dout, axis=-2, keepdims=True)
    dgamma = np.add.reduce(dout * x_hat, axis=-2, keepdims=True)
    # The chain rule through the batch mean and variance, in its compact form:
    # dx = gamma * inv_std * (dout - (dbeta + x_hat * dgamma) / n).
    shift = x_hat * dgamma
    shift += dbeta
    shift *= 1.0 / dout.shape[-2]
    dx = dout - shift
    dx *= gamma * inv_std
    return dx, dgamma[..., 0, :], dbeta[..., 0, :]
