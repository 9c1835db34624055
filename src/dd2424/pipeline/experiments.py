"""From the config to flat run specs, and from earlier results to derived ones.

An experiment (under ``experiments.<name>`` of a report file, loaded into
``config["reports"][<report>]`` by ``dd2424.pipeline.reports``) is one of:

- ``runs``: named runs, each a set of overrides of the defaults;
- ``grid``: the cartesian product of value lists, one run per point;
- ``random``: ``count`` points sampled from ``sample`` ranges;
- ``refine``: like ``random``, but the ranges are computed by the workflow
  from the best points of an earlier search (``refine.from``: a grid, a
  random search or another refine, so that stages chain coarse to fine;
  the rules are ``dd2424.pipeline.search``'s);

and any of them may take ``best_of``: keys copied from the best point of an
earlier search.  A run spec is flat: one value per hyper-parameter, so that
it is also a row of ``summary.csv``.
"""

import itertools
import json
import math
import re
from pathlib import Path

import numpy as np

from dd2424.nn.arithmetic import network_flop_per_sample
from dd2424.nn.spec import IDENTITY, acts, defaults, hidden_from_label, stackable

SEARCH_KINDS = ("grid", "random", "refine")


def assignments_in_all(config):
    """The assignments (and the bonus) that the default target and the report include, by name
    (a --configfile may reorder the config's mappings; a1, a2, a3, bonus read in this order)."""
    return sorted(a for a, group in config["assignments"].items() if group.get("in_all", True))


def reports_of(config, assignment):
    """The reports of one assignment, by id."""
    return sorted(r for r, report in config["reports"].items() if report["assignment"] == assignment)


def reports_in_all(config):
    """The reports the default target, the summary and the PDF include, assignment by assignment."""
    return [r for a in assignments_in_all(config) for r in reports_of(config, a)]


def experiments_of(config, report):
    return config["reports"][report]["experiments"]


def experiment_kind(exp):
    kinds = [k for k in ("runs",) + SEARCH_KINDS if k in exp]
    if len(kinds) != 1:
        raise ValueError(f"an experiment needs exactly one of runs/grid/random/refine, got {kinds}")
    return kinds[0]


def seeds_of(config, exp):
    kind = experiment_kind(exp)
    which = exp.get("seeds", "first" if kind in SEARCH_KINDS else "all")
    return list(config["seeds"]) if which == "all" and not config.get("preview") else list(config["seeds"][:1])


# What a preview divides (a length in epochs or updates), and the smallest each may become.
PREVIEW_LENGTHS = {"epochs": 1, "n_s": 1, "n_s_epochs": None, "cyclic_epochs": None, "cyclic_updates": 1}


def preview_spec(spec, factor):
    """``spec`` trained ``factor`` times shorter (config ``preview``): each length it sets in epochs or
    updates divided, rounded up, integers at least 1 (a cyclic run keeps its cycles, each shorter)."""
    out = dict(spec)
    for key, smallest in PREVIEW_LENGTHS.items():
        if out.get(key) is not None:
            out[key] = max(smallest, math.ceil(out[key] / factor)) if smallest else out[key] / factor
    return out


def builds_ensemble(config, exp):
    """Whether an experiment's ``ensemble`` is built: two members or more.

    Over seeds under a configuration of one seed (a quick run, ``seeds:
    [1]``) it is skipped, and its published numbers are scored "not run";
    a report file whose own experiment has one member is refused
    (``checks``).
    """
    if "ensemble" not in exp:
        return False
    if exp["ensemble"]["over"] == "seeds":
        return len(seeds_of(config, exp)) >= 2
    return len(exp.get("runs") or {}) >= 2


def _base(config, report, exp):
    # the declared defaults, the config's own defaults, the assignment's, the experiment's base
    spec = defaults()
    spec.update(config.get("defaults") or {})
    spec.update(config["assignments"][config["reports"][report]["assignment"]].get("defaults", {}))
    spec.update(exp.get("base", {}))
    return spec


def _inert_config_defaults(config, report, spec):
    """``{key: value}`` undoing each key of the config's own ``defaults`` that does nothing in this run
    (``spec.acts``): the value the run has without that layer.  ``defaults`` is shared by every report, and
    a key that acts in some runs (``eta`` under a constant schedule) must not change the others' specs: their
    jobs' params, their records and so their results (a report file that sets an inert key is refused)."""
    assignment = config["assignments"][config["reports"][report]["assignment"]].get("defaults", {})
    declared = defaults()
    return {
        key: assignment.get(key, declared.get(key))
        for key in config.get("defaults") or {}
        if key in declared and not acts(key, spec)
    }


