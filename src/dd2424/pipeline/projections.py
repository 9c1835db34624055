"""The parts of the config a job's output depends on, as its params: no more, so that an edit of anything
else reruns nothing."""

import hashlib
import json
from pathlib import Path

from .experiments import defaults_set
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


def config_checksum(config, reports):
    return hashlib.sha256(json.dumps(portable_config(config, reports), sort_keys=True).encode()).hexdigest()[:16]
