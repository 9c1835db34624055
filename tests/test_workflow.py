"""The whole workflow, as a subprocess, on a tiny synthetic archive served as file://."""

import json
import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPORT_SCHEMA, ROOT, TINY, tiny_workdir
from conftest import run_snakemake as snakemake

from dd2424.data.synthetic import write_archive
from dd2424.pdf import latex
from dd2424.pipeline import experiments as ex
from dd2424.pipeline import search as ex_search
from dd2424.pipeline.reports import load_reports, merge
from dd2424.pipeline.scorecard import published_entries, read_scorecard
from dd2424.pipeline.summary import aggregate, mean_std

pytestmark = pytest.mark.e2e


def job_counts(dry_run_output):
    """{rule: count} from the 'Job stats' table of a dry run."""
    table = dry_run_output.split("Job stats:")[1].split("total")[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", table, re.M)}


def merged_config(workdir):
    """config.yaml with the tiny config merged in and the reports loaded, as the workflow sees them."""
    config = merge(yaml.safe_load((ROOT / "config.yaml").read_text()), yaml.safe_load(TINY.read_text()))
    config["reports"] = load_reports(config, REPORT_SCHEMA, workdir, ROOT)
    return config


# Shipped reports whose experiments the tests read.
A1 = "a1-2024-grid-bce"
A2_CYCLIC = "a2-2021-cyclic"
A2_MOMENTUM = "a2-2018-momentum-decay"
A3 = "a3-2019-batch-norm"
BONUS = "bonus-fully-connected"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    if shutil.which("latexmk") is None:
        pytest.fail("latexmk is not installed: `make test` installs TeX (or see README)")
    workdir = tiny_workdir(tmp_path_factory.mktemp("run"))
    snakemake(workdir, "-j2")
    return workdir


def test_the_run_time_report_reads_every_job_of_the_run(workdir, capsys):
    """``python -m dd2424.runtime`` on the finished tiny run: every job Snakemake would run again (but the
    target rule, which makes no file), a critical path that ends with the PDF, and the training's arithmetic
    against the GEMM rate the run measured."""
    from dd2424 import runtime

    counts = job_counts(snakemake(workdir, "-n", "--forceall").stdout)
    jobs = runtime.read_jobs(workdir)
    assert len(jobs) == sum(counts.values()) - counts["all"]
    seconds, chain = runtime.critical_path(jobs)
    assert chain[0].rule == "download" and chain[-1].rule == "report"
    assert max(j.seconds for j in jobs) <= seconds <= runtime.simulated_wall(jobs, 2)
    assert runtime.simulated_wall(jobs, 1) == pytest.approx(sum(j.seconds for j in jobs))
    runtime.main([str(workdir), "--cores", "2"])
    out = capsys.readouterr().out
    models = len(list((workdir / "results").rglob("metrics.json")))
    assert f"{len(jobs)} jobs" in out and f"training: {models} models" in out and "one-core GEMM" in out


def test_report_and_summary_are_built(workdir):
    pdf = workdir / "results/report.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    # a large step's job ran on two BLAS threads (tiny.yaml's training), recorded and named in the PDF
    threads = pd.read_csv(workdir / "results/summary.csv").groupby("report").blas_threads.max()
    assert threads["a3-2019-batch-norm"] == 2 and (threads.drop("a3-2019-batch-norm") == 1).all()
    tex = (workdir / "results/report/report.tex").read_text(encoding="utf-8")
    assert "trained with several BLAS threads" in tex and "\\texttt{a3-2019-batch-norm/sigma}" in tex
    # nothing runs off its page: no figure or table taller than the page
    assert latex.page_overflows((workdir / "results/report/report.log").read_text(encoding="latin-1")) == []
    summary = pd.read_csv(workdir / "results/summary.csv")
    config = merged_config(workdir)
    expected = {
        (r, e, run, seed)
        for r in config["reports"]
        for e, exp in config["reports"][r]["experiments"].items()
        for run in ex.static_runs(config, r, e)
        for seed in ex.seeds_of(config, exp)
    }
    assert set(zip(summary.report, summary.experiment, summary.run, summary.seed)) == expected
    assert {"a1", "a2", "a3", "a3conv", "bonus"} == set(summary.assignment)
    assert (summary.assignment == summary.report.map(lambda r: config["reports"][r]["assignment"])).all()
    assert len(summary) == len(expected)
    for column in (
        "assignment",
        "lambda",
        "eta",
        "n_batch",
        "epochs",
        "hidden",
        "batch_norm",
        "train_accuracy",
        "val_accuracy",
        "test_accuracy",
    ):
        assert column in summary.columns
    assert summary.test_accuracy.between(0, 1).all()
    # each row carries the hyper-parameters its run was configured with
    for row in summary.itertuples():
        exp = config["reports"][row.report]["experiments"][row.experiment]
        if "best_of" in exp or "refine" in exp:
            continue
        spec = ex.static_runs(config, row.report, row.experiment)[row.run]
        assert (row.epochs, row.n_batch, row.eta, row.loss) == (
            spec["epochs"],
            spec["n_batch"],
            spec["eta"],
            spec["loss"],
        )
    required = summary[(summary.report == A1) & (summary.experiment == "required")]
    assert (required.set_index("run").loc["lam1_eta0.001", "lambda"] == 1.0).all()
    # the synthetic classes are separable: the good runs learn far above chance
    assert required.test_accuracy.max() > 0.5
    assert summary[summary.assignment == "a2"].hidden.eq("50").all()


def test_gradient_check_passes_the_bar(workdir):
    table = pd.read_csv(workdir / "results/gradcheck/a1.csv")
    assert set(table.loss) == {"softmax", "bce"}
    assert set(table.parameter) == {"W1", "b1"}
    assert (table.max_rel_error < 1e-6).all()
    assert table[table.check == "full"].dims.eq(3072).all()
    deep = pd.read_csv(workdir / "results/gradcheck/a3.csv")
    assert (deep.max_rel_error < 1e-6).all()
    four_bn = set(deep[deep.check == "four_layer_bn"].parameter)
    assert four_bn == {"W1", "W2", "W3", "W4", "b4", "gamma1", "gamma2", "gamma3", "beta1", "beta2", "beta3"}
    # batch norm after the ReLU: the hidden layers keep their biases
    after = deep[deep.check == "three_layer_bn_after_relu"]
    assert set(after.parameter) == {"W1", "W2", "W3", "b1", "b2", "b3", "gamma1", "gamma2", "beta1", "beta2"}
    assert set(after.bn_position) == {"after_relu"} and set(deep[deep.check == "four_layer_bn"].bn_position) == {
        "before_relu"
    }


def test_report_numbers_come_from_the_results(workdir):
    tex = (workdir / "results/report/report.tex").read_text()
    summary = pd.read_csv(workdir / "results/summary.csv")
    # every headline run of every report, mean ± std over seeds
    headline = summary[summary.groupby(["report", "experiment", "run"]).seed.transform("count") > 1]
    agg = aggregate(headline, by=("report", "experiment", "run"))
    assert len(agg) > 20
    for _, r in agg.iterrows():
        text = mean_std(r.test_accuracy_mean, r.test_accuracy_std, r.test_accuracy_count)
        assert text.replace("±", r"$\pm$") in tex
    best = pd.read_csv(workdir / f"results/{A1}/grid2/search.csv").iloc[0]
    assert f"$n_\\text{{batch}}$ = {best.n_batch}" in tex
    for figure in (
        f"{A1}/figures/required_curves",
        f"{A1}/figures/required_weights",
        f"{A1}/figures/bce_histograms",
        f"{A1}/figures/grid_search",
        f"{A2_CYCLIC}/figures/cyclic_schedule",
        f"{A2_CYCLIC}/figures/lambda_fine_search",
        f"{A2_MOMENTUM}/figures/fine_search",
        f"{A2_CYCLIC}/figures/final_curves",
        f"{A3}/figures/layers_curves",
        f"{A3}/figures/sigma_curves",
        f"{A3}/figures/lambda_grid_fine_search",
        f"{A3}/figures/lambda_final_curves",
        "report/scorecard",
    ):
        assert (f"../{figure}.png" if not figure.startswith("report/") else "scorecard.png") in tex
        assert (workdir / f"results/{figure}.png").stat().st_size > 1000
    # The training's arithmetic against the GEMM rate the workflow measured: every model counted.
    gemm = json.loads((workdir / "results/report/gemm.json").read_text())["gflops"]
    assert gemm > 0 and f"{gemm:.1f}\\,GFLOP/s" in tex
    assert f"in all & {len(summary)} & " in tex


def test_the_best_grid_point_is_what_grid_best_trained(workdir):
    best = pd.read_csv(workdir / f"results/{A1}/grid2/search.csv").iloc[0]
    summary = pd.read_csv(workdir / "results/summary.csv")
    trained = summary[summary.experiment == "grid2_best"].iloc[0]
    assert (trained.n_batch, trained.eta, trained["lambda"]) == (best.n_batch, best.eta, best["lambda"])
    lam = pd.read_csv(workdir / f"results/{A3}/lambda_grid_fine/search.csv").iloc[0]["lambda"]
    final = summary[summary.experiment == "lambda_final"]
    assert np.isclose(final["lambda"], lam, rtol=1e-12).all() and (final.bn_alpha == 0.7).all()


def test_fine_search_is_derived_from_the_coarse_results(workdir):
    coarse = pd.read_csv(workdir / f"results/{A2_CYCLIC}/lambda_coarse/search.csv")
    fine = pd.read_csv(workdir / f"results/{A2_CYCLIC}/lambda_fine/search.csv")
    ranges = json.loads((workdir / f"results/{A2_CYCLIC}/lambda_fine/range.json").read_text())["ranges"]["lambda"]
    top = np.log10(coarse["lambda"].head(3))
    assert ranges["low"] == pytest.approx(max(-5, top.min() - 0.25))
    assert ranges["high"] == pytest.approx(min(-1, top.max() + 0.25))
    assert np.log10(fine["lambda"]).between(ranges["low"], ranges["high"]).all()
    summary = pd.read_csv(workdir / "results/summary.csv")
    final = summary[(summary.report == A2_CYCLIC) & (summary.experiment == "final")]
    assert np.isclose(final["lambda"], fine["lambda"].iloc[0], rtol=1e-12).all()
    assert final.seed.nunique() == 2
    momentum_final = summary[(summary.report == A2_MOMENTUM) & (summary.experiment == "final")]
    best = pd.read_csv(workdir / f"results/{A2_MOMENTUM}/fine/search.csv").iloc[0]
    assert np.isclose(momentum_final.eta, best.eta, rtol=1e-12).all()
    assert np.isclose(momentum_final["lambda"], best["lambda"], rtol=1e-12).all()


def test_nothing_reruns_and_a_change_reruns_only_its_experiment(workdir):
    assert "Nothing to be done" in snakemake(workdir, "-n").stdout
    (workdir / "change.yaml").write_text(
        "overrides: {a1-exercise-flips: {experiments: {flip: {base: {lambda: 0.2}}}}}\n"
    )
    out = snakemake(workdir, "-n", extra_configs=[workdir / "change.yaml"]).stdout
    counts = job_counts(out)
    assert sum(n for rule, n in counts.items() if rule.startswith("train_")) == 4  # flip's two runs x two seeds
    trained = set(re.findall(r"Training ([\w.-]+/\w+)/", out))
    assert trained == {"a1-exercise-flips/flip"}
    assert "gradcheck" not in counts and "split" not in counts


REPORT_ONLY = {"scorecard", "scorecard_figure", "render_report", "report", "all"}


def test_a_published_value_retrains_nothing(workdir, tmp_path):
    """The published numbers reach the report only: editing them in the report file rescores, no training.
    Edited in a copy of the checkout (``project_copy``): other tests' runs see the checkout unchanged."""
    project = project_copy(tmp_path)
    path = project / f"reports/{A1}.yaml"
    original = path.read_text()
    assert "value: 0.2571}" in original
    path.write_text(original.replace("value: 0.2571}", "value: 0.2572}"))  # one published number edited
    counts = job_counts(project_dry_run(project, workdir))
    assert set(counts) == REPORT_ONLY, counts


def test_report_only_values_retrain_nothing(workdir):
    """A report's title, citation, prose, an experiment's section, what it does not state, its note: report only."""
    (workdir / "attribution.yaml").write_text(
        "overrides: {a1-2022-held-out: {title: 'Another title', citation: 'η ≥ 0.001', prose: 'more $\\lambda$',"
        " experiments: {required: {section: 'x', not_stated: ['something else'], note: 'a note', prose: 'p'}}}}\n"
    )
    counts = job_counts(snakemake(workdir, "-n", extra_configs=[workdir / "attribution.yaml"]).stdout)
    assert set(counts) == REPORT_ONLY, counts


def test_the_pdf_opens_with_the_scorecard(workdir):
    tex = (workdir / "results/report/report.tex").read_text()
    total = re.search(r"\\textbf\{(\d+) of (\d+) published numbers reproduced\}", tex)
    assert total, "no scorecard total in the report"
    config = merged_config(workdir)
    assert int(total.group(2)) == len(published_entries(config["reports"]))
    assert tex.index("Reproduction scorecard") < tex.index("Assignment 1")
    scorecard = pd.read_csv(workdir / "results/report/scorecard.csv")
    assert len(scorecard) == int(total.group(2)) and int(total.group(1)) == (scorecard.verdict == "reproduced").sum()
    # a total per report, and each report's rows grouped by experiment
    for report, rows in scorecard.groupby("report"):
        line = re.search(rf"\\texttt{{{re.escape(report)}}} & .* & (\d+) & (\d+) \\\\", tex)
        assert line and (int(line.group(1)), int(line.group(2))) == ((rows.verdict == "reproduced").sum(), len(rows))
    # a section per report, under its assignment's part, in order: parts a1, a2, a3, bonus
    sections = [m.group(1) for m in re.finditer(r"\\subsection\{\\texorpdfstring\{.*?\}\{(.*)\}\}", tex)]
    titles = [config["reports"][r]["title"] for r in ex.reports_in_all(config)]
    assert [t for t in sections if t in titles] == titles
    # each miss's causes once per experiment, not under every row
    assert tex.count("Known causes of the misses") == sum(
        1 for (r, e), g in scorecard.groupby(["report", "experiment"], sort=False) if (g.verdict != "reproduced").any()
    )
    assert "Not stated in the report" in tex and "shared/" not in tex


# sigma's three runs without batch norm: one job per seed.
SIGMA_STACK = "train_a3_2019_batch_norm_sigma_sigma1e_1_sigma1e_3_sigma1e_4"


@pytest.mark.parametrize(
    "edit,reruns",
    [
        # a title only the report shows
        ("assignments: {a2: {title: 'Another title'}}", {"render_report", "report"}),
        # which runs get weight images: a figure and the report, no training
        (
            f"overrides: {{{A1}: {{experiments: {{step_decay: {{figures: [weights]}}}}}}}}",
            {"weights", "render_report", "report", "all"},
        ),
        # one run's hyper-parameter, a run trained alone: that run's seeds and what reads them
        # (bce's figures: curves, weight images, histograms)
        (
            f"overrides: {{{A1}: {{experiments: {{bce: {{runs: {{softmax: {{eta: 0.002}}}}}}}}}}}}",
            {"train_a1_2024_grid_bce_bce_softmax", "curves", "weights", "histograms"}
            | {"summary", "summary_all"}
            | REPORT_ONLY,
        ),
        # one run's sigma, a run trained in a stack with its siblings of the same shape:
        # that stack's seeds, not the batch-normalised stack beside it
        (
            f"overrides: {{{A3}: {{experiments: {{sigma: {{runs: {{sigma1e-3: {{init_sigma: 0.002}}}}}}}}}}}}",
            {SIGMA_STACK, "curves", "summary", "summary_all"} | REPORT_ONLY,
        ),
    ],
)
def test_each_kind_of_edit_reruns_exactly_what_depends_on_it(workdir, edit, reruns):
    (workdir / "edit.yaml").write_text(edit + "\n")
    counts = job_counts(snakemake(workdir, "-n", extra_configs=[workdir / "edit.yaml"]).stdout)
    assert set(counts) <= reruns | {"all"} and set(counts) >= reruns - {"all"}, counts
    for job in ("train_a1_2024_grid_bce_bce_softmax", SIGMA_STACK):
        if job in counts:
            assert counts[job] == 2  # its two seeds, nothing else


def test_the_bonus_searches_trains_its_recipe_and_ablation_and_has_its_section(workdir):
    summary = pd.read_csv(workdir / "results/summary.csv")
    bonus = summary[summary.assignment == "bonus"].set_index(["experiment", "run", "seed"])
    best = json.loads((workdir / f"results/{BONUS}/search/best.json").read_text())["best"]
    recipe = bonus.loc["recipe"]
    assert len(recipe) == len(merged_config(workdir)["seeds"])
    assert (recipe.dropout == best["dropout"]).all() and (recipe["lambda"] == best["lambda"]).all()
    ablation = bonus.loc["ablation"].droplevel("seed")
    # each ablation run removes its ingredient and keeps the search's values for the rest
    assert ablation.loc["no_dropout", "dropout"] == 0 and ablation.loc["no_dropout", "lambda"] == best["lambda"]
    assert ablation.loc["no_flip", "dropout"] == best["dropout"] and not ablation.loc["no_flip", "flip"]
    assert ablation.loc["no_whitening", "split"] == "all49k" and (recipe.split == "all49k_zca").all()
    assert ablation.loc["no_translation", "translate"] == 0 and (recipe.translate > 0).all()
    assert ablation.loc["no_label_smoothing", "label_smoothing"] == 0
    check = pd.read_csv(workdir / "results/gradcheck/bonus.csv")
    assert (check.max_rel_error < 1e-6).all() and (check.dropout > 0).all()
    tex = (workdir / "results/report/report.tex").read_text()
    section = tex[tex.index("Bonus: the best fully-connected network") :]
    for run in ablation.index:
        assert run.replace("_", r"\_") + " & " in section
    # the ablation against its baseline, the recipe: a difference in points per run
    for run, row in ablation.iterrows():
        assert f"{100 * (row.test_accuracy - recipe.test_accuracy.mean()):+.2f}" in section
    assert "Against published results" in section and "Cost:" in section
    mean = recipe.test_accuracy.mean() * 100
    assert f"{mean:.2f}" in section


def test_the_bonus_can_be_left_out_of_all(workdir):
    (workdir / "no_bonus.yaml").write_text("assignments: {bonus: {in_all: false}}\n")
    out = snakemake(workdir, "-n", extra_configs=[workdir / "no_bonus.yaml"]).stdout
    counts = job_counts(out)
    assert not any(rule.startswith("train_bonus") for rule in counts), counts
    assert {"summary_all", "render_report", "report"} <= set(counts)
    assert "Nothing to be done" in snakemake(workdir, "-n", "bonus", extra_configs=[workdir / "no_bonus.yaml"]).stdout
    assert "Nothing to be done" in snakemake(workdir, "-n", "bonus_fully_connected").stdout


def test_a_search_stage_trains_as_stacks_of_the_chunk_size(workdir):
    """One job per chunk of points; each point keeps its own files."""
    target = f"results/{A2_CYCLIC}/lambda_coarse/search.csv"
    rule = "train_a2_2021_cyclic_lambda_coarse_seed1_chunk"
    out = snakemake(workdir, "-n", "--forceall", target).stdout
    assert job_counts(out)[f"{rule}0"] == 1
    (workdir / "chunks.yaml").write_text("search: {chunk_size: 3}\n")
    out = snakemake(workdir, "-n", "--forceall", target, extra_configs=[workdir / "chunks.yaml"]).stdout
    counts = job_counts(out)
    assert counts[f"{rule}0"] == counts[f"{rule}1"] == 1
    assert f"{rule}2" not in counts  # 4 points: 3 + 1
    log = (workdir / f"logs/{A2_CYCLIC}/lambda_coarse/seed1_chunk0.log").read_text()
    assert "a stack of 4" in log
    for point in ("p000", "p001", "p002", "p003"):
        metrics = json.loads((workdir / f"results/{A2_CYCLIC}/lambda_coarse/{point}/seed1/metrics.json").read_text())
        assert metrics["stack_size"] == 4 and metrics["run"] == point
        history = pd.read_csv(workdir / f"results/{A2_CYCLIC}/lambda_coarse/{point}/seed1/history.csv")
        # A search point's history: its final weights only, evaluated on both sets.
        assert len(history) == 1 and history["update"].iloc[0] == metrics["updates"]
        assert history.val_accuracy.iloc[0] == metrics["val_accuracy"] and history.train_accuracy.notna().all()


def test_snakemake_html_report(workdir):
    snakemake(workdir, "--report", "results/report.html")
    html = (workdir / "results/report.html").read_text(errors="replace")
    assert "required_curves.png" in html and "lambda_fine_search.png" in html and "scorecard.png" in html


def tracked_files():
    """The project's files under version control (a fresh clone's)."""
    done = subprocess.run(["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True, encoding="utf-8")
    if done.returncode != 0:
        pytest.skip("not a git checkout: the tracked files are unknown")
    return [ROOT / f for f in done.stdout.splitlines() if (ROOT / f).is_file()]


def test_touching_every_tracked_file_reruns_nothing(workdir):
    """As a branch switched and back, or an editor saving unchanged files: times change, content does not."""
    now = time.time()
    for path in tracked_files():
        os.utime(path, (now, now))
    assert "Nothing to be done" in snakemake(workdir, "-n").stdout


def test_the_same_checkout_elsewhere_with_its_results_copied_reruns_nothing(workdir, tmp_path):
    """A fresh clone (new times, another path) with results/ copied in as `cp -a` does."""
    tracked_files()  # a git checkout, or skip
    project = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(project)], check=True)
    work = tmp_path / "work"
    shutil.copytree(workdir, work, symlinks=True)
    md5 = yaml.safe_load((work / "data.yaml").read_text())["data"]["md5"]
    (work / "upper.yaml").write_text(f"data: {{md5: {md5.upper()}}}\n")  # the same md5, typed otherwise
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(project / "Snakefile"), "-n", "--configfile"]
        + [str(project / "tests/data/tiny.yaml"), str(work / "data.yaml"), str(work / "upper.yaml")],
        cwd=work,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(project / "src")},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Nothing to be done" in done.stdout, done.stdout[-3000:]


