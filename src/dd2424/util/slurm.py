"""What Snakemake's SLURM executor needs of the machine it submits from, checked before any job.

Without these commands the executor (snakemake-executor-plugin-slurm) starts every job, waits for its first
status query and fails each one on "No such file or directory: 'sacct'"; a run under the shipped profile on
a laptop would spend minutes failing every job.  ``problem`` names what is missing and what to do instead.
"""

import shutil

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


def problem(executor, which=shutil.which):
    """Why a run with the executor named ``executor`` (Snakemake's ``workflow.executor_plugin.name``)
    cannot submit from this machine, or None (any other executor, or SLURM's commands all there)."""
    if executor != "slurm":
        return None
    missing = missing_commands(which)
    if not missing:
        return None
    return (
        f"NoSlurm: the SLURM executor (profiles/slurm) submits each job with {SUBMIT} and follows it with "
        f"{' or '.join(STATUS)}, and this machine's PATH lacks {', '.join(missing)}; nothing was run. "
        "Run it from a login node of the cluster (where `sbatch --version` works), "
        "or on this machine without the profile: make report (or snakemake -j2)."
    )
