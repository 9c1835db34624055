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


class Linear:
    """eta decaying linearly to 0 over the run's ``total`` updates: eta (1 - t / total).

    The linear schedule of Li, Yumer and Ramanan (2020), "Budgeted Training:
    Rethinking Deep Neural Network Training Under Resource Constraints",
    ICLR, section 3 (alpha_t = alpha_0 (1 - t / T)), the one the 2025
    Assignment 2 bonus names: update 0 takes eta, the last eta / total.
    """

    def __init__(self, eta, total):
        self.eta, self.total = eta, total

    def __call__(self, t):
        return self.eta * (1 - np.asarray(t, dtype=float) / self.total)


class Cyclic:
    """Triangular cycles between eta_min and a peak that may shrink each cycle, of lengths that may grow.

    Cycle c (from 0) rises from eta_min to eta_min + (eta_max - eta_min) *
    eta_max_decay**c over its n_{s,c} updates and falls back over as many:
    the amplitude, not eta_min, decays.  ``eta_max_decay`` 0.5 is the
    "triangular2" policy of Smith (2017), "Cyclical Learning Rates for
    Training Neural Networks", WACV, Sec. 3.1 (the difference between the
    bounds cut in half at the end of each cycle); 1 (the default) is the
    plain triangle of Assignment 2, value for value.

    ``n_s_growth`` g multiplies the half-cycle after each cycle: n_{s,c} =
    n_s g^c rounded to the nearest update, as the 2025 Assignment 3 (Background 6) doubles it, n_{s,i+1}
    = 2 n_{s,i}, approximating the warm restarts of Loshchilov and Hutter
    (2017), "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR.  At
    1 (the default) every cycle is 2 n_s updates, updates 2 c n_s .. 2 (c + 1) n_s - 1.
    """

    def __init__(self, eta_min, eta_max, n_s, eta_max_decay=1.0, n_s_growth=1.0):
        if n_s_growth < 1:
            raise ValueError(f"n_s_growth {n_s_growth} would shrink the cycles: it must be at least 1")
        self.eta_min, self.eta_max, self.n_s = eta_min, eta_max, n_s
        self.eta_max_decay, self.n_s_growth = eta_max_decay, n_s_growth

    def half_cycles(self, count):
        """n_{s,c} of the first ``count`` cycles, int64 (count,)."""
        return np.array([self._half(c) for c in range(count)], dtype=np.int64)

    def _half(self, c):
        # Rounded half up (not Python's half-to-even round): n_s 10 growing by 1.5 has cycles of 10, 15, 23, 34.
        return max(1, math.floor(self.n_s * self.n_s_growth**c + 0.5))

    def starts(self, t_max):
        """The first update of every cycle that begins at or before update ``t_max``, and their half-cycles."""
        if self.n_s_growth == 1:
            count = t_max // (2 * self.n_s) + 1
        else:  # the cycles at least double in length every log(2) / log(g) cycles: few of them
            count, end = 1, 2 * self.n_s
            while end <= t_max:
                end += 2 * self._half(count)
                count += 1
        half = self.half_cycles(count)
        return np.concatenate([[0], np.cumsum(2 * half)[:-1]]), half

    def __call__(self, t):
        t = np.asarray(t)
        starts, half = self.starts(int(t.max(initial=0)))
        c = np.searchsorted(starts, t, side="right") - 1
        n_s, phase = half[c], t - starts[c]
        rise = np.where(phase < n_s, phase, 2 * n_s - phase)
        # x * 1.0 == x exactly: with no decay every eta is the plain triangle's, bit for bit
        amplitude = (self.eta_max - self.eta_min) * self.eta_max_decay**c
        return self.eta_min + rise / n_s * amplitude

    def length(self, cycles):
        """Updates of ``cycles`` whole cycles: 2 sum of n_{s,c} (n_s 800 doubling: 3 cycles 11,200, 4 cycles 24,000)."""
        return int(2 * self.half_cycles(cycles).sum())

    def evaluations(self, total, per_cycle):
        """The updates (1 .. total) after which a run evaluates, ``per_cycle`` times a cycle, sorted int64.

        Without growth every 2 n_s // per_cycle updates, counted from update
        0, as always.  With growth each cycle its own ``per_cycle`` points,
        every 2 n_{s,c} // per_cycle updates from the cycle's start (the
        longer cycles are seen as finely relative to their length, and a
        doubled cycle's points include its end); ``total`` is always one.
        """
        if self.n_s_growth == 1:
            every = max(1, 2 * self.n_s // per_cycle)
            points = np.arange(every, total + 1, every)
        else:
            starts, half = self.starts(total)
            points = np.concatenate(
                [
                    np.arange(start + every, start + 2 * n_s + 1, every)
                    for start, n_s, every in zip(starts, half, np.maximum(1, 2 * half // per_cycle))
                ]
            )
            points = points[points <= total]
        return np.union1d(points, [total])


def updates_per_epoch(n, n_batch):
    return math.ceil(n / n_batch)


def resolve_n_s(spec, n_train):
    """n_s in updates: given directly, or as ``n_s_epochs`` times floor(n / n_batch), at least one update
    (a preview's shortened half-cycle on a small training set may round below one)."""
    if spec.get("n_s"):
        return int(spec["n_s"])
    return max(1, int(spec["n_s_epochs"] * (n_train // spec["n_batch"])))


def cyclic(spec, n_train, n_s=None):
    """The ``Cyclic`` schedule a flat run spec describes (its n_s resolved on ``n_train`` images unless given)."""
    n_s = resolve_n_s(spec, n_train) if n_s is None else n_s
    return Cyclic(spec["eta_min"], spec["eta_max"], n_s, spec["eta_max_decay"], spec["n_s_growth"])


def cyclic_length(spec, n_train, n_s):
    """Updates a cyclic run trains: ``cyclic_updates``, or ``cyclic_epochs`` epochs, else ``cycles`` whole cycles
    (with ``n_s_growth``, cycles of growing length: ``Cyclic.length``).

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
    return cyclic(spec, n_train, n_s).length(spec["cycles"])


def build(spec, n_train):
    """(schedule, total number of updates) for a flat run spec."""
    per_epoch = updates_per_epoch(n_train, spec["n_batch"])
    kind = spec["schedule"]
    if kind == "cyclic":
        n_s = resolve_n_s(spec, n_train)
        return cyclic(spec, n_train, n_s), cyclic_length(spec, n_train, n_s)
    if spec["n_s_growth"] != 1:
        raise ValueError(f"n_s_growth {spec['n_s_growth']} grows the cycles of a cyclic schedule, not of {kind!r}")
    total = spec["epochs"] * per_epoch
    if kind == "constant":
        return Constant(spec["eta"]), total
    if kind == "step":
        return StepDecay(spec["eta"], spec["step_factor"], spec["step_every"], per_epoch), total
    if kind == "exp":
        return EpochDecay(spec["eta"], spec["decay"], per_epoch), total
    if kind == "linear":
        return Linear(spec["eta"], total), total
    raise ValueError(f"unknown schedule {kind!r}; choose constant, step, exp, linear or cyclic")
