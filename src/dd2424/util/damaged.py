"""A damaged cached file, refused by name with the command that rebuilds it, and the check of an array file.

A cached output cut short (a full disk, a copy interrupted) or edited by
hand would otherwise surface as a bare ``JSONDecodeError``, ``BadZipFile``
or ``mmap length is greater than file size`` in a later job.
"""

import math
import os

import numpy as np

from . import rerun


class CorruptResult(ValueError):
    def __init__(self, path, problem, redo="Train it again"):
        self.path, self.problem = str(path), problem
        super().__init__(
            f"{path} is damaged: {problem}. {redo} with `{rerun.command('--force', path)}` (or delete it and run again)"
        )


def npy_problem(path):
    """None if the .npy file at ``path`` holds all the bytes its header promises, else what is wrong.

    Reads the header only, so it is as cheap as memory-mapping the file,
    whose failure on a file cut short (``mmap length is greater than file
    size``) would name no file.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        try:
            version = np.lib.format.read_magic(f)
            read_header = (
                np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            )
            shape, _, dtype = read_header(f)
        except (ValueError, OSError, EOFError) as e:
            return f"not a readable .npy array ({e})"
        expected = f.tell() + math.prod(shape) * dtype.itemsize
    if not dtype.hasobject and size < expected:
        return f"cut short: {size:,} of the {expected:,} bytes its header promises for {dtype} {shape}"
    return None


def load_array(path, mmap_mode=None):
    """np.load of a workflow array, refusing a damaged file by name with the command that rebuilds it."""
    problem = npy_problem(path)
    if problem:
        raise CorruptResult(path, problem, redo="Build it again")
    return np.load(path, mmap_mode=mmap_mode)
