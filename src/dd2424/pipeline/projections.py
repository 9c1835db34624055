"""The parts of the config a job's output depends on, as its params: no more, so that an edit of anything
else reruns nothing."""

import hashlib
import json
from pathlib import Path

from .experiments import experiments_of, static_runs
from .scorecard import DISPLAY_ONLY, setting_overrides


def portable_config(config, reports):
    """The config as the report's jobs take it: ``reports`` (the ids in the PDF), each file by its name only,
    the md5 in lower case, so that the same checkout at another path, or the same md5 typed otherwise,
    reruns nothing."""
    return {
        **config,
        "data": {**config["data"], "md5": config["data"]["md5"].lower()},
        "reports": {r: {**config["reports"][r], "file": Path(config["reports"][r]["file"]).name} for r in reports},
    }


def scorecard_config(config, reports):
    """What the scorecard reads of the config: the md5 and the gradient checks (for the causes of a miss),
    and each report's assignment, experiments and published numbers, without what only the PDF shows."""
    portable = portable_config(config, reports)
    return {
        "data": portable["data"],
        "gradcheck": config["gradcheck"],
        # a preview's numbers are shown, never scored
        "preview": config.get("preview"),
        # named among the causes of a miss: what a configuration changed of a report's settings
        "defaults_set": defaults_set(config, reports),
        "overrides": {
            r: changed
            for r, changed in ((r, setting_overrides(o)) for r, o in (config.get("overrides") or {}).items())
            if r in portable["reports"] and changed["experiments"]
        },
        "reports": {
            r: {
                "assignment": report["assignment"],
                "published": report.get("published", []),
                "experiments": {
                    name: {k: v for k, v in exp.items() if k not in DISPLAY_ONLY}
                    for name, exp in report["experiments"].items()
                },
            }
            for r, report in portable["reports"].items()
        },
    }


def defaults_set(config, reports):
    """``{report: {experiment: {key: value}}}``: the settings the config's own ``defaults`` give the runs of
    each experiment (keys that act there and that neither the report nor its assignment sets): like an
    override, named among the causes of a miss.  config.yaml ships ``defaults: {}``."""
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


def config_checksum(config, reports):
    return hashlib.sha256(json.dumps(portable_config(config, reports), sort_keys=True).encode()).hexdigest()[:16]