def test_with_snakemakes_records_lost_a_changed_setting_still_reruns_its_job_and_only_it(workdir, tmp_path):
    """.snakemake/ removed (as forum answers suggest for lock trouble): nothing reruns while the results agree
    with the config; a changed lambda reruns the job whose metrics.json recorded the old one, named, and
    once it has rerun, nothing again."""
    work = tmp_path / "work"
    shutil.copytree(workdir, work, symlinks=True)
    shutil.rmtree(work / ".snakemake")
    assert "Nothing to be done" in snakemake(work, "-n").stdout
    (work / "lambda.yaml").write_text(
        yaml.safe_dump({"overrides": {A2_CYCLIC: {"experiments": {"sanity": {"base": {"lambda": 0.01}}}}}})
    )
    rule = "train_a2_2021_cyclic_sanity_eta_0_001_eta_0_1"
    # make verify names the same job, without Snakemake: with the run's options; without them, config.yaml's
    # own (untrimmed) settings disagree with every tiny result
    configs = ["--configfile", str(TINY), str(work / "data.yaml")]
    status, out = verify(work, *configs, str(work / "lambda.yaml"))
    assert status == 1 and out.count("STALE ") == 1, out
    # the job's first model that disagrees (its stack's runs share the lambda)
    assert re.search(
        f"STALE results/{A2_CYCLIC}/sanity/eta_0\\.[0-9]+/seed1/metrics.json: lambda 0.0 recorded, 0.01 today", out
    ), out
    assert f"its job {rule} reruns in the next run" in out
    assert verify(work, *configs)[0] == 0
    status, out = verify(work)
    assert status == 1 and "recorded" in out and "today" in out
    assert "These results disagree with config.yaml alone. If the run that made them had --configfile" in out
    done = snakemake(work, "-n", extra_configs=[work / "lambda.yaml"])
    assert f"Rerunning {rule}: " in done.stderr and "lambda 0.0 recorded, 0.01 today" in done.stderr
    counts = job_counts(done.stdout)
    assert counts[rule] == 1 and sum(n for r, n in counts.items() if r.startswith("train_")) == 1, counts
    snakemake(
        work, "-j2", f"results/{A2_CYCLIC}/sanity/eta_0.1/seed1/metrics.json", extra_configs=[work / "lambda.yaml"]
    )
    metrics = json.loads((work / f"results/{A2_CYCLIC}/sanity/eta_0.1/seed1/metrics.json").read_text())
    assert metrics["lambda"] == 0.01
    assert "Rerunning" not in snakemake(work, "-n", extra_configs=[work / "lambda.yaml"]).stderr
    assert verify(work, *configs, str(work / "lambda.yaml"))[0] == 0


