"""Reports as data: one YAML file per report, loaded into ``config["reports"]``.

A report file holds what a reader of one DD2424 report would check: its
experiments (in the experiment format of ``dd2424.pipeline.experiments``), the
settings it leaves unstated, the numbers it publishes and short prose for
the PDF.  ``config.yaml`` names the files (``report_files``: a label per
path or glob) and may adjust any of them (``overrides``: a partial report
per id, merged in, e.g. a smaller search for a quick run).

Every refusal names the file and the key: a malformed file, a duplicated
YAML key, a report id used twice, an assignment the config does not have,
a published entry whose target does not exist or whose quantity we do not
compute, or one read ``at`` an epoch or update of something that is not a
run's history.
"""

import glob
import re
from pathlib import Path

import jsonschema

from dd2424.nn.spec import json_schema
from dd2424.util import yaml_files

from .configuration import problem_keys, schema_message, sets
from .quantities import ENSEMBLE_ACCURACIES, HISTORY_QUANTITIES, QUANTITIES, kind_of
from .scorecard import point_matches

# Report ids name directories under results/ and rules: letters, digits, '.', '_', '-'.
REPORT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# Directories of results/ that are not reports.
RESERVED_IDS = ("data", "report", "gradcheck")


class ReportError(ValueError):
    """A report file the workflow cannot use; the message names the file and the key."""


def read_yaml(path):
    """A YAML file as data (YAML 1.2's scalars, bounded: ``dd2424.util.yaml_files``); any problem names the
    file and the line."""
    try:
        return yaml_files.read(path)
    except yaml_files.YamlError as e:
        raise ReportError(str(e)) from None


def report_paths(report_files, workdir, basedir, blame=None):
    """The files ``report_files`` names (``{label: path or glob}``; null drops a label), in order.

    A relative path is taken from the working directory and, where nothing
    matches there, from the workflow's directory (where ``reports/`` is).
    A label whose path matches nothing is refused.
    """
    paths = []
    for label, pattern in report_files.items():
        if pattern is None:
            continue
        matches = []
        for root in (Path(workdir), Path(basedir)):
            full = Path(pattern) if Path(pattern).is_absolute() else root / pattern
            matches = sorted(glob.glob(str(full)))
            if matches:
                break
        if not matches:
            where = f"{blame(['report_files', label])}: " if blame else ""
            looked = " and ".join(dict.fromkeys(str(Path(d).resolve()) for d in (workdir, basedir)))
            raise ReportError(f"{where}report_files.{label}: {pattern!r} matches no file (looked in {looked})")
        paths += [Path(m).resolve() for m in matches if Path(m).resolve() not in paths]
    return paths


def merge(base, override):
    """``override`` merged into a copy of ``base``: mappings key by key, anything else replaced."""
    out = dict(base)
    for key, value in override.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def load_schema(report_schema_path, config_schema_path):
    """The report schema, with the run spec and sample range of the config schema.

    A grid's values are checked as the run spec checks the same key (a
    negative eta in a grid is refused like one in a run).
    """
    report_schema = read_yaml(report_schema_path)
    shared = read_yaml(config_schema_path)["$defs"]
    # the run spec as declared (the config schema holds a placeholder)
    run_spec = shared["run_spec"] = json_schema()
    grid = {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": False,
        "properties": {k: {"type": "array", "minItems": 1, "items": v} for k, v in run_spec["properties"].items()},
    }
    report_schema["$defs"] = {**shared, **report_schema["$defs"], "grid": grid}
    return report_schema


def value_limits(defs, key):
    """``{low, high}``: the smallest and largest value a run spec accepts for ``key`` (exclusive or not;
    None where its schema, ``defs["run_spec"]``, sets no bound)."""
    schema = defs["run_spec"]["properties"].get(key, {})
    while "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    return {
        "low": schema.get("minimum", schema.get("exclusiveMinimum")),
        "high": schema.get("maximum", schema.get("exclusiveMaximum")),
    }


def _leaves(error):
    """The problems under one schema error: of alternatives (a run spec, or null), every problem of the one
    ``best_match`` finds most telling, so that a run's typo and its bad value are named together."""
    if not error.context:
        return [error]
    branch = jsonschema.exceptions.best_match([error]).relative_schema_path
    while branch and branch[0] not in {e.relative_schema_path[0] for e in error.context}:
        branch = list(branch)[1:]
    chosen = [e for e in error.context if branch and e.relative_schema_path[0] == branch[0]]
    return [leaf for e in chosen for leaf in _leaves(e)] or [jsonschema.exceptions.best_match([error])]


