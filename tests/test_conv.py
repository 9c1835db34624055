"""The patchify convolution (2025 Assignment 3): against loops over images and patches, finite differences
and the course's debug file."""

import numpy as np
import pytest

from dd2424.nn import patchify
from dd2424.nn.model import Network
from dd2424.pipeline.gradcheck import check_debug_file, check_network, run_check, same_masks

BAR = 1e-6
# Finite differences on conv networks: a step of h = 1e-6 moves a conv output by at most ~1e-5
# (|x| < 5), so kinks 1e-4 away (conv ReLUs) and 1e-3 away (the dense ReLUs, which sum many
# conv outputs) stay on their side; the long-double cost's round-off over h stays below 1e-12.
H = 1e-6
CONV_GAP, DENSE_GAP = 1e-4, 1e-3


def course_images(X):
    """The course's X_ims (32, 32, 3, n) from our rows X (n, 3072), by its own recipe (Exercise 1)."""
    n = X.shape[0]
    return np.transpose(X.T.reshape((32, 32, 3, n), order="F"), (1, 0, 2, 3))


def loop_patches(X, f):
    """MX (n_p, 3 f^2, n) by loops over images and patches, as the course builds it."""
    ims = course_images(X)
    grid = 32 // f
    MX = np.zeros((grid * grid, 3 * f * f, X.shape[0]))
    for i in range(X.shape[0]):
        for r in range(grid):
            for c in range(grid):
                MX[r * grid + c, :, i] = ims[r * f : (r + 1) * f, c * f : (c + 1) * f, :, i].reshape(-1, order="C")
    return MX


def loop_convolution(X, Fs, c=None):
    """conv_outputs (P, P, n_f, n): each filter's dot product with each patch, by loops (no ReLU)."""
    f, n_f = Fs.shape[0], Fs.shape[3]
    ims = course_images(X)
    grid = 32 // f
    out = np.zeros((grid, grid, n_f, X.shape[0]))
    for i in range(X.shape[0]):
        for r in range(grid):
            for col in range(grid):
                patch = ims[r * f : (r + 1) * f, col * f : (col + 1) * f, :, i]
                for k in range(n_f):
                    out[r, col, k, i] = np.sum(patch * Fs[:, :, :, k]) + (0 if c is None else c[k])
    return out


def reference_debug_data(rng, f=4, n_f=2, n_h=10, n=5):
    """A debug file's arrays as the course lays them out, from loops and per-image back-propagation."""
    X = rng.normal(size=(n, 3072))
    Fs = rng.normal(0, 0.3, (f, f, 3, n_f))
    grid = 32 // f
    n_p = grid * grid
    W1, b1 = rng.normal(0, 0.1, (n_h, n_p * n_f)), rng.normal(0, 0.1, (n_h, 1))
    W2, b2 = rng.normal(0, 0.3, (10, n_h)), rng.normal(0, 0.1, (10, 1))
    y = rng.integers(0, 10, n)
    Y = np.zeros((10, n))
    Y[y, np.arange(n)] = 1
    conv = loop_convolution(X, Fs)
    MX = loop_patches(X, f)
    # h: each patch's n_f outputs together, patch after patch (the course's reshape of (n_p, n_f, n))
    conv_flat = np.maximum(conv.reshape((n_p, n_f, n), order="C").reshape((n_p * n_f, n), order="C"), 0)
    X1 = np.maximum(W1 @ conv_flat + b1, 0)
    S = W2 @ X1 + b2
    P = np.exp(S - S.max(axis=0)) / np.exp(S - S.max(axis=0)).sum(axis=0)
    grads = {k: 0.0 for k in ("Fs_flat", "W1", "b1", "W2", "b2")}
    for i in range(n):
        g = P[:, i] - Y[:, i]
        grads["W2"] = grads["W2"] + np.outer(g, X1[:, i]) / n
        grads["b2"] = grads["b2"] + g[:, None] / n
        g1 = (W2.T @ g) * (X1[:, i] > 0)
        grads["W1"] = grads["W1"] + np.outer(g1, conv_flat[:, i]) / n
        grads["b1"] = grads["b1"] + g1[:, None] / n
        gh = (W1.T @ g1) * (conv_flat[:, i] > 0)
        grads["Fs_flat"] = grads["Fs_flat"] + MX[:, :, i].T @ gh.reshape(n_p, n_f) / n
    data = dict(X=X.T, Fs=Fs, conv_outputs=conv, MX=MX, conv_flat=conv_flat, W1=W1, b1=b1, W2=W2, b2=b2)
    data.update(X1=X1, P=P, Y=Y, **{f"grad_{k}": v for k, v in grads.items()})
    return data


