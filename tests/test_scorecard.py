"""The published-numbers file and the scorecard's verdicts."""

import math

import numpy as np
import pandas as pd
import pytest
from conftest import shipped_config

from dd2424.pipeline import experiments as ex
from dd2424.pipeline.scorecard import (
    CIFAR10_MD5,
    at_words,
    by_experiment,
    causes,
    our_value,
    published_entries,
    read_scorecard,
    scorecard,
    setting_overrides,
    totals,
    within,
    write_scorecard,
)


@pytest.fixture(scope="module")
def config():
    return shipped_config()


def test_every_published_number_maps_to_an_experiment_of_its_report(config):
    entries = published_entries(config["reports"])
    assert {e["report"] for e in entries} == {r for r, rep in config["reports"].items() if rep.get("published")}
    for e in entries:
        parts = e["target"].split("/")
        if parts[0] == "gradcheck":
            continue
        exp = config["reports"][e["report"]]["experiments"][parts[0]]
        if "point" in e:  # a grid point: one of the grid's points
            specs = ex.static_runs(config, e["report"], parts[0]).values()
            assert any(all(s[k] == v for k, v in e["point"].items()) for s in specs), e
        if "rank" in e:
            assert ex.experiment_kind(exp) in ex.SEARCH_KINDS, e


def test_the_seed_reports_publish_106_numbers_and_report_2024s_grids_point_by_point(config):
    # the five student reports (the 2025 course texts' expected numbers ship beside them)
    entries = [e for e in published_entries(config["reports"]) if "2025" not in e["report"]]
    assert len(entries) == 106
    grids = [e for e in entries if e["report"] == "a1-2024-grid-bce" and e["target"] in ("grid", "grid2")]
    assert len(grids) == 18 + 4


def test_the_default_data_source_is_the_official_archive(config):
    assert config["data"]["md5"] == CIFAR10_MD5


def test_tolerances():
    assert within("test_accuracy", 0.40, 0.409)  # within one point
    assert not within("test_accuracy", 0.40, 0.415)
    assert within("test_accuracy", 0.40, 0.415, std=0.01)  # two std over seeds
    assert not within("test_accuracy", 0.40, math.nan)
    assert within("train_loss", 1.0, 1.09) and not within("train_loss", 1.0, 1.2)
    assert within("test_loss", 6.92, 6.3)  # 10 % of a large loss
    assert within("lambda", 0.01, 0.015) and not within("lambda", 0.01, 0.001)
    assert within("mean_abs_error", 5e-9, 1e-12) and not within("mean_abs_error", 5e-9, 1e-7)
    assert within("max_rel_error", 1e-6, 9e-7, bound=True) and not within("max_rel_error", 1e-6, 2e-6, bound=True)
    assert within("grad_min", -1.72, -1.0) and not within("grad_min", -1.72, 1.0)


def made_up_config(md5=CIFAR10_MD5):
    """Two made-up reports of Assignment 1: a runs experiment, a random search and a final run from it."""
    return {
        "data": {"md5": md5},
        "gradcheck": {"a1": {"defaults": {"lambda": 0.0}, "checks": {"c": {"dims": 5, "samples": 2}}}},
        "reports": {
            "r-runs": {
                "assignment": "a1",
                "experiments": {"req": {"not_stated": ["epochs: 40"], "runs": {"good": {}, "bad": {}}}},
            },
            "r-search": {
                "assignment": "a1",
                "experiments": {
                    "search": {"random": {}, "note": "Ranges as stated."},
                    "final": {"best_of": {"experiment": "search", "keys": ["lambda"]}, "runs": {"best": {}}},
                },
            },
        },
    }


def made_up_results():
    summary = pd.DataFrame(
        {
            "assignment": ["a1"] * 4,
            "report": ["r-runs"] * 4,
            "experiment": ["req"] * 4,
            "run": ["good", "good", "bad", "bad"],
            "seed": [1, 2, 1, 2],
            "test_accuracy": [0.40, 0.42, 0.30, 0.30],
            "diverged": [False, False, True, False],
        }
    )
    final = pd.DataFrame(
        {
            "assignment": ["a1"],
            "report": ["r-search"],
            "experiment": ["final"],
            "run": ["best"],
            "seed": [1],
            "lambda": [1e-2],
            "diverged": [False],
        }
    )
    summary = pd.concat([summary, final], ignore_index=True)
    search = pd.DataFrame({"run": ["p0", "p1", "p2"], "val_accuracy": [0.30, 0.45, 0.40], "lambda": [1e-3, 1e-2, 1e-4]})
    gradcheck = pd.DataFrame(
        {"check": ["c", "c"], "parameter": ["W1", "b1"], "loss": ["softmax"] * 2, "max_rel_error": [1e-9, 3e-6]}
    )
    return summary, {"r-search/search": search}, {"a1": gradcheck}