def _schema_error(path, errors, override, override_origin, rid):
    """One ReportError naming every problem the schema finds in a report, a line each, sorted by key
    path (each the most telling of its alternatives, as ``best_match`` picks it), and each blamed on
    the file the user must edit: the report file, or the config file whose ``overrides`` set the value."""
    lines = []
    for error in sorted((leaf for e in errors for leaf in _leaves(e)), key=lambda e: list(map(str, e.absolute_path))):
        keys = problem_keys(error)
        if keys and sets(override, keys):  # the value came from the override
            file, keys, where = override_origin, ["overrides", rid, *keys], ["overrides", rid, *error.absolute_path]
        else:
            file, where = path, list(error.absolute_path)
        line = yaml_files.line_of(file, keys) if Path(str(file)).is_file() else None
        where = ".".join(map(str, where)) or "(top level)"
        text = f"{file}{f':{line}' if line else ''}: {where}: {yaml_files.shorten(schema_message(error), 300)}"
        if text not in lines:
            lines.append(text)
    return ReportError("\n".join(lines))


def load_reports(config, schema, workdir, basedir, origins=None, blame=None):
    """``{report id: report}`` of every file ``config["report_files"]`` names, checked.

    ``schema`` is the report schema (a dict); ``origins`` says which config
    file set each report's ``overrides`` (``{report id: path}``), so that a bad
    value there is blamed on that file; ``blame(keys)`` names the file and line that set a config key (for a
    ``report_files`` entry that matches nothing).  Each report gets ``file`` (its path).
    The splits a report file defines (``splits``) are merged into
    ``config["splits"]`` (a new mapping; see ``merge_splits``), so that the
    rules see them as they see config.yaml's.  Raises ``ReportError`` naming
    every problem of every file at once, each with its file and key.
    """
    validator = jsonschema.Draft202012Validator(schema)
    overrides = config.get("overrides") or {}
    reports, problems = {}, []
    for path in report_paths(config.get("report_files") or {}, workdir, basedir, blame):
        try:
            report = _checked_report(path, overrides, origins or {}, validator, schema, config)
        except ReportError as error:
            problems.append(str(error))
            continue
        rid = report["id"]
        if rid in reports:
            problems.append(f"{path}: id {rid!r} is already the id of {reports[rid]['file']}")
            continue
        reports[rid] = report
    # (a file refused above may be the one an override names)
    unknown = sorted(set(overrides) - set(reports))
    if unknown and not problems:
        where = blame(["overrides", unknown[0]]) if blame else "the config"
        problems.append(
            f"{where}: overrides names {unknown}, which no report file has as its id ({', '.join(reports)})"
        )
    if problems:
        raise ReportError("\n".join(problems))
    config["splits"] = merge_splits(config.get("splits") or {}, reports, blame)
    return reports


def _checked_report(path, overrides, origins, validator, schema, config):
    report = read_yaml(path)
    if not isinstance(report, dict):
        raise ReportError(f"{path}: a report file is a mapping (id, assignment, title, experiments, ...)")
    rid = report.get("id")
    override = (overrides.get(rid) or {}) if isinstance(rid, str) else {}
    origin = origins.get(rid, "the config (config.yaml or a --configfile)")
    grid_point_problems(report, path)
    # what the override names that the report lacks, and the schema's problems of the rest: at once
    problems, override = override_problems(report, override, path, origin)
    report = merge(report, override)
    errors = list(validator.iter_errors(report))
    if errors:
        problems.append(str(_schema_error(path, errors, override, origin, rid)))
    if problems:
        raise ReportError("\n".join(problems))
    sampled_range_problems(report, path, schema["$defs"])
    if not REPORT_ID.match(rid) or rid in RESERVED_IDS:
        raise ReportError(
            f"{path}: id {rid!r} must be letters, digits, '.', '_' or '-' (it names a directory of results/), "
            f"and not one of {', '.join(RESERVED_IDS)}"
        )
    if report["assignment"] not in config["assignments"]:
        raise ReportError(
            f"{path}:{yaml_files.line_of(path, ['assignment'])}: assignment {report['assignment']!r} is not one of "
            "config's assignments "
            f"({', '.join(config['assignments'])})"
        )
    report["file"] = str(path)
    return report


CONFIG_SPLITS = "the config (config.yaml or a --configfile)"


def split_origin(config, name):
    """Where split ``name`` is defined: the first report file defining it, else the config."""
    for report in (config.get("reports") or {}).values():
        if name in (report.get("splits") or {}):
            return report["file"]
    return CONFIG_SPLITS