def test_with_snakemakes_records_lost_a_changed_split_reruns_the_split_and_what_trains_on_it(workdir, tmp_path):
    """A split's stats.json records its spec and code: with .snakemake/ removed, a split spec changed
    reruns that split alone (named, by make verify too), and the training on it after it."""
    work = tmp_path / "work"
    shutil.copytree(workdir, work, symlinks=True)
    shutil.rmtree(work / ".snakemake")
    (work / "split.yaml").write_text(yaml.safe_dump({"splits": {"batch1": {"preprocess": "center"}}}))
    configs = ["--configfile", str(TINY), str(work / "data.yaml")]
    status, out = verify(work, *configs, str(work / "split.yaml"))
    assert status == 1 and out.count("STALE results/data/") == 1, out
    assert "STALE results/data/batch1/stats.json: split spec" in out and "'preprocess': 'center'" in out, out
    assert "its job split (split batch1, and every training job on it) reruns" in out
    done = snakemake(work, "-n", extra_configs=[work / "split.yaml"])
    assert "Rerunning split batch1: " in done.stderr, done.stderr
    counts = job_counts(done.stdout)
    assert counts["split"] == 1 and any(r.startswith("train_") for r in counts), counts
    assert "Nothing to be done" in snakemake(work, "-n").stdout