def entry(report, target, quantity, value, **more):
    experiment = target.split("/")[0]
    return {"report": report, "assignment": "a1", "experiment": experiment, "section": "s", "target": target} | {
        "quantity": quantity,
        "value": value,
        **more,
    }


def test_the_scorecard_gives_each_published_number_ours_and_a_verdict(tmp_path):
    entries = [
        entry("r-runs", "req/good", "test_accuracy", 0.405),
        entry("r-runs", "req/bad", "test_accuracy", 0.37),
        entry("r-search", "search", "val_accuracy", 0.44, rank=1),
        entry("r-search", "search", "val_accuracy", 0.44, rank=2),
        entry("r-search", "search", "val_accuracy", 0.44, rank=3),
        entry("r-search", "search", "val_accuracy", 0.44, rank=9),
        entry("r-search", "gradcheck", "max_rel_error", 1e-6, bound=True),
    ]
    config = made_up_config(md5="0" * 32)
    summary, searches, gradchecks = made_up_results()
    rows = scorecard(entries, config, summary, searches, gradchecks)
    good, bad, first, second, third, ninth, bound = rows
    assert good["ours"]["mean"] == pytest.approx(0.41) and good["ours"]["n"] == 2
    assert good["verdict"] == "reproduced" and good["causes"] == []
    assert bad["verdict"] == "missed" and bad["difference"] == pytest.approx(-0.07)
    # the known causes, generated from the config and the results
    assert any("stand-in" in c for c in bad["causes"])
    assert "not stated in the report: epochs: 40" in bad["causes"]
    assert "1 of 2 seeds diverged" in bad["causes"]
    # a search's k-th row against our k-th best by validation accuracy
    assert first["ours"]["mean"] == 0.45 and first["verdict"] == "reproduced"
    assert second["ours"]["mean"] == 0.40 and second["verdict"] == "missed"
    assert ninth["verdict"] == "not run" and ninth["ours"] is None
    # a bound holds for the worst tensor of every check
    assert bound["ours"]["mean"] == 3e-6 and bound["verdict"] == "missed"
    assert third["verdict"] == "missed" and third["causes"] == second["causes"]
    overall, per_report = totals(rows)
    assert overall == {"reproduced": 2, "total": 7, "not_run": 1, "shown": 0, "preview": 0}
    assert [(t["report"], t["reproduced"], t["total"]) for t in per_report] == [("r-runs", 1, 2), ("r-search", 1, 5)]
    # the causes of an experiment's misses are stated once for the experiment, not under every row
    groups = by_experiment(rows)
    assert [(g["report"], g["experiment"], len(g["rows"])) for g in groups] == [
        ("r-runs", "req", 2),
        ("r-search", "search", 4),
        ("r-search", "gradcheck", 1),
    ]
    # two missed rows with the same causes, and one not run: each cause once
    assert groups[1]["causes"] == second["causes"] + ninth["causes"]
    assert "Ranges as stated" in groups[1]["causes"]
    # scorecard.csv gives the same rows back
    write_scorecard(rows, tmp_path / "scorecard.csv")
    back = read_scorecard(tmp_path / "scorecard.csv")
    assert [r["verdict"] for r in back] == [r["verdict"] for r in rows]
    assert back[0]["ours"] == pytest.approx(good["ours"]) and back[2]["rank"] == 1 and back[6]["bound"] is True
    assert back[1]["causes"] == bad["causes"] and back[5]["ours"] is None and back[5]["difference"] is None


def test_no_stand_in_cause_on_the_official_data():
    summary, searches, gradchecks = made_up_results()
    (row,) = scorecard(
        [entry("r-runs", "req/bad", "test_accuracy", 0.5)], made_up_config(), summary, searches, gradchecks
    )
    assert row["verdict"] == "missed" and not any("stand-in" in c for c in row["causes"])


