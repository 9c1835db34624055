"""Ensembles: hard and soft votes on made-up predictions, the table of an experiment, its scorecard and checks."""

import math

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, default_spec, shipped_config

from dd2424.pdf import sections
from dd2424.pipeline import checks, ensemble
from dd2424.pipeline import training as run
from dd2424.pipeline.reports import target_problem
from dd2424.pipeline.results import CorruptResult, load_probabilities
from dd2424.pipeline.scorecard import our_value, scorecard

# Three members, four test images, three classes (members, n, classes).
P = np.array(
    [
        [[0.6, 0.3, 0.1], [0.4, 0.35, 0.25], [0.34, 0.33, 0.33], [0.5, 0.25, 0.25]],
        [[0.5, 0.4, 0.1], [0.3, 0.45, 0.25], [0.34, 0.33, 0.33], [0.25, 0.5, 0.25]],
        [[0.1, 0.2, 0.7], [0.2, 0.3, 0.5], [0.0, 1.0, 0.0], [0.25, 0.25, 0.5]],
    ]
)
Y = np.array([0, 1, 1, 2])
# Members' votes:   image 0: 0 0 2 -> 0
#                   image 1: 0 1 2 -> a three-way tie; summed probabilities 0.9 1.1 1.0 -> 1
#                   image 2: 0 0 1 -> 0, though the mean probability is largest for 1
#                   image 3: 0 1 2 -> a tie with equal sums (1.0 each) -> the smallest index, 0
HARD = [0, 1, 0, 0]
SOFT = [0, 1, 1, 0]  # means: (.4 .3 .3), (.3 .367 .333), (.227 .553 .22), (1/3 1/3 1/3) -> the smallest index


def test_hard_vote_is_the_majority_with_ties_to_the_larger_summed_probability_then_the_smaller_index():
    assert ensemble.hard_vote(P).tolist() == HARD


def test_a_tie_between_some_classes_never_goes_to_a_class_with_fewer_votes():
    # two votes for 0 and two for 1; class 2 has the largest summed probability (1.5) but no vote
    # (binary fractions: the sums are exact, whatever the order of the additions)
    p = np.array([[[0.5, 0.125, 0.375]]] * 2 + [[[0.125, 0.5, 0.375]]] * 2)
    assert ensemble.hard_vote(p).tolist() == [0]  # sums 1.25 and 1.25: the smaller index
    assert ensemble.soft_vote(p).tolist() == [2]
    # the same two-two tie, class 1 with the larger sum (1.5 against 1.3)
    p = np.array([[[0.5, 0.1, 0.4]], [[0.5, 0.1, 0.4]], [[0.1, 0.6, 0.3]], [[0.2, 0.7, 0.1]]])
    assert ensemble.hard_vote(p).tolist() == [1]


def test_soft_vote_is_the_argmax_of_the_mean_probability():
    assert ensemble.soft_vote(P).tolist() == SOFT


def test_score_by_hand():
    row = ensemble.score("run_a", "seeds", ["seed1", "seed2", "seed3"], Y, P)
    assert row["hard_accuracy"] == 0.5  # images 0 and 1
    assert row["soft_accuracy"] == 0.75  # images 0, 1 and 2
    # members' own accuracies: 1/4 (image 0), 2/4 (images 0, 1), 2/4 (images 2, 3)
    assert row["mean_single_accuracy"] == pytest.approx((0.25 + 0.5 + 0.5) / 3)
    assert row["best_single_accuracy"] == 0.5
    assert row["members"] == "seed1 seed2 seed3" and row["n_members"] == 3 and row["diverged"] == 0


def test_a_diverged_member_does_not_vote_and_is_counted():
    diverged = np.full((1, 4, 3), np.nan)
    row = ensemble.score("run_a", "seeds", ["seed1", "seed2", "seed3", "seed4"], Y, np.concatenate([P, diverged]))
    assert row["diverged"] == 1 and row["n_members"] == 4
    assert (row["hard_accuracy"], row["soft_accuracy"]) == (0.5, 0.75)
    every = ensemble.score("run_a", "seeds", ["seed1"], Y, diverged)
    assert math.isnan(every["hard_accuracy"]) and math.isnan(every["mean_single_accuracy"])


def test_groups_per_run_over_seeds_and_per_seed_over_runs():
    # files run by run, seed by seed: a/seed1 a/seed2 a/seed3 b/seed1 b/seed2 b/seed3
    assert ensemble.groups("seeds", ["a", "b"], [1, 2, 3]) == [
        ("a", [("seed1", 0), ("seed2", 1), ("seed3", 2)]),
        ("b", [("seed1", 3), ("seed2", 4), ("seed3", 5)]),
    ]
    assert ensemble.groups("runs", ["a", "b"], [1, 2, 3]) == [
        ("seed1", [("a", 0), ("b", 3)]),
        ("seed2", [("a", 1), ("b", 4)]),
        ("seed3", [("a", 2), ("b", 5)]),
    ]