def test_the_patch_matrix_is_the_courses(rng):
    X = rng.normal(size=(3, 3072))
    for f in (1, 2, 4, 5, 7, 16, 32):
        ours = patchify.patch_matrix(X, f).reshape(3, patchify.patch_count(f), -1).transpose(1, 2, 0)
        np.testing.assert_array_equal(ours, loop_patches(X, f), err_msg=f"f={f}")


@pytest.mark.parametrize("f,n", [(2, 5), (4, 8), (8, 32), (16, 128), (16, 100), (8, 100), (8, 7)])
def test_the_blocked_filter_gradient_is_the_one_product(rng, f, n):
    """Blocks of whole images where a divisor of n comes near 256 rows (f 2: one image a block), else one product."""
    MX = rng.normal(size=(n * patchify.patch_count(f), 3 * f * f))
    G = rng.normal(size=(MX.shape[0], 6))
    np.testing.assert_allclose(patchify.filter_gradient(MX, G, n), MX.T @ G, rtol=1e-12, atol=1e-12)


def test_the_patch_order_refuses_a_patch_larger_than_the_image():
    with pytest.raises(ValueError, match="does not fit"):
        patchify.patch_order(33)


@pytest.mark.parametrize("f,n_f", [(4, 3), (5, 2), (3, 4)])
def test_the_forward_pass_is_the_loops_convolution_then_the_dense_layers(rng, f, n_f):
    """Including f that does not divide 32 (the last rows and columns dropped) and a conv bias."""
    net = Network([3072, 7, 10], init="he", bias_init="normal", sigma=0.3, dtype=np.float64, rng=rng, patch_size=f,
                  patch_filters=n_f)  # fmt: skip
    X = rng.normal(size=(4, 3072))
    F, c = net.params["F1"][0], net.params["c1"][0]
    conv = loop_convolution(X, F.reshape(f, f, 3, n_f), c)
    grid = 32 // f
    h = np.maximum(conv, 0).transpose(3, 0, 1, 2).reshape(4, grid * grid * n_f)
    x1 = np.maximum(h @ net.params["W1"][0].T + net.params["b1"][0], 0)
    s = x1 @ net.params["W2"][0].T + net.params["b2"][0]
    np.testing.assert_allclose(net.forward(X)[0][0], s, rtol=1e-12, atol=1e-12)
    assert net.params["W1"].shape == (1, 7, grid * grid * n_f)


def test_two_banks_concatenate_their_outputs_in_bank_order(rng):
    net = Network([3072, 10], init="he", dtype=np.float64, rng=rng, patch_size=[8, 5], patch_filters=[2, 3])
    assert net.features() == 2 * 16 + 3 * 36
    X = rng.normal(size=(3, 3072))
    parts = []
    for b, (f, n_f) in enumerate(net.banks, start=1):
        conv = loop_convolution(X, net.params[f"F{b}"][0].reshape(f, f, 3, n_f), net.params[f"c{b}"][0])
        parts.append(np.maximum(conv, 0).transpose(3, 0, 1, 2).reshape(3, -1))
    s = np.concatenate(parts, axis=1) @ net.params["W1"][0].T + net.params["b1"][0]
    np.testing.assert_allclose(net.forward(X)[0][0], s, rtol=1e-12, atol=1e-12)


