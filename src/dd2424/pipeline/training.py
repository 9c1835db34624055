"""One training job: specs + prepared split + seed -> weights, history, metrics per model.

A job trains a stack of models (the points of a search chunk) or a stack of
one (a headline run); each model writes its own four files.
"""

import ctypes
import json
import math
import zipfile

import numpy as np
import pandas as pd

from dd2424.data import cifar as data
from dd2424.data.cifar import N_CLASSES
from dd2424.nn import trainer
from dd2424.nn.model import Network
from dd2424.util import atomic
from dd2424.util.damaged import CorruptResult

# mallopt parameters (malloc.h)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3


def build_network(specs, n_inputs, rng, dtype=np.float32):
    """The one mapping from run specs to a network: one spec (a stack of one) or a
    list of stackable specs, one per model.  ``patch_size`` and ``patch_filters``
    (null: none) put a patchify convolution before the linear layers, ``hidden``
    the linear layers' widths after it."""
    if isinstance(specs, dict):
        specs = [specs]
    spec = specs[0]
    return Network(
        [n_inputs, *spec["hidden"], N_CLASSES],
        loss=spec["loss"],
        batch_norm=spec["batch_norm"],
        init=spec["init"],
        sigma=[s["init_sigma"] for s in specs],
        bias_init=spec["bias_init"],
        bn_alpha=spec["bn_alpha"],
        dtype=dtype,
        rng=rng,
        n_models=len(specs),
        dropout=[s["dropout"] for s in specs],
        label_smoothing=[s["label_smoothing"] for s in specs],
        bn_position=spec["bn_position"],
        label_smoothing_kind=spec["label_smoothing_kind"],
        patch_size=spec["patch_size"],
        patch_filters=spec["patch_filters"],
    )


def patchify_label(net):
    """', patchify f=4 x 10 filters' (one part per bank) for the log, '' without a convolution."""
    return "".join(f", patchify f={f} x {n_f} filters" for f, n_f in net.banks)


def keep_freed_memory():
    """Let glibc reuse large freed blocks instead of returning them to the system.

    A stacked step allocates gradients of 100 MB and more; above glibc's
    mmap threshold (at most 32 MB by default) each one is a fresh mapping
    whose pages fault in again on every update, about a quarter of a
    200-model step.  Elsewhere than glibc this does nothing.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, 1 << 30)
        libc.mallopt(M_TRIM_THRESHOLD, (1 << 31) - 1)
    except (OSError, AttributeError):
        pass


def _json_safe(metrics):
    # json has no NaN/inf: a diverged run's costs are written as null.
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in metrics.items()}


def train_stack(specs, split_dir, seed, outs, log=print, curves=True, threads=1, code_digest=None):
    """Train ``specs`` as one stack; ``outs[m]`` maps model/history/metrics/predictions to paths.

    ``threads``: the BLAS threads the job was given, recorded in each model's metrics as ``blas_threads``
    (with more than one, the products sum in another order: the same model within float32 rounding).
    ``code_digest``: the job's code (its ``code`` param), recorded as ``code_digest``, which
    ``records.stale`` holds today's code to where Snakemake's own records are lost.

    ``curves`` (True, "val" or False) as ``trainer.train`` takes it; with True
    or "val" each model's metrics also hold ``best_val_accuracy``,
    ``best_val_epoch`` and ``best_val_update`` (``trainer.best_validation``).
    ``predictions.npz`` holds the test set's ``y_true`` and ``y_pred`` (n,), ``p_true`` (n,) the probability
    of the true class and ``probabilities`` (n, 10) float32 every class's (NaN, and ``y_pred`` -1, for a
    diverged model).
    """
    keep_freed_memory()
    rng = np.random.default_rng(seed)
    spec = specs[0]
    train_set = data.load_split(split_dir, "train", spec["n_train"])
    val_set = data.load_split(split_dir, "val")
    X_test, y_test = data.load_split(split_dir, "test")
    net = build_network(specs, train_set[0].shape[1], rng)
    runs = ", ".join(s["run"] for s in specs)
    log(
        f"training {spec['report']}/{spec['experiment']} [{runs}] seed {seed} on {len(train_set[1])} images: "
        f"sizes {net.sizes}{patchify_label(net)}, loss {spec['loss']}, a stack of {len(specs)}"
    )
    # test_curves is one value per stack (not a stackable key)
    test_set = (X_test, y_test) if spec["test_curves"] else None
    histories, infos = trainer.train(net, train_set, val_set, specs, rng, log=log, curves=curves, test_set=test_set)

    lam = net.per_model([s["lambda"] for s in specs])
    test = net.evaluate(X_test, y_test, lam, probabilities=True)
    probs = test.pop("probabilities")
    results = []
    for m, (s, history, info, out) in enumerate(zip(specs, histories, infos, outs)):
        metrics = {**s, "seed": seed, "train_images": len(train_set[1]), "val_images": len(val_set[1]), **info}
        metrics["blas_threads"] = threads
        metrics["code_digest"] = code_digest
        # Training and validation figures of the final weights are the history's last row.
        final = history[-1]
        for part in ("train", "val"):
            for k in ("loss", "cost", "accuracy"):
                metrics[f"{part}_{k}"] = final[f"{part}_{k}"]
        for k, v in test.items():
            metrics[f"test_{k}"] = float(v[m])
        # The best validation accuracy during training, where the history evaluated more than the final weights.
        if curves:
            metrics.update(trainer.best_validation(history))
        p = probs[m]
        finite = np.isfinite(p).all()
        predicted = p.argmax(axis=1) if finite else np.full(len(y_test), -1)
        p_true = p[np.arange(len(y_test)), y_test] if finite else np.full(len(y_test), np.nan)

        # Each file whole or absent: a job cut off mid-write leaves no half file to be read as done.
        with atomic.written(out["model"]) as tmp:
            net.take([m]).save(tmp)
        with atomic.written(out["history"]) as tmp:
            pd.DataFrame(history).to_csv(tmp, index=False)
        with atomic.written(out["predictions"]) as tmp:
            # every class's probability, for the ensembles' soft vote (dd2424.pipeline.ensemble): 0.4 MB raw per
            # 10,000 test images, stored always so that an ensemble asked for later retrains nothing
            np.savez_compressed(
                tmp, y_true=y_test, y_pred=predicted, p_true=p_true, probabilities=p.astype(np.float32, copy=False)
            )
        atomic.write_text(out["metrics"], json.dumps(_json_safe(metrics), indent=1))
        log(f"{s['run']}: test accuracy {metrics['test_accuracy']:.4f}")
        results.append(metrics)
    log(f"done: {infos[0]['samples_per_s']:.0f} samples/s summed over the stack of {len(specs)}")
    return results


def train_run(spec, split_dir, seed, out, log=print):
    """Train one model (a stack of one)."""
    return train_stack([spec], split_dir, seed, [out], log=log)[0]


def load_model(path):
    try:
        return Network.load(path)
    except (zipfile.BadZipFile, EOFError, KeyError, ValueError, OSError) as e:
        raise CorruptResult(path, f"not a readable model file ({type(e).__name__}: {e})") from None
