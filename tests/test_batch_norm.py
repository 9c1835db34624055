"""Batch norm's place (before or after the ReLU) and precise statistics after training."""

import json

import numpy as np
import pytest
from conftest import default_spec, jittered_network
from test_trainer import SPEC, blobs

from dd2424.nn.model import Network
from dd2424.nn.trainer import train
from dd2424.pipeline.training import build_network, train_stack

BN = {**SPEC, "hidden": [16, 12], "batch_norm": True, "init": "he", "bias_init": "zero", "epochs": 2}


def direct_statistics(params, X, after_relu):
    """Each batch norm's input mean and biased variance over X, layer by layer, by plain numpy.

    Layer i's input is computed with the layers below normalised by the
    statistics found for them here (what precise BN means).
    """
    found, h = {}, X
    hidden = sum(k.startswith("gamma") for k in params)
    for i in range(1, hidden + 1):
        u = h @ params[f"W{i}"].T + params.get(f"b{i}", 0.0)
        if after_relu:
            u = np.maximum(u, 0)
        found[f"mean{i}"], found[f"var{i}"] = u.mean(axis=0), u.var(axis=0)
        normalised = params[f"gamma{i}"] * (u - u.mean(axis=0)) / np.sqrt(u.var(axis=0) + 1e-8) + params[f"beta{i}"]
        h = normalised if after_relu else np.maximum(normalised, 0)
    return found


@pytest.mark.parametrize("position", ["before_relu", "after_relu"])
@pytest.mark.parametrize("sizes", [(12, 9, 7, 10), (12, 9, 8, 7, 10)], ids=["2-hidden", "3-hidden"])
def test_precise_statistics_are_the_training_sets_layer_by_layer(rng, tmp_path, position, sizes):
    """A stack of two on a memory-mapped set read in blocks that do not divide it."""
    net = jittered_network(rng, sizes, batch_norm=True, bn_position=position, n_models=2)
    for _ in range(3):  # moving averages of a few mini-batches, which the precise ones must replace
        net.forward(rng.normal(size=(20, 12)))
    X = rng.normal(0.5, 2.0, size=(250, 12))
    np.save(tmp_path / "X.npy", X)
    net.precise_statistics(np.load(tmp_path / "X.npy", mmap_mode="r"), chunk=64)
    for m in range(2):
        expected = direct_statistics({k: v[m] for k, v in net.params.items()}, X, position == "after_relu")
        assert set(expected) == set(net.running)
        for key, value in expected.items():
            np.testing.assert_allclose(net.running[key][m], value, rtol=1e-12, atol=1e-13, err_msg=key)


def test_precise_statistics_leave_a_network_without_batch_norm_alone(rng):
    net = jittered_network(rng, (12, 9, 10))
    net.precise_statistics(rng.normal(size=(30, 12)))
    assert net.running == {}


@pytest.mark.parametrize("position", ["before_relu", "after_relu"])
def test_training_with_precise_bn_changes_only_the_final_statistics(position):
    """The same updates; the last evaluation and the stored statistics are the training set's."""
    plain, plain_history, _ = fit({**BN, "bn_position": position})
    lines = []
    precise, precise_history, info = fit({**BN, "bn_position": position, "precise_bn": True}, log=lines.append)
    for k, v in plain.params.items():
        np.testing.assert_array_equal(precise.params[k], v)
    assert plain_history[:-1] == precise_history[:-1]  # the curves use the moving averages
    train_set, val_set = data()
    expected = direct_statistics(
        {k: v[0].astype(np.float64) for k, v in precise.params.items()}, train_set[0], position == "after_relu"
    )
    for key, value in expected.items():
        assert precise.running[key].dtype == np.float32
        np.testing.assert_allclose(precise.running[key][0], value, rtol=2e-5, atol=1e-5, err_msg=key)
        assert not np.allclose(plain.running[key], precise.running[key], rtol=1e-3)
    final = precise_history[-1]
    for part, (X, y) in (("train", train_set), ("val", val_set)):
        result = precise.evaluate(X, y, SPEC["lambda"])
        assert final[f"{part}_accuracy"] == result["accuracy"][0]
        assert final[f"{part}_loss"] == pytest.approx(result["loss"][0], rel=1e-12)
    assert any("precise batch-norm statistics over 200 training images" in line for line in lines)
    assert info["eval_seconds"] > 0


