"""Checks of the config that the JSON schema cannot express, run at parse time.

Kept apart from ``experiments`` (which training jobs depend on), so that
changing a check retrains nothing.
"""

import jsonschema

from dd2424.data.cifar import has_validation, split_problem
from dd2424.nn.schedules import cyclic_length
from dd2424.nn.spec import acts, acts_on, acts_when, json_schema, stackable

from .experiments import SEARCH_KINDS, defaults_set, experiment_kind, refine_chain, searched_keys, static_runs
from .origins import experiment_at, layers, override_of, set_at
from .reports import check_published, split_origin
from .search import RULE_DEFAULTS, RULE_PARAMETERS


class ConfigError(ValueError):
    """A config the schema accepts but the workflow cannot run; names the key's path."""


def run_spec_problems(config):
    """``[(key path, key path to blame, problem)]``: every problem of the run specs of the config itself
    (``defaults``, each assignment's ``defaults``) against the declaration (``dd2424.nn.spec``).  A part
    that is not a mapping is left to the config schema."""
    validator = jsonschema.Draft202012Validator(json_schema())
    assignments = config.get("assignments")
    places = [(["defaults"], config.get("defaults"))]
    if isinstance(assignments, dict):
        places += [
            (["assignments", a, "defaults"], part.get("defaults"))
            for a, part in assignments.items()
            if isinstance(part, dict)
        ]
    problems = []
    for where, run_spec in places:
        if not isinstance(run_spec, dict):
            continue
        for error in sorted(validator.iter_errors(run_spec), key=lambda e: list(map(str, e.path))):
            keys = [*where, *map(str, error.path)]
            # a key the declaration does not allow: its own line, where the mapping may come from another file
            blamed = keys
            if error.validator == "additionalProperties" and isinstance(error.instance, dict):
                blamed = keys + [k for k in error.instance if k not in error.schema.get("properties", {})][:1]
            problems.append((keys, blamed, error.message))
    return problems


def inert_defaults(config):
    """``[(key, why)]``: each key of the config's own ``defaults`` that changes no run of any report
    (``experiments.defaults_set``), and why in words: it acts in no run here, or every run where it acts sets
    its own value (or has this one already)."""
    changed = {
        key for exps in defaults_set(config, config["reports"]).values() for keys in exps.values() for key in keys
    }
    runs = [
        spec
        for rid, report in config["reports"].items()
        for name in report["experiments"]
        for spec in static_runs(config, rid, name).values()
    ]
    found = []
    for key in config.get("defaults") or {}:
        if not config["reports"] or key in changed:
            continue
        if not any(acts(key, spec) for spec in runs):
            found.append(
                (key, f"it acts when {acts_when(key)}, and no run here has that: remove it, or set what it needs")
            )
        else:
            where = f" (it acts when {acts_when(key)})" if acts_when(key) else ""
            found.append(
                (
                    key,
                    f"every run where it acts{where} sets its own {key}, or has this value already: remove it, "
                    "or set it where the runs set theirs (overrides)",
                )
            )
    return found


def check_run_specs(config):
    """Raise ConfigError with every problem of ``run_spec_problems``, a line each with its key path."""
    problems = [f"{'.'.join(keys)}: {message}" for keys, _, message in run_spec_problems(config)]
    if problems:
        raise ConfigError("the config's run specs:\n  " + "\n  ".join(problems))


