"""The schema's refusals, and the expansion of experiments into runs."""

import copy
import json
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from conftest import REPORT_SCHEMA, ROOT, default_spec, shipped_config
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from dd2424.nn import spec
from dd2424.pipeline import experiments as ex
from dd2424.pipeline.checks import ConfigError, check_config, check_run_specs, check_spec
from dd2424.pipeline.reports import load_reports, merge
from dd2424.pipeline.search import refine_ranges
from dd2424.pipeline.sizes import check_sizes

SCHEMA = str(ROOT / "workflow/schemas/config.schema.yaml")
# Two of the shipped reports, by id.
A1 = "a1-2024-grid-bce"
BONUS = "bonus-fully-connected"


@pytest.fixture
def config():
    return shipped_config()


def refused(config):
    """The refusal of a config as the Snakefile checks it: the schema, then its run specs against the declaration."""
    with pytest.raises((WorkflowError, ConfigError)) as info:
        validate(config, SCHEMA)
        check_run_specs(config)
    return str(info.value)


def test_the_shipped_config_is_valid():
    validate(yaml.safe_load((ROOT / "config.yaml").read_text()), SCHEMA)


def test_unknown_hyper_parameter_is_refused_naming_it():
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["defaults"]["learning_rate"] = 0.1
    assert "learning_rate" in refused(config)


@pytest.mark.parametrize(
    "key,value", [("bn_position", "before_linear"), ("precise_bn", "yes"), ("noise_std", -0.1), ("salt_pepper", 1.0)]
)
def test_bad_values_of_the_batch_norm_and_noise_keys_are_refused_naming_them(key, value):
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["defaults"][key] = value
    assert key in refused(config)


def test_the_after_relu_gradient_checks_are_run_specs_of_the_pipelines_table(config):
    """The gradient-check rule passes a check's keys to the network as run-spec keys."""
    checks = config["gradcheck"]["a3"]["checks"]
    after = {name: c for name, c in checks.items() if c.get("bn_position") == "after_relu"}
    assert {"two_layer_bn_after_relu", "three_layer_bn_after_relu"} <= set(after)
    run_spec = spec.keys()
    for check in after.values():
        assert check["batch_norm"] and set(check) - {"dims", "samples"} <= set(run_spec)


def test_bad_md5_is_refused():
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["data"]["md5"] = "not-a-checksum"
    assert "md5" in refused(config)


