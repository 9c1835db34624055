"""latexmk with no state kept between runs.

latexmk remembers a build in ``<job>.fdb_latexmk`` and LaTeX in ``<job>.aux``;
a build interrupted mid-run (Ctrl-C of Snakemake, a killed ``pdflatex``)
leaves them stale or cut short, and every later build then stops ("Nothing
to do", or "File ended while scanning use of \\@writefile").  So each build
runs in a fresh output directory beside the ``.tex`` (the working
directory stays the ``.tex``'s own, so its relative figure paths hold),
and the PDF is renamed into place only once latexmk has finished.
"""

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from dd2424.util import atomic

# The files LaTeX and latexmk keep next to a job built in its own directory
# (how this workflow built the report before): a truncated .aux there would
# still be read by the first pass, which looks in the working directory too.
STATE_SUFFIXES = (".aux", ".fdb_latexmk", ".fls", ".out", ".toc", ".log", ".pdf")
BUILD_PREFIX = ".latexmk-"


def clear_state(tex_path):
    """Remove latexmk's and LaTeX's files of ``tex_path``'s job, and earlier builds' leftover directories."""
    tex_path = Path(tex_path)
    for suffix in STATE_SUFFIXES:
        tex_path.with_suffix(suffix).unlink(missing_ok=True)
    for leftover in tex_path.parent.glob(f"{BUILD_PREFIX}*"):
        shutil.rmtree(leftover, ignore_errors=True)


# What LaTeX's log says when something runs off its page: a figure or table taller than the page, or a page
# whose content is taller than its space by more than a hair (LaTeX reports fractions of a point too).  Lines
# too wide (a long file name in typewriter type) stick into the margin and are not counted here.
_OVERFLOW = re.compile(
    r"^(?:LaTeX Warning: Float too large for page.*|Overfull \\vbox \(([0-9.]+)pt too \w+\).*)$", re.M
)


def page_overflows(log_text, tolerance_pt=1.0):
    """The lines of a LaTeX log that say something ran off its page by more than ``tolerance_pt``."""
    return [m.group(0) for m in _OVERFLOW.finditer(log_text) if m.group(1) is None or float(m.group(1)) > tolerance_pt]


def build(tex_path, pdf_path, log):
    """latexmk ``tex_path`` from scratch into ``pdf_path``; False if LaTeX failed.

    LaTeX's own log is kept as ``<job>.log`` beside the ``.tex`` (for a
    failure's details).  ``log`` is an open file for latexmk's output.
    """
    tex_path = Path(tex_path)
    clear_state(tex_path)
    build_dir = Path(tempfile.mkdtemp(prefix=BUILD_PREFIX, dir=tex_path.parent))
    try:
        done = subprocess.run(
            [
                "latexmk",
                "-pdf",
                "-interaction=nonstopmode",
                "-halt-on-error",
                f"-outdir={build_dir.name}",
                tex_path.name,
            ],
            cwd=tex_path.parent,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        tex_log = build_dir / f"{tex_path.stem}.log"
        if tex_log.exists():
            shutil.copyfile(tex_log, tex_path.with_suffix(".log"))
        if done.returncode != 0:
            return False
        with atomic.written(pdf_path) as tmp:
            shutil.copyfile(build_dir / f"{tex_path.stem}.pdf", tmp)
        return True
    finally:
        shutil.rmtree(build_dir, ignore_errors=True)
