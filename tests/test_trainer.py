import numpy as np
import pytest
from conftest import default_spec

from dd2424.nn.augment import flip_horizontally
from dd2424.nn.trainer import DIVERGENCE_FACTOR, diverged, recorded_updates, train
from dd2424.pipeline.training import build_network

SPEC = default_spec(
    bias_init="normal",
    n_batch=20,
    eta=0.01,
    epochs=5,
    step_every=1,
    step_factor=0.5,
    decay=0.9,
    evals_per_cycle=4,
    **{"lambda": 0.01},
)


def blobs(rng, means, n=200):
    y = rng.integers(0, 10, n)
    return (means[y] + rng.normal(0, 3, (n, means.shape[1]))).astype(np.float32), y


def fit(spec, seed=0):
    data_rng = np.random.default_rng(99)
    means = data_rng.normal(0, 1, (10, 3072))
    train_set, val_set = blobs(data_rng, means), blobs(data_rng, means)
    rng = np.random.default_rng(seed)
    net = build_network(spec, 3072, rng)
    histories, infos = train(net, train_set, val_set, [spec], rng)
    return net, histories[0], infos[0]


def test_training_lowers_the_cost_and_learns():
    _, history, info = fit(SPEC)
    assert len(history) == SPEC["epochs"] + 1  # before training, then once per epoch
    assert history[-1]["train_cost"] < 0.5 * history[0]["train_cost"]
    assert history[-1]["val_accuracy"] > 0.5
    assert info["updates"] == 5 * 10 and info["epochs_trained"] == 5 and not info["diverged"]


def test_same_seed_same_model_other_seed_other_model():
    a, _, _ = fit(SPEC, seed=3)
    b, _, _ = fit(SPEC, seed=3)
    c, _, _ = fit(SPEC, seed=4)
    np.testing.assert_array_equal(a.params["W1"], b.params["W1"])
    assert not np.array_equal(a.params["W1"], c.params["W1"])


def test_training_is_float32():
    net, _, _ = fit(SPEC)
    assert all(p.dtype == np.float32 for p in net.params.values())


def test_divergence_is_recorded_not_raised():
    _, history, info = fit({**SPEC, "eta": 1e30, "hidden": [20], "init": "he"})
    assert info["diverged"]
    assert info["updates"] < 50


def test_a_finite_loss_a_thousand_times_the_first_is_divergence_too():
    loss = np.array([2.3, 2.3e3, 2.4e3, np.inf, np.nan, 1.85e40])
    assert diverged(loss, np.full(6, 2.3)).tolist() == [False, False, True, True, True, True]
    # a linear model at eta 1e4: its loss jumps to about 8e4, finite, and no update brings it back
    _, history, info = fit({**SPEC, "eta": 1e4, "lambda": 0.0})
    assert info["diverged"] and info["updates"] == 1
    assert (
        np.isfinite(history[-1]["train_loss"])
        and history[-1]["train_loss"] > DIVERGENCE_FACTOR * history[0]["train_loss"]
    )


def test_cyclic_run_stops_at_the_end_of_its_cycles_and_evaluates_per_cycle():
    spec = {**SPEC, "schedule": "cyclic", "n_s": 7, "cycles": 2, "momentum": 0.9}
    _, history, info = fit(spec)
    assert info["updates"] == 28
    assert [h["update"] for h in history] == [0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28]
    # what make verify holds a history to
    assert recorded_updates(spec, 200, 28, curves=True) == [h["update"] for h in history]
    assert recorded_updates(spec, 200, 28, curves=False) == [28]
    assert recorded_updates(SPEC, 200, 50, curves=True) == [0, 10, 20, 30, 40, 50]


def test_flip_mirrors_only_selected_images(rng):
    X = rng.normal(size=(3, 3072)).astype(np.float32)
    out = flip_horizontally(X, np.array([True, False, True]))
    img = X[0].reshape(3, 32, 32)
    np.testing.assert_array_equal(out[0].reshape(3, 32, 32), img[:, :, ::-1])
    np.testing.assert_array_equal(out[1], X[1])
    np.testing.assert_array_equal(flip_horizontally(out, np.array([True, False, True])), X)


def test_save_and_load_round_trip(tmp_path):
    net, _, _ = fit({**SPEC, "hidden": [10], "batch_norm": True, "init": "he", "epochs": 1})
    net.save(tmp_path / "m.npz")
    back = type(net).load(tmp_path / "m.npz")
    X = np.random.default_rng(0).normal(size=(5, 3072)).astype(np.float32)
    y = np.arange(5)
    a, b = back.evaluate(X, y, 0.0, probabilities=True), net.evaluate(X, y, 0.0, probabilities=True)
    for key in ("probabilities", "loss", "accuracy"):
        np.testing.assert_allclose(a[key], b[key])
    assert back.running.keys() == net.running.keys()


