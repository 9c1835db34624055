"""Every quantity a report may publish, declared once: its kind (which tolerance scores it), where our value
is read, and its label in the PDF.

A quantity's name is the same in every layer: the key a training job
writes to metrics.json, the column of summary.csv (or of ensemble.csv,
search.csv or a gradient-check table), the ``quantity`` of a published
entry and the scorecard's row.  A hyper-parameter's label is its run-spec
symbol (``dd2424.nn.spec``).
"""

# The kinds in the order the PDF lists them, each with its tolerance in words (``scorecard.within`` is
# their one definition).
KINDS = {
    "accuracy": "within max(1 point, 2 std over seeds)",
    "loss": "within max(0.1, 10 %, 2 std over seeds)",
    "hyper": "within a factor of 2",
    "error": "at most 10 times the report's error (a bound: at most the bound)",
    "gradient": "same sign, within a factor of 2",
}

# name: (kind, label in the PDF or None, the ensemble.csv column it is read from or None)
QUANTITIES = {
    "train_accuracy": ("accuracy", "train acc.", None),
    "val_accuracy": ("accuracy", "val.\\ acc.", None),
    "test_accuracy": ("accuracy", "test acc.", None),
    # the best validation accuracy evaluated during training (a run, or a search ranked by it)
    "best_val_accuracy": ("accuracy", "best val.\\ acc.", None),
    # an ensemble's test accuracy (dd2424.pipeline.ensemble): target <experiment>/<run> (over seeds) or
    # <experiment> (over runs, the mean over the seeds' ensembles)
    "ensemble_hard_accuracy": ("accuracy", "ensemble test acc.\\ (hard vote)", "hard_accuracy"),
    "ensemble_soft_accuracy": ("accuracy", "ensemble test acc.\\ (soft vote)", "soft_accuracy"),
    "train_loss": ("loss", "train loss", None),
    "val_loss": ("loss", "val.\\ loss", None),
    "test_loss": ("loss", "test loss", None),
    "train_cost": ("loss", None, None),
    "val_cost": ("loss", None, None),
    "test_cost": ("loss", "test cost", None),
    "lambda": ("hyper", None, None),
    "eta": ("hyper", None, None),
    "n_batch": ("hyper", None, None),
    # a gradient check's errors and gradients (dd2424.pipeline.gradcheck's columns)
    "mean_abs_error": ("error", None, None),
    "std_abs_error": ("error", None, None),
    "max_abs_error": ("error", None, None),
    "max_rel_error": ("error", None, None),
    "grad_min": ("gradient", None, None),
    "grad_max": ("gradient", None, None),
    "grad_std": ("gradient", None, None),
}


def kind_of(quantity):
    """'accuracy', 'loss', 'hyper', 'error' or 'gradient'; KeyError for a quantity we do not compute."""
    return QUANTITIES[quantity][0]


def of_kind(kind):
    """The quantities of one kind, in declared order."""
    return tuple(q for q, (k, _, _) in QUANTITIES.items() if k == kind)


def label(quantity):
    """Its label in the PDF, or None where it has none of its own."""
    return QUANTITIES[quantity][1] if quantity in QUANTITIES else None


# An ensemble's quantities and the ensemble.csv column each is read from.
ENSEMBLE_COLUMNS = {q: column for q, (_, _, column) in QUANTITIES.items() if column}
ENSEMBLE_ACCURACIES = tuple(ENSEMBLE_COLUMNS)
