"""Every text file the pipeline reads or writes names its encoding: nothing depends on the locale.

Run with Python's UTF-8 mode off and the C locale, where the default text
encoding is ASCII: the files below hold non-ASCII text (the report's '±',
user notes with Greek letters) and must still be written and read as UTF-8.
The rest of the kind is pinned by `make lint` (ruff's PLW1514: an open(),
read_text() or write_text() without an encoding).
"""

import json
import os
import subprocess
import sys
import textwrap

ASCII_LOCALE = {**os.environ, "PYTHONUTF8": "0", "LC_ALL": "C", "LANG": "C"}
ASCII_LOCALE.pop("PYTHONIOENCODING", None)

KEY_PATHS = textwrap.dedent(
    """
    import json, locale, sys
    from pathlib import Path

    from dd2424.pipeline import experiments, reports
    from dd2424.pdf import report
    from dd2424.util.logs import LineLog

    out = Path(sys.argv[1])
    # a job's log line
    with LineLog(out / "job.log") as log:
        log("eta η = 0.01, accuracy 39.10 ± 0.21")
    # the report, rendered from a template with non-ASCII text of its own
    (out / "templates").mkdir()
    (out / "templates/report.tex.j2").write_bytes("Résumé: \\\\VAR{note|tex}, 39.10 ± 0.21\\n".encode())
    report.render(out / "templates", {"note": "λ ≥ 0.1 — “fine”"}, out / "report.tex")
    # an earlier stage's result, read by a training job
    (out / "best.json").write_bytes('{"best": {"eta": 0.01}, "note": "η"}'.encode())
    spec = experiments.resolve({"run": "r", "eta": 1.0}, {"best_of": {"keys": ["eta"]}}, out / "best.json")
    # a report file with a non-ASCII section name
    (out / "r.yaml").write_bytes(
        "{id: r, assignment: a1, title: 'λ', experiments: {e: {runs: {r: {}}}},"
        " published: [{section: 'Table 1 — η', target: e/r, quantity: test_accuracy, value: 0.39}]}\\n".encode()
    )
    section = reports.read_yaml(out / "r.yaml")["published"][0]["section"]
    # ASCII on stdout: the locale's encoding would refuse anything else
    print(json.dumps({"encoding": locale.getpreferredencoding(False), "eta": spec["eta"], "section": section}))
    """
)


def test_key_paths_write_and_read_utf8_under_an_ascii_locale(tmp_path):
    # a file, not -c: the C locale cannot decode a non-ASCII command line; source files are UTF-8
    script = tmp_path / "key_paths.py"
    script.write_text(KEY_PATHS, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path)],
        env=ASCII_LOCALE,
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout)
    # the test means something only if the locale's encoding is not UTF-8
    assert seen["encoding"].lower() in {"ansi_x3.4-1968", "ascii", "us-ascii"}
    assert seen["eta"] == 0.01
    assert seen["section"] == "Table 1 — η"
    assert "η = 0.01, accuracy 39.10 ± 0.21" in (tmp_path / "job.log").read_text(encoding="utf-8")
    assert (tmp_path / "report.tex").read_text(encoding="utf-8") == (
        "Résumé: $\\lambda$ $\\geq$ 0.1 --- ``fine'', 39.10 ± 0.21"
    )
