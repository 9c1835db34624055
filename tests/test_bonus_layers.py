"""The bonus's ingredients: dropout, label smoothing and translations."""

import numpy as np
import pytest
from conftest import default_spec, jittered_network

from dd2424.nn import layers
from dd2424.nn.augment import translate
from dd2424.nn.losses import multiple_binary_cross_entropy, softmax_cross_entropy
from dd2424.nn.trainer import mini_batches, train
from dd2424.pipeline.gradcheck import check_network
from dd2424.pipeline.training import build_network

BAR = 1e-6


@pytest.mark.parametrize("loss", ["softmax", "bce"])
@pytest.mark.parametrize("batch_norm", [False, True])
def test_dropout_and_label_smoothing_gradients(rng, loss, batch_norm):
    X, y = rng.normal(size=(11, 12)), rng.integers(0, 10, 11)
    net = jittered_network(rng, dropout=0.4, label_smoothing=0.2, loss=loss, batch_norm=batch_norm)
    rows = check_network(net, X, y, 0.05)
    for r in rows:
        assert r["max_rel_error"] < BAR, r


def test_gradients_of_a_stack_with_one_dropout_rate_and_smoothing_per_model(rng):
    X, y = rng.normal(size=(10, 12)), rng.integers(0, 10, 10)
    net = jittered_network(rng, dropout=[0.0, 0.3, 0.6], label_smoothing=[0.1, 0.0, 0.3], n_models=3, batch_norm=True)
    for r in check_network(net, X, y, 0.02):
        assert r["max_rel_error"] < BAR, r


def test_a_wrong_dropout_backward_fails_the_check(rng, monkeypatch):
    """Ignoring the mask in the backward pass must be caught by the same check."""
    X, y = rng.normal(size=(11, 12)), rng.integers(0, 10, 11)
    monkeypatch.setattr(layers, "dropout_backward", lambda dout, keep: dout)
    rows = check_network(jittered_network(rng, dropout=0.5, batch_norm=False), X, y, 0.0)
    assert max(r["max_rel_error"] for r in rows) > 1e-2


def test_dropout_drops_the_rate_and_keeps_the_expectation(rng):
    x = np.ones((1, 400, 500), dtype=np.float32)
    out, keep = layers.dropout_forward(x, 0.3, rng.random(x.shape, dtype=np.float32))
    assert out.dtype == np.float32
    assert abs((out == 0).mean() - 0.3) < 0.01
    assert np.allclose(out[out != 0], 1 / 0.7)
    assert abs(out.mean() - 1) < 0.01
    np.testing.assert_array_equal(layers.dropout_backward(np.ones_like(x), keep), out)


def test_dropout_is_on_in_training_only(rng):
    net = jittered_network(rng, dropout=0.5, batch_norm=False)
    X = rng.normal(size=(6, 12))
    inference = [net.forward(X, train=False)[0] for _ in range(2)]
    training = [net.forward(X, train=True)[0] for _ in range(2)]
    np.testing.assert_array_equal(inference[0], inference[1])
    assert not np.allclose(training[0], training[1])
    # Without dropout the training-mode pass of a network without batch norm is the inference pass.
    plain = jittered_network(np.random.default_rng(5), batch_norm=False)
    np.testing.assert_array_equal(plain.forward(X, train=True)[0], plain.forward(X, train=False)[0])


def test_label_smoothing_loss_matches_its_definition(rng):
    scores, y = rng.normal(size=(2, 5, 10)), rng.integers(0, 10, 5)
    eps = np.array([0.0, 0.25])
    loss, dscores, p = softmax_cross_entropy(scores, y, eps)
    target = np.full((2, 5, 10), 0.0)
    target += eps[:, None, None] / 10
    target[:, np.arange(5), y] += 1 - eps[:, None]
    expected = -(target * np.log(p)).sum(axis=-1).mean(axis=-1)
    np.testing.assert_allclose(loss, expected, rtol=1e-12)
    np.testing.assert_allclose(dscores, (p - target) / 5, rtol=1e-12, atol=1e-15)
    # eps 0 is the plain loss
    np.testing.assert_allclose(loss[0], softmax_cross_entropy(scores[0], y)[0])
    bce_plain = multiple_binary_cross_entropy(scores, y)[0]
    np.testing.assert_allclose(multiple_binary_cross_entropy(scores, y, np.zeros(2))[0], bce_plain)