def verify(work, *args):
    """(exit status, output) of ``python -m dd2424.verify`` in ``work``."""
    done = subprocess.run([sys.executable, "-m", "dd2424.verify", *args], cwd=work, capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr


def project_copy(tmp_path):
    """A clone holding the checkout's tracked files as they are (its commit and any uncommitted change, which
    the PDF's provenance records): a test edits it, never the checkout that other tests run at the same time."""
    project = tmp_path / "project"
    files = tracked_files()
    subprocess.run(["git", "clone", "-q", str(ROOT), str(project)], check=True)
    for path in files:
        copy = project / path.relative_to(ROOT)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, copy)
    return project


def project_dry_run(project, workdir):
    """The output of a dry run of ``project``'s workflow and code on the tiny config in ``workdir``."""
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(project / "Snakefile"), "-n", "--configfile"]
        + [str(project / "tests/data/tiny.yaml"), str(workdir / "data.yaml")],
        cwd=workdir,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(project / "src")},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.parametrize(
    "source, reruns",
    [
        # a figure's script: its figures, and the PDF that shows them
        ("workflow/scripts/plot_histograms.py", {"histograms", "render_report", "report", "all"}),
        # how the splits are built (a module the split job imports): every split and all that trains on them
        ("src/dd2424/data/cifar.py", {"split", "train_"}),
        # a layer of the networks: every model, but no download, extract or split
        ("src/dd2424/nn/layers.py", {"train_"}),
        # the summary's statistics over seeds (what the PDF shows): the PDF, no training
        ("src/dd2424/pipeline/summary.py", {"render_report", "report", "all"}),
    ],
)
def test_a_change_of_code_reruns_exactly_the_jobs_whose_code_it_is(workdir, tmp_path, source, reruns):
    """The edit is made in a clone holding the checkout's tracked files as they are (its commit and any
    uncommitted change, which the PDF's provenance records), so that the checkout itself, which other tests
    run at the same time, never changes."""
    project = project_copy(tmp_path)

    def dry_run():
        return project_dry_run(project, workdir)

    assert "Nothing to be done" in dry_run()  # the copy as it is: the same content
    path = project / source
    original = path.read_text()
    path.write_text(original + "\n# an edit of content\n")
    counts = job_counts(dry_run())
    path.write_text(original)
    trained = sum(n for rule, n in counts.items() if rule.startswith("train_"))
    if source.endswith("cifar.py"):
        assert counts["split"] == len(merged_config(workdir)["splits"]) and trained > 50
        assert "plot_histograms" not in counts
    elif source.endswith("layers.py"):
        assert trained > 50 and not {"download", "extract", "split"} & set(counts), counts

    else:
        assert set(counts) == reruns, counts
    assert "Nothing to be done" in dry_run()  # the same content again: nothing


