"""Report helpers: LaTeX escaping, number formatting, a clear error without TeX."""

import os

import pytest

from dd2424.pdf import filters, report


def test_tex_escapes_specials():
    assert filters.tex("lam0.1_eta0.001") == r"lam0.1\_eta0.001"
    assert filters.tex("39.10 ± 0.21") == r"39.10 $\pm$ 0.21"
    assert filters.tex("50% & #1") == r"50\% \& \#1"


def test_numbers_for_latex():
    assert filters.pct(0.39115) == "39.12"
    assert filters.pct(float("nan")) == "--"
    assert filters.mnum(1e-5) == r"\ensuremath{10^{-5}}"
    assert filters.mnum(2.5e-5) == r"\ensuremath{2.5 \times 10^{-5}}"
    assert filters.mnum(0.001) == "0.001"
    assert [filters.seconds(s) for s in (1234.56, 32.44, 3.214, 0.04512, float("nan"))] == [
        "1234.6",
        "32.4",
        "3.2",
        "0.045",
        "--",
    ]


def test_missing_latex_names_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(report.shutil, "which", lambda name: None)
    (tmp_path / "r.tex").write_text("")
    with pytest.raises(SystemExit, match="texlive-latex-recommended"):
        report.build_pdf(tmp_path / "r.tex", tmp_path / "r.pdf", tmp_path / "log")
    assert not (tmp_path / "r.pdf").exists()


def test_mean_std_with_one_seed_shows_no_spread():
    from dd2424.pipeline.summary import mean_std

    assert mean_std(0.4, float("nan"), 1) == "40.00"
    assert mean_std(0.4, 0.01, 3) == "40.00 ± 1.00"


def test_every_diverged_run_is_listed_whatever_its_experiment():
    import pandas as pd

    from dd2424.pdf.report import diverged_runs

    summary = pd.DataFrame(
        {
            "report": ["r1", "r1", "r3", "r3", "r2"],
            "experiment": ["required", "required", "sigma", "sigma", "lambda_coarse"],
            "run": ["fast", "fast", "s4", "s4", "p003"],
            "diverged": [True, False, True, True, False],
        }
    )
    assert diverged_runs(summary) == [
        {"report": "r1", "experiment": "required", "run": "fast", "diverged": 1, "seeds": 2},
        {"report": "r3", "experiment": "sigma", "run": "s4", "diverged": 2, "seeds": 2},
    ]


def test_training_arithmetic_sets_each_reports_useful_products_against_its_training_jobs():
    import pandas as pd

    from dd2424.pdf.provenance import training_arithmetic

    # A linear model (10 updates of 100) and a two-layer stack of two (5 updates of 50 each);
    # hidden as summary.csv reads back: 'none', and 50 parsed as a number.
    summary = pd.DataFrame(
        {
            "report": ["a1", "a2", "a2"],
            "hidden": ["none", 50, 50],
            "updates": [10, 5, 5],
            "n_batch": [100, 50, 50],
        }
    )
    linear = 2 * 2 * 3072 * 10  # forward and weight gradient, no input gradient
    two_layer = 2 * 2 * 3072 * 50 + 3 * 2 * 50 * 10
    benchmarks = [
        {"group": "a1/required", "seconds": 2.0},
        {"group": "gradcheck/a1", "seconds": 100.0},  # not training
        {"group": "a2/search", "seconds": 1.0},
        {"group": "a20/other", "seconds": 50.0},  # another report whose name starts alike
        {"group": "data/split_batch1", "seconds": 7.0},
    ]
    table = training_arithmetic(summary, benchmarks, gemm_gflops=10.0)
    a1, a2 = table["parts"]
    assert (a1["part"], a1["models"], a1["seconds"]) == ("a1", 1, 2.0)
    assert a1["tflop"] == pytest.approx(1000 * linear / 1e12)
    assert a1["gflops"] == pytest.approx(1000 * linear / 2.0 / 1e9)
    assert a1["share"] == pytest.approx(a1["gflops"] / 10.0)
    assert (a2["models"], a2["seconds"]) == (2, 1.0)
    assert a2["tflop"] == pytest.approx(2 * 250 * two_layer / 1e12)
    total = table["total"]
    assert (total["models"], total["seconds"]) == (3, 3.0)
    assert total["tflop"] == pytest.approx(a1["tflop"] + a2["tflop"])
    assert total["share"] == pytest.approx((a1["tflop"] + a2["tflop"]) * 1e3 / 3.0 / 10.0)