def test_a_miss_under_overridden_settings_names_what_the_configuration_changed():
    """A quick run (overrides of a report's experiment) is named among the causes, key path and value."""
    summary, searches, gradchecks = made_up_results()
    config = {**made_up_config(), "overrides": {"r-runs": {"experiments": {"req": {"base": {"epochs": 5}}}}}}
    (row,) = scorecard([entry("r-runs", "req/bad", "test_accuracy", 0.5)], config, summary, searches, gradchecks)
    assert "not the report's settings: the configuration overrides base.epochs=5" in row["causes"]
    (other,) = scorecard(
        [entry("r-search", "final/best", "lambda", 1e-3)], config, summary, searches, gradchecks
    )  # another report's experiment: not overridden
    assert not any("overrides" in c for c in other["causes"])
    # what only the PDF shows (a figure, a section label) is no setting: not named, and the workflow's
    # scorecard params leave it out (setting_overrides), so that it reruns no scorecard
    shown = {"r-runs": {"experiments": {"req": {"figures": ["weights"], "section": "Table 9"}}}}
    (row,) = scorecard(
        [entry("r-runs", "req/bad", "test_accuracy", 0.5)],
        {**made_up_config(), "overrides": shown},
        summary,
        searches,
        gradchecks,
    )
    assert not any("overrides" in c for c in row["causes"])
    assert setting_overrides(shown["r-runs"]) == {"experiments": {}}


def test_a_searched_hyper_parameter_that_misses_names_the_search_and_its_note():
    summary, searches, gradchecks = made_up_results()
    (row,) = scorecard(
        [entry("r-search", "final/best", "lambda", 1e-3)], made_up_config(), summary, searches, gradchecks
    )
    assert row["verdict"] == "missed" and row["ours"]["mean"] == 1e-2
    assert "chosen by the search search, whose best point depends on the points it sampled" in row["causes"]
    assert "search: Ranges as stated" in row["causes"]


def test_a_rank_of_a_search_ranked_by_best_val_is_its_kth_best_during_training():
    config = made_up_config()
    config["reports"]["r-search"]["experiments"]["search"]["rank_by"] = "best_val"
    summary, searches, gradchecks = made_up_results()
    searches["r-search/search"]["best_val_accuracy"] = [0.47, 0.46, 0.41]  # p0 was best during training
    first, second = scorecard(
        [
            entry("r-search", "search", "best_val_accuracy", 0.47, rank=1),
            entry("r-search", "search", "val_accuracy", 0.45, rank=2),
        ],
        config,
        summary,
        searches,
        gradchecks,
    )
    assert first["ours"]["mean"] == 0.47 and first["verdict"] == "reproduced"
    assert second["ours"]["mean"] == 0.45  # p1, second by its best during training, first by its final weights


def test_a_training_time_is_shown_beside_ours_and_counts_neither_as_a_hit_nor_a_miss(tmp_path):
    """train_seconds: the mean over a run's seeds beside the report's, verdict "shown" however far apart, left
    out of every total (reproduced, of, not run) and counted as shown; scorecard.csv keeps it."""
    summary, searches, gradchecks = made_up_results()
    summary["train_seconds"] = [10.0, 14.0, 3.0, 5.0, 7.0]
    entries = [
        entry("r-runs", "req/good", "test_accuracy", 0.405),
        entry("r-runs", "req/good", "train_seconds", 600.0),  # fifty times ours: a slower machine, not a miss
        entry("r-runs", "req/bad", "train_seconds", 4.0),
        entry("r-search", "search", "train_seconds", 1.0, rank=9),  # no such point: not run, yet not counted
    ]
    summary_rows = scorecard(entries, made_up_config(), summary, searches, gradchecks)
    accuracy, slow, bad, missing = summary_rows
    assert slow["kind"] == "time" and slow["verdict"] == "shown" and slow["causes"] == []
    assert slow["ours"] == pytest.approx({"mean": 12.0, "std": 2 * 2**0.5, "n": 2})
    assert slow["difference"] == pytest.approx(12.0 - 600.0)
    assert bad["verdict"] == "shown" and bad["ours"]["mean"] == 4.0
    assert missing["verdict"] == "not run"
    overall, per_report = totals(summary_rows)
    assert overall == {"reproduced": 1, "total": 1, "not_run": 0, "shown": 2, "preview": 0}
    assert [(t["report"], t["reproduced"], t["total"], t["shown"]) for t in per_report] == [
        ("r-runs", 1, 1, 2),
        ("r-search", 0, 0, 0),
    ]
    with pytest.raises(ValueError, match="train_seconds is shown beside the report's, not scored"):
        within("train_seconds", 1.0, 1.0)
    write_scorecard(summary_rows, tmp_path / "scorecard.csv")
    back = read_scorecard(tmp_path / "scorecard.csv")
    assert [r["verdict"] for r in back] == ["reproduced", "shown", "shown", "not run"]
    assert totals(back) == (overall, per_report)