EXAMPLE = "a2-example-momentum"


def test_an_added_report_is_trained_scored_and_rendered_with_no_other_job(workdir, tmp_path):
    """The README's example report, added with --configfile as a user would: its own jobs only, its section and
    its scorecard rows in the PDF."""
    work = tmp_path / "work"
    shutil.copytree(workdir, work, symlinks=True)
    small = {"experiments": {e: {"base": {"epochs": 2}} for e in ("momentum", "lambda_grid", "final")}}
    (work / "small.yaml").write_text(yaml.safe_dump({"overrides": {EXAMPLE: small}}))
    configs = [ROOT / "examples/add-example.yaml", work / "small.yaml"]
    out = snakemake(work, "-n", extra_configs=configs).stdout
    trained = set(re.findall(r"Training ([\w.-]+)/", out))
    assert trained == {EXAMPLE}, trained
    snakemake(work, "-j2", extra_configs=configs)
    tex = (work / "results/report/report.tex").read_text()
    title = "Assignment 2 (example): momentum and a grid over lambda"
    part2, part3 = (tex.index(f"\\section{{\\texorpdfstring{{Assignment {a}") for a in (2, 3))
    assert part2 < tex.index(f"\\subsection{{\\texorpdfstring{{{title}}}") < part3
    for experiment in ("momentum", "lambda\\_grid", "final"):
        assert f"\\subsubsection{{\\texttt{{{experiment}}}" in tex
    scorecard = pd.read_csv(work / "results/report/scorecard.csv")
    mine = scorecard[scorecard.report == EXAMPLE]
    assert len(mine) == 7 and set(mine.experiment) == {"momentum", "lambda_grid", "final"}
    assert mine.verdict.isin(["reproduced", "missed"]).all()  # every target exists: none "not run"
    # each run's seeds voted (ensemble: {over: seeds}); the scorecard reads the soft vote of rho_0.9
    ensembles = pd.read_csv(work / f"results/{EXAMPLE}/momentum/ensemble.csv")
    assert list(ensembles.ensemble) == ["plain", "rho_0.9"] and (ensembles.n_members == 2).all()
    summary = pd.read_csv(work / "results/summary.csv")
    momentum = summary[(summary.report == EXAMPLE) & (summary.experiment == "momentum")]
    assert ensembles.mean_single_accuracy.tolist() == pytest.approx(
        momentum.groupby("run", sort=False).test_accuracy.mean().tolist()
    )
    soft = mine[mine.quantity == "ensemble_soft_accuracy"].iloc[0]
    assert soft.ours_mean == pytest.approx(ensembles.set_index("ensemble").soft_accuracy["rho_0.9"])
    assert "soft vote" in tex and "hard vote" in tex
    # the final run took the grid's best lambda, and the scorecard compares it
    best = pd.read_csv(work / f"results/{EXAMPLE}/lambda_grid/search.csv").iloc[0]["lambda"]
    row = mine[mine.quantity == "lambda"].iloc[0]
    assert row.ours_mean == pytest.approx(best)
    assert (work / f"results/{EXAMPLE}/figures/momentum_weights.png").stat().st_size > 1000
    assert (work / "results/report.pdf").stat().st_mtime > (workdir / "results/report.pdf").stat().st_mtime
    # its own target builds it alone
    assert "Nothing to be done" in snakemake(work, "-n", "a2_example_momentum", extra_configs=configs).stdout