def _write(path, y_true, probabilities):
    path.parent.mkdir(parents=True, exist_ok=True)
    p = np.asarray(probabilities, dtype=np.float32)
    np.savez_compressed(
        path, y_true=y_true, y_pred=p.argmax(1), p_true=p[np.arange(len(y_true)), y_true], probabilities=p
    )
    return path


def test_ensemble_table_from_prediction_files(tmp_path):
    # runs a and b, seeds 1..3: run a's seeds are P's members; run b's every seed predicts the truth
    truth = np.eye(3)[Y]
    paths = [_write(tmp_path / f"a/seed{k}.npz", Y, P[k - 1]) for k in (1, 2, 3)]
    paths += [_write(tmp_path / f"b/seed{k}.npz", Y, truth) for k in (1, 2, 3)]
    by_seed = ensemble.ensemble_table("seeds", ["a", "b"], [1, 2, 3], paths)
    assert list(by_seed.columns) == ensemble.COLUMNS
    assert by_seed.ensemble.tolist() == ["a", "b"]
    assert by_seed.hard_accuracy.tolist() == [0.5, 1.0] and by_seed.soft_accuracy.tolist() == [0.75, 1.0]
    by_run = ensemble.ensemble_table("runs", ["a", "b"], [1, 2, 3], paths)
    assert by_run.ensemble.tolist() == ["seed1", "seed2", "seed3"] and (by_run.n_members == 2).all()
    # seed 1: a votes 0 0 0 0, b the truth 0 1 1 2: ties on images 1-3 go to the larger sum, b's (1.0)
    assert by_run.hard_accuracy.iloc[0] == 1.0
    assert by_run.mean_single_accuracy.tolist() == pytest.approx([(0.25 + 1) / 2, (0.5 + 1) / 2, (0.5 + 1) / 2])


def test_members_tested_on_other_images_or_without_probabilities_are_refused_by_name(tmp_path):
    a = _write(tmp_path / "a.npz", Y, P[0])
    b = _write(tmp_path / "b.npz", Y[::-1], P[1])
    with pytest.raises(ValueError, match="b.npz and .*a.npz were not tested on the same images"):
        ensemble.ensemble_table("seeds", ["r"], [1, 2], [a, b])
    old = tmp_path / "old.npz"
    np.savez_compressed(old, y_true=Y, y_pred=Y, p_true=np.ones(4))
    with pytest.raises(CorruptResult, match="old.npz is damaged: it has no class probabilities"):
        ensemble.ensemble_table("seeds", ["r"], [1, 2], [a, old])


def test_training_stores_every_class_probability_consistent_with_its_predictions(tmp_path, rng):
    split = tmp_path / "split"
    split.mkdir()
    for part, n in (("train", 60), ("val", 20), ("test", 30)):
        np.save(split / f"{part}_X.npy", rng.normal(size=(n, 12)).astype(np.float32))
        np.save(split / f"{part}_y.npy", rng.integers(0, 10, n))
    specs = [
        default_spec(report="r", experiment="e", run=name, epochs=2, n_batch=20, eta=0.01, **{"lambda": lam})
        for name, lam in (("a", 0.0), ("b", 0.1))
    ]
    outs = [{k: tmp_path / name / f"{k}.{ext}" for k, ext in FILES} for name in ("a", "b")]
    for out in outs:
        out["model"].parent.mkdir()
    results = run.train_stack(specs, split, 1, outs, log=lambda line: None)
    for out, metrics in zip(outs, results, strict=True):
        y_true, p = load_probabilities(out["predictions"])
        with np.load(out["predictions"]) as f:
            y_pred, p_true = f["y_pred"], f["p_true"]
        assert p.dtype == np.float32 and p.shape == (30, 10)
        assert np.allclose(p.sum(axis=1), 1, atol=1e-5)
        assert np.array_equal(p.argmax(axis=1), y_pred)
        assert np.array_equal(p[np.arange(30), y_true], p_true)
        assert np.mean(y_pred == y_true) == pytest.approx(metrics["test_accuracy"])


FILES = (("model", "npz"), ("history", "csv"), ("predictions", "npz"), ("metrics", "json"))


# --- the scorecard and the checks


