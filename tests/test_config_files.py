"""Config files as the user wrote them: YAML 1.2's meaning, and each problem blamed on the file and line to edit."""

import pytest
from conftest import ROOT, run_snakemake, tiny_workdir

from dd2424.pipeline import workflow_config
from dd2424.pipeline.checks import ConfigError
from dd2424.pipeline.configuration import ConfigFileError, blame, check_schema, override_origins, read_config
from dd2424.pipeline.reports import ReportError, load_reports
from dd2424.pipeline.reports import load_schema as load_report_schema
from dd2424.pipeline.sizes import check_sizes

SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"
REPORT_SCHEMA = load_report_schema(ROOT / "workflow/schemas/report.schema.yaml", SCHEMA)


def _files(tmp_path, **texts):
    paths = []
    for name, text in texts.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def test_later_files_and_the_command_line_win_key_by_key(tmp_path):
    files = _files(tmp_path, first="seeds: [1, 2]\nchunk_size: 4\n", second="seeds: [3]\n")
    config, sources = read_config([ROOT / "config.yaml", *files], ["chunk_size=2", "data={md5: null}"])
    assert config["seeds"] == [3] and config["chunk_size"] == 2 and config["data"]["md5"] is None
    assert config["data"]["url"]  # config.yaml's url kept: --config merged key by key
    assert [name for name, _ in sources][-1] == "--config"


def test_a_bad_value_is_blamed_on_the_file_and_line_that_set_it(tmp_path):
    (first,) = _files(tmp_path, first="search: {chunk_size: 4}\nseeds:\n  - 1\n  - one\n")
    config, sources = read_config([ROOT / "config.yaml", first], [])
    with pytest.raises(ConfigFileError) as e:
        check_schema(config, SCHEMA, sources)
    assert str(e.value) == f"{first}:4: seeds.1: 'one' is not of type 'integer'"
    (typo,) = _files(tmp_path, typo="seeds: [1]\nsearch:\n  chunk_sise: 4\n")
    config, sources = read_config([ROOT / "config.yaml", typo], [])
    with pytest.raises(ConfigFileError) as e:
        check_schema(config, SCHEMA, sources)
    assert str(e.value).startswith(f"{typo}:3: search: Additional properties are not allowed ('chunk_sise' was")
    config, sources = read_config([ROOT / "config.yaml", first], ["search={chunk_size: -1}", "seeds=[1]"])
    with pytest.raises(ConfigFileError, match=r"^--config: search.chunk_size: -1 is less than the minimum of 1$"):
        check_schema(config, SCHEMA, sources)


def test_mistakes_in_a_config_files_defaults_are_blamed_with_the_rest_at_once(tmp_path):
    """The run-spec defaults of a --configfile are checked with its other keys: a line each, file and line."""
    (mine,) = _files(tmp_path, mine="defaults:\n  lamda: 0.1\n  n_batch: -5\nseedz: [1]\n")
    with pytest.raises(ConfigFileError) as e:
        workflow_config.load(ROOT, [mine], [], tmp_path)
    lines = str(e.value).splitlines()
    assert len(lines) == 3, lines
    assert lines[0].startswith(f"{mine}:4: (top level): Additional properties are not allowed ('seedz' was")
    assert lines[1].startswith(f"{mine}:2: defaults: Additional properties are not allowed ('lamda' was")
    assert lines[2] == f"{mine}:3: defaults.n_batch: -5 is less than the minimum of 1"


def test_every_broken_config_file_is_named_at_once(tmp_path):
    dup, tab, laughs = _files(
        tmp_path,
        dup="seeds: [1]\nseeds: [2]\n",
        tab="data:\n\turl: x\n",
        laughs='a: &a ["l", "l", "l", "l", "l", "l", "l", "l", "l"]\n'
        + "".join(f"b{i}: &b{i} [{', '.join(['*' + ('a' if i == 0 else f'b{i - 1}')] * 9)}]\n" for i in range(8)),
    )
    with pytest.raises(ConfigFileError) as e:
        read_config([dup, tab, laughs], [])
    lines = str(e.value).splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"{dup}:2: duplicate key 'seeds' (first at line 1)")
    assert lines[1].startswith(f"{tab}:2: not valid YAML")
    assert lines[2].startswith(f"{laughs}:") and "expand to more than" in lines[2]


