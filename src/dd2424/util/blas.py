"""BLAS threads: set before numpy is imported, since its BLAS reads them once, at load."""

import os

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def use_threads(n, override=True):
    """Let BLAS use ``n`` threads; with ``override`` false, only where the environment says nothing."""
    for var in THREAD_VARIABLES:
        if override or var not in os.environ:
            os.environ[var] = str(n)