def test_the_initialisation_follows_init_and_bias_init(rng):
    he = Network([3072, 50, 10], init="he", rng=rng, patch_size=4, patch_filters=2000)
    assert he.params["F1"].shape == (1, 48, 2000)
    assert np.std(he.params["F1"]) == pytest.approx(np.sqrt(2 / 48), rel=0.02)
    assert np.std(he.params["W1"]) == pytest.approx(np.sqrt(2 / (64 * 2000)), rel=0.02)
    assert not he.params["c1"].any()
    normal = Network([3072, 10], sigma=0.3, bias_init="normal", rng=rng, patch_size=2, patch_filters=3000)
    assert np.std(normal.params["F1"]) == pytest.approx(0.3, rel=0.02)
    assert np.std(normal.params["c1"]) == pytest.approx(0.3, rel=0.1)
    xavier = Network([3072, 10], init="xavier", rng=rng, patch_size=8, patch_filters=500)
    assert np.std(xavier.params["F1"]) == pytest.approx(np.sqrt(1 / 192), rel=0.02)


@pytest.mark.parametrize(
    "size,count,message",
    [(4, None, "both or neither"), ([2, 4], [3], "one count per size"), (0, 3, "f must be"), (4, 0, "f must be")],
)
def test_inconsistent_banks_are_refused(rng, size, count, message):
    with pytest.raises(ValueError, match=message):
        Network([3072, 10], rng=rng, patch_size=size, patch_filters=count)


def test_a_convolution_needs_whole_images(rng):
    with pytest.raises(ValueError, match="3072-value images"):
        Network([20, 10], rng=rng, patch_size=4, patch_filters=2)


def conv_kinks(net, X, y):
    """(nearest conv ReLU input to 0, nearest dense ReLU input to 0) over the batch, under the check's masks."""
    _, caches = same_masks(net).forward(X, train=True)
    conv = min(
        np.abs(MX @ net.params[f"F{b}"][m] + net.params[f"c{b}"][m]).min()
        for b, (MX, _) in enumerate(caches[-1], start=1)
        for m in range(net.n_models)
    )
    dense = min((np.abs(c[2]).min() for c in caches[: net.n_layers - 1]), default=np.inf)
    return conv, dense


def checked_batch(net, rng, n, tries=50):
    """A batch (X (n, 3072), y) whose kinks are clear of the finite differences' steps."""
    for _ in range(tries):
        X, y = rng.normal(size=(n, 3072)), rng.integers(0, 10, n)
        conv, dense = conv_kinks(net, X, y)
        if conv > CONV_GAP and dense > DENSE_GAP:
            return X, y
    raise AssertionError(f"no batch of {n} clear of the kinks in {tries} draws")


def conv_network(rng, sizes=(3072, 6, 10), **options):
    """A small float64 conv network for gradient checks: normal biases, every parameter jittered per model."""
    net = Network(list(sizes), init="he", bias_init="normal", sigma=0.3, dtype=np.float64, rng=rng, **options)
    for p in net.params.values():
        p += rng.normal(0, 0.05, p.shape)
    return net


def assert_gradients(net, X, y, lam, max_entries=300):
    rows = check_network(net, X, y, lam, h=H, max_entries=max_entries)
    names = {r["parameter"] for r in rows}
    assert {f"{p}{b}" for p in "Fc" for b in range(1, len(net.banks) + 1)} <= names
    for r in rows:
        assert r["max_rel_error"] < BAR, r
    return rows


@pytest.mark.parametrize(
    "banks",
    [{"patch_size": 4, "patch_filters": 2}, {"patch_size": [4, 8], "patch_filters": [2, 3]}, {"patch_size": 5,
     "patch_filters": 2}, {"patch_size": [7, 16], "patch_filters": [1, 4]}, {"patch_size": 2, "patch_filters": 1}],
    ids=["one bank", "two banks", "f=5", "f=7 and 16", "f=2 (blocked filter gradient)"],
)  # fmt: skip
def test_conv_gradients(rng, banks):
    net = conv_network(rng, **banks)
    X, y = checked_batch(net, rng, 5)
    assert_gradients(net, X, y, 0.05)


@pytest.mark.parametrize("kind", ["uniform", "others"])
@pytest.mark.parametrize("loss", ["softmax", "bce"])
def test_conv_gradients_with_label_smoothing(rng, kind, loss):
    net = conv_network(rng, patch_size=8, patch_filters=3, label_smoothing=0.2, label_smoothing_kind=kind, loss=loss)
    X, y = checked_batch(net, rng, 5)
    assert_gradients(net, X, y, 0.05)


