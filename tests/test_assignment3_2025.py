"""The 2025 Assignment 3's training options: growing cycles, the linear schedule, Nesterov momentum,
label smoothing towards the other classes, and a ConvNet through the one trainer."""

import numpy as np
import pytest
from conftest import default_spec, jittered_network
from test_trainer import blobs

from dd2424.nn import optim, schedules
from dd2424.nn.losses import multiclass_svm, multiple_binary_cross_entropy, softmax_cross_entropy
from dd2424.nn.model import Network
from dd2424.nn.trainer import evaluation_points, train
from dd2424.pipeline.gradcheck import check_network
from dd2424.pipeline.training import build_network


def test_doubling_cycles_by_hand():
    """n_s 800 doubling: cycles of 1,600, 3,200 and 6,400 updates; peaks at 800, 3,200 and 8,000."""
    c = schedules.Cyclic(1e-5, 0.1, 800, n_s_growth=2)
    assert c.length(3) == 11200 and c.length(4) == 24000
    t = np.array([0, 400, 800, 1200, 1600, 2400, 3200, 4000, 4800, 6400, 8000, 9600, 11199])
    rise = np.array([0, 400, 800, 400, 0, 800, 1600, 800, 0, 1600, 3200, 1600, 1]) / np.array(
        [800, 800, 800, 800, 1600, 1600, 1600, 1600, 3200, 3200, 3200, 3200, 3200]
    )
    np.testing.assert_allclose(c(t), 1e-5 + rise * (0.1 - 1e-5), rtol=1e-12)


def test_growing_cycles_combine_with_a_decaying_peak_and_a_length_in_updates():
    spec = default_spec(schedule="cyclic", n_s=10, n_s_growth=1.5, eta_max_decay=0.5, cycles=3, eta_min=0.0)
    spec["eta_min"] = 1e-6
    sched, total = schedules.build(spec, 1000)
    assert total == 2 * (10 + 15 + 23)  # 10 * 2.25 = 22.5, rounded half up
    # cycle 2 starts at update 50 and peaks 23 updates later at a quarter of the first amplitude
    assert sched(50 + 23) == pytest.approx(1e-6 + (0.1 - 1e-6) * 0.25)
    assert sched(20 + 15) == pytest.approx(1e-6 + (0.1 - 1e-6) * 0.5)
    sched, total = schedules.build({**spec, "cyclic_updates": 120}, 1000)
    # cycle 3 (n_s 33.75 -> 34) starts at update 96: halfway up at 113, at an eighth of the first amplitude
    assert total == 120 and sched(96 + 17) == pytest.approx(1e-6 + (0.1 - 1e-6) * 0.125 / 2)


