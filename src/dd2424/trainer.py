"""The one training loop: mini-batches from a seeded shuffle, a schedule, an
update rule, optional flip augmentation, and a history of evaluations."""

import math
import time

import numpy as np

from . import optim, schedules
from .augment import flip_horizontally


def train(model, train_set, val_set, spec, rng, log=lambda line: None):
    """Train ``model`` in place as ``spec`` says; return ``(history, info)``.

    ``spec`` is a flat run spec (see ``experiments``); ``train_set`` and
    ``val_set`` are ``(X, y)`` pairs, X may be a read-only memory map.
    The history holds one row per evaluation: per epoch for epoch-based
    schedules, ``evals_per_cycle`` times per cycle for cyclic ones; its last
    row is always the final weights.
    A run whose cost becomes non-finite stops and is marked diverged.
    """
    X, y = train_set
    n = X.shape[0]
    lam, n_batch = spec["lambda"], spec["n_batch"]
    schedule, total = schedules.build(spec, n)
    per_epoch = schedules.updates_per_epoch(n, n_batch)
    if spec["schedule"] == "cyclic":
        every = max(1, (2 * schedules.resolve_n_s(spec, n)) // spec["evals_per_cycle"])
    else:
        every = per_epoch
    updater = optim.build(spec["momentum"])
    history = []
    eval_seconds = 0.0

    def record(t):
        nonlocal eval_seconds
        began = time.perf_counter()
        row = {"update": t, "epoch": t / per_epoch, "eta": schedule(max(t - 1, 0))}
        for name, (Xs, ys) in (("train", train_set), ("val", val_set)):
            for k, v in model.evaluate(Xs, ys, lam).items():
                row[f"{name}_{k}"] = v
        history.append(row)
        eval_seconds += time.perf_counter() - began
        log(f"update {t}/{total} epoch {row['epoch']:.2f} eta {row['eta']:.3g} "
            f"train cost {row['train_cost']:.4f} acc {row['train_accuracy']:.4f} "
            f"val cost {row['val_cost']:.4f} acc {row['val_accuracy']:.4f}")
        return row

    record(0)
    t, diverged, start = 0, False, time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        while t < total and not diverged:
            order = rng.permutation(n)
            for first in range(0, n, n_batch):
                # Sorted indices read the memory map in order; the batch is a set.
                idx = np.sort(order[first:first + n_batch])
                xb, yb = np.asarray(X[idx], dtype=model.dtype), np.asarray(y[idx])
                if spec["flip"]:
                    xb = flip_horizontally(xb, rng.random(len(idx)) < 0.5)
                _, cost, grads = model.loss_and_grads(xb, yb, lam)
                if not math.isfinite(cost):
                    diverged = True
                    log(f"update {t}: cost is {cost}; stopping, run marked diverged")
                    break
                updater.step(model.params, grads, schedule(t))
                t += 1
                if t % every == 0 or t == total:
                    if not math.isfinite(record(t)["train_cost"]):
                        diverged = True
                        break
                if t >= total:
                    break
        if history[-1]["update"] != t:
            # A run stopped between evaluations (divergence): the history ends at its final weights.
            record(t)
    seconds = time.perf_counter() - start
    # Throughput of the updates alone; evaluations are timed separately.
    update_seconds = seconds - eval_seconds
    info = {"updates": t, "epochs_trained": t / per_epoch, "diverged": diverged, "train_seconds": seconds,
            "eval_seconds": eval_seconds,
            "samples_per_s": t * n_batch / update_seconds if update_seconds > 0 else float("nan")}
    return history, info
