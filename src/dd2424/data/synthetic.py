"""A small archive in the official CIFAR-10 python layout, for tests and dry runs.

Each class has its own mean image plus noise, so that a linear classifier
learns it well above chance in a few epochs.

    python -m dd2424.data.synthetic OUT.tar.gz [--per-batch N]
"""

import argparse
import hashlib
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np

LABELS = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _batch(rng, prototypes, n, name):
    labels = rng.integers(0, 10, n)
    images = prototypes[labels] + rng.normal(0, 40, (n, 3072))
    return {
        b"batch_label": name.encode(),
        b"labels": labels.tolist(),
        b"data": np.clip(images, 0, 255).astype(np.uint8),
        b"filenames": [f"{name}_{i}.png".encode() for i in range(n)],
    }


def write_archive(path, per_batch=100, seed=0, corrupt=False, edit=None):
    """Write the archive; return its md5.

    ``corrupt`` truncates it, as a failed download would; ``edit`` (a function
    of the ``{member name: content}`` dict) damages it in other ways, for tests.
    """
    rng = np.random.default_rng(seed)
    prototypes = rng.uniform(60, 200, (10, 3072))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        members = {f"data_batch_{i}": _batch(rng, prototypes, per_batch, f"data_batch_{i}") for i in range(1, 6)}
        members["test_batch"] = _batch(rng, prototypes, per_batch, "test_batch")
        members["batches.meta"] = {
            b"label_names": [s.encode() for s in LABELS],
            b"num_vis": 3072,
            b"num_cases_per_batch": per_batch,
        }
        if edit is not None:
            edit(members)
        for name, content in members.items():
            payload = pickle.dumps(content, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    blob = buf.getvalue()
    if corrupt:
        blob = blob[: len(blob) // 2]
    with open(path, "wb") as f:
        f.write(blob)
    return hashlib.md5(blob).hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--per-batch", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    print(write_archive(args.out, args.per_batch, args.seed))


if __name__ == "__main__":
    main()
