"""How a run spec reads in the PDF: which of its settings mean anything for a run (its declaration's
``shown`` rule), which are shared by an experiment's runs and which vary, and a split's description."""

from dd2424.nn.spec import acts, keys, matches, missing
from dd2424.pipeline.table import HYPER

# The hyper-parameters a settings line or a table may show: the run spec's, as summary.csv has them.
SETTINGS = HYPER


def relevant(key, spec):
    """Whether a setting means anything for this run (no step size of a schedule it does not use), by its
    declaration's ``shown`` rule (``run_spec.yaml``): it acts, and its value is not one the rule hides."""
    value = spec.get(key)
    if missing(value) or matches(value, keys().get(key, {}).get("shown", {}).get("hide", [])):
        return False
    return acts(key, spec)


def ignored_keys(keys, spec, specs):
    """The keys (of those other specs vary) that this spec's own settings make meaningless: ``cycles``
    beside ``cyclic_epochs``, momentum under Adam, a key it leaves unset.  A table shows "--" there rather
    than an unused default; a value merely left at its default (``eta_max_decay`` 1, batch norm before the
    ReLU) is shown."""
    ignored = []
    for key in keys:
        used = [other[key] for other in specs if relevant(key, other)]
        if missing(spec.get(key)) or not (relevant(key, spec) or used and relevant(key, {**spec, key: used[0]})):
            ignored.append(key)
    return ignored


def split_settings(specs):
    """(common, varying): the settings every spec shares, ``{key: value}``, and the keys whose values differ."""
    common, varying = {}, []
    for key in SETTINGS:
        values = [spec.get(key) for spec in specs if relevant(key, spec)]
        if not values:
            continue
        distinct = {str(v) for v in values}
        if len(distinct) == 1 and len(values) == len(specs):
            common[key] = values[0]
        else:
            varying.append(key)
    return common, varying


PREPROCESSING = {
    "standardise": "standardised with the training part's mean and std per input dimension",
    "center": "the training part's mean per input dimension subtracted (not divided by the std)",
    "unit": "scaled to [0, 1] only",
}


def _batches(names):
    return ", ".join(names)


def describe_split(name, split):
    """One sentence on what a split trains, validates and tests on, and how its pixels are preprocessed
    (``config.yaml`` → ``splits``, or a report file's own)."""
    k = split.get("val_size")
    if split.get("val"):
        val = f"validates on {_batches(split['val'])}"
    elif k == 0:
        val = "keeps no validation set"
    elif split.get("val_from", "train") == "test":
        val = f"validates on the last {k:,} images of {_batches(split['test'])}, which it leaves out of its test set"
    else:
        val = f"validates on the last {k:,} images of its training batches"
    text = f"{name}: trains on {_batches(split['train'])}, {val}, tests on {_batches(split['test'])}; pixels x/255, "
    text += PREPROCESSING[split.get("preprocess", "standardise")]
    if split.get("zca_eps"):
        text += f", then ZCA-whitened with the training covariance (eigenvalues damped by {split['zca_eps']:g})"
    return text + "."
