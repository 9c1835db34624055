"""The run spec: every key a run of the network is defined by, declared once in ``run_spec.yaml``.

A run spec is a flat dict of these keys (plus the names in ``IDENTITY``).
The declaration gives each key's default, the JSON schema of its values,
its meaning, and how a stack, the summary and the PDF treat it; the code
that uses a value reads it from the spec.  The file is data, not code: a
job's code fingerprint does not include it, since what a trained model
depends on of it (the values) reaches the job as its params.
"""

import math
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


def missing(value):
    return value is None or (isinstance(value, float) and math.isnan(value))


def matches(value, wanted):
    """Whether a spec's value (from a spec, or a table's cell) is one of ``wanted`` (a value or a list);
    None in ``wanted`` matches a missing value."""
    for w in wanted if isinstance(wanted, list) else [wanted]:
        if w is None and missing(value) or w is not None and not missing(value) and _same(value, w):
            return True
    return False


def _same(value, wanted):
    if isinstance(wanted, bool):
        return str(value) in ("True", "true", "1", "1.0") if wanted else str(value) in ("False", "false", "0", "0.0")
    if isinstance(wanted, (int, float)):
        try:
            return float(value) == wanted
        except (TypeError, ValueError):
            return False
    return str(value) == str(wanted)


def acts(key, spec):
    """Whether ``key`` changes anything in a run with this spec, by its declaration's ``shown`` rule
    (``when``, ``when_any``, ``unless``; ``init_sigma`` acts only with a normal init or normal biases)."""
    shown = keys().get(key, {}).get("shown", {})
    if not all(matches(spec.get(k), v) for k, v in shown.get("when", {}).items()):
        return False
    if any(matches(spec.get(k), v) for k, v in shown.get("unless", {}).items()):
        return False
    any_of = shown.get("when_any")
    return not any_of or any(all(matches(spec.get(k), v) for k, v in c.items()) for c in any_of)


def _condition(conditions):
    return " and ".join(
        f"{k} is {' or '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in conditions.items()
    )


def acts_on(key):
    """The keys whose values decide whether ``key`` acts (its ``shown`` rule's), in the rule's order."""
    shown = keys().get(key, {}).get("shown", {})
    named = [*shown.get("when", {}), *shown.get("unless", {})]
    named += [k for c in shown.get("when_any") or [] for k in c]
    return list(dict.fromkeys(named))


def acts_when(key):
    """In words, when ``key`` acts (its ``shown`` rule), for a refusal."""
    shown = keys().get(key, {}).get("shown", {})
    parts = []
    if shown.get("when"):
        parts.append(_condition(shown["when"]))
    if shown.get("when_any"):
        parts.append(" or ".join(_condition(c) for c in shown["when_any"]))
    if shown.get("unless"):
        parts.append("not when " + " or ".join(_condition({k: v}) for k, v in shown["unless"].items()))
    return ", ".join(parts)
