"""Faults a user meets, each with the message they see and the way back.

Config and data faults are checked on the functions (fast) and once each
through Snakemake; run-time faults (a killed job, a killed Snakemake, two
runs at once, damaged results, a moved archive) on the tiny workflow.
"""

import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml
from conftest import ROOT, TINY, run_snakemake, shipped_config, tiny_workdir

from dd2424.data import cifar as data
from dd2424.data.synthetic import write_archive
from dd2424.pipeline import checks, paths

pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def config():
    return shipped_config()


A1 = "a1-2024-grid-bce"
A1_RULE = "a1_2024_grid_bce"  # its target
A2 = "a2-2021-cyclic"


def with_experiment(config, report, name, exp):
    cfg = json.loads(json.dumps(config))
    cfg["reports"][report]["experiments"][name] = exp
    return cfg


# ------------------------------------------------------------------ config
@pytest.mark.parametrize(
    "report,name,exp,message",
    [
        # an experiment the file lacks: the file, no line
        (A1, "x", {"base": {"split": "nosuch"}, "runs": {"r": {}}}, rf"{A1}\.yaml: experiments\.x.*'nosuch'"),
        (A2, "x", {"refine": {"from": "nosuch", "count": 2}}, rf"{A2}\.yaml: experiments\.x\.refine\.from.*'nosuch'"),
        (A2, "x", {"refine": {"from": "cyclic", "count": 2}}, r"refine\.from names 'cyclic', a runs experiment"),
        (
            A1,
            "x",
            {"best_of": {"experiment": "nosuch", "keys": ["eta"]}, "runs": {"r": {}}},
            r"best_of\.experiment.*'nosuch'",
        ),
        (
            A1,
            "x",
            {"best_of": {"experiment": "required", "keys": ["eta"]}, "runs": {"r": {}}},
            r"'required'.*not a search",
        ),
        (
            A1,
            "x",
            {"best_of": {"experiment": "grid", "keys": ["momentum"]}, "runs": {"r": {}}},
            r"best_of\.keys.*'momentum'",
        ),
        (A2, "x", {"random": {"sample": {"n_batch": {"low": 1, "high": 2}}, "count": 2}}, r"samples \['n_batch'\]"),
    ],
)
def test_config_cross_references_are_refused_with_the_file_and_key_path(config, report, name, exp, message):
    with pytest.raises(checks.ConfigError, match=message):
        checks.check_config(with_experiment(config, report, name, exp))


def test_a_gradient_check_on_a_split_that_does_not_exist_is_refused(config):
    cfg = json.loads(json.dumps(config))
    cfg["gradcheck"]["a1"]["split"] = "nosuch"
    with pytest.raises(checks.ConfigError, match=r"gradcheck\.a1\.split: 'nosuch' is not one of splits"):
        checks.check_config(cfg)


def test_the_shipped_config_passes_the_cross_reference_check(config):
    checks.check_config(config)


def test_snakemake_shows_the_cross_reference_error_before_any_job(tmp_path):
    work = tiny_workdir(tmp_path / "w")
    (work / "bad.yaml").write_text(
        f"overrides: {{{A1}: {{experiments: {{grid2_best: {{best_of: {{experiment: gird}}}}}}}}}}\n"
    )
    done = run_snakemake(work, "-n", check=False, extra_configs=[work / "bad.yaml"])
    assert done.returncode != 0
    assert re.search(f"{A1}.yaml:[0-9]+: experiments.grid2_best.best_of.experiment names 'gird'", done.stderr)
    assert not (work / "results").exists()


def test_snakemake_shows_a_malformed_report_file_before_any_job(tmp_path):
    work = tiny_workdir(tmp_path / "w")
    (work / "mine.yaml").write_text("id: mine\nassignment: a1\ntitle: t\nexperiments: {e: {runs: {r: {eta: -1}}}}\n")
    (work / "add.yaml").write_text("report_files: {mine: mine.yaml}\n")
    done = run_snakemake(work, "-n", check=False, extra_configs=[work / "add.yaml"])
    assert done.returncode != 0
    assert "mine.yaml:4: experiments.e.runs.r.eta: -1 is less than" in done.stdout + done.stderr
    assert not (work / "results").exists()


def test_a_split_larger_than_its_data_on_a_first_run_is_named_before_any_split_or_training_job(tmp_path):
    """Sizes are checked at parse time once the archive is unpacked; on a first run it is not yet, and the
    unpacking job checks them: the config key named, no split or training started, the same on a rerun."""
    work = tiny_workdir(tmp_path / "w")
    (work / "big.yaml").write_text("splits:\n  all49k:\n    val_size: 1000\n")
    problem = "splits.all49k.val_size is 1000, but its training pool has 500 images"
    for _ in range(2):
        done = run_snakemake(work, "-j2", "a3", check=False, extra_configs=[work / "big.yaml"])
        assert done.returncode != 0
        assert (
            f"FAILED: ConfigError: the config (config.yaml or a --configfile): {problem}"
            in (work / "logs/data/extract.log").read_text()
        )
        # nothing but the jobs' markers (stamped at parse time) under results/
        assert [p.name for p in (work / "results").iterdir()] == ["markers"]
        assert not (work / "resources/cifar-10/meta.json").exists()
    run_snakemake(work, "-j1", "resources/cifar-10/meta.json")  # unpacked without the mistake
    done = run_snakemake(work, "-n", check=False, extra_configs=[work / "big.yaml"])
    assert done.returncode != 0 and problem in done.stdout + done.stderr  # now at parse time