# The examples written with the settings real reports use, shrunk to the tiny data.
SETTINGS_EXAMPLES = {
    "a1-example-svm-adam": {
        "splits": {"a1_example_center": {"val_size": 30}},
        "experiments": {"loss_optimizer": {"base": {"epochs": 3}}},
    },
    "a2-example-chain": {
        "experiments": {
            **{e: {"base": {"n_s": 8}} for e in ("cyclic", "lambda_grid", "final")},
            **{
                e: {"base": {"n_s": 8}, "refine": {"count": 4}}
                for e in ("lambda_decade", "lambda_third", "lambda_fine")
            },
        }
    },
    "a3-example-bn-noise": {},
}


def test_the_examples_of_the_settings_real_reports_use_are_trained_scored_and_rendered(workdir, tmp_path):
    """SVM, Adam, mean-only preprocessing, validation from the test set, ensembles, a cyclic run of epochs,
    triangular2, a grid refined in three stages by best validation accuracy, batch norm after the ReLU,
    precise statistics, noise, no validation set: three report files added as a user adds them, no code."""
    work = tmp_path / "work"
    shutil.copytree(workdir, work, symlinks=True)
    files = {r: str(ROOT / f"examples/{r}.yaml") for r in SETTINGS_EXAMPLES}
    overrides = {r: o for r, o in SETTINGS_EXAMPLES.items() if o}
    (work / "examples.yaml").write_text(yaml.safe_dump({"report_files": files, "overrides": overrides}))
    configs = [work / "examples.yaml"]
    trained = set(re.findall(r"Training ([\w.-]+)/", snakemake(work, "-n", extra_configs=configs).stdout))
    assert trained == set(SETTINGS_EXAMPLES), trained
    snakemake(work, "-j2", extra_configs=configs)

    scorecard = pd.read_csv(work / "results/report/scorecard.csv")
    mine = scorecard[scorecard.report.isin(list(SETTINGS_EXAMPLES))]
    assert set(mine.report) == set(SETTINGS_EXAMPLES) and len(mine) == 23
    assert mine.verdict.isin(["reproduced", "missed"]).all()  # every number has ours: none "not run"
    summary = pd.read_csv(work / "results/summary.csv").set_index(["report", "experiment", "run", "seed"])
    a3 = summary.loc["a3-example-bn-noise"]
    assert a3.loc[("no_validation", "all50k")].val_accuracy.isna().all()
    assert set(a3.loc["bn_position"].bn_position) == {"before_relu", "after_relu"}
    a1 = summary.loc["a1-example-svm-adam"]
    assert set(a1.loss) == {"softmax", "svm"} and (a1.val_images == 30).all()
    # the hinge a report trains with is in its assignment's gradient check, and passes the bar
    gradcheck = pd.read_csv(work / "results/gradcheck/a1.csv")
    assert "svm" in set(gradcheck.loss) and (gradcheck.max_rel_error < 1e-6).all()
    chain = summary.loc["a2-example-chain"]
    epochs20 = chain.loc[("cyclic", "epochs20")]  # 20 epochs of ceil(n / n_batch) updates, mid-cycle
    assert (epochs20.updates == 20 * np.ceil(epochs20.train_images / epochs20.n_batch)).all()
    assert (epochs20.updates % (2 * 8) != 0).all()  # n_s 8: it ends inside a cycle
    for stage in ("lambda_decade", "lambda_third", "lambda_fine"):
        derived = json.loads((work / f"results/a2-example-chain/{stage}/range.json").read_text())
        assert derived["ranked_by"] == "best_val_accuracy"
    assert (work / "results/a1-example-svm-adam/loss_optimizer/ensemble.csv").exists()
    tex = (work / "results/report/report.tex").read_text()
    assert "validates on the last 30 images of test\\_batch" in tex and "not divided by the std" in tex
    assert "keeps no validation set" in tex and "Stage 4 of the coarse-to-fine chain" in tex
    assert (work / "results/report.pdf").stat().st_size > 0