def tiny_history(epochs, per_epoch=10, **columns):
    """A history.csv as a table: an evaluation before training and at the end of each of ``epochs`` epochs."""
    epoch = np.arange(epochs + 1, dtype=float)
    return pd.DataFrame({"update": (epoch * per_epoch).astype(int), "epoch": epoch, **columns})


def test_a_value_at_an_epoch_or_update_is_the_mean_over_seeds_of_the_history_rows_there(tmp_path):
    """at: {epoch: 1} reads each seed's history.csv at epoch 1 (not its final row); at: {update: 20} at update 20;
    a history that stops before, or never evaluates there, gives "not run" with the reason."""
    summary, searches, gradchecks = made_up_results()
    histories = {
        "r-runs/req/good": [
            tiny_history(3, train_cost=[2.3, 1.9, 1.7, 1.6]),
            tiny_history(3, train_cost=[2.3, 2.1, 1.8, 1.65]),
        ],
        # one seed diverged in its second epoch: its history stops at epoch 1
        "r-runs/req/bad": [tiny_history(3, train_cost=[2.3, 2.0, 1.8, 1.7]), tiny_history(1, train_cost=[2.3, 2.2])],
    }
    entries = [
        entry("r-runs", "req/good", "train_cost", 1.972, at={"epoch": 1}),
        entry("r-runs", "req/good", "train_cost", 1.75, at={"update": 20}),
        entry("r-runs", "req/bad", "train_cost", 2.1, at={"epoch": 1}),
        entry("r-runs", "req/bad", "train_cost", 1.8, at={"epoch": 2}),
        entry("r-runs", "req/good", "train_cost", 1.8, at={"epoch": 1.5}),
    ]
    epoch1, update20, bad1, unreached, between = scorecard(
        entries, made_up_config(), summary, searches, gradchecks, histories=histories
    )
    assert epoch1["ours"] == pytest.approx({"mean": 2.0, "std": 0.1 * 2**0.5, "n": 2})
    assert epoch1["verdict"] == "reproduced" and epoch1["difference"] == pytest.approx(2.0 - 1.972)
    assert update20["ours"]["mean"] == pytest.approx(1.75) and update20["verdict"] == "reproduced"
    assert bad1["ours"]["mean"] == pytest.approx(2.1)  # both seeds reached epoch 1
    assert unreached["verdict"] == "not run" and unreached["ours"] is None and unreached["difference"] is None
    assert unreached["causes"] == ["1 of 2 seeds' histories never reached epoch 2 (the last evaluation: epoch 1)"]
    assert between["verdict"] == "not run"
    assert (
        between["causes"][0].startswith(
            "2 of 2 seeds' histories have no evaluation at epoch 1.5 (the nearest: epoch 1 and 2); "
        )
        and "set evals_per_cycle so that one falls there" in between["causes"][0]
    )
    # a run not in the results at all
    (absent,) = scorecard(entries[:1], made_up_config(), summary, searches, gradchecks, histories={})
    assert absent["causes"] == ["not in this configuration's results"]
    # epochs are written as updates / updates-per-epoch: matched within round-off
    tenths = tiny_history(1, train_cost=[2.3, 1.9]).assign(epoch=[0.0, 3 * 0.1])  # 0.30000000000000004
    at_tenths = entry("r-runs", "req/good", "train_cost", 1.9, at={"epoch": 0.3})
    assert our_value(at_tenths, summary, searches, gradchecks, histories={"r-runs/req/good": [tenths]})["mean"] == 1.9
    (one_seed,) = scorecard(
        [entries[3]], made_up_config(), summary, searches, gradchecks, histories={"r-runs/req/bad": [tenths]}
    )
    assert one_seed["causes"] == ["its history never reached epoch 2 (the last evaluation: epoch 0.3)"]
    assert at_words({"epoch": 1}) == "at epoch 1" and at_words({"update": 500}) == "at update 500"
    write_scorecard([epoch1, unreached], tmp_path / "scorecard.csv")
    assert [r.get("at") for r in read_scorecard(tmp_path / "scorecard.csv")] == [{"epoch": 1}, {"epoch": 2}]


