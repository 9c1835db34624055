"""The arithmetic a training step cannot avoid, and the machine's rate for it.

Per trained sample, a network of layer sizes [d, h_1, ..., K] computes the
forward product and the weight gradient of every layer, and the input
gradient of every layer but the first (the data need none): two or three
products of 2 * fan_in * fan_out flop each.  Against it stands a plain
float32 GEMM on numpy's BLAS, a rate no step of these networks can beat.
"""

import time

import numpy as np

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
