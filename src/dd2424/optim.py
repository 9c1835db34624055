"""Update rules: ``step(params, steps, decay)`` changes params in place.

``steps`` are the data-loss gradients already multiplied by each model's
learning rate (``Network.loss_and_steps``), the step's own arrays, so they
may be changed in place.  The L2 term lam * ||W||^2 enters as weight decay:
its gradient step eta * 2 lam * W is ``decay * W``, with ``decay`` one value
per model, applied to the weight matrices (keys starting with ``W``) only.
"""

import numpy as np


def _per_model(values, like):
    """(M,) values shaped to broadcast over a parameter of shape (M, ...)."""
    return values.reshape((-1,) + (1,) * (like.ndim - 1))


def _is_weight(name):
    return name.startswith("W")


class SGD:
    def step(self, params, steps, decay):
        for k, s in steps.items():
            p = params[k]
            if _is_weight(k):
                p *= _per_model(1 - decay, p)
            p -= s


class Momentum:
    def __init__(self, rho):
        self.rho = np.asarray(rho)
        self.velocity = {}

    def step(self, params, steps, decay):
        for k, s in steps.items():
            p = params[k]
            if _is_weight(k):
                s += _per_model(decay, p) * p
            v = self.velocity.get(k)
            if v is None:
                v = self.velocity[k] = -s
            else:
                v *= _per_model(self.rho.astype(v.dtype), v)
                v -= s
            p += v

    def forget(self, m):
        """Model ``m`` stops moving (it diverged and is frozen)."""
        for v in self.velocity.values():
            v[m] = 0


def build(rho):
    """SGD, or momentum when any model of the stack has rho > 0."""
    rho = np.atleast_1d(np.asarray(rho, dtype=np.float64))
    return Momentum(rho) if (rho > 0).any() else SGD()