def test_conv_gradients_of_a_stack(rng):
    """Three models, each its own weights (jittered), lambda, smoothing and dropout rate: a mix-up shows."""
    net = conv_network(
        rng,
        (3072, 7, 5, 10),
        patch_size=[4, 8],
        patch_filters=[2, 2],
        n_models=3,
        dropout=[0.0, 0.3, 0.5],
        label_smoothing=[0.1, 0.0, 0.2],
        label_smoothing_kind="others",
    )
    X, y = checked_batch(net, rng, 6)
    assert_gradients(net, X, y, np.array([0.0, 0.05, 0.2]))


@pytest.mark.parametrize("batch_norm", [False, True])
def test_conv_gradients_with_dropout(rng, batch_norm):
    net = conv_network(rng, (3072, 8, 6, 10), patch_size=8, patch_filters=3, dropout=0.4, batch_norm=batch_norm)
    X, y = checked_batch(net, rng, 6)
    assert_gradients(net, X, y, 0.05)


def test_a_stack_of_conv_models_is_its_single_models(rng):
    """Scores and gradients of each model of a stack equal a one-model network with its parameters."""
    stack = conv_network(rng, patch_size=[4, 5], patch_filters=[2, 3], n_models=3)
    X, y = rng.normal(size=(7, 3072)), rng.integers(0, 10, 7)
    lam = np.array([0.0, 0.1, 0.3])
    scores = stack.forward(X)[0]
    grads = stack.loss_and_grads(X, y, lam)[1]
    for m in range(3):
        single = stack.take([m])
        np.testing.assert_allclose(single.forward(X)[0][0], scores[m], rtol=1e-12)
        for k, g in single.loss_and_grads(X, y, lam[m])[1].items():
            np.testing.assert_allclose(grads[k][m], g[0], rtol=1e-10, atol=1e-14, err_msg=k)


def test_the_pipelines_gradient_check_takes_the_conv_keys(rng):
    check = {
        "name": "conv",
        "loss": "softmax",
        "dims": 3072,
        "samples": 4,
        "hidden": [5],
        "batch_norm": False,
        "init": "he",
        "init_sigma": 0.01,
        "bias_init": "zero",
        "lambda": 0.01,
        "h": H,
        "eps": 1e-6,
        "max_entries": 100,
        "patch_size": [4, 8],
        "patch_filters": [2, 1],
        "label_smoothing": 0.1,
        "label_smoothing_kind": "others",
    }
    net_rng = np.random.default_rng(0)
    net = conv_network(net_rng, (3072, 5, 10), patch_size=[4, 8], patch_filters=[2, 1])
    X, y = checked_batch(net, rng, 4)
    rows = run_check(check, X, y)
    assert {r["parameter"] for r in rows} == {"F1", "c1", "F2", "c2", "W1", "b1", "W2", "b2"}
    assert {(r["patch_size"], r["patch_filters"], r["label_smoothing_kind"]) for r in rows} == {
        ("4+8", "2+1", "others")
    }
    for r in rows:
        assert r["max_rel_error"] < BAR, r
    with pytest.raises(ValueError, match="whole images"):
        run_check({**check, "dims": 20}, X, y)


def write_debug_file(path, data):
    np.savez(path, **data)
    return path


def test_the_debug_file_check_passes_a_file_of_the_courses_layout(rng, tmp_path):
    data = reference_debug_data(rng)
    errors = check_debug_file(write_debug_file(tmp_path / "debug_conv_info.npz", data))
    assert set(errors) == {"MX", "conv_outputs", "conv_flat", "X1", "P", "grad_Fs_flat", "grad_W1", "grad_b1",
                           "grad_W2", "grad_b2"}  # fmt: skip
    for key, error in errors.items():
        assert error < 1e-10, (key, error)


