"""User text to LaTeX (texescape, report.tex): symbols as symbols, a placeholder for the rest, never a failed build."""

import re
import shutil
import subprocess
import unicodedata
import warnings

import pytest
from conftest import ROOT

from dd2424.pdf import filters
from dd2424.pdf.texescape import latex_text, unshown

# What users write in notes, titles, sections and not_stated entries.
SAMPLES = {
    "η = 0.001, λ ≥ 1e-3": r"$\eta$ = 0.001, $\lambda$ $\geq$ 1e-3",
    "σ ∈ {1e-1, 1e-4}": r"$\sigma$ $\in$ \{1e-1, 1e-4\}",
    "λ·η ≈ 10⁻⁴": r"$\lambda \cdot \eta$ $\approx$ 10\textsuperscript{-}\textsuperscript{4}",
    "“best” — ‘not stated’": r"``best'' --- `not stated'",
    "§ 3.2, pp. 4–5…": r"\S{} 3.2, pp. 4--5\ldots{}",
    "Café naïve Ångström Dvořák ệ": r"Caf\'{e} na\"{\i}ve \r{A}ngstr\"{o}m Dvo\v{r}\'{a}k \^{\d{e}}",
    "Łódź, Øresund": r"\L{}\'{o}d\'{z}, \O{}resund",
    "Δ loss × 2 → ∞, 0.5 ± 0.1": r"$\Delta$ loss $\times$ 2 $\to$ $\infty$, 0.5 $\pm$ 0.1",
    "ß æ ø œ € 20 °C": r"\ss{} \ae{} \o{} \oe{} \texteuro{} 20 \textdegree{}C",
    "ﬁne\u00a0print\u200b, Ａ": r"fine~print, A",
    "50% & #1 _x_ {y} ~ ^ \\": r"50\% \& \#1 \_x\_ \{y\} \textasciitilde{} \textasciicircum{} \textbackslash{}",
}


@pytest.mark.parametrize("text,latex", SAMPLES.items())
def test_user_text_maps_to_latex(text, latex):
    assert latex_text(text) == latex
    assert unshown(text) == []


def test_the_output_is_ascii_for_every_character_of_the_common_blocks():
    # Latin-1, Latin Extended-A, Greek, general punctuation, arrows, maths operators, and a few others
    text = "".join(
        chr(c)
        for block in [(0xA0, 0x250), (0x370, 0x400), (0x2000, 0x2070), (0x2190, 0x2200), (0x2200, 0x2300)]
        for c in range(*block)
        if unicodedata.category(chr(c)) != "Cn"
    )
    latex = latex_text(text)
    assert latex.isascii()
    # what is not shown is exactly what became a placeholder, once per occurrence
    assert latex.count(r"\unshownchar{") == sum(text.count(c) for c in unshown(text))


def test_what_no_font_shows_becomes_a_named_placeholder():
    assert latex_text("ok 😀 Яx") == r"ok \unshownchar{1F600} \unshownchar{042F}x"
    assert unshown("ok 😀 Я😀") == ["😀", "Я"]
    assert latex_text("bell\x07") == r"bell\unshownchar{0007}"


def test_tex_warns_of_each_placeholder_naming_the_character():
    with pytest.warns(UserWarning, match=r"U\+1F600 \(GRINNING FACE\) in 'note 😀' cannot be typeset"):
        assert filters.tex("note 😀") == r"note \unshownchar{1F600}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert filters.tex("η ≥ 0 — “fine”") == r"$\eta$ $\geq$ 0 --- ``fine''"


def preamble():
    """The report's own preamble: report.tex.j2 up to its title."""
    template = (ROOT / "report/report.tex.j2").read_text(encoding="utf-8")
    assert r"\title{" in template
    return template.split(r"\title{")[0]


def test_the_report_preamble_typesets_any_user_text(tmp_path):
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed (make tex)")
    everything = "".join(SAMPLES) + "ά ș ℝ ⩾ ₂ ½ « » ‰ ✓ ϵ ϕ ο Ω"
    unknown = "emoji 😀, Cyrillic Яблоко, CJK 中"
    body = "\n".join(
        [
            r"\tracinglostchars=3",  # a glyph the font lacks is an error, not a silent gap
            r"\begin{document}",
            rf"\section{{{filters.tex('Notes on η, λ — § 2')}}}",
            filters.tex(everything),
            "",
            rf"\begin{{tabular}}{{ll}}{filters.tex('σ ≥ 0.1')} & {filters.tex('“x”')}\\\end{{tabular}}",
            "",
            rf"\subsection{{{latex_text(unknown)}}}",
            latex_text(unknown),
            r"\end{document}",
        ]
    )
    (tmp_path / "doc.tex").write_text(preamble() + body, encoding="ascii")
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    log = (tmp_path / "doc.log").read_text(encoding="utf-8", errors="replace")
    assert done.returncode == 0, log[-3000:]
    assert (tmp_path / "doc.pdf").read_bytes()[:5] == b"%PDF-"
    # pdflatex wraps its log at 79 columns
    warned = set(re.findall(r"Package dd2424 Warning: Character U\+([0-9A-F]+)", log.replace("\n", "")))
    assert warned == {f"{ord(c):04X}" for c in unshown(unknown)}
