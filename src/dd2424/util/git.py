"""The workflow's commit, for the report's provenance table."""

import subprocess


def commit(directory):
    """'<12 hex>' of HEAD, with ' (with uncommitted changes)' where tracked files differ; 'not a git checkout'."""

    def git(*args):
        return subprocess.run(["git", "-C", directory, *args], capture_output=True, text=True, encoding="utf-8")

    head = git("rev-parse", "--short=12", "HEAD")
    if head.returncode != 0:
        return "not a git checkout"
    dirty = git("status", "--porcelain", "--untracked-files=no").stdout.strip()
    return head.stdout.strip() + (" (with uncommitted changes)" if dirty else "")