# -------------------------------------------------------------------- data
def bad_archive(tmp_path, edit):
    path = tmp_path / "bad.tar.gz"
    write_archive(path, per_batch=20, edit=edit)
    return path


@pytest.mark.parametrize(
    "edit,message",
    [
        (lambda m: m.pop("data_batch_4"), "has no data_batch_4"),
        (
            lambda m: m["data_batch_2"].update({b"data": m["data_batch_2"][b"data"][:, :100]}),
            r"data_batch_2 has data of shape \(20, 100\)",
        ),
        (
            lambda m: m["data_batch_1"].update({b"data": m["data_batch_1"][b"data"].astype(np.float64) / 255}),
            "float64 pixels",
        ),
        (lambda m: m["test_batch"].update({b"labels": [11] * 20}), "test_batch has labels outside the classes 0-9"),
    ],
)
def test_a_damaged_archive_is_refused_naming_the_batch_and_the_problem(tmp_path, edit, message):
    with pytest.raises(ValueError, match=message):
        data.read_archive(bad_archive(tmp_path, edit))
    with pytest.raises(ValueError):
        data.extract(bad_archive(tmp_path, edit), tmp_path / "raw")
    assert not list((tmp_path / "raw").glob("*.npy")) if (tmp_path / "raw").exists() else True


def test_a_truncated_archive_fails_its_checksum_and_leaves_nothing(tmp_path):
    good = tmp_path / "good.tar.gz"
    md5 = write_archive(good, per_batch=20)
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(good.read_bytes()[:1000])
    with pytest.raises(data.ChecksumError, match="truncated"):
        data.fetch(cut, md5, tmp_path / "out/archive.tar.gz")
    assert not list((tmp_path / "out").iterdir())


def test_a_missing_archive_path_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.tar.gz"):
        data.fetch(tmp_path / "nowhere.tar.gz", None, tmp_path / "out.tar.gz")


def test_n_train_above_the_split_and_a_batch_above_the_data_are_named(tmp_path):
    from test_trainer import SPEC, blobs

    from dd2424.nn.trainer import train

    np.save(tmp_path / "train_X.npy", np.zeros((30, 3072), np.float32))
    np.save(tmp_path / "train_y.npy", np.zeros(30, np.int64))
    with pytest.raises(ValueError, match="n_train 50 is more than the 30 train images"):
        data.load_split(tmp_path, "train", 50)
    rng = np.random.default_rng(0)
    train_set = blobs(rng, rng.normal(size=(10, 3072)), n=30)
    from dd2424.pipeline.training import build_network

    with pytest.raises(ValueError, match="n_batch 64 .* larger than its training set \\(30 images\\)"):
        train(build_network(SPEC, 3072, rng), train_set, train_set, [{**SPEC, "n_batch": 64}], rng)


# ------------------------------------------------------------- run time
MOMENTUM = "a2-2018-momentum-decay"
ONE_JOB = f"results/{MOMENTUM}/sanity/overfit_100/seed1/metrics.json"
ONE_LOG = f"logs/{MOMENTUM}/sanity/overfit_100/seed1.log"
# Long enough (some 20 s) to be caught mid-run: a wide hidden layer, many epochs.
# Long enough (seconds after its first epoch) to be caught mid-training, short enough to be trained twice.
SLOW = f"overrides: {{{MOMENTUM}: {{experiments: {{sanity: {{base: {{epochs: 250, hidden: [2000]}}}}}}}}}}\n"


