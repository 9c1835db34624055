# Regenerates the DD2424 CIFAR-10 assignments and their report: `snakemake -j8`.

import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, update_config, validate

import dd2424
from dd2424.pipeline.checks import ConfigError, check_config, check_run_specs, check_sizes
from dd2424.util.command_line import command_line_config
from dd2424.pipeline.reports import ReportError, load_reports, load_schema
from dd2424.util.workarounds import quote_script_interpreter

min_version("9.0")
# Any directory name (spaces, quotes, parentheses): script jobs quote their interpreter (snakemake#2645).
quote_script_interpreter()

# The jobs import the installed dd2424: it must be this checkout's, or edits
# here would retrain with another checkout's code.
if Path(dd2424.__file__).resolve().parent != Path(workflow.basedir, "src", "dd2424").resolve():
    raise WorkflowError(
        f"the installed dd2424 is {Path(dd2424.__file__).parent}, not this workflow's "
        f"{Path(workflow.basedir, 'src', 'dd2424')}: run `pip install -e {workflow.basedir}` "
        "(or `make setup`) in the environment that runs snakemake"
    )


# ---- Configuration ---------------------------------------------------------


configfile: f"{workflow.basedir}/config.yaml"


# `--config 'seeds=[1]'` as YAML, as in a --configfile: Snakemake alone would pass '1', a string.
update_config(config, command_line_config(workflow.config_settings.config_args))
validate(config, f"{workflow.basedir}/workflow/schemas/config.schema.yaml")
# Each report's experiments and published numbers: one file per report.  A
# refusal names the file and the key; the Snakefile's own traceback would only
# suggest that the fault is here.
# The report schema, with the run spec's definitions (common.smk reads their limits).
REPORT_SCHEMA = load_schema(
    f"{workflow.basedir}/workflow/schemas/report.schema.yaml",
    f"{workflow.basedir}/workflow/schemas/config.schema.yaml",
)
try:
    check_run_specs(config)
    config["reports"] = load_reports(config, REPORT_SCHEMA, os.getcwd(), workflow.basedir)
    check_config(config)
except (ReportError, ConfigError) as error:
    sys.exit(f"{type(error).__name__}: {error}")


# ---- Rules, by stage --------------------------------------------------------


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/gradcheck.smk"
include: "workflow/rules/training.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/targets.smk"
include: "workflow/rules/report.smk"


# ---- Targets ----------------------------------------------------------------


rule all:
    default_target: True
    input:
        rules.report.output.pdf,
        rules.summary_all.output.table,
