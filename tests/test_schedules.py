import numpy as np
import pytest
from conftest import default_spec

from dd2424.nn import schedules


def test_cyclic_triangle():
    c = schedules.Cyclic(1e-5, 1e-1, n_s=500)
    assert c(0) == pytest.approx(1e-5)
    assert c(250) == pytest.approx((1e-5 + 1e-1) / 2)
    assert c(500) == pytest.approx(1e-1)
    assert c(750) == pytest.approx((1e-5 + 1e-1) / 2)
    assert c(1000) == pytest.approx(1e-5)
    assert c(1500) == pytest.approx(1e-1)


def test_step_decay_divides_every_period():
    s = schedules.StepDecay(0.05, 0.1, every=10, updates_per_epoch=100)
    assert s(999) == pytest.approx(0.05)
    assert s(1000) == pytest.approx(0.005)
    assert s(2500) == pytest.approx(0.0005)


def test_epoch_decay():
    s = schedules.EpochDecay(0.1, 0.92, updates_per_epoch=10)
    assert s(9) == pytest.approx(0.1) and s(30) == pytest.approx(0.1 * 0.92**3)


def base(**kw):
    return default_spec(
        **{"eta": 0.01, "epochs": 3, "step_every": 1, "decay": 0.9, "cycles": 2, **kw},
    )


def test_build_counts_updates():
    assert schedules.build(base(), 1000)[1] == 30
    assert schedules.build(base(), 1050)[1] == 33  # a last partial batch is still an update
    sched, total = schedules.build(base(schedule="cyclic", n_s=800), 10000)
    assert total == 3200 and sched(800) == pytest.approx(0.1)


def test_n_s_from_epochs():
    # seed 001's search: n_s = 2 * floor(n / n_batch) for n = 45,000
    assert schedules.resolve_n_s(base(n_s_epochs=2), 45000) == 900


def test_unknown_schedule():
    with pytest.raises(ValueError, match="cosine"):
        schedules.build(base(schedule="cosine"), 100)


def test_a_cyclic_run_given_in_epochs_or_updates_may_end_mid_cycle():
    # 20 epochs at n_s = 800 on 10,000 images with n_batch 100: 2,000 updates, 1.25 cycles
    cyclic = base(schedule="cyclic", n_s=800, n_batch=100, eta_min=1e-5, eta_max=0.1)
    sched, total = schedules.build({**cyclic, "cyclic_epochs": 20}, 10000)
    assert total == 2000 and total / 1600 == 1.25
    # the last update (t = 1999) is 399 updates into the second cycle's rise
    assert sched(total - 1) == pytest.approx(1e-5 + 399 / 800 * (0.1 - 1e-5))
    assert schedules.build({**cyclic, "cyclic_updates": 2000}, 10000)[1] == 2000
    # an epoch counts its last, smaller mini-batch; a fraction of an epoch is rounded to the nearest update
    assert schedules.build({**cyclic, "cyclic_epochs": 2}, 10050)[1] == 2 * 101
    assert schedules.build({**cyclic, "cyclic_epochs": 0.5}, 10050)[1] == 51
    # neither: whole cycles, as before
    assert schedules.build(cyclic, 10000)[1] == 2 * 800 * 2


def test_eta_max_decay_shrinks_each_cycle_amplitude_by_hand():
    # n_s = 10, eta 0.01..0.11 (amplitude 0.1), decay 0.5 (Smith 2017's triangular2), 3 cycles = 60 updates
    sched, total = schedules.build(
        base(schedule="cyclic", n_s=10, cycles=3, eta_min=0.01, eta_max=0.11, eta_max_decay=0.5), 1000
    )
    assert total == 60
    by_hand = {
        0: 0.01,  # cycle 0 starts at eta_min
        5: 0.01 + 0.5 * 0.1,  # halfway up the first rise
        10: 0.11,  # cycle 0 peaks at eta_max
        15: 0.01 + 0.5 * 0.1,
        20: 0.01,  # cycle 1 starts at eta_min: eta_min does not decay
        25: 0.01 + 0.5 * 0.05,
        30: 0.01 + 0.05,  # cycle 1 peaks at eta_min + amplitude / 2
        39: 0.01 + 0.1 * 0.05,
        40: 0.01,
        47: 0.01 + 0.7 * 0.025,
        50: 0.01 + 0.025,  # cycle 2 peaks at eta_min + amplitude / 4
        59: 0.01 + 0.1 * 0.025,
    }
    t = np.array(list(by_hand))
    assert np.allclose(sched(t), list(by_hand.values()), rtol=1e-12, atol=0)


def test_eta_max_decay_one_is_the_plain_triangle_bit_for_bit():
    t = np.arange(7 * 2 * 37)
    plain = schedules.Cyclic(1e-5, 0.1, 37)
    assert np.array_equal(schedules.Cyclic(1e-5, 0.1, 37, eta_max_decay=1.0)(t), plain(t))
    # the default spec (eta_max_decay 1) builds the plain triangle
    spec = base(schedule="cyclic", n_s=37, cycles=7)
    assert spec["eta_max_decay"] == 1
    assert np.array_equal(schedules.build(spec, 1000)[0](t), plain(t))
    # the pre-change formula, written out
    phase = t % 74
    rise = np.where(phase < 37, phase, 74 - phase)
    assert np.array_equal(plain(t), 1e-5 + rise / 37 * (0.1 - 1e-5))


def test_eta_max_decay_is_per_model_in_a_stack():
    from dd2424.nn import trainer

    specs = [base(schedule="cyclic", n_s=5, cycles=2, eta_max_decay=d) for d in (1.0, 0.5)]
    table, total = trainer.eta_table(specs, 1000)
    assert total == 20 and table.shape == (20, 2)
    assert table[5, 0] == pytest.approx(0.1) and table[15, 0] == pytest.approx(0.1)
    assert table[5, 1] == pytest.approx(0.1) and table[15, 1] == pytest.approx(1e-5 + 0.5 * (0.1 - 1e-5))