def static_runs(config, report, name):
    """{run name: spec} as far as the config alone determines it."""
    exp = experiments_of(config, report)[name]
    base = _base(config, report, exp)
    kind = experiment_kind(exp)
    runs = {}
    if kind == "runs":
        for run, overrides in exp["runs"].items():
            spec = dict(base)
            spec.update(overrides or {})
            runs[str(run)] = spec
    elif kind == "grid":
        keys = list(exp["grid"])
        for i, values in enumerate(itertools.product(*(exp["grid"][k] for k in keys))):
            runs[f"g{i:03d}"] = {**base, **dict(zip(keys, values))}
    elif kind == "random":
        r = exp["random"]
        points = sample_points(r["sample"], r["count"], r.get("sample_seed", 0))
        for i, point in enumerate(points):
            runs[f"p{i:03d}"] = {**base, **point}
    else:  # refine: the sampled values exist only once the range is computed
        for i in range(exp["refine"]["count"]):
            runs[f"p{i:03d}"] = dict(base)
    for run, spec in runs.items():
        spec.update(_inert_config_defaults(config, report, spec))
        spec.update(report=report, assignment=config["reports"][report]["assignment"], experiment=name, run=run)
        if config.get("preview"):
            spec.update(preview_spec(spec, config["preview"]))
    return runs


def defaults_set(config, reports):
    """``{report: {experiment: {key: value}}}``: the settings the config's own ``defaults`` give the runs of
    each experiment (keys that act there and that neither the report nor its assignment sets): like an
    override, named among the causes of a miss; a key in none is refused (``checks.inert_defaults``).
    config.yaml ships ``defaults: {}``."""
    if not config.get("defaults"):
        return {}
    bare = {**config, "defaults": {}}
    found = {}
    for r in reports:
        for name in experiments_of(config, r):
            given, without = static_runs(config, r, name), static_runs(bare, r, name)
            changed = {
                key: value
                for key, value in config["defaults"].items()
                if any(given[run].get(key) != without[run].get(key) for run in given)
            }
            if changed:
                found.setdefault(r, {})[name] = changed
    return found


def sample_points(ranges, count, seed):
    """``count`` points; each key's range is ``[lo, hi]`` with ``scale`` log10 or linear."""
    rng = np.random.default_rng(seed)
    columns = {}
    for key, r in ranges.items():
        u = rng.uniform(r["low"], r["high"], count)
        columns[key] = 10.0**u if r.get("scale", "log10") == "log10" else u
    return [{k: float(columns[k][i]) for k in ranges} for i in range(count)]


def derived_source(config, report, name):
    """(kind, experiment) whose results this experiment's runs need, or None."""
    exp = experiments_of(config, report)[name]
    if "refine" in exp:
        return ("range", name)
    if "best_of" in exp:
        return ("best", exp["best_of"]["experiment"])
    return None


def derivation(exp):
    """What of an experiment's config turns an earlier stage's results into its specs.

    Only these values (not the whole experiment, whose other entries a
    training job does not depend on) reach the training jobs.
    """
    if "refine" in exp:
        r = exp["refine"]
        return {"refine": {"count": r["count"], "sample_seed": r.get("sample_seed", 1)}}
    if "best_of" in exp:
        keys = list(exp["best_of"]["keys"])
        # A run that sets a best_of key itself keeps its own value (an ablation
        # that turns the searched dropout off): per run, the keys it sets.
        own = {
            str(run): sorted(k for k in (overrides or {}) if k in keys)
            for run, overrides in exp.get("runs", {}).items()
        }
        return {"best_of": {"keys": keys, "own": {run: k for run, k in own.items() if k}}}
    return {}


def resolve(spec, derived_by, derived_path=None):
    """The final spec of a run: the static spec plus what earlier results decide."""
    spec = dict(spec)
    if derived_path is None:
        return spec
    derived = json.loads(Path(derived_path).read_text(encoding="utf-8"))
    if "refine" in derived_by:
        r = derived_by["refine"]
        points = sample_points(derived["ranges"], r["count"], r["sample_seed"])
        spec.update(points[int(spec["run"][1:])])
    if "best_of" in derived_by:
        best = derived["best"]
        own = derived_by["best_of"].get("own", {}).get(spec["run"], [])
        spec.update(
            {
                k: hidden_from_label(best[k]) if k == "hidden" else best[k]
                for k in derived_by["best_of"]["keys"]
                if k not in own
            }
        )
    return spec


def _shape_of(spec):
    """What models of one stack must share: everything but the per-model scalars."""
    return json.dumps({k: v for k, v in spec.items() if k not in stackable() + IDENTITY}, sort_keys=True)


def stacks(specs, chunk_size=None):
    """Run names in stacks: runs that can share mini-batches, at most ``chunk_size`` to a stack."""
    groups = {}
    for run, spec in specs.items():
        groups.setdefault(_shape_of(spec), []).append(run)
    size = chunk_size or max(len(g) for g in groups.values())
    return [g[i : i + size] for g in groups.values() for i in range(0, len(g), size)]


