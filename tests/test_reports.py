"""Reports as data: loading report files, and each refusal naming the file and the key."""

import copy

import pytest
import yaml
from conftest import REPORT_SCHEMA, ROOT, shipped_config, write_report

from dd2424.pipeline import experiments as ex
from dd2424.pipeline import targets
from dd2424.pipeline.checks import ConfigError, check_config
from dd2424.pipeline.reports import ReportError, load_reports, merge
from dd2424.pipeline.sizes import check_sizes

SHIPPED = sorted(p.stem for p in (ROOT / "reports").glob("*.yaml"))


def small_report(**changes):
    """A made-up report: one runs experiment, one grid, published numbers on both."""
    report = {
        "id": "a1-made-up",
        "assignment": "a1",
        "title": "Assignment 1 (made up): two runs and a grid",
        "experiments": {
            "required": {"section": "Table 1", "runs": {"small": {"eta": 0.001}, "large": {"eta": 0.01}}},
            "grid": {"section": "Table 2", "grid": {"lambda": [0.0, 0.1]}},
        },
        "published": [
            {"section": "Table 1", "target": "required/small", "quantity": "test_accuracy", "value": 0.38},
            {
                "section": "Table 2",
                "target": "grid",
                "point": {"lambda": 0.1},
                "quantity": "val_accuracy",
                "value": 0.3,
            },
        ],
    }
    report.update(changes)
    return report


def load_only(tmp_path, *reports, **config_changes):
    """The config with only these report files (written to tmp_path) loaded and checked."""
    base = yaml.safe_load((ROOT / "config.yaml").read_text())
    files = {}
    for i, report in enumerate(reports):
        (tmp_path / f"r{i}").mkdir()
        files[f"r{i}"] = str(write_report(tmp_path / f"r{i}", report))
    config = {**base, "report_files": files, **config_changes}
    config["reports"] = load_reports(config, REPORT_SCHEMA, tmp_path, ROOT)
    check_config(config)
    return config


def test_every_shipped_report_loads_and_each_experiment_has_runs():
    config = shipped_config()
    assert sorted(config["reports"]) == SHIPPED
    for rid, report in config["reports"].items():
        assert report["assignment"] in config["assignments"]
        for name in report["experiments"]:
            assert ex.static_runs(config, rid, name), (rid, name)


def test_a_made_up_report_loads_beside_the_shipped_ones(tmp_path):
    path = write_report(tmp_path, small_report())
    config = shipped_config(report_files={"shipped": "reports/*.yaml", "mine": str(path)})
    check_config(config)
    assert set(config["reports"]) == set(SHIPPED) | {"a1-made-up"}
    runs = ex.static_runs(config, "a1-made-up", "required")
    assert runs["large"]["eta"] == 0.01 and runs["large"]["bias_init"] == "normal"  # a1's default
    assert (runs["large"]["report"], runs["large"]["assignment"]) == ("a1-made-up", "a1")
    assert ex.reports_of(config, "a1") == sorted(
        ["a1-2022-held-out", "a1-2024-grid-bce", "a1-2025-text", "a1-exercise-flips", "a1-made-up"]
    )


def test_a_label_set_to_null_drops_its_files(tmp_path):
    path = write_report(tmp_path, small_report())
    config = shipped_config(report_files={"shipped": None, "mine": str(path)})
    assert list(config["reports"]) == ["a1-made-up"]


def test_overrides_merge_into_a_report(tmp_path):
    config = shipped_config(overrides={"a1-2024-grid-bce": {"experiments": {"required": {"base": {"epochs": 2}}}}})
    runs = ex.static_runs(config, "a1-2024-grid-bce", "required")
    assert {r["epochs"] for r in runs.values()} == {2}
    assert runs["lam0_eta0.1"]["n_batch"] == 100  # the rest of the file's base is kept