def _refused_run_override(tmp_path, text, top=""):
    """(config file, the ReportError's message) of a --configfile overriding one run of a1-2025-text's default
    experiment with ``text`` (after ``top``, lines of other keys)."""
    (mine,) = _files(
        tmp_path,
        mine=f"{top}overrides:\n  a1-2025-text:\n    experiments:\n      default:\n        runs:\n          {text}\n",
    )
    config, sources = read_config([ROOT / "config.yaml", mine], [])
    with pytest.raises(ReportError) as e:
        load_reports(config, REPORT_SCHEMA, tmp_path, ROOT, override_origins(sources))
    return mine, str(e.value)


def test_a_bad_override_is_blamed_on_the_config_file_not_on_the_report(tmp_path):
    mine, message = _refused_run_override(tmp_path, "lam0_eta0.001: {eta: -0.1}")
    assert message.startswith(
        f"{mine}:6: overrides.a1-2025-text.experiments.default.runs.lam0_eta0.001.eta: -0.1 is less"
    )
    assert "reports/" not in message


def test_problems_of_several_report_files_are_named_at_once(tmp_path):
    good = (ROOT / "reports/a1-2025-text.yaml").read_text(encoding="utf-8")
    bad_eta = tmp_path / "one.yaml"
    bad_eta.write_text(good.replace("id: a1-2025-text", "id: one").replace("eta: 0.001,", "eta: -1,", 1))
    bad_yaml = tmp_path / "two.yaml"
    bad_yaml.write_text("id: two\nexperiments: {x: [1, 2}\n")
    config, _ = read_config([ROOT / "config.yaml"], [])
    config["report_files"] = {"mine": str(tmp_path / "*.yaml")}
    with pytest.raises(ReportError) as e:
        load_reports(config, REPORT_SCHEMA, tmp_path, ROOT)
    lines = str(e.value).splitlines()
    assert lines[0].startswith(f"{bad_eta}:") and "eta: -1 is less than" in lines[0]
    assert lines[1].startswith(f"{bad_yaml}:2: not valid YAML")


@pytest.mark.e2e
def test_runs_named_on_and_off_keep_their_names_through_snakemake(tmp_path):
    work = tiny_workdir(tmp_path / "w")
    (work / "mine.yaml").write_text(
        "id: mine\nassignment: a1\ntitle: t\nexperiments:\n  e:\n    section: S\n    runs:\n"
        "      on: {epochs: 1}\n      off: {epochs: 1, eta: 1e-3}\n",
        encoding="utf-8",
    )
    (work / "add.yaml").write_text("report_files: {mine: mine.yaml}\noverrides: {mine: {title: yes}}\n")
    done = run_snakemake(
        work,
        "-n",
        "results/mine/e/on/seed1/metrics.json",
        "results/mine/e/off/seed1/metrics.json",
        extra_configs=[work / "add.yaml"],
    )
    assert "True" not in done.stdout + done.stderr
    (work / "add.yaml").write_text("report_files: {mine: mine.yaml}\noverrides: {mine: {title: 3}}\n")
    done = run_snakemake(work, "-n", check=False, extra_configs=[work / "add.yaml"])
    assert done.returncode != 0
    assert f"{work / 'add.yaml'}:2: overrides.mine.title: 3 is not of type 'string'" in done.stdout + done.stderr


def test_a_report_file_path_that_matches_nothing_names_the_config_file_and_line(tmp_path):
    (mine,) = _files(tmp_path, mine="seeds: [1]\nreport_files:\n  mine: mine/a3-2026-mien.yaml\n")
    config, sources = read_config([ROOT / "config.yaml", mine], [])
    with pytest.raises(ReportError) as e:
        load_reports(config, REPORT_SCHEMA, tmp_path, ROOT, override_origins(sources), lambda k: blame(sources, k))
    assert str(e.value).startswith(f"{mine}:3: report_files.mine: 'mine/a3-2026-mien.yaml' matches no file")


