"""Analytic gradients against finite differences, for every loss and layer kind."""

import numpy as np
import pytest
import yaml
from conftest import ROOT, jittered_network

from dd2424.nn import layers
from dd2424.nn.model import Network
from dd2424.pipeline.gradcheck import check_network, numerical_gradient, relative_error, run_check, same_masks

BAR = 1e-6


def make(rng, hidden, loss, batch_norm=False, d=12, init="normal"):
    return Network(
        [d, *hidden, 10],
        loss=loss,
        batch_norm=batch_norm,
        init=init,
        sigma=0.5,
        bias_init="normal",
        dtype=np.float64,
        rng=rng,
    )


@pytest.mark.parametrize("loss", ["softmax", "bce"])
@pytest.mark.parametrize("lam", [0.0, 0.3])
def test_linear_classifier_gradients(rng, loss, lam):
    X, y = rng.normal(size=(7, 12)), rng.integers(0, 10, 7)
    rows = check_network(make(rng, [], loss), X, y, lam)
    assert {r["parameter"] for r in rows} == {"W1", "b1"}
    for r in rows:
        assert r["max_rel_error"] < BAR, r


@pytest.mark.parametrize("loss", ["softmax", "bce"])
@pytest.mark.parametrize("hidden,batch_norm", [([8], False), ([8, 6], True)])
def test_hidden_layer_gradients(rng, loss, hidden, batch_norm):
    X, y = rng.normal(size=(9, 12)), rng.integers(0, 10, 9)
    rows = check_network(make(rng, hidden, loss, batch_norm, init="he"), X, y, 0.1, h=1e-4)
    names = {r["parameter"] for r in rows}
    assert ("gamma1" in names) == batch_norm
    for r in rows:
        assert r["max_rel_error"] < BAR, r


def test_the_check_catches_a_wrong_gradient(rng):
    """A backward pass that forgets the L2 term must fail the bar."""
    net = make(rng, [], "softmax")
    X, y = rng.normal(size=(5, 12)), rng.integers(0, 10, 5)
    right = net.backward
    net.backward = lambda dscores, caches, lam: right(dscores, caches, 0.0)
    rows = check_network(net, X, y, lam=0.5)
    assert max(r["max_rel_error"] for r in rows if r["parameter"] == "W1") > 1e-2


def test_numerical_gradient_of_a_known_function():
    x = np.array([0.3, -1.2, 2.0])
    g = numerical_gradient(lambda: float(np.sum(np.sin(x) * x**2)), x, 1e-3, np.arange(3))
    np.testing.assert_allclose(g, np.cos(x) * x**2 + 2 * x * np.sin(x), rtol=1e-10)


def test_relative_error_formula():
    assert relative_error(np.array(1.0), np.array(3.0), 1e-9) == pytest.approx(0.5)
    assert relative_error(np.array(0.0), np.array(1e-12), 1e-6) == pytest.approx(1e-6)