def test_without_growth_the_cycles_are_as_before():
    t = np.arange(5000)
    plain = schedules.Cyclic(1e-5, 0.1, 37, eta_max_decay=0.7)
    phase = t % 74
    expected = 1e-5 + np.where(phase < 37, phase, 74 - phase) / 37 * ((0.1 - 1e-5) * 0.7 ** (t // 74))
    np.testing.assert_array_equal(plain(t), expected)
    assert plain.length(3) == 222


def test_growth_is_refused_below_1_and_outside_cyclic_schedules():
    with pytest.raises(ValueError, match="at least 1"):
        schedules.Cyclic(1e-5, 0.1, 10, n_s_growth=0.5)
    with pytest.raises(ValueError, match="n_s_growth"):
        schedules.build(default_spec(schedule="constant", n_s_growth=2.0), 1000)


def test_evaluations_follow_the_growing_cycles():
    spec = default_spec(schedule="cyclic", n_s=800, n_s_growth=2.0, cycles=3, evals_per_cycle=4, n_batch=100)
    points = np.flatnonzero(evaluation_points(spec, 49000, 11200))
    assert points.tolist() == [400, 800, 1200, 1600, 2400, 3200, 4000, 4800, 6400, 8000, 9600, 11200]
    # without growth: every 2 n_s // evals_per_cycle updates from update 0, and the last
    plain = default_spec(schedule="cyclic", n_s=100, cycles=2, evals_per_cycle=3, n_batch=100)
    assert np.flatnonzero(evaluation_points(plain, 1000, 400)).tolist() == [66, 132, 198, 264, 330, 396, 400]
    epochs = default_spec(schedule="constant", epochs=3, n_batch=100)
    assert np.flatnonzero(evaluation_points(epochs, 1000, 30)).tolist() == [10, 20, 30]


def test_the_linear_schedule_decays_to_zero_over_the_run():
    sched, total = schedules.build(default_spec(schedule="linear", eta=0.2, epochs=4, n_batch=100), 1000)
    assert total == 40
    np.testing.assert_allclose(sched(np.array([0, 10, 20, 39])), [0.2, 0.15, 0.1, 0.2 / 40], rtol=1e-12)


@pytest.mark.parametrize("tile_bytes", [64, 1 << 20])
def test_nesterov_steps_by_hand(monkeypatch, tile_bytes):
    """Sutskever et al.'s v <- rho v - eta g(theta + rho v), theta <- theta + v, written at the look-ahead point
    phi = theta + rho v: phi <- phi - eta g(phi) + rho v_new; weight decay on W, per-model rho."""
    monkeypatch.setattr(optim, "TILE_BYTES", tile_bytes)
    rng = np.random.default_rng(0)
    rho = np.array([0.9, 0.5, 0.0])
    params = {"W1": rng.standard_normal((3, 4, 5)), "b1": rng.standard_normal((3, 4))}
    theta = {k: v.copy() for k, v in params.items()}  # Sutskever's own iterate
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    rule = optim.build(rho, "nesterov")
    assert isinstance(rule, optim.Nesterov)
    for _ in range(4):
        decay = rng.uniform(0, 0.01, 3)
        steps = {k: rng.standard_normal(v.shape) for k, v in params.items()}  # eta g at the look-ahead point
        for k, s in steps.items():
            shape = (-1,) + (1,) * (s.ndim - 1)
            g = s + (decay.reshape(shape) * (theta[k] + rho.reshape(shape) * velocity[k]) if k == "W1" else 0)
            velocity[k] = rho.reshape(shape) * velocity[k] - g
            theta[k] = theta[k] + velocity[k]
        rule.step(params, {k: v.copy() for k, v in steps.items()}, decay)
        for k in params:
            lookahead = theta[k] + rho.reshape((-1,) + (1,) * (params[k].ndim - 1)) * velocity[k]
            np.testing.assert_allclose(params[k], lookahead, rtol=1e-12, atol=1e-12, err_msg=k)
    # rho 0: plain SGD with weight decay
    assert not np.allclose(params["W1"][0], params["W1"][2])


def test_nesterov_first_step_by_numbers():
    params = {"W1": np.array([[[1.0, -2.0]]]), "b1": np.array([[0.5]])}
    rule = optim.build([0.5], "nesterov")
    rule.step(params, {"W1": np.array([[[0.1, 0.2]]]), "b1": np.array([[0.4]])}, np.array([0.1]))
    # s = 0.1 * W + step = (0.2, 0.0); v = -s; W <- W - s + 0.5 v = W - 1.5 s
    np.testing.assert_allclose(params["W1"], [[[0.7, -2.0]]])
    np.testing.assert_allclose(params["b1"], [[0.5 - 1.5 * 0.4]])
    rule.step(params, {"W1": np.array([[[0.0, 0.0]]]), "b1": np.array([[0.0]])}, np.array([0.0]))
    # v = 0.5 v, W <- W + 0.5 v_new = W + 0.25 v_old
    np.testing.assert_allclose(params["W1"], [[[0.7 - 0.25 * 0.2, -2.0]]])
    np.testing.assert_allclose(params["b1"], [[0.5 - 1.5 * 0.4 - 0.25 * 0.4]])


def test_smoothing_towards_the_other_classes_matches_its_definition(rng):
    scores, y = rng.normal(size=(2, 6, 10)), rng.integers(0, 10, 6)
    eps = np.array([0.1, 0.3])
    target = np.broadcast_to(eps[:, None, None] / 9, scores.shape).copy()
    target[:, np.arange(6), y] = 1 - eps[:, None]
    log_p = scores - np.log(np.exp(scores).sum(axis=-1, keepdims=True))
    loss, dscores, p = softmax_cross_entropy(scores, y, eps, "others")
    np.testing.assert_allclose(loss, -(target * log_p).sum(axis=-1).mean(axis=-1), rtol=1e-12)
    np.testing.assert_allclose(dscores, (p - target) / 6, rtol=1e-12, atol=1e-15)
    sig = 1 / (1 + np.exp(-scores))
    bce = -(target * np.log(sig) + (1 - target) * np.log(1 - sig)).sum(axis=-1).mean(axis=-1) / 10
    np.testing.assert_allclose(multiple_binary_cross_entropy(scores, y, eps, "others")[0], bce, rtol=1e-12)
    # the uniform form of eps is still the default
    uniform = np.broadcast_to(eps[:, None, None] / 10, scores.shape).copy()
    uniform[:, np.arange(6), y] += 1 - eps[:, None]
    np.testing.assert_allclose(softmax_cross_entropy(scores, y, eps)[0], -(uniform * log_p).sum(-1).mean(-1))
    with pytest.raises(ValueError, match="label_smoothing_kind"):
        softmax_cross_entropy(scores, y, eps, "inception")
    with pytest.raises(ValueError, match="svm"):
        multiclass_svm(scores, y, eps, "others")


@pytest.mark.parametrize("loss", ["softmax", "bce"])
def test_gradients_with_smoothing_towards_the_other_classes(rng, loss):
    net = jittered_network(rng, label_smoothing=[0.1, 0.4], label_smoothing_kind="others", loss=loss, n_models=2)
    X, y = rng.normal(size=(9, 12)), rng.integers(0, 10, 9)
    for r in check_network(net, X, y, np.array([0.0, 0.1])):
        assert r["max_rel_error"] < 1e-6, r


def conv_spec(**overrides):
    spec = dict(
        hidden=[12],
        init="he",
        patch_size=[4, 8],
        patch_filters=[3, 4],
        n_batch=20,
        schedule="cyclic",
        n_s=5,
        n_s_growth=2.0,
        cycles=2,
        evals_per_cycle=2,
        eta_min=1e-4,
        eta_max=0.05,
        flip=True,
        translate=2,
        noise_std=0.1,
        run="conv",
    )
    return default_spec(**{**spec, "lambda": 0.003, **overrides})


def data():
    data_rng = np.random.default_rng(99)
    means = data_rng.normal(0, 1, (10, 3072))
    return blobs(data_rng, means), blobs(data_rng, means)


def fit(specs, seed=5):
    train_set, val_set = data()
    rng = np.random.default_rng(seed)
    net = build_network(specs, 3072, rng)
    histories, infos = train(net, train_set, val_set, specs, rng)
    return net, histories, infos


def test_a_convnet_stack_with_augmentation_equals_its_single_runs():
    """Growing cycles, flips, translations and noise, each model its own eta_max, lambda and Nesterov rho."""
    points = [{"eta_max": 0.05, "lambda": 0.0, "momentum": 0.9}, {"eta_max": 0.02, "lambda": 0.01, "momentum": 0.5}]
    specs = [conv_spec(optimizer="nesterov", run=f"p{i}", **p) for i, p in enumerate(points)]
    stack, histories, infos = fit(specs)
    assert infos[0]["updates"] == 2 * (5 + 10)
    assert [row["update"] for row in histories[0]] == [0, 5, 10, 20, 30]
    for m, spec in enumerate(specs):
        single, single_history, _ = fit([spec])
        for k, v in single.params.items():
            np.testing.assert_allclose(stack.params[k][m], v[0], rtol=2e-4, atol=2e-6, err_msg=k)
        assert histories[m][-1]["val_accuracy"] == pytest.approx(single_history[0][-1]["val_accuracy"], abs=0.01)
    assert histories[0][-1]["train_cost"] < histories[0][0]["train_cost"]


def test_the_default_keys_build_the_network_they_always_built():
    spec = default_spec(hidden=[20], init="he", bias_init="normal")
    # the network as it was built before the convolution's keys existed: the constructor without them
    new, before = (
        build_network(spec, 3072, np.random.default_rng(3)),
        Network([3072, 20, 10], init="he", bias_init="normal", sigma=[0.01], rng=np.random.default_rng(3)),
    )
    assert new.params.keys() == before.params.keys() == {"W1", "b1", "W2", "b2"}
    for k in new.params:
        np.testing.assert_array_equal(new.params[k], before.params[k])