def rule_name(*parts):
    return "_".join(re.sub(r"\W", "_", str(p)) for p in parts)


def step_mflop(specs):
    """Useful MFLOP of one mini-batch of a stack of ``specs`` (``arithmetic``), from its static specs (a
    hidden size a search decides later counts as its base value)."""
    return (
        sum(s["n_batch"] * network_flop_per_sample(s["hidden"], s["patch_size"], s["patch_filters"]) for s in specs)
        / 1e6
    )


def all_static_runs(config):
    """``{(report, experiment): static_runs(...)}`` of every experiment of every report."""
    return {(r, e): static_runs(config, r, e) for r in config["reports"] for e in experiments_of(config, r)}


def training_jobs(config, runs):
    """Every training job: a search stage's points in stacks (first seed), headline runs one job per seed.

    The runs of a headline experiment that differ only in per-model scalars
    (``spec.stackable``: the four (eta, lambda) runs of a table, say) train as one
    stack per seed: they would see the same shuffle one by one, and as a
    stack they share each mini-batch's reading and each evaluation's pass
    over the data.  ``stack: false`` on an experiment trains each run alone, and so does a stack whose
    every run's own mini-batch reaches ``training.large_step_mflop`` (``step_mflop``).

    ``runs`` is ``{(report, experiment): static_runs(...)}``.  Each job is
    a dict: ``name`` (its rule), ``label`` (its log's and benchmark's name),
    ``report``, ``experiment``, ``runs``, ``specs``, ``seed`` (None: the
    rule takes the seed as a wildcard), ``curves`` (True: full training
    curves; "val": the validation curve alone, for a search ranked by its
    best validation accuracy; False: the final weights' figures alone) and
    ``chain`` (part of a search chain, scheduled first).
    """
    chunk_size = config.get("search", {}).get("chunk_size")
    jobs = []
    for (a, e), specs in runs.items():
        exp = experiments_of(config, a)[e]
        chain = derived_source(config, a, e) is not None
        derived_by = derivation(exp)
        if experiment_kind(exp) in SEARCH_KINDS:
            # A search ranked by its best validation accuracy evaluates it every epoch ("val"); one
            # ranked by the final weights records those alone, as before (the param is unchanged).
            curves = "val" if exp.get("rank_by", "final") == "best_val" else False
            for seed in seeds_of(config, exp):
                for i, names in enumerate(stacks(specs, chunk_size)):
                    jobs.append(
                        dict(
                            name=rule_name("train", a, e, f"seed{seed}", f"chunk{i}"),
                            label=f"seed{seed}_chunk{i}",
                            report=a,
                            experiment=e,
                            runs=names,
                            specs=[specs[r] for r in names],
                            seed=seed,
                            curves=curves,
                            chain=True,
                            derived_by=derived_by,
                        )
                    )
        else:
            # Sorted: a stack's name and params do not depend on the order of the config's runs.
            together = [sorted(g) for g in stacks(specs)] if exp.get("stack", True) else [[run] for run in specs]
            # Runs whose own step is large gain nothing from a stack (their products are large already) and a
            # stack's job lasts the sum of its runs': one job per run, so that they train side by side.
            large = config["training"]["large_step_mflop"]
            together = [
                part
                for g in together
                for part in ([[r] for r in g] if min(step_mflop([specs[r]]) for r in g) >= large else [g])
            ]
            for names in together:
                jobs.append(
                    dict(
                        # A stack of one keeps its run's name; a stack is named by its runs.
                        name=rule_name("train", a, e, *names),
                        label="+".join(names),
                        report=a,
                        experiment=e,
                        runs=names,
                        specs=[specs[r] for r in names],
                        seed=None,
                        curves=True,
                        chain=chain,
                        derived_by=derived_by,
                    )
                )
    return jobs


def refine_chain(experiments, name):
    """The stages of a search chain, coarse to fine, ending with ``name``: ``[root, ..., name]``.

    ``experiments``: a report's experiments.  Each refine names the stage it
    refines (``refine.from``); the root is a grid or a random search.
    Raises ValueError naming the stages of a cycle, or a ``from`` that is no
    experiment.
    """
    chain = [name]
    while "refine" in experiments[chain[0]]:
        source = experiments[chain[0]]["refine"]["from"]
        if source in chain:
            raise ValueError(f"the refines go round in a cycle: {' -> '.join([source] + chain)}")
        if source not in experiments:
            raise ValueError(f"{chain[0]}.refine.from names {source!r}, which is not an experiment")
        chain.insert(0, source)
    return chain


def searched_keys(config, report, name):
    """The keys a search experiment varies (a refined search: those of the root of its chain)."""
    experiments = experiments_of(config, report)
    exp = experiments[refine_chain(experiments, name)[0]]
    if "grid" in exp:
        return list(exp["grid"])
    return list(exp["random"]["sample"])
