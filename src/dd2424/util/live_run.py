"""The Snakemake runs working in a directory, so that ``snakemake --unlock`` cannot break a live run's lock.

Snakemake's lock stops a second run from writing the outputs of a first; ``--unlock`` removes it whether
the first run died (a stale lock, what the command is for) or still trains, and a second run then trains
the same jobs beside it.  The main process of each run adds itself to ``RUNS_FILE`` (its pid and its start
time, so that a pid the system reuses is not taken for it); an unlock asks ``live()`` first.
"""

import json
import os
from pathlib import Path

from . import atomic

RUNS_FILE = Path(".snakemake") / "dd2424-runs.json"


def _started(pid):
    """The process's start time in clock ticks since boot (/proc/<pid>/stat, field 22), or None where it
    does not exist (or there is no /proc: every recorded run then counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    # the command name, field 2, is in parentheses and may hold spaces: count from the last ")"
    return int(stat[stat.rindex(")") + 2 :].split()[19])


def live(workdir="."):
    """[{pid, started}] of the recorded runs whose main process still runs."""
    try:
        runs = json.loads((Path(workdir) / RUNS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [r for r in runs if isinstance(r, dict) and r.get("started") and _started(r.get("pid")) == r["started"]]


def record(workdir="."):
    """Add this process to the directory's live runs (and forget those that ended)."""
    path = Path(workdir) / RUNS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    runs = [r for r in live(workdir) if r["pid"] != os.getpid()]
    runs.append({"pid": os.getpid(), "started": _started(os.getpid())})
    atomic.write_text(path, json.dumps(runs))


def unlock_problem(workdir="."):
    """Why ``--unlock`` must not run now (a run still works here), or None."""
    runs = live(workdir)
    if not runs:
        return None
    pids = ", ".join(str(r["pid"]) for r in runs)
    return (
        f"a Snakemake run is still working in this directory (process {pids}): --unlock would remove its lock and "
        f"let another run train the same jobs beside it. Wait for it to end, or stop it first (kill {pids}); "
        "a lock left by a run that died is removed by --unlock as before"
    )