@pytest.mark.parametrize(
    "change, message",
    [
        # a run's value of the wrong type: the file and the key's path
        (
            lambda r: r["experiments"]["required"]["runs"]["small"].update(epochs="forty"),
            r"r0/a1-made-up\.yaml:\d+: experiments\.required\.runs\.small\.epochs: 'forty'",
        ),
        # a key no experiment has
        (lambda r: r["experiments"]["grid"].update(n_epochs=20), r"experiments\.grid: .*'n_epochs'"),
        # a grid value that no run spec accepts (a negative learning rate)
        (
            lambda r: (r["published"].pop(1), r["experiments"]["grid"].update(grid={"eta": [-0.1, 0.01]})),
            r"experiments\.grid\.grid\.eta\.0: -0\.1",
        ),
        # a grid over a key that is not a hyper-parameter
        (
            lambda r: (r["published"].pop(1), r["experiments"]["grid"].update(grid={"learning_rate": [0.1]})),
            r"'learning_rate'",
        ),
        # the assignment must exist
        (lambda r: r.update(assignment="a9"), r"assignment 'a9' is not one of config's assignments"),
        # an id that cannot name a directory
        (lambda r: r.update(id="my report"), r"id 'my report' must be letters"),
        (lambda r: r.update(id="data"), r"id 'data' must be"),
        # a published entry whose target, run or quantity does not exist
        (
            lambda r: r["published"][0].update(target="requird/small"),
            r"published\.0 \(requird/small, test_accuracy\): no experiment 'requird'",
        ),
        (lambda r: r["published"][0].update(target="required/tiny"), r"no run 'tiny' in experiment 'required'"),
        (lambda r: r["published"][0].update(quantity="f1_score"), r"quantity 'f1_score' is not one we compute"),
        (lambda r: r["published"][1].pop("point"), r"a search target needs a rank .* or a point"),
        # a grid point the grid does not have, or a key it does not vary
        (
            lambda r: r["published"][1].update(point={"lambda": 0.5}),
            r"published\.1 \(grid, val_accuracy\): point \{'lambda': 0\.5\} is not a point of the grid "
            r"\(lambda: \[0\.0, 0\.1\]\)",
        ),
        (
            lambda r: r["published"][1].update(point={"eta": 0.1}),
            r"point names \['eta'\], which the grid does not vary",
        ),
        # a run key misspelt: the key named, not "not valid under any of the given schemas"
        (
            lambda r: r["experiments"]["required"]["runs"]["small"].update(lamda=0.1),
            r"experiments\.required\.runs\.small: Additional properties are not allowed \('lamda' was unexpected\)",
        ),
        (lambda r: r["published"][0].update(target="gradcheck/nope/W"), r"no gradient check 'nope'"),
        (lambda r: r["published"][0].update(target="required"), r"'required' is not a search"),
        (lambda r: r["published"][0].pop("value"), r"published\.0: 'value' is a required property"),
        # a sampled range that is empty, or whose values no run accepts
        (
            lambda r: r["experiments"].update(
                coarse={"random": {"sample": {"lambda": {"low": -1, "high": -3}}, "count": 2}}
            ),
            r"experiments\.coarse\.random\.sample\.lambda: low -1 is not below high -3",
        ),
        (
            lambda r: r["experiments"].update(
                coarse={"random": {"sample": {"eta": {"low": -0.05, "high": 0.1, "scale": "linear"}}, "count": 2}}
            ),
            r"experiments\.coarse\.random\.sample\.eta\.low: -0\.05 is not a value of eta: .*minimum of 0",
        ),
        # cross-references between experiments
        (
            lambda r: r["experiments"].update(fine={"refine": {"from": "required", "count": 2}}),
            r"experiments\.fine\.refine\.from names 'required', a runs experiment",
        ),
        (
            lambda r: r["experiments"].update(
                best={"best_of": {"experiment": "gird", "keys": ["lambda"]}, "runs": {"b": {}}}
            ),
            r"experiments\.best\.best_of\.experiment names 'gird'",
        ),
        (lambda r: r["experiments"]["required"].update(baseline="grid"), r"baseline names 'grid', which is not a runs"),
        (
            lambda r: r["experiments"]["grid"].update(baseline="required/nope"),
            r"baseline names run 'nope', which 'required' does not have",
        ),
        # refine chains: no cycle, a root that a stack can sample, a rule given only the parameters it reads
        (
            lambda r: r["experiments"].update(
                f1={"refine": {"from": "f2", "count": 2}}, f2={"refine": {"from": "f1", "count": 2}}
            ),
            r"experiments\.f1\.refine\.from: the refines go round in a cycle: f1 -> f2 -> f1",
        ),
        (
            lambda r: r["experiments"].update(f1={"refine": {"from": "f1", "count": 2}}),
            r"experiments\.f1\.refine\.from: the refines go round in a cycle: f1 -> f1",
        ),
        (
            lambda r: r["experiments"].update(
                nb={"grid": {"n_batch": [10, 20]}}, f={"refine": {"from": "nb", "count": 2}}
            ),
            r"experiments\.nb\.grid samples \['n_batch'\]: a refined search samples only per-model scalars",
        ),
        (
            lambda r: r["experiments"].update(f={"refine": {"from": "grid", "count": 2, "rule": "best", "top": 3}}),
            r"experiments\.f\.refine: rule best reads margin, not top",
        ),
        (
            lambda r: r["experiments"].update(f={"refine": {"from": "grid", "count": 2, "factor": 3}}),
            r"experiments\.f\.refine: rule span reads top, margin, not factor",
        ),
        (
            lambda r: r["experiments"].update(f={"refine": {"from": "grid", "count": 2, "rule": "halve"}}),
            r"experiments\.f\.refine\.rule: 'halve' is not one of \['span', 'best', 'factor'\]",
        ),
        # rank_by: a search's only, and a best validation accuracy published only of a search ranked by it
        (
            lambda r: r["experiments"]["required"].update(rank_by="best_val"),
            r"experiments\.required\.rank_by ranks the points of a search",
        ),
        (
            lambda r: r["experiments"]["grid"].update(rank_by="best"),
            r"experiments\.grid\.rank_by: 'best' is not one of \['final', 'best_val'\]",
        ),
        (
            lambda r: r["published"][1].update(quantity="best_val_accuracy"),
            r"published\.1 \(grid, best_val_accuracy\): 'grid' records its points' final weights alone",
        ),
        # a value read at an epoch or update of the training: a run's history, and a quantity it records
        (
            lambda r: r["published"][0].update(at={"epoch": 1}),
            r"r0/a1-made-up\.yaml: published\.0 \(required/small, test_accuracy\): 'at' reads a run's history, "
            r"which has no test_accuracy \(it has train_accuracy, val_accuracy, train_loss",
        ),
        (
            lambda r: r["published"][1].update(quantity="val_loss", at={"update": 100}),
            r"published\.1 \(grid, val_loss\): 'at' reads a run's history .* the target must name a run of a runs "
            r"experiment, <experiment>/<run>, not 'grid'",
        ),
        (
            lambda r: r["published"].append(
                {"section": "s", "target": "gradcheck", "quantity": "train_loss", "value": 1.0, "at": {"epoch": 1}}
            ),
            r"published\.2 \(gradcheck, train_loss\): 'at' reads a run's history",
        ),
        (
            lambda r: r["published"][0].update(quantity="train_cost", at={"epoch": 1, "update": 10}),
            r"published\.0\.at: .* has too many properties",
        ),
        (lambda r: r["published"][0].update(quantity="train_cost", at={"step": 1}), r"published\.0\.at: .*'step'"),
        (
            lambda r: r["published"][0].update(quantity="train_cost", at={"epoch": -1}),
            r"published\.0\.at\.epoch: -1 is less than the minimum of 0",
        ),
        # a bar per run: a runs experiment's
        (
            lambda r: r["experiments"]["grid"].update(figures=["bars"]),
            r"r0/a1-made-up\.yaml:[0-9]+: experiments\.grid\.figures: bars sets the runs of a runs experiment side "
            r"by side; 'grid' is a grid search",
        ),
        (lambda r: r["experiments"]["required"].update(figures=["bar"]), r"experiments\.required\.figures\.0: 'bar'"),
        # a test curve is drawn beside a run's curves; a search's points have none
        (
            lambda r: r["experiments"]["grid"].update(base={"test_curves": True}),
            r"r0/a1-made-up\.yaml:[0-9]+: experiments\.grid: test_curves draws a test curve beside "
            r"a runs experiment's training curves; 'grid' is a grid search",
        ),
    ],
)
def test_a_malformed_report_is_refused_naming_the_file_and_the_key(tmp_path, change, message):
    refused(tmp_path, small_report(), change, message)


