"""What Snakemake's SLURM executor needs of the machine it submits from, checked before any job.

Without these commands the executor (snakemake-executor-plugin-slurm) starts every job, waits for its first
status query and fails each one on "No such file or directory: 'sacct'"; a run under the shipped profile on
a laptop would spend minutes failing every job; and on a cluster that keeps no accounting it follows each
job with sacct all the same (its default wherever sacct is installed), which fails there, and waits for
every job forever.  Where SLURM's commands are installed but no controller answers them (a machine with
slurm-client and no cluster: every command fails on its config), each job would fail the same way, and
blaming sacct would send the user to a fix that fails next.  ``problem`` names what is missing and what to
do instead.
"""

import shutil
import subprocess

from . import rerun

SUBMIT = "sbatch"
# The executor queries job states with sacct, or squeue where the cluster keeps no accounting.
STATUS = ("sacct", "squeue")


def missing_commands(which=shutil.which):
    """The SLURM commands the executor calls that ``which`` (shutil.which) does not find on PATH:
    ``sbatch``, and ``sacct`` and ``squeue`` when neither is there.  [] where it can submit."""
    missing = [] if which(SUBMIT) else [SUBMIT]
    if not any(which(command) for command in STATUS):
        missing += list(STATUS)
    return missing


def controller_problem(run=subprocess.run, targets=()):
    """Why no SLURM controller answers this machine (sinfo fails: no slurm.conf, a controller that is down or
    unreachable), or None.  Checked before accounting: without a controller every command fails alike."""
    said = _failure(["sinfo", "--noheader", "--summarize"], run)
    if said is None:
        return None
    return (
        f"NoController: SLURM's commands are installed here, but no SLURM controller answers them ("
        f"{said}): this machine is not a configured node of a cluster, or its controller is down; nothing was "
        "run. Run it from a login node of the cluster (where `sinfo` lists partitions), or on this machine "
        f"without the profile: {rerun.command(*targets, cores=2)}"
    )


def _failure(command, run):
    """None where ``command`` succeeds, else what it said first (or why it could not run)."""
    try:
        done = run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        return str(error)
    if done.returncode == 0:
        return None
    lines = (done.stderr + done.stdout).strip().splitlines()
    return lines[0] if lines else f"exit status {done.returncode}"


def accounting_problem(status_command, run=subprocess.run):
    """Why ``status_command`` (the executor's ``status_command`` setting) cannot follow jobs here, or None.

    sacct answers from the cluster's accounting database; where there is none it exits non-zero ("Slurm
    accounting storage is disabled"), and the executor reads that as a job not yet known, forever.
    squeue (or no setting) is not checked.
    """
    if status_command != "sacct":
        return None
    said = _failure(["sacct", "-X", "-n", "-S", "now"], run)
    if said is None:
        return None
    return (
        f"NoAccounting: the SLURM executor follows each job with sacct, and sacct fails on this cluster "
        f"({said}): the run would wait for its first job forever; nothing was run. Follow the jobs with squeue "
        "instead: uncomment `slurm-status-command: squeue` in profiles/slurm/config.yaml, or add "
        "--slurm-status-command squeue."
    )


def problem(executor, status_command=None, which=shutil.which, run=subprocess.run, targets=()):
    """Why a run with the executor named ``executor`` (Snakemake's ``workflow.executor_plugin.name``) and
    the executor's ``status_command`` cannot submit and follow jobs from this machine, or None (any other
    executor, or SLURM's commands all there and working): its commands missing, then no controller
    answering, then no accounting for sacct.  ``targets``: the run's, for the command that runs them
    without the profile."""
    if executor != "slurm":
        return None
    missing = missing_commands(which)
    if not missing:
        return controller_problem(run, targets) or accounting_problem(status_command, run)
    return (
        f"NoSlurm: the SLURM executor (profiles/slurm) submits each job with {SUBMIT} and follows it with "
        f"{' or '.join(STATUS)}, and this machine's PATH lacks {', '.join(missing)}; nothing was run. "
        "Run it from a login node of the cluster (where `sbatch --version` works), "
        f"or on this machine without the profile: {rerun.command(*targets, cores=2)}"
    )
