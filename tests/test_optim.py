"""The update rules, whole or tile by tile: the same arithmetic for every entry."""

import numpy as np
import pytest

from dd2424 import optim


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
