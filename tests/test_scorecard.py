"""The published-numbers file and the scorecard's verdicts."""

import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from dd2424 import experiments as ex
from dd2424.scorecard import (
    CIFAR10_MD5,
    PublishedError,
    load_published,
    scorecard,
    totals,
    unknown_targets,
    within,
)

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "report/published.yaml"


@pytest.fixture
def config():
    return yaml.safe_load((ROOT / "config.yaml").read_text())


def runs_of(config):
    return lambda a, e: ex.static_runs(config, a, e)


def test_every_published_number_maps_to_an_experiment_of_the_shipped_config(config):
    entries = load_published(PUBLISHED)
    assert {e["report"] for e in entries} == {"000", "001", "002", "003", "004"}
    assert unknown_targets(entries, config, runs_of(config)) == []
    for e in entries:
        parts = e["target"].split("/")
        if parts[0] == "gradcheck":
            continue
        exp = config["assignments"][parts[0]]["experiments"][parts[1]]
        if "point" in e:  # a grid point: one of the grid's points
            specs = ex.static_runs(config, parts[0], parts[1]).values()
            assert any(all(s[k] == v for k, v in e["point"].items()) for s in specs), e
        if "rank" in e:
            assert ex.experiment_kind(exp) in ex.SEARCH_KINDS, e
        # a report's number is compared with an experiment of that report
        assert exp["source"]["report"] == e["report"], e


def test_report_003s_grids_are_published_point_by_point():
    entries = [e for e in load_published(PUBLISHED) if e["target"] in ("a1/grid_003", "a1/grid2_003")]
    assert len(entries) == 18 + 4


def test_the_default_data_source_is_the_official_archive(config):
    assert config["data"]["md5"] == CIFAR10_MD5


@pytest.mark.parametrize(
    "text,message",
    [
        ('"005": [{section: s, target: a1/x/y, quantity: test_accuracy, value: 0.5}]', "'005' is not a seed report"),
        ('"003": [{section: s, target: a1/x/y, quantity: accuracy, value: 0.5}]', "unknown quantity 'accuracy'"),
        ('"003": [{section: s, target: a1/x/y, value: 0.5}]', "lacks ['quantity']"),
        ('"003": [{section: s, target: a1/x, quantity: test_accuracy, value: 0.5}]', "needs a rank or a point"),
        ('"003": [{section: s, target: a1/x/y, quantity: test_accuracy, value: high}]', "is not a number"),
    ],
)
def test_a_malformed_entry_is_refused_naming_it(tmp_path, text, message):
    path = tmp_path / "published.yaml"
    path.write_text(text + "\n")
    with pytest.raises(PublishedError) as info:
        load_published(path)
    assert message in str(info.value)
    if "seed report" not in message:
        assert "report 003, entry 1" in str(info.value)


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
    return {
        "data": {"md5": md5},
        "gradcheck": {"a1": {"defaults": {"lambda": 0.0}, "checks": {"c": {"dims": 5, "samples": 2}}}},
        "assignments": {
            "a1": {
                "experiments": {
                    "req": {
                        "source": {"report": "002", "section": "1.2"},
                        "not_stated": ["epochs: 40"],
                        "runs": {"good": {}, "bad": {}},
                    },
                    "search": {"source": {"report": "000", "section": "3"}, "random": {}, "note": "Ranges as stated."},
                    "final": {
                        "source": {"report": "000", "section": "5"},
                        "best_of": {"experiment": "search", "keys": ["lambda"]},
                        "runs": {"best": {}},
                    },
                }
            }
        },
    }


def made_up_results():
    summary = pd.DataFrame(
        {
            "assignment": ["a1"] * 4,
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
    return summary, {"a1/search": search}, {"a1": gradcheck}


def test_the_scorecard_gives_each_published_number_ours_and_a_verdict():
    entries = [
        {"report": "002", "section": "1.2", "target": "a1/req/good", "quantity": "test_accuracy", "value": 0.405},
        {"report": "002", "section": "1.2", "target": "a1/req/bad", "quantity": "test_accuracy", "value": 0.37},
        {"report": "002", "section": "1.2", "target": "a1/req/gone", "quantity": "test_accuracy", "value": 0.37},
        {"report": "000", "section": "3", "target": "a1/search", "rank": 1, "quantity": "val_accuracy", "value": 0.44},
        {"report": "000", "section": "3", "target": "a1/search", "rank": 2, "quantity": "val_accuracy", "value": 0.44},
        {"report": "000", "section": "1", "target": "gradcheck/a1", "quantity": "max_rel_error", "value": 1e-6}
        | {"bound": True},
    ]
    config = made_up_config(md5="0" * 32)
    summary, searches, gradchecks = made_up_results()
    rows = scorecard(entries, config, summary, searches, gradchecks, lambda a, e: ["good", "bad"])
    good, bad, gone, first, second, bound = rows
    assert good["ours"]["mean"] == pytest.approx(0.41) and good["ours"]["n"] == 2
    assert good["verdict"] == "reproduced" and good["causes"] == []
    assert bad["verdict"] == "missed" and bad["difference"] == pytest.approx(-0.07)
    # the known causes, generated from the config and the results
    assert any("stand-in" in c for c in bad["causes"])
    assert "not stated in the report: epochs: 40" in bad["causes"]
    assert "1 of 2 seeds diverged" in bad["causes"]
    assert gone["verdict"] == "not run" and "no run 'gone'" in gone["causes"][0]
    # a search's k-th row against our k-th best by validation accuracy
    assert first["ours"]["mean"] == 0.45 and first["verdict"] == "reproduced"
    assert second["ours"]["mean"] == 0.40 and second["verdict"] == "missed"
    # a bound holds for the worst tensor of every check
    assert bound["ours"]["mean"] == 3e-6 and bound["verdict"] == "missed"
    overall, per_report = totals(rows)
    assert overall == {"reproduced": 2, "total": 6, "not_run": 1}
    assert [(t["report"], t["reproduced"], t["total"]) for t in per_report] == [("000", 1, 3), ("002", 1, 3)]


def test_no_stand_in_cause_on_the_official_data():
    entries = [{"report": "002", "section": "1.2", "target": "a1/req/bad", "quantity": "test_accuracy", "value": 0.5}]
    summary, searches, gradchecks = made_up_results()
    (row,) = scorecard(entries, made_up_config(), summary, searches, gradchecks, lambda a, e: ["good", "bad"])
    assert row["verdict"] == "missed" and not any("stand-in" in c for c in row["causes"])


def test_a_searched_hyper_parameter_that_misses_names_the_search_and_its_note():
    entries = [{"report": "000", "section": "5", "target": "a1/final/best", "quantity": "lambda", "value": 1e-3}]
    summary, searches, gradchecks = made_up_results()
    (row,) = scorecard(entries, made_up_config(), summary, searches, gradchecks, lambda a, e: ["best"])
    assert row["verdict"] == "missed" and row["ours"]["mean"] == 1e-2
    assert "chosen by the search search, whose best point depends on the points it sampled" in row["causes"]
    assert "search: Ranges as stated" in row["causes"]