def test_a_preview_scores_nothing_and_says_why(tmp_path):
    """Under config preview every scored number gets the verdict "preview" (ours beside the report's, with the
    cause), counts in no total but its own; training times stay "shown"; a number we lack stays "not run"."""
    summary, searches, gradchecks = made_up_results()
    summary["train_seconds"] = [10.0, 14.0, 3.0, 5.0, 7.0]
    entries = [
        entry("r-runs", "req/good", "test_accuracy", 0.405),
        entry("r-runs", "req/bad", "test_accuracy", 0.9),
        entry("r-runs", "req/good", "train_seconds", 600.0),
        entry("r-search", "search", "val_accuracy", 0.3, rank=9),
    ]
    rows = scorecard(entries, {**made_up_config(), "preview": 10}, summary, searches, gradchecks)
    assert [r["verdict"] for r in rows] == ["preview", "preview", "shown", "not run"]
    assert rows[0]["causes"] == ["a preview: every run trained 10 times shorter, on one seed"]
    assert rows[1]["difference"] == pytest.approx(rows[1]["ours"]["mean"] - 0.9)
    overall, _ = totals(rows)
    assert overall == {"reproduced": 0, "total": 1, "not_run": 1, "shown": 1, "preview": 2}
    write_scorecard(rows, tmp_path / "scorecard.csv")
    assert [r["verdict"] for r in read_scorecard(tmp_path / "scorecard.csv")] == [r["verdict"] for r in rows]


def test_a_preview_divides_every_length_and_trains_one_seed():
    config = shipped_config(preview=10)
    full = shipped_config()
    for rid, name in [("a1-2025-text", "default"), ("a3-2025-patchify-convnet", "exercise4")]:
        exp = config["reports"][rid]["experiments"][name]
        assert ex.seeds_of(config, exp) == [1] and ex.seeds_of(full, exp) == [1, 2, 3]
    a1 = ex.static_runs(config, "a1-2025-text", "default")["lam0_eta0.001"]
    assert a1["epochs"] == 4 and ex.static_runs(full, "a1-2025-text", "default")["lam0_eta0.001"]["epochs"] == 40
    conv = ex.static_runs(config, "a3-2025-patchify-convnet", "exercise4")["l2_only"]
    assert conv["n_s"] == 80 and conv["cycles"] == 4 and conv["n_s_growth"] == 2
    assert ex.preview_spec({"epochs": 3, "n_s": 5, "n_s_epochs": 0.5, "cyclic_updates": None}, 10) == {
        "epochs": 1,
        "n_s": 1,
        "n_s_epochs": 0.05,
        "cyclic_updates": None,
    }


def test_a_miss_under_the_configurations_own_defaults_names_them():
    """``defaults: {n_batch: 20}`` in a --configfile changes every run that does not set n_batch itself: named
    among the causes of those experiments' misses, as an override is, and of no other experiment's."""

    from dd2424.pipeline import projections

    config = shipped_config(defaults={"n_batch": 20})
    projected = projections.scorecard_config(config, list(config["reports"]))
    found = projected["defaults_set"]
    assert found and all(changed == {"n_batch": 20} for exps in found.values() for changed in exps.values())
    listed = {(r, e) for r, exps in found.items() for e in exps}
    unlisted = [(r, e) for r in config["reports"] for e in ex.experiments_of(config, r) if (r, e) not in listed]
    assert unlisted  # experiments whose runs all set n_batch themselves
    for r, e in [*sorted(listed)[:3], *unlisted[:3]]:
        cause = "not the report's settings: the configuration's defaults set n_batch=20"
        row = {"report": r, "target": e, "quantity": "test_accuracy", "value": 0.5}
        assert (cause in causes(row, projected, None, None)) == ((r, e) in listed), (r, e)
    assert projections.scorecard_config(shipped_config(), list(config["reports"]))["defaults_set"] == {}
