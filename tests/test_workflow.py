"""The whole workflow, as a subprocess, on a tiny synthetic archive served as file://."""

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ROOT, TINY, tiny_workdir
from conftest import run_snakemake as snakemake

from dd2424 import experiments as ex
from dd2424.scorecard import load_published
from dd2424.summary import aggregate, mean_std
from dd2424.synthetic import write_archive

pytestmark = pytest.mark.e2e


def job_counts(dry_run_output):
    """{rule: count} from the 'Job stats' table of a dry run."""
    table = dry_run_output.split("Job stats:")[1].split("total")[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", table, re.M)}


def merged_config(workdir):
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    tiny = yaml.safe_load(TINY.read_text())

    def merge(a, b):
        for k, v in b.items():
            a[k] = merge(a.get(k, {}), v) if isinstance(v, dict) and isinstance(a.get(k), dict) else v
        return a

    return merge(config, tiny)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    if shutil.which("latexmk") is None:
        pytest.fail("latexmk is not installed: `make test` installs TeX (or see README)")
    workdir = tiny_workdir(tmp_path_factory.mktemp("run"))
    snakemake(workdir, "-j2")
    return workdir


def test_report_and_summary_are_built(workdir):
    pdf = workdir / "results/report.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    summary = pd.read_csv(workdir / "results/summary.csv")
    config = merged_config(workdir)
    expected = {
        (a, e, run, seed)
        for a in config["assignments"]
        for e, exp in config["assignments"][a]["experiments"].items()
        for run in ex.static_runs(config, a, e)
        for seed in ex.seeds_of(config, exp)
    }
    assert set(zip(summary.assignment, summary.experiment, summary.run, summary.seed)) == expected
    assert {"a1", "a2", "a3"} <= set(summary.assignment)
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
        exp = config["assignments"][row.assignment]["experiments"][row.experiment]
        if "best_of" in exp or "refine" in exp:
            continue
        spec = ex.static_runs(config, row.assignment, row.experiment)[row.run]
        assert (row.epochs, row.n_batch, row.eta, row.loss) == (
            spec["epochs"],
            spec["n_batch"],
            spec["eta"],
            spec["loss"],
        )
    assert (summary.set_index(["experiment", "run"]).loc[("required_003", "lam1_eta0.001"), "lambda"] == 1.0).all()
    # the synthetic classes are separable: the good runs learn far above chance
    assert summary[summary.experiment == "required_003"].test_accuracy.max() > 0.5
    assert summary[summary.assignment == "a2"].hidden.eq("50").all()


def test_gradient_check_passes_the_bar(workdir):
    table = pd.read_csv(workdir / "results/a1/gradcheck.csv")
    assert set(table.loss) == {"softmax", "bce"}
    assert set(table.parameter) == {"W1", "b1"}
    assert (table.max_rel_error < 1e-6).all()
    assert table[table.check == "full"].dims.eq(3072).all()
    deep = pd.read_csv(workdir / "results/a3/gradcheck.csv")
    assert (deep.max_rel_error < 1e-6).all()
    four_bn = set(deep[deep.check == "four_layer_bn"].parameter)
    assert four_bn == {"W1", "W2", "W3", "W4", "b4", "gamma1", "gamma2", "gamma3", "beta1", "beta2", "beta3"}


def test_report_numbers_come_from_the_results(workdir):
    tex = (workdir / "results/report/report.tex").read_text()
    summary = pd.read_csv(workdir / "results/summary.csv")
    agg = aggregate(
        summary[
            summary.experiment.isin(
                ["required_003", "required_002", "cyclic_001", "final_001", "final_000", "layers_004", "sigma_004"]
            )
        ]
    )
    for _, r in agg.iterrows():
        text = mean_std(r.test_accuracy_mean, r.test_accuracy_std, r.test_accuracy_count)
        assert text.replace("±", r"$\pm$") in tex
    best = pd.read_csv(workdir / "results/a1/grid2_003/search.csv").iloc[0]
    assert f"$n_\\text{{batch}} = {best.n_batch}$" in tex
    for figure in (
        "a1/figures/required_003_curves",
        "a1/figures/required_003_weights",
        "a1/figures/bce_003_histograms",
        "a2/figures/cyclic_001_schedule",
        "a2/figures/lambda_fine_001_search",
        "a2/figures/fine_000_search",
        "a2/figures/final_001_curves",
        "a3/figures/layers_004_curves",
        "a3/figures/sigma_004_curves",
        "a3/figures/lambda_grid_fine_004_search",
        "a3/figures/lambda_final_004_curves",
    ):
        assert f"../{figure}.png" in tex
        assert (workdir / f"results/{figure}.png").stat().st_size > 1000
    # The training's arithmetic against the GEMM rate the workflow measured: every model counted.
    gemm = json.loads((workdir / "results/report/gemm.json").read_text())["gflops"]
    assert gemm > 0 and f"{gemm:.1f}\\,GFLOP/s" in tex
    assert f"in all & {len(summary)} & " in tex


def test_the_best_grid_point_is_what_grid_best_trained(workdir):
    best = pd.read_csv(workdir / "results/a1/grid2_003/search.csv").iloc[0]
    summary = pd.read_csv(workdir / "results/summary.csv")
    trained = summary[summary.experiment == "grid2_best_003"].iloc[0]
    assert (trained.n_batch, trained.eta, trained["lambda"]) == (best.n_batch, best.eta, best["lambda"])
    lam = pd.read_csv(workdir / "results/a3/lambda_grid_fine_004/search.csv").iloc[0]["lambda"]
    final = summary[summary.experiment == "lambda_final_004"]
    assert np.isclose(final["lambda"], lam, rtol=1e-12).all() and (final.bn_alpha == 0.7).all()


def test_fine_search_is_derived_from_the_coarse_results(workdir):
    coarse = pd.read_csv(workdir / "results/a2/lambda_coarse_001/search.csv")
    fine = pd.read_csv(workdir / "results/a2/lambda_fine_001/search.csv")
    ranges = json.loads((workdir / "results/a2/lambda_fine_001/range.json").read_text())["ranges"]["lambda"]
    top = np.log10(coarse["lambda"].head(3))
    assert ranges["low"] == pytest.approx(max(-5, top.min() - 0.25))
    assert ranges["high"] == pytest.approx(min(-1, top.max() + 0.25))
    assert np.log10(fine["lambda"]).between(ranges["low"], ranges["high"]).all()
    summary = pd.read_csv(workdir / "results/summary.csv")
    final = summary[(summary.assignment == "a2") & (summary.experiment == "final_001")]
    assert np.isclose(final["lambda"], fine["lambda"].iloc[0], rtol=1e-12).all()
    assert final.seed.nunique() == 2
    momentum_final = summary[summary.experiment == "final_000"]
    best = pd.read_csv(workdir / "results/a2/fine_000/search.csv").iloc[0]
    assert np.isclose(momentum_final.eta, best.eta, rtol=1e-12).all()
    assert np.isclose(momentum_final["lambda"], best["lambda"], rtol=1e-12).all()


def test_nothing_reruns_and_a_change_reruns_only_its_experiment(workdir):
    assert "Nothing to be done" in snakemake(workdir, "-n").stdout
    (workdir / "change.yaml").write_text("assignments: {a1: {experiments: {flip: {base: {lambda: 0.2}}}}}\n")
    out = snakemake(workdir, "-n", extra_configs=[workdir / "change.yaml"]).stdout
    counts = job_counts(out)
    assert sum(n for rule, n in counts.items() if rule.startswith("train_")) == 4  # flip's two runs x two seeds
    assert re.findall(r"Training a1/(\w+)/", out) and set(re.findall(r"Training a1/(\w+)/", out)) == {"flip"}
    assert "gradcheck" not in counts and "split" not in counts


def test_a_published_value_retrains_nothing(workdir):
    """The published numbers reach the report only: editing them reruns the report, no training."""
    published = ROOT / "report/published.yaml"
    original = published.read_text()
    assert "value: 0.2571}" in original
    try:
        published.write_text(original.replace("value: 0.2571}", "value: 0.2572}"))  # one published number edited
        counts = job_counts(snakemake(workdir, "-n").stdout)
    finally:
        published.write_text(original)
    assert set(counts) == {"render_report", "report", "all"}, counts


def test_report_only_config_values_retrain_nothing(workdir):
    """Which report an experiment reproduces, what it does not state, its note: report only."""
    (workdir / "attribution.yaml").write_text(
        "assignments: {a1: {experiments: {required_002: {source: {report: '003', section: 'x'}, "
        "not_stated: ['something else'], note: 'a note'}}}}\n"
    )
    counts = job_counts(snakemake(workdir, "-n", extra_configs=[workdir / "attribution.yaml"]).stdout)
    assert set(counts) == {"render_report", "report", "all"}, counts


def test_the_pdf_opens_with_the_scorecard(workdir):
    tex = (workdir / "results/report/report.tex").read_text()
    total = re.search(r"\\textbf\{(\d+) of (\d+) published numbers reproduced\}", tex)
    assert total, "no scorecard total in the report"
    assert int(total.group(2)) == len(load_published(ROOT / "report/published.yaml"))
    assert tex.index("Reproduction scorecard") < tex.index("Assignment 1")
    # every report's entries are listed, with a verdict
    for report in ("000", "001", "002", "003", "004"):
        assert f"\n{report} & " in tex
    assert "Reproduces report 002" in tex and "From the assignment text" in tex
    assert "Not stated in the report" in tex


# sigma_004's three runs without batch norm: one job per seed.
SIGMA_STACK = "train_a3_sigma_004_sigma1e_1_sigma1e_3_sigma1e_4"


@pytest.mark.parametrize(
    "edit,reruns",
    [
        # a title only the report shows
        ("assignments: {a2: {title: 'Another title'}}", {"render_report", "report"}),
        # which runs get weight images: a figure and the report, no training
        (
            "assignments: {a1: {figures: {weights: [required_003, bce_003, step_decay_003]}}}",
            {"weights", "render_report", "report", "all"},
        ),
        # one run's hyper-parameter, a run trained alone: that run's seeds and what reads them
        # (bce_003's figures: curves, weight images, histograms)
        (
            "assignments: {a1: {experiments: {bce_003: {runs: {softmax: {eta: 0.002}}}}}}",
            {"train_a1_bce_003_softmax", "curves", "weights", "histograms"}
            | {"summary", "summary_all", "render_report", "report", "all"},
        ),
        # one run's sigma, a run trained in a stack with its siblings of the same shape:
        # that stack's seeds, not the batch-normalised stack beside it
        (
            "assignments: {a3: {experiments: {sigma_004: {runs: {sigma1e-3: {init_sigma: 0.002}}}}}}",
            {SIGMA_STACK, "curves", "summary", "summary_all", "render_report", "report", "all"},
        ),
    ],
)
def test_each_kind_of_edit_reruns_exactly_what_depends_on_it(workdir, edit, reruns):
    (workdir / "edit.yaml").write_text(edit + "\n")
    counts = job_counts(snakemake(workdir, "-n", extra_configs=[workdir / "edit.yaml"]).stdout)
    assert set(counts) <= reruns | {"all"} and set(counts) >= reruns - {"all"}, counts
    for job in ("train_a1_bce_003_softmax", SIGMA_STACK):
        if job in counts:
            assert counts[job] == 2  # its two seeds, nothing else


def test_the_bonus_searches_trains_its_recipe_and_ablation_and_has_its_section(workdir):
    summary = pd.read_csv(workdir / "results/summary.csv")
    bonus = summary[summary.assignment == "bonus"].set_index(["experiment", "run", "seed"])
    best = json.loads((workdir / "results/bonus/search/best.json").read_text())["best"]
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
    check = pd.read_csv(workdir / "results/bonus/gradcheck.csv")
    assert (check.max_rel_error < 1e-6).all() and (check.dropout > 0).all()
    tex = (workdir / "results/report/report.tex").read_text()
    section = tex[tex.index("Bonus: the best fully-connected network") :]
    for run in ablation.index:
        assert run.replace("_", r"\_") + " & " in section
    assert "Against published student results" in section and "Training cost" in section
    mean = recipe.test_accuracy.mean() * 100
    assert f"{mean:.2f}" in section


def test_the_bonus_can_be_left_out_of_all(workdir):
    (workdir / "no_bonus.yaml").write_text("assignments: {bonus: {in_all: false}}\n")
    out = snakemake(workdir, "-n", extra_configs=[workdir / "no_bonus.yaml"]).stdout
    counts = job_counts(out)
    assert not any(rule.startswith("train_bonus") for rule in counts), counts
    assert {"summary_all", "render_report", "report"} <= set(counts)
    assert "Nothing to be done" in snakemake(workdir, "-n", "bonus", extra_configs=[workdir / "no_bonus.yaml"]).stdout


def test_a_search_stage_trains_as_stacks_of_the_chunk_size(workdir):
    """One job per chunk of points; each point keeps its own files."""
    out = snakemake(workdir, "-n", "--forceall", "results/a2/lambda_coarse_001/search.csv").stdout
    assert job_counts(out)["train_a2_lambda_coarse_001_seed1_chunk0"] == 1
    (workdir / "chunks.yaml").write_text("search: {chunk_size: 3}\n")
    out = snakemake(
        workdir, "-n", "--forceall", "results/a2/lambda_coarse_001/search.csv", extra_configs=[workdir / "chunks.yaml"]
    ).stdout
    counts = job_counts(out)
    assert counts["train_a2_lambda_coarse_001_seed1_chunk0"] == counts["train_a2_lambda_coarse_001_seed1_chunk1"] == 1
    assert "train_a2_lambda_coarse_001_seed1_chunk2" not in counts  # 4 points: 3 + 1
    log = (workdir / "logs/a2/lambda_coarse_001/seed1_chunk0.log").read_text()
    assert "a stack of 4" in log
    for point in ("p000", "p001", "p002", "p003"):
        metrics = json.loads((workdir / f"results/a2/lambda_coarse_001/{point}/seed1/metrics.json").read_text())
        assert metrics["stack_size"] == 4 and metrics["run"] == point
        history = pd.read_csv(workdir / f"results/a2/lambda_coarse_001/{point}/seed1/history.csv")
        # A search point's history: its final weights only, evaluated on both sets.
        assert len(history) == 1 and history["update"].iloc[0] == metrics["updates"]
        assert history.val_accuracy.iloc[0] == metrics["val_accuracy"] and history.train_accuracy.notna().all()


def test_snakemake_html_report(workdir):
    snakemake(workdir, "--report", "results/report.html")
    html = (workdir / "results/report.html").read_text(errors="replace")
    assert "required_003_curves.png" in html and "lambda_fine_001_search.png" in html


def test_a_bad_checksum_stops_the_download_and_leaves_nothing(tmp_path):
    write_archive(tmp_path / "archive.tar.gz", per_batch=10)
    (tmp_path / "data.yaml").write_text(f"data: {{url: '{tmp_path / 'archive.tar.gz'}', md5: {'0' * 32}}}\n")
    done = snakemake(tmp_path, "-j1", "resources/cifar-10-python.tar.gz", check=False)
    assert done.returncode != 0
    log = (tmp_path / "logs/data/download.log").read_text() if (tmp_path / "logs/data/download.log").exists() else ""
    assert "md5" in done.stdout + done.stderr + log
    assert not (tmp_path / "resources/cifar-10-python.tar.gz").exists()
    assert not list((tmp_path / "resources").glob("*.part"))
