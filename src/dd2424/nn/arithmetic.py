"""The arithmetic a training step cannot avoid, and the machine's rate for it.

Per trained sample, a network of layer sizes [d, h_1, ..., K] computes the
forward product and the weight gradient of every layer, and the input
gradient of every layer but the first (the data need none): two or three
products of 2 * fan_in * fan_out flop each.  Against it stands a plain
float32 GEMM on numpy's BLAS, a rate no step of these networks can beat.
"""

import time

import numpy as np

from . import patchify

# The side of the square product that measures the GEMM rate.
GEMM_N = 2048


def useful_flop_per_sample(sizes):
    """Flop per trained sample of a network of layer sizes [d, h_1, ..., K] (the first layer's input needs no
    gradient)."""
    flop = 0
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        products = 3 if i > 1 else 2  # the data need no input gradient
        flop += products * 2 * fan_in * fan_out
    return flop


def network_flop_per_sample(hidden, patch_size=None, patch_filters=None, d=3072, k=10):
    """Flop per trained sample of the run spec's network: ``useful_flop_per_sample`` of [d, *hidden, k],
    or with a patchify layer (``patch_size``, ``patch_filters`` as a run spec gives them) each bank's
    forward GEMM and filter gradient, 2 * 2 n_p 3 f^2 n_f (the data need no input gradient), and three
    products for every linear layer (the first one's input gradient feeds the filters')."""
    banks = patchify.conv_banks(patch_size, patch_filters, d)
    if not banks:
        return useful_flop_per_sample([d, *hidden, k])
    conv = sum(2 * 2 * patchify.patch_count(f) * patchify.CHANNELS * f * f * n_f for f, n_f in banks)
    sizes = [sum(n_f * patchify.patch_count(f) for f, n_f in banks), *hidden, k]
    return conv + sum(3 * 2 * fan_in * fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:]))


def gemm_gflops(n=GEMM_N, repeats=5):
    """GFLOP/s of the best of ``repeats`` float32 n x n products (BLAS threads as the environment sets)."""
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def _timed(f):
    start = time.perf_counter()
    f()
    return time.perf_counter() - start
