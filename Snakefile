# Regenerates the DD2424 CIFAR-10 assignments and their report: `snakemake -j8`.

import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version

import dd2424
from dd2424.pipeline import workflow_config
from dd2424.pipeline.checks import ConfigError
from dd2424.pipeline.sizes import check_sizes
from dd2424.pipeline.configuration import ConfigFileError, blame, override_origins
from dd2424.pipeline.reports import ReportError
from dd2424.util import live_run, rerun
from dd2424.util.clock import future_problem
from dd2424.util.slurm import problem as slurm_problem
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


# The config files and --config read again as YAML 1.2, bounded (Snakemake's YAML 1.1 makes a run named `on`
# True and `--config 'seeds=[1]'` the string '1'), with each report's experiments and published numbers (one
# file per report); each problem names the file and line that set the value: the Snakefile's own traceback
# would only suggest that the fault is here.
try:
    USER_CONFIG, CONFIG_SOURCES, REPORT_SCHEMA = workflow_config.load(
        workflow.basedir, workflow.overwrite_configfiles, workflow.config_settings.config_args, os.getcwd()
    )
except (ConfigFileError, ReportError, ConfigError) as error:
    sys.exit(f"{type(error).__name__}: {error}")
config.clear()
config.update(USER_CONFIG)
CONFIG_SOURCES_FILES = [name for name, _ in CONFIG_SOURCES if Path(name).is_file()]
# Every message that says what to run names this run's own options (its jobs inherit them).
if workflow.is_main_process:
    rerun.record(
        workflow.basedir, os.getcwd(), workflow.overwrite_configfiles or (), workflow.config_settings.config_args or ()
    )
# A file stamped in the future would make Snakemake rerun every job after it and then delete their outputs:
# found by the main process, before any job (a job on another node has its own clock).
if workflow.is_main_process:
    CLOCK_SKEW = future_problem(
        ["resources", "results", *(r["file"] for r in config["reports"].values()), *CONFIG_SOURCES_FILES]
    )
    if CLOCK_SKEW:
        sys.exit(f"ClockSkew: {CLOCK_SKEW}")
    # --unlock removes a live run's lock as readily as a dead one's: refused while a run still works here.
    if "--unlock" in sys.argv:
        LIVE_RUN = live_run.unlock_problem()
        if LIVE_RUN:
            sys.exit(f"LiveRun: {LIVE_RUN}")
    elif not workflow.dryrun:
        live_run.record()


# The executor is known only once the run starts (not at parse time): under profiles/slurm on a machine
# without SLURM's commands every job would fail on its first status query, and on a cluster without
# accounting sacct would never see one end: stopped before any job instead.
onstart:
    SLURM_PROBLEM = slurm_problem(
        getattr(workflow.executor_plugin, "name", None),
        getattr(workflow.executor_settings, "status_command", None),
        targets=workflow.dag_settings.targets or (),
    )
    if SLURM_PROBLEM:
        sys.exit(SLURM_PROBLEM)


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