def test_training_arithmetic_counts_a_convnets_banks_as_its_table_holds_them():
    """A ConvNet's patchify layer counts: one bank as a number, two as the list text summary.csv reads back."""
    import pandas as pd

    from dd2424.pdf.provenance import training_arithmetic

    summary = pd.DataFrame(
        {
            "report": ["c", "c", "d"],
            "hidden": [50, 50, 50],
            "updates": [1, 1, 1],
            "n_batch": [1, 1, 1],
            "patch_size": [4.0, "[4, 8]", float("nan")],
            "patch_filters": [10.0, "[10, 5]", float("nan")],
        }
    )
    one = 4 * 64 * 48 * 10 + 6 * (640 * 50 + 500)
    two = 4 * 64 * 48 * 10 + 4 * 16 * 192 * 5 + 6 * (720 * 50 + 500)
    dense = 4 * 3072 * 50 + 6 * 500
    table = training_arithmetic(summary, [{"group": "c/x", "seconds": 1.0}], gemm_gflops=1.0)
    assert [p["tflop"] * 1e12 for p in table["parts"]] == pytest.approx([one + two, dense])


def test_prose_keeps_mathematics_and_escapes_the_rest():
    assert filters.prose(r"loss $\lambda\|W\|^2$ at 50% & more") == r"loss $\lambda\|W\|^2$ at 50\% \& more"
    # an odd number of $ is no mathematics: every $ is text
    assert filters.prose("costs $5") == r"costs \$5"


def test_settings_are_shown_as_their_kind_reads():
    assert filters.setting(True) == "yes" and filters.setting(0, "batch_norm") == "no"
    assert filters.setting([50, 30]) == "50-30" and filters.setting([]) == "none"
    assert filters.setting(40.0) == "40" and filters.setting(1e-5) == r"\ensuremath{10^{-5}}"
    assert filters.setting("all45k") == r"all45k" and filters.setting("a_b") == r"a\_b"


def test_a_settings_line_shows_only_what_the_runs_share_and_what_their_schedule_uses():
    from dd2424.pdf.sections import split_settings

    base = {"split": "batch1", "hidden": "none", "schedule": "cyclic", "eta": 0.01, "eta_min": 1e-5, "eta_max": 0.1}
    specs = [{**base, "lambda": 0.0, "n_s": 500, "cycles": 1}, {**base, "lambda": 0.0, "n_s": 800, "cycles": 3}]
    common, varying = split_settings(specs)
    assert varying == ["n_s", "cycles"]
    assert common == {
        "split": "batch1",
        "hidden": "none",
        "lambda": 0.0,
        "schedule": "cyclic",
        "eta_min": 1e-5,
        "eta_max": 0.1,
    }
    # eta means nothing to a cyclic schedule, epochs nothing to one that counts cycles
    step = [{**base, "schedule": "step", "step_every": 10, "epochs": 40, "momentum": 0.0}]
    assert split_settings(step)[0] == {
        "split": "batch1",
        "hidden": "none",
        "schedule": "step",
        "eta": 0.01,
        "step_every": 10,
        "epochs": 40,
    }


def test_a_cyclic_run_given_in_epochs_shows_its_epochs_not_cycles():
    from dd2424.pdf.sections import split_settings

    base = {"schedule": "cyclic", "eta_min": 1e-5, "eta_max": 0.1, "n_s": 800, "cycles": 1, "epochs": 40}
    assert split_settings([{**base, "cyclic_epochs": 20, "cyclic_updates": None}])[0] == {
        "schedule": "cyclic",
        "eta_min": 1e-5,
        "eta_max": 0.1,
        "n_s": 800,
        "cyclic_epochs": 20,
    }
    # whole cycles against a length in epochs: both columns vary, each shown where it applies
    whole = {**base, "cyclic_epochs": float("nan")}
    assert split_settings([whole, {**base, "cyclic_epochs": 20}])[1] == ["cycles", "cyclic_epochs"]
    assert filters.symbol("cyclic_epochs") == "epochs (cyclic)"


