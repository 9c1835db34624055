"""The data reader on a synthetic archive in the official layout."""

import io
import json
import tarfile

import numpy as np
import pytest

from dd2424.data import cifar as data
from dd2424.data.synthetic import write_archive


def test_fetch_accepts_file_url_and_plain_path(archive, tmp_path):
    path, md5 = archive
    for source in (path.as_uri(), str(path)):
        dest = tmp_path / "copy.tar.gz"
        data.fetch(source, md5, dest)
        assert data.md5sum(dest) == md5
        dest.unlink()


def test_checksum_mismatch_leaves_nothing_behind(archive, tmp_path):
    path, _ = archive
    dest = tmp_path / "dl" / "cifar-10-python.tar.gz"
    with pytest.raises(data.ChecksumError, match="md5"):
        data.fetch(path.as_uri(), "0" * 32, dest)
    assert list(dest.parent.iterdir()) == []


def test_truncated_download_is_a_checksum_error(tmp_path):
    full = tmp_path / "full.tar.gz"
    md5 = write_archive(full, per_batch=20)
    truncated = tmp_path / "truncated.tar.gz"
    write_archive(truncated, per_batch=20, corrupt=True)
    with pytest.raises(data.ChecksumError):
        data.fetch(str(truncated), md5, tmp_path / "out" / "a.tar.gz")
    assert not (tmp_path / "out" / "a.tar.gz").exists()


def test_unreachable_url_says_how_to_run_offline(tmp_path):
    # port 9 on loopback: nothing listens, the connection is refused at once
    with pytest.raises(ConnectionError, match="--configfile"):
        data.fetch("http://127.0.0.1:9/cifar-10-python.tar.gz", "0" * 32, tmp_path / "a.tar.gz")
    assert list(tmp_path.iterdir()) == []


def test_missing_source_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.tar.gz"):
        data.fetch(str(tmp_path / "nowhere.tar.gz"), "0" * 32, tmp_path / "x")


def test_extract_reads_every_batch(archive, tmp_path):
    path, _ = archive
    data.extract(path, tmp_path)
    X = np.load(tmp_path / "data_batch_3_X.npy")
    y = np.load(tmp_path / "data_batch_3_y.npy")
    assert X.shape == (60, 3072) and X.dtype == np.uint8
    assert y.shape == (60,) and 0 <= y.min() and y.max() <= 9


def test_archive_without_a_batch_is_refused(tmp_path):
    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(bad, "w:gz"):
        pass
    with pytest.raises(ValueError, match="data_batch_1"):
        data.read_archive(bad)


@pytest.fixture
def raw(archive, tmp_path):
    data.extract(archive[0], tmp_path / "raw")
    return tmp_path / "raw"


