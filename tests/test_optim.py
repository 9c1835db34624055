"""The update rules, whole or tile by tile: the same arithmetic for every entry."""

import numpy as np
import pytest

from dd2424.nn import optim


@pytest.mark.parametrize("n_models,shape", [(1, (6, 7)), (5, (6, 7)), (3, (40,))])
def test_tiles_cover_every_entry_once(monkeypatch, n_models, shape):
    monkeypatch.setattr(optim, "TILE_BYTES", 64)
    a = np.zeros((n_models, int(np.prod(shape))), dtype=np.float32)
    for rows, cols in optim.tiles(a.shape, a.itemsize):
        a[rows, cols] += 1
    assert (a == 1).all()


def reference_step(params, velocity, steps, decay, rho):
    """Momentum with weight decay on whole arrays, as the rule is written in the docs."""
    for k, s in steps.items():
        d = decay.reshape(-1, *([1] * (s.ndim - 1))) if k.startswith("W") else 0
        r = rho.astype(s.dtype).reshape(-1, *([1] * (s.ndim - 1)))
        s = s + d * params[k]
        velocity[k] = -s if k not in velocity else r * velocity[k] - s
        params[k] = params[k] + velocity[k]


@pytest.mark.parametrize("tile_bytes", [64, 1 << 20])
@pytest.mark.parametrize("rho", [[0.0, 0.0, 0.0], [0.9, 0.5, 0.0]])
def test_a_tiled_update_equals_the_whole_array_update_bit_for_bit(monkeypatch, tile_bytes, rho):
    monkeypatch.setattr(optim, "TILE_BYTES", tile_bytes)
    rng = np.random.default_rng(0)
    params = {
        "W1": rng.standard_normal((3, 8, 13), dtype=np.float32),
        "b1": rng.standard_normal((3, 8), dtype=np.float32),
    }
    expected, velocity = {k: v.copy() for k, v in params.items()}, {}
    rule = optim.build(rho)
    for _ in range(4):
        steps = {k: rng.standard_normal(v.shape, dtype=np.float32) for k, v in params.items()}
        decay = rng.uniform(0, 0.01, 3).astype(np.float32)
        rule.step(params, {k: v.copy() for k, v in steps.items()}, decay)
        if isinstance(rule, optim.SGD):
            for k, s in steps.items():
                if k.startswith("W"):
                    expected[k] *= (1 - decay)[:, None, None]
                expected[k] -= s
        else:
            reference_step(expected, velocity, steps, decay, np.asarray(rho))
    for k in params:
        np.testing.assert_array_equal(params[k], expected[k], err_msg=k)


def test_a_parameter_that_cannot_be_updated_in_place_is_refused():
    params = {"W1": np.ones((2, 4, 3), dtype=np.float32).transpose(0, 2, 1)}
    with pytest.raises(ValueError, match="not contiguous"):
        optim.build([0.0]).step(params, {"W1": np.ones((2, 3, 4), dtype=np.float32)}, np.zeros(2, np.float32))


def adam_by_hand(w, grads, eta, lam, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam's updates of one weight array, written out from the paper's Algorithm 1 in float64:
    bias-corrected moments m_hat, v_hat and W - eta m_hat / (sqrt(v_hat) + eps), g with 2 lam W."""
    w, m, v = w.astype(np.float64), 0.0, 0.0
    out = []
    for t, g in enumerate(grads, start=1):
        g = g + 2 * lam * w
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        w = w - eta * m_hat / (np.sqrt(v_hat) + eps)
        out.append(w)
    return out


@pytest.mark.parametrize("tile_bytes", [64, 1 << 20])
def test_adams_first_steps_are_the_update_written_out_by_hand(monkeypatch, tile_bytes):
    monkeypatch.setattr(optim, "TILE_BYTES", tile_bytes)
    rng = np.random.default_rng(0)
    etas, lams = np.array([1e-3, 1e-2], np.float32), np.array([0.0, 0.5])
    params = {
        "W1": rng.standard_normal((2, 5, 7), dtype=np.float32),
        "b1": rng.standard_normal((2, 5), dtype=np.float32),
    }
    start = {k: v.copy() for k, v in params.items()}
    grads = [{k: rng.standard_normal(v.shape, dtype=np.float32) for k, v in params.items()} for _ in range(3)]
    rule = optim.build([0.0, 0.0], "adam", lams)
    assert isinstance(rule, optim.Adam)
    np.testing.assert_array_equal(rule.gradient_scale(etas), 1)
    for t, g in enumerate(grads):
        rule.step(params, {k: v.copy() for k, v in g.items()}, np.zeros(2, np.float32), etas)
        for k in params:
            assert params[k].dtype == np.float32 and rule.moments[k][0].dtype == np.float32
            for m in range(2):
                lam = lams[m] if k == "W1" else 0.0  # no L2 on the biases
                expected = adam_by_hand(start[k][m], [gt[k][m] for gt in grads[: t + 1]], etas[m], lam)[-1]
                np.testing.assert_allclose(params[k][m], expected, rtol=1e-6, atol=1e-9, err_msg=f"{k} step {t + 1}")
    # The first step moves every entry by about eta (m_hat / sqrt(v_hat) = sign(g)): bias correction at work.
    first = adam_by_hand(start["b1"][0], [grads[0]["b1"][0]], 1e-3, 0.0)[0]
    np.testing.assert_allclose(np.abs(first - start["b1"][0]), 1e-3, rtol=1e-4)


def test_adam_allocates_its_moments_once_and_a_frozen_model_does_not_move():
    rng = np.random.default_rng(1)
    params = {"W1": rng.standard_normal((2, 3, 4), dtype=np.float32)}
    rule = optim.build([0.0], "adam", [0.1, 0.1])
    grad = lambda: {"W1": rng.standard_normal((2, 3, 4), dtype=np.float32)}  # noqa: E731
    rule.step(params, grad(), np.zeros(2, np.float32), np.array([1e-2, 1e-2], np.float32))
    moments = [id(a) for a in rule.moments["W1"]]
    rule.forget(1)
    before = params["W1"][1].copy()
    for _ in range(3):
        rule.step(params, grad(), np.zeros(2, np.float32), np.array([1e-2, 0.0], np.float32))
    assert [id(a) for a in rule.moments["W1"]] == moments
    np.testing.assert_array_equal(params["W1"][1], before)


def test_an_unknown_optimizer_is_named():
    with pytest.raises(ValueError, match="rmsprop"):
        optim.build([0.0], "rmsprop")