def check_config(config, origins=None):
    """Cross-references the schema cannot see, each refused with the file and the key's path.

    Run at parse time, before any job, on the config with its reports loaded
    (``config["reports"]``): a split that does not exist, a ``refine.from``,
    ``best_of``, ``baseline`` or ``compare`` naming a missing experiment or
    one of the wrong kind, refines that go round in a cycle, a refine rule
    given a parameter it does not read, ``rank_by`` on a runs experiment,
    ``best_of.keys`` the source does not search, a sampled (or refined
    grid) key that cannot vary within a stack, a published entry whose
    target or quantity we do not have; a split ``make_split`` cannot build;
    a search (or a ``best_of`` of one) on a split without a validation set,
    which would rank its points by nothing; a published validation figure
    of a run that has no validation set; an ensemble of one member or of
    runs tested on different splits; a bar figure of a search.
    """
    splits = config["splits"]
    for name, split in splits.items():
        problem = split_problem(split)
        if problem:
            raise ConfigError(f"{split_origin(config, name)}: splits.{name}: {problem}")
    for a, gradcheck in config["gradcheck"].items():
        if isinstance(gradcheck, dict) and gradcheck.get("split", "batch1") not in splits:
            raise ConfigError(f"gradcheck.{a}.split: {gradcheck['split']!r} is not one of splits: {sorted(splits)}")
    # every experiment's first problem at once (a later one may follow from the first)
    problems = []
    for rid, report in config["reports"].items():
        for name, exp in report["experiments"].items():
            try:
                _check_experiment(config, rid, report, name, exp, origins or {})
            except ConfigError as error:
                problems.append(str(error))
        compared = report.get("compare", {}).get("experiment")
        if compared is not None and compared not in report["experiments"]:
            problems.append(f"{report['file']}: compare.experiment names {compared!r}, which is not an experiment")
    if problems:
        raise ConfigError("\n".join(problems))
    check_published(config["reports"], config, lambda r, e: static_runs(config, r, e))
    _check_published_validation(config)


def _check_experiment(config, rid, report, name, exp, origins):
    """Raise ConfigError for the first problem of experiment ``name`` of report ``rid`` (``check_config``)."""
    splits = config["splits"]
    experiments = report["experiments"]
    where = f"{report['file']}: experiments"
    here = f"{experiment_at(report['file'], name, override_of(config, origins, rid, name))}: experiments.{name}"
    for run, spec in static_runs(config, rid, name).items():
        refuse_untrainable(spec, f"{here} (run {run!r})")
        refuse_inert(exp, run, spec, report["file"], name, override_of(config, origins, rid, name))
        if spec["split"] not in splits:
            raise ConfigError(f"{here} (run {run!r}): split {spec['split']!r} is not one of splits: {sorted(splits)}")
        if experiment_kind(exp) in SEARCH_KINDS:
            _refuse_without_validation(config, spec["split"], f"{here}: a {experiment_kind(exp)} search")
            if spec["test_curves"]:
                raise ConfigError(
                    f"{here}: test_curves draws a test curve beside a runs experiment's "
                    f"training curves; {name!r} is a {experiment_kind(exp)} search, whose points draw none"
                )
    if "refine" in exp:
        _check_refine(experiments, name, where, rid)
    if "rank_by" in exp and experiment_kind(exp) not in SEARCH_KINDS:
        raise ConfigError(
            f"{here}.rank_by ranks the points of a search (grid, random or refine); {name!r} is a runs "
            "experiment, whose training curves are recorded anyway"
        )
    if "bars" in exp.get("figures", []) and experiment_kind(exp) != "runs":
        raise ConfigError(
            f"{here}.figures: bars sets the runs of a runs experiment side by side; {name!r} is a "
            f"{experiment_kind(exp)} search, which its own plot shows"
        )
    if "random" in exp:
        _check_stackable_keys(f"{here}.random.sample", exp["random"]["sample"])
    if "best_of" in exp:
        source = exp["best_of"]["experiment"]
        if source not in experiments:
            raise ConfigError(f"{here}.best_of.experiment names {source!r}, which is not an experiment of {rid}")
        if experiment_kind(experiments[source]) not in SEARCH_KINDS:
            raise ConfigError(
                f"{here}.best_of.experiment names {source!r}, which is not a search (grid, random or refine)"
            )
        for spec in static_runs(config, rid, source).values():
            _refuse_without_validation(config, spec["split"], f"{here}.best_of: its search {source!r}")
        searched = searched_keys(config, rid, source)
        unknown = [k for k in exp["best_of"]["keys"] if k not in searched]
        if unknown:
            raise ConfigError(
                f"{here}.best_of.keys has {unknown}, which {source!r} does not search (it searches {searched})"
            )
    if "ensemble" in exp:
        _check_ensemble(config, rid, name, exp, here)
    if exp.get("baseline") is not None:
        source, _, run = str(exp["baseline"]).partition("/")
        if "runs" not in experiments.get(source, {}):
            raise ConfigError(f"{here}.baseline names {source!r}, which is not a runs experiment of {rid}")
        if run and run not in {str(r) for r in experiments[source]["runs"]}:
            raise ConfigError(
                f"{here}.baseline names run {run!r}, which {source!r} does not have "
                f"({', '.join(map(str, experiments[source]['runs']))})"
            )


