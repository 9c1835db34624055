"""Where a run's key is set, as ``file:line``: the report file, or the config file whose ``overrides`` set
it, so that a refusal names the line the user must edit."""

from pathlib import Path

from dd2424.util import yaml_files

from .reports import CONFIG_SPLITS


def layers(exp, run):
    """Where an experiment sets a run's keys: ``{key path: mapping}``, later layers winning."""
    return {
        ("base",): (exp or {}).get("base") or {},
        ("runs", run): ((exp or {}).get("runs") or {}).get(run) or {},
        ("grid",): (exp or {}).get("grid") or {},
        ("random", "sample"): ((exp or {}).get("random") or {}).get("sample") or {},
    }


def override_of(config, origins, rid, name):
    """``(file, report id, partial experiment)``: the config file whose ``overrides`` change experiment
    ``name`` of report ``rid`` (``origins``: ``configuration.override_origins``) and what it sets; or None."""
    part = (((config.get("overrides") or {}).get(rid) or {}).get("experiments") or {}).get(name)
    return (origins.get(rid, CONFIG_SPLITS), rid, part) if isinstance(part, dict) else None


def experiment_at(file, name, override=None):
    """``file:line`` of experiment ``name`` in the report ``file``; where the report file lacks it (an
    override added it), the config file of ``override`` (``override_of``) and its line there."""
    line = yaml_files.line_of(file, ["experiments", name])
    if line != yaml_files.line_of(file, ["experiments"]):
        return f"{file}:{line}" if line else str(file)
    if override:
        origin = override[0]
        line = (
            yaml_files.line_of(origin, ["overrides", override[1], "experiments", name])
            if Path(origin).is_file()
            else None
        )
        return f"{origin}:{line}" if line else str(origin)
    return str(file)


def set_at(file, name, run, key, exp, override=None):
    """``file:line: <key path>`` where ``key`` of run ``run`` of experiment ``name`` is set: in the config file
    of ``override`` (``override_of``) where its overrides set it, else in the report ``file``."""
    if override:
        origin, rid, part = override
        for where, values in layers(part, run).items():
            if key in values:
                keys = ["overrides", rid, "experiments", name, *where, key]
                line = yaml_files.line_of(origin, keys) if Path(origin).is_file() else None
                return f"{origin}{f':{line}' if line else ''}: {'.'.join(map(str, keys[:-1]))}"
    where = next((w for w, values in layers(exp, run).items() if key in values), ())
    line = yaml_files.line_of(file, ["experiments", name, *where, key]) if where else None
    return f"{file}{f':{line}' if line else ''}: experiments.{name}"