def test_a_bad_checksum_stops_the_download_and_leaves_nothing(tmp_path):
    write_archive(tmp_path / "archive.tar.gz", per_batch=10)
    (tmp_path / "data.yaml").write_text(f"data: {{url: '{tmp_path / 'archive.tar.gz'}', md5: {'0' * 32}}}\n")
    done = snakemake(tmp_path, "-j1", "resources/cifar-10-python.tar.gz", check=False)
    assert done.returncode != 0
    log = (tmp_path / "logs/data/download.log").read_text() if (tmp_path / "logs/data/download.log").exists() else ""
    assert "md5" in done.stdout + done.stderr + log
    assert not (tmp_path / "resources/cifar-10-python.tar.gz").exists()
    assert not list((tmp_path / "resources").glob("*.part"))


CHAIN = "a1-made-up-chain"


def test_a_chain_of_three_refines_from_a_grid_derives_each_range_by_its_rule_from_the_stage_before(tmp_path):
    """A made-up report alone (no shipped one): grid -> refine (best +- a decade, ranked by the best validation
    accuracy during training) -> refine (factor 3 of the top 2) -> refine (span of the top 2 +- 0.1), each with its
    own training length.  Each range.json is the rule applied to the previous stage's search.csv, inside its bounds."""
    work = tiny_workdir(tmp_path / "work")
    report = {
        "id": CHAIN,
        "assignment": "a1",
        "title": "Assignment 1 (made up): a coarse-to-fine chain from a grid",
        "experiments": {
            "coarse": {"base": {"epochs": 1}, "grid": {"lambda": [1e-4, 1e-2], "eta": [0.001, 0.01]}},
            "fine1": {
                "base": {"epochs": 2},
                "rank_by": "best_val",
                "refine": {"from": "coarse", "count": 3, "rule": "best", "margin": 1},
            },
            "fine2": {"base": {"epochs": 2}, "refine": {"from": "fine1", "count": 3, "rule": "factor", "top": 2}},
            "fine3": {"base": {"epochs": 3}, "refine": {"from": "fine2", "count": 3, "top": 2, "margin": 0.1}},
        },
    }
    (work / f"{CHAIN}.yaml").write_text(yaml.safe_dump(report, sort_keys=False))
    (work / "chain.yaml").write_text(
        yaml.safe_dump(
            {"seeds": [1], "defaults": {"n_batch": 20}, "report_files": {"shipped": None, "chain": f"{CHAIN}.yaml"}}
        )
    )
    results = work / "results" / CHAIN
    targets = [f"results/{CHAIN}/fine3/search.csv", f"results/{CHAIN}/figures/fine3_search.png"]
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-j2", *targets]
        + ["--configfile", str(work / "data.yaml"), str(work / "chain.yaml")],
        cwd=work,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    bounds = ex_search.grid_bounds(report["experiments"]["coarse"]["grid"])
    stages = ["coarse", "fine1", "fine2", "fine3"]
    for source, stage in zip(stages, stages[1:]):
        derived = json.loads((results / stage / "range.json").read_text())
        refine = report["experiments"][stage]["refine"]
        rule = ex_search.refine_rule(refine)
        metric = ex_search.rank_metric(report["experiments"][source])
        assert {k: derived[k] for k in ("from", "ranked_by", *rule)} == {"from": source, "ranked_by": metric, **rule}
        previous = pd.read_csv(results / source / "search.csv")
        assert derived["bounds"] == bounds
        assert derived["ranges"] == ex_search.refine_ranges(previous, bounds, metric=metric, **rule)
        # the stage's points were sampled inside it
        points = pd.read_csv(results / stage / "search.csv")
        for key, r in derived["ranges"].items():
            assert np.log10(points[key]).between(r["low"] - 1e-12, r["high"] + 1e-12).all()
        bounds = derived["ranges"]
    fine1 = pd.read_csv(results / "fine1" / "search.csv")
    # ranked by the best validation accuracy during training, each evaluated every epoch
    assert fine1.best_val_accuracy.is_monotonic_decreasing and fine1.best_val_epoch.isin([1.0, 2.0]).all()
    history = pd.read_csv(results / "fine1" / fine1.run[0] / "seed1" / "history.csv")
    assert list(history.epoch) == [1.0, 2.0] and history.val_accuracy.max() == fine1.best_val_accuracy[0]
    # a search ranked by its final weights records those alone
    assert pd.read_csv(results / "fine2" / "search.csv").best_val_accuracy.isna().all()
    assert (results / "figures" / "fine3_search.png").stat().st_size > 1000


def test_a_report_defining_its_own_splits_trains_on_them(tmp_path):
    """A made-up report with two splits of its own (no validation set, pixels centred; validation from the test
    set): the rules build and train on them, check_sizes sees them once the archive is unpacked, and a search
    on the split without validation is refused before any job."""
    work = tiny_workdir(tmp_path / "work")
    report = {
        "id": "a1-own-splits",
        "assignment": "a1",
        "title": "Assignment 1 (made up): splits of its own",
        "splits": {
            "own_noval": {
                "train": ["data_batch_1", "data_batch_2"],
                "val_size": 0,
                "test": ["test_batch"],
                "preprocess": "center",
            },
            "own_testval": {"train": ["data_batch_1"], "val_size": 30, "val_from": "test", "test": ["test_batch"]},
        },
        "experiments": {
            "required": {
                "base": {"epochs": 2, "n_batch": 20},
                "runs": {"noval": {"split": "own_noval"}, "testval": {"split": "own_testval"}},
            }
        },
    }
    (work / "mine.yaml").write_text(yaml.safe_dump(report, sort_keys=False), encoding="utf-8")
    (work / "add.yaml").write_text(f"report_files: {{mine: '{work / 'mine.yaml'}'}}\n", encoding="utf-8")
    targets = [f"results/a1-own-splits/required/{run}/seed1/metrics.json" for run in ("noval", "testval")]
    out = snakemake(work, "-n", *targets, extra_configs=[work / "add.yaml"]).stdout
    assert job_counts(out)["split"] == 2 and "own_noval" in out and "own_testval" in out
    snakemake(work, "-j2", *targets, extra_configs=[work / "add.yaml"])
    assert np.load(work / "results/data/own_noval/val_X.npy").shape == (0, 3072)
    assert json.loads((work / "results/data/own_testval/stats.json").read_text())["sizes"] == {
        "train": 100,
        "val": 30,
        "test": 70,
    }
    noval = json.loads((work / targets[0]).read_text())
    assert noval["val_accuracy"] is None and noval["val_images"] == 0 and noval["train_images"] == 200
    assert 0 < noval["train_accuracy"] <= 1 and 0 < noval["test_accuracy"] <= 1
    assert json.loads((work / targets[1]).read_text())["val_images"] == 30
    # the archive is unpacked: its sizes are checked against the report's splits
    too_many = {"overrides": {"a1-own-splits": {"experiments": {"required": {"base": {"n_train": 201}}}}}}
    (work / "too_many.yaml").write_text(yaml.safe_dump(too_many), encoding="utf-8")
    done = snakemake(work, "-n", *targets, check=False, extra_configs=[work / "add.yaml", work / "too_many.yaml"])
    assert done.returncode != 0 and "n_train 201 is more than the 200 training images of split 'own_noval'" in (
        done.stdout + done.stderr
    )
    search = {
        "overrides": {
            "a1-own-splits": {"experiments": {"grid": {"base": {"split": "own_noval"}, "grid": {"eta": [0.001, 0.01]}}}}
        }
    }
    (work / "search.yaml").write_text(yaml.safe_dump(search), encoding="utf-8")
    done = snakemake(work, "-n", check=False, extra_configs=[work / "add.yaml", work / "search.yaml"])
    assert done.returncode != 0 and re.search(
        "search.yaml:[0-9]+: experiments.grid: a grid search ranks its",
        done.stderr,  # the override that adds it
    )