def test_a_value_at_an_epoch_a_training_time_and_a_bar_figure_are_accepted(tmp_path):
    """The keys the 2025 texts need: a run's cost after its first epoch, its training time, bars of the runs."""
    published = small_report()["published"] + [
        {"section": "s", "target": "required/small", "quantity": "train_cost", "value": 1.972, "at": {"epoch": 1}},
        {"section": "s", "target": "required/large", "quantity": "val_accuracy", "value": 0.3, "at": {"update": 50}},
        {"section": "s", "target": "required/small", "quantity": "train_seconds", "value": 60.0},
    ]
    report = small_report(published=published)
    report["experiments"]["required"]["figures"] = ["bars"]
    config = load_only(tmp_path, report)
    assert config["reports"]["a1-made-up"]["published"][2]["at"] == {"epoch": 1}
    # the scorecard's inputs: every seed's history of each run read at an epoch or update, once
    histories = targets.published_histories(config, ["a1-made-up"])
    assert histories == {
        f"results/a1-made-up/required/{run}/seed{seed}/history.csv": f"a1-made-up/required/{run}"
        for run in ("small", "large")
        for seed in config["seeds"]
    }
    assert targets.published_histories(config, []) == {}


def refused(tmp_path, report, change, message):
    """``report`` changed by ``change`` is refused, before any job, with a message matching ``message``."""
    report = copy.deepcopy(report)
    change(report)
    with pytest.raises((ReportError, ConfigError), match=message):
        load_only(tmp_path, report)