def test_a_default_of_the_config_changes_only_the_runs_where_it_acts(tmp_path):
    """``defaults: {eta: ...}`` is a constant schedule's η: cyclic runs keep their spec (and so their jobs'
    params and records: nothing of theirs reruns); a default that acts in no run at all is refused."""
    from dd2424.nn.spec import acts
    from dd2424.pipeline import experiments as ex

    before = ex.all_static_runs(workflow_config.load(ROOT, [], [], tmp_path).config)
    (mine,) = _files(tmp_path, mine="defaults:\n  eta: 2.0e-3\n")
    after = ex.all_static_runs(workflow_config.load(ROOT, [mine], [], tmp_path).config)
    changed = inert = 0
    for key, runs in before.items():
        for run, spec in runs.items():
            if acts("eta", spec):
                changed += after[key][run] != spec
            else:
                inert += 1
                assert after[key][run] == spec, (key, run)
    assert changed > 0 and inert > 0, (changed, inert)
    (unused,) = _files(tmp_path, unused="seeds: [1]\ndefaults:\n  adam_beta1: 0.8\n")
    with pytest.raises(ConfigFileError) as e:
        workflow_config.load(ROOT, [unused], [], tmp_path)
    assert str(e.value).startswith(
        f"{unused}:3: defaults.adam_beta1 is set but changes no run: it acts when optimizer is adam, and no run here"
    ), str(e.value)
    # a key with no condition (lambda acts in every run), set by every run itself: no empty condition
    (every,) = _files(tmp_path, every="report_files: {shipped: reports/a1-2025-text.yaml}\ndefaults:\n  lambda: 0.5\n")
    with pytest.raises(ConfigFileError, match="changes no run: every run where it acts sets its own lambda, or has"):
        workflow_config.load(ROOT, [every], [], tmp_path)
    # eta acts in a1-2025-text's one run, which sets its own: changes nothing either
    (own,) = _files(tmp_path, own="report_files: {shipped: reports/a1-2025-text.yaml}\ndefaults:\n  eta: 0.01\n")
    with pytest.raises(ConfigFileError, match=f"^{own}:3: defaults.eta is set but changes no run: every run where "):
        workflow_config.load(ROOT, [own], [], tmp_path)


def test_an_override_naming_a_run_its_report_lacks_is_blamed_on_its_line(tmp_path):
    mine, message = _refused_run_override(tmp_path, "lam0_eta0.01: {eta: 0.1}", top="seeds: [1]\n")
    assert message.startswith(
        f"{mine}:7: overrides.a1-2025-text.experiments.default.runs.lam0_eta0.01: experiment 'default' of "
    ), message
    assert "has no run 'lam0_eta0.01' (its runs: lam0_eta0.001" in message


def test_what_an_override_sets_is_blamed_on_its_line_every_experiment_at_once(tmp_path):
    """Inert keys set through a --configfile's overrides: the config file's lines, not the report's, and the
    problems of two experiments in one refusal."""
    (mine,) = _files(
        tmp_path,
        mine="overrides:\n  a2-2021-cyclic:\n    experiments:\n      cyclic:\n        base: {eta: 0.05}\n"
        "      sanity:\n        base: {decay: 0.5}\n",
    )
    with pytest.raises(ConfigError) as e:
        workflow_config.load(ROOT, [mine], [], tmp_path)
    lines = sorted(str(e.value).splitlines())
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"{mine}:5: overrides.a2-2021-cyclic.experiments.cyclic.base (run ")
    assert "eta is set but does nothing here: it acts when schedule is constant" in lines[0]
    assert lines[1].startswith(f"{mine}:7: overrides.a2-2021-cyclic.experiments.sanity.base (run ")
    assert "decay is set but does nothing here" in lines[1] and "reports/" not in str(e.value)


def test_sizes_are_blamed_on_the_config_file_that_asks_for_them(tmp_path):
    sizes = {**{f"data_batch_{i}": 10000 for i in range(1, 6)}, "test_batch": 10000}
    (mine,) = _files(
        tmp_path,
        mine="splits:\n  mine: {train: [data_batch_1], test: [test_batch], val_size: 1000}\noverrides:\n"
        "  a1-2025-text:\n    experiments:\n      default:\n        runs:\n"
        "          lam0_eta0.001: {split: mine, n_train: 20000}\n",
    )
    config, sources, _ = workflow_config.load(ROOT, [mine], [], tmp_path)
    with pytest.raises(ConfigError) as e:
        check_sizes(config, sizes, override_origins(sources), lambda keys: blame(sources, keys))
    assert str(e.value) == (
        f"{mine}:8: overrides.a1-2025-text.experiments.default.runs.lam0_eta0.001 (run 'lam0_eta0.001'): "
        "n_train 20000 is more than the 9000 training images of split 'mine'"
    )
    config["splits"]["mine"]["val_size"] = 12000
    with pytest.raises(ConfigError, match=f"^{mine}:2: splits.mine.val_size is 12000, but its training pool has"):
        check_sizes(config, sizes, override_origins(sources), lambda keys: blame(sources, keys))