def test_a_killed_training_job_reruns_and_gives_the_undisturbed_result(tmp_path):
    calm = tiny_workdir(tmp_path / "calm")
    hit = tiny_workdir(tmp_path / "hit")
    for work in (calm, hit):
        (work / "slow.yaml").write_text(SLOW)
    run_snakemake(calm, "-j1", ONE_JOB, extra_configs=[calm / "slow.yaml"])

    proc = snakemake_in_background(hit, ONE_JOB, extra_configs=[hit / "slow.yaml"])
    log = hit / ONE_LOG
    wait_for(lambda: log.exists() and "epoch" in log.read_text())
    job = find_process("train.py", hit)
    os.kill(job, signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode != 0
    assert not (hit / ONE_JOB).exists()

    again = run_snakemake(hit, "-j1", ONE_JOB, extra_configs=[hit / "slow.yaml"])
    assert again.returncode == 0
    mine, theirs = (json.loads((w / ONE_JOB).read_text()) for w in (hit, calm))
    for key in ("train_loss", "train_accuracy", "val_accuracy", "test_accuracy", "test_loss", "updates"):
        assert mine[key] == theirs[key], key


def test_a_killed_snakemake_recovers_with_the_command_it_names(tmp_path):
    work = tiny_workdir(tmp_path / "w")
    proc = start_slow_job(work)
    os.killpg(proc.pid, signal.SIGKILL)  # Snakemake and its job, as a closed terminal would
    proc.wait(timeout=60)

    again = run_snakemake(work, "-j1", ONE_JOB, check=False, extra_configs=[work / "slow.yaml"])
    if again.returncode != 0:  # the stale lock: the message names the one command
        assert "--unlock" in again.stdout + again.stderr
        run_snakemake(work, "--unlock", ONE_JOB, extra_configs=[work / "slow.yaml"])
        again = run_snakemake(work, "-j1", ONE_JOB, extra_configs=[work / "slow.yaml"])
    assert json.loads((work / ONE_JOB).read_text())["updates"] > 0


def test_a_second_snakemake_in_the_same_directory_refuses(tmp_path):
    work = tiny_workdir(tmp_path / "w")
    first = start_slow_job(work)
    second = run_snakemake(work, "-j1", ONE_JOB, check=False, extra_configs=[work / "slow.yaml"])
    assert second.returncode != 0
    assert "cannot be locked" in second.stdout + second.stderr
    first.wait(timeout=600)
    assert first.returncode == 0
    assert json.loads((work / ONE_JOB).read_text())["updates"] > 0


def test_unlock_is_refused_while_a_run_still_works_and_accepted_once_it_ended(tmp_path):
    """--unlock during a live run would let a second run train the same job beside it: refused, naming the
    process; a dry run records no run; once the run ended, --unlock works as before."""
    work = tiny_workdir(tmp_path / "w")
    first = start_slow_job(work)
    try:
        assert run_snakemake(work, "-n", ONE_JOB, check=False, extra_configs=[work / "slow.yaml"]).returncode == 0
        refused = run_snakemake(work, "--unlock", ONE_JOB, check=False, extra_configs=[work / "slow.yaml"])
        assert refused.returncode != 0
        assert "LiveRun: a Snakemake run is still working in this directory (process" in refused.stderr
    finally:
        first.wait(timeout=600)
    assert first.returncode == 0 and json.loads((work / ONE_JOB).read_text())["updates"] > 0
    assert run_snakemake(work, "--unlock", ONE_JOB, extra_configs=[work / "slow.yaml"]).returncode == 0


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A tiny Assignment 1, run to the end once."""
    work = tiny_workdir(tmp_path_factory.mktemp("finished"))
    run_snakemake(work, "-j2", "a1")
    return work


def test_a_damaged_metrics_file_is_named_with_the_command_that_retrains_it(finished):
    target = f"results/{A1}/required/lam0_eta0.1/seed1/metrics.json"
    (finished / target).write_text('{"run": "lam0_et')
    (finished / f"results/{A1}/summary.csv").unlink()
    done = run_snakemake(finished, "-j1", f"results/{A1}/summary.csv", check=False)
    assert done.returncode != 0
    log = (finished / f"logs/{A1}/summary.log").read_text()
    assert f"{target} is damaged: not valid JSON" in log
    # the run's own command: its Snakefile, directory and config files, pasted anywhere
    command = quoted_command(log.split("is damaged")[1])
    assert (
        command.startswith(f"cd {finished} && ")
        and f" --force {target} -s {ROOT / 'Snakefile'} --configfile {TINY} " in command
    )
    pasted(command)
    run_snakemake(finished, "-j1", f"results/{A1}/summary.csv")
    assert json.loads((finished / target).read_text())["run"] == "lam0_eta0.1"


def test_a_history_cut_mid_row_is_named(finished):
    target = f"results/{A1}/bce/bce/seed1/history.csv"
    text = (finished / target).read_text()
    (finished / target).write_text(text[: text.rindex("\n", 0, len(text) - 1) + 12])
    done = run_snakemake(finished, "-j1", "--force", f"results/{A1}/figures/bce_curves.png", check=False)
    assert done.returncode != 0
    assert f"{target} is damaged: a row is incomplete" in (finished / f"logs/{A1}/figures/bce_curves.log").read_text()
    run_snakemake(finished, "-j1", "--force", target)  # the command the message gives
    run_snakemake(finished, "-j1", f"results/{A1}/figures/bce_curves.png")


@pytest.mark.parametrize(
    "damage, problem",
    [
        (lambda text: "".join(text.splitlines(keepends=True)[:-1]), r"1 row\(s\) missing"),  # a whole, shorter table
        # cut at a comma of its first row: one row, whose empty fields look like a run without validation
        (lambda text: text[: text.index("\n") + 1] + ",".join(text.splitlines()[1].split(",")[:8]), "cut short: its"),
    ],
)
def test_a_history_that_is_a_valid_table_but_not_its_runs_is_refused_by_its_reader(finished, damage, problem):
    """A row removed, or a cut at a field boundary: a table pandas reads, refused against the run's metrics.json
    and its schedule by every job that reads it, named with the command that trains it again."""
    target = f"results/{A1}/bce/bce/seed1/history.csv"
    (finished / target).write_text(damage((finished / target).read_text()))
    done = run_snakemake(finished, "-j1", "--force", f"results/{A1}/figures/bce_curves.png", check=False)
    assert done.returncode != 0
    log = (finished / f"logs/{A1}/figures/bce_curves.log").read_text()
    assert re.search(f"{re.escape(target)} is damaged: {problem}", log), log[-2000:]
    pasted(quoted_command(log.split("is damaged")[-1]))
    run_snakemake(finished, "-j1", f"results/{A1}/figures/bce_curves.png")


def test_a_damaged_model_file_is_named(finished):
    target = f"results/{A1}/bce/softmax/seed1/model.npz"
    blob = (finished / target).read_bytes()
    (finished / target).write_bytes(blob[: len(blob) // 3])
    done = run_snakemake(finished, "-j1", "--force", f"results/{A1}/figures/bce_weights.png", check=False)
    assert done.returncode != 0
    log = (finished / f"logs/{A1}/figures/bce_weights.log").read_text()
    assert f"{target} is damaged: not a readable model file" in log
    run_snakemake(finished, "-j1", "--force", target)
    run_snakemake(finished, "-j1", f"results/{A1}/figures/bce_weights.png")


def test_a_missing_model_file_is_rebuilt_by_the_default_target(finished):
    target = finished / f"results/{A1}/bce/softmax/seed2/model.npz"
    target.unlink()
    out = run_snakemake(finished, "-n", "a1").stdout
    assert "train_a1_2024_grid_bce_bce_softmax" in out
    run_snakemake(finished, "-j1", "a1")
    assert target.exists()


def test_the_same_archive_at_another_url_retrains_nothing(finished):
    moved = finished / "elsewhere" / "copy.tar.gz"
    moved.parent.mkdir(exist_ok=True)
    shutil.copy(finished / "cifar-10-python.tar.gz", moved)
    md5 = yaml.safe_load((finished / "data.yaml").read_text())["data"]["md5"]
    (finished / "moved.yaml").write_text(f"data: {{url: '{moved.as_uri()}', md5: {md5}}}\n")
    run_snakemake(finished, "-j1", "a1")  # heal what earlier tests damaged
    out = run_snakemake(finished, "-n", "a1", extra_configs=[finished / "moved.yaml"]).stdout
    assert "Nothing to be done" in out, out[-3000:]


def test_a_file_stamped_in_the_future_is_named_before_any_job_and_nothing_is_deleted(finished):
    run_snakemake(finished, "-j1", "a1")  # heal what earlier tests damaged
    archive = finished / "resources/cifar-10-python.tar.gz"
    batches = sorted((finished / "results/data").rglob("*.npy"))
    stamp = archive.stat().st_mtime
    future = time.time() + 3600
    os.utime(archive, (future, future))
    done = run_snakemake(finished, "-j1", "a1", check=False)
    assert done.returncode != 0
    assert "ClockSkew: 1 file(s) have a modification time in the future" in done.stderr
    assert (
        re.search(r"resources/cifar-10-python.tar.gz \(3,[56][0-9][0-9] s ahead\)", done.stderr)
        and "Nothing has run" in done.stderr
    )
    fix = f"cd {finished} && find resources -newermt now -exec touch -h {{}} +"
    assert fix in done.stderr
    status, out = verify_in(finished)  # verify names it too
    assert status == 1 and "FUTURE: 1 file(s) have a modification time in the future" in out, out
    assert all(b.exists() for b in batches) and archive.exists()
    # the command it gives, pasted anywhere; then the jobs after the file run once more, as after any edit of it
    pasted(fix)
    assert "extract" in run_snakemake(finished, "-n", "a1").stdout
    os.utime(archive, (stamp, stamp))  # as it was: the later tests find everything up to date


BIG = f"overrides: {{{MOMENTUM}: {{experiments: {{sanity: {{base: {{n_train: 100000}}}}}}}}}}\n"


def test_sizes_beyond_the_data_are_refused_at_parse_time_once_it_is_unpacked(finished):
    (finished / "big.yaml").write_text(BIG)
    done = run_snakemake(finished, "-n", check=False, extra_configs=[finished / "big.yaml"])
    assert done.returncode != 0
    # blamed on the config file whose override sets it
    assert (
        f"big.yaml:1: overrides.{MOMENTUM}.experiments.sanity.base (run 'overfit_100'): n_train 100000 is more "
        "than the 100 training images" in (done.stdout + done.stderr)
    ), done.stderr
    (finished / "batch.yaml").write_text(f"overrides: {{{A1}: {{experiments: {{bce: {{base: {{n_batch: 500}}}}}}}}}}\n")
    done = run_snakemake(finished, "-n", check=False, extra_configs=[finished / "batch.yaml"])
    assert "n_batch 500 is larger than its 100 training images" in done.stdout + done.stderr


def test_a_failing_job_writes_its_traceback_into_its_own_log(tmp_path):
    """A training job failing at run time (its split cut short after it was made; sizes are refused before
    any training): the traceback in the job's own log, and no output left."""
    work = tiny_workdir(tmp_path / "w")
    run_snakemake(work, "-j1", "results/data/batch1/stats.json")
    cut(work / "results/data/batch1/train_X.npy", 0.5)
    done = run_snakemake(work, "-j1", ONE_JOB, check=False)
    assert done.returncode != 0
    log = (work / ONE_LOG).read_text()
    assert "Traceback" in log and "FAILED: CorruptResult: results/data/batch1/train_X.npy is damaged" in log
    assert not (work / ONE_JOB).exists()


# ----------------------------------------------------------------- helpers
def snakemake_in_background(workdir, *args, extra_configs=()):
    configs = [str(TINY), str(workdir / "data.yaml"), *map(str, extra_configs)]
    return subprocess.Popen(
        [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-j1", *args, "--configfile", *configs],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        # Ctrl-C as a terminal delivers it: a suite started in the background (`cmd &` in a script)
        # would otherwise pass on an ignored SIGINT, which no Ctrl-C test can interrupt.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def start_slow_job(work):
    """Snakemake training ONE_JOB slowly in the background, once the job has begun its epochs."""
    (work / "slow.yaml").write_text(SLOW)
    proc = snakemake_in_background(work, ONE_JOB, extra_configs=[work / "slow.yaml"])
    log = work / ONE_LOG
    wait_for(lambda: log.exists() and "epoch" in log.read_text())
    return proc


def wait_for(condition, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


def find_process(script, workdir):
    """The pid of the job running ``script`` from Snakemake's scripts folder in ``workdir``."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
        except OSError:
            continue
        if str(workdir) in cmd and script in cmd:
            return int(pid)
    raise AssertionError(f"no running {script} in {workdir}")


def find_process_in(name, cwd):
    """The pid of a running ``name`` whose working directory is ``cwd`` (not another test's)."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
            here = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if name in cmd and here == str(cwd):
            return int(pid)
    raise AssertionError(f"no running {name} in {cwd}")


def a1_only(work):
    """A config file leaving out of the default target the reports ``finished`` did not train: a PDF of
    Assignment 1's alone."""
    path = work / "a1_only.yaml"
    others = ", ".join(f"{a}: {{in_all: false}}" for a in ("a2", "a3", "bonus"))
    path.write_text(f"assignments: {{{others}}}\n", encoding="utf-8")
    return path


def test_latex_missing_at_the_report_step_names_it_and_keeps_every_result(finished, tmp_path):
    """Only the PDF is missing; once TeX is there, only the PDF is built."""
    bin_dir = tmp_path / "bin"  # a PATH with what the workflow needs but TeX
    bin_dir.mkdir()
    for tool in ("bash", "sh", "git", "env", "which"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    no_tex = {**os.environ, "PATH": f"{bin_dir}:{os.path.dirname(sys.executable)}"}
    # --keep-going: the jobs no PDF needs finish too, whatever order the scheduler picked (a job it had not
    # started when the PDF failed would otherwise be left for the next run)
    done = run_snakemake(finished, "-j2", "--keep-going", check=False, env=no_tex, extra_configs=[a1_only(finished)])
    assert done.returncode != 0
    log = (finished / "logs/report/latexmk.log").read_text()
    assert "latexmk/pdflatex not found" in log and "apt-get install latexmk" in log
    assert (finished / "results/summary.csv").exists() and (finished / "results/report/report.tex").exists()
    assert not (finished / "results/report.pdf").exists()
    counts = run_snakemake(finished, "-n", extra_configs=[a1_only(finished)]).stdout
    assert "report" in counts and "train_" not in counts and "render_report" not in counts, counts[-3000:]


# ------------------------------------------------- interrupted report build
# A document with a figure at a path relative to it, as the report's are,
# and enough pages that pdflatex can be caught mid-run.
SLOW_TEX = r"""\pdfobjcompresslevel=0 %% pages countable in the text of the PDF
\documentclass{article}
\usepackage{graphicx}
\begin{document}
\includegraphics[width=2cm]{../figures/square.png}
\newcount\n \n=0
\loop \section{Part \the\n} Text of part \the\n. \clearpage \advance\n by 1 \ifnum\n<%d \repeat
\end{document}
"""


def slow_tex(tmp_path, pages):
    import matplotlib.pyplot as plt

    (tmp_path / "figures").mkdir(exist_ok=True)
    plt.imsave(tmp_path / "figures/square.png", np.eye(8))
    tex = tmp_path / "report" / "report.tex"
    tex.parent.mkdir(exist_ok=True)
    tex.write_text(SLOW_TEX % pages)
    return tex


def pdflatex_in(cwd):
    try:
        return find_process_in("pdflatex", cwd)
    except AssertionError:
        return None


def pdf_pages(path):
    return len(re.findall(rb"/Type\s*/Page\b", path.read_bytes()))


@pytest.mark.skipif(shutil.which("latexmk") is None, reason="needs latexmk")
def test_a_report_build_killed_mid_pdflatex_leaves_nothing_that_blocks_the_next(tmp_path):
    from dd2424.pdf.report import build_pdf

    tex, pdf, log = slow_tex(tmp_path, 10000), tmp_path / "report.pdf", tmp_path / "latexmk.log"
    builder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from dd2424.pdf.report import build_pdf; build_pdf(*sys.argv[1:])",
            tex,
            pdf,
            log,
        ],
        start_new_session=True,
    )
    wait_for(lambda: pdflatex_in(tex.parent), timeout=60)
    time.sleep(1)  # well into its pages, its .aux open
    os.kill(pdflatex_in(tex.parent), signal.SIGKILL)
    builder.wait(timeout=60)
    assert builder.returncode != 0 and not pdf.exists()
    # what the old in-place build left, which blocked every later one
    (tex.parent / "report.aux").write_text("\\@writefile{toc}{\\contentsline {section}{")
    (tex.parent / "report.fdb_latexmk").write_text("# Fdb version 4\n")

    tex.write_text(SLOW_TEX % 3)
    build_pdf(tex, pdf, log)
    assert pdf_pages(pdf) == 3
    assert not list(tex.parent.glob(".latexmk-*")) and not (tex.parent / "report.fdb_latexmk").exists()
    build_pdf(tex, pdf, log)  # and again, now from its own finished state
    assert pdf_pages(pdf) == 3


def test_a_write_cut_off_leaves_the_old_file_whole_and_no_partial_one(tmp_path):
    from dd2424.util import atomic

    dest = tmp_path / "metrics.json"
    dest.write_text('{"run": "old"}')
    with pytest.raises(RuntimeError), atomic.written(dest) as tmp:
        tmp.write_text('{"run": "ne')
        raise RuntimeError("killed mid-write")
    assert dest.read_text() == '{"run": "old"}'
    assert list(tmp_path.iterdir()) == [dest]
    with atomic.written(dest) as tmp:
        tmp.write_text('{"run": "new"}')
    assert dest.read_text() == '{"run": "new"}' and list(tmp_path.iterdir()) == [dest]


@pytest.mark.skipif(shutil.which("latexmk") is None, reason="needs latexmk")
def test_a_report_build_interrupted_by_ctrl_c_heals_on_the_next_plain_run(finished):
    only = a1_only(finished)
    run_snakemake(finished, "-j2", "results/report/report.tex", extra_configs=[only])  # done by the test above
    (finished / "results/report.pdf").unlink(missing_ok=True)
    proc = snakemake_in_background(finished, "results/report.pdf", extra_configs=[only])
    wait_for(lambda: pdflatex_in(finished / "results/report"), timeout=120)
    time.sleep(1)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in the terminal: Snakemake and its job
    proc.wait(timeout=60)
    assert proc.returncode != 0 and not (finished / "results/report.pdf").exists()

    run_snakemake(finished, "-j1", extra_configs=[only])
    pdf = (finished / "results/report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and b"%%EOF" in pdf[-1024:]
    assert not list((finished / "results/report").glob(".latexmk-*"))


# ------------------------------------------------------------- file modes
@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o077, 0o600)])
def test_the_archive_batches_and_splits_follow_the_umask(tmp_path, archive, umask, mode):
    """Another user of a shared results/ reads them under umask 022 (mkstemp made them 0600)."""
    source, md5 = archive
    old = os.umask(umask)
    try:
        got = data.fetch(source, md5, tmp_path / "resources/cifar-10-python.tar.gz")
        data.extract(got, tmp_path / "resources/cifar-10")
        spec = {"train": ["data_batch_1"], "val_size": 10, "test": ["test_batch"]}
        data.make_split(tmp_path / "resources/cifar-10", spec, tmp_path / "results/data/s")
    finally:
        os.umask(old)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) == 1 + 13 + 7  # the archive; 6 batches × X, y and meta.json; 3 parts × X, y and stats.json
    assert {str(p.relative_to(tmp_path)): oct(p.stat().st_mode & 0o777) for p in written} == {
        str(p.relative_to(tmp_path)): oct(mode) for p in written
    }


# ------------------------------------------- a bad archive with a matching md5
def cut_archive(tmp_path, keep=5000):
    """The first ``keep`` bytes of a good archive: a download cut short."""
    good = tmp_path / "good.tar.gz"
    write_archive(good, per_batch=20)
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(good.read_bytes()[:keep])
    return cut


WEB_PAGE = b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>Please log in</body></html>\n"


def saved(tmp_path, content):
    path = tmp_path / "saved.tar.gz"
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    "make,problem",
    [
        (cut_archive, "is cut short: its gzip stream ends early"),
        (lambda p: saved(p, WEB_PAGE), "is a web page, not a gzip archive"),
        (lambda p: saved(p, b""), r"is empty \(0 bytes\)"),
        (lambda p: saved(p, gzip.compress(b"a text file " * 100)), "is a gzip file that holds no tar archive"),
    ],
    ids=["cut-short", "web-page", "empty", "gzip-not-tar"],
)
def test_a_bad_archive_whose_md5_matches_is_named_and_leaves_nothing(tmp_path, make, problem):
    bad = make(tmp_path)
    with pytest.raises(data.ArchiveError, match=f"{bad}.* {problem}"):
        data.fetch(bad, data.md5sum(bad), tmp_path / "out/cifar-10-python.tar.gz")
    assert not list((tmp_path / "out").iterdir())


