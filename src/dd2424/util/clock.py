"""Files whose modification time lies in the future: found before any job runs.

Snakemake compares modification times: a file stamped in the future (a clock
skew, a copy from a machine whose clock runs ahead, an NFS server's clock)
looks newer than everything made from it, so every job downstream is
scheduled again, and Snakemake's own clock-skew check then deletes those
jobs' outputs — good results — and fails the same way on every rerun.
"""

import os
import shlex
import time
from pathlib import Path

from . import rerun

# Stamps this far ahead of the clock are a skew; less is filesystem rounding or a job finishing as we look.
SLACK_SECONDS = 5.0


def future_files(roots, now=None, slack=SLACK_SECONDS):
    """``[(path, seconds ahead)]`` of the files under ``roots`` (files or directories; missing ones are
    skipped) stamped more than ``slack`` seconds after ``now``, latest first.  Symbolic links are not followed."""
    now = time.time() if now is None else now
    found = []
    for root in map(Path, roots):
        if root.is_file():
            candidates = [root]
        elif root.is_dir():
            candidates = (Path(d, f) for d, _, files in os.walk(root) for f in files)
        else:
            continue
        for path in candidates:
            try:
                ahead = path.lstat().st_mtime - now
            except OSError:
                continue
            if ahead > slack:
                found.append((path, ahead))
    return sorted(found, key=lambda item: -item[1])


def future_problem(roots, now=None):
    """None, or a refusal naming the files stamped in the future and the command that fixes them."""
    found = future_files(roots, now)
    if not found:
        return None
    shown = "\n".join(f"  {path} ({ahead:,.0f} s ahead)" for path, ahead in found[:5])
    more = f"\n  ... and {len(found) - 5} more" if len(found) > 5 else ""
    paths = " ".join(shlex.quote(str(p)) for p in dict.fromkeys(str(path) for path, _ in found[:5]))
    return (
        f"{len(found)} file(s) have a modification time in the future (a clock skew, or a copy from a machine "
        f"whose clock runs ahead):\n{shown}{more}\n"
        "Snakemake would take them as newer than everything made from them, rerun those jobs and delete their "
        "outputs. Nothing has run. Stamp them with the current time (the jobs that read them then run once more, "
        "as after an edit of them: for the archive or resources/, every job), then run again:\n"
        "  "
        + rerun.in_workdir(
            f"find {' '.join(shlex.quote(str(r)) for r in _roots_of(found, roots))} -newermt now -exec touch -h {{}} +"
        )
        + ("" if len(found) > 5 else f"\n  (or: {rerun.in_workdir(f'touch -h {paths}')})")
    )


def _roots_of(found, roots):
    """The given roots that hold a file of ``found``."""
    hits = []
    for root in map(Path, roots):
        if any(path == root or root in path.parents for path, _ in found):
            hits.append(root)
    return hits
