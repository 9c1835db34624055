"""Ensembles: the trained models of one experiment voting on the test set.

An experiment with ``ensemble: {over: seeds}`` has one ensemble per run,
its seeds the members; with ``over: runs`` one per seed, the experiment's
runs the members.  Each ensemble is scored two ways, on the test images:

- hard vote: each member votes for its predicted class (the argmax of its
  probabilities) and the class with the most votes wins.  A tie between
  classes goes to the tied class with the larger summed probability over
  the members (the soft vote among the tied classes only), and a tie of
  that sum too to the smallest class index;
- soft vote: the argmax of the members' mean class probabilities (a tie to
  the smallest class index).

Plurality voting as in Hansen and Salamon (1990), "Neural network
ensembles"; model averaging as in Goodfellow et al., *Deep Learning*
(2016), Sec. 7.11.  A diverged member (its probabilities not finite) is
left out of the vote and counted.
"""

import numpy as np
import pandas as pd

from dd2424.util import atomic

from .results import load_probabilities

# The columns of results/<report>/<experiment>/ensemble.csv, one row per ensemble.
COLUMNS = [
    "ensemble",
    "over",
    "members",
    "n_members",
    "diverged",
    "hard_accuracy",
    "soft_accuracy",
    "mean_single_accuracy",
    "best_single_accuracy",
]


def hard_vote(probabilities):
    """The majority class of each image: ``probabilities`` (members, n, classes) -> (n,) class indices.

    Ties: the tied class with the larger summed probability (float64 sums, compared exactly), then the
    smallest index.
    """
    probabilities = np.asarray(probabilities)
    n_classes = probabilities.shape[2]
    votes = (probabilities.argmax(axis=2)[..., None] == np.arange(n_classes)).sum(axis=0)  # (n, classes)
    tied = votes == votes.max(axis=1, keepdims=True)
    # summed in float64, so that float32 round-off of the sum decides no vote; a tie of sums is exact equality
    summed = probabilities.sum(axis=0, dtype=np.float64)
    return np.where(tied, summed, -np.inf).argmax(axis=1)


def soft_vote(probabilities):
    """The class of the mean probability: ``probabilities`` (members, n, classes) -> (n,) (ties: smallest index)."""
    return np.asarray(probabilities).mean(axis=0, dtype=np.float64).argmax(axis=1)


def score(name, over, labels, y_true, probabilities):
    """One ensemble's row of ``COLUMNS``: its members (``labels``), hard- and soft-vote test accuracy, and
    the mean and best of its members' own accuracies (fractions); ``probabilities`` (members, n, classes).

    Accuracies are NaN when every member diverged.
    """
    probabilities = np.asarray(probabilities)
    finite = np.isfinite(probabilities).all(axis=(1, 2))
    voting = probabilities[finite]
    row = {
        "ensemble": name,
        "over": over,
        "members": " ".join(labels),
        "n_members": len(labels),
        "diverged": int((~finite).sum()),
    }
    if not len(voting):
        return {**row, **{k: float("nan") for k in COLUMNS[5:]}}
    single = (voting.argmax(axis=2) == y_true).mean(axis=1)
    return {
        **row,
        "hard_accuracy": float(np.mean(hard_vote(voting) == y_true)),
        "soft_accuracy": float(np.mean(soft_vote(voting) == y_true)),
        "mean_single_accuracy": float(single.mean()),
        "best_single_accuracy": float(single.max()),
    }


def groups(over, runs, seeds):
    """[(ensemble name, [(member label, index of its file)])] for files in the order run by run, seed by seed
    (``results/<report>/<experiment>/<run>/seed<k>/``): per run over ``seeds``, per seed over ``runs``."""
    index = {(run, seed): i for i, (run, seed) in enumerate((r, s) for r in runs for s in seeds)}
    if over == "seeds":
        return [(run, [(f"seed{s}", index[(run, s)]) for s in seeds]) for run in runs]
    if over == "runs":
        return [(f"seed{s}", [(run, index[(run, s)]) for run in runs]) for s in seeds]
    raise ValueError(f"ensemble over {over!r}: choose seeds or runs")


def ensemble_table(over, runs, seeds, paths):
    """Every ensemble of an experiment as a table of ``COLUMNS``; ``paths``: each model's predictions.npz,
    run by run and seed by seed.  Members that were not tested on the same images are refused by name."""
    if len(paths) != len(runs) * len(seeds):
        raise ValueError(f"{len(paths)} prediction files for {len(runs)} runs x {len(seeds)} seeds")
    loaded = [load_probabilities(p) for p in paths]
    rows = []
    for name, members in groups(over, runs, seeds):
        first = members[0][1]
        y_true = loaded[first][0]
        for _, i in members[1:]:
            if not np.array_equal(loaded[i][0], y_true):
                raise ValueError(
                    f"{paths[i]} and {paths[first]} were not tested on the same images: "
                    "members of an ensemble must share their test set (split)"
                )
        stacked = np.stack([loaded[i][1] for _, i in members])
        rows.append(score(name, over, [label for label, _ in members], y_true, stacked))
    return pd.DataFrame(rows, columns=COLUMNS)


def write_table(table, path):
    with atomic.written(path) as tmp:
        table.to_csv(tmp, index=False, encoding="utf-8")
