"""A stack of M models trained together equals M single runs on the same mini-batches."""

import numpy as np
import pytest
from conftest import jittered_network
from test_trainer import SPEC, blobs

from dd2424.nn.model import Network
from dd2424.nn.trainer import check_stackable, train
from dd2424.pipeline.gradcheck import check_network
from dd2424.pipeline.training import build_network

POINTS = [
    {"eta": 0.01, "lambda": 0.0, "momentum": 0.0},
    {"eta": 0.003, "lambda": 0.1, "momentum": 0.9},
    {"eta": 0.02, "lambda": 0.01, "momentum": 0.5},
]


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


@pytest.mark.parametrize(
    "shape",
    [
        {"hidden": []},
        {"hidden": [20], "init": "he", "bias_init": "zero"},
        {"hidden": [20, 15], "batch_norm": True, "init": "he", "bias_init": "zero"},
    ],
)
def test_a_stack_equals_its_single_runs_over_a_few_updates(shape):
    specs = [{**SPEC, **shape, **p, "epochs": 1, "run": f"p{i}"} for i, p in enumerate(POINTS)]
    stack, histories, infos = fit(specs)
    for m, spec in enumerate(specs):
        single, single_history, single_info = fit([spec])
        assert single_info[0]["updates"] == infos[m]["updates"] == 10
        for k, v in single.params.items():
            np.testing.assert_allclose(stack.params[k][m], v[0], rtol=2e-4, atol=2e-6, err_msg=k)
        for k, v in single.running.items():
            np.testing.assert_allclose(stack.running[k][m], v[0], rtol=2e-4, atol=2e-6, err_msg=k)
        assert histories[m][-1]["val_accuracy"] == pytest.approx(single_history[0][-1]["val_accuracy"], abs=0.01)


def test_a_stack_stays_within_half_a_point_of_single_runs_over_a_short_run():
    specs = [{**SPEC, **p, "hidden": [30], "init": "he", "epochs": 8, "run": f"p{i}"} for i, p in enumerate(POINTS)]
    _, histories, _ = fit(specs)
    for m, spec in enumerate(specs):
        _, single, _ = fit([spec])
        assert abs(histories[m][-1]["val_accuracy"] - single[0][-1]["val_accuracy"]) <= 0.005


def test_a_diverging_model_is_frozen_and_leaves_its_neighbours_unchanged():
    base = {**SPEC, "hidden": [20], "init": "he", "bias_init": "zero", "epochs": 3}
    calm = [{**base, **POINTS[0], "run": "a"}, {**base, **POINTS[2], "run": "b"}]
    wild = {**base, "eta": 1e30, "run": "wild"}
    with_wild, histories, infos = fit([calm[0], wild, calm[1]])
    # The same shapes, so the same round-off: a calm model in the middle instead.
    without, calm_histories, _ = fit([calm[0], {**base, **POINTS[1], "run": "c"}, calm[1]])
    assert infos[1]["diverged"] and infos[1]["updates"] < 30
    assert not infos[0]["diverged"] and not infos[2]["diverged"]
    assert histories[1][-1]["update"] == infos[1]["updates"]
    assert not np.isfinite(histories[1][-1]["train_cost"])
    for m in (0, 2):
        for k in with_wild.params:
            np.testing.assert_array_equal(with_wild.params[k][m], without.params[k][m])
        assert histories[m] == calm_histories[m]


def test_models_that_cannot_share_batches_are_refused():
    with pytest.raises(ValueError, match="n_batch"):
        check_stackable([{**SPEC, "run": "a"}, {**SPEC, "n_batch": 7, "run": "b"}])
    check_stackable([{**SPEC, "run": "a"}, {**SPEC, "eta": 0.5, "lambda": 0.3, "run": "b"}])


@pytest.mark.parametrize("batch_norm", [False, True])
def test_gradients_of_a_stack_with_one_lambda_per_model(rng, batch_norm):
    net = jittered_network(rng, (12, 8, 6, 10), batch_norm=batch_norm, n_models=3)
    X, y = rng.normal(size=(9, 12)), rng.integers(0, 10, 9)
    for row in check_network(net, X, y, np.array([0.0, 0.1, 0.3])):
        assert row["max_rel_error"] < 1e-6, row


def test_a_stack_with_one_init_sigma_per_model_equals_its_single_runs():
    """sigma_004's runs: the stack's one draw, scaled per model, is each single run's start."""
    shape = {"hidden": [20, 15], "init": "normal", "bias_init": "normal", "batch_norm": False}
    specs = [
        {**SPEC, **shape, "init_sigma": sigma, "eta": 0.01, "epochs": 1, "run": f"s{i}"}
        for i, sigma in enumerate((0.1, 0.001, 0.0001))
    ]
    first = build_network(specs, 3072, np.random.default_rng(5))
    stack, histories, _ = fit(specs)
    for m, spec in enumerate(specs):
        alone = build_network([spec], 3072, np.random.default_rng(5))
        for k, v in alone.params.items():
            np.testing.assert_array_equal(first.params[k][m], v[0], err_msg=k)
        assert np.std(first.params["W2"][m]) == pytest.approx(spec["init_sigma"], rel=0.1)
        single, single_history, _ = fit([spec])
        for k, v in single.params.items():
            np.testing.assert_allclose(stack.params[k][m], v[0], rtol=2e-4, atol=2e-6, err_msg=k)
        assert histories[m][-1]["val_accuracy"] == pytest.approx(single_history[0][-1]["val_accuracy"], abs=0.01)


def test_every_model_of_a_stack_starts_from_the_same_weights(rng):
    net = Network([30, 7, 10], init="xavier", rng=rng, n_models=4)
    for p in net.params.values():
        assert all(np.array_equal(p[0], p[m]) for m in range(4))


def test_an_adam_stack_equals_its_single_runs_each_with_its_own_eta_and_lambda():
    points = [{"eta": 1e-3, "lambda": 0.0}, {"eta": 3e-4, "lambda": 0.1}, {"eta": 2e-3, "lambda": 0.01}]
    shape = {"hidden": [20], "init": "he", "bias_init": "zero", "optimizer": "adam", "epochs": 1}
    specs = [{**SPEC, **shape, **p, "run": f"p{i}"} for i, p in enumerate(points)]
    stack, histories, infos = fit(specs)
    for m, spec in enumerate(specs):
        single, single_history, _ = fit([spec])
        for k, v in single.params.items():
            np.testing.assert_allclose(stack.params[k][m], v[0], rtol=2e-4, atol=2e-6, err_msg=k)
    # Adam's steps are about eta in size whatever the gradient's scale: the models moved apart.
    assert not np.allclose(stack.params["W1"][0], stack.params["W1"][1], atol=1e-4)
    assert histories[0][-1]["train_cost"] < histories[0][0]["train_cost"]