@pytest.mark.parametrize("loss", ["softmax", "bce"])
def test_evaluation_is_the_same_in_any_block_size_and_its_probabilities_are_the_losses(loss):
    """Blocks of rows change nothing: every figure is a sum over samples; the
    probabilities are softmax (or per-class sigmoids) of the scores."""
    net, _, _ = fit({**SPEC, "hidden": [10], "batch_norm": True, "init": "he", "epochs": 1, "loss": loss})
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(23, 3072)).astype(np.float32), rng.integers(0, 10, 23)
    whole = net.evaluate(X, y, 0.1, probabilities=True)
    blocks = net.evaluate(X, y, 0.1, chunk=5, probabilities=True)
    for key in ("loss", "cost", "accuracy", "probabilities"):
        np.testing.assert_allclose(blocks[key], whole[key], rtol=1e-6)
    scores = net.forward(X, train=False)[0].astype(np.float64)
    if loss == "softmax":
        expected = np.exp(scores) / np.exp(scores).sum(axis=-1, keepdims=True)
    else:
        expected = 1 / (1 + np.exp(-scores))
    np.testing.assert_allclose(whole["probabilities"], expected, rtol=1e-5, atol=1e-7)
    assert whole["probabilities"].shape == (1, 23, 10)
    np.testing.assert_allclose(whole["accuracy"], [(scores[0].argmax(axis=1) == y).mean()])
    assert "probabilities" not in net.evaluate(X, y, 0.1)


def test_network_refuses_bad_options():
    with pytest.raises(ValueError, match="init"):
        build_network({**SPEC, "init": "glorot"}, 10, np.random.default_rng(0))


