"""The workflow's config as the user wrote it: config.yaml, each ``--configfile`` and ``--config``, merged.

Snakemake reads config files with YAML 1.1 (a run named ``on`` arrives as
``True``) and keeps ``--config`` values as text; a problem it finds names
neither the file nor the line.  Here every file is read again with
``dd2424.util.yaml_files`` (YAML 1.2's scalars, duplicate keys refused,
bounded), merged in Snakemake's order (later files and ``--config`` win,
mappings key by key), and every schema problem is blamed on the file and line
that set the value, all problems at once.
"""

import copy
from pathlib import Path

import jsonschema

from dd2424.util import yaml_files
from dd2424.util.command_line import command_line_config, merge

COMMAND_LINE = "--config"


class ConfigFileError(ValueError):
    """Config files the workflow refuses; the message names each file, line and key."""


def read_config(files, config_args):
    """``(config, sources)``: the merged config of ``files`` (in order) and the raw ``--config`` entries,
    and ``sources``, ``[(file or "--config", its data)]`` in merge order (what ``blame`` reads).

    Raises ConfigFileError naming every file that is not YAML or not a mapping."""
    sources, problems = [], []
    for path in files:
        try:
            data = yaml_files.read(path)
        except yaml_files.YamlError as e:
            problems.append(str(e))
            continue
        if data is None:
            data = {}
        if not isinstance(data, dict):
            problems.append(f"{path}: a config file is a mapping of keys (report_files, overrides, seeds, ...)")
            continue
        sources.append((str(path), data))
    try:
        sources.append((COMMAND_LINE, command_line_config(config_args)))
    except ValueError as e:
        problems.append(str(e))
    if problems:
        raise ConfigFileError("\n".join(problems))
    config = {}
    for _, data in sources:
        merge(config, copy.deepcopy(data))  # a copy: ``sources`` stays what each file says
    return config, sources


def sets(data, keys):
    """Whether ``data`` sets the value at ``keys`` (the value itself, or a non-mapping above it)."""
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return False
        data = data[key]
        if not isinstance(data, dict):
            return True
    return True


def blame(sources, keys):
    """``file:line`` (or ``--config``) of the last source that sets the value at ``keys``."""
    for name, data in reversed(sources):
        if sets(data, keys):
            if name == COMMAND_LINE:
                return name
            line = yaml_files.line_of(name, keys)
            return f"{name}:{line}" if line else name
    return "config"


def override_origins(sources):
    """``{report id: file}``: the file that last set each report's ``overrides``."""
    origins = {}
    for name, data in sources:
        for rid in (data.get("overrides") or {}) if isinstance(data.get("overrides"), dict) else ():
            origins[rid] = name
    return origins


def problem_keys(error):
    """The key path a jsonschema error is about; for a key the schema does not allow, the key itself (the
    mapping around it may come from another file)."""
    keys = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {})
        extra = [k for k in error.instance if k not in allowed]
        if extra:
            keys.append(extra[0])
    return keys


def schema_message(error):
    """jsonschema's message, or a sentence where it would print the whole mapping: keys that exclude each
    other (``oneOf`` of ``required`` alternatives) given together, as two merged files give them."""
    alternatives = (
        [set(s.get("required", ())) for s in error.schema.get("oneOf", ())] if error.validator == "oneOf" else []
    )
    if isinstance(error.instance, dict) and alternatives and all(len(a) == 1 for a in alternatives):
        given = [k for a in alternatives for k in a if k in error.instance]
        if len(given) > 1:
            return (
                f"{' and '.join(given)} exclude each other, and both are given (keys merged from several files, as a "
                "--configfile's or an override's, add up and never remove one): keep one, or give it a new name"
            )
        if not given:
            return f"one of {', '.join(k for a in alternatives for k in a)} is required"
    return error.message


def check_schema(config, schema_path, sources, more=()):
    """Raise ConfigFileError with every problem ``schema_path`` finds in ``config``, and each of ``more``
    (``[(key path, key path to blame, problem)]``, found by other checks of the same files), each blamed on
    the file and line the user must edit: all at once."""
    schema = yaml_files.read(schema_path)
    errors = (
        jsonschema.exceptions.best_match([e]) for e in jsonschema.Draft202012Validator(schema).iter_errors(config)
    )
    problems = [(problem_keys(e), list(map(str, e.absolute_path)), schema_message(e)) for e in errors]
    problems += [(blamed, keys, message) for keys, blamed, message in more]
    lines = []
    for blamed, where, message in sorted(problems, key=lambda p: list(map(str, p[1]))):
        path = ".".join(map(str, where)) or "(top level)"
        text = f"{blame(sources, blamed)}: {path}: {yaml_files.shorten(message, 300)}"
        if text not in lines:
            lines.append(text)
    if lines:
        raise ConfigFileError("\n".join(lines))


def config_files(basedir, workflow_files):
    """The config files Snakemake read, in its order: the workflow's config.yaml, then each --configfile."""
    return [Path(basedir, "config.yaml"), *map(Path, workflow_files or ())]
