"""The cluster path: the tiny workflow through profiles/slurm on a real,
single-node SLURM started on 127.0.0.1 for the test (tests/slurm/)."""

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, run_snakemake, tiny_workdir

from dd2424.util import slurm

pytestmark = pytest.mark.slurm
REPORT = "a1-2024-grid-bce"
# The report's target: its rule is named after its id.
TARGET = "a1_2024_grid_bce"
# Rules the workflow runs on the submitting host (localrules in workflow/rules/).
LOCAL_LOGS = {"download", "search_table", "summary"}


def why_no_slurm():
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return "snakemake-executor-plugin-slurm is not installed (pip install -e '.[slurm]')"
    if os.geteuid() != 0:
        return "not root: the test starts slurmctld, slurmd and munged itself"
    if not (shutil.which("slurmctld") or shutil.which("apt-get")):
        return "SLURM is not installed and there is no apt-get to install it"
    conf = Path("/etc/slurm/slurm.conf")
    # a link an earlier, killed run of this test left points into its own state directory
    if conf.exists() and not (conf.is_symlink() and "slurm-state" in os.readlink(conf)):
        return (
            f"this machine has its own SLURM configuration ({conf}): the test starts a single-node cluster "
            "only where none is configured (run the workflow on this cluster with profiles/slurm instead)"
        )
    return None


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    reason = why_no_slurm()
    if reason:
        print(f"SLURM test skipped: {reason}")
        pytest.skip(reason)
    state = tmp_path_factory.mktemp("slurm-state")
    env = {**os.environ, "SLURM_CONF": str(state / "slurm.conf")}
    started = subprocess.run([str(ROOT / "tests/slurm/start-slurm.sh"), str(state)], capture_output=True, text=True)
    try:
        if started.returncode != 0:
            pytest.fail(f"could not start SLURM:\n{started.stdout}\n{started.stderr}")
        yield env
    finally:
        subprocess.run([str(ROOT / "tests/slurm/stop-slurm.sh"), str(state)], capture_output=True)


def job_logs(workdir):
    """{rule-ish name: first line} of every job log the workflow wrote."""
    logs = {}
    for path in (workdir / "logs").rglob("*.log"):
        if "slurm" in path.relative_to(workdir / "logs").parts:
            continue  # sbatch's own logs
        logs[str(path.relative_to(workdir / "logs"))] = path.read_text().splitlines()[0]
    return logs


def test_workflow_on_slurm_matches_a_local_run(cluster, tmp_path):
    local = tiny_workdir(tmp_path / "local")
    remote = tiny_workdir(tmp_path / "slurm")
    for work in (local, remote):
        # The grids' points in stacks of at most two: chunked sweeps; one seed (each job costs a SLURM
        # submission and a status poll, whose interval grows by 10 s while no job ends).
        (work / "chunks.yaml").write_text("search: {chunk_size: 2}\nseeds: [1]\n")
    run_snakemake(local, "-j2", TARGET, extra_configs=[local / "chunks.yaml"])

    done = run_snakemake(
        remote,
        TARGET,
        "--workflow-profile",
        str(ROOT / "profiles/slurm"),
        # this test cluster has neither accounts nor accounting (sacct)
        "--slurm-no-account",
        "--slurm-status-command",
        "squeue",
        "--slurm-init-seconds-before-status-checks",
        "2",
        env=cluster,
        extra_configs=[remote / "chunks.yaml"],
    )

    logs = job_logs(remote)
    slurm_ids = {}
    for name, first in logs.items():
        stem = Path(name).stem.split("_")[0] if Path(name).parent == Path("data") else Path(name).stem
        if stem in LOCAL_LOGS:
            assert first.endswith(", local"), (name, first)
            continue
        match = re.search(r"SLURM job (\d+)$", first)
        assert match, f"{name} did not run as a SLURM job: {first!r}"
        slurm_ids[name] = match[1]
    # one SLURM job per non-local job, each with its own id: every headline run
    # (or stack of runs) and seed, and every chunk of the grid search
    trained = [n for n in slurm_ids if re.search(r"seed\d+\.log$", n)]
    chunks = [n for n in slurm_ids if re.search(r"seed\d+_chunk\d+\.log$", n)]
    summary = pd.read_csv(remote / f"results/{REPORT}/summary.csv")
    # grid: 8 points in 2 stacks (one per n_batch) of 4, chunks of 2; grid2: 2 points, one per n_batch
    assert len(chunks) == 4 + 2 and (summary[summary.experiment == "grid"].stack_size == 2).all()
    # a headline job trains one seed of a stack of runs (the four required (eta, lambda) runs are one)
    headline = summary[~summary.experiment.isin(["grid", "grid2"])]
    assert (headline[headline.experiment == "required"].stack_size == 4).all()
    assert len(trained) == round((1 / headline.stack_size).sum())
    assert len(set(slurm_ids.values())) == len(slurm_ids)
    assert "gradcheck/a1.log" in slurm_ids and "data/extract.log" in slurm_ids
    # the executor submitted them: its own record of the SLURM job ids
    assert len(re.findall(r"SLURM jobid (\d+)", done.stdout + done.stderr)) >= len(slurm_ids)

    expected = pd.read_csv(local / f"results/{REPORT}/summary.csv")
    keys = ["experiment", "run", "seed"]
    got = summary.sort_values(keys).reset_index(drop=True)
    expected = expected.sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(got[keys], expected[keys])
    for column in ("train_accuracy", "val_accuracy", "test_accuracy"):
        np.testing.assert_array_equal(got[column], expected[column])
    np.testing.assert_allclose(got.test_cost, expected.test_cost, rtol=1e-6)


