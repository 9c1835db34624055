"""Every quantity a report may publish, declared once: its kind (which tolerance scores it), where our value
is read, and its label in the PDF.

A quantity's name is the same in every layer: the key a training job
writes to metrics.json, the column of summary.csv (or of ensemble.csv,
search.csv or a gradient-check table; of history.csv too for those a
run records at every evaluation), the ``quantity`` of a published
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
    # a training time is shown beside the report's and never scored: it measures the machine as much as the run
    "time": "shown, not scored (machines differ)",
}
# The kinds a verdict is given for; the others' rows are shown alone (verdict "shown") and count in no total.
SCORED_KINDS = ("accuracy", "loss", "hyper", "error", "gradient")

# name: (kind, label in the PDF or None, the ensemble.csv column it is read from or None, whether a run's
# history.csv has it at every evaluation: a published entry may then read it at an epoch or update, ``at``)
QUANTITIES = {
    "train_accuracy": ("accuracy", "train acc.", None, True),
    "val_accuracy": ("accuracy", "val.\\ acc.", None, True),
    "test_accuracy": ("accuracy", "test acc.", None, False),
    # the best validation accuracy evaluated during training (a run, or a search ranked by it)
    "best_val_accuracy": ("accuracy", "best val.\\ acc.", None, False),
    # an ensemble's test accuracy (dd2424.pipeline.ensemble): target <experiment>/<run> (over seeds) or
    # <experiment> (over runs, the mean over the seeds' ensembles)
    "ensemble_hard_accuracy": ("accuracy", "ensemble test acc.\\ (hard vote)", "hard_accuracy", False),
    "ensemble_soft_accuracy": ("accuracy", "ensemble test acc.\\ (soft vote)", "soft_accuracy", False),
    "train_loss": ("loss", "train loss", None, True),
    "val_loss": ("loss", "val.\\ loss", None, True),
    "test_loss": ("loss", "test loss", None, False),
    "train_cost": ("loss", None, None, True),
    "val_cost": ("loss", None, None, True),
    "test_cost": ("loss", "test cost", None, False),
    "lambda": ("hyper", None, None, False),
    "eta": ("hyper", None, None, False),
    "n_batch": ("hyper", None, None, False),
    # a gradient check's errors and gradients (dd2424.pipeline.gradcheck's columns)
    "mean_abs_error": ("error", None, None, False),
    "std_abs_error": ("error", None, None, False),
    "max_abs_error": ("error", None, None, False),
    "max_rel_error": ("error", None, None, False),
    "grad_min": ("gradient", None, None, False),
    "grad_max": ("gradient", None, None, False),
    "grad_std": ("gradient", None, None, False),
    # a model's training time in seconds (metrics.json, summary.csv); a model trained in a stack of several
    # has the whole stack's, which its models share
    "train_seconds": ("time", "train s", None, False),
}


def kind_of(quantity):
    """'accuracy', 'loss', 'hyper', 'error', 'gradient' or 'time'; KeyError for a quantity we do not compute."""
    return QUANTITIES[quantity][0]


def of_kind(kind):
    """The quantities of one kind, in declared order."""
    return tuple(q for q, (k, *_) in QUANTITIES.items() if k == kind)


def label(quantity):
    """Its label in the PDF, or None where it has none of its own."""
    return QUANTITIES[quantity][1] if quantity in QUANTITIES else None


def scored(quantity):
    """Whether a published value of it is given a verdict (a training time is shown alone)."""
    return kind_of(quantity) in SCORED_KINDS


# The quantities a run's history.csv has at every evaluation (a column each): what ``at`` may read.
HISTORY_QUANTITIES = tuple(q for q, (*_, in_history) in QUANTITIES.items() if in_history)

# An ensemble's quantities and the ensemble.csv column each is read from.
ENSEMBLE_COLUMNS = {q: column for q, (_, _, column, _) in QUANTITIES.items() if column}
ENSEMBLE_ACCURACIES = tuple(ENSEMBLE_COLUMNS)
