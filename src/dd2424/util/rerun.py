"""The command line that repeats the current run, for every message that tells a user what to run.

A message saying ``snakemake -j1 --force <file>`` is wrong for a run started with ``--configfile`` or
``--directory``: pasted, it rebuilds another directory's file with other settings.  And ``snakemake`` is on
PATH only where the environment is activated.  The Snakefile's main process records the run's own options in
the environment (``record``), which its jobs inherit (locally, and through sbatch, which exports it), and
``command`` writes them out again, as a line to paste anywhere (``cd <dir> && snakemake …``).
"""

import json
import os
import shlex
import shutil
import sys
from pathlib import Path

ENV = "DD2424_RUN"


def record(basedir, workdir, configfiles, config_args):
    """Keep the run's checkout, working directory, ``--configfile`` paths and ``--config`` texts for
    ``command``, in this process's environment (and so its children's)."""
    os.environ[ENV] = json.dumps(run_of(basedir, workdir, configfiles, config_args))


def run_of(basedir, workdir, configfiles=(), config_args=()):
    """A run's options as ``command`` reads them: every path absolute."""
    return {
        "basedir": str(Path(basedir).resolve()),
        "workdir": str(Path(workdir).resolve()),
        "configfiles": [str(Path(f).resolve()) for f in configfiles],
        "config": [str(c) for c in config_args],
    }


def program():
    """``snakemake`` where PATH finds this environment's, else this Python's ``-m snakemake``."""
    found = shutil.which("snakemake")
    if found and Path(found).parent == Path(sys.executable).parent:
        return "snakemake"
    return f"{shlex.quote(sys.executable)} -m snakemake"


def command(*words, cores=1, run=None):
    """``cd <dir> && snakemake -j<cores> <words>`` with the options of the recorded run (``run``: another,
    from ``run_of``): ``-s <checkout>/Snakefile`` where it worked outside its checkout, its config files and
    ``--config`` last (they take several values, and would swallow a target after them).  Without a
    recorded run, the plain command."""
    run = run if run is not None else json.loads(os.environ.get(ENV) or "{}")
    parts = [f"-j{cores}", *map(str, words)]
    if run.get("workdir") and run.get("basedir") and run["workdir"] != run["basedir"]:
        parts += ["-s", str(Path(run["basedir"], "Snakefile"))]
    if run.get("configfiles"):
        parts += ["--configfile", *run["configfiles"]]
    if run.get("config"):
        parts += ["--config", *run["config"]]
    return in_workdir(f"{program()} {shlex.join(parts)}", run)


def in_workdir(line, run=None):
    """``line`` (a shell command on paths relative to the run's working directory) prefixed with ``cd <dir>
    &&``, so that it can be pasted anywhere; as it is where no run is recorded."""
    run = run if run is not None else json.loads(os.environ.get(ENV) or "{}")
    return f"cd {shlex.quote(run['workdir'])} && {line}" if run.get("workdir") else line