def test_the_slurm_check_names_what_is_missing_and_passes_other_executors():
    def which_of(*present):
        return lambda command: f"/usr/bin/{command}" if command in present else None

    assert slurm.missing_commands(which_of("sbatch", "sacct", "squeue")) == []
    # a cluster without accounting: squeue alone follows the jobs
    assert slurm.missing_commands(which_of("sbatch", "squeue")) == []
    assert slurm.missing_commands(which_of("sacct")) == ["sbatch"]
    assert slurm.missing_commands(which_of()) == ["sbatch", "sacct", "squeue"]
    answers = lambda command, **options: subprocess.CompletedProcess(command, 0, "", "")  # noqa: E731
    assert slurm.problem("slurm", "squeue", which_of("sbatch", "squeue"), answers) is None
    assert slurm.problem("local", None, which_of()) is None and slurm.problem(None, None, which_of()) is None
    message = slurm.problem("slurm", "sacct", which_of("squeue"))
    assert message.startswith("NoSlurm: ") and "lacks sbatch;" in message and "without the profile: " in message


def test_sacct_is_checked_only_as_the_status_command_and_its_failure_names_the_fix():
    def sacct(returncode, stderr=""):
        calls = []

        def run(command, **options):
            calls.append(command)
            return subprocess.CompletedProcess(command, returncode, "", stderr)

        return run, calls

    run, calls = sacct(0)
    assert slurm.accounting_problem("sacct", run) is None and calls[0][0] == "sacct"
    run, calls = sacct(1, "Slurm accounting storage is disabled\n")
    assert slurm.accounting_problem("squeue", run) is None and not calls
    message = slurm.accounting_problem("sacct", run)
    assert message.startswith("NoAccounting: ") and "(Slurm accounting storage is disabled)" in message
    assert "slurm-status-command: squeue" in message


def test_without_a_controller_answering_the_check_says_so_before_blaming_sacct():
    """slurm-client installed on a machine of no cluster: sinfo, squeue and sacct all fail on the config."""
    calls = []

    def run(command, **options):
        calls.append(command[0])
        return subprocess.CompletedProcess(command, 1, "", "sinfo: error: resolve_ctls_from_dns_srv: Unknown host\n")

    every = lambda command: f"/usr/bin/{command}"  # noqa: E731
    message = slurm.problem("slurm", "sacct", every, run)
    assert message.startswith("NoController: ") and "no SLURM controller answers" in message, message
    assert "(sinfo: error: resolve_ctls_from_dns_srv: Unknown host)" in message and "-j2" in message
    assert calls == ["sinfo"]  # sacct not blamed
    # a controller that answers, and accounting: no problem, both asked
    calls.clear()
    ok = lambda command, **options: calls.append(command[0]) or subprocess.CompletedProcess(command, 0, "", "")  # noqa: E731
    assert slurm.problem("slurm", "sacct", every, ok) is None and calls == ["sinfo", "sacct"]


def test_the_profile_on_a_cluster_without_accounting_stops_with_the_fix(cluster, tmp_path):
    """The test cluster keeps no accounting: sacct, the executor's default where it is installed, fails, and
    the run stops before any job saying to follow the jobs with squeue."""
    work = tiny_workdir(tmp_path / "work")
    done = run_snakemake(
        work, "--workflow-profile", str(ROOT / "profiles/slurm"), "--slurm-no-account", check=False, env=cluster
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "NoAccounting: the SLURM executor follows each job with sacct" in done.stderr, done.stderr
    assert "--slurm-status-command squeue" in done.stderr
    assert not (work / "resources").exists() and not (work / "logs").exists()


# What Debian's slurm-client puts on PATH (the executor plugin looks for sinfo when it is imported).
SLURM_COMMANDS = {"sacct", "sacctmgr", "salloc", "sbatch", "scancel", "scontrol", "sinfo", "squeue", "srun"}


def test_the_slurm_profile_without_slurm_stops_before_any_job_with_the_fix(tmp_path):
    """profiles/slurm where SLURM's commands are not on PATH (a laptop): one message naming what is missing
    and what to run instead, exit status 1, and no job started (the plugin alone would start each job and
    fail it on its first status query)."""
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.skip("snakemake-executor-plugin-slurm is not installed (pip install -e '.[slurm]')")
    # PATH as it is, less SLURM's commands: a directory of links to everything else on it
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        for program in Path(directory).glob("*") if Path(directory).is_dir() else ():
            link = bin_dir / program.name
            if program.name not in SLURM_COMMANDS and not link.exists() and not link.is_symlink():
                link.symlink_to(program)
    work = tiny_workdir(tmp_path / "work")
    done = run_snakemake(
        work,
        "--workflow-profile",
        str(ROOT / "profiles/slurm"),
        "--slurm-no-account",
        check=False,
        env={**os.environ, "PATH": str(bin_dir)},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "NoSlurm: the SLURM executor (profiles/slurm) submits each job with sbatch" in done.stderr
    assert "PATH lacks sbatch, sacct, squeue; nothing was run" in done.stderr
    # the run's own options, without the profile
    assert re.search(f"without the profile: cd {work} && .* -j2 -s {ROOT / 'Snakefile'} --configfile ", done.stderr)
    assert "Traceback" not in done.stderr
    assert not (work / "resources").exists() and not (work / "logs").exists()