def test_a_web_page_with_the_official_md5_fails_its_checksum_saying_it_is_a_web_page(tmp_path):
    page = saved(tmp_path, WEB_PAGE)
    with pytest.raises(data.ChecksumError, match=r"or data.md5 is wrong \(the file is a web page, not a gzip archive"):
        data.fetch(page, "c58f30108f718f92721af3b95e74349a", tmp_path / "out/cifar-10-python.tar.gz")
    assert not list((tmp_path / "out").iterdir())


@pytest.mark.parametrize(
    "content,problem",
    [(None, "is cut short: its gzip stream ends early"), (WEB_PAGE, "is a web page, not a gzip archive")],
)
def test_a_bad_archive_already_fetched_is_named_and_removed_at_extraction(tmp_path, content, problem):
    archive = tmp_path / "resources/cifar-10-python.tar.gz"
    archive.parent.mkdir()
    archive.write_bytes(content if content else cut_archive(tmp_path).read_bytes())
    with pytest.raises(
        data.ArchiveError, match=f"{archive} {problem}.*removed it, the next run fetches data.url again"
    ):
        data.extract(archive, tmp_path / "resources/cifar-10")
    assert not archive.exists()
    assert not list((tmp_path / "resources/cifar-10").glob("*"))


def test_an_archive_whose_tar_is_cut_inside_a_batch_is_named(tmp_path):
    good = tmp_path / "good.tar.gz"
    write_archive(good, per_batch=20)
    tar = gzip.decompress(good.read_bytes())
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(gzip.compress(tar[: len(tar) // 2]))  # a whole gzip stream of half a tar
    with pytest.raises(data.ArchiveError, match=f"{cut} is cut short or corrupt inside its tar archive"):
        data.read_archive(cut)


def test_snakemake_names_a_web_page_saved_as_the_archive_and_refetches_once_it_is_fixed(tmp_path):
    work = tiny_workdir(tmp_path / "w")
    page = work / "page.tar.gz"
    page.write_bytes(WEB_PAGE)
    (work / "page.yaml").write_text(f"data: {{url: '{page.as_uri()}', md5: {data.md5sum(page)}}}\n")
    target = "resources/cifar-10/meta.json"
    done = run_snakemake(work, "-j1", target, check=False, extra_configs=[work / "page.yaml"])
    assert done.returncode != 0
    assert f"{page.as_uri()} is a web page, not a gzip archive" in (work / "logs/data/download.log").read_text()
    assert not (work / "resources/cifar-10-python.tar.gz").exists()
    run_snakemake(work, "-j1", target)
    assert json.loads((work / target).read_text())["sizes"]["test_batch"] == 100


# ------------------------------------------------------ damaged results found
def pasted(command, cwd="/"):
    """A command a message prints, run as a user pastes it into a shell: from another directory."""
    done = subprocess.run(command, shell=True, cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def quoted_command(text):
    """The command of a message's `...` (the last one)."""
    return re.findall(r"`([^`]+)`", text)[-1]


def cut(path, fraction=0.5):
    blob = path.read_bytes()
    path.write_bytes(blob[: int(len(blob) * fraction)])


def verify_in(work):
    """make verify with the run's own config files (as run_snakemake gives them)."""
    done = subprocess.run(
        [sys.executable, "-m", "dd2424.verify", "--configfile", str(TINY), "data.yaml"],
        cwd=work,
        capture_output=True,
        text=True,
    )
    return done.returncode, done.stdout


def test_a_training_job_on_a_split_cut_short_names_the_file_and_its_command(tmp_path):
    work = tiny_workdir(tmp_path / "w")
    split, model = "results/data/batch1/train_X.npy", f"results/{A1}/bce/bce/seed1/metrics.json"
    run_snakemake(work, "-j1", model)
    cut(work / split, 0.6)
    done = run_snakemake(work, "-j1", "--force", model, check=False)
    assert done.returncode != 0
    log = (work / f"logs/{A1}/bce/bce/seed1.log").read_text()
    assert re.search(
        f"FAILED: CorruptResult: {re.escape(split)} is damaged: cut short: [0-9,]+ of the [0-9,]+ bytes", log
    )
    assert re.search(f"Build it again with `[^`]* --force {re.escape(split)} [^`]*`", log)
    assert f"DAMAGED {split}: cut short" in verify_in(work)[1]
    pasted(quoted_command(log.split("FAILED")[1]))
    run_snakemake(work, "-j1", model)  # trained again on the rebuilt split
    assert json.loads((work / model).read_text())["train_images"] == 100
    status, out = verify_in(work)
    # whole again; the rest of the model's report, never run, is missing
    assert "DAMAGED" not in out and ", 0 damaged" in out, out
    assert status == 1 and f"MISSING results/{A1}/summary.csv\n" in out, out


def every_other_row(path):
    header, *rows = path.read_text().splitlines(keepends=True)
    path.write_text("".join([header, *rows[:-1:2], rows[-1]]))


def test_verify_names_each_damaged_result_with_the_command_that_rebuilds_it(finished):
    run_snakemake(finished, "-j2", "a1")  # whole again after the tests above
    assert verify_in(finished)[0] == 0
    run = f"results/{A1}/required/lam0_eta0.1/seed2"
    damage = {
        f"{run}/model.npz": (cut, "not a readable model file"),
        f"{run}/predictions.npz": (cut, "not a readable predictions file"),
        f"results/{A1}/bce/bce/seed2/metrics.json": (cut, "not valid JSON"),
        # two whole rows removed: still a valid table, found against metrics.json
        f"results/{A1}/bce/bce/seed1/history.csv": (
            lambda p: p.write_text("".join(p.read_text().splitlines(keepends=True)[:-2])),
            r"2 row\(s\) missing",
        ),
        # every other row removed, the last kept: a valid table whose last row agrees with metrics.json,
        # found against the rows its schedule records
        f"results/{A1}/bce/softmax/seed1/history.csv": (every_other_row, r"\d+ row\(s\) missing"),
        f"results/{A1}/figures/bce_curves.png": (cut, "not a whole PNG image"),
        f"results/{A1}/summary.csv": (lambda p: cut(p, 0.7), "cut short"),
    }
    for path, (how, _) in damage.items():
        how(finished / path)
    assert "Nothing to be done" in run_snakemake(finished, "-n", "a1").stdout  # why verify is needed

    status, out = verify_in(finished)
    assert status == 1
    for path, (_, problem) in damage.items():
        assert re.search(f"DAMAGED {re.escape(path)}: .*{problem}", out), (path, out)
        # the run's own command: its Snakefile, directory and config files given
        assert re.search(
            f"rebuild: cd {finished} && .* -j1 --force {re.escape(path)} -s {ROOT / 'Snakefile'} "
            f"--configfile {TINY} {finished / 'data.yaml'}\n",
            out,
        ), out
    assert f", {len(damage)} damaged" in out

    command = out.split("To rebuild the damaged files:")[1].splitlines()[1]
    assert all(path in command.split() for path in damage)
    pasted(command)
    run_snakemake(finished, "-j2", "a1")
    status, out = verify_in(finished)
    assert status == 0 and ", 0 damaged" in out


def test_verify_names_each_result_a_report_had_and_lost(finished):
    """A model's folder removed (by hand, or by Snakemake when a job that would remake it failed): Snakemake
    would quietly remake it, but verify names each file, while reports never run are only mentioned."""
    run_snakemake(finished, "-j2", "a1")
    gone = f"results/{A1}/required/lam0_eta0.1/seed2"
    shutil.rmtree(finished / gone)
    status, out = verify_in(finished)
    assert status == 1, out
    assert sorted(re.findall("MISSING (.*)", out)) == sorted(f"{gone}/{name}" for name in paths.MODEL_FILES), out
    assert f"{len(paths.MODEL_FILES)} files missing of reports that have results" in out
    assert "MISSING results/summary.csv" not in out  # the default target's, not a1's: never missing from a1
    # reports of other assignments, never run (though they share the a1 reports' split): mentioned only
    assert re.search(r"\(report a2-\S+ is not built yet: [0-9]+ files, such as ", out), out
    line = re.search(f"report {A1}: 4 of its [0-9]+ files missing; its target builds them: (.*)", out)
    assert line and f" -j1 {A1_RULE} -s " in line[1], out
    pasted(line[1])
    status, out = verify_in(finished)
    assert status == 0 and "0 files missing" in out and "MISSING" not in out, out


# --------------------------------------------------- a job outliving Snakemake
def test_a_training_job_stops_within_seconds_when_its_snakemake_is_killed(tmp_path):
    work = tiny_workdir(tmp_path / "w")
    proc = start_slow_job(work)
    job = find_process("train.py", work)
    os.kill(proc.pid, signal.SIGKILL)  # Snakemake alone: its job is orphaned
    proc.wait(timeout=60)
    killed = time.time()
    wait_for(
        lambda: (
            not os.path.exists(f"/proc/{job}") or open(f"/proc/{job}/stat", encoding="ascii").read().split()[2] == "Z"
        ),
        30,
    )
    assert time.time() - killed < 10
    log = (work / ONE_LOG).read_text()
    assert f"the Snakemake that started this job (pid {proc.pid}) is gone: stopping" in log
    assert "test accuracy" not in log and not (work / ONE_JOB).exists()
