import numpy as np
import pytest

from dd2424.nn.losses import get_loss, multiclass_svm, multiple_binary_cross_entropy, softmax_cross_entropy


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


def svm_by_hand(scores, y):
    """The multi-class SVM loss and its gradient, one sample and one class at a time
    (the assignment's formula written out): sum_{j != y} max(0, s_j - s_y + 1), mean over samples."""
    n, k = scores.shape
    loss, grad = 0.0, np.zeros_like(scores)
    for i in range(n):
        for j in range(k):
            if j == y[i]:
                continue
            margin = scores[i, j] - scores[i, y[i]] + 1
            if margin > 0:
                loss += margin
                grad[i, j] += 1
                grad[i, y[i]] -= 1
    return loss / n, grad / n


def test_svm_loss_and_gradient_match_the_per_sample_formula(rng):
    scores, y = rng.normal(0, 1.5, (9, 10)), rng.integers(0, 10, 9)
    loss, dscores, _ = multiclass_svm(scores, y)
    expected_loss, expected_grad = svm_by_hand(scores, y)
    assert loss == pytest.approx(expected_loss, rel=1e-14)
    np.testing.assert_allclose(dscores, expected_grad, rtol=1e-14)
    # some margins are active and some are not: both branches are exercised
    assert 0 < (expected_grad[np.arange(9)[:, None], np.arange(10)] > 0).sum() < 9 * 9


def test_svm_of_a_stack_is_each_models_own_loss(rng):
    scores, y = rng.normal(0, 1.5, (3, 6, 10)), rng.integers(0, 10, 6)
    loss, dscores, p = multiclass_svm(scores, y)
    assert loss.shape == (3,)
    for m in range(3):
        expected_loss, expected_grad = svm_by_hand(scores[m], y)
        assert loss[m] == pytest.approx(expected_loss, rel=1e-14)
        np.testing.assert_allclose(dscores[m], expected_grad, rtol=1e-14)
        np.testing.assert_allclose(p[m], softmax_cross_entropy(scores[m], y)[2], rtol=1e-12)


def test_svm_of_known_scores():
    # true class 0 at 2.0: class 1 (1.5) is inside the margin by 0.5, class 2 (0.5) is clear of it
    loss, dscores, p = multiclass_svm(np.array([[2.0, 1.5, 0.5]]), np.array([0]))
    assert loss == pytest.approx(0.5)
    np.testing.assert_array_equal(dscores, [[-1.0, 1.0, 0.0]])
    # uniform scores: every one of the K - 1 wrong classes costs the margin
    loss, _, p = multiclass_svm(np.zeros((2, 10)), np.array([3, 7]))
    assert loss == pytest.approx(9.0) and np.allclose(p, 0.1)


def test_svm_refuses_label_smoothing():
    with pytest.raises(ValueError, match="label smoothing"):
        multiclass_svm(np.zeros((2, 10)), np.array([0, 1]), smoothing=0.1)