def test_an_svm_trains_and_its_probabilities_are_the_softmax_of_its_scores():
    net, history, _ = fit({**SPEC, "loss": "svm"})
    assert history[-1]["train_loss"] < 0.5 * history[0]["train_loss"]  # the hinge, from 9 at near-zero scores
    assert history[-1]["val_accuracy"] > 0.5
    X = np.random.default_rng(5).normal(0, 1, (30, 3072)).astype(np.float32)
    y = np.zeros(30, dtype=int)
    result = net.evaluate(X, y, net.per_model(0.0), probabilities=True)
    scores = net.forward(X, train=False)[0]
    softmax = np.exp(scores - scores.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(result["probabilities"], softmax / softmax.sum(axis=-1, keepdims=True), rtol=1e-5)
    assert result["accuracy"][0] == pytest.approx((scores[0].argmax(axis=-1) == 0).mean())


def test_a_cyclic_run_of_a_given_number_of_epochs_stops_there_mid_cycle():
    # 200 images at n_batch 20: 10 updates an epoch; 2 epochs are 20 updates, 1.25 cycles of n_s = 8
    spec = {**SPEC, "schedule": "cyclic", "n_s": 8, "eta_min": 1e-4, "eta_max": 1e-2, "cyclic_epochs": 2}
    _, history, info = fit(spec)
    assert info["updates"] == 20 and info["epochs_trained"] == 2
    assert history[-1]["update"] == 20
    # eta of the last update (t = 19): 3 updates into the second cycle's rise
    assert history[-1]["eta"] == pytest.approx(1e-4 + 3 / 8 * (1e-2 - 1e-4), rel=1e-6)
    assert fit({**spec, "cyclic_epochs": None, "cyclic_updates": 13})[2]["updates"] == 13


def test_a_split_without_validation_trains_and_records_nan_validation_figures(archive, tmp_path):
    """The same training images with and without a validation set train the same weights (evaluating draws
    no random numbers); without one, every val_* figure is NaN (null in metrics.json), the rest as before."""
    import json

    from dd2424.data import cifar as data
    from dd2424.pipeline import results
    from dd2424.pipeline import table as summary
    from dd2424.pipeline import training as run

    data.extract(archive[0], tmp_path / "raw")
    splits = {
        "with": {"train": ["data_batch_1"], "val": ["data_batch_2"], "test": ["test_batch"]},
        "without": {"train": ["data_batch_1"], "val_size": 0, "test": ["test_batch"]},
    }
    specs = [
        default_spec(epochs=3, n_batch=20, eta=eta, report="r", assignment="a1", experiment="e", run=f"eta{eta}")
        for eta in (0.001, 0.01)
    ]
    suffix = {"model": "npz", "history": "csv", "metrics": "json", "predictions": "npz"}
    metrics = {}
    for name, split in splits.items():
        data.make_split(tmp_path / "raw", split, tmp_path / name)
        outs = [{k: tmp_path / name / f"{s['run']}_{k}.{x}" for k, x in suffix.items()} for s in specs]
        metrics[name] = run.train_stack(specs, tmp_path / name, 1, outs, log=lambda line: None)
    X, y = data.load_split(tmp_path / "without", "train")
    for m, spec in enumerate(specs):

        def out(kind, split="without", run=spec["run"]):
            return tmp_path / split / f"{run}_{kind}.{suffix[kind]}"

        written = json.loads(out("metrics").read_text(encoding="utf-8"))
        assert written["val_images"] == 0
        assert all(written[f"val_{k}"] is None for k in ("accuracy", "loss", "cost"))
        history = results.read_history(out("history"))
        assert len(history) == 4 and history[["val_loss", "val_cost", "val_accuracy"]].isna().all().all()
        assert np.isfinite(history[["train_loss", "train_cost", "train_accuracy"]]).all().all()
        model = run.load_model(out("model"))
        other = run.load_model(out("model", "with"))
        for key, value in model.params.items():
            np.testing.assert_array_equal(value, other.params[key])
        scores = np.asarray(X, dtype=np.float64) @ model.params["W1"][0].astype(np.float64).T + model.params["b1"][0].T
        assert written["train_accuracy"] == pytest.approx(np.mean(scores.argmax(axis=1) == y), abs=1e-12)
        assert written["test_accuracy"] == metrics["with"][m]["test_accuracy"]
    table = summary.from_metrics(sorted((tmp_path / "without").glob("*_metrics.json")))
    assert table.val_accuracy.isna().all() and table.train_accuracy.notna().all()


def test_test_curves_record_the_test_set_at_every_evaluation_and_change_no_weight(archive, tmp_path, monkeypatch):
    """With ``test_curves`` each history row holds the test set's figures too (the last row is the job's final
    test figures), evaluated on the weights of that update; the weights are those of the same run without it,
    and its figure draws a third curve."""
    import json

    from dd2424.data import cifar as data
    from dd2424.pdf import plots
    from dd2424.pipeline import results
    from dd2424.pipeline import training as run

    data.extract(archive[0], tmp_path / "raw")
    data.make_split(
        tmp_path / "raw", {"train": ["data_batch_1"], "val": ["data_batch_2"], "test": ["test_batch"]}, tmp_path / "s"
    )
    suffix = {"model": "npz", "history": "csv", "metrics": "json", "predictions": "npz"}
    written = {}
    for test_curves in (False, True):
        spec = default_spec(
            epochs=3, n_batch=20, eta=0.01, test_curves=test_curves, report="r", assignment="a1", experiment="e"
        )
        spec["run"] = f"t{int(test_curves)}"
        outs = [{k: tmp_path / f"{spec['run']}_{k}.{x}" for k, x in suffix.items()}]
        run.train_stack([spec], tmp_path / "s", 1, outs, log=lambda line: None)
        written[test_curves] = outs[0]
    plain, tested = (results.read_history(written[k]["history"]) for k in (False, True))
    assert "test_loss" not in plain and len(tested) == len(plain) == 4
    same = ["update", "train_loss", "val_loss", "train_accuracy", "val_accuracy"]
    assert (tested[same].to_numpy() == plain[same].to_numpy()).all()
    metrics = json.loads(written[True]["metrics"].read_text(encoding="utf-8"))
    for key in ("loss", "cost", "accuracy"):
        assert tested[f"test_{key}"].iloc[-1] == pytest.approx(metrics[f"test_{key}"], rel=1e-6)
    # the first row is the untrained network's: chance on 10 classes, and the curve then falls
    assert tested["test_loss"].iloc[0] > tested["test_loss"].iloc[-1]
    assert tested["test_accuracy"].iloc[0] < 0.3
    # recomputed from the saved weights: the last row is theirs
    model = run.load_model(written[True]["model"])
    final = model.evaluate(*data.load_split(tmp_path / "s", "test"), model.per_model([spec["lambda"]]))
    assert tested["test_accuracy"].iloc[-1] == pytest.approx(float(final["accuracy"][0]))
    drawn = []
    original = plots._mean_band
    monkeypatch.setattr(
        plots, "_mean_band", lambda ax, h, x, column, *rest: drawn.append(column) or original(ax, h, x, column, *rest)
    )
    plots.training_curves({"t1": [tested], "t0": [plain]}, tmp_path / "curves.png")
    assert drawn.count("test_loss") == 1 and drawn.count("val_loss") == 2 and (tmp_path / "curves.png").stat().st_size