@pytest.mark.parametrize(
    "change,failing",
    [
        # h flattened filter by filter (vec(H_1); vec(H_2)) instead of patch by patch: W1's columns disagree
        ("filter-major W1", {"X1", "P", "grad_Fs_flat", "grad_W1", "grad_b1", "grad_W2", "grad_b2"}),
        ("channel-first patches", {"MX"}),
        ("one gradient entry", {"grad_Fs_flat"}),
    ],
)
def test_the_debug_file_check_fails_a_perturbed_file(rng, tmp_path, change, failing):
    data = reference_debug_data(rng)
    if change == "filter-major W1":
        n_h = data["W1"].shape[0]
        data["W1"] = data["W1"].reshape(n_h, 2, 64).transpose(0, 2, 1).reshape(n_h, 128)
    elif change == "channel-first patches":
        data["MX"] = data["MX"].reshape(64, 4, 4, 3, 5).transpose(0, 3, 1, 2, 4).reshape(64, 48, 5)
    else:
        data["grad_Fs_flat"][3, 1] *= 1.001
    errors = check_debug_file(write_debug_file(tmp_path / "debug_conv_info.npz", data))
    assert {k for k, e in errors.items() if e > 1e-6} == failing


def test_a_conv_network_saves_and_loads_and_a_dense_ones_file_is_unchanged(rng, tmp_path):
    net = conv_network(rng, patch_size=[4, 5], patch_filters=[2, 3])
    net.save(tmp_path / "conv.npz")
    back = Network.load(tmp_path / "conv.npz")
    assert back.banks == [(4, 2), (5, 3)]
    X = rng.normal(size=(3, 3072))
    np.testing.assert_array_equal(back.forward(X, train=False)[0], net.forward(X, train=False)[0])
    dense = Network([3072, 5, 10], rng=rng)
    dense.save(tmp_path / "dense.npz")
    with np.load(tmp_path / "dense.npz") as f:
        assert "patch" not in str(f["__meta__"])
        assert sorted(f.files) == ["__meta__", "param_W1", "param_W2", "param_b1", "param_b2"]


def test_precise_statistics_of_a_conv_network_are_those_of_its_first_hidden_layer(rng):
    net = conv_network(rng, (3072, 6, 10), patch_size=8, patch_filters=3, batch_norm=True)
    X = rng.normal(size=(50, 3072))
    net.precise_statistics(X, chunk=16)
    conv = loop_convolution(X, net.params["F1"][0].reshape(8, 8, 3, 3), net.params["c1"][0])
    s = np.maximum(conv, 0).transpose(3, 0, 1, 2).reshape(50, -1) @ net.params["W1"][0].T
    np.testing.assert_allclose(net.running["mean1"][0], s.mean(axis=0), rtol=1e-10)
    np.testing.assert_allclose(net.running["var1"][0], s.var(axis=0), rtol=1e-10)


def test_debug_file_rows_name_every_array_with_its_errors(rng, tmp_path):
    from dd2424.pipeline.gradcheck import debug_file_rows

    path = write_debug_file(tmp_path / "debug_conv_info.npz", reference_debug_data(rng))
    rows = {r["parameter"]: r for r in debug_file_rows(path)}
    assert rows["grad_W1"]["shape"] == "10x128" and rows["grad_W1"]["entries_checked"] == 1280
    assert all(r["max_rel_error"] < 1e-10 and r["check"] == "course_debug_file" for r in rows.values())


@pytest.mark.e2e
def test_the_gradient_check_rule_adds_the_course_debug_file_where_the_config_names_one(rng, tmp_path):
    """gradcheck.a3conv.debug_file: the file's arrays are rows of the part's gradient-check table."""
    import pandas as pd
    from conftest import run_snakemake, tiny_workdir

    work = tiny_workdir(tmp_path / "work")
    path = write_debug_file(tmp_path / "debug_conv_info.npz", reference_debug_data(rng))
    (work / "debug.yaml").write_text(f"gradcheck: {{a3conv: {{debug_file: '{path}'}}}}\n")
    run_snakemake(work, "-j1", "results/gradcheck/a3conv.csv", extra_configs=[work / "debug.yaml"])
    table = pd.read_csv(work / "results/gradcheck/a3conv.csv")
    debug = table[table.check == "course_debug_file"]
    assert {"MX", "grad_Fs_flat", "grad_W1"} <= set(debug.parameter) and (debug.max_rel_error < 1e-10).all()
    assert {"patchify", "two_banks", "smoothing_others"} <= set(table.check)