def test_evaluation_reports_the_plain_loss(rng):
    X, y = rng.normal(size=(8, 12)).astype(np.float32), rng.integers(0, 10, 8)
    smoothed = jittered_network(np.random.default_rng(3), label_smoothing=0.3, batch_norm=False).astype(np.float32)
    plain = jittered_network(np.random.default_rng(3), batch_norm=False).astype(np.float32)
    a, b = smoothed.evaluate(X, y, 0.0), plain.evaluate(X, y, 0.0)
    np.testing.assert_array_equal(a["loss"], b["loss"])


def test_translate_moves_each_image_by_its_own_shift():
    X = np.arange(3 * 3072, dtype=np.float32).reshape(3, 3072) + 1
    shifts = np.array([[2, 0], [0, -3], [-1, 1]])
    out = translate(X, shifts).reshape(3, 3, 32, 32)
    im = X.reshape(3, 3, 32, 32)
    np.testing.assert_array_equal(out[0, :, 2:, :], im[0, :, :-2, :])
    np.testing.assert_array_equal(out[1, :, :, :-3], im[1, :, :, 3:])
    np.testing.assert_array_equal(out[2, :, :-1, 1:], im[2, :, 1:, :-1])
    # the uncovered border is zero (the training mean of normalised data), and nothing else is
    assert (out[0, :, :2, :] == 0).all() and (out[1, :, :, -3:] == 0).all()
    assert (out[2, :, -1, :] == 0).all() and (out[2, :, :, 0] == 0).all()
    assert (out != 0).sum() == 3 * (30 * 32 + 32 * 29 + 31 * 31)
    np.testing.assert_array_equal(translate(X, np.zeros((3, 2), int)), X)


def test_translated_batches_are_deterministic_per_seed_and_stay_within_the_shift():
    rng_data = np.random.default_rng(0)
    X = rng_data.normal(size=(50, 3072)).astype(np.float32)
    y = rng_data.integers(0, 10, 50)

    def batches(seed):
        return [xb for xb, _ in mini_batches(X, y, 25, np.random.default_rng(seed), True, np.float32, translate=2)]

    a, b, c = batches(1), batches(1), batches(2)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not all(np.array_equal(u, v) for u, v in zip(a, c))
    # Every translated image keeps a 28x28 block of its source somewhere (shifts of at most 2).
    first = a[0].reshape(-1, 3, 32, 32)
    assert ((first == 0).reshape(len(first), -1).mean(axis=1) <= 1 - (28 * 28) / (32 * 32) + 1e-9).all()


def test_dropout_training_is_deterministic_per_seed_and_learns():
    spec = default_spec(
        hidden=[30], batch_norm=True, init="he", n_batch=20, epochs=4, eta=0.05, dropout=0.3, label_smoothing=0.1
    )
    data_rng = np.random.default_rng(99)
    means = data_rng.normal(0, 1, (10, 3072))
    y = data_rng.integers(0, 10, 200)
    X = (means[y] + data_rng.normal(0, 3, (200, 3072))).astype(np.float32)

    def fit(seed):
        rng = np.random.default_rng(seed)
        net = build_network(spec, 3072, rng)
        histories, _ = train(net, (X, y), (X, y), [spec], rng)
        return net, histories[0]

    (a, ha), (b, hb), (c, _) = fit(1), fit(1), fit(2)
    assert ha == hb
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    assert not np.array_equal(a.params["W1"], c.params["W1"])
    assert ha[-1]["train_accuracy"] > 0.5 and ha[-1]["train_cost"] < ha[0]["train_cost"]