def _refuse_without_validation(config, split, what):
    """Refuse ``what`` (a search, a best_of) on a split without a validation set, naming where the split is."""
    if split in config["splits"] and not has_validation(config["splits"][split]):
        raise ConfigError(
            f"{what} ranks its points by validation accuracy, but split {split!r} has no validation set "
            f"(splits.{split}.val_size is 0 in {split_origin(config, split)}): search on a split with one"
        )


def _check_published_validation(config):
    """Refuse a published val_* entry whose run trains on a split without a validation set."""
    for rid, report in config["reports"].items():
        for i, entry in enumerate(report.get("published", [])):
            parts = str(entry["target"]).split("/")
            if not entry["quantity"].startswith("val_") or parts[0] == "gradcheck" or len(parts) != 2:
                continue  # a search's entries: searches without validation are refused above
            split = static_runs(config, rid, parts[0])[parts[1]]["split"]
            if not has_validation(config["splits"][split]):
                raise ConfigError(
                    f"{report['file']}: published.{i} ({entry['target']}, {entry['quantity']}): the run trains "
                    f"on split {split!r}, which has no validation set (splits.{split}.val_size is 0 in "
                    f"{split_origin(config, split)}): there is no {entry['quantity']} of ours to set against it"
                )


def _check_ensemble(config, rid, name, exp, here):
    """An ensemble needs a runs experiment and two members or more, all tested on the same split."""
    over = exp["ensemble"]["over"]
    if experiment_kind(exp) != "runs":
        raise ConfigError(f"{here}.ensemble: only a runs experiment has ensembles; this is a {experiment_kind(exp)}")
    runs = static_runs(config, rid, name)
    if over == "seeds":
        # Under a config of one seed (a quick run) the ensemble is skipped, not refused (builds_ensemble).
        if exp.get("seeds") == "first":
            raise ConfigError(
                f"{here}.ensemble: over seeds, but the experiment trains one seed (seeds: first): an ensemble of "
                "one member"
            )
    elif len(runs) < 2:
        raise ConfigError(f"{here}.ensemble: over runs, but the experiment has one run: an ensemble of one member")
    else:
        splits = {run: spec["split"] for run, spec in runs.items()}
        if len(set(splits.values())) > 1:
            raise ConfigError(
                f"{here}.ensemble: over runs, but its runs use different splits ({splits}): the members of an "
                "ensemble vote on one test set, preprocessed one way; give the runs one split"
            )


def _patch_problems(spec):
    """What makes a run's patchify convolution (``patch_size``, ``patch_filters``) unbuildable."""
    sizes, filters = spec["patch_size"], spec["patch_filters"]
    if sizes is None and filters is None:
        return []
    if (sizes is None) != (filters is None):
        given, missing = ("patch_size", "patch_filters") if filters is None else ("patch_filters", "patch_size")
        return [f"{given} is {spec[given]} but {missing} is null: a patchify layer needs both (f and n_f)"]
    if isinstance(sizes, list) != isinstance(filters, list) or isinstance(sizes, list) and len(sizes) != len(filters):
        return [
            f"patch_size {sizes} and patch_filters {filters} do not pair up: give one of each, or two lists of "
            "the same length (a filter bank per width)"
        ]
    if not spec["hidden"]:
        return ["patch_size is set but hidden is []: the convolution feeds a hidden layer (hidden: [n_h])"]
    return []