def _tables():
    over_seeds = pd.DataFrame(
        [ensemble.score(r, "seeds", ["seed1", "seed2", "seed3"], Y, P) for r in ("plain", "fast")],
        columns=ensemble.COLUMNS,
    )
    over_runs = pd.DataFrame(
        [
            {"ensemble": f"seed{k}", "over": "runs", "hard_accuracy": h, "soft_accuracy": s}
            for k, h, s in ((1, 0.4, 0.5), (2, 0.5, 0.6))
        ]
    )
    return {"rep/seeds_exp": over_seeds, "rep/runs_exp": over_runs}


def test_the_scorecard_reads_an_ensemble_of_a_run_or_the_mean_over_seeds_of_the_runs_ensembles():
    tables = _tables()
    entry = {"report": "rep", "target": "seeds_exp/fast", "quantity": "ensemble_soft_accuracy"}
    assert our_value(entry, None, {}, {}, tables) == {"mean": 0.75, "std": pytest.approx(math.nan, nan_ok=True), "n": 1}
    entry = {"report": "rep", "target": "runs_exp", "quantity": "ensemble_hard_accuracy"}
    ours = our_value(entry, None, {}, {}, tables)
    assert (
        ours["mean"] == pytest.approx(0.45)
        and ours["std"] == pytest.approx(np.std([0.4, 0.5], ddof=1))
        and ours["n"] == 2
    )
    assert our_value({**entry, "target": "other"}, None, {}, {}, tables) is None
    config = {
        "data": {"md5": "c58f30108f718f92721af3b95e74349a"},
        "reports": {"rep": {"experiments": {"runs_exp": {}}}},
    }
    [row] = scorecard(
        [{**entry, "assignment": "a2", "experiment": "runs_exp", "value": 0.455}], config, None, {}, {}, tables
    )
    assert row["verdict"] == "reproduced" and row["kind"] == "accuracy"


REPORT = {
    "id": "rep",
    "assignment": "a2",
    "file": "rep.yaml",
    "experiments": {
        "seeds_exp": {"runs": {"plain": {}, "fast": {}}, "ensemble": {"over": "seeds"}},
        "runs_exp": {"runs": {"plain": {}, "fast": {}}, "ensemble": {"over": "runs"}},
        "no_ensemble": {"runs": {"plain": {}}},
    },
}


@pytest.mark.parametrize(
    "target,extra,problem",
    [
        ("seeds_exp/fast", {}, None),
        ("runs_exp", {}, None),
        ("seeds_exp", {}, "has an ensemble per run (over seeds): name one of its runs"),
        ("runs_exp/fast", {}, "has one ensemble of its runs (over runs): the target is 'runs_exp' alone"),
        ("no_ensemble/plain", {}, "experiment 'no_ensemble' has none (add experiments.no_ensemble.ensemble"),
        ("runs_exp", {"rank": 1}, "an ensemble is not a search point"),
        ("seeds_exp/slow", {}, "no run 'slow' in experiment 'seeds_exp'"),
    ],
)
def test_an_ensemble_target_must_be_an_ensemble_of_the_experiment(target, extra, problem):
    entry = {"target": target, "quantity": "ensemble_hard_accuracy", **extra}
    found = target_problem(entry, REPORT, None, lambda r, e: REPORT["experiments"][e]["runs"])
    assert found == problem if problem is None else problem in found


def _with_experiment(exp, seeds=(1, 2, 3)):
    config = shipped_config(seeds=list(seeds))
    report = next(iter(config["reports"].values()))
    report["experiments"] = {"mine": exp}
    report["published"] = []
    return config, report["file"]


@pytest.mark.parametrize(
    "exp,seeds,message",
    [
        ({"runs": {"a": {}}, "seeds": "first", "ensemble": {"over": "seeds"}}, (1, 2), "one seed (seeds: first)"),
        ({"runs": {"a": {}}, "ensemble": {"over": "runs"}}, (1, 2), "over runs, but the experiment has one run"),
        (
            {"runs": {"a": {}, "b": {"split": "all45k"}}, "ensemble": {"over": "runs"}},
            (1, 2),
            "its runs use different splits",
        ),
        (
            {"grid": {"lambda": [0.0, 0.1]}, "ensemble": {"over": "runs"}},
            (1, 2),
            "only a runs experiment has ensembles",
        ),
    ],
)
def test_an_ensemble_of_one_member_or_of_other_test_sets_is_refused_naming_file_and_key(exp, seeds, message):
    config, file = _with_experiment(exp, seeds)
    with pytest.raises(checks.ConfigError, match="ensemble") as e:
        checks.check_config(config)
    # an experiment the file itself lacks: the file, no line
    assert str(e.value).startswith(f"{file}: experiments.mine.ensemble: ")
    assert message in str(e.value)