TIMES = "a1-made-up-times"


def test_a_bar_figure_a_training_time_and_a_cost_after_the_first_epoch_are_drawn_scored_and_rendered(tmp_path):
    """A made-up report alone, with the keys the 2025 texts need: figures: [bars] on a runs experiment, a published
    train_seconds (shown, in no total) and a train_cost read at epoch 1 of the histories (the mean over seeds of
    the rows at epoch 1, not the final cost); an epoch the runs never reach is "not run" with the reason."""
    work = tiny_workdir(tmp_path / "work")
    report = {
        "id": TIMES,
        "assignment": "a1",
        "title": "Assignment 1 (made up): architectures side by side",
        "experiments": {
            "runs": {
                "base": {"epochs": 2, "n_batch": 20},
                "figures": ["bars"],
                # default and small_eta share mini-batches (a stack of 2); wide trains alone
                "runs": {"default": {}, "small_eta": {"eta": 0.0001}, "wide": {"hidden": [10]}},
            }
        },
        "published": [
            {"section": "s", "target": "runs/default", "quantity": "train_cost", "at": {"epoch": 1}, "value": 1.972},
            {"section": "s", "target": "runs/default", "quantity": "train_seconds", "value": 60.0},
            {"section": "s", "target": "runs/wide", "quantity": "test_accuracy", "value": 0.3},
            {"section": "s", "target": "runs/wide", "quantity": "val_accuracy", "at": {"epoch": 5}, "value": 0.3},
        ],
    }
    (work / f"{TIMES}.yaml").write_text(yaml.safe_dump(report, sort_keys=False))
    gradcheck = {"a1": {"checks": {"full": {"max_entries": 50}, "variance4": {"dims": 20, "samples": 10}}}}
    mine = {"seeds": [1, 2], "gradcheck": gradcheck, "report_files": {"shipped": None, "mine": f"{TIMES}.yaml"}}
    (work / "mine.yaml").write_text(yaml.safe_dump(mine))
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-j2"]
        + ["--configfile", str(work / "data.yaml"), str(work / "mine.yaml")],
        cwd=work,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = work / "results" / TIMES
    at_epoch, seconds, final, unreached = read_scorecard(work / "results/report/scorecard.csv")
    assert {r["report"] for r in (at_epoch, seconds, final, unreached)} == {TIMES}
    histories = [pd.read_csv(results / f"runs/default/seed{seed}/history.csv") for seed in (1, 2)]
    at_1 = [h.loc[h.epoch == 1.0, "train_cost"].item() for h in histories]
    assert at_epoch["ours"]["mean"] == pytest.approx(np.mean(at_1)) and at_epoch["ours"]["n"] == 2
    assert at_1 != [h.train_cost.iloc[-1] for h in histories]  # not the final cost
    assert at_epoch["at"] == {"epoch": 1} and at_epoch["verdict"] in ("reproduced", "missed")
    summary = pd.read_csv(work / "results/summary.csv").set_index(["experiment", "run"])
    assert seconds["kind"] == "time" and seconds["verdict"] == "shown"
    assert seconds["ours"]["mean"] == pytest.approx(summary.loc[("runs", "default")].train_seconds.mean())
    assert (summary.loc[("runs", "default")].stack_size == 2).all() and (
        summary.loc[("runs", "wide")].stack_size == 1
    ).all()
    assert final["verdict"] in ("reproduced", "missed")
    assert unreached["verdict"] == "not run"
    assert unreached["causes"] == ["2 of 2 seeds' histories never reached epoch 5 (the last evaluation: epoch 2)"]
    hits = sum(r["verdict"] == "reproduced" for r in (at_epoch, final))
    assert f"{TIMES}: {hits} of 3 reproduced" in (work / "logs/report/scorecard.log").read_text()
    assert (results / "figures/runs_bars.png").stat().st_size > 1000
    tex = (work / "results/report/report.tex").read_text()
    assert "runs_bars.png" in tex and "train s" in tex and "report's train\\_cost at epoch 1" in tex
    assert "train\\_cost at epoch 1 of \\texttt{runs/default}" in tex
    assert re.search(r"train\\_seconds of \\texttt\{runs/default\} & 60\.0 & [0-9.]+ & .* & shown \\\\", tex)
    assert re.search(r"^default & .* & [0-9.]+\$\^\\dagger\$ & ", tex, re.M)  # its time: the stack's
    assert "the time of the whole stack of 2 models the run trained in, shared" in tex
    assert "1 more shown beside ours, not scored" in tex
    assert (work / "results/report.pdf").read_bytes()[:5] == b"%PDF-"
