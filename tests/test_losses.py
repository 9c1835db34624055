import numpy as np
import pytest

from dd2424.losses import get_loss, multiple_binary_cross_entropy, softmax_cross_entropy


def test_softmax_cross_entropy_of_uniform_scores_is_log_k():
    loss, dscores, p = softmax_cross_entropy(np.zeros((4, 10)), np.array([0, 1, 2, 3]))
    assert loss == pytest.approx(np.log(10))
    np.testing.assert_allclose(p, 0.1)
    np.testing.assert_allclose(dscores.sum(axis=1), 0, atol=1e-15)


def test_softmax_is_stable_for_huge_scores():
    loss, _, p = softmax_cross_entropy(np.array([[1e4, 0.0, -1e4]]), np.array([0]))
    assert loss == pytest.approx(0.0) and np.isfinite(p).all()


def test_multiple_bce_matches_its_definition():
    s = np.array([[0.5, -1.0, 2.0]])
    loss, dscores, p = multiple_binary_cross_entropy(s, np.array([2]))
    sig = 1 / (1 + np.exp(-s[0]))
    y = np.array([0, 0, 1])
    expected = -np.mean(y * np.log(sig) + (1 - y) * np.log(1 - sig))
    assert loss == pytest.approx(expected)
    np.testing.assert_allclose(dscores[0], (sig - y) / 3)


def test_unknown_loss_is_named():
    with pytest.raises(ValueError, match="hinge"):
        get_loss("hinge")
