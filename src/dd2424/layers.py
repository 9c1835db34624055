"""Forward/backward pairs of the network's layers.

Data is row-major: a mini-batch ``x`` has shape (n, d), one sample per row,
so that a batch gathered from the memory-mapped training matrix is a block
of contiguous rows.  Weight matrices keep the course's (out, in) shape.
Each ``*_forward`` returns ``(out, cache)``; the matching ``*_backward``
takes the upstream gradient and that cache.
"""

import numpy as np


def linear_forward(x, W, b):
    return x @ W.T + b, (x, W)


def linear_backward(dout, cache):
    x, W = cache
    return dout @ W, dout.T @ x, dout.sum(axis=0)


def relu_forward(x):
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def batchnorm_forward(x, gamma, beta, eps=1e-8):
    """Training-mode batch norm with the biased (divide by n) variance.

    Returns ``(out, cache, mean, var)``; the caller keeps the moving averages.
    """
    mean = x.mean(axis=0)
    var = x.var(axis=0)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std), mean, var


def batchnorm_inference(x, gamma, beta, mean, var, eps=1e-8):
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    n = dout.shape[0]
    dgamma = (dout * x_hat).sum(axis=0)
    dbeta = dout.sum(axis=0)
    dx_hat = dout * gamma
    # The compact form of the chain rule through the batch mean and variance.
    dx = inv_std / n * (n * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0))
    return dx, dgamma, dbeta
