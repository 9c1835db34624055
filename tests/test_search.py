"""Search bookkeeping: the ranges a refined search derives by each rule, and the ranking by the best
validation accuracy during training (rank_by: best_val), on made-up tables with numbers worked by hand."""

import math

import numpy as np
import pandas as pd
import pytest
from conftest import default_spec

from dd2424.nn import trainer
from dd2424.pipeline.search import grid_bounds, rank_metric, ranked, refine_ranges, refine_rule
from dd2424.pipeline.training import build_network

LOG = {"scale": "log10", "low": -5, "high": -1}


def table(**columns):
    return pd.DataFrame({"run": [f"p{i:03d}" for i in range(len(next(iter(columns.values()))))], **columns})


def test_span_is_todays_rule_the_top_three_widened_by_a_quarter_decade_inside_the_coarse_range():
    t = table(**{"lambda": [1e-2, 1e-4, 1e-3, 1e-5, 1e-1], "val_accuracy": [0.40, 0.50, 0.45, 0.30, 0.10]})
    # the top three are 1e-4, 1e-3, 1e-2: log10 span [-4, -2], widened by 0.25
    assert refine_ranges(t, {"lambda": LOG}, 3, 0.25) == {"lambda": {"low": -4.25, "high": -1.75, "scale": "log10"}}
    assert refine_rule({"from": "c", "count": 4}) == {"rule": "span", "top": 3, "margin": 0.25}
    # the best at the coarse range's edge: -5 - 0.25 is kept at -5
    t.loc[3, "val_accuracy"] = 0.9
    assert refine_ranges(t, {"lambda": LOG}, 2, 0.25)["lambda"] == {"low": -5, "high": -3.75, "scale": "log10"}


def test_best_from_a_grid_is_the_best_point_plus_minus_a_decade_beyond_the_grids_edge():
    grid = {"lambda": [1e-5, 1e-4, 1e-3, 1e-2, 1e-1]}
    bounds = grid_bounds(grid)
    assert bounds == {"lambda": {"scale": "log10", "low": None, "high": None}}  # a grid samples no range
    t = table(**grid, val_accuracy=[0.50, 0.45, 0.40, 0.30, 0.10])
    ranges = refine_ranges(t, bounds, **refine_rule({"rule": "best", "margin": 1}))
    assert ranges == {"lambda": {"low": -6.0, "high": -4.0, "scale": "log10"}}


def test_factor_is_a_third_of_the_smallest_to_three_times_the_largest_of_the_top_k():
    t = table(
        **{"lambda": [1e-3, 3e-3, 1e-2, 1e-1], "eta": [0.01, 0.02, 0.04, 0.1], "val_accuracy": [0.5, 0.4, 0.45, 0.1]}
    )
    ranges = refine_ranges(
        t, grid_bounds({"lambda": [1e-3, 1e-1], "eta": [0.01, 0.1]}), **refine_rule({"rule": "factor", "top": 3})
    )
    assert ranges["lambda"]["low"] == pytest.approx(-3 - math.log10(3), abs=1e-12)  # log10(1e-3 / 3)
    assert ranges["lambda"]["high"] == pytest.approx(-2 + math.log10(3), abs=1e-12)  # log10(1e-2 * 3)
    assert ranges["eta"]["low"] == pytest.approx(math.log10(0.01 / 3), abs=1e-12)
    assert ranges["eta"]["high"] == pytest.approx(math.log10(0.04 * 3), abs=1e-12)


def test_a_grid_key_with_a_zero_is_linear_and_kept_inside_the_grids_values():
    grid = {"dropout": [0.0, 0.2, 0.5]}
    bounds = grid_bounds(grid)
    assert bounds == {"dropout": {"scale": "linear", "low": 0.0, "high": 0.5}}
    t = table(**grid, val_accuracy=[0.5, 0.4, 0.3])
    # best: 0 +- 0.1, and no negative dropout
    assert refine_ranges(t, bounds, rule="best", margin=0.1)["dropout"] == {"low": 0.0, "high": 0.1, "scale": "linear"}
    # factor 2 of the top two (0, 0.2): [0 / 2, 0.2 * 2] = [0, 0.4]
    assert refine_ranges(t, bounds, rule="factor", top=2, factor=2)["dropout"] == pytest.approx(
        {"low": 0.0, "high": 0.4, "scale": "linear"}
    )
    # of (0.2, 0.5): [0.1, 1.0], kept at the grid's 0.5
    t["val_accuracy"] = [0.1, 0.4, 0.5]
    assert refine_ranges(t, bounds, rule="factor", top=2, factor=2)["dropout"] == pytest.approx(
        {"low": 0.1, "high": 0.5, "scale": "linear"}
    )
    with pytest.raises(ValueError, match="refine rule 'halve' is not one of span, best, factor"):
        refine_ranges(t, bounds, rule="halve")


