"""One training job: spec + prepared split + seed -> weights, history, metrics."""

import json
import math

import numpy as np
import pandas as pd

from . import data, trainer
from .model import Network

N_CLASSES = 10


def build_network(spec, n_inputs, rng, dtype=np.float32):
    return Network([n_inputs, *spec["hidden"], N_CLASSES], loss=spec["loss"], batch_norm=spec["batch_norm"],
                   init=spec["init"], sigma=spec["init_sigma"], bias_init=spec["bias_init"],
                   bn_alpha=spec["bn_alpha"], dtype=dtype, rng=rng)


def train_run(spec, split_dir, seed, out, log=print):
    """Train one model; ``out`` maps model/history/metrics/predictions to paths."""
    rng = np.random.default_rng(seed)
    train_set = data.load_split(split_dir, "train", spec.get("n_train"))
    val_set = data.load_split(split_dir, "val")
    X_test, y_test = data.load_split(split_dir, "test")
    net = build_network(spec, train_set[0].shape[1], rng)
    log(f"training {spec['assignment']}/{spec['experiment']}/{spec['run']} seed {seed} "
        f"on {len(train_set[1])} images: sizes {net.sizes}, loss {spec['loss']}, lambda {spec['lambda']}")
    history, info = trainer.train(net, train_set, val_set, spec, rng, log=log)

    metrics = {**spec, "seed": seed, "train_images": len(train_set[1]), "val_images": len(val_set[1]), **info}
    # Training and validation figures of the final weights are the history's last row.
    final = history[-1]
    for part in ("train", "val"):
        for k in ("loss", "cost", "accuracy"):
            metrics[f"{part}_{k}"] = final[f"{part}_{k}"]
    for k, v in net.evaluate(X_test, y_test, spec["lambda"]).items():
        metrics[f"test_{k}"] = v
    probs = net.probabilities(X_test)
    finite = np.isfinite(probs).all()
    predicted = probs.argmax(axis=1) if finite else np.full(len(y_test), -1)
    p_true = probs[np.arange(len(y_test)), y_test] if finite else np.full(len(y_test), np.nan)

    net.save(out["model"])
    pd.DataFrame(history).to_csv(out["history"], index=False)
    np.savez_compressed(out["predictions"], y_true=y_test, y_pred=predicted, p_true=p_true)
    # json has no NaN/inf: a diverged run's costs are written as null.
    clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in metrics.items()}
    with open(out["metrics"], "w") as f:
        json.dump(clean, f, indent=1)
    log(f"done: test accuracy {metrics['test_accuracy']:.4f}, {info['samples_per_s']:.0f} samples/s")
    return metrics
