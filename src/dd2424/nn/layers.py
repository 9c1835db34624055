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

import functools

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


# The images: CIFAR-10's rows are channel-major, 3 x 32 x 32 (red plane, green, blue; each row by row).
SIDE, CHANNELS = 32, 3


@functools.lru_cache(maxsize=None)
def patch_order(f):
    """Where M_X's values sit in an image row: an int64 index (n_p * 3f^2,) into its 3072 values.

    Patch p = P * row + column of the P x P grid (P = floor(32 / f), patches in
    row-major order; the last 32 - P f rows and columns are dropped), and
    inside a patch the course's order: ``X_ims[i:i+f, j:j+f, :].reshape(3 f^2,
    order="C")`` of DD2424 2025 Assignment 3 (Exercise 1), i.e. value (a, b, ch) of the
    patch at a * 3f + b * 3 + ch, rows of the patch slowest and the channel
    fastest; the filters' rows are ``Fs.reshape((3 f^2, n_f), order="C")`` in
    the same order.  Raises ValueError unless 1 <= f <= 32.
    """
    if not 1 <= f <= SIDE:
        raise ValueError(f"a patch of {f} x {f} pixels does not fit a {SIDE} x {SIDE} image")
    grid = SIDE // f
    image = np.arange(CHANNELS * SIDE * SIDE).reshape(CHANNELS, SIDE, SIDE)[:, : grid * f, : grid * f]
    # (channel, patch row, a, patch column, b) -> (patch row, patch column, a, b, channel)
    return image.reshape(CHANNELS, grid, f, grid, f).transpose(1, 3, 2, 4, 0).reshape(-1)


def patch_count(f):
    """n_p = floor(32 / f)^2, the patches of one image."""
    return (SIDE // f) ** 2


def patch_matrix(X, f):
    """M_X of a whole batch: (n * n_p, 3 f^2), image k's patches in rows k n_p .. (k + 1) n_p - 1.

    X (n, 3072) holds channel-major images (after any augmentation).  One
    gather of each row's values in ``patch_order``: every image is permuted
    alike, so the batch needs no loop, and the result is contiguous.  (The
    indices are in range by construction: mode "wrap" spares ``take`` its
    checks, measured 10-40 % faster than the default.)
    """
    return X.take(patch_order(f), axis=1, mode="wrap").reshape(X.shape[0] * patch_count(f), CHANNELS * f * f)


def patchify_forward(X, F, c, f):
    """One bank of the patchify layer: H = max(0, M_X F_all + c) for every image and model.

    X (n, 3072) is shared by the stack; F (M, 3 f^2, n_f) holds each model's
    F_all, one filter per column (DD2424 2025 Assignment 3, Background 3:
    H = M_X F_all); c (M, n_f) the filters' biases.  The whole stack is one
    GEMM (n n_p, 3 f^2) @ (3 f^2, M n_f).  Returns H (M, n, n_p n_f), image
    k's row holding patch p's n_f outputs at p n_f .. (p + 1) n_f - 1 (the
    course's ``conv_outputs_mat.reshape((n_p * n_f, n), order="C")``), and
    the cache ``(M_X, H)``: H is its own ReLU mask (H > 0 where its input was).
    """
    M, K, n_f = F.shape
    n = X.shape[0]
    n_p = patch_count(f)
    MX = patch_matrix(X, f)
    filters = F[0] if M == 1 else F.transpose(1, 0, 2).reshape(K, M * n_f)
    H = MX @ filters
    # The bias repeated along each image's whole row: a broadcast over rows of only M n_f values is several
    # times slower where n_f is small.
    rows = H.reshape(n, n_p * M * n_f)
    rows += np.tile(c.reshape(-1), n_p)
    np.maximum(rows, 0, out=rows)
    # (n, n_p, M, n_f) -> (M, n, n_p n_f): a view for one model, a copy for a stack.
    H = H.reshape(n, n_p, M, n_f).transpose(2, 0, 1, 3).reshape(M, n, n_p * n_f)
    return H, (MX, H)


# Rows of M_X per block of the filters' gradient: OpenBLAS's (3 f^2, r) @ (r, n_f) products are fastest at a
# few hundred rows; one product over all n n_p rows (1,600-6,400) was measured 1.5-1.7 times slower for n_f = 40
# (f 4 and 8, batch 100), and the same within noise for the other architectures of the assignment.
BLOCK_ROWS = 256


def filter_gradient(MX, G, n):
    """M_X^T G: (3 f^2, n n_p) @ (n n_p, m) for the n images' M_X (n n_p, 3 f^2) and G (n n_p, m).

    One batched product over equal blocks of whole images, summed: of the
    divisors d of n, the d images whose rows come nearest ``BLOCK_ROWS``
    (by ratio; batch 100: 4 images of f 4, 20 of f 8, 50 of f 16).  One
    product where no divisor comes within a factor 2 (a last mini-batch of
    a prime size) or the block would be the whole batch.
    """
    per_image = MX.shape[0] // n
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    images = min(divisors, key=lambda d: abs(np.log(d * per_image / BLOCK_ROWS)))
    if images == n or not 0.5 <= images * per_image / BLOCK_ROWS <= 2:
        return MX.T @ G
    blocks = n // images
    rows = images * per_image
    partial = np.matmul(MX.reshape(blocks, rows, -1).transpose(0, 2, 1), G.reshape(blocks, rows, -1))
    return np.add.reduce(partial, axis=0)


def patchify_backward(dH, cache):
    """(dF (M, 3 f^2, n_f), dc (M, n_f)) from dH (M, n, n_p n_f), the gradient of the bank's output.

    Through the ReLU, then dF_all = sum over the batch of M_X^T G (the course's
    Eq. 21-22 up to its 1 / n, which dH already carries: the loss is a batch
    mean), for the whole stack one product (3 f^2, n n_p) @ (n n_p, M n_f)
    (``filter_gradient``), and dc the sum of G over the batch and the patches.  The input gradient is
    never computed: the input is the data.  ``dH`` may be changed in place.
    """
    MX, H = cache
    M, n, width = H.shape
    K = MX.shape[1]
    n_f = width * n // MX.shape[0]
    dH *= H > 0
    # (M, n, n_p n_f) -> (n n_p, M n_f), a view for one model of one bank
    G = dH[0].reshape(-1, n_f) if M == 1 else dH.reshape(M, -1, n_f).transpose(1, 0, 2).reshape(-1, M * n_f)
    dF = filter_gradient(MX, G, n)
    # Over the images first, along rows of n_p M n_f values, then over the patches.
    dc = np.add.reduce(G.reshape(n, -1), axis=0).reshape(-1, M, n_f).sum(axis=0)
    if M == 1:
        return dF[None], dc
    return np.ascontiguousarray(dF.reshape(K, M, n_f).transpose(1, 0, 2)), dc
