"""The one training loop: mini-batches from a seeded shuffle, a schedule, an
update rule, optional augmentation (flips, translations, Gaussian and
salt-and-pepper noise), optional precise batch-norm statistics at the end,
and a history of evaluations.

It trains a stack of M models (see ``model``) given M flat run specs that
differ only in the per-model scalars of ``STACKABLE``: every model sees the
same mini-batch sequence, each with its own learning rates, lambda and
momentum.  The update rule is SGD (with momentum when rho > 0), Nesterov
momentum or Adam (``optimizer``, shared by the stack).  A single run is a stack of one.
"""

import math
import time

import numpy as np

from . import augment, optim, schedules
from .spec import IDENTITY, stackable

# The keys that may differ between the models of one stack (``spec.stackable``).
STACKABLE = stackable()


def check_stackable(specs):
    """Refuse specs that cannot share mini-batches, naming the first key that differs."""
    first = specs[0]
    for spec in specs[1:]:
        for key in set(first) | set(spec):
            if key in STACKABLE or key in IDENTITY:
                continue
            if first.get(key) != spec.get(key):
                raise ValueError(
                    f"runs {first.get('run')!r} and {spec.get('run')!r} cannot be trained as one stack: "
                    f"they differ in {key!r} ({first.get(key)!r} vs {spec.get(key)!r}); "
                    f"only {', '.join(STACKABLE)} may differ"
                )


def eta_table(specs, n):
    """(updates, M) learning rates of every model at every update, and the number of updates."""
    built = [schedules.build(spec, n) for spec in specs]
    total = built[0][1]
    t = np.arange(total)
    return np.stack([schedule(t) for schedule, _ in built], axis=1), total


