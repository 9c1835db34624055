"""What a user's YAML means, and what it may cost to read: YAML 1.2's scalars, refusals with the file and line."""

import subprocess
import sys
import time
import tracemalloc

import pytest

from dd2424.util import yaml_files
from dd2424.util.yaml_files import YamlError


@pytest.mark.parametrize(
    "text, value",
    [
        ("runs: {on: {}, off: {}, yes: 1, no: 2}", {"runs": {"on": {}, "off": {}, "yes": 1, "no": 2}}),
        ("section: no", {"section": "no"}),
        ("flag: true\nother: False", {"flag": True, "other": False}),
        ("eta: 1e-3\nbig: 5E4\nneg: -2.5e+1", {"eta": 1e-3, "big": 5e4, "neg": -25.0}),
        ("seed: 010\nhex: 0x1f\noct: 0o17", {"seed": 10, "hex": 31, "oct": 15}),
        ("time: 1:20\nversion: 1_000", {"time": "1:20", "version": "1_000"}),
        ("x: ~\ny: null\nz: .inf", {"x": None, "y": None, "z": float("inf")}),
        (
            "base: &b {eta: 0.1}\nrun: {<<: *b, lambda: 0.01}",
            {"base": {"eta": 0.1}, "run": {"eta": 0.1, "lambda": 0.01}},
        ),
    ],
)
def test_scalars_mean_what_yaml_1_2_says(text, value):
    assert yaml_files.loads(text) == value


def test_a_duplicated_key_names_the_line_of_both(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("id: a\nexperiments:\n  e: {}\n  e: {}\n", encoding="utf-8")
    with pytest.raises(YamlError, match=r"dup\.yaml:4: duplicate key 'e' \(first at line 3\)"):
        yaml_files.read(path)


def test_a_syntax_error_and_a_tab_name_the_file_and_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("id: a\nexperiments: {x: [1, 2}\n", encoding="utf-8")
    with pytest.raises(YamlError, match=r"bad\.yaml:2: not valid YAML"):
        yaml_files.read(path)
    path.write_text("id: a\nexperiments:\n\te: {}\n", encoding="utf-8")
    with pytest.raises(YamlError, match=r"bad\.yaml:3: not valid YAML.*\(YAML indents with spaces, never tabs\)"):
        yaml_files.read(path)


def _laughs(levels, width=9):
    lines = ['a0: &a0 "lol"']
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("levels", [6, 9, 30])
def test_a_billion_laughs_is_refused_quickly_in_a_few_lines_and_little_memory(tmp_path, levels):
    path = tmp_path / "laughs.yaml"
    path.write_text(_laughs(levels), encoding="utf-8")
    tracemalloc.start()
    start = time.process_time()
    with pytest.raises(YamlError, match=r"laughs\.yaml:\d+: its aliases expand to more than 200,000 values") as e:
        yaml_files.read(path)
    cpu = time.process_time() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(str(e.value)) < 300 and str(e.value).count("\n") == 0
    # linear in the file, not in the expansion: a few ms and well under 10 MB for any depth
    assert peak < 10e6 and cpu < 2.0


def test_a_moderate_use_of_aliases_is_read():
    assert yaml_files.loads(_laughs(3))["a3"][0][0] == ["lol"] * 9


def test_a_self_containing_alias_is_refused():
    with pytest.raises(YamlError, match=":1: an alias that contains itself"):
        yaml_files.loads("a: &x [1, *x]\n")


def test_nesting_deeper_than_any_report_is_refused():
    with pytest.raises(YamlError, match="nested too deeply"):
        yaml_files.loads("[" * 100_000 + "]" * 100_000)


def test_a_huge_file_is_refused_unread_and_a_long_line_is_quoted_short(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"x: " + b"a" * (yaml_files.MAX_BYTES + 10))
    with pytest.raises(YamlError, match=r"huge\.yaml: larger than 1,048,576 bytes"):
        yaml_files.read(path)
    with pytest.raises(YamlError) as e:
        yaml_files.loads("x: [" + "1, " * 100_000 + "}")
    assert len(str(e.value)) < 300


def test_line_of_finds_the_key_a_problem_is_at(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(
        "id: r\nexperiments:\n  e:\n    runs:\n      a: {eta: 1}\n      b:\n        eta: -1\n", encoding="utf-8"
    )
    assert yaml_files.line_of(path, ["experiments", "e", "runs", "b", "eta"]) == 7
    assert yaml_files.line_of(path, ["experiments", "e", "runs", "a", "eta"]) == 5
    assert yaml_files.line_of(path, ["experiments", "nowhere"]) == 2


def test_check_yaml_names_the_file_and_line_snakemake_does_not(tmp_path):
    """Snakemake's refusal of a --configfile that is not YAML names no file; python -m dd2424.check_yaml
    names each bad file with its line and problem, passes a good one, and exits 1 if any is bad."""
    good = tmp_path / "good.yaml"
    good.write_text("seeds: [1, 2]\n")
    tab = tmp_path / "tab.yaml"
    tab.write_text("seeds:\n\t- 1\n")
    twice = tmp_path / "twice.yaml"
    twice.write_text("seeds: [1]\nseeds: [2]\n")
    done = subprocess.run(
        [sys.executable, "-m", "dd2424.check_yaml", str(good), str(tab), str(twice)], capture_output=True, text=True
    )
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0] == f"{good}: valid YAML"
    assert lines[1].startswith(f"{tab}:2: ") and "tabs" in lines[1]
    assert lines[2].startswith(f"{twice}:2: ") and "seeds" in lines[2]
    assert subprocess.run([sys.executable, "-m", "dd2424.check_yaml", str(good)]).returncode == 0