def override_problems(report, override, path, origin="the config"):
    """``(problems, override)``: an override's changes to an experiment, or a run, its report file does not
    have (merged in, each would add a new one silently while the one meant keeps its settings), a line each
    with the line of ``origin`` (the config file that sets it), and the override without them, to check the
    rest with.  An override may add a whole experiment (one that says what it trains: runs, grid, random or
    refine)."""
    experiments = report.get("experiments") or {}
    rid = report.get("id")
    problems, kept = [], {}
    for name, changes in (override.get("experiments") or {}).items():
        where = f"overrides.{rid}.experiments.{name}"
        whole = isinstance(changes, dict) and any(k in changes for k in ("runs", "grid", "random", "refine"))
        if name not in experiments and not whole:
            problems.append(
                f"{_line_in(origin, ['overrides', rid, 'experiments', name])}: {where}: {path} has no experiment "
                f"{name!r} (its experiments: {', '.join(experiments)})"
            )
            continue
        runs = ((experiments.get(name) or {}).get("runs") or {}) if name in experiments else {}
        unknown = [run for run in (changes or {}).get("runs") or {} if runs and run not in runs]
        for run in unknown:
            problems.append(
                f"{_line_in(origin, ['overrides', rid, 'experiments', name, 'runs', run])}: {where}.runs.{run}: "
                f"experiment {name!r} of {path} has no run {run!r} (its runs: {', '.join(map(str, runs))})"
            )
        if unknown:
            changes = {**changes, "runs": {r: v for r, v in changes["runs"].items() if r not in unknown}}
        kept[name] = changes
    return problems, ({**override, "experiments": kept} if "experiments" in override else override)


def _line_in(origin, keys):
    """``file:line`` of ``keys`` where ``origin`` is a config file that has them, else ``origin`` as it is."""
    line = yaml_files.line_of(origin, keys) if Path(origin).is_file() else None
    return f"{origin}:{line}" if line else origin


def merge_splits(splits, reports, blame=None):
    """The config's ``splits`` with every report's own (``splits`` in its file) added.

    A report may repeat a split the config or another report defines, if it
    defines it the same; a name given two different definitions is refused
    naming both files.  The config's own splits keep their order, first.
    """
    merged = dict(splits)
    # ``blame(keys)``: the config file and line that define a split of the config's own
    origin = {name: blame(["splits", name]) if blame else CONFIG_SPLITS for name in splits}
    for report in reports.values():
        for name, spec in (report.get("splits") or {}).items():
            if name in merged and merged[name] != spec:
                raise ReportError(
                    f"{report['file']}: splits.{name} is already a different split in {origin[name]} "
                    f"({merged[name]}, here {spec}): give this one another name"
                )
            merged.setdefault(name, spec)
            origin.setdefault(name, report["file"])
    return merged


def check_published(reports, config, runs_of):
    """Refuse a published entry whose target or quantity we do not have, naming the file and the entry.

    ``runs_of(report, experiment)`` gives an experiment's runs, ``{name: spec}``.
    """
    for rid, report in reports.items():
        assignment = report["assignment"]
        for i, entry in enumerate(report.get("published", [])):
            where = f"{report['file']}: published.{i} ({entry['target']}, {entry['quantity']})"
            if entry["quantity"] not in QUANTITIES:
                raise ReportError(
                    f"{where}: quantity {entry['quantity']!r} is not one we compute ({', '.join(QUANTITIES)})"
                )
            if kind_of(entry["quantity"]) == "accuracy" and not 0 <= entry["value"] <= 1:
                raise ReportError(
                    f"{where}: value {entry['value']} is not a fraction: accuracies are written as fractions "
                    f"(0.579 for 57.9 %)"
                )
            problem = target_problem(entry, report, config["gradcheck"].get(assignment), runs_of) or at_problem(
                entry, report
            )
            if problem:
                raise ReportError(f"{where}: {problem}")


def target_problem(entry, report, gradcheck, runs_of):
    """Why an entry's target does not exist in this report (None if it does)."""
    parts = str(entry["target"]).split("/")
    if parts[0] == "gradcheck":
        if gradcheck is None:
            return f"there is no gradient check of assignment {report['assignment']} (config gradcheck)"
        if len(parts) not in (1, 3):
            return "a gradient-check target is 'gradcheck' or 'gradcheck/<check>/<parameter>'"
        if len(parts) == 3 and parts[1] not in gradcheck["checks"]:
            return f"no gradient check {parts[1]!r} (config gradcheck.{report['assignment']}.checks)"
        return None
    experiments = report["experiments"]
    if parts[0] not in experiments:
        return f"no experiment {parts[0]!r} in this report ({', '.join(experiments)})"
    if entry["quantity"] in ENSEMBLE_ACCURACIES:
        problem = ensemble_target_problem(entry, parts, experiments[parts[0]])
        if problem or len(parts) == 1:
            return problem
    elif len(parts) == 1:
        exp = experiments[parts[0]]
        if "runs" in exp:
            return f"{parts[0]!r} is not a search: name one of its runs ({parts[0]}/<run>)"
        if ("rank" in entry) == ("point" in entry):
            return "a search target needs a rank (k-th best) or a point (a grid point), not both"
        if "point" in entry and "grid" not in exp:
            return f"{parts[0]!r} is a sampled search: its points have no fixed values, give a rank instead of a point"
        if entry["quantity"] == "best_val_accuracy" and exp.get("rank_by", "final") != "best_val":
            return (
                f"{parts[0]!r} records its points' final weights alone: a best validation accuracy during "
                "training needs rank_by: best_val on it"
            )
        return None
    runs = runs_of(report["id"], parts[0])
    if len(parts) > 2 or parts[1] not in runs:
        return f"no run {'/'.join(parts[1:])!r} in experiment {parts[0]!r} ({', '.join(runs)})"
    return None


