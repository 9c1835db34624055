"""`snakemake --config key=value` read as YAML: the overrides users reach for, typed as in a config file."""

import re
import subprocess
import sys

import pytest
from conftest import ROOT, TINY, tiny_workdir

from dd2424.util.command_line import command_line_config


@pytest.mark.parametrize(
    "entries,expected",
    [
        (["seeds=[1]"], {"seeds": [1]}),
        (["seeds=[1, 2, 3]"], {"seeds": [1, 2, 3]}),
        (["search={chunk_size: 4}"], {"search": {"chunk_size": 4}}),
        (["search={chunk_size: null}"], {"search": {"chunk_size": None}}),
        (
            ["overrides={a1-2024-grid-bce: {experiments: {required: {base: {epochs: 5}}}}}"],
            {"overrides": {"a1-2024-grid-bce": {"experiments": {"required": {"base": {"epochs": 5}}}}}},
        ),
        (["defaults={eta: 1e-3, flip: true}"], {"defaults": {"eta": 0.001, "flip": True}}),
        (["defaults={eta: 2.5E+2, lambda: -1e-5}"], {"defaults": {"eta": 250.0, "lambda": -1e-5}}),
        # quoted, a string stays a string (a report id, an md5 of digits)
        (["x={report: '000', md5: \"123\"}"], {"x": {"report": "000", "md5": "123"}}),
        (["data={url: 'file:///a b/c=d.tar.gz'}"], {"data": {"url": "file:///a b/c=d.tar.gz"}}),
        (["seeds="], {"seeds": None}),
        # two entries for one key merge key by key, the later winning
        (
            ["defaults={eta: 0.1, epochs: 3}", "defaults={epochs: 4}"],
            {"defaults": {"eta": 0.1, "epochs": 4}},
        ),
        (None, {}),
    ],
)
def test_values_are_read_as_yaml(entries, expected):
    assert command_line_config(entries) == expected


@pytest.mark.parametrize("entry,message", [("seeds", "key=value"), ("seeds=[1", "not valid YAML")])
def test_malformed_entries_are_refused_naming_them(entry, message):
    with pytest.raises(ValueError, match=re.escape(repr(entry)) + ".*" + message):
        command_line_config([entry])


def dry_run(workdir, *config):
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-n", "--config", *config]
        + ["--configfile", str(TINY), str(workdir / "data.yaml")],
        cwd=workdir,
        capture_output=True,
        text=True,
        encoding="utf-8",
    )


def job_counts(output):
    table = output.split("Job stats:")[1].split("total")[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", table, re.M)}


def test_seeds_chunk_size_and_epochs_from_the_command_line(tmp_path):
    workdir = tiny_workdir(tmp_path / "w")
    done = dry_run(
        workdir,
        "seeds=[7]",
        "search={chunk_size: 2}",
        "overrides={a1-2024-grid-bce: {experiments: {required: {base: {epochs: 5}}}}}",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    jobs = job_counts(done.stdout)
    # one seed: every headline job once (tiny.yaml has two seeds: twice)
    assert jobs["train_a1_2024_grid_bce_required_lam0_1_eta0_001_lam0_eta0_001_lam0_eta0_1_lam1_eta0_001"] == 1
    # the grid's 8 points, two stacks of 4 (one per n_batch), in chunks of 2; the first seed is 7
    assert sorted(j for j in jobs if j.startswith("train_a1_2024_grid_bce_grid_seed")) == [
        f"train_a1_2024_grid_bce_grid_seed7_chunk{i}" for i in range(4)
    ]


def test_a_command_line_value_reaches_the_schema_as_a_number(tmp_path):
    workdir = tiny_workdir(tmp_path / "w")
    done = dry_run(workdir, "defaults={epochs: 0}")
    assert done.returncode != 0
    # refused for its value, not for its type ("'0' is not of type 'integer'")
    output = done.stdout + done.stderr
    assert "0 is less than the minimum of 1" in output
    assert "is not of type" not in output
