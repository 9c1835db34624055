"""Report helpers: LaTeX escaping, number formatting, a clear error without TeX."""

import pytest

from dd2424 import report


def test_tex_escapes_specials():
    assert report.tex("lam0.1_eta0.001") == r"lam0.1\_eta0.001"
    assert report.tex("39.10 ± 0.21") == r"39.10 $\pm$ 0.21"
    assert report.tex("50% & #1") == r"50\% \& \#1"


def test_numbers_for_latex():
    assert report.pct(0.39115) == "39.12"
    assert report.pct(float("nan")) == "--"
    assert report.mnum(1e-5) == r"\ensuremath{10^{-5}}"
    assert report.mnum(2.5e-5) == r"\ensuremath{2.5 \times 10^{-5}}"
    assert report.mnum(0.001) == "0.001"


def test_missing_latex_names_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(report.shutil, "which", lambda name: None)
    (tmp_path / "r.tex").write_text("")
    with pytest.raises(SystemExit, match="texlive-latex-recommended"):
        report.build_pdf(tmp_path / "r.tex", tmp_path / "r.pdf", tmp_path / "log")
    assert not (tmp_path / "r.pdf").exists()


def test_mean_std_with_one_seed_shows_no_spread():
    from dd2424.summary import mean_std

    assert mean_std(0.4, float("nan"), 1) == "40.00"
    assert mean_std(0.4, 0.01, 3) == "40.00 ± 1.00"


def test_every_diverged_run_is_listed_whatever_its_experiment():
    import pandas as pd

    from dd2424.report import diverged_runs

    summary = pd.DataFrame(
        {
            "assignment": ["a1", "a1", "a3", "a3", "a2"],
            "experiment": ["required", "required", "sigma", "sigma", "lambda_coarse"],
            "run": ["fast", "fast", "s4", "s4", "p003"],
            "diverged": [True, False, True, True, False],
        }
    )
    assert diverged_runs(summary) == [
        {"assignment": "a1", "experiment": "required", "run": "fast", "diverged": 1, "seeds": 2},
        {"assignment": "a3", "experiment": "sigma", "run": "s4", "diverged": 2, "seeds": 2},
    ]
