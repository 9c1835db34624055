"""Update rules: ``step(params, grads, eta)`` changes params in place.

``eta`` (and momentum's ``rho``) hold one value per model of the stack;
``grads`` are the step's own arrays, so they may be scaled in place.
"""

import numpy as np


def _per_model(values, like):
    """(M,) values shaped to broadcast over a parameter of shape (M, ...)."""
    return values.reshape((-1,) + (1,) * (like.ndim - 1))


class SGD:
    def step(self, params, grads, eta):
        for k, g in grads.items():
            g *= _per_model(eta, g)
            params[k] -= g


class Momentum:
    def __init__(self, rho):
        self.rho = np.asarray(rho)
        self.velocity = {}

    def step(self, params, grads, eta):
        for k, g in grads.items():
            g *= _per_model(-eta, g)
            v = self.velocity.get(k)
            if v is None:
                v = self.velocity[k] = g
            else:
                v *= _per_model(self.rho.astype(v.dtype), v)
                v += g
            params[k] += v

    def forget(self, m):
        """Model ``m`` stops moving (it diverged and is frozen)."""
        for v in self.velocity.values():
            v[m] = 0


def build(rho):
    """SGD, or momentum when any model of the stack has rho > 0."""
    rho = np.atleast_1d(np.asarray(rho, dtype=np.float64))
    return Momentum(rho) if (rho > 0).any() else SGD()