def test_an_adam_run_shows_its_optimizer_and_betas_and_an_sgd_run_shows_none_of_them():
    from dd2424.pdf.sections import split_settings

    base = {"schedule": "constant", "eta": 1e-3, "momentum": 0.0, "adam_beta1": 0.9, "adam_beta2": 0.999}
    sgd = {**base, "optimizer": "sgd", "adam_eps": 1e-8}
    adam = {**sgd, "optimizer": "adam"}
    assert split_settings([sgd])[0] == {"schedule": "constant", "eta": 1e-3}
    # momentum means nothing to Adam
    assert split_settings([adam])[0] == {
        "schedule": "constant",
        "eta": 1e-3,
        "optimizer": "adam",
        "adam_beta1": 0.9,
        "adam_beta2": 0.999,
        "adam_eps": 1e-8,
    }
    common, varying = split_settings([{**sgd, "momentum": 0.9}, adam])
    assert varying == ["momentum", "optimizer", "adam_beta1", "adam_beta2", "adam_eps"]
    assert filters.symbol("adam_beta2") == r"$\beta_2$" and filters.setting(0.999) == "0.999"


def test_a_grid_of_three_keys_is_laid_out_as_one_table_per_value_of_the_first():
    from dd2424.pdf.sections import grid_layout

    points = [
        {"run": f"g{i}", "n_batch": n, "eta": e, "lambda": lam, "val_accuracy": 0.1 * i}
        for i, (n, e, lam) in enumerate((n, e, lam) for n in (10, 50) for e in (0.001, 0.01) for lam in (0.0, 0.1, 0.5))
    ]
    layout = grid_layout(points, ["n_batch", "eta", "lambda"])
    assert (layout["outer_key"], layout["row_key"], layout["col_key"]) == ("n_batch", "eta", "lambda")
    assert layout["columns"] == [0.0, 0.1, 0.5] and [t["outer"] for t in layout["tables"]] == [10, 50]
    second = layout["tables"][1]["rows"][1]  # n_batch 50, eta 0.01
    assert second["value"] == 0.01 and [p["run"] for p in second["cells"]] == ["g9", "g10", "g11"]
    assert grid_layout(points, ["lambda"]) is None  # one key: the list of points says it all


def render_refine(experiments, name, rank_by="final", published=()):
    """refine.tex.j2 of one refined stage of made-up experiments, with one point (and ``published`` entries)."""
    from pathlib import Path

    from dd2424.pdf.sections import published_by_rank, refined_from

    env = filters.environment(str(Path(__file__).resolve().parents[1] / "report"))
    point = {"run": "p000", "lambda": 1e-3, "val_accuracy": 0.4, "test_accuracy": 0.39}
    point.update(best_val_accuracy=0.42, best_val_epoch=2.0)
    e = {
        "name": name,
        "kind": "refine",
        "common": {},
        "train_images": 100,
        "val_images": 50,
        "keys": ["lambda"],
        "points": [point],
        "show_top": 3,
        "published_top": published_by_rank(published),
        "top_quantities": [q for q in ("val_accuracy", "lambda") if any(e["quantity"] == q for e in published)],
        "point_quantities": [],
        "rank_by": rank_by,
        "figures": {"search": None},
        "ranges": {"lambda": {"low": -4.0, "high": -2.0, "scale": "log10"}},
        "refined_from": refined_from(experiments, name),
    }
    return " ".join(env.get_template("refine.tex.j2").render(e=e).split())


def test_a_refined_stage_states_the_stage_and_the_rule_its_range_comes_from():
    experiments = {
        "coarse": {"grid": {"lambda": [1e-4, 1e-2]}, "rank_by": "best_val"},
        "fine1": {"refine": {"from": "coarse", "count": 3, "rule": "best", "margin": 1}},
        "fine2": {"refine": {"from": "fine1", "count": 3, "rule": "factor", "top": 2}},
        "fine3": {"refine": {"from": "fine2", "count": 3}},
    }
    one = render_refine(experiments, "fine1")
    assert "from the grid stage \\texttt{coarse} by the rule \\emph{best}: its best point $\\pm$ 1 (on" in one
    assert "by their best validation accuracy during training" in one
    assert "bounded for a key taken in log10 only by what a run accepts (a grid samples no range)" in one
    assert "Stage" not in one  # two stages are no chain to spell out
    two = render_refine(experiments, "fine2", rank_by="best_val")
    assert "from the refine stage \\texttt{fine1} by the rule \\emph{factor}: $[\\min / 3" in two
    assert "of the values of its 2 best points" in two and "kept inside that stage's range" in two
    assert "ranked by their best validation accuracy during training" in two and "best val.\\ acc. & epoch" in two
    three = render_refine(experiments, "fine3")
    assert three.startswith("\\noindent\\emph{Settings:}")
    assert "Stage 4 of the coarse-to-fine chain \\texttt{coarse} $\\to$ \\texttt{fine1} $\\to$ \\texttt{fine2}" in three
    assert "by the rule \\emph{span}: the span of its 3 best points, widened by 0.25 on each side" in three


