"""Results held to today's spec and code where Snakemake's records are lost: made-up metrics.json files."""

import json
import os

from conftest import default_spec

from dd2424.pipeline import paths, records

CONFIG = {"seeds": [1, 2]}
EXP = {"runs": {"a": {}, "b": {}}}  # a runs experiment: every seed


def job(**changes):
    specs = [default_spec(run=r, report="r", experiment="e", **{"lambda": 0.01}) for r in ("a", "b")]
    return {
        "report": "r",
        "experiment": "e",
        "runs": ["a", "b"],
        "specs": specs,
        "seed": None,
        "derived_by": {},
        **changes,
    }


def write_metrics(workdir, job, seed, run, **changes):
    spec = job["specs"][job["runs"].index(run)]
    path = workdir / paths.model_file("r", "e", run, seed, "metrics.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**spec, "seed": seed, "code_digest": "c0de", "test_accuracy": 0.5, **changes}))


def test_results_that_agree_or_are_missing_are_not_stale(tmp_path):
    j = job()
    assert records.stale(j, EXP, CONFIG, "c0de", tmp_path) is None  # nothing trained yet
    for seed in (1, 2):
        for run in ("a", "b"):
            write_metrics(tmp_path, j, seed, run)
    assert records.stale(j, EXP, CONFIG, "c0de", tmp_path) is None


def test_another_code_digest_or_a_changed_key_of_any_seed_is_named(tmp_path):
    j = job()
    write_metrics(tmp_path, j, 1, "a")
    write_metrics(tmp_path, j, 2, "b", **{"lambda": 0.1})
    why = records.stale(j, EXP, CONFIG, "c0de", tmp_path)
    assert why.endswith("r/e/b/seed2/metrics.json: lambda 0.1 recorded, 0.01 today")
    assert "trained by other code (c0de recorded, beef today)" in records.stale(j, EXP, CONFIG, "beef", tmp_path)
    # a search chunk's fixed seed: only that seed's files are read
    assert records.stale(job(seed=1), EXP, CONFIG, "c0de", tmp_path) is None


def test_a_value_an_earlier_result_decides_is_not_held_to_the_static_spec(tmp_path):
    j = job(derived_by={"best_of": {"keys": ["lambda"], "own": {}}})
    write_metrics(tmp_path, j, 1, "a", **{"lambda": 0.003})  # the search's best, not the base's 0.01
    assert records.stale(j, EXP, CONFIG, "c0de", tmp_path) is None
    write_metrics(tmp_path, j, 1, "a", **{"lambda": 0.003, "eta": 0.5})
    assert "eta 0.5 recorded" in records.stale(j, EXP, CONFIG, "c0de", tmp_path)


def test_the_marker_is_stamped_now_where_stale_and_at_the_epoch_otherwise(tmp_path):
    marker = paths.job_marker("train_x")
    records.mark(marker, False, tmp_path)
    assert os.stat(tmp_path / marker).st_mtime == 0
    records.mark(marker, True, tmp_path)
    assert os.stat(tmp_path / marker).st_mtime > 1e9
    records.mark(marker, False, tmp_path)
    assert os.stat(tmp_path / marker).st_mtime == 0
