"""The workflow's whole config, read and checked once: the Snakefile's and ``make verify``'s one reader.

config.yaml, each ``--configfile`` and ``--config`` (``dd2424.pipeline.configuration``), the schema's
defaults, every report file ``report_files`` names (``dd2424.pipeline.reports``) and the cross-references
(``dd2424.pipeline.checks``): what a run reads at parse time is what ``make verify`` compares results with.
"""

from pathlib import Path
from typing import NamedTuple

from snakemake.utils import validate

from .checks import check_config, inert_defaults, run_spec_problems
from .configuration import ConfigFileError, blame, check_schema, config_files, override_origins, read_config
from .reports import load_reports, load_schema


class WorkflowConfig(NamedTuple):
    config: dict  # the merged config, with its defaults and ``reports`` (``{report id: report}``)
    sources: list  # ``[(file or "--config", its data)]`` in merge order (``configuration.blame`` reads it)
    report_schema: dict  # the report schema, with the run spec's definitions under ``$defs``


def load(basedir, configfiles, config_args, workdir):
    """The config a run in ``workdir`` with these ``--configfile`` (paths) and ``--config`` (``key=value``
    texts) options reads, checked.

    Raises ``configuration.ConfigFileError``, ``reports.ReportError`` or ``checks.ConfigError``, each naming
    every problem with its file and key."""
    schema_path = Path(basedir, "workflow", "schemas", "config.schema.yaml")
    config, sources = read_config(config_files(basedir, configfiles), config_args)
    # The run specs of the config's own defaults are checked with the schema: every problem at once, blamed.
    check_schema(config, schema_path, sources, run_spec_problems(config))
    validate(config, str(schema_path))  # fills in the schema's defaults
    report_schema = load_schema(Path(basedir, "workflow", "schemas", "report.schema.yaml"), schema_path)
    config["reports"] = load_reports(
        config,
        report_schema,
        str(workdir),
        str(basedir),
        override_origins(sources),
        lambda keys: blame(sources, keys),
    )
    check_config(config, override_origins(sources))
    inert = inert_defaults(config)
    if inert:
        raise ConfigFileError(
            "\n".join(
                f"{blame(sources, ['defaults', key])}: defaults.{key} is set but changes no run: {why}"
                for key, why in inert
            )
        )
    return WorkflowConfig(config, sources, report_schema)