def test_batch_norm_placement_precise_statistics_and_noise_show_only_where_they_differ_from_the_assignments():
    from dd2424.pdf.sections import split_settings

    off = {"batch_norm": True, "bn_position": "before_relu", "precise_bn": False, "noise_std": 0.0, "salt_pepper": 0.0}
    assert split_settings([off])[0] == {"batch_norm": True}  # the assignments' settings lines stay as they were
    on = {**off, "bn_position": "after_relu", "precise_bn": True, "noise_std": 0.1, "salt_pepper": 0.02}
    assert split_settings([on])[0] == {
        "batch_norm": True,
        "bn_position": "after_relu",
        "precise_bn": True,
        "noise_std": 0.1,
        "salt_pepper": 0.02,
    }
    assert split_settings([off, on])[1] == ["bn_position", "precise_bn", "noise_std", "salt_pepper"]
    assert (
        f"{filters.symbol('bn_position')} {filters.setting('after_relu', 'bn_position')}"
        == "batch norm placed after ReLU"
    )
    assert filters.setting(1, "precise_bn") == "yes" and filters.setting(0.0, "noise_std") == "0"


def test_a_run_without_a_validation_set_shows_dashes_for_its_validation_figures():
    """NaN validation figures (a split with val_size 0) read "--" (an en dash) in the runs table, not "nan"."""
    import math
    from pathlib import Path

    import pandas as pd
    from conftest import ROOT, default_spec

    from dd2424.pdf.sections import FIGURE_KINDS, runs_context
    from dd2424.pipeline.table import HYPER

    spec = default_spec(split="all50k", hidden="none", **{"lambda": 0.1})
    rows = [
        {
            **{k: spec[k] for k in HYPER},
            "experiment": "required",
            "run": "only",
            "seed": seed,
            "train_accuracy": 0.5 + seed / 100,
            "val_accuracy": math.nan,
            "test_accuracy": 0.4,
            "train_loss": 1.25,
            "val_loss": math.nan,
            "test_loss": 1.5,
            "test_cost": 1.75,
            "samples_per_s": 1e5,
            "train_seconds": 12.0 + seed,
            "stack_size": 1,
            "diverged": False,
            "train_images": 50000,
            "val_images": 0,
        }
        for seed in (1, 2)
    ]
    context = runs_context({"runs": {"only": None}}, pd.DataFrame(rows), [], "required")
    figures = dict.fromkeys(FIGURE_KINDS)
    context.update(name="required", figures=figures, baseline=None, ensemble=None)
    text = filters.environment(Path(ROOT, "report")).get_template("runs.tex.j2").render(e=context)
    row = next(line for line in text.splitlines() if line.startswith("only"))
    assert row.split(" & ")[1:7] == ["51.50 $\\pm$ 0.71", "--", "40.00 $\\pm$ 0.00", "1.250", "--", "1.500"]
    assert "nan" not in text and "50,000 training and no validation images." in text


def test_a_search_stage_shows_each_published_quantity_of_a_rank_in_its_own_column():
    """A report's best point with its validation accuracy and its λ: one row, a column each (not λ under accuracy)."""
    experiments = {"coarse": {"random": {"sample": {"lambda": {"low": -5, "high": -1}}, "count": 3}}}
    experiments["fine"] = {"refine": {"from": "coarse", "count": 3}}
    published = [
        {"rank": 1, "quantity": "val_accuracy", "value": 0.512, "setting": "lambda 1e-3"},
        {"rank": 1, "quantity": "lambda", "value": 1e-3},
        {"rank": 2, "quantity": "val_accuracy", "value": 0.5},
    ]
    text = render_refine(experiments, "fine", published=published)
    assert f"rank & the report's row & {filters.symbol('val_accuracy')} & {filters.symbol('lambda')}" in text
    assert "1 & lambda 1e-3 & 51.20 & 0.001 \\\\" in text
    assert "2 & & 50.00 & \\\\" in text