def test_a_job_saves_and_tests_with_the_precise_statistics(tmp_path):
    """train_stack (a stack of two, the split memory-mapped): the saved weights and the test figures."""
    split = tmp_path / "split"
    split.mkdir()
    train_set, val_set = data()
    for part, (X, y) in (("train", train_set), ("val", val_set), ("test", val_set)):
        np.save(split / f"{part}_X.npy", X)
        np.save(split / f"{part}_y.npy", y)
    spec = {**BN, "bn_position": "after_relu", "precise_bn": True, "report": "r", "experiment": "e"}
    specs = [{**spec, "run": "a"}, {**spec, "run": "b", "lambda": 0.1, "eta": 0.02}]
    outs = [{k: tmp_path / f"{s['run']}.{k}" for k in ("model", "history", "metrics", "predictions")} for s in specs]
    for out in outs:
        out["model"] = out["model"].with_suffix(".npz")
    train_stack(specs, split, 3, outs, log=lambda line: None)
    for s, out in zip(specs, outs):
        saved = Network.load(out["model"])
        assert saved.bn_after_relu and "b1" in saved.params
        params = {k: v[0].astype(np.float64) for k, v in saved.params.items()}
        for key, value in direct_statistics(params, train_set[0], after_relu=True).items():
            np.testing.assert_allclose(saved.running[key][0], value, rtol=2e-5, atol=1e-5, err_msg=key)
        metrics = json.loads(out["metrics"].read_text(encoding="utf-8"))
        test = saved.evaluate(*val_set, s["lambda"])
        assert metrics["test_accuracy"] == pytest.approx(float(test["accuracy"][0]))
        assert metrics["val_accuracy"] == pytest.approx(float(test["accuracy"][0]))


def test_batch_norm_after_the_relu_keeps_the_hidden_biases_and_survives_save_and_load(tmp_path):
    net, _, _ = fit({**BN, "bn_position": "after_relu", "bias_init": "normal", "init_sigma": 0.1})
    assert {"b1", "b2", "b3", "gamma1", "beta2"} <= set(net.params)
    before = build_network({**BN, "bias_init": "normal"}, 3072, np.random.default_rng(0))
    assert "b1" not in before.params and "b2" not in before.params and "b3" in before.params
    net.save(tmp_path / "m.npz")
    back = Network.load(tmp_path / "m.npz")
    assert back.bn_after_relu and back.params.keys() == net.params.keys()
    X, y = data()[1]
    np.testing.assert_array_equal(back.forward(X, train=False)[0], net.forward(X, train=False)[0])
    np.testing.assert_array_equal(back.evaluate(X, y, 0.0)["accuracy"], net.evaluate(X, y, 0.0)["accuracy"])


def test_a_network_refuses_an_unknown_place_for_batch_norm():
    with pytest.raises(ValueError, match="bn_position 'before_linear'"):
        build_network({**BN, "bn_position": "before_linear"}, 10, np.random.default_rng(0))


def data():
    data_rng = np.random.default_rng(99)
    means = data_rng.normal(0, 1, (10, 3072))
    return blobs(data_rng, means), blobs(data_rng, means)


def fit(spec, seed=0, log=lambda line: None):
    train_set, val_set = data()
    rng = np.random.default_rng(seed)
    net = build_network(spec, 3072, rng)
    histories, infos = train(net, train_set, val_set, [spec], rng, log=log)
    return net, histories[0], infos[0]


def test_the_defaults_place_batch_norm_before_the_relu_without_precise_statistics():
    spec = default_spec()
    assert (spec["bn_position"], spec["precise_bn"]) == ("before_relu", False)
