"""CIFAR-10: fetch the python-batch archive, verify it, unpack it once into
raw uint8 arrays, and write normalised float32 splits that training jobs
memory-map."""

import hashlib
import io
import json
import os
import pickle
import shutil
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import zlib
from pathlib import Path, PurePosixPath

import numpy as np

from dd2424.util import atomic
from dd2424.util.damaged import load_array

from .archive import ArchiveError, archive_problem, check_archive

BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
ARCHIVE_DIR = "cifar-10-batches-py"
D = 3072
N_CLASSES = 10


class ChecksumError(RuntimeError):
    pass


def md5sum(path, chunk=1 << 20):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def fetch(url, md5, dest):
    """Copy ``url`` (https://, http://, file:// or a plain path) to ``dest``.

    A checksum mismatch raises ChecksumError and leaves nothing at ``dest``.
    """
    with atomic.written(dest) as tmp:
        parsed = urllib.parse.urlparse(str(url))
        if parsed.scheme in ("http", "https", "ftp"):
            try:
                with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as out:
                    shutil.copyfileobj(response, out)
            except (urllib.error.URLError, TimeoutError) as e:
                raise ConnectionError(
                    f"could not download data.url {url}: {getattr(e, 'reason', e)}. "
                    "Without internet, point data.url and data.md5 at a local copy "
                    "with a --configfile override (README: Offline, or from a mirror)"
                ) from e
        else:
            source = urllib.parse.unquote(parsed.path) if parsed.scheme == "file" else str(url)
            if not os.path.isfile(source):
                raise FileNotFoundError(f"data.url points to {source!r}, which is not a file")
            shutil.copyfile(source, tmp)
        got = md5sum(tmp)
        if md5 and got != md5.lower():
            found = archive_problem(tmp)
            raise ChecksumError(
                f"md5 of {url} is {got}, but config data.md5 says {md5}: "
                "the download is corrupt or truncated, or data.md5 is wrong"
                + (f" (the file is {found})" if found else "")
            )
        # A matching md5 may be that of a bad copy: a file cut short or a web page is refused by name.
        check_archive(tmp, label=url)
    return dest


def _save_atomic(path, array):
    with atomic.written(path) as tmp:
        np.save(tmp, array)


def read_archive(archive):
    """{batch name: (uint8 images (n, 3072), int labels (n,))} and the label names.

    Raises ArchiveError naming the problem: a damaged archive, a member that is
    not a plain file of the official layout (a link, a device, a path leaving
    the archive's folder, a batch given twice or larger than ``MAX_MEMBER``
    bytes), or a batch that is not the official dict of arrays.
    """
    try:
        return _read_tar(archive)
    except (tarfile.TarError, EOFError, zlib.error) as e:
        raise ArchiveError(
            archive, archive_problem(archive) or f"cut short or corrupt inside its tar archive ({e})"
        ) from None