def test_a_good_ensemble_passes_the_checks():
    config, _ = _with_experiment({"runs": {"a": {}, "b": {"lambda": 0.1}}, "ensemble": {"over": "runs"}}, (1, 2))
    checks.check_config(config)


def test_the_pdf_context_shows_each_ensemble_and_over_runs_their_mean():
    tables = _tables()
    entries = [{"target": "runs_exp", "quantity": "ensemble_hard_accuracy", "value": 0.41}]
    context = sections.ensemble_context(
        REPORT["experiments"]["runs_exp"],
        tables["rep/runs_exp"].assign(mean_single_accuracy=[0.3, 0.35], best_single_accuracy=[0.35, 0.4]),
        entries,
        "runs_exp",
    )
    assert [r["ensemble"] for r in context["rows"]] == ["seed1", "seed2"]
    assert context["mean"]["hard_accuracy"] == "45.00 ± 7.07" and context["mean"]["published"] == {
        "ensemble_hard_accuracy": 0.41
    }
    assert context["published_quantities"] == ["ensemble_hard_accuracy"]
    entries = [{"target": "seeds_exp/fast", "quantity": "ensemble_soft_accuracy", "value": 0.7}]
    context = sections.ensemble_context(
        REPORT["experiments"]["seeds_exp"], tables["rep/seeds_exp"], entries, "seeds_exp"
    )
    assert context["mean"] is None and [r["published"] for r in context["rows"]] == [
        {},
        {"ensemble_soft_accuracy": 0.7},
    ]


def test_the_runs_section_renders_the_ensembles_table_with_the_published_value_beside():
    from dd2424.pdf.filters import environment

    rows = []
    for name in ("plain", "fast"):
        for seed in (1, 2, 3):
            rows.append(
                {
                    **default_spec(),
                    "experiment": "seeds_exp",
                    "run": name,
                    "seed": seed,
                    "diverged": False,
                    "train_images": 100,
                    "val_images": 50,
                    "samples_per_s": 1.0,
                    "train_seconds": 2.0,
                    "stack_size": 2,
                    **{f"{p}_accuracy": 0.4 for p in ("train", "val", "test")},
                    **{k: 1.0 for k in sections.RUN_LOSSES},
                }
            )
    exp = REPORT["experiments"]["seeds_exp"]
    entries = [{"target": "seeds_exp/fast", "quantity": "ensemble_soft_accuracy", "value": 0.7}]
    e = {
        **sections.runs_context(exp, pd.DataFrame(rows), entries, "seeds_exp"),
        "name": "seeds_exp",
        "figures": dict.fromkeys(sections.FIGURE_KINDS),
        "baseline": None,
        "ensemble": sections.ensemble_context(exp, _tables()["rep/seeds_exp"], entries, "seeds_exp"),
    }
    assert e["published_quantities"] == []  # the ensemble's number stands in its own table, not the runs'
    templates = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "report").glob("*.tex.j2")}
    templates["test.tex.j2"] = r"\BLOCK{include 'runs.tex.j2'}"
    tex = environment(templates).get_template("test.tex.j2").render(e=e)
    # members, mean single (1.25 / 3), best single, hard, soft, the report's soft vote
    assert r"fast & seed1 seed2 seed3 & 41.67 & 50.00 & 50.00 & 75.00 & 70.00 \\" in tex
    assert r"plain & seed1 seed2 seed3 & 41.67 & 50.00 & 50.00 & 75.00 & -- \\" in tex
    assert "ensembles of each run's seeds" in tex and "report's ensemble test acc." in tex


def test_the_scorecards_ensemble_columns_are_columns_of_the_ensemble_table():
    from dd2424.pipeline.quantities import ENSEMBLE_COLUMNS

    assert set(ENSEMBLE_COLUMNS.values()) <= set(ensemble.COLUMNS)


def test_an_ensemble_over_seeds_under_a_config_of_one_seed_is_skipped_not_refused():
    """A quick run (config seeds: [1]) builds no ensemble over seeds; its published numbers are "not run"."""
    from dd2424.pipeline.experiments import builds_ensemble

    exp = {"runs": {"a": {}}, "ensemble": {"over": "seeds"}}
    config, _ = _with_experiment(exp, (1,))
    checks.check_config(config)
    assert not builds_ensemble(config, exp)
    assert builds_ensemble(_with_experiment(exp, (1, 2))[0], exp)
    assert builds_ensemble(config, {"runs": {"a": {}, "b": {}}, "ensemble": {"over": "runs"}})