def test_split_normalises_with_training_statistics(raw, tmp_path):
    spec = {"train": ["data_batch_1"], "val": ["data_batch_2"], "test": ["test_batch"]}
    data.make_split(raw, spec, tmp_path / "s")
    Xtr, ytr = data.load_split(tmp_path / "s", "train")
    assert isinstance(Xtr, np.memmap) and Xtr.dtype == np.float32 and Xtr.flags.c_contiguous
    np.testing.assert_allclose(Xtr.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(Xtr.std(axis=0), 1, atol=1e-4)
    # validation data uses the training mean/std, not its own
    raw_train = np.load(raw / "data_batch_1_X.npy") / 255
    raw_val = np.load(raw / "data_batch_2_X.npy") / 255
    Xval, _ = data.load_split(tmp_path / "s", "val")
    expected = (raw_val - raw_train.mean(axis=0)) / raw_train.std(axis=0)
    np.testing.assert_allclose(Xval, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(ytr, np.load(raw / "data_batch_1_y.npy"))


def test_split_carves_validation_from_the_training_pool(raw, tmp_path):
    spec = {"train": [f"data_batch_{i}" for i in range(1, 6)], "val_size": 25, "test": ["test_batch"]}
    data.make_split(raw, spec, tmp_path / "s")
    assert len(data.load_split(tmp_path / "s", "train")[1]) == 5 * 60 - 25
    _, yval = data.load_split(tmp_path / "s", "val")
    np.testing.assert_array_equal(yval, np.load(raw / "data_batch_5_y.npy")[-25:])
    assert data.load_split(tmp_path / "s", "train", n=10)[0].shape == (10, 3072)


def test_zca_whitening_decorrelates_the_training_data():
    rng = np.random.default_rng(0)
    d, n = 40, 4000
    mixing = rng.normal(size=(d, d)) * np.linspace(0.1, 3, d)
    X = (rng.normal(size=(n, d)) @ mixing).astype(np.float32)
    X -= X.mean(axis=0)
    white = data.zca_whitener(X, eps=1e-6)(X)
    assert white.dtype == np.float32
    np.testing.assert_allclose(white.T @ white / n, np.eye(d), atol=2e-3)
    # With a large eps the map damps the weakest directions, is symmetric, and keeps unit mean variance.
    whiten = data.zca_whitener(X, eps=5.0)
    damped = whiten(X)
    assert abs(damped.var(axis=0).mean() - 1) < 1e-3
    eye = np.eye(d, dtype=np.float32)
    np.testing.assert_allclose(whiten(eye), whiten(eye).T, atol=1e-5)
    # ZCA is the whitening closest to the identity: each whitened dimension still follows its own input most.
    corr = np.corrcoef(X.T, damped.T)[:d, d:]
    assert (np.abs(np.diag(corr)) >= np.abs(corr).max(axis=0) - 1e-9).all()


def test_a_whitened_split_whitens_every_part_with_the_training_covariance(raw, tmp_path):
    spec = {"train": ["data_batch_1", "data_batch_2"], "val": ["data_batch_3"], "test": ["test_batch"], "zca_eps": 0.5}
    data.make_split(raw, spec, tmp_path / "w")
    plain = {k: v for k, v in spec.items() if k != "zca_eps"}
    data.make_split(raw, plain, tmp_path / "p")
    Xp, _ = data.load_split(tmp_path / "p", "train")
    whiten = data.zca_whitener(np.asarray(Xp), 0.5)
    for part in ("train", "val", "test"):
        Xw, _ = data.load_split(tmp_path / "w", part)
        np.testing.assert_allclose(Xw, whiten(np.asarray(data.load_split(tmp_path / "p", part)[0])), atol=1e-4)
    assert json.loads((tmp_path / "w" / "stats.json").read_text())["zca_eps"] == 0.5


BATCH1 = {"train": ["data_batch_1"], "val": ["data_batch_2"], "test": ["test_batch"]}


def _pixels(raw, batch):
    return np.load(raw / f"{batch}_X.npy").astype(np.float64) / 255


@pytest.mark.parametrize("preprocess", ["standardise", "center", "unit"])
def test_each_preprocess_is_its_formula_with_the_training_statistics(raw, tmp_path, preprocess):
    data.make_split(raw, {**BATCH1, "preprocess": preprocess}, tmp_path)
    train = _pixels(raw, "data_batch_1")
    mean, std = train.mean(axis=0), train.std(axis=0)
    formula = {
        "standardise": lambda x: (x - mean) / std,
        "center": lambda x: x - mean,
        "unit": lambda x: x,
    }[preprocess]
    for part, batch in (("train", "data_batch_1"), ("val", "data_batch_2"), ("test", "test_batch")):
        X = np.load(tmp_path / f"{part}_X.npy")
        assert X.dtype == np.float32 and X.shape == (60, 3072) and X.flags.c_contiguous
        np.testing.assert_allclose(X, formula(_pixels(raw, batch)), rtol=0, atol=2e-6)
        np.testing.assert_array_equal(np.load(tmp_path / f"{part}_y.npy"), np.load(raw / f"{batch}_y.npy"))
    stats = json.loads((tmp_path / "stats.json").read_text(encoding="utf-8"))
    assert stats["preprocess"] == preprocess


def test_standardise_named_is_the_default_byte_for_byte(raw, tmp_path):
    data.make_split(raw, BATCH1, tmp_path / "default")
    data.make_split(raw, {**BATCH1, "preprocess": "standardise"}, tmp_path / "named")
    for name in ("train_X", "train_y", "val_X", "val_y", "test_X", "test_y"):
        assert (tmp_path / f"default/{name}.npy").read_bytes() == (tmp_path / f"named/{name}.npy").read_bytes()
    # A default split's stats.json names no preprocessing: shipped splits are unchanged.
    assert "preprocess" not in json.loads((tmp_path / "default/stats.json").read_text(encoding="utf-8"))


def test_validation_from_the_test_set_is_its_last_images(raw, tmp_path):
    spec = {"train": ["data_batch_1", "data_batch_2"], "val_size": 15, "val_from": "test", "test": ["test_batch"]}
    data.make_split(raw, {**spec, "preprocess": "unit"}, tmp_path)
    test_images = _pixels(raw, "test_batch")
    test_labels = np.load(raw / "test_batch_y.npy")
    X_val, y_val = data.load_split(tmp_path, "val")
    X_test, y_test = data.load_split(tmp_path, "test")
    X_train, _ = data.load_split(tmp_path, "train")
    assert (len(y_val), len(y_test), len(X_train)) == (15, 45, 120)
    np.testing.assert_allclose(X_val, test_images[-15:], atol=1e-7)
    np.testing.assert_allclose(X_test, test_images[:-15], atol=1e-7)
    np.testing.assert_array_equal(y_val, test_labels[-15:])
    np.testing.assert_array_equal(y_test, test_labels[:-15])
    stats = json.loads((tmp_path / "stats.json").read_text(encoding="utf-8"))
    assert stats["sizes"] == {"train": 120, "val": 15, "test": 45} and stats["val_from"] == "test"


def test_no_validation_set_is_an_empty_array_of_the_same_layout(raw, tmp_path):
    spec = {"train": ["data_batch_1", "data_batch_2"], "val_size": 0, "test": ["test_batch"]}
    data.make_split(raw, spec, tmp_path)
    X_val, y_val = data.load_split(tmp_path, "val")
    assert X_val.shape == (0, 3072) and X_val.dtype == np.float32 and y_val.shape == (0,)
    assert data.load_split(tmp_path, "train")[0].shape == (120, 3072)  # nothing taken from the pool
    assert not data.has_validation(spec) and data.has_validation(BATCH1)


@pytest.mark.parametrize(
    "spec, message",
    [
        ({**BATCH1, "preprocess": "center", "zca_eps": 1.0}, "zca_eps 1.0 with preprocess center"),
        ({**BATCH1, "preprocess": "unit", "zca_eps": 0.1}, "zca_eps 0.1 with preprocess unit"),
        ({**BATCH1, "preprocess": "whiten"}, "preprocess 'whiten' is not one of"),
        ({"train": ["data_batch_1"], "val_size": 60, "val_from": "test", "test": ["test_batch"]}, "test pool 60"),
        ({"train": ["data_batch_1"], "val_size": 60, "test": ["test_batch"]}, "train pool 60"),
    ],
)
def test_a_split_that_cannot_be_built_is_refused(raw, tmp_path, spec, message):
    with pytest.raises(ValueError, match=message):
        data.make_split(raw, spec, tmp_path)


class _RunsCode:
    """An object whose unpickling would call os.system: what a crafted batch would hold."""

    def __reduce__(self):
        import os

        return (os.system, ("touch pwned",))


def test_a_batch_whose_pickle_would_run_code_is_refused_before_it_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    archive = tmp_path / "evil.tar.gz"
    write_archive(archive, per_batch=10, edit=lambda members: members.update(data_batch_1=_RunsCode()))
    with pytest.raises(data.ArchiveError, match="names posix.system, which a CIFAR-10 batch never holds"):
        data.read_archive(archive)
    assert not (tmp_path / "pwned").exists()


def _rewrite_tar(src, dst, change):
    """``src``'s members copied to ``dst``, each passed through ``change(info, payload)`` -> [(info, payload)]."""
    with tarfile.open(src, "r:gz") as tin, tarfile.open(dst, "w:gz") as tout:
        for info in tin.getmembers():
            payload = tin.extractfile(info).read() if info.isfile() else None
            for new_info, new_payload in change(info, payload):
                tout.addfile(new_info, io.BytesIO(new_payload) if new_payload is not None else None)


def _renamed(name):
    def change(info, payload):
        if info.name.endswith("/data_batch_3"):
            info.name = name
        return [(info, payload)]

    return change


def _link(kind):
    def change(info, payload):
        if not info.name.endswith("/data_batch_2"):
            return [(info, payload)]
        link = tarfile.TarInfo(info.name)
        link.type, link.linkname = kind, "/etc/passwd"
        return [(link, None)]

    return change


def _extra(info_name, kind=tarfile.REGTYPE):
    def change(info, payload):
        if not info.name.endswith("batches.meta"):
            return [(info, payload)]
        extra = tarfile.TarInfo(info_name)
        extra.type = kind
        return [(info, payload), (extra, b"" if kind == tarfile.REGTYPE else None)]

    return change


def _twice(info, payload):
    if info.name.endswith("/test_batch"):
        return [(info, payload), (info, payload)]
    return [(info, payload)]


@pytest.mark.parametrize(
    "change, message",
    [
        (_renamed("../../data_batch_3"), r"member '../../data_batch_3' is a path outside the archive's folder"),
        (_renamed("/tmp/data_batch_3"), r"member '/tmp/data_batch_3' is a path outside"),
        (
            _renamed("elsewhere/data_batch_3"),
            r"member 'elsewhere/data_batch_3' is a batch outside cifar-10-batches-py/",
        ),
        (_link(tarfile.SYMTYPE), r"data_batch_2' is a link \(to '/etc/passwd'\)"),
        (_link(tarfile.LNKTYPE), r"data_batch_2' is a link \(to '/etc/passwd'\)"),
        (_extra("cifar-10-batches-py/fifo", tarfile.FIFOTYPE), "'cifar-10-batches-py/fifo' is a device, pipe"),
        (_extra("../outside.txt"), r"'../outside.txt' is a path outside"),
        (_twice, "it holds test_batch twice"),
    ],
)
def test_a_tar_member_that_is_not_a_plain_file_of_the_layout_is_refused_and_the_archive_removed(
    tmp_path, change, message
):
    good = tmp_path / "good.tar.gz"
    write_archive(good, per_batch=10)
    bad = tmp_path / "bad.tar.gz"
    _rewrite_tar(good, bad, change)
    with pytest.raises(data.ArchiveError, match=message):
        data.read_archive(bad)
    with pytest.raises(data.ArchiveError, match="removed it, the next run fetches data.url again"):
        data.extract(bad, tmp_path / "raw")
    assert not bad.exists()
    assert not list((tmp_path / "raw").glob("*.npy"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.tar.gz", "raw"]


def test_a_batch_that_is_not_a_dict_of_arrays_is_refused_naming_it(tmp_path):
    archive = tmp_path / "list.tar.gz"
    write_archive(archive, per_batch=10, edit=lambda members: members.update(data_batch_5=[1, 2, 3]))
    with pytest.raises(data.ArchiveError, match="data_batch_5 is not a CIFAR-10 batch"):
        data.read_archive(archive)


def test_zca_from_fewer_images_than_dimensions_is_the_eigendecomposition_map():
    """Below d images the whitener works from the n x n Gram matrix: the same map as U diag(1/sqrt(s+eps)) U^T."""
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(40, 64)) @ rng.normal(size=(64, 64))).astype(np.float32)
    eps = 0.5
    s, U = np.linalg.eigh(X.T.astype(np.float64) @ X / len(X))
    s = np.maximum(s, 0)
    expected = (U / np.sqrt(s + eps)) @ U.T / np.sqrt((s / (s + eps)).mean())
    rows = rng.normal(size=(5, 64)).astype(np.float32)
    np.testing.assert_allclose(data.zca_whitener(X, eps)(rows), rows @ expected, rtol=1e-4, atol=1e-4)