def test_batchnorm_normalises_and_its_backward_matches_differences(rng):
    x = rng.normal(3.0, 2.0, size=(16, 5))
    gamma, beta = rng.normal(size=5), rng.normal(size=5)
    out, cache, mean, var = layers.batchnorm_forward(x, gamma, beta)
    x_hat = cache[0]
    np.testing.assert_allclose(x_hat.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(x_hat.var(axis=0), 1, atol=1e-6)
    w = rng.normal(size=out.shape)
    dx, dgamma, dbeta = layers.batchnorm_backward(w, cache)
    f = lambda: float((layers.batchnorm_forward(x, gamma, beta)[0] * w).sum())  # noqa: E731
    np.testing.assert_allclose(dx.ravel(), numerical_gradient(f, x, 1e-4, np.arange(x.size)), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(dgamma, numerical_gradient(f, gamma, 1e-4, np.arange(5)), rtol=1e-6)
    np.testing.assert_allclose(dbeta, numerical_gradient(f, beta, 1e-4, np.arange(5)), rtol=1e-6)
    # inference with the batch's own statistics is the training-mode output
    np.testing.assert_allclose(layers.batchnorm_inference(x, gamma, beta, mean, var), out, rtol=1e-10, atol=1e-12)


def test_batchnorm_inference_of_a_stack_uses_each_models_statistics(rng):
    x = rng.normal(1.0, 3.0, size=(2, 8, 4))
    gamma, beta = rng.normal(size=(2, 1, 4)), rng.normal(size=(2, 1, 4))
    mean, var = rng.normal(size=(2, 1, 4)), rng.uniform(0.5, 2.0, size=(2, 1, 4))
    expected = gamma * (x - mean) / np.sqrt(var + 1e-8) + beta
    np.testing.assert_allclose(layers.batchnorm_inference(x, gamma, beta, mean, var), expected, rtol=1e-12)


# Kinks (the hinge's margins, the ReLU's inputs) kept this far from 0: a step of at most
# 2h = 2e-4 in one parameter moves a score by far less (|x| < 5, weights of order 1).
KINK_GAP = 0.02


def kinks(net, X, y):
    """(n,) the distance of each sample's nearest kink from 0: with the SVM loss its margins
    s_j - s_y + 1 (j != y) and, with hidden layers, the inputs of every ReLU (under the dropout
    masks the check draws)."""
    scores, caches = same_masks(net).forward(X, train=True)
    nearest = np.full(len(y), np.inf)
    if net.loss_name == "svm":
        margins = scores - scores[:, np.arange(len(y)), y][..., None] + 1
        margins[:, np.arange(len(y)), y] = np.inf  # the true class's own margin is not a kink
        nearest = np.abs(margins).min(axis=(0, 2))
    for _, _, relu_input, _ in caches[:-1]:
        nearest = np.minimum(nearest, np.abs(relu_input).min(axis=(0, 2)))
    return nearest


def clear_of_kinks(net, X, y, n):
    """The first n samples whose every kink is more than KINK_GAP from 0."""
    keep = np.flatnonzero(kinks(net, X, y) > KINK_GAP)[:n]
    assert len(keep) == n, f"only {len(keep)} of {len(y)} samples clear of the kinks"
    return X[keep], y[keep]


@pytest.mark.parametrize("lam", [0.0, 0.3])
@pytest.mark.parametrize("hidden", [[], [8]])
def test_svm_gradients(rng, lam, hidden):
    net = make(rng, hidden, "svm", init="he" if hidden else "normal")
    X, y = clear_of_kinks(net, rng.normal(size=(60, 12)), rng.integers(0, 10, 60), 9)
    assert (kinks(net, X, y) > KINK_GAP).all()
    rows = check_network(net, X, y, lam)
    assert {r["parameter"] for r in rows} == {f"{p}{i}" for p in "Wb" for i in range(1, len(hidden) + 2)}
    # both sides of the hinge are in the data: the check sees active and inactive margins
    scores = net.forward(X)[0]
    margins = scores - scores[:, np.arange(9), y][..., None] + 1
    assert (margins > 0).sum() > 9 and (margins < 0).sum() > 0
    for r in rows:
        assert r["max_rel_error"] < BAR, r


def test_svm_gradients_of_a_stack(rng):
    """Three models of one stack, each its own weights and lambda: a mix-up between them shows."""
    stack = jittered_network(rng, sizes=(12, 8, 10), loss="svm", n_models=3)
    X, y = clear_of_kinks(stack, rng.normal(size=(60, 12)), rng.integers(0, 10, 60), 9)
    rows = check_network(stack, X, y, np.array([0.0, 0.1, 0.3]))
    for r in rows:
        assert r["max_rel_error"] < BAR, r


def clear_batch(net, rng, n, d=12, tries=500):
    """A random batch (X (n, d), y) whose every kink is more than KINK_GAP from 0.

    With batch norm each sample's kinks move with the whole batch's
    statistics, so whole batches are drawn until one is clear (rather than
    samples picked out of a larger batch).
    """
    for _ in range(tries):
        X, y = rng.normal(size=(n, d)), rng.integers(0, 10, n)
        if (kinks(net, X, y) > KINK_GAP).all():
            return X, y
    raise AssertionError(f"no batch of {n} clear of the kinks in {tries} draws")


@pytest.mark.parametrize("lam", [0.0, 0.1])
def test_svm_gradients_with_batch_norm_before_the_relu(rng, lam):
    """The hinge loss on Assignment 3's network (batch norm before every ReLU), with and without L2."""
    net = jittered_network(rng, (12, 9, 8, 10), batch_norm=True, loss="svm")
    X, y = clear_batch(net, rng, 10)
    rows = check_network(net, X, y, lam)
    assert {r["parameter"] for r in rows} >= {"gamma1", "beta2", "W3", "b3"}
    for r in rows:
        assert r["max_rel_error"] < BAR, r


@pytest.mark.parametrize("loss", ["softmax", "bce", "svm"])
@pytest.mark.parametrize(
    "sizes", [(12, 9, 10), (12, 9, 8, 10), (12, 9, 8, 7, 10)], ids=["2-layer", "3-layer", "4-layer"]
)
def test_batch_norm_after_the_relu_gradients(rng, loss, sizes):
    """linear -> ReLU -> batch norm: every tensor, the hidden biases included, at the 1e-6 bar."""
    net = jittered_network(rng, sizes, batch_norm=True, bn_position="after_relu", loss=loss)
    X, y = clear_batch(net, rng, 10)
    rows = check_network(net, X, y, 0.1)
    hidden = range(1, len(sizes) - 1)
    expected = {f"{p}{i}" for p in ("W", "b") for i in range(1, len(sizes))}
    assert {r["parameter"] for r in rows} == expected | {f"{p}{i}" for p in ("gamma", "beta") for i in hidden}
    for r in rows:
        assert r["max_rel_error"] < BAR, r


@pytest.mark.parametrize("loss", ["softmax", "svm"])
def test_batch_norm_after_the_relu_gradients_of_a_stack(rng, loss):
    """Two models, each its own weights, lambda and dropout rate (dropout follows the batch norm)."""
    net = jittered_network(
        rng, (12, 9, 8, 10), batch_norm=True, bn_position="after_relu", loss=loss, n_models=2, dropout=[0.0, 0.3]
    )
    X, y = clear_batch(net, rng, 8)
    for r in check_network(net, X, y, np.array([0.05, 0.3])):
        assert r["max_rel_error"] < BAR, r


def test_batch_norm_after_the_relu_is_the_relu_then_the_normalisation(rng):
    """The forward pass against its definition, in training and in inference mode."""
    net = jittered_network(rng, (12, 9, 10), batch_norm=True, bn_position="after_relu")
    X = rng.normal(size=(15, 12))
    W1, b1, g, be = (net.params[k][0] for k in ("W1", "b1", "gamma1", "beta1"))
    W2, b2 = net.params["W2"][0], net.params["b2"][0]
    h = np.maximum(X @ W1.T + b1, 0)
    normalised = g * (h - h.mean(axis=0)) / np.sqrt(h.var(axis=0) + 1e-8) + be
    np.testing.assert_allclose(net.forward(X, train=True)[0][0], normalised @ W2.T + b2, rtol=1e-10)
    net.running = {"mean1": rng.normal(size=(1, 9)), "var1": rng.uniform(0.5, 2, (1, 9))}
    stored = g * (h - net.running["mean1"][0]) / np.sqrt(net.running["var1"][0] + 1e-8) + be
    np.testing.assert_allclose(net.forward(X, train=False)[0][0], stored @ W2.T + b2, rtol=1e-10)


def test_the_pipelines_after_relu_checks_pass_and_say_where_batch_norm_sits(rng):
    """The shipped config's after-ReLU check through the gradient-check rule's function."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))["gradcheck"]["a3"]
    check = {**config["defaults"], **config["checks"]["two_layer_bn_after_relu"], "name": "c", "loss": "softmax"}
    rows = run_check(check, rng.normal(size=(12, 20)), rng.integers(0, 10, 12))
    assert {r["parameter"] for r in rows} == {"W1", "b1", "gamma1", "beta1", "W2", "b2"}
    assert {r["bn_position"] for r in rows} == {"after_relu"}
    for r in rows:
        assert r["max_rel_error"] < BAR, r
