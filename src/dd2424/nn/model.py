"""One network for all three assignments and the bonus: k linear layers, ReLU between them, optional batch
norm after every hidden linear layer (or after its ReLU), and a choice of loss; for the bonus, optional dropout
after every hidden ReLU and label smoothing of the training loss; for the 2025-2026 Assignment 3, an optional
patchify convolution before the linear layers (``patchify``; its filters ``F{b}`` and biases ``c{b}`` are
parameters like the others).  Each extra is off by default.

Assignment 1 is ``hidden=[]``, Assignment 2 ``hidden=[50]``, Assignment 3
``hidden=[50, 50, ...]`` with ``batch_norm=True``.  A hidden layer is
linear -> batch norm -> ReLU (-> dropout), or with ``bn_position=
"after_relu"`` linear -> ReLU -> batch norm (-> dropout).  After training,
``precise_statistics`` can replace the batch norms' moving averages by
their statistics over the whole training set.

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

from . import layers, patchify
from .losses import SMOOTHING_KINDS, get_loss

INITS = ("normal", "he", "xavier")
# Where a hidden layer's batch norm sits: on the linear scores, before the ReLU
# (Ioffe and Szegedy 2015, the assignments), or on the ReLU's output.
BN_POSITIONS = ("before_relu", "after_relu")
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
        bn_position="before_relu",
        label_smoothing_kind="uniform",
        patch_size=None,
        patch_filters=None,
    ):
        if len(sizes) < 2:
            raise ValueError(f"a network needs an input and an output size, got sizes={sizes}")
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; choose one of {INITS}")
        if bn_position not in BN_POSITIONS:
            raise ValueError(f"unknown bn_position {bn_position!r}; choose one of {BN_POSITIONS}")
        if label_smoothing_kind not in SMOOTHING_KINDS:
            raise ValueError(f"unknown label_smoothing_kind {label_smoothing_kind!r}; choose one of {SMOOTHING_KINDS}")
        self.sizes = list(sizes)
        self.banks = patchify.conv_banks(patch_size, patch_filters, self.sizes[0])
        self.label_smoothing_kind = label_smoothing_kind
        self.loss_name = loss
        self.loss_fn = get_loss(loss)
        self.batch_norm = bool(batch_norm)
        self.bn_after_relu = bn_position == "after_relu"
        self.bn_alpha = bn_alpha
        self.dtype = np.dtype(dtype)
        self.n_layers = len(sizes) - 1
        self.n_models = int(n_models)
        rng = np.random.default_rng() if rng is None else rng
        # sigma * z is bit for bit rng.normal(0, sigma): one draw serves every model's sigma.
        sigma = np.broadcast_to(np.asarray(sigma, dtype=np.float64), (self.n_models,))[:, None, None]
        self.params = {}
        stds = {"normal": lambda fan_in: sigma, "he": lambda fan_in: np.sqrt(2.0 / fan_in)}
        stds["xavier"] = lambda fan_in: np.sqrt(1.0 / fan_in)

        def bias(n):  # zero, or sigma times one draw
            return self._stacked(sigma[:, :, 0] * rng.standard_normal(n) if bias_init == "normal" else 0.0, n)

        # The filters are drawn first, and only for a convolution: other networks draw as before.
        for b, (f, n_f) in enumerate(self.banks, start=1):
            k = patchify.CHANNELS * f * f
            self.params[f"F{b}"] = self._stacked(stds[init](k) * rng.standard_normal((k, n_f)), k, n_f)
            self.params[f"c{b}"] = bias(n_f)
        dense = [self.features(), *self.sizes[1:]]
        for i, (fan_in, fan_out) in enumerate(zip(dense[:-1], dense[1:]), start=1):
            std = stds[init](fan_in)
            self.params[f"W{i}"] = self._stacked(std * rng.standard_normal((fan_out, fan_in)), fan_out, fan_in)
            if self.has_bias(i):
                self.params[f"b{i}"] = bias(fan_out)
            if self.has_batch_norm(i):
                self.params[f"gamma{i}"] = self._stacked(1.0, fan_out)
                self.params[f"beta{i}"] = self._stacked(0.0, fan_out)
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

    def has_bias(self, i):
        """Whether linear layer i has a bias b_i.

        Batch norm right after the linear layer subtracts any bias with the
        batch mean, so there beta takes its place.  Batch norm after the
        ReLU does not: the bias moves each unit's ReLU threshold, which
        nothing after the ReLU can do, so the layer keeps it (as PyTorch's
        Linear -> ReLU -> BatchNorm1d does).  Its gamma and beta stay as
        well: the next linear layer could absorb them, but they are batch
        norm's usual parameters and scale its gradients differently.
        """
        return not self.has_batch_norm(i) or self.bn_after_relu

    def weight_names(self):
        """The tensors under L2: the filters of every bank, then the linear layers' weights."""
        filters = [f"F{b}" for b in range(1, len(self.banks) + 1)]
        return filters + [f"W{i}" for i in range(1, self.n_layers + 1)]

    def features(self):
        """The first linear layer's fan-in: the input size, or with a convolution the sum of n_f n_p over its banks."""
        if not self.banks:
            return self.sizes[0]
        return sum(n_f * patchify.patch_count(f) for f, n_f in self.banks)

    def _optional_per_model(self, values):
        values = self.per_model(values)
        return values.copy() if (values > 0).any() else None

    def per_model(self, values):
        """A scalar or one value per model, as an (M,) vector of the network's dtype."""
        return np.broadcast_to(np.asarray(values, dtype=self.dtype), (self.n_models,))

    # ------------------------------------------------------------------ passes
    def forward(self, X, train=True):
        """Scores (M, n, K) for X (n, d) and the caches the backward pass needs.

        ``caches[i - 1]`` is linear layer i's; with a convolution, one more at
        the end holds each bank's (``patchify.patchify_forward``).
        """
        h, conv_caches = self._patchify(X)
        caches = []
        for i in range(1, self.n_layers):
            h, cache = self._hidden_layer(i, h, train)
            caches.append(cache)
        s, lin_cache = layers.linear_forward(h, self.params[f"W{self.n_layers}"], self.params.get(f"b{self.n_layers}"))
        caches.append((lin_cache, None, None, None))
        if self.banks:
            caches.append(conv_caches)
        return s, caches

    def _patchify(self, X):
        """(h, the banks' caches): X itself without a convolution, else every bank's output
        (M, n, n_f n_p) concatenated in bank order, (M, n, sum of n_f n_p)."""
        if not self.banks:
            return X, None
        outputs, caches = [], []
        for b, (f, _) in enumerate(self.banks, start=1):
            H, cache = patchify.patchify_forward(X, self.params[f"F{b}"], self.params[f"c{b}"], f)
            outputs.append(H)
            caches.append(cache)
        return (outputs[0] if len(outputs) == 1 else np.concatenate(outputs, axis=-1)), caches

    def _hidden_layer(self, i, h, train):
        """Hidden layer i: linear, then batch norm and ReLU in the network's order, then dropout.

        Returns its output (M, n, d_i) and the cache ``(linear, batch norm,
        ReLU input, dropout mask)`` of the backward pass.
        """
        s, lin_cache = layers.linear_forward(h, self.params[f"W{i}"], self.params.get(f"b{i}"))
        bn_cache = None
        if self.bn_after_relu:
            h, relu_cache = layers.relu_forward(s)
            if self.batch_norm:
                h, bn_cache = self._normalise(i, h, train)
        else:
            if self.batch_norm:
                s, bn_cache = self._normalise(i, s, train)
            h, relu_cache = layers.relu_forward(s)
        keep = None
        if train and self.dropout is not None:
            uniform = self.noise_rng.random(h.shape, dtype=np.float32)
            h, keep = layers.dropout_forward(h, self.dropout[:, None, None], uniform)
        return h, (lin_cache, bn_cache, relu_cache, keep)

    def _normalise(self, i, s, train):
        """Batch norm i of s (M, n, d_i): the batch's statistics in training (which update the
        moving averages), the stored ones in inference; and the training-mode cache."""
        gamma, beta = self.params[f"gamma{i}"][:, None, :], self.params[f"beta{i}"][:, None, :]
        if train:
            s, bn_cache, mean, var = layers.batchnorm_forward(s, gamma, beta)
            self._update_running(i, mean[:, 0, :], var[:, 0, :])
            return s, bn_cache
        if f"mean{i}" not in self.running:
            # Evaluated before the first update: no averages yet, each block's own statistics.
            return layers.batchnorm_forward(s, gamma, beta)[0], None
        mean, var = self.running[f"mean{i}"][:, None, :], self.running[f"var{i}"][:, None, :]
        return layers.batchnorm_inference(s, gamma, beta, mean, var), None

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
        (the convolution's, where there is one) is the data: its gradient is
        never computed.
        """
        grads = {}
        dh = dscores
        for i in range(self.n_layers, 0, -1):
            lin_cache, bn_cache, relu_cache, keep = caches[i - 1]
            if keep is not None:
                dh = layers.dropout_backward(dh, keep)
            if relu_cache is not None:
                # Back through the hidden layer's ReLU and batch norm, in the reverse of their order.
                if bn_cache is not None and self.bn_after_relu:
                    dh, grads[f"gamma{i}"], grads[f"beta{i}"] = layers.batchnorm_backward(dh, bn_cache)
                dh = layers.relu_backward(dh, relu_cache)
                if bn_cache is not None and not self.bn_after_relu:
                    dh, grads[f"gamma{i}"], grads[f"beta{i}"] = layers.batchnorm_backward(dh, bn_cache)
            bias = f"b{i}" in self.params
            input_grad = i > 1 or bool(self.banks)
            dh, grads[f"W{i}"], db = layers.linear_backward(dh, lin_cache, input_grad=input_grad, bias=bias)
            if bias:
                grads[f"b{i}"] = db
        if self.banks:
            first = 0
            for b, cache in enumerate(caches[self.n_layers], start=1):
                width = cache[1].shape[-1]
                dH = dh if len(self.banks) == 1 else dh[..., first : first + width]
                grads[f"F{b}"], grads[f"c{b}"] = patchify.patchify_backward(dH, cache)
                first += width
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
        loss, dscores, _ = self.loss_fn(scores, y, self.label_smoothing, self.label_smoothing_kind)
        return loss, self.backward(dscores.astype(self.dtype, copy=False), caches, lam)

    def loss_and_steps(self, X, y, eta):
        """Training-mode data loss per model, and its gradients times each model's ``eta``.

        What an update subtracts, at the price of scaling the small score
        gradients: backpropagation is linear in them.  The L2 term is left
        to the update rule, as weight decay (``optim``); the cost itself is
        not summed (``evaluate`` does, where a cost is recorded).
        """
        scores, caches = self.forward(X, train=True)
        loss, dscores, _ = self.loss_fn(scores, y, self.label_smoothing, self.label_smoothing_kind)
        dscores = dscores.astype(self.dtype, copy=False)
        dscores *= eta[:, None, None]
        return loss, self.backward(dscores, caches)

    def cost(self, X, y, lam, train=True):
        """The cost summed over the stack; what a numerical gradient differentiates.

        In training mode with the training loss (label smoothing, dropout);
        otherwise against the true labels.
        """
        scores, _ = self.forward(X, train=train)
        loss, _, _ = self.loss_fn(scores, y, self.label_smoothing if train else None, self.label_smoothing_kind)
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

    def precise_statistics(self, X, chunk=EVAL_CHUNK):
        """Replace every batch norm's moving averages by its population statistics over X (n, d).

        "Precise BN" (Wu and Johnson 2021, "Rethinking 'Batch' in BatchNorm",
        section 3.1): after training, each batch norm's mean and biased
        variance are those of its input over the whole of X, the training
        set, rather than an exponential average over mini-batches taken
        while the weights below were still moving.  Layer by layer, from the
        first: layer i's input is computed in inference mode with the layers
        below already on their precise statistics, i.e. the input it will see
        at test time (no dropout, no augmentation).  One pass over X per
        batch-norm layer, in blocks of ``chunk`` rows (X may be a memory
        map); every model of the stack at once.  The sums are float64 and
        the blocks are merged with the pairwise update of Chan, Golub and
        LeVeque (1979), so that no E[x^2] - E[x]^2 cancels.  Stored in the
        network's dtype as ``running`` (M, d_i), which inference and
        ``save`` then use.  Without batch norm nothing changes.
        """
        n = X.shape[0]
        for i in range(1, self.n_layers):
            if not self.has_batch_norm(i):
                continue
            count, mean, m2 = 0, 0.0, 0.0
            for start in range(0, n, chunk):
                block = self._norm_input(i, np.asarray(X[start : start + chunk], dtype=self.dtype))
                rows = block.shape[1]
                block = block.astype(np.float64)
                block_mean = np.add.reduce(block, axis=1) / rows
                block -= block_mean[:, None, :]
                block_m2 = np.add.reduce(np.square(block), axis=1)
                delta = block_mean - mean
                total = count + rows
                mean = mean + delta * (rows / total)
                m2 = m2 + block_m2 + np.square(delta) * (count * rows / total)
                count = total
            self.running[f"mean{i}"] = mean.astype(self.dtype)
            self.running[f"var{i}"] = (m2 / count).astype(self.dtype)

    def _norm_input(self, i, X):
        """The input (M, n, d_i) of batch norm i for X (n, d), in inference mode."""
        h = self._patchify(X)[0]
        for j in range(1, i):
            h = self._hidden_layer(j, h, train=False)[0]
        s = layers.linear_forward(h, self.params[f"W{i}"], self.params.get(f"b{i}"))[0]
        return layers.relu_forward(s)[0] if self.bn_after_relu else s

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
        if self.bn_after_relu:
            # Only where it is not the default: the files of every other network stay as they were.
            meta["bn_position"] = "after_relu"
        if self.banks:
            meta["patch_size"] = [f for f, _ in self.banks]
            meta["patch_filters"] = [n_f for _, n_f in self.banks]
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
                bn_position=meta.get("bn_position", "before_relu"),
                patch_size=meta.get("patch_size"),
                patch_filters=meta.get("patch_filters"),
            )
            net.params = {k[6:]: f[k][None] for k in f.files if k.startswith("param_")}
            net.running = {k[8:]: f[k][None] for k in f.files if k.startswith("running_")}
        return net
