"""Update rules: ``step(params, steps, decay, eta)`` changes params in place.

For SGD and momentum, ``steps`` are the data-loss gradients already
multiplied by each model's learning rate (``Network.loss_and_steps`` with
``gradient_scale(eta)``), the step's own arrays, so they may be changed in
place.  The L2 term lam * ||W||^2 enters as weight decay: its gradient step
eta * 2 lam * W is ``decay * W``, with ``decay`` one value (in the
parameters' dtype) per model, applied to the weight matrices (keys starting
with ``W``) and the convolution's filters (``F``) only.  Adam is not linear in its gradients: it takes them
unscaled, with ``eta`` and its own L2 coefficients (``Adam``).

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
    """Whether the L2 term covers parameter ``name``: linear weights W and convolution filters F."""
    return name.startswith(("W", "F"))


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
    def gradient_scale(self, eta):
        """What ``loss_and_steps`` multiplies the data-loss gradients by: each model's eta."""
        return eta

    def step(self, params, steps, decay, eta=None):
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

    gradient_scale = SGD.gradient_scale

    def step(self, params, steps, decay, eta=None):
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
                self._move(p_t, s_t, v_t, rho[rows])

    @staticmethod
    def _move(p_t, s_t, v_t, rho):
        """The parameters' move once the velocity is updated: classical momentum moves by v."""
        p_t += v_t

    def forget(self, m):
        """Model ``m`` stops moving (it diverged and is frozen)."""
        for v in self.velocity.values():
            v[m] = 0


class Nesterov(Momentum):
    """Nesterov's accelerated gradient in the form of Sutskever, Martens, Dahl and Hinton (2013), "On the
    importance of initialization and momentum in deep learning", ICML, Eq. 3-4:

        v <- rho v - eta grad f(theta + rho v),    theta <- theta + v

    kept, as Bengio, Boulanger-Lewandowski and Pascanu (2013, "Advances in optimizing recurrent
    networks", Eq. 7) do, at the look-ahead point theta' = theta + rho v, where the trainer takes
    its gradients: with s = eta grad f(theta') (the step ``loss_and_steps`` gives, L2 included as
    for ``Momentum``), v <- rho v - s and theta' <- theta' - s + rho v (the new v).  rho per model;
    rho 0 is SGD.  The velocity is in step units (eta inside), as ``Momentum``'s.
    """

    @staticmethod
    def _move(p_t, s_t, v_t, rho):
        """Nesterov's move at the look-ahead point: -s + rho v (the new v); s is free to be overwritten."""
        p_t -= s_t
        s_t[...] = v_t
        s_t *= rho
        p_t += s_t


class Adam:
    """Adam (Kingma and Ba, "Adam: a method for stochastic optimization", ICLR 2015, Algorithm 1).

    With g the gradient of the cost (data loss + lam * ||W||^2: the L2 term
    enters the gradient, 2 lam W, as in the paper's objective and PyTorch's
    ``Adam(weight_decay)``, not decoupled as in AdamW), at update t = 1, 2, ...:

        m <- beta1 m + (1 - beta1) g           v <- beta2 v + (1 - beta2) g^2
        W <- W - eta * m_hat / (sqrt(v_hat) + eps),   m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)

    computed in the paper's equivalent form (end of its section 2),
    W <- W - eta_t m / (sqrt(v) + eps_t) with eta_t = eta sqrt(1 - beta2^t) / (1 - beta1^t)
    and eps_t = eps sqrt(1 - beta2^t): no corrected copies of m and v.

    ``lam`` (M,) and ``eta`` (M,) are per model (a stack); beta1, beta2 and
    eps are shared by the stack.  The moments m, v are allocated once, at
    the first step, in the parameters' dtype (float32 in training).  A model
    whose eta is 0 (frozen) does not move.
    """

    def __init__(self, lam, beta1=0.9, beta2=0.999, eps=1e-8):
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1 and eps > 0):
            raise ValueError(f"Adam needs 0 <= beta1, beta2 < 1 and eps > 0, got {beta1}, {beta2}, {eps}")
        self.two_lam = 2 * np.atleast_1d(np.asarray(lam, dtype=np.float64))
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.t = 0
        self.moments = {}  # name -> (m, v)

    def gradient_scale(self, eta):
        """Adam takes the gradients themselves: scaled by 1."""
        return np.ones_like(eta)

    def step(self, params, grads, decay, eta):
        """One update from the data-loss gradients ``grads`` (changed in place); ``decay`` is unused
        (the L2 term is ``lam``'s), ``eta`` (M,) is each model's learning rate at this update."""
        self.t += 1
        dtype = eta.dtype
        # Bias corrections in float64: beta2^t is 1 - 1e-3 t, which float32 would round.
        c1, c2 = 1 - self.beta1**self.t, 1 - self.beta2**self.t
        eta_t = (np.asarray(eta, dtype=np.float64) * np.sqrt(c2) / c1).astype(dtype)[:, None]
        eps_t = dtype.type(self.eps * np.sqrt(c2))
        two_lam = np.broadcast_to(self.two_lam, eta.shape).astype(dtype)[:, None]
        b1, b2 = dtype.type(self.beta1), dtype.type(self.beta2)
        # 1 - beta from float64: float32(1 - float32(0.999)) is off by 1.3e-5 relative.
        a1, a2 = dtype.type(1 - self.beta1), dtype.type(1 - self.beta2)
        for k, g in grads.items():
            p = params[k]
            if k not in self.moments:
                self.moments[k] = (np.zeros_like(p), np.zeros_like(p))
            m, v = self.moments[k]
            weight = _is_weight(k)
            for rows, (p_t, g_t, m_t, v_t) in _tiled(p, g, m, v):
                if weight:
                    g_t += two_lam[rows] * p_t
                scratch = np.multiply(g_t, g_t)
                scratch *= a2
                v_t *= b2
                v_t += scratch
                g_t *= a1
                m_t *= b1
                m_t += g_t
                np.sqrt(v_t, out=scratch)
                scratch += eps_t
                np.divide(m_t, scratch, out=scratch)
                scratch *= eta_t[rows]
                p_t -= scratch

    def forget(self, m):
        """Model ``m`` stops moving (it diverged and is frozen): its moments are cleared."""
        for first, second in self.moments.values():
            first[m] = 0
            second[m] = 0


OPTIMIZERS = ("sgd", "nesterov", "adam")


def build(rho, optimizer="sgd", lam=0.0, beta1=0.9, beta2=0.999, eps=1e-8):
    """The update rule of a stack: ``optimizer`` sgd (SGD, or momentum when any model has
    rho > 0), nesterov (``Nesterov`` with each model's rho) or adam (``Adam`` with each
    model's ``lam``; rho unused).  Raises ValueError for another name."""
    if optimizer == "adam":
        return Adam(lam, beta1, beta2, eps)
    if optimizer == "nesterov":
        return Nesterov(np.atleast_1d(np.asarray(rho, dtype=np.float64)))
    if optimizer != "sgd":
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {OPTIMIZERS}")
    rho = np.atleast_1d(np.asarray(rho, dtype=np.float64))
    return Momentum(rho) if (rho > 0).any() else SGD()
