"""The patchify convolution of the 2025-2026 Assignment 3: n_f filters of f x f x 3 applied with stride f and no
padding, as one GEMM of a batch's patch matrix M_X with the filters, for a stack of models (leading model axis,
as in ``layers``); its backward pass; and the banks a run spec's ``patch_size`` and ``patch_filters`` describe.

With ``patch_size`` f and ``patch_filters`` n_f (DD2424 2025 Assignment 3,
Background 1) the images first pass a convolution with n_f filters of
f x f x 3 applied with stride f and no padding, plus a bias per filter and a
ReLU: H_i = max(0, X * F_i + c_i); the flattened outputs h, n_f n_p values
(n_p = floor(32 / f)^2), are the first linear layer's input.  Lists of sizes
and counts make several such banks, each with its own patches and filters,
their outputs concatenated in the lists' order.  ``sizes[0]`` stays the
image's 3072 values: the convolution only changes the first linear layer's
fan-in, to the sum of n_f n_p over the banks.  Bank b's filters are
``F{b}`` (M, 3 f^2, n_f), one filter per column in the course's order (see
``patch_order``), its biases ``c{b}`` (M, n_f); the filters are
weights (initialised like the linear layers with fan-in 3 f^2, and under
L2), the biases are initialised as ``bias_init`` says.  h lists each patch's
n_f outputs together, patch after patch (``patchify_forward``): the
layout of the course's debug file, whose W1 columns it indexes.
"""

import functools

import numpy as np

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


def conv_banks(patch_size, patch_filters, n_inputs):
    """[(f, n_f), ...] of the patchify layer's banks, [] without one.

    ``patch_size`` and ``patch_filters``: both None, or an int each (one
    bank), or lists of the same length (a bank per entry).  Raises
    ValueError when only one is given, the lengths differ, a size is outside
    1..32 or a count below 1, or the input is not a 3 x 32 x 32 image.
    """
    if patch_size is None and patch_filters is None:
        return []
    if patch_size is None or patch_filters is None:
        raise ValueError(f"patch_size {patch_size!r} and patch_filters {patch_filters!r}: give both or neither")
    sizes = [patch_size] if np.ndim(patch_size) == 0 else list(patch_size)
    counts = [patch_filters] if np.ndim(patch_filters) == 0 else list(patch_filters)
    if len(sizes) != len(counts) or not sizes:
        raise ValueError(f"patch_size {patch_size!r} and patch_filters {patch_filters!r}: one count per size")
    for f, n_f in zip(sizes, counts):
        if int(f) != f or not 1 <= f <= SIDE or int(n_f) != n_f or n_f < 1:
            raise ValueError(f"a bank of {n_f!r} filters of {f!r} x {f!r} pixels: f must be 1..32, n_f at least 1")
    image = CHANNELS * SIDE * SIDE
    if n_inputs != image:
        raise ValueError(f"a patchify layer needs {image}-value images (3 x 32 x 32), not inputs of {n_inputs}")
    return [(int(f), int(n_f)) for f, n_f in zip(sizes, counts)]
