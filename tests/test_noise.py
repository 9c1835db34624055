"""Noise augmentation of training mini-batches: additive Gaussian noise and salt and pepper."""

import numpy as np
import pytest
from test_trainer import SPEC, blobs

from dd2424.nn import augment
from dd2424.nn.trainer import augmentation_options, mini_batches, train
from dd2424.pipeline.training import build_network


def images(n=200, d=3072, seed=3):
    return np.random.default_rng(seed).normal(0, 1, (n, d)).astype(np.float32), np.arange(n) % 10


def test_gaussian_noise_is_the_inputs_plus_std_times_the_draws(rng):
    X = rng.normal(size=(4, 7)).astype(np.float32)
    z = rng.standard_normal((4, 7), dtype=np.float32)
    out = augment.gaussian_noise(X, 0.25, z)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, X + np.float32(0.25) * z)


def test_noisy_mini_batches_are_the_shuffle_plus_the_expected_draws():
    """The same generator, drawn in the trainer's order: the permutation, then one (n_batch, d) normal draw a batch."""
    X, y = images()
    batches = list(mini_batches(X, y, 64, np.random.default_rng(7), False, np.float32, noise_std=0.3))
    replica = np.random.default_rng(7)
    order = replica.permutation(len(y))
    assert [len(yb) for _, yb in batches] == [64, 64, 64, 8]
    for k, (xb, yb) in enumerate(batches):
        idx = np.sort(order[64 * k : 64 * (k + 1)])
        z = replica.standard_normal((len(idx), X.shape[1]), dtype=np.float32)
        np.testing.assert_array_equal(xb, X[idx] + np.float32(0.3) * z)
        np.testing.assert_array_equal(yb, y[idx])
    # the noise has the asked-for spread
    noise = np.concatenate([xb - X[np.sort(order[64 * k : 64 * (k + 1)])] for k, (xb, _) in enumerate(batches)])
    assert noise.std() == pytest.approx(0.3, rel=0.01)


def test_salt_and_pepper_sets_the_fraction_to_exactly_black_or_white():
    X, y = images()
    low, high = augment.value_range(X)
    fraction = 0.1
    batches = list(
        mini_batches(X, y, 50, np.random.default_rng(11), False, np.float32, salt_pepper=fraction, extremes=(low, high))
    )
    order = np.random.default_rng(11).permutation(len(y))
    pepper = salt = total = 0
    for k, (xb, _) in enumerate(batches):
        source = X[np.sort(order[50 * k : 50 * (k + 1)])]
        changed = xb != source
        columns = np.broadcast_to(np.arange(X.shape[1]), xb.shape)[changed]
        is_low, is_high = xb[changed] == low[columns], xb[changed] == high[columns]
        assert (is_low | is_high).all()  # every changed value is its dimension's black or white, exactly
        np.testing.assert_array_equal(xb[~changed], source[~changed])
        pepper, salt, total = pepper + is_low.sum(), salt + is_high.sum(), total + xb.size
    # Binomial(total, p) counts within 5 standard deviations; a value already at its extreme
    # cannot show as changed: one per dimension of 614,400 values, far inside the bound.
    for count, p in ((pepper + salt, fraction), (pepper, fraction / 2), (salt, fraction / 2)):
        assert abs(count - total * p) < 5 * np.sqrt(total * p * (1 - p)), (count, total * p)


def test_salt_and_pepper_of_given_positions(rng):
    X = rng.normal(size=(2, 3)).astype(np.float32)
    low, high = np.array([-5.0, -6.0, -7.0], np.float32), np.array([5.0, 6.0, 7.0], np.float32)
    out = augment.salt_and_pepper(X, np.array([0, 1, 3, 5]), np.array([False, True, True, False]), low, high)
    expected = X.copy()
    expected[0, 0], expected[0, 1], expected[1, 0], expected[1, 2] = -5.0, 6.0, 5.0, -7.0
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.float32


@pytest.mark.parametrize("p", [0.003, 0.05, 0.3])
def test_bernoulli_positions_select_each_value_with_probability_p(p):
    """Sparse fractions as geometric gaps, dense ones as a uniform per value: the same law."""
    size = 300_000
    positions = augment.bernoulli_positions(np.random.default_rng(2), size, p)
    assert positions.dtype.kind == "i" and (np.diff(positions) > 0).all()
    assert positions[0] >= 0 and positions[-1] < size
    assert abs(len(positions) - size * p) < 5 * np.sqrt(size * p * (1 - p))
    # the gaps are geometric: mean 1/p, and as many in each half of the range
    assert np.diff(positions).mean() == pytest.approx(1 / p, rel=5 / np.sqrt(len(positions)))  # 5 std of the mean
    assert abs((positions < size // 2).sum() - len(positions) / 2) < 5 * np.sqrt(len(positions) / 4)
    if p < augment.GAPS_BELOW:  # the expected draw: the cumulated gaps, one geometric draw each
        gaps = np.random.default_rng(2).geometric(p, len(positions))
        np.testing.assert_array_equal(positions, np.cumsum(gaps) - 1)


def test_bernoulli_positions_draw_more_gaps_when_the_first_fall_short():
    class OnesRng:  # every gap is 1: every value is selected, far beyond the first draw's margin
        def geometric(self, p, n):
            return np.ones(n, dtype=np.int64)

    np.testing.assert_array_equal(augment.bernoulli_positions(OnesRng(), 1000, 0.01), np.arange(1000))


def test_the_value_range_is_read_in_blocks_of_a_memory_map(tmp_path):
    X, _ = images(n=250, d=40)
    np.save(tmp_path / "X.npy", X)
    low, high = augment.value_range(np.load(tmp_path / "X.npy", mmap_mode="r"), chunk=64)
    np.testing.assert_array_equal(low, X.min(axis=0))
    np.testing.assert_array_equal(high, X.max(axis=0))
    options = augmentation_options({**SPEC, "salt_pepper": 0.05}, X, np.float32)
    np.testing.assert_array_equal(options["extremes"][0], X.min(axis=0))
    assert augmentation_options(SPEC, X, np.float32) == {"translate": 0}  # off: nothing read, nothing drawn


def test_without_noise_the_random_stream_is_untouched():
    X, y = images(n=120)
    rngs = np.random.default_rng(5), np.random.default_rng(5)
    plain = list(mini_batches(X, y, 50, rngs[0], True, np.float32, translate=1))
    off = list(mini_batches(X, y, 50, rngs[1], True, np.float32, translate=1, noise_std=0.0, salt_pepper=0.0))
    for (a, ya), (b, yb) in zip(plain, off):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(ya, yb)
    assert rngs[0].random() == rngs[1].random()


def test_noisy_training_is_deterministic_per_seed_and_learns():
    data_rng = np.random.default_rng(99)
    means = data_rng.normal(0, 1, (10, 3072))
    train_set, val_set = blobs(data_rng, means), blobs(data_rng, means)
    plain = {**SPEC, "hidden": [20], "init": "he", "bias_init": "zero", "epochs": 3}
    noisy = {**plain, "noise_std": 0.5, "salt_pepper": 0.05}
    nets, histories = [], []
    for spec_ in (noisy, noisy, plain):
        rng = np.random.default_rng(4)
        net = build_network(spec_, 3072, rng)
        histories.append(train(net, train_set, val_set, [spec_], rng)[0][0])
        nets.append(net)
    np.testing.assert_array_equal(nets[0].params["W1"], nets[1].params["W1"])
    assert not np.array_equal(nets[0].params["W1"], nets[2].params["W1"])
    assert histories[0][-1]["val_accuracy"] > 0.5