def evaluation_every(spec, n):
    """Updates between evaluations: per epoch, or ``evals_per_cycle`` times a cycle (the first cycle's,
    where ``n_s_growth`` lengthens the later ones: see ``evaluation_points``)."""
    if spec["schedule"] == "cyclic":
        return max(1, (2 * schedules.resolve_n_s(spec, n)) // spec["evals_per_cycle"])
    return schedules.updates_per_epoch(n, spec["n_batch"])


def evaluation_points(spec, n, total):
    """A boolean (total + 1,): whether a run with curves evaluates after update t.

    Every ``evaluation_every`` updates and after the last; with a cyclic
    schedule, ``evals_per_cycle`` times each cycle, however long the cycles
    grow (``schedules.Cyclic.evaluations``).
    """
    points = np.zeros(total + 1, dtype=bool)
    if spec["schedule"] == "cyclic":
        points[schedules.cyclic(spec, n).evaluations(total, spec["evals_per_cycle"])] = True
    else:
        every = evaluation_every(spec, n)
        points[every::every] = True
        points[total] = True
    return points


def recorded_updates(spec, n, total, curves):
    """The updates whose evaluations a run that trained to its end records in its history, in order: 0
    (with ``curves`` True), the evaluation points (with curves), and the last update ``total``.  What
    ``make verify`` holds a history.csv to."""
    between = np.flatnonzero(evaluation_points(spec, n, total)[1:total]) + 1 if curves else []
    return [*([0] if curves is True else []), *map(int, between), total]


class History:
    """Evaluations of every model of a stack, and which of them are still training.

    With ``curves`` True every evaluation covers the training and the
    validation set (the curves the report draws).  With False (search
    points, whose tables and plots read their final figures only) the
    trainer records the final weights alone, on both sets: evaluating 200
    points of a stage on the validation set every epoch would cost half as
    much as training them.  With "val" (a search ranked by its best
    validation accuracy, ``rank_by: best_val``) every evaluation but the
    final one covers the validation set alone, and there is none before
    the first update.  With a ``test_set`` (curves True only) every
    evaluation covers the test set as well: recorded for a figure, never
    used to choose anything.
    """

    def __init__(self, model, train_set, val_set, lam, etas, per_epoch, curves, log, test_set=None):
        self.model, self.sets, self.lam = model, {"train": train_set, "val": val_set}, lam
        if test_set is not None:
            self.sets["test"] = test_set
        self.etas, self.per_epoch, self.curves, self.log = etas, per_epoch, curves, log
        self.rows = [[] for _ in range(model.n_models)]
        self.active = np.ones(model.n_models, dtype=bool)
        self.seconds = 0.0

    def record(self, t, final=False, models=None):
        """Evaluate ``models`` (default: every active one) at update t; return those whose cost is not finite."""
        began = time.perf_counter()
        if models is None:
            models, net, lam = np.flatnonzero(self.active), self.model, self.lam
            column = models
        else:  # a few models (that diverged): evaluate them alone
            net, lam, column = self.model.take(models), self.lam[models], range(len(models))
        parts = ("train", "val", "test") if self.curves is True or final else ("val",)
        # A split without a validation set: its figures are NaN, and say nothing of divergence.
        parts = tuple(p for p in parts if p in self.sets and len(self.sets[p][1]))
        results = {part: net.evaluate(*self.sets[part], lam) for part in parts}
        for m, k in zip(models, column):
            row = {"update": t, "epoch": t / self.per_epoch, "eta": float(self.etas[max(t - 1, 0), m])}
            for part in self.sets:
                for key in ("loss", "cost", "accuracy"):
                    row[f"{part}_{key}"] = float(results[part][key][k]) if part in results else math.nan
            if self.rows[m] and self.rows[m][-1]["update"] == t:
                self.rows[m].pop()  # evaluated again at the same weights, now with more parts
            self.rows[m].append(row)
        self.seconds += time.perf_counter() - began
        if len(models) == 1 or self.model.n_models == 1:
            row = self.rows[models[0]][-1]
            self.log(
                f"update {t} epoch {row['epoch']:.2f} eta {row['eta']:.3g} "
                f"train cost {row['train_cost']:.4f} acc {row['train_accuracy']:.4f} "
                f"val cost {row['val_cost']:.4f} acc {row['val_accuracy']:.4f}"
            )
        else:
            part = "val" if "val" in parts else "train"
            best = max(models, key=lambda m: self.rows[m][-1][f"{part}_accuracy"])
            self.log(
                f"update {t} epoch {t / self.per_epoch:.2f}: {self.active.sum()} of {self.model.n_models} "
                f"models training, best {part} acc {self.rows[best][-1][f'{part}_accuracy']:.4f} (model {best})"
            )
        return [m for m in models if not all(math.isfinite(self.rows[m][-1][f"{p}_cost"]) for p in parts)]


def best_validation(rows):
    """The evaluation of one model's history with the highest validation accuracy (the earliest of a tie).

    ``rows``: its history (``History.rows[m]``, dicts with ``val_accuracy``,
    ``epoch``, ``update``).  Returns ``{best_val_accuracy, best_val_epoch,
    best_val_update}`` (a fraction, epochs, updates), or {} when no row has
    a finite validation accuracy.
    """
    finite = [row for row in rows if math.isfinite(row["val_accuracy"])]
    if not finite:
        return {}
    best = max(finite, key=lambda row: row["val_accuracy"])  # max keeps the first of equal ones
    return {
        "best_val_accuracy": best["val_accuracy"],
        "best_val_epoch": best["epoch"],
        "best_val_update": best["update"],
    }


def mini_batches(X, y, n_batch, rng, flip, dtype, translate=0, noise_std=0.0, salt_pepper=0.0, extremes=None):
    """One epoch of mini-batches ``(xb, yb)`` from a fresh shuffle.

    With ``flip`` each image is mirrored with probability 1/2; with
    ``translate`` s > 0 each is shifted by a random number of pixels in
    [-s, s], down and right independently.  Then, with ``noise_std`` > 0,
    Gaussian noise of that std is added to every value; last, with
    ``salt_pepper`` p > 0, each value becomes the darkest or brightest of
    its dimension (``extremes``: the (low, high) of ``augment.value_range``
    over the training set) with probability p, half each, so that a
    corrupted value is exactly black or white.  Each option draws from ``rng`` only when it is
    on: without them the stream, and so every run, is as before.  The
    models of a stack share the noisy batch.
    """
    n = X.shape[0]
    order = rng.permutation(n)
    for first in range(0, n, n_batch):
        # Sorted indices read the memory map in order; the batch is a set.
        idx = np.sort(order[first : first + n_batch])
        xb = np.asarray(X[idx], dtype=dtype)
        if flip:
            xb = augment.flip_horizontally(xb, rng.random(len(idx)) < 0.5)
        if translate:
            xb = augment.translate(xb, rng.integers(-translate, translate + 1, (len(idx), 2)))
        if noise_std:
            xb = augment.gaussian_noise(xb, noise_std, rng.standard_normal(xb.shape, dtype=xb.dtype))
        if salt_pepper:
            positions = augment.bernoulli_positions(rng, xb.size, salt_pepper)
            xb = augment.salt_and_pepper(xb, positions, rng.random(len(positions)) < 0.5, *extremes)
        yield xb, y[idx]


def augmentation_options(spec, X, dtype):
    """The keyword arguments of ``mini_batches`` beyond flips that ``spec`` asks for.

    Salt-and-pepper noise needs black and white in the units of the
    normalised data: the range of each dimension over the training set X,
    read once per job (in blocks: X may be a memory map).
    """
    options = {"translate": spec["translate"]}
    if spec["noise_std"]:
        options["noise_std"] = spec["noise_std"]
    if spec["salt_pepper"]:
        options["salt_pepper"] = spec["salt_pepper"]
        options["extremes"] = tuple(v.astype(dtype) for v in augment.value_range(X))
    return options


def precise_statistics(model, X, log):
    """Recompute the batch norms' statistics of the final weights over the training set X; the seconds it took.

    The final evaluation (the history's last row), the test set and the
    saved weights then use them; the curves' earlier rows used the moving
    averages.  Timed with the evaluations, not the updates.
    """
    began = time.perf_counter()
    model.precise_statistics(X)
    seconds = time.perf_counter() - began
    log(f"precise batch-norm statistics over {X.shape[0]} training images: {seconds:.2f} s")
    return seconds


# A model has diverged when its loss is not finite or has grown this many times over its first mini-batch's:
# a loss of 1e40 is finite, yet no update recovers from it (a softmax loss starts near ln 10 = 2.3).
DIVERGENCE_FACTOR = 1e3


def diverged(loss, first_loss):
    """Per model, whether a mini-batch ``loss`` (shape (n_models,)) means divergence: not finite, or above
    ``DIVERGENCE_FACTOR`` times ``first_loss``, the model's loss on its first mini-batch."""
    with np.errstate(invalid="ignore", over="ignore"):
        return ~np.isfinite(loss) | (loss > DIVERGENCE_FACTOR * np.abs(first_loss))


def train(model, train_set, val_set, specs, rng, log=lambda line: None, curves=True, test_set=None):
    """Train the stack ``model`` in place, model m as ``specs[m]`` says; return ``(histories, infos)``.

    ``curves``: True, "val" or False, what ``History`` evaluates between the
    first and the last update; ``test_set``, where given, is evaluated at
    each of those points too (``test_*`` columns; curves True only, else
    ValueError).

    ``train_set`` and ``val_set`` are ``(X, y)`` pairs, X may be a read-only
    memory map.  Each history holds one row per evaluation; its last row is
    always that model's final weights.  A model whose cost becomes
    non-finite, or whose mini-batch loss exceeds ``DIVERGENCE_FACTOR`` times
    its first mini-batch's (``diverged``), is frozen at the weights that gave
    it (marked diverged) while the others train on.
    """
    if isinstance(specs, dict):
        specs = [specs]
    if len(specs) != model.n_models:
        raise ValueError(f"{len(specs)} run specs for a stack of {model.n_models} models")
    check_stackable(specs)
    spec = specs[0]
    X, y = train_set
    n, n_batch = X.shape[0], spec["n_batch"]
    if n_batch > n:
        raise ValueError(f"n_batch {n_batch} of run {spec.get('run')!r} is larger than its training set ({n} images)")
    etas, total = eta_table(specs, n)
    etas = etas.astype(model.dtype)
    lam = model.per_model([s["lambda"] for s in specs])
    # The L2 term's share of each update (optim): 2 * eta * lambda per update and model.
    decays = 2 * etas * lam
    per_epoch = schedules.updates_per_epoch(n, n_batch)
    evaluate_at = evaluation_points(spec, n, total)
    updater = optim.build(
        [s["momentum"] for s in specs],
        spec["optimizer"],
        lam,
        spec["adam_beta1"],
        spec["adam_beta2"],
        spec["adam_eps"],
    )
    if test_set is not None and curves is not True:
        raise ValueError("a test curve is drawn beside full training curves: test_set needs curves=True")
    history = History(model, train_set, val_set, lam, etas, per_epoch, curves, log, test_set)
    augmentation = augmentation_options(spec, X, model.dtype)
    frozen = {}  # model -> (update, its weights when it diverged)

    def freeze(models, t, steps=()):
        for m in models:
            log(
                f"update {t}: model {m} ({specs[m].get('run')}) diverged (its loss is not finite, or above "
                f"{DIVERGENCE_FACTOR:g} times its first mini-batch's); frozen"
            )
            frozen[m] = (t, model.take([m]))
            history.active[m] = False
            # Finite stand-in weights that no longer move: the rest of the stack is untouched.
            for p in model.params.values():
                p[m] = 0
            etas[:, m] = 0
            decays[:, m] = 0
            for step in dict(steps).values():
                step[m] = 0  # this update's step for it is not finite
            if hasattr(updater, "forget"):  # momentum's velocity, Adam's moments
                updater.forget(m)

    if curves is True:
        history.record(0)
    first_loss = None
    t, samples, start = 0, 0, time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        while t < total and history.active.any():
            for xb, yb in mini_batches(X, y, n_batch, rng, spec["flip"], model.dtype, **augmentation):
                loss, steps = model.loss_and_steps(xb, yb, updater.gradient_scale(etas[t]))
                first_loss = loss.copy() if first_loss is None else first_loss
                bad = np.flatnonzero(diverged(loss, first_loss) & history.active)
                if len(bad):
                    history.record(t, final=True, models=bad)
                    freeze(bad, t, steps)
                    if not history.active.any():
                        break
                updater.step(model.params, steps, decays[t], etas[t])
                t += 1
                samples += len(yb)
                if t == total and spec["precise_bn"]:
                    history.seconds += precise_statistics(model, X, log)
                if t == total or (curves and evaluate_at[t]):
                    freeze(history.record(t, final=t == total), t)
                elif not curves and t % per_epoch == 0:
                    log(f"update {t} epoch {t / per_epoch:.2f}: {history.active.sum()} of {model.n_models} training")
                if t >= total or not history.active.any():
                    break
        last = history.rows[np.flatnonzero(history.active)[0]] if history.active.any() else None
        if last is not None and (not last or last[-1]["update"] != t):
            history.record(t, final=True)
    seconds = time.perf_counter() - start
    for m, (_, weights) in frozen.items():
        model.put(m, weights)
    # Throughput of the updates alone (evaluations are timed apart), summed over the stack.
    update_seconds = seconds - history.seconds
    infos = []
    for m in range(model.n_models):
        infos.append(
            {
                "updates": frozen[m][0] if m in frozen else t,
                "epochs_trained": (frozen[m][0] if m in frozen else t) / per_epoch,
                "diverged": m in frozen,
                "curves": curves,
                "train_seconds": seconds,
                "eval_seconds": history.seconds,
                "stack_size": model.n_models,
                "samples_per_s": samples * model.n_models / update_seconds if update_seconds > 0 else math.nan,
            }
        )
    return history.rows, infos