def test_keys_that_exclude_each_other_are_named_in_a_sentence(tmp_path):
    (mine,) = _files(tmp_path, mine="splits:\n  batch1: {val_size: 2000}\n")
    with pytest.raises(ConfigFileError) as e:
        workflow_config.load(ROOT, [mine], [], tmp_path)
    assert str(e.value).startswith(f"{mine}:2: splits.batch1: val and val_size exclude each other, and both are")
    assert "data_batch" not in str(e.value)  # not the whole mapping


def test_a_runs_typo_and_its_bad_value_are_named_together(tmp_path):
    (mine,) = _files(
        tmp_path,
        mine="overrides:\n  a1-2025-text:\n    experiments:\n      default:\n        runs:\n"
        "          lam0_eta0.001: {epoch: 3, lambda: -1}\n",
    )
    with pytest.raises(ReportError) as e:
        workflow_config.load(ROOT, [mine], [], tmp_path)
    lines = str(e.value).splitlines()
    assert len(lines) == 2 and all(line.startswith(f"{mine}:6: overrides.a1-2025-text.") for line in lines), lines
    assert "('epoch' was unexpected)" in lines[0] and "lambda: -1 is less than the minimum of 0" in lines[1]


def test_an_override_giving_an_experiment_a_second_kind_says_so_in_a_sentence(tmp_path):
    (mine,) = _files(
        tmp_path,
        mine="overrides:\n  a1-2024-grid-bce:\n    experiments:\n      grid:\n        runs: {x: {epochs: 3}}\n",
    )
    with pytest.raises(ReportError) as e:
        workflow_config.load(ROOT, [mine], [], tmp_path)
    assert str(e.value).startswith(
        f"{mine}:4: overrides.a1-2024-grid-bce.experiments.grid: runs and grid exclude each other, and both are given"
    ), str(e.value)


def test_an_override_of_a_report_that_does_not_exist_and_a_clashing_split_name_their_lines(tmp_path):
    (mine,) = _files(tmp_path, mine="seeds: [1]\noverrides:\n  a9-nope: {title: x}\n")
    with pytest.raises(ReportError, match=f"^{mine}:3: overrides names \\['a9-nope'\\], which no report file"):
        workflow_config.load(ROOT, [mine], [], tmp_path)
    (splits,) = _files(tmp_path, splits="splits:\n  mine: {train: [data_batch_1], test: [test_batch], val_size: 100}\n")
    report = (ROOT / "reports/a1-2025-text.yaml").read_text(encoding="utf-8")
    (tmp_path / "r.yaml").write_text(
        report.replace("id: a1-2025-text", "id: r")
        + "splits:\n  mine: {train: [data_batch_2], test: [test_batch], val_size: 100}\n",
        encoding="utf-8",
    )
    (add,) = _files(tmp_path, add=f"report_files: {{shipped: null, r: {tmp_path / 'r.yaml'}}}\n")
    with pytest.raises(ReportError, match=f"splits.mine is already a different split in {splits}:2 "):
        workflow_config.load(ROOT, [splits, add], [], tmp_path)


def test_an_override_naming_a_missing_run_and_a_bad_value_are_named_together(tmp_path):
    (mine,) = _files(
        tmp_path,
        mine="overrides:\n  a1-2024-grid-bce:\n    experiments:\n      required:\n        runs:\n"
        "          lam0_eta0.1: {lambda: -1}\n          nosuch: {epochs: 3}\n      nosuch: {base: {epochs: 3}}\n",
    )
    with pytest.raises(ReportError) as e:
        workflow_config.load(ROOT, [mine], [], tmp_path)
    lines = str(e.value).splitlines()
    assert len(lines) == 3, lines
    assert lines[0].startswith(f"{mine}:7: overrides.a1-2024-grid-bce.experiments.required.runs.nosuch: experiment")
    assert lines[1].startswith(f"{mine}:8: overrides.a1-2024-grid-bce.experiments.nosuch: ")
    assert lines[2].startswith(f"{mine}:6: overrides.a1-2024-grid-bce.experiments.required.runs.lam0_eta0.1.lambda: -1")


def test_an_experiment_an_override_adds_is_blamed_on_the_overrides_line(tmp_path):
    (mine,) = _files(
        tmp_path,
        mine="overrides:\n  a1-2025-text:\n    experiments:\n      extra:\n"
        "        base: {split: nosuch}\n        runs: {r: {}}\n",
    )
    with pytest.raises(ConfigError, match=f"^{mine}:4: experiments.extra \\(run 'r'\\): split 'nosuch' is not one"):
        workflow_config.load(ROOT, [mine], [], tmp_path)