def at_problem(entry, report):
    """Why an entry's ``at`` (its value at an epoch or update of a run's history.csv) cannot be read: a target
    that is not a run of a runs experiment, or a quantity the history has no column of (None if it can)."""
    if "at" not in entry:
        return None
    experiment, _, run = str(entry["target"]).partition("/")
    if not run or "runs" not in report["experiments"].get(experiment, {}):
        return (
            f"'at' reads a run's history (history.csv at an epoch or update): the target must name a run of a runs "
            f"experiment, <experiment>/<run>, not {entry['target']!r}"
        )
    if entry["quantity"] not in HISTORY_QUANTITIES:
        return (
            f"'at' reads a run's history, which has no {entry['quantity']} "
            f"(it has {', '.join(HISTORY_QUANTITIES)} at each evaluation)"
        )
    return None


def ensemble_target_problem(entry, parts, exp):
    """Why an ensemble quantity's target is not an ensemble of the experiment (None if it is; a run's
    name is checked as any run's)."""
    if "ensemble" not in exp:
        return (
            f"{entry['quantity']} is an ensemble's, but experiment {parts[0]!r} has none "
            f"(add experiments.{parts[0]}.ensemble: {{over: seeds}} or {{over: runs}})"
        )
    if "rank" in entry or "point" in entry:
        return "an ensemble is not a search point: give no rank or point"
    over = exp["ensemble"]["over"]
    if over == "seeds" and len(parts) != 2:
        return f"{parts[0]!r} has an ensemble per run (over seeds): name one of its runs ({parts[0]}/<run>)"
    if over == "runs" and len(parts) != 1:
        return f"{parts[0]!r} has one ensemble of its runs (over runs): the target is {parts[0]!r} alone"
    return None


def grid_point_problems(report, path):
    """Published grid points that the report's own grid does not have, refused naming the file and the entry.

    Checked on the file as written, before ``overrides``: a configuration that
    shrinks a grid (a quick run) leaves such a number unscored ("not run"),
    while a point the report's grid never had is a typo.
    """
    experiments = report.get("experiments") or {}
    for i, entry in enumerate(report.get("published") or []):
        exp = experiments.get(str(entry.get("target", "")).split("/")[0], {})
        point = entry.get("point")
        if not isinstance(point, dict) or not isinstance(exp.get("grid"), dict):
            continue
        where = f"{path}: published.{i} ({entry.get('target')}, {entry.get('quantity')})"
        grid = exp["grid"]
        unknown = sorted(set(point) - set(grid))
        if unknown:
            raise ReportError(f"{where}: point names {unknown}, which the grid does not vary ({', '.join(grid)})")
        for key, value in point.items():
            if not any(point_matches({key: v}, {key: value}) for v in grid[key] if isinstance(v, (int, float))):
                raise ReportError(f"{where}: point {point} is not a point of the grid ({key}: {grid[key]})")


def sampled_range_problems(report, path, defs):
    """Refuse a random search's range that is empty or reaches values no run spec accepts.

    ``defs``: the schema's definitions (``run_spec`` gives each key's).  A range is ``[low, high]``
    of the value itself (``scale: linear``) or of its log10; both ends are
    checked as the run spec checks the key (a linear η range crossing 0 is
    refused, as a negative η in a run is).
    """
    for name, exp in report["experiments"].items():
        for key, r in exp.get("random", {}).get("sample", {}).items():
            where = f"{path}: experiments.{name}.random.sample.{key}"
            if not r["low"] < r["high"]:
                raise ReportError(f"{where}: low {r['low']} is not below high {r['high']}: nothing to sample")
            log = r.get("scale", "log10") == "log10"
            for end in ("low", "high"):
                value = 10.0 ** r[end] if log else r[end]
                key_schema = {"$defs": defs, **defs["run_spec"]["properties"].get(key, {})}
                error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(key_schema).iter_errors(value))
                if error is not None:
                    shown = f"10^{r[end]} = {value:g}" if log else f"{value:g}"
                    raise ReportError(f"{where}.{end}: {shown} is not a value of {key}: {error.message}")
