"""One network for all three assignments and the bonus: k linear layers, ReLU
between them, optional batch norm after every hidden linear layer, and a
choice of loss; for the bonus, optional dropout after every hidden ReLU and
label smoothing of the training loss (both off by default).

Assignment 1 is ``hidden=[]``, Assignment 2 ``hidden=[50]``, Assignment 3
``hidden=[50, 50, ...]`` with ``batch_norm=True``.

Every parameter carries a leading model axis: the network is a stack of
``n_models`` networks of the same shape that train side by side on the same
mini-batches (the points of a search stage, or the runs of one experiment
and seed), each with its own lambda (a vector over the axis).  A single
model is a stack of one.  All models of a stack start from the same random
draws, made once and scaled by each model's own ``sigma`` (``init:
normal``), so that a model of a stack is the single run of the same seed.
"""

import ast
import copy

import numpy as np

from . import layers
from .losses import get_loss

INITS = ("normal", "he", "xavier")
# Rows per inference block: a (1000, 3072) block of images is reused from cache by
# the first layer's narrow product (10,000 rows measured 5-15 % slower).
EVAL_CHUNK = 1000


class Network:
    def __init__(
        self,
        sizes,
        loss="softmax",
        batch_norm=False,
        init="normal",
        sigma=0.01,
        bias_init="zero",
        bn_alpha=0.9,
        dtype=np.float32,
        rng=None,
        n_models=1,
        dropout=0.0,
        label_smoothing=0.0,
    ):
        if len(sizes) < 2:
            raise ValueError(f"a network needs an input and an output size, got sizes={sizes}")
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; choose one of {INITS}")
        self.sizes = list(sizes)
        self.loss_name = loss
        self.loss_fn = get_loss(loss)
        self.batch_norm = bool(batch_norm)
        self.bn_alpha = bn_alpha
        self.dtype = np.dtype(dtype)
        self.n_layers = len(sizes) - 1
        self.n_models = int(n_models)
        rng = np.random.default_rng() if rng is None else rng
        # sigma * z is bit for bit rng.normal(0, sigma): one draw serves every model's sigma.
        sigma = np.broadcast_to(np.asarray(sigma, dtype=np.float64), (self.n_models,))[:, None, None]
        self.params = {}
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            std = {"normal": sigma, "he": np.sqrt(2.0 / fan_in), "xavier": np.sqrt(1.0 / fan_in)}[init]
            self.params[f"W{i}"] = self._stacked(std * rng.standard_normal((fan_out, fan_in)), fan_out, fan_in)
            if self.has_batch_norm(i):
                # beta shifts the normalised scores; a bias before the
                # normalisation would be subtracted away with the mean.
                self.params[f"gamma{i}"] = self._stacked(1.0, fan_out)
                self.params[f"beta{i}"] = self._stacked(0.0, fan_out)
            elif bias_init == "normal":
                self.params[f"b{i}"] = self._stacked(sigma[:, :, 0] * rng.standard_normal(fan_out), fan_out)
            else:
                self.params[f"b{i}"] = self._stacked(0.0, fan_out)
        # Moving averages of the batch-norm statistics (M, d), used at test time.
        self.running = {}
        # Training-only regularisers, one value per model (None: off for every model,
        # so that the assignments' networks pay nothing for them).
        self.dropout = self._optional_per_model(dropout)
        self.label_smoothing = self._optional_per_model(label_smoothing)
        # Dropout masks are drawn from the network's seeded generator; a gradient
        # check replaces it to repeat the same masks.  The masks of a stack are
        # one draw of shape (M, n, d): with dropout, a point of a stack is its
        # single run up to the masks it drew.
        self.noise_rng = rng

    def _stacked(self, values, *shape):
        """An (M, *shape) parameter in the network's dtype from values that broadcast to it."""
        return np.array(np.broadcast_to(values, (self.n_models, *shape)), dtype=self.dtype, order="C")

    def has_batch_norm(self, i):
        return self.batch_norm and i < self.n_layers

    def weight_names(self):
        return [f"W{i}" for i in range(1, self.n_layers + 1)]

    def _optional_per_model(self, values):
        values = self.per_model(values)
        return values.copy() if (values > 0).any() else None

    def per_model(self, values):
        """A scalar or one value per model, as an (M,) vector of the network's dtype."""
        return np.broadcast_to(np.asarray(values, dtype=self.dtype), (self.n_models,))

    # ------------------------------------------------------------------ passes
    def forward(self, X, train=True):
        """Scores (M, n, K) for X (n, d) and the caches the backward pass needs."""
        h = X
        caches = []
        for i in range(1, self.n_layers + 1):
            s, lin_cache = layers.linear_forward(h, self.params[f"W{i}"], self.params.get(f"b{i}"))
            if i == self.n_layers:
                caches.append((lin_cache, None, None, None))
                return s, caches
            bn_cache = None
            if self.batch_norm:
                gamma, beta = self.params[f"gamma{i}"][:, None, :], self.params[f"beta{i}"][:, None, :]
                if train:
                    s, bn_cache, mean, var = layers.batchnorm_forward(s, gamma, beta)
                    self._update_running(i, mean[:, 0, :], var[:, 0, :])
                elif f"mean{i}" not in self.running:
                    # Evaluated before the first update: no averages yet, each block's own statistics.
                    s = layers.batchnorm_forward(s, gamma, beta)[0]
                else:
                    s = layers.batchnorm_inference(
                        s, gamma, beta, self.running[f"mean{i}"][:, None, :], self.running[f"var{i}"][:, None, :]
                    )
            h, relu_cache = layers.relu_forward(s)
            keep = None
            if train and self.dropout is not None:
                uniform = self.noise_rng.random(h.shape, dtype=np.float32)
                h, keep = layers.dropout_forward(h, self.dropout[:, None, None], uniform)
            caches.append((lin_cache, bn_cache, relu_cache, keep))
        raise AssertionError("unreachable")

    def _update_running(self, i, mean, var):
        a = self.bn_alpha
        if f"mean{i}" not in self.running:
            # Started from the first mini-batch rather than from zero.
            self.running[f"mean{i}"], self.running[f"var{i}"] = mean, var
        else:
            self.running[f"mean{i}"] = a * self.running[f"mean{i}"] + (1 - a) * mean
            self.running[f"var{i}"] = a * self.running[f"var{i}"] + (1 - a) * var

    def backward(self, dscores, caches, lam=None):
        """Gradients of the cost (data loss + lam * sum ||W||^2) for every parameter.

        With ``lam`` None, of the data loss alone.  The first layer's input
        is the data: its gradient is never computed.
        """
        grads = {}
        dh = dscores
        for i in range(self.n_layers, 0, -1):
            lin_cache, bn_cache, relu_cache, keep = caches[i - 1]
            if keep is not None:
                dh = layers.dropout_backward(dh, keep)
            if relu_cache is not None:
                dh = layers.relu_backward(dh, relu_cache)
                if bn_cache is not None:
                    dh, grads[f"gamma{i}"], grads[f"beta{i}"] = layers.batchnorm_backward(dh, bn_cache)
            bias = f"b{i}" in self.params
            dh, grads[f"W{i}"], db = layers.linear_backward(dh, lin_cache, input_grad=i > 1, bias=bias)
            if bias:
                grads[f"b{i}"] = db
        if lam is not None:
            for k in self.weight_names():
                grads[k] += (2 * self.per_model(lam))[:, None, None] * self.params[k]
        return grads

    def regularisation(self, lam):
        """lam * sum ||W||^2 per model, summed in at least float64."""
        wide = np.promote_types(self.dtype, np.float64)
        squares = sum(np.einsum("mij,mij->m", W, W, dtype=wide) for W in (self.params[k] for k in self.weight_names()))
        return np.asarray(lam, dtype=wide) * squares

    def loss_and_grads(self, X, y, lam):
        """Training-mode (data loss per model, gradients of the cost) on one mini-batch."""
        scores, caches = self.forward(X, train=True)
        loss, dscores, _ = self.loss_fn(scores, y, self.label_smoothing)
        return loss, self.backward(dscores.astype(self.dtype, copy=False), caches, lam)

    def loss_and_steps(self, X, y, eta):
        """Training-mode data loss per model, and its gradients times each model's ``eta``.

        What an update subtracts, at the price of scaling the small score
        gradients: backpropagation is linear in them.  The L2 term is left
        to the update rule, as weight decay (``optim``); the cost itself is
        not summed (``evaluate`` does, where a cost is recorded).
        """
        scores, caches = self.forward(X, train=True)
        loss, dscores, _ = self.loss_fn(scores, y, self.label_smoothing)
        dscores = dscores.astype(self.dtype, copy=False)
        dscores *= eta[:, None, None]
        return loss, self.backward(dscores, caches)

    def cost(self, X, y, lam, train=True):
        """The cost summed over the stack; what a numerical gradient differentiates.

        In training mode with the training loss (label smoothing, dropout);
        otherwise against the true labels.
        """
        scores, _ = self.forward(X, train=train)
        loss, _, _ = self.loss_fn(scores, y, self.label_smoothing if train else None)
        return (loss + self.regularisation(lam)).sum()

    # -------------------------------------------------------------- inference
    def _inference_scores(self, X, chunk):
        """(first row, scores (M, rows, K)) of X in blocks of ``chunk`` rows, in inference mode."""
        for start in range(0, X.shape[0], chunk):
            yield start, self.forward(np.asarray(X[start : start + chunk], dtype=self.dtype), train=False)[0]

    def evaluate(self, X, y, lam, chunk=EVAL_CHUNK, probabilities=False):
        """Inference-mode loss, cost and accuracy over a whole split, one value per model;
        with ``probabilities`` also the class probabilities (M, n, K) of the same
        forward passes (softmax, or per-class sigmoids for bce).  A split with no
        rows (a split without a validation set) gives NaN figures, not a division by 0."""
        if X.shape[0] == 0:
            nan = np.full(self.n_models, np.nan)
            result = {"loss": nan, "cost": nan.copy(), "accuracy": nan.copy()}
            if probabilities:
                result["probabilities"] = np.zeros((self.n_models, 0, self.sizes[-1]), dtype=self.dtype)
            return result
        total = np.zeros(self.n_models)
        correct = np.zeros(self.n_models, dtype=np.int64)
        kept = []
        for start, scores in self._inference_scores(X, chunk):
            yb = np.asarray(y[start : start + chunk])
            loss, _, p = self.loss_fn(scores, yb)
            if probabilities:
                kept.append(p)
            total += np.asarray(loss, dtype=np.float64) * len(yb)
            correct += (scores.argmax(axis=-1) == yb).sum(axis=-1)
        loss = total / X.shape[0]
        result = {"loss": loss, "cost": loss + self.regularisation(lam), "accuracy": correct / X.shape[0]}
        if probabilities:
            result["probabilities"] = np.concatenate(kept, axis=1)
        return result

    # ------------------------------------------------------------ the stack
    def take(self, models):
        """A copy holding only the given models of the stack (a list of indices)."""
        other = copy.copy(self)
        other.n_models = len(models)
        other.params = {k: v[models].copy() for k, v in self.params.items()}
        other.running = {k: v[models].copy() for k, v in self.running.items()}
        for name in ("dropout", "label_smoothing"):
            values = getattr(self, name)
            setattr(other, name, None if values is None else other._optional_per_model(values[models]))
        return other

    def put(self, m, single):
        """Overwrite model ``m`` of the stack with the one model of ``single``."""
        for k, v in single.params.items():
            self.params[k][m] = v[0]
        for k, v in single.running.items():
            self.running[k][m] = v[0]

    def astype(self, dtype):
        """A copy computing in ``dtype`` (e.g. np.longdouble for reference differences)."""
        other = copy.copy(self)
        other.dtype = np.dtype(dtype)
        other.params = {k: v.astype(dtype) for k, v in self.params.items()}
        other.running = {k: v.astype(dtype) for k, v in self.running.items()}
        for name in ("dropout", "label_smoothing"):
            values = getattr(self, name)
            setattr(other, name, None if values is None else values.astype(dtype))
        return other

    # -------------------------------------------------------------- persistence
    def save(self, path):
        """One model's weights, without the model axis (``take`` one from a stack first)."""
        if self.n_models != 1:
            raise ValueError(f"save writes one model; this stack holds {self.n_models}")
        meta = dict(
            sizes=self.sizes,
            loss=self.loss_name,
            batch_norm=self.batch_norm,
            bn_alpha=self.bn_alpha,
            dtype=self.dtype.name,
        )
        arrays = {f"param_{k}": v[0] for k, v in self.params.items()}
        arrays.update({f"running_{k}": v[0] for k, v in self.running.items()})
        np.savez(path, __meta__=np.array(repr(meta)), **arrays)

    @classmethod
    def load(cls, path):
        with np.load(path) as f:
            meta = ast.literal_eval(str(f["__meta__"]))
            net = cls(
                meta["sizes"],
                loss=meta["loss"],
                batch_norm=meta["batch_norm"],
                bn_alpha=meta["bn_alpha"],
                dtype=meta["dtype"],
                rng=np.random.default_rng(0),
            )
            net.params = {k[6:]: f[k][None] for k in f.files if k.startswith("param_")}
            net.running = {k[8:]: f[k][None] for k in f.files if k.startswith("running_")}
        return net