def test_snakemake_stops_on_a_bad_config_before_running_anything(tmp_path):
    (tmp_path / "bad.yaml").write_text("defaults: {n_batch: 0}\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-s",
            str(ROOT / "Snakefile"),
            "-n",
            "--configfile",
            str(tmp_path / "bad.yaml"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "n_batch" in done.stdout + done.stderr


def test_runs_grid_and_seeds(config):
    runs = ex.static_runs(config, A1, "required")
    assert set(runs) == {"lam0_eta0.1", "lam0_eta0.001", "lam0.1_eta0.001", "lam1_eta0.001"}
    assert runs["lam0.1_eta0.001"]["lambda"] == 0.1 and runs["lam0.1_eta0.001"]["epochs"] == 40
    assert runs["lam0.1_eta0.001"]["bias_init"] == "normal"  # the assignment's default
    assert "published" not in runs["lam0.1_eta0.001"]
    grid = ex.static_runs(config, A1, "grid")
    assert len(grid) == 3 * 2 * 3
    assert {(r["n_batch"], r["eta"], r["lambda"]) for r in grid.values()} == {
        (n, e, lam) for n in (10, 50, 500) for e in (0.001, 0.01) for lam in (0.0, 0.1, 0.5)
    }
    experiments = ex.experiments_of(config, A1)
    assert ex.seeds_of(config, experiments["required"]) == config["seeds"]
    assert ex.seeds_of(config, experiments["grid"]) == config["seeds"][:1]
    assert runs["lam0_eta0.1"]["report"] == A1
    assert runs["lam0_eta0.1"]["assignment"] == "a1"


def test_best_of_takes_the_searched_values(config, tmp_path):
    exp = ex.experiments_of(config, A1)["grid2_best"]
    spec = ex.static_runs(config, A1, "grid2_best")["best"]
    best = tmp_path / "best.json"
    best.write_text(json.dumps({"best": {"n_batch": 30, "eta": 0.01, "lambda": 0.5, "epochs": 2}}))
    resolved = ex.resolve(spec, ex.derivation(exp), best)
    assert (resolved["n_batch"], resolved["eta"], resolved["lambda"]) == (30, 0.001, 0.1)
    assert resolved["epochs"] == 40  # only the listed keys are taken


def test_refine_samples_inside_the_range_derived_from_the_best_points(config, tmp_path):
    config = copy.deepcopy(config)
    exps = ex.experiments_of(config, A1)
    exps["coarse"] = {"random": {"sample": {"lambda": {"low": -5, "high": -1}}, "count": 6, "sample_seed": 0}}
    exps["fine"] = {"refine": {"from": "coarse", "count": 4, "top": 2, "margin": 0.1}}
    coarse = ex.static_runs(config, A1, "coarse")
    lambdas = sorted(r["lambda"] for r in coarse.values())
    assert all(1e-5 <= v <= 1e-1 for v in lambdas)
    table = pd.DataFrame(
        {
            "run": list(coarse),
            "lambda": [r["lambda"] for r in coarse.values()],
            "val_accuracy": [0.1, 0.5, 0.2, 0.45, 0.3, 0.05],
        }
    )
    ranges = refine_ranges(table, exps["coarse"]["random"]["sample"], top=2, margin=0.1)
    import math

    best_two = sorted(math.log10(coarse[r]["lambda"]) for r in ("p001", "p003"))
    assert ranges["lambda"]["low"] == pytest.approx(max(-5, best_two[0] - 0.1))
    assert ranges["lambda"]["high"] == pytest.approx(min(-1, best_two[1] + 0.1))
    (tmp_path / "range.json").write_text(json.dumps({"ranges": ranges}))
    fine = ex.static_runs(config, A1, "fine")
    values = [ex.resolve(s, ex.derivation(exps["fine"]), tmp_path / "range.json")["lambda"] for s in fine.values()]
    assert len(set(values)) == 4
    assert all(10 ** ranges["lambda"]["low"] <= v <= 10 ** ranges["lambda"]["high"] for v in values)


def test_best_of_can_take_the_hidden_sizes_of_a_grid(tmp_path):
    best = tmp_path / "best.json"
    best.write_text(json.dumps({"best": {"hidden": "50-30", "eta": 0.02}}))
    resolved = ex.resolve({"run": "best", "hidden": [10], "eta": 0.1}, {"best_of": {"keys": ["hidden"]}}, best)
    assert resolved["hidden"] == [50, 30] and resolved["eta"] == 0.1
    best.write_text(json.dumps({"best": {"hidden": "none"}}))
    assert ex.resolve({"run": "best", "hidden": [10]}, {"best_of": {"keys": ["hidden"]}}, best)["hidden"] == []


def test_an_ablation_run_keeps_its_own_value_of_a_searched_key(config, tmp_path):
    """The bonus ablation's no_dropout sets dropout 0 itself: the search's best dropout must not replace it."""
    exp = ex.experiments_of(config, BONUS)["ablation"]
    runs = ex.static_runs(config, BONUS, "ablation")
    best = tmp_path / "best.json"
    best.write_text(json.dumps({"best": {"dropout": 0.35, "lambda": 0.002}}))
    derived_by = ex.derivation(exp)
    no_dropout = ex.resolve(runs["no_dropout"], derived_by, best)
    assert no_dropout["dropout"] == 0.0 and no_dropout["lambda"] == 0.002
    no_flip = ex.resolve(runs["no_flip"], derived_by, best)
    assert no_flip["dropout"] == 0.35 and no_flip["lambda"] == 0.002 and no_flip["flip"] is False
    recipe = ex.resolve(ex.static_runs(config, BONUS, "recipe")["best"], ex.derivation(exp), best)
    assert recipe["dropout"] == 0.35
    # every bonus ingredient is off in the assignments' defaults
    declared = spec.defaults()
    assert (declared["dropout"], declared["label_smoothing"], declared["translate"]) == (
        0.0,
        0.0,
        0,
    )


def _headline_jobs(config, report, experiment):
    runs = {(report, experiment): ex.static_runs(config, report, experiment)}
    return ex.training_jobs(config, runs)


def test_headline_runs_of_one_shape_train_as_one_stack_per_seed(config):
    """The four (eta, lambda) required runs: one job per seed, each model its own run."""
    (job,) = _headline_jobs(config, "a1-2022-held-out", "required")
    assert job["runs"] == sorted(["lam0_eta0.1", "lam0_eta0.001", "lam0.1_eta0.001", "lam1_eta0.001"])
    assert [s["run"] for s in job["specs"]] == job["runs"]
    assert job["seed"] is None and job["curves"]  # the seed stays a wildcard: one job per seed
    assert job["label"] == "+".join(job["runs"])
    # sigma: init_sigma is per model, batch norm is not: two stacks
    jobs = _headline_jobs(config, "a3-2019-batch-norm", "sigma")
    assert sorted(j["runs"] for j in jobs) == [
        ["sigma1e-1", "sigma1e-3", "sigma1e-4"],
        ["sigma1e-1_bn", "sigma1e-3_bn", "sigma1e-4_bn"],
    ]
    # runs that differ in the loss or the split cannot share a step
    assert sorted(j["runs"] for j in _headline_jobs(config, A1, "bce")) == [["bce"], ["softmax"]]
    assert len(_headline_jobs(config, "a1-exercise-flips", "flip")) == 2


def test_stack_false_trains_each_run_alone(config):
    exp = ex.experiments_of(config, "a1-2022-held-out")["required"]
    exp["stack"] = False
    jobs = _headline_jobs(config, "a1-2022-held-out", "required")
    assert [j["runs"] for j in jobs] == [[r] for r in exp["runs"]]
    assert jobs[0]["name"] == "train_a1_2022_held_out_required_lam0_eta0_1" and jobs[0]["label"] == "lam0_eta0.1"
    # the bonus's ablation runs alone, as its recipe does
    assert all(len(j["runs"]) == 1 for j in _headline_jobs(config, BONUS, "ablation"))


# ------------------------------------------- run specs that cannot train as written


@pytest.mark.parametrize(
    "overrides,train_images,message",
    [
        ({"hidden": [20], "batch_norm": True, "n_batch": 1}, None, "batch_norm is true with n_batch 1"),
        (
            {"hidden": [20], "batch_norm": True, "n_train": 41, "n_batch": 20},
            None,
            "n_batch 20 leaves a last mini-batch of 1 of its 41 training images",
        ),
        (
            {"hidden": [20], "batch_norm": True, "n_batch": 33},
            100,
            "n_batch 33 leaves a last mini-batch of 1 of its 100 training images",
        ),
        ({"batch_norm": True}, None, "batch_norm is true but hidden is []"),
        ({"dropout": 0.3}, None, "dropout is 0.3 but hidden is []"),
        ({"hidden": [20], "bn_position": "after_relu"}, None, "bn_position is after_relu but batch_norm is false"),
        ({"hidden": [20], "precise_bn": True}, None, "precise_bn is true but batch_norm is false"),
        ({"precise_bn": True}, None, "precise_bn is true but batch_norm is false and hidden is []"),
        ({"loss": "svm", "label_smoothing": 0.1}, None, "label_smoothing is 0.1 with loss svm"),
        ({"optimizer": "adam", "momentum": 0.9}, None, "momentum is 0.9 with optimizer adam"),
        (
            {"schedule": "cyclic", "n_s": 10, "eta_min": 0.1, "eta_max": 0.1},
            None,
            "eta_min 0.1 is not below eta_max 0.1",
        ),
        (
            {"schedule": "cyclic", "n_s": 10, "eta_min": 0.2, "eta_max": 0.1},
            None,
            "eta_min 0.2 is not below eta_max 0.1",
        ),
        ({"schedule": "cyclic"}, None, "neither n_s nor n_s_epochs"),
        ({"n_s_growth": 2}, None, "n_s_growth is 2 with schedule constant"),
        ({"schedule": "cyclic", "n_s": 800, "n_s_epochs": 2}, None, "n_s 800 and n_s_epochs 2 are both set"),
        ({"optimizer": "nesterov"}, None, "optimizer is nesterov with momentum 0"),
        ({"hidden": [50], "patch_size": 4}, None, "patch_size is 4 but patch_filters is null"),
        ({"hidden": [50], "patch_size": [2, 4], "patch_filters": 10}, None, "do not pair up"),
        ({"patch_size": 4, "patch_filters": 10}, None, "hidden is []"),
        ({"schedule": "exp", "eta_max_decay": 0.5}, None, "eta_max_decay is 0.5 with schedule exp"),
        ({"schedule": "constant", "cyclic_epochs": 20}, None, "cyclic_epochs is 20 with schedule constant"),
        ({"schedule": "step", "cyclic_updates": 500}, None, "cyclic_updates is 500 with schedule step"),
        (
            {"schedule": "cyclic", "n_s": 800, "cyclic_epochs": 20, "cyclic_updates": 2000},
            None,
            "cyclic_epochs 20 and cyclic_updates 2000 are both set",
        ),
        (
            {"schedule": "cyclic", "n_s": 800, "cyclic_epochs": 0.001, "n_batch": 100},
            150,
            "cyclic_epochs 0.001 is less than one update with n_batch 100 on 150 images",
        ),
        (
            {"schedule": "cyclic", "n_s_epochs": 0.5, "n_batch": 100},
            150,
            "n_s_epochs 0.5 is less than one update with n_batch 100 on 150 images",
        ),
    ],
)
def test_untrainable_specs_are_named_by_key_and_value(overrides, train_images, message):
    problems = check_spec(default_spec(**overrides), train_images)
    assert len(problems) == 1
    assert message in problems[0]


@pytest.mark.parametrize(
    "overrides,train_images",
    [
        ({}, None),
        ({"n_train": 41, "n_batch": 20}, None),  # a last batch of one without batch norm is an ordinary step
        ({"hidden": [20], "batch_norm": True, "n_train": 42, "n_batch": 20}, None),
        ({"hidden": [20], "batch_norm": True, "n_batch": 2}, 10000),
        ({"loss": "svm", "lambda": 0.1}, None),
        ({"hidden": [20], "batch_norm": True, "bn_position": "after_relu", "precise_bn": True}, None),
        ({"noise_std": 0.1, "salt_pepper": 0.05}, None),
        ({"optimizer": "adam", "eta": 1e-3, "lambda": 0.01}, None),
        ({"schedule": "cyclic", "n_s_epochs": 1, "n_batch": 100}, 150),  # one update a half-cycle
        ({"schedule": "cyclic", "n_s": 800, "eta_min": 1e-5, "eta_max": 0.1}, None),
        ({"schedule": "cyclic", "n_s": 800, "cyclic_epochs": 20}, 10000),
        ({"schedule": "cyclic", "n_s": 800, "eta_max_decay": 0.5}, None),
        ({"schedule": "cyclic", "n_s": 800, "n_s_growth": 2, "cycles": 3}, None),
        ({"hidden": [50], "patch_size": [2, 4], "patch_filters": [3, 10]}, None),
        (
            {
                "hidden": [50],
                "patch_size": 4,
                "patch_filters": 10,
                "label_smoothing": 0.1,
                "label_smoothing_kind": "others",
            },
            None,
        ),
        ({"optimizer": "nesterov", "momentum": 0.9}, None),
    ],
)
def test_trainable_specs_pass(overrides, train_images):
    assert check_spec(default_spec(**overrides), train_images) == []


def test_every_shipped_run_is_trainable_on_the_full_and_the_tiny_data(config):
    check_config(config)
    check_sizes(config, {**{f"data_batch_{i}": 10000 for i in range(1, 6)}, "test_batch": 10000})
    tiny_config = yaml.safe_load((ROOT / "tests/data/tiny.yaml").read_text(encoding="utf-8"))
    tiny = merge(yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8")), tiny_config)
    tiny["reports"] = load_reports(tiny, REPORT_SCHEMA, ROOT, ROOT)
    check_config(tiny)
    check_sizes(tiny, {**{f"data_batch_{i}": 100 for i in range(1, 6)}, "test_batch": 100})


def test_an_untrainable_run_is_refused_naming_experiment_run_and_key(config):
    layers = ex.experiments_of(config, "a3-2019-batch-norm")["layers"]
    layers["runs"]["k3_bn"]["n_batch"] = 1
    with pytest.raises(
        ConfigError, match=r"a3-2019-batch-norm\.yaml:[0-9]+: experiments\.layers \(run 'k3_bn'\): batch_norm"
    ):
        check_config(config)
    # the remainder is known once the split's size is: 45,000 images in batches of 2,647 (17 of them and one image)
    layers["runs"]["k3_bn"]["n_batch"] = 2647
    check_config(config)
    with pytest.raises(ConfigError, match=r"layers \(run 'k3_bn'\): .*last mini-batch of 1 of its 45000"):
        check_sizes(config, {**{f"data_batch_{i}": 10000 for i in range(1, 6)}, "test_batch": 10000})


def test_snakemake_refuses_an_untrainable_run_before_any_job(tmp_path):
    (tmp_path / "bn1.yaml").write_text(
        "overrides: {a3-2019-batch-norm: {experiments: {layers: {base: {n_batch: 1}}}}}\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-n", "--configfile", "bn1.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "layers (run 'k3_bn'): batch_norm is true with n_batch 1" in done.stdout + done.stderr
    assert not (tmp_path / "results").exists()


def test_a_job_whose_step_is_large_asks_for_training_threads_and_the_others_for_one(config):
    """Exercise 4's two architecture-5 ConvNets, 100 x 5.12 MFLOP per mini-batch each, over the threshold: a
    job per run (a stack would only chain them), each on two threads; Assignment 1's four linear models,
    4 x 100 x 2 x 2 x 3072 x 10 flop, far under it: one stack on one thread."""
    from dd2424.pipeline import jobs

    conv = _headline_jobs(config, "a3-2025-patchify-convnet", "exercise4")
    (linear,) = _headline_jobs(config, "a1-2022-held-out", "required")
    assert sorted(j["runs"] for j in conv) == [["l2_only"], ["smoothing"]]
    per_model = 4 * 64 * 48 * 40 + 6 * (2560 * 300 + 3000)
    assert ex.step_mflop(conv[0]["specs"]) == pytest.approx(100 * per_model / 1e6)
    assert ex.step_mflop(linear["specs"]) == pytest.approx(4 * 100 * 4 * 3072 * 10 / 1e6)
    assert jobs.threads(conv[0], config["training"]) == config["training"]["threads"] == 2
    assert jobs.threads(linear, config["training"]) == 1
    assert jobs.threads(conv[0], {**config["training"], "threads": 1}) == 1
    # a higher threshold: one stack again, on one thread
    higher = {**config, "training": {**config["training"], "large_step_mflop": 2000}}
    (stacked,) = _headline_jobs(higher, "a3-2025-patchify-convnet", "exercise4")
    assert stacked["runs"] == ["l2_only", "smoothing"] and jobs.threads(stacked, higher["training"]) == 1