def test_every_schema_problem_of_a_file_is_named_at_once(tmp_path):
    """Two misspelt keys and a bad value: one refusal, a line each with its key path, not the first alone."""
    report = copy.deepcopy(small_report())
    report["experiments"]["required"]["runs"]["small"]["lamda"] = 0.1
    report["experiments"]["required"]["base"] = {"precise_bm": True}
    report["published"][0]["value"] = "high"
    with pytest.raises(ReportError) as refused:
        load_only(tmp_path, report)
    lines = str(refused.value).splitlines()
    assert len(lines) == 3 and all(line.startswith(str(tmp_path)) for line in lines)
    assert "experiments.required.base: Additional properties are not allowed ('precise_bm' was unexpected)" in lines[0]
    assert "experiments.required.runs.small: Additional properties are not allowed ('lamda'" in lines[1]
    assert "published.0.value: 'high' is not of type 'number'" in lines[2]


def test_a_report_id_used_twice_names_both_files(tmp_path):
    with pytest.raises(
        ReportError, match=r"r1/a1-made-up\.yaml: id 'a1-made-up' is already the id of .*r0/a1-made-up\.yaml"
    ):
        load_only(tmp_path, small_report(), small_report(title="another"))


def test_a_duplicated_yaml_key_and_bad_yaml_name_the_file_and_the_line(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("id: a\nassignment: a1\ntitle: t\nid: b\nexperiments: {}\n")
    config = {**yaml.safe_load((ROOT / "config.yaml").read_text()), "report_files": {"x": str(path)}}
    with pytest.raises(ReportError, match=r"dup\.yaml:4: duplicate key 'id' \(first at line 1\)"):
        load_reports(config, REPORT_SCHEMA, tmp_path, ROOT)
    path.write_text("id: a\nexperiments: {x: [1, 2}\n")
    with pytest.raises(ReportError, match=r"dup\.yaml:2: not valid YAML"):
        load_reports(config, REPORT_SCHEMA, tmp_path, ROOT)


def test_a_path_that_matches_nothing_and_an_unknown_override_are_refused(tmp_path):
    config = {**yaml.safe_load((ROOT / "config.yaml").read_text()), "report_files": {"mine": "nowhere/*.yaml"}}
    with pytest.raises(ReportError, match=r"report_files\.mine: 'nowhere/\*\.yaml' matches no file"):
        load_reports(config, REPORT_SCHEMA, tmp_path, ROOT)
    config = {**config, "report_files": {"shipped": "reports/*.yaml"}, "overrides": {"a1-typo": {"title": "x"}}}
    with pytest.raises(ReportError, match=r"overrides names \['a1-typo'\], which no report file has"):
        load_reports(config, REPORT_SCHEMA, tmp_path, ROOT)


def test_a_grid_shrunk_by_overrides_leaves_its_published_points_unscored_not_refused():
    """A quick run's smaller grid: the report's other points are "not run", while a typo in a point is refused."""
    small = {"grid": {"n_batch": [10], "eta": [0.001], "lambda": [0.0]}}
    config = shipped_config(overrides={"a1-2024-grid-bce": {"experiments": {"grid": small}}})
    check_config(config)
    assert len(ex.static_runs(config, "a1-2024-grid-bce", "grid")) == 1


def test_a_chain_of_refines_from_a_grid_is_accepted_and_searches_the_grids_keys(tmp_path):
    """grid -> refine -> refine -> refine, each stage its own training length and rule; best_val published."""
    report = small_report()
    report["experiments"].update(
        coarse={"base": {"epochs": 2}, "grid": {"lambda": [1e-4, 1e-2], "eta": [0.001, 0.01]}, "rank_by": "best_val"},
        fine1={"base": {"epochs": 3}, "refine": {"from": "coarse", "count": 3, "rule": "best", "margin": 1}},
        fine2={"base": {"epochs": 4}, "refine": {"from": "fine1", "count": 3, "rule": "factor", "top": 2}},
        fine3={"base": {"epochs": 5}, "refine": {"from": "fine2", "count": 3}, "rank_by": "best_val"},
    )
    report["published"].append(
        {"section": "T", "target": "fine3", "rank": 1, "quantity": "best_val_accuracy", "value": 0.4}
    )
    config = load_only(tmp_path, report)
    experiments = ex.experiments_of(config, "a1-made-up")
    assert ex.refine_chain(experiments, "fine3") == ["coarse", "fine1", "fine2", "fine3"]
    assert ex.refine_chain(experiments, "coarse") == ["coarse"]
    assert ex.searched_keys(config, "a1-made-up", "fine3") == ["lambda", "eta"]
    assert [s["epochs"] for s in ex.static_runs(config, "a1-made-up", "fine2").values()] == [4, 4, 4]
    # a search ranked by its best validation accuracy evaluates it every epoch; the others as before
    jobs = ex.training_jobs(config, {("a1-made-up", e): ex.static_runs(config, "a1-made-up", e) for e in experiments})
    curves = {j["experiment"]: j["curves"] for j in jobs}
    assert curves == {"required": True, "grid": False, "coarse": "val", "fine1": False, "fine2": False, "fine3": "val"}


# A split of a report's own: all 50,000 training images, no validation set, pixels centred only.
NO_VAL = {
    "train": [f"data_batch_{i}" for i in range(1, 6)],
    "val_size": 0,
    "test": ["test_batch"],
    "preprocess": "center",
}


def own_split_report(**changes):
    """A made-up report that trains one run on a split its file defines."""
    report = small_report(splits={"all50k_center": NO_VAL})
    report["experiments"]["required"]["base"] = {"split": "all50k_center"}
    report.update(changes)
    return report


def test_a_report_file_defines_its_own_split_which_the_checks_see(tmp_path):
    config = load_only(tmp_path, own_split_report())
    assert config["splits"]["all50k_center"] == NO_VAL
    assert list(config["splits"])[:4] == ["batch1", "all49k", "all45k", "all49k_zca"]  # the config's first
    sizes = {**{f"data_batch_{i}": 10000 for i in range(1, 6)}, "test_batch": 10000}
    check_sizes(config, sizes)  # 50,000 training images: nothing held out
    config["reports"]["a1-made-up"]["experiments"]["required"]["runs"]["small"]["n_train"] = 50001
    with pytest.raises(ConfigError, match=r"n_train 50001 is more than the 50000 training images"):
        check_sizes(config, sizes)


def test_validation_from_the_test_set_leaves_the_training_pool_whole(tmp_path):
    split = {"train": ["data_batch_1"], "val_size": 2000, "val_from": "test", "test": ["test_batch"]}
    report = own_split_report(splits={"all50k_center": split})
    config = load_only(tmp_path, report)
    config["reports"]["a1-made-up"]["experiments"]["required"]["runs"]["small"]["n_train"] = 10000
    check_sizes(config, {**{f"data_batch_{i}": 10000 for i in range(1, 6)}, "test_batch": 10000})
    with pytest.raises(
        ConfigError, match=r"a1-made-up\.yaml: splits\.all50k_center\.val_size is 2000, but its test pool"
    ):
        check_sizes(config, {**{f"data_batch_{i}": 10000 for i in range(1, 6)}, "test_batch": 2000})


def test_a_split_name_with_two_definitions_names_both_files_and_the_same_definition_is_fine(tmp_path):
    config = load_only(tmp_path, own_split_report(), own_split_report(id="a1-second"))
    assert config["splits"]["all50k_center"] == NO_VAL
    for d in "bcd":
        (tmp_path / d).mkdir()
    other = own_split_report(id="a1-second", splits={"all50k_center": {**NO_VAL, "preprocess": "unit"}})
    with pytest.raises(
        ReportError,
        match=r"r1/a1-second\.yaml: splits\.all50k_center is already a different split in .*r0/a1-made-up\.yaml",
    ):
        load_only(tmp_path / "b", own_split_report(), other)
    with pytest.raises(
        ReportError, match=r"a1-made-up\.yaml: splits\.batch1 is already a different split in the config"
    ):
        load_only(tmp_path / "c", own_split_report(splits={"all50k_center": NO_VAL, "batch1": NO_VAL}))
    batch1 = {"train": ["data_batch_1"], "val": ["data_batch_2"], "test": ["test_batch"]}
    load_only(tmp_path / "d", own_split_report(splits={"all50k_center": NO_VAL, "batch1": batch1}))


@pytest.mark.parametrize(
    "change, message",
    [
        # the grid ranks its points by validation accuracy
        (
            lambda r: r["experiments"]["grid"].update(base={"split": "all50k_center"}),
            r"a1-made-up\.yaml:[0-9]+: experiments\.grid: a grid search ranks its points by validation accuracy, but "
            r"split 'all50k_center' has no validation set "
            r"\(splits\.all50k_center\.val_size is 0 in .*a1-made-up\.yaml\)",
        ),
        # a published validation figure of a run without one
        (
            lambda r: r["published"].append(
                {"section": "T", "target": "required/small", "quantity": "val_accuracy", "value": 0.4}
            ),
            r"a1-made-up\.yaml: published\.2 \(required/small, val_accuracy\): the run trains on split "
            r"'all50k_center', which has no validation set",
        ),
        # ZCA whitening is fitted on standardised inputs only
        (
            lambda r: r["splits"]["all50k_center"].update(zca_eps=1.0),
            r"a1-made-up\.yaml: splits\.all50k_center: zca_eps 1\.0 with preprocess center",
        ),
        # a spelling the schema does not know
        (lambda r: r["splits"]["all50k_center"].update(val_from="val"), r"splits\.all50k_center\.val_from: 'val'"),
        (lambda r: r["splits"]["all50k_center"].update(val_size=-1), r"splits\.all50k_center\.val_size: -1"),
    ],
)
def test_what_a_split_without_validation_cannot_do_is_refused_naming_the_file_and_the_key(tmp_path, change, message):
    refused(tmp_path, own_split_report(), change, message)


def test_a_best_of_a_search_without_validation_is_refused(tmp_path):
    config = load_only(tmp_path, own_split_report())
    experiments = config["reports"]["a1-made-up"]["experiments"]
    experiments["best"] = {"best_of": {"experiment": "grid", "keys": ["lambda"]}, "runs": {"b": {}}}
    experiments = {"best": experiments.pop("best"), **experiments}  # checked before the search it takes from
    experiments["grid"]["base"] = {"split": "all50k_center"}
    config["reports"]["a1-made-up"]["experiments"] = experiments
    with pytest.raises(
        ConfigError, match=r"experiments\.best\.best_of: its search 'grid' ranks its points by validation accuracy"
    ):
        check_config(config)


# The settings the examples show, at their off values.
OFF = {
    "loss": "softmax",
    "optimizer": "sgd",
    "bn_position": "before_relu",
    "precise_bn": False,
    "noise_std": 0.0,
    "salt_pepper": 0.0,
    "eta_max_decay": 1.0,
    "cyclic_epochs": None,
}


def test_every_example_report_loads_beside_the_shipped_ones_and_is_trainable_on_the_full_data():
    """The examples (made-up reports using the settings real reports use) validate, cross-check and fit
    CIFAR-10's sizes, together with the shipped reports, as a user adds them."""
    examples = sorted((ROOT / "examples").glob("a*-example-*.yaml"))
    assert len(examples) >= 4
    config = shipped_config(report_files={"shipped": "reports/*.yaml", "examples": "examples/a*-example-*.yaml"})
    assert {p.stem for p in examples} <= set(config["reports"])
    check_config(config)
    check_sizes(config, {**{f"data_batch_{i}": 10000 for i in range(1, 6)}, "test_batch": 10000})
    used = {
        key
        for r in (p.stem for p in examples)
        for name in config["reports"][r]["experiments"]
        for spec in ex.static_runs(config, r, name).values()
        for key, default in OFF.items()
        if spec[key] != default
    }
    assert used == set(OFF)


def test_the_2025_convnet_example_loads_and_expands_into_patchify_runs():
    """The 2025 Assignment 3 text's experiments, added as one file: each run a ConvNet of the text's sizes."""
    from dd2424.pipeline import experiments as ex
    from dd2424.pipeline.checks import check_config

    config = shipped_config()
    check_config(config)
    rid = "a3-2025-patchify-convnet"
    architectures = ex.static_runs(config, rid, "architectures")
    assert [(s["patch_size"], s["patch_filters"]) for s in architectures.values()] == [
        (2, 3),
        (4, 10),
        (8, 40),
        (16, 160),
    ]
    exercise4 = ex.static_runs(config, rid, "exercise4")
    assert exercise4["smoothing"]["label_smoothing_kind"] == "others" and exercise4["l2_only"]["label_smoothing"] == 0
    assert all(s["n_s_growth"] == 2 and s["hidden"] == [300] for s in exercise4.values())


def _report_with(tmp_path, **changes):
    base = yaml.safe_load((ROOT / "reports/a3-2025-patchify-convnet.yaml").read_text(encoding="utf-8"))
    return write_report(tmp_path, merge(base, changes))


def test_a_number_with_an_exponent_and_no_dot_is_a_number_as_in_yaml_1_2(tmp_path):
    path = tmp_path / "mine.yaml"
    text = (ROOT / "reports/a3-2025-patchify-convnet.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("arch2: {}", "arch2: {eta_max: 1e-1}"), encoding="utf-8")
    config = shipped_config(report_files={"mine": str(path)})
    assert config["reports"]["a3-2025-patchify-convnet"]["experiments"]["exercise3"]["runs"]["arch2"] == {
        "eta_max": 0.1
    }


def test_a_published_accuracy_in_percent_is_refused(tmp_path):
    path = _report_with(
        tmp_path, published=[{"section": "S", "target": "exercise3/arch2", "quantity": "test_accuracy", "value": 57.9}]
    )
    with pytest.raises(ReportError, match=r"value 57.9 is not a fraction: .*0.579 for 57.9 %"):
        check_config(shipped_config(report_files={"mine": str(path)}))


@pytest.mark.parametrize(
    "override,message",
    [
        (
            {"experiments": {"architecture": {"base": {"n_s": 5}}}},
            r"has no experiment 'architecture' \(its experiments: exercise3, architectures",
        ),
        (
            {"experiments": {"architectures": {"runs": {"arch_2": {"n_s": 5}}}}},
            r"has no run 'arch_2' \(its runs: arch1, arch2",
        ),
    ],
)
def test_an_override_naming_what_its_report_does_not_have_is_refused(override, message):
    with pytest.raises(ReportError, match=message):
        shipped_config(overrides={"a3-2025-patchify-convnet": override})


@pytest.mark.parametrize(
    "run, message",
    [
        (
            {"init": "he", "bias_init": "zero", "init_sigma": 1000},
            r"\(run 'r'\): init_sigma is set but does nothing here: it acts when init is normal or bias_init is "
            r"normal \(this run: init he, bias_init zero\): remove it",
        ),
        ({"optimizer": "adam", "adam_beta1": 0.8}, None),
        ({"adam_beta1": 0.8}, r"adam_beta1 is set but does nothing here: it acts when optimizer is adam"),
        ({"schedule": "cyclic", "n_s": 100, "decay": 0.5}, r"decay is set but does nothing here"),
    ],
)
def test_a_setting_the_run_makes_meaningless_is_refused(tmp_path, run, message):
    report = small_report()
    report["experiments"]["required"]["runs"]["r"] = run
    if message is None:
        load_only(tmp_path, report)
        return
    with pytest.raises(ConfigError, match=message):
        load_only(tmp_path, report)