def check_spec(spec, train_images=None, preview=False):
    """What makes a flat run spec untrainable as written, one message per problem naming its key and value.

    Pure: no config, no files.  ``preview``: the spec is a preview's (config ``preview``), whose
    half-cycle in epochs may round below one update (it trains one).  ``train_images`` is the number of images the
    run trains on when known (``n_train``, or its split's size once the
    archive is unpacked); the checks that need it are skipped without it.

    The remainder of an epoch: the trainer keeps the last ``n % n_batch``
    images as a smaller last mini-batch (every image is seen once an epoch).
    With batch norm a last mini-batch of one image would be normalised by
    its own mean and a zero variance, so that spec is refused rather than
    trained or silently changed: existing runs keep their numbers.
    """
    problems = []
    hidden = spec.get("hidden") or []
    n_batch = spec["n_batch"]
    n = train_images or spec.get("n_train")
    if spec.get("batch_norm"):
        if n_batch < 2:
            problems.append(
                f"batch_norm is true with n_batch {n_batch}: batch normalisation needs at least 2 images a mini-batch"
            )
        elif n and n % n_batch == 1:
            problems.append(
                f"batch_norm is true and n_batch {n_batch} leaves a last mini-batch of 1 of its {n} training "
                f"images each epoch (the remainder is trained as a smaller last batch): change n_batch or n_train"
            )
        if not hidden:
            problems.append("batch_norm is true but hidden is []: there is no hidden layer to normalise")
    else:
        if spec["bn_position"] != "before_relu":
            problems.append(
                f"bn_position is {spec['bn_position']} but batch_norm is false: there is no batch norm to place"
            )
        if spec.get("precise_bn"):
            problems.append(
                "precise_bn is true but batch_norm is false"
                + (" and hidden is []" if not hidden else "")
                + ": there are no batch-norm statistics to recompute"
            )
    if spec.get("loss") == "svm" and spec.get("label_smoothing"):
        problems.append(
            f"label_smoothing is {spec['label_smoothing']} with loss svm: the hinge loss has no target distribution "
            "to smooth"
        )
    if spec.get("optimizer") == "adam" and spec.get("momentum"):
        problems.append(
            f"momentum is {spec['momentum']} with optimizer adam: Adam's own first moment (adam_beta1) takes its "
            "place; set momentum to 0"
        )
    if spec.get("dropout") and not hidden:
        problems.append(f"dropout is {spec['dropout']} but hidden is []: there is no hidden unit to drop")
    if spec["eta_max_decay"] != 1 and spec.get("schedule") != "cyclic":
        problems.append(
            f"eta_max_decay is {spec['eta_max_decay']} with schedule {spec.get('schedule')}: it shrinks the cycles "
            "of a cyclic schedule only; set schedule to cyclic or eta_max_decay to 1"
        )
    if spec["n_s_growth"] != 1 and spec.get("schedule") != "cyclic":
        problems.append(
            f"n_s_growth is {spec['n_s_growth']} with schedule {spec.get('schedule')}: it grows the half-cycles of a "
            "cyclic schedule only; set schedule to cyclic or n_s_growth to 1"
        )
    if spec["n_s"] and spec["n_s_epochs"] and spec.get("schedule") == "cyclic":
        problems.append(
            f"n_s {spec['n_s']} and n_s_epochs {spec['n_s_epochs']} are both set (one may come from the "
            "assignment's defaults): give the half-cycle one way and set the other to null"
        )
    if spec.get("optimizer") == "nesterov" and not spec.get("momentum"):
        problems.append("optimizer is nesterov with momentum 0: Nesterov momentum needs momentum > 0 (e.g. 0.9)")
    problems += _patch_problems(spec)
    lengths = [k for k in ("cyclic_epochs", "cyclic_updates") if spec.get(k)]
    if lengths and spec.get("schedule") != "cyclic":
        problems.append(
            f"{lengths[0]} is {spec[lengths[0]]} with schedule {spec.get('schedule')}: it is the length of a cyclic "
            "run only (the other schedules train `epochs`); set schedule to cyclic, or epochs instead"
        )
    if spec.get("schedule") == "cyclic":
        if not spec["eta_min"] < spec["eta_max"]:
            problems.append(f"eta_min {spec['eta_min']} is not below eta_max {spec['eta_max']}: no cycle to run")
        if not spec.get("n_s") and not spec.get("n_s_epochs"):
            problems.append("schedule is cyclic but neither n_s nor n_s_epochs is set: the half-cycle has no length")
        elif not spec.get("n_s") and n and not preview and spec["n_s_epochs"] * (n // n_batch) < 1:
            problems.append(
                f"n_s_epochs {spec['n_s_epochs']} is less than one update with n_batch {n_batch} on {n} images "
                f"({n // n_batch} full mini-batches an epoch): the half-cycle would be shorter than one update"
            )
        if spec.get("cyclic_epochs") and spec.get("cyclic_updates"):
            problems.append(
                f"cyclic_epochs {spec['cyclic_epochs']} and cyclic_updates {spec['cyclic_updates']} are both set: "
                "give the length of a cyclic run one way"
            )
        elif spec.get("cyclic_epochs") and n and cyclic_length(spec, n, 1) < 1:
            problems.append(
                f"cyclic_epochs {spec['cyclic_epochs']} is less than one update with n_batch {n_batch} on {n} images"
            )
    return problems


def refuse_inert(exp, run, spec, file, name, override=None):
    """Raise ConfigError if experiment ``name`` of report ``file`` (with ``override``, ``override_of``) sets a
    key (in its base, the run, a grid or a sampled range) that this run's other settings make meaningless
    (``acts``): ``init_sigma`` under ``init: he`` would be recorded as given while He's σ trains.  The
    message names the file and line that set it: the report's, or the config file whose override did."""
    own = [key for values in layers(exp, run).values() for key in values]
    inert = list(dict.fromkeys(key for key in own if not acts(key, spec)))
    if inert:
        raise ConfigError(
            f"{set_at(file, name, run, inert[0], exp, override)} (run {run!r}): "
            + "; ".join(
                f"{key} is set but does nothing here: it acts when {acts_when(key)} "
                f"(this run: {', '.join(f'{k} {spec.get(k)}' for k in acts_on(key))})"
                for key in inert
            )
            + ": remove it, or set what it needs"
        )


def refuse_untrainable(spec, where, train_images=None, preview=False):
    """Raise ConfigError naming ``where`` (experiment and run) if ``check_spec`` finds a problem."""
    problems = check_spec(spec, train_images, preview)
    if problems:
        raise ConfigError(f"{where}: {'; '.join(problems)}")


def _check_refine(experiments, name, where, rid):
    """A refined search's source, its chain and its rule's parameters, refused naming the file and the key.

    ``refine.from`` names a grid, a random search or a refine of the same
    report, with no cycle; the chain's root varies only per-model scalars
    (a refine samples them as one stack), a grid's with numbers only; a
    rule's parameter it does not read is refused rather than ignored.
    """
    here = f"{where}.{name}.refine"
    refine = experiments[name]["refine"]
    source = refine["from"]
    if source not in experiments:
        raise ConfigError(f"{here}.from names {source!r}, which is not an experiment of {rid}")
    if experiment_kind(experiments[source]) not in SEARCH_KINDS:
        raise ConfigError(
            f"{here}.from names {source!r}, a {experiment_kind(experiments[source])} experiment; a refined "
            "search refines a search (grid, random or refine)"
        )
    try:
        root = refine_chain(experiments, name)[0]
    except ValueError as e:
        raise ConfigError(f"{here}.from: {e}") from None
    if "random" in experiments[root]:
        _check_stackable_keys(f"{where}.{root}.random.sample", experiments[root]["random"]["sample"])
    else:
        grid = experiments[root]["grid"]
        _check_stackable_keys(f"{where}.{root}.grid", grid, "a refined search")
        for key, values in grid.items():
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                raise ConfigError(f"{where}.{root}.grid.{key}: {values} are not all numbers; a refine needs a range")
    rule = refine.get("rule", RULE_DEFAULTS["rule"])
    unused = [k for k in ("top", "margin", "factor") if k in refine and k not in RULE_PARAMETERS[rule]]
    if unused:
        raise ConfigError(
            f"{here}: rule {rule} reads {', '.join(RULE_PARAMETERS[rule])}, not {', '.join(unused)} "
            "(span: top, margin; best: margin; factor: top, factor)"
        )


def _check_stackable_keys(where, sample, what="a random search"):
    unstackable = [k for k in sample if k not in stackable()]
    if unstackable:
        raise ConfigError(
            f"{where} samples {unstackable}: {what} samples only per-model scalars "
            f"({', '.join(stackable())}); search other keys with a grid"
            + ("" if what == "a random search" else " that nothing refines")
        )