# What an official batch's pickle may name: numpy's array reconstruction (and _codecs.encode, which rebuilds
# its bytes), nothing else.  A crafted batch that
# names any other callable (os.system, say) is refused before it runs (numpy#12759, CVE-2019-6446).
_ALLOWED = {
    (module, name)
    for module in ("numpy.core.multiarray", "numpy._core.multiarray")
    for name in ("_reconstruct", "scalar")
} | {("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}
# An official batch is 31 MB; a member many times larger is refused before it is read into memory.
MAX_MEMBER = 256 << 20


class _BatchUnpickler(pickle.Unpickler):
    """Reads a batch's dict of arrays and lists; refuses every global but numpy's array reconstruction."""

    def find_class(self, module, name):
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"names {module}.{name}, which a CIFAR-10 batch never holds")
        return super().find_class(module, name)


def member_problem(member):
    """Why a tar member may not be read (None if it may): the checks of Python's tarfile "data" filter
    (PEP 706) on every member, and the official layout's names for a batch."""
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts:
        return f"member {member.name!r} is a path outside the archive's folder"
    if member.issym() or member.islnk():
        return f"member {member.name!r} is a link (to {member.linkname!r}); CIFAR-10 holds plain files"
    if not (member.isfile() or member.isdir()):
        return f"member {member.name!r} is a device, pipe or other special file"
    if path.name in BATCHES + ["batches.meta"] and member.isfile():
        if path.parts not in ((path.name,), (ARCHIVE_DIR, path.name)):
            return f"member {member.name!r} is a batch outside {ARCHIVE_DIR}/"
        if member.size > MAX_MEMBER:
            return f"member {member.name!r} is {member.size} bytes; a CIFAR-10 batch is about 31 MB"
    return None


def _unpickle(archive, name, data):
    try:
        content = _BatchUnpickler(io.BytesIO(data), encoding="bytes").load()
    except Exception as e:  # a hostile or damaged pickle may raise anything; none of it runs code
        raise ArchiveError(archive, f"an archive whose {name} is not a CIFAR-10 batch: {e}") from None
    keys = (b"label_names",) if name == "batches.meta" else (b"data", b"labels")
    if not isinstance(content, dict) or any(k not in content for k in keys):
        raise ArchiveError(
            archive, f"an archive whose {name} is not a CIFAR-10 batch (a dict with {', '.join(map(repr, keys))})"
        )
    return content


def _batch_arrays(archive, name, content):
    images = np.asarray(content[b"data"])
    labels = np.asarray(content[b"labels"])
    if images.dtype != np.uint8:
        raise ArchiveError(archive, f"an archive whose {name} has {images.dtype} pixels; CIFAR-10 stores uint8")
    if labels.size and (not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() > 9):
        raise ArchiveError(
            archive,
            f"an archive whose {name} has labels outside the classes 0-9 "
            f"(dtype {labels.dtype}, range {labels.min()}..{labels.max()})",
        )
    if images.ndim != 2 or images.shape[1] != D or labels.ndim != 1 or len(labels) != len(images):
        raise ArchiveError(
            archive,
            f"an archive whose {name} has data of shape {images.shape} and labels of shape {labels.shape}; "
            f"expected (n, {D}) and n labels",
        )
    return images, labels.astype(np.int64)


def _read_tar(archive):
    batches, label_names = {}, None
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            problem = member_problem(member)
            if problem:
                raise ArchiveError(archive, f"not the official archive: its {problem}")
            name = PurePosixPath(member.name).name
            if not member.isfile() or (name not in BATCHES and name != "batches.meta"):
                continue
            if name in batches or (name == "batches.meta" and label_names is not None):
                raise ArchiveError(archive, f"not the official archive: it holds {name} twice")
            content = _unpickle(archive, name, tar.extractfile(member).read())
            if name == "batches.meta":
                label_names = [s.decode() if isinstance(s, bytes) else str(s) for s in content[b"label_names"]]
            else:
                batches[name] = _batch_arrays(archive, name, content)
    missing = [b for b in BATCHES if b not in batches] + ([] if label_names else ["batches.meta"])
    if missing:
        raise ArchiveError(archive, f"not a CIFAR-10 python archive: it has no {', '.join(missing)}")
    return batches, label_names


def extract(archive, out_dir):
    """Unpack every batch into ``out_dir/<batch>_{X,y}.npy`` plus ``meta.json``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        batches, label_names = read_archive(archive)
    except ArchiveError as e:
        # Removed, so that the next run fetches data.url again instead of failing here forever.
        Path(archive).unlink(missing_ok=True)
        raise ArchiveError(archive, f"{e.problem}; removed it, the next run fetches data.url again") from None
    for name, (images, labels) in batches.items():
        _save_atomic(out_dir / f"{name}_X.npy", images)
        _save_atomic(out_dir / f"{name}_y.npy", labels)
    meta = {"label_names": label_names, "sizes": {k: len(v[1]) for k, v in batches.items()}}
    atomic.write_text(out_dir / "meta.json", json.dumps(meta, indent=1))


def _load_batches(raw_dir, names):
    raw_dir = Path(raw_dir)
    X = np.concatenate([load_array(raw_dir / f"{n}_X.npy", mmap_mode="r") for n in names])
    y = np.concatenate([load_array(raw_dir / f"{n}_y.npy") for n in names])
    return X, y


# What a split may do to the pixels x / 255 before training (config splits.<name>.preprocess).
PREPROCESS = ("standardise", "center", "unit")


def has_validation(spec):
    """Whether a split spec keeps a validation set (``val_size: 0`` keeps none)."""
    return bool(spec.get("val")) or spec.get("val_size", 0) > 0


def split_problem(spec):
    """Why a split spec cannot be built as written (None if it can); pure, no files.

    ZCA whitening (``zca_eps``) is fitted on per-dimension standardised
    inputs: ``eps`` is measured against eigenvalues that sum to 3072 there,
    and its covariance is taken about a zero mean.  With ``center`` the
    eigenvalues are those of x / 255 (a sum near 200 on CIFAR-10, so
    ``eps`` would damp a different share of them) and with ``unit`` the
    mean is not removed, so both are refused rather than silently changed.
    """
    preprocess = spec.get("preprocess", "standardise")
    if preprocess not in PREPROCESS:
        return f"preprocess {preprocess!r} is not one of {', '.join(PREPROCESS)}"
    if spec.get("zca_eps") and preprocess != "standardise":
        return (
            f"zca_eps {spec['zca_eps']} with preprocess {preprocess}: ZCA whitening is fitted on standardised "
            "inputs (preprocess: standardise)"
        )
    if spec.get("val_from", "train") == "test" and "val_size" not in spec:
        return "val_from is test but val_size is not set: how many test images are the validation set?"
    return None


def _last(X, y, k):
    """(X, y) less its last k rows, and those k rows; k = 0 gives an empty second part of the same layout."""
    cut = len(y) - k
    return X[:cut], y[:cut], X[cut:], y[cut:]


def make_split(raw_dir, spec, out_dir, record=None):
    """Write float32 train/val/test arrays ``(n, 3072)`` and labels ``(n,)`` for one split spec.

    ``spec``: ``train`` (batch names), then either ``val`` (batch names) or
    ``val_size`` k: the last k images of the training pool or, with
    ``val_from: test``, of the test batches (the test set is then the rest).
    ``val_size: 0`` keeps no validation set: its arrays have 0 rows.
    ``preprocess`` (pixels as x / 255, per input dimension d):
    ``standardise`` (default) (x - mean_d) / std_d, ``center`` x - mean_d,
    ``unit`` x alone; mean and std from the training part only (DD2424
    Assignment 1, "preprocess the data"; the two others are the settings
    reports use instead).  With ``zca_eps`` (standardised splits only), every
    part is then ZCA-whitened with the training part's covariance
    (``zca_whitener``).  Raises ValueError for a spec ``split_problem``
    refuses or a val_size its pool cannot give.  ``record``: more entries for
    stats.json, what made the split (the pipeline's spec and code digest,
    which ``dd2424.pipeline.records`` compares with today's).
    """
    problem = split_problem(spec)
    if problem:
        raise ValueError(problem)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    X_train, y_train = _load_batches(raw_dir, spec["train"])
    X_test, y_test = _load_batches(raw_dir, spec["test"])
    val_from = spec.get("val_from", "train")
    if spec.get("val"):
        X_val, y_val = _load_batches(raw_dir, spec["val"])
    else:
        k = int(spec["val_size"])
        pool = len(y_test) if val_from == "test" else len(y_train)
        if not 0 <= k < pool:
            raise ValueError(f"val_size {k} must be between 0 and the {val_from} pool {pool} - 1")
        if val_from == "test":
            X_test, y_test, X_val, y_val = _last(X_test, y_test, k)
        else:
            X_train, y_train, X_val, y_val = _last(X_train, y_train, k)

    def unit(X):
        return np.asarray(X, dtype=np.float32) / 255

    preprocess = spec.get("preprocess", "standardise")
    train_unit = unit(X_train)
    mean = train_unit.mean(axis=0, dtype=np.float64)
    std = train_unit.std(axis=0, dtype=np.float64)
    std[std == 0] = 1.0
    del train_unit

    def normalised(X):
        if preprocess == "unit":
            return np.ascontiguousarray(unit(X), dtype=np.float32)
        if preprocess == "center":
            return np.ascontiguousarray(unit(X) - mean, dtype=np.float32)
        return np.ascontiguousarray((unit(X) - mean) / std, dtype=np.float32)

    whiten = zca_whitener(normalised(X_train), spec["zca_eps"]) if spec.get("zca_eps") else None
    for part, Xp, yp in (("train", X_train, y_train), ("val", X_val, y_val), ("test", X_test, y_test)):
        Xn = normalised(Xp)
        _save_atomic(out_dir / f"{part}_X.npy", Xn if whiten is None or not len(Xn) else whiten(Xn))
        _save_atomic(out_dir / f"{part}_y.npy", yp)
    stats = {
        "mean": float(mean.mean()),
        "std": float(std.mean()),
        "zca_eps": spec.get("zca_eps"),
        "sizes": {"train": len(y_train), "val": len(y_val), "test": len(y_test)},
    }
    # Named only when not the default, so that a default split's stats.json stays as it was.
    stats.update({k: spec[k] for k in ("preprocess", "val_from") if k in spec})
    stats.update(record or {})
    atomic.write_text(out_dir / "stats.json", json.dumps(stats, indent=1))


def zca_whitener(X, eps, chunk=8192):
    """A function mapping normalised rows to ZCA-whitened ones, fitted on the rows of X.

    With the training covariance C = U diag(s) U^T, the map is
    x -> U diag(1 / sqrt(s + eps)) U^T x, scaled so that the whitened training
    data have unit variance on average.  ``eps`` damps the directions of
    smallest variance (with per-dimension normalised inputs the eigenvalues
    sum to 3072, so eps = 1 is the average eigenvalue).  The map is symmetric
    and nearly local: a whitened image stays an image, and flips and small
    translations of it are still meaningful.
    """
    n, d = X.shape
    if n < d:
        return _zca_from_gram(X, eps)
    cov = np.zeros((d, d))
    for start in range(0, n, chunk):
        block = X[start : start + chunk]
        cov += block.T @ block  # float32 products, summed in float64
    cov /= n
    s, U = np.linalg.eigh(cov)
    zca = (U / np.sqrt(np.maximum(s, 0) + eps)) @ U.T
    # The whitened training data's mean variance per dimension: sum s / (s + eps) / d.
    scale = np.sqrt((np.maximum(s, 0) / (np.maximum(s, 0) + eps)).mean())
    zca = (zca / scale).astype(np.float32)
    return lambda rows: np.ascontiguousarray(rows @ zca, dtype=np.float32)


def _zca_from_gram(X, eps):
    """``zca_whitener`` for fewer rows than dimensions (n < d, small test archives): the covariance has rank
    at most n, so its eigenvectors of non-zero eigenvalue come from the n x n Gram matrix X X^T / n, and every
    other direction (eigenvalue 0) is scaled by 1 / sqrt(eps).  The same map as the d x d eigendecomposition,
    in O(n^2 d + n d^2) rather than O(d^3) (seconds rather than half a minute for d = 3072)."""
    n, d = X.shape
    X = np.asarray(X, dtype=np.float64)
    s, V = np.linalg.eigh(X @ X.T / n)
    keep = s > s.max() * 1e-12
    s, V = s[keep], V[:, keep]
    U = X.T @ (V / np.sqrt(n * s))  # d x r, orthonormal columns: the covariance's eigenvectors
    null = 1 / np.sqrt(eps)
    zca = (U * (1 / np.sqrt(s + eps) - null)) @ U.T
    zca[np.diag_indices(d)] += null
    scale = np.sqrt((s / (s + eps)).sum() / d)
    zca = (zca / scale).astype(np.float32)
    return lambda rows: np.ascontiguousarray(rows @ zca, dtype=np.float32)


def load_split(split_dir, part, n=None):
    """(X memory map, y) of one part (train/val/test) of a prepared split."""
    split_dir = Path(split_dir)
    # A file cut short is named, with the command that rebuilds it.
    X = load_array(split_dir / f"{part}_X.npy", mmap_mode="r")
    y = load_array(split_dir / f"{part}_y.npy")
    if n:
        if n > len(y):
            raise ValueError(
                f"n_train {n} is more than the {len(y)} {part} images of split {split_dir.name!r}: "
                "lower n_train, or pick a larger split"
            )
        X, y = X[:n], y[:n]
    return X, y
