"""The pipeline runs from any directory name: spaces, quotes, parentheses, non-ASCII letters,
in the project's path (and so its virtualenv's interpreter) and in the working directory.

Kept cheap: a dry run of everything, then the data split and one gradient check for real.
"""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, TINY, tiny_workdir
from snakemake.script import PythonScript

from dd2424.util.workarounds import quote_script_interpreter

pytestmark = pytest.mark.e2e

AWKWARD = "My Courses (α) 'n' \"q\" é"


def job_counts(output):
    table = output.split("Job stats:")[1].split("total")[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", table, re.M)}


def snakemake(python, snakefile, workdir, *args):
    done = subprocess.run(
        [str(python), "-m", "snakemake", "-s", str(snakefile), *args]
        + ["--configfile", str(TINY), str(workdir / "data.yaml")],
        cwd=workdir,
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture
def awkward_checkout(tmp_path):
    """(python, Snakefile) of this checkout and its virtualenv, seen from a directory with an awkward name.

    Links, not copies: the installed dd2424 stays this checkout's (the
    Snakefile checks that), and the interpreter's path — the one Snakemake
    writes into script jobs' command lines — holds the awkward name.
    """
    if sys.prefix == sys.base_prefix:
        pytest.skip("needs the tests to run in a virtualenv (make test)")
    home = tmp_path / AWKWARD
    home.mkdir()
    (home / "dd2424").symlink_to(ROOT)
    (home / ".venv").symlink_to(sys.prefix)
    python = home / ".venv/bin" / Path(sys.executable).name
    assert (
        AWKWARD
        in subprocess.run(
            [python, "-c", "import sys; print(sys.executable)"], capture_output=True, text=True, encoding="utf-8"
        ).stdout
    )
    return python, home / "dd2424/Snakefile"


def test_the_workflow_runs_from_awkward_directory_names(awkward_checkout, tmp_path):
    python, snakefile = awkward_checkout
    plain = tiny_workdir(tmp_path / "plain")
    work = tiny_workdir(tmp_path / f"work {AWKWARD}")
    # the same jobs as from plain names
    everything = job_counts(snakemake(python, snakefile, work, "-n"))
    assert everything == job_counts(snakemake(sys.executable, ROOT / "Snakefile", plain, "-n"))
    assert everything["render_report"] == 1
    # script jobs really run: download, extract, split, a gradient check
    snakemake(python, snakefile, work, "-j2", "results/data/batch1/stats.json", "results/gradcheck/a1.csv")
    train = np.load(work / "results/data/batch1/train_X.npy")
    assert train.shape == (100, 3072)
    np.testing.assert_allclose(train.mean(axis=0), 0, atol=1e-5)  # normalised with its own mean
    checks = pd.read_csv(work / "results/gradcheck/a1.csv")
    assert set(checks.parameter) == {"W1", "b1"} and set(checks.loss) == {"softmax", "bce"}
    assert (checks.max_rel_error < 1e-6).all()
    assert (work / "logs/data/split_batch1.log").read_text(encoding="utf-8").strip()


def test_only_the_script_interpreter_is_quoted_and_only_once(monkeypatch):
    commands = []
    monkeypatch.setattr(PythonScript, "_execute_cmd", lambda self, cmd, **kwargs: commands.append(cmd))
    quote_script_interpreter()
    quote_script_interpreter()  # a second parse of the Snakefile
    PythonScript._execute_cmd(None, "{py_exec} {fname:q}")
    PythonScript._execute_cmd(None, "{py_exec:q} {fname:q}")  # once Snakemake quotes it itself
    PythonScript._execute_cmd(None, 'python -c "import sys"')
    assert commands == ["{py_exec:q} {fname:q}", "{py_exec:q} {fname:q}", 'python -c "import sys"']