def test_a_three_stage_chain_from_a_grid_each_stage_by_its_rule_inside_the_one_before():
    """grid -> best (a decade) -> factor 3 of the top 2 -> span of the top 2 +- 0.1, on made-up tables."""
    grid = {"lambda": [1e-4, 1e-3, 1e-2]}
    stage1 = refine_ranges(table(**grid, val_accuracy=[0.3, 0.5, 0.4]), grid_bounds(grid), rule="best", margin=1)
    assert stage1 == {"lambda": {"low": -4.0, "high": -2.0, "scale": "log10"}}
    # stage 2 from stage 1's points: the best two are 10^-3.5 and 10^-2.2; factor 3 gives
    # [-3.5 - log10 3, -2.2 + log10 3] = [-3.977, -1.723], kept inside [-4, -2]
    t1 = table(**{"lambda": [10**-3.5, 10**-2.2, 10**-3.9], "val_accuracy": [0.50, 0.48, 0.2]})
    stage2 = refine_ranges(t1, stage1, rule="factor", top=2, factor=3)
    assert stage2["lambda"]["low"] == pytest.approx(-3.5 - math.log10(3), abs=1e-12)
    assert stage2["lambda"]["high"] == -2.0
    # stage 3 from stage 2's points: the best two 10^-3.1, 10^-2.9, widened by 0.1: [-3.2, -2.8]
    t2 = table(**{"lambda": [10**-3.7, 10**-2.9, 10**-3.1], "val_accuracy": [0.1, 0.51, 0.52]})
    stage3 = refine_ranges(t2, stage2, rule="span", top=2, margin=0.1)
    assert stage3["lambda"]["low"] == pytest.approx(-3.2, abs=1e-12)
    assert stage3["lambda"]["high"] == pytest.approx(-2.8, abs=1e-12)


# ------------------------------------------------------------------ ranking by the best during training


def history(val_accuracies, per_epoch=10):
    return [
        {"update": e * per_epoch, "epoch": float(e), "val_accuracy": v} for e, v in enumerate(val_accuracies, start=1)
    ]


def test_the_best_validation_accuracy_of_a_history_and_its_epoch():
    # the best is the third epoch's, not the last
    assert trainer.best_validation(history([0.30, 0.38, 0.42, 0.40, 0.39])) == {
        "best_val_accuracy": 0.42,
        "best_val_epoch": 3.0,
        "best_val_update": 30,
    }
    # a tie: the earliest; an evaluation with no accuracy is passed over; none at all: nothing
    assert trainer.best_validation(history([0.30, 0.42, float("nan"), 0.42]))["best_val_epoch"] == 2.0
    assert trainer.best_validation(history([float("nan")])) == {}


def test_a_search_ranked_by_best_val_picks_the_point_best_during_training_and_refines_around_it():
    t = table(
        **{
            "lambda": [1e-4, 1e-3, 1e-2],
            "val_accuracy": [0.45, 0.40, 0.30],  # by the final weights p000 is best
            "best_val_accuracy": [0.46, 0.41, 0.48],  # during training p002 was
        }
    )
    assert rank_metric({"grid": {}}) == "val_accuracy"
    assert rank_metric({"grid": {}, "rank_by": "best_val"}) == "best_val_accuracy"
    assert list(ranked(t, "best_val_accuracy").run) == ["p002", "p000", "p001"]
    assert list(ranked(t).run) == ["p000", "p001", "p002"]
    ranges = refine_ranges(t, {"lambda": LOG}, metric="best_val_accuracy", rule="best", margin=0.5)
    assert ranges["lambda"] == {"low": -2.5, "high": -1.5, "scale": "log10"}


def test_evaluating_the_validation_set_every_epoch_leaves_the_weights_and_the_final_figures_as_they_were(rng):
    """curves "val" (rank_by: best_val) against False (a search point today) and True (a headline run)."""
    X = rng.normal(size=(230, 12)).astype(np.float32)
    y = rng.integers(0, 10, 230)
    specs = [default_spec(eta=e, epochs=3, n_batch=50, run=f"p{i}") for i, e in enumerate((0.01, 0.1))]
    out = {}
    for curves in (False, "val", True):
        net = build_network(specs, 12, np.random.default_rng(5))
        rows, _ = trainer.train(
            net, (X[:200], y[:200]), (X[200:], y[200:]), specs, np.random.default_rng(7), curves=curves
        )
        out[curves] = (net.params, rows)
    for curves in ("val", True):
        assert all(np.array_equal(out[False][0][k], out[curves][0][k]) for k in out[False][0])
    final, val, full = (out[c][1][1] for c in (False, "val", True))
    assert [r["update"] for r in final] == [12]
    assert [r["update"] for r in val] == [4, 8, 12]  # every epoch (4 mini-batches of 200 images), none before
    assert all(math.isnan(r["train_accuracy"]) for r in val[:-1]) and val[-1] == final[-1]
    # the same evaluations a headline run's curves hold at the same updates
    assert [r["val_accuracy"] for r in val] == [r["val_accuracy"] for r in full[1:]]


def test_a_range_refined_from_a_grid_stays_inside_what_a_run_accepts():
    """A dropout grid's best at 0.6, refined by best ± a decade: [0.06, 6] unbounded, [0.06, 1) within the
    run spec's limits (a dropout rate below 1), taken from its schema."""
    from conftest import ROOT

    from dd2424.pipeline.reports import load_schema, value_limits

    defs = load_schema(ROOT / "workflow/schemas/report.schema.yaml", ROOT / "workflow/schemas/config.schema.yaml")
    grid = {"dropout": [0.1, 0.3, 0.6]}
    points = table(dropout=grid["dropout"], val_accuracy=[0.3, 0.4, 0.5])
    assert value_limits(defs["$defs"], "dropout") == {"low": 0, "high": 1}
    free = refine_ranges(points, grid_bounds(grid), rule="best", margin=1)["dropout"]
    assert free["low"] == pytest.approx(math.log10(0.06)) and free["high"] == pytest.approx(math.log10(6))
    limits = {"dropout": value_limits(defs["$defs"], "dropout")}
    kept = refine_ranges(points, grid_bounds(grid, limits), rule="best", margin=1)["dropout"]
    assert kept["low"] == pytest.approx(math.log10(0.06)) and kept["high"] == 0.0
    # λ's schema has no upper limit and a lower one of 0, which no log reaches: unbounded as before
    assert grid_bounds({"lambda": [1e-3, 1e-1]}, {"lambda": value_limits(defs["$defs"], "lambda")}) == grid_bounds(
        {"lambda": [1e-3, 1e-1]}
    )
