"""Update rules: ``step(params, steps, decay)`` changes params in place.

``steps`` are the data-loss gradients already multiplied by each model's
learning rate (``Network.loss_and_steps``), the step's own arrays, so they
may be changed in place.  The L2 term lam * ||W||^2 enters as weight decay:
its gradient step eta * 2 lam * W is ``decay * W``, with ``decay`` one value (in the parameters' dtype)
per model, applied to the weight matrices (keys starting with ``W``) only.

An update is a few element-wise passes over each parameter.  A large one
(the first layer of a 200-model stack is 123 MB) is updated tile by tile,
each tile small enough to stay in cache through all its passes, instead of
streaming the whole array through memory once per pass; the arithmetic of
every element is the same either way.
"""

import numpy as np

# Bytes of one tile of one array: a tile's few arrays and temporaries stay in L2/L3.
TILE_BYTES = 1 << 20


def _is_weight(name):
    return name.startswith("W")


def tiles(shape, itemsize):
    """(models, entries) slices covering an (M, N) array in tiles of about ``TILE_BYTES``."""
    n_models, n = shape
    per_tile = max(1, TILE_BYTES // itemsize)
    if n <= per_tile:
        models = max(1, per_tile // n)
        return [(slice(m, m + models), slice(None)) for m in range(0, n_models, models)]
    return [(slice(m, m + 1), slice(j, j + per_tile)) for m in range(n_models) for j in range(0, n, per_tile)]


def _rows(a):
    """``a`` as an (M, N) view; a copy would take the in-place update away from the parameter."""
    if not a.flags.c_contiguous:
        raise ValueError(f"cannot update a parameter of shape {a.shape} in place: it is not contiguous")
    return a.reshape(a.shape[0], -1)


def _tiled(*arrays):
    """The same tiles of arrays of one (M, ...) shape, each tile an (m, n) view;
    an array within one tile as it is (a small layer's update pays no tiling)."""
    flat = [_rows(a) for a in arrays]
    if arrays[0].nbytes <= TILE_BYTES:
        yield slice(None), flat
        return
    for rows, cols in tiles(flat[0].shape, flat[0].itemsize):
        yield rows, [f[rows, cols] for f in flat]


class SGD:
    def step(self, params, steps, decay):
        # Per model, as a column against the (M, N) tiles; computed once per step.
        shrink = (1 - decay)[:, None]
        for k, s in steps.items():
            weight = _is_weight(k)
            for rows, (p_t, s_t) in _tiled(params[k], s):
                if weight:
                    p_t *= shrink[rows]
                p_t -= s_t


class Momentum:
    def __init__(self, rho):
        self.rho = np.asarray(rho)
        self.velocity = {}

    def step(self, params, steps, decay):
        # Per model, as columns against the (M, N) tiles; computed once per step.
        rho = np.broadcast_to(self.rho.astype(decay.dtype), decay.shape)[:, None]
        decay = decay[:, None]
        for k, s in steps.items():
            p = params[k]
            # The first step starts from rest: rho * 0 - s is the step itself.
            v = self.velocity.get(k)
            if v is None:
                v = self.velocity[k] = np.zeros_like(p)
            weight = _is_weight(k)
            for rows, (p_t, s_t, v_t) in _tiled(p, s, v):
                if weight:
                    s_t += decay[rows] * p_t
                v_t *= rho[rows]
                v_t -= s_t
                p_t += v_t

    def forget(self, m):
        """Model ``m`` stops moving (it diverged and is frozen)."""
        for v in self.velocity.values():
            v[m] = 0


def build(rho):
    """SGD, or momentum when any model of the stack has rho > 0."""
    rho = np.atleast_1d(np.asarray(rho, dtype=np.float64))
    return Momentum(rho) if (rho > 0).any() else SGD()