def test_a_report_section_describes_each_split_its_runs_use():
    """What a split trains, validates and tests on and its preprocessing, from its definition alone."""
    from dd2424.pdf.sections import describe_split

    assert describe_split("s", {"train": ["data_batch_1"], "val": ["data_batch_2"], "test": ["test_batch"]}) == (
        "s: trains on data_batch_1, validates on data_batch_2, tests on test_batch; pixels x/255, "
        "standardised with the training part's mean and std per input dimension."
    )
    from_test = {"train": ["data_batch_1"], "test": ["test_batch"], "val_size": 5000, "val_from": "test"}
    assert "validates on the last 5,000 images of test_batch, which it leaves out of its test set" in describe_split(
        "t", {**from_test, "preprocess": "center"}
    )
    assert describe_split("t", {**from_test, "preprocess": "center"}).endswith("subtracted (not divided by the std).")
    none = {"train": ["data_batch_1", "data_batch_2"], "test": ["test_batch"], "val_size": 0, "preprocess": "unit"}
    assert "keeps no validation set" in describe_split("n", none) and describe_split("n", none).endswith("[0, 1] only.")
    zca = {"train": ["data_batch_1"], "test": ["test_batch"], "val_size": 1000, "zca_eps": 1.0}
    assert describe_split("z", zca).endswith(
        "validates on the last 1,000 images of its training batches, tests on test_batch; pixels x/255, standardised "
        "with the training part's mean and std per input dimension, then ZCA-whitened with the training covariance "
        "(eigenvalues damped by 1)."
    )


def test_a_runs_table_shows_a_dash_where_a_run_ignores_a_key_another_run_varies():
    """cycles beside a run whose length is cyclic_epochs: "--" in that row, not the ignored default."""
    import pandas as pd
    from conftest import default_spec

    from dd2424.pdf.sections import runs_context
    from dd2424.pipeline.table import HYPER

    base = default_spec(schedule="cyclic", n_s=800)
    specs = {"epochs20": {**base, "cyclic_epochs": 20}, "triangular2": {**base, "cycles": 3, "eta_max_decay": 0.5}}
    rows = [
        {**{k: spec[k] for k in HYPER}, "experiment": "e", "run": run, "seed": 1, "diverged": False}
        | {"train_accuracy": 0.5, "val_accuracy": 0.4, "test_accuracy": 0.4, "train_images": 100, "val_images": 10}
        | {"train_loss": 1.0, "val_loss": 1.0, "test_loss": 1.0, "test_cost": 1.0, "samples_per_s": 1.0}
        | {"train_seconds": 1.0, "stack_size": 2}
        for run, spec in specs.items()
    ]
    exp = {"runs": {"epochs20": {"cyclic_epochs": 20}, "triangular2": {"cycles": 3, "eta_max_decay": 0.5}}}
    context = runs_context(exp, pd.DataFrame(rows), [], "e")
    assert {"cycles", "cyclic_epochs", "eta_max_decay"} <= set(context["varying"])
    by_run = {r["run"]: r for r in context["rows"]}
    assert by_run["epochs20"]["ignored"] == ["cycles"]  # its eta_max_decay 1 is shown: a value, not ignored
    assert by_run["triangular2"]["ignored"] == ["cyclic_epochs"]
    # batch norm before the ReLU is left out of settings lines as the assignments' place, but shown in a table
    bn = [
        {**rows[0], "batch_norm": True, "bn_position": place, "run": place} for place in ("before_relu", "after_relu")
    ]
    assert (
        runs_context({"runs": {"before_relu": {}, "after_relu": {}}}, pd.DataFrame(bn), [], "e")["rows"][0]["ignored"]
        == []
    )


def test_a_baseline_names_its_run_and_the_settings_it_does_not_share_with_the_table():
    """``baseline: <experiment>/<run>`` picks that run; a setting of the table's settings line the baseline
    does not share (batch norm before the ReLU against a table after it) is named in the caption."""
    from dd2424.pdf.sections import baseline_row, by_name_and_run

    source = {
        "name": "bn_position",
        "rows": [
            {"run": "before_relu", "batch_norm": True, "bn_position": "before_relu", "test_mean": 0.40},
            {"run": "after_relu", "batch_norm": True, "bn_position": "after_relu", "test_mean": 0.41},
        ],
    }
    table = {"common": {"batch_norm": True, "bn_position": "after_relu"}}
    first = baseline_row(table, *by_name_and_run("bn_position", {"bn_position": source}))
    assert first["name"] == "bn_position/before_relu" and first["differs"] == {"bn_position": "before_relu"}
    chosen = baseline_row(table, *by_name_and_run("bn_position/after_relu", {"bn_position": source}))
    assert chosen["name"] == "bn_position/after_relu" and chosen["differs"] == {} and chosen["test_mean"] == 0.41


