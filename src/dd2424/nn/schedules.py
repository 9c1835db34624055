"""Learning-rate schedules: each maps the update index t (from 0) to eta.

t may be an integer array: the trainer tabulates a run's whole schedule once.
"""

import math

import numpy as np


class Constant:
    def __init__(self, eta):
        self.eta = eta

    def __call__(self, t):
        return self.eta + 0 * np.asarray(t, dtype=float)


class StepDecay:
    """eta multiplied by ``factor`` every ``every`` epochs (an Assignment 1 report of 2024: /10 every 10)."""

    def __init__(self, eta, factor, every, updates_per_epoch):
        self.eta, self.factor = eta, factor
        self.period = every * updates_per_epoch

    def __call__(self, t):
        return self.eta * self.factor ** (t // self.period)


class EpochDecay:
    """eta multiplied by ``decay`` after each epoch (an Assignment 2 report of 2018: 0.92)."""

    def __init__(self, eta, decay, updates_per_epoch):
        self.eta, self.decay, self.updates_per_epoch = eta, decay, updates_per_epoch

    def __call__(self, t):
        return self.eta * self.decay ** (t // self.updates_per_epoch)


class Cyclic:
    """Triangular cycles of 2 * n_s updates between eta_min and a peak that may shrink each cycle.

    Cycle c (from 0, updates 2 c n_s .. 2 (c + 1) n_s - 1) rises from eta_min
    to eta_min + (eta_max - eta_min) * eta_max_decay**c and falls back: the
    amplitude, not eta_min, decays.  ``eta_max_decay`` 0.5 is the
    "triangular2" policy of Smith (2017), "Cyclical Learning Rates for
    Training Neural Networks", WACV, Sec. 3.1 (the difference between the
    bounds cut in half at the end of each cycle); 1 (the default) is the
    plain triangle of Assignment 2, value for value.
    """

    def __init__(self, eta_min, eta_max, n_s, eta_max_decay=1.0):
        self.eta_min, self.eta_max, self.n_s = eta_min, eta_max, n_s
        self.eta_max_decay = eta_max_decay

    def __call__(self, t):
        t = np.asarray(t)
        phase = t % (2 * self.n_s)
        rise = np.where(phase < self.n_s, phase, 2 * self.n_s - phase)
        # x * 1.0 == x exactly: with no decay every eta is the plain triangle's, bit for bit
        amplitude = (self.eta_max - self.eta_min) * self.eta_max_decay ** (t // (2 * self.n_s))
        return self.eta_min + rise / self.n_s * amplitude


def updates_per_epoch(n, n_batch):
    return math.ceil(n / n_batch)


def resolve_n_s(spec, n_train):
    """n_s in updates: given directly, or as ``n_s_epochs`` times floor(n / n_batch)."""
    if spec.get("n_s"):
        return int(spec["n_s"])
    return int(spec["n_s_epochs"] * (n_train // spec["n_batch"]))


def cyclic_length(spec, n_train, n_s):
    """Updates a cyclic run trains: ``cyclic_updates``, or ``cyclic_epochs`` epochs, else ``cycles`` whole cycles.

    A length in epochs counts the trainer's epochs, ceil(n / n_batch)
    updates each (the last, smaller mini-batch included), rounded to the
    nearest update: 20 epochs at n_batch 100 on 10,000 images are 2,000
    updates, 1.25 cycles of n_s = 800 (a run may stop anywhere in a cycle,
    as reports that train "for 20 epochs" with a cyclic schedule do).
    Setting both ``cyclic_updates`` and ``cyclic_epochs`` is refused at
    parse time (``checks.check_spec``); here the updates win.
    """
    if spec.get("cyclic_updates"):
        return int(spec["cyclic_updates"])
    if spec.get("cyclic_epochs"):
        return math.floor(spec["cyclic_epochs"] * updates_per_epoch(n_train, spec["n_batch"]) + 0.5)
    return 2 * n_s * spec["cycles"]


def build(spec, n_train):
    """(schedule, total number of updates) for a flat run spec."""
    per_epoch = updates_per_epoch(n_train, spec["n_batch"])
    kind = spec["schedule"]
    if kind == "cyclic":
        n_s = resolve_n_s(spec, n_train)
        cyclic = Cyclic(spec["eta_min"], spec["eta_max"], n_s, spec["eta_max_decay"])
        return cyclic, cyclic_length(spec, n_train, n_s)
    total = spec["epochs"] * per_epoch
    if kind == "constant":
        return Constant(spec["eta"]), total
    if kind == "step":
        return StepDecay(spec["eta"], spec["step_factor"], spec["step_every"], per_epoch), total
    if kind == "exp":
        return EpochDecay(spec["eta"], spec["decay"], per_epoch), total
    raise ValueError(f"unknown schedule {kind!r}; choose constant, step, exp or cyclic")
