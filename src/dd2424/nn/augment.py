"""Data augmentation applied to a whole mini-batch (no per-image Python loop):
flips, translations, additive Gaussian noise and salt-and-pepper noise.

Each function takes its random draws as arguments; the trainer draws them
from its seeded generator, and only for the options that are on.
"""

import numpy as np

SIDE, CHANNELS = 32, 3
# Salt-and-pepper fractions below this draw the gaps between corrupted values (see bernoulli_positions).
GAPS_BELOW = 0.1


def flip_horizontally(X, mask):
    """Mirror the images of X (n, 3072; channel-major 3x32x32) selected by mask.

    Only the selected images are touched (a third of the time of a select
    over the whole batch).
    """
    out = np.array(X, copy=True)
    images = out.reshape(-1, CHANNELS, SIDE, SIDE)
    chosen = np.flatnonzero(mask)
    images[chosen] = images[chosen, :, :, ::-1]
    return out


def translate(X, shifts):
    """Shift image i of X (n, 3072) by ``shifts[i] = (down, right)`` pixels, filling with zeros.

    The data are normalised, so zero is the training mean: the uncovered
    border is an average pixel, not black.  The loop runs over the distinct
    shifts (at most (2s + 1)^2 for shifts up to s), each a block copy of all
    the images that share it.
    """
    shifts = np.asarray(shifts)
    s = int(np.abs(shifts).max()) if len(shifts) else 0
    if s == 0:
        return np.array(X, copy=True)
    n = X.shape[0]
    padded = np.zeros((n, CHANNELS, SIDE + 2 * s, SIDE + 2 * s), dtype=X.dtype)
    padded[:, :, s : s + SIDE, s : s + SIDE] = X.reshape(n, CHANNELS, SIDE, SIDE)
    out = np.empty((n, CHANNELS, SIDE, SIDE), dtype=X.dtype)
    codes = (shifts[:, 0] + s) * (2 * s + 1) + (shifts[:, 1] + s)
    for code in np.unique(codes):
        chosen = np.flatnonzero(codes == code)
        down, right = (v - s for v in divmod(int(code), 2 * s + 1))
        # Shifted down by d, the image is the padded window starting d rows above it.
        top, left = s - down, s - right
        out[chosen] = padded[chosen, :, top : top + SIDE, left : left + SIDE]
    return out.reshape(n, -1)


def gaussian_noise(X, std, z):
    """X (n, d) plus ``std`` times the standard normal draws ``z`` (n, d), in X's dtype.

    ``std`` is in the units of the inputs, i.e. of the normalised data (1:
    one training standard deviation of a pixel, before any whitening).
    """
    out = np.multiply(z, X.dtype.type(std), dtype=X.dtype)
    out += X
    return out


def salt_and_pepper(X, positions, salt, low, high):
    """X (n, d) with the values at the flat ``positions`` set to black or white.

    ``salt`` (bool, one per position) picks white, ``high``; the others
    become black, ``low``.  ``low`` and ``high`` (d,) are black and white
    in the units of the normalised inputs: see ``value_range``.  Draw the
    positions with ``bernoulli_positions`` and ``salt`` with probability
    1/2 each for salt-and-pepper noise of a given fraction.
    """
    out = np.array(X, copy=True)
    flat = out.reshape(-1)
    column = positions % X.shape[1]
    flat[positions] = np.where(salt, high[column], low[column])
    return out


def bernoulli_positions(rng, size, p):
    """The sorted flat indices (int64) at which ``size`` independent Bernoulli(p) trials succeed.

    Below p = ``GAPS_BELOW``, drawn as the gaps between successes, which
    are geometric with mean 1/p: about p * size draws instead of one per
    value (5 % salt and pepper on a batch of 100 images: 1.3 ms against
    4 ms, measured on a loaded core).  The gaps are drawn once with a
    margin of six standard deviations and topped up in the (rare) case
    they end short of ``size``.  From p = ``GAPS_BELOW`` on, one float32
    uniform per value is cheaper (numpy's geometric draws cost 10-50 times
    a uniform's).
    """
    if p >= GAPS_BELOW:
        return np.flatnonzero(rng.random(size, dtype=np.float32) < p)
    expected = size * p
    ends = np.cumsum(rng.geometric(p, int(expected + 6 * np.sqrt(expected) + 16)))
    while ends[-1] < size:
        more = rng.geometric(p, int(6 * np.sqrt(expected) + 16))
        ends = np.concatenate([ends, ends[-1] + np.cumsum(more)])
    return ends[ends <= size] - 1


def value_range(X, chunk=10000):
    """The smallest and largest value of each input dimension over X (n, d): (low, high), each (d,).

    What salt-and-pepper noise takes as black and white once the data are
    normalised (or whitened): per dimension, the darkest and brightest
    value the training set holds, so that a corrupted value is one the
    network could meet in a real image.  For CIFAR-10's raw pixels that is
    0 and 255 in nearly every dimension.  Read in blocks of ``chunk`` rows,
    so X may be a memory map.
    """
    low = high = None
    for start in range(0, X.shape[0], chunk):
        block = np.asarray(X[start : start + chunk])
        block_low, block_high = block.min(axis=0), block.max(axis=0)
        low = block_low if low is None else np.minimum(low, block_low)
        high = block_high if high is None else np.maximum(high, block_high)
    return low, high