def test_a_runs_table_shows_each_runs_training_time_and_a_value_published_at_an_epoch_in_its_own_column():
    """train s: the mean of the seeds' train_seconds, a dagger and a footnote where a run trained in a stack of
    several; train_cost at epoch 1 in a column of its own beside the final train_cost; train_seconds published."""
    from pathlib import Path

    import pandas as pd
    from conftest import ROOT, default_spec

    from dd2424.pdf.sections import FIGURE_KINDS, runs_context
    from dd2424.pipeline.table import HYPER

    spec = default_spec(**{"lambda": 0.01})
    times = {("alone", 1): (30.0, 1), ("alone", 2): (34.0, 1), ("stacked", 1): (50.0, 3), ("stacked", 2): (52.0, 3)}
    rows = [
        {**{k: spec[k] for k in HYPER}, "experiment": "e", "run": run, "seed": seed, "diverged": False}
        | {"train_accuracy": 0.5, "val_accuracy": 0.4, "test_accuracy": 0.4, "train_images": 100, "val_images": 10}
        | {"train_loss": 1.0, "val_loss": 1.0, "test_loss": 1.0, "test_cost": 1.0, "samples_per_s": 1.0}
        | {"train_seconds": seconds, "stack_size": stack}
        for (run, seed), (seconds, stack) in times.items()
    ]
    entries = [
        {"target": "e/alone", "quantity": "train_cost", "value": 1.5},
        {"target": "e/alone", "quantity": "train_cost", "value": 1.972, "at": {"epoch": 1}},
        {"target": "e/stacked", "quantity": "train_seconds", "value": 75.0},
    ]
    context = runs_context({"runs": {"alone": {}, "stacked": {}}}, pd.DataFrame(rows), entries, "e")
    assert [(r["train_seconds"], r["stack_size"]) for r in context["rows"]] == [(32.0, 1), (51.0, 3)]
    columns = [c["key"] for c in context["published_quantities"]]
    assert columns == ["train_cost", "train_cost at epoch 1", "train_seconds"]
    context.update(name="e", figures=dict.fromkeys(FIGURE_KINDS), baseline=None, ensemble=None)
    text = filters.environment(Path(ROOT, "report")).get_template("runs.tex.j2").render(e=context)
    header = next(line for line in text.splitlines() if line.startswith("run &"))
    assert header.endswith(
        "& test cost & train s & report's train\\_cost & report's train\\_cost at epoch 1 & report's train s \\\\"
    )
    alone = next(line for line in text.splitlines() if line.startswith("alone &"))
    stacked = next(line for line in text.splitlines() if line.startswith("stacked &"))
    assert alone.split(" & ")[-5:] == ["1.000", "32.0", "1.500", "1.972", "-- \\\\"]
    assert stacked.split(" & ")[-5:] == ["1.000", "51.0$^\\dagger$", "--", "--", "75.0 \\\\"]
    assert "($^\\dagger$: the time of the whole stack of 3 models the run trained in, shared)" in text


def test_the_provenance_names_the_blas_kernel_and_the_cpu_the_numbers_depend_on():
    """Beyond the commit: the BLAS numpy calls (its kernel is chosen per CPU) and the processor."""
    import numpy as np
    import threadpoolctl

    from dd2424.pdf.provenance import machine

    np.ones((2, 2)) @ np.ones((2, 2))  # BLAS loaded
    found = machine()
    blas = next(lib for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas")
    assert found["BLAS"].startswith(f"{blas['internal_api']} {blas['version']}")
    assert found["CPU"].endswith(f", {os.cpu_count()} cores") and len(found["CPU"]) > len(", 2 cores")


def test_counts_read_as_english():
    from dd2424.pdf.filters import count_of, environment

    assert count_of(1, "seed") == "1 seed" and count_of(3, "seed") == "3 seeds" and count_of(0, "file") == "0 files"
    assert environment({"t": r"\VAR{n|count_of('seed')}"}).get_template("t").render(n=1) == "1 seed"
