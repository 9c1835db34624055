"""The run spec: every key a run of the network is defined by, declared once in ``run_spec.yaml``.

A run spec is a flat dict of these keys (plus the names in ``IDENTITY``).
The declaration gives each key's default, the JSON schema of its values,
its meaning, and how a stack, the summary and the PDF treat it; the code
that uses a value reads it from the spec.  The file is data, not code: a
job's code fingerprint does not include it, since what a trained model
depends on of it (the values) reaches the job as its params.
"""

from functools import cache
from pathlib import Path

import yaml

DECLARATION = Path(__file__).with_name("run_spec.yaml")
# What names a run rather than defines it.
IDENTITY = ("report", "assignment", "experiment", "run")


@cache
def keys():
    """``{key: declaration}`` in the declared order (schema, default, doc, and optional symbol, labels, stack,
    summary, shown)."""
    with open(DECLARATION, encoding="utf-8") as f:
        return yaml.safe_load(f)


def defaults():
    """``{key: default}`` of every key, a fresh dict (callers update it)."""
    return {key: _copy(d["default"]) for key, d in keys().items()}


def stackable():
    """The keys that may differ between the models of one stack: they enter a step only as one scalar per
    model (``init_sigma``: the scale of the stack's one draw of initial weights)."""
    return tuple(key for key, d in keys().items() if d.get("stack"))


def summary_columns():
    """The keys summary.csv has a column for, in order."""
    return [key for key, d in keys().items() if d.get("summary", True)]


def json_schema():
    """The JSON schema of a run spec (every key optional, no other key allowed)."""
    properties = {}
    for key, d in keys().items():
        properties[key] = {**d["schema"], "description": " ".join(d["doc"].split())}
    return {"type": "object", "additionalProperties": False, "properties": properties}


def hidden_label(hidden):
    """The hidden-layer sizes as one table cell: [50, 30] -> '50-30', [] -> 'none'."""
    return "-".join(map(str, hidden)) or "none"


def hidden_from_label(label):
    """The inverse of ``hidden_label`` (a search's best point read back from its table)."""
    if isinstance(label, list):
        return label
    return [] if label in ("none", "", None) else [int(v) for v in str(label).split("-")]


def _copy(value):
    return list(value) if isinstance(value, list) else value
