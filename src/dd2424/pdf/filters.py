"""How values read in the LaTeX: the Jinja2 environment with LaTeX-friendly delimiters and its filters
(escaped text, percentages, compact numbers, a key's symbol, a setting's value, a score)."""

import math
import unicodedata
import warnings

import jinja2

from dd2424.nn.spec import keys
from dd2424.pipeline.quantities import kind_of, label
from dd2424.pipeline.scorecard import at_words

from . import texescape


def tex(value):
    """Any text as LaTeX (dd2424.pdf.texescape): specials escaped, Greek and maths as symbols, '±' as $\\pm$.

    A character no font here can show becomes a boxed placeholder that
    LaTeX reports in its log; it is reported here too, as a warning.
    """
    for char in texescape.unshown(value):
        warnings.warn(
            f"U+{ord(char):04X} ({unicodedata.name(char, 'unnamed')}) in {str(value)!r} cannot be typeset; "
            "the PDF shows a placeholder",
            stacklevel=2,
        )
    return texescape.latex_text(value)


def pct(value, digits=2):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "--"
    return f"{100 * value:.{digits}f}"


def fixed(value, digits=3):
    """A loss or cost to ``digits`` decimals; a missing figure (no validation set, a diverged run) as "--"."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "--"
    return f"{value:.{digits}f}"


def seconds(value):
    """A training time in seconds: one decimal from 10 s (32.4, 1234.5), two significant digits below (3.2,
    0.045: a toy run's); a missing one as "--"."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "--"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2g}"


def num(value, digits=3):
    """Compact number: 0.001 -> 0.001, 1.5e-05 -> 1.5e-05, 0.0 -> 0."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "--"
    return f"{value:.{digits}g}"


def symbol(key):
    """A hyper-parameter's name as the assignments write it."""
    declared = keys().get(key, {})
    return declared.get("symbol") or label(key) or tex(key)


def mnum(value, digits=3):
    """A number in LaTeX, in text or math mode: 2.5e-05 -> 2.5 x 10^{-5} (in \\ensuremath)."""
    text = num(value, digits)
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    power = f"10^{{{int(exponent)}}}"
    return "\\ensuremath{" + (power if mantissa == "1" else f"{mantissa} \\times {power}") + "}"


def count_of(n, noun):
    """``n`` and its noun, plural unless one: 1 seed, 3 seeds."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def environment(templates):
    """Jinja2 with LaTeX-friendly delimiters; ``templates`` is a directory or ``{name: text}``
    (the workflow passes their text, so that only a change of content rebuilds the report)."""
    loader = jinja2.DictLoader(templates) if isinstance(templates, dict) else jinja2.FileSystemLoader(templates)
    env = jinja2.Environment(
        loader=loader,
        block_start_string=r"\BLOCK{",
        block_end_string="}",
        variable_start_string=r"\VAR{",
        variable_end_string="}",
        comment_start_string=r"\#{",
        comment_end_string="}",
        line_comment_prefix="%#",
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(
        tex=tex,
        pct=pct,
        num=num,
        fixed=fixed,
        seconds=seconds,
        mnum=mnum,
        log10=lambda v: f"{math.log10(v):.3f}" if v and v > 0 else "--",
        symbol=symbol,
        score=score,
        score_difference=score_difference,
        prose=prose,
        heading=heading,
        setting=setting,
        kind=kind_of,
        at=at_words,
        count_of=count_of,
    )
    return env


def score(value, kind, digits=2):
    """A scorecard number as its kind is read: accuracies in %, losses, hyper-parameters, errors, seconds."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "--"
    if kind == "accuracy":
        return f"{100 * value:.{digits}f}"
    if kind == "loss":
        return f"{value:.3f}"
    if kind == "time":
        return seconds(value)
    if kind in ("error",):
        return mnum(value, 2)
    return mnum(value, 3)


def score_difference(row):
    """Ours against published: points or units for accuracies and losses, a ratio otherwise."""
    if row["ours"] is None or not math.isfinite(row["ours"]["mean"]):
        return "--"
    if row["kind"] in ("accuracy", "loss"):
        sign = "+" if row["difference"] >= 0 else ""
        return sign + score(row["difference"], row["kind"])
    if row["value"] == 0:
        return "--"
    return f"$\\times${row['ours']['mean'] / row['value']:.2g}"


def heading(text):
    """A section title: typeset as ``tex`` would, and in the PDF's bookmarks as the text itself
    (hyperref takes Unicode there; only TeX's specials are escaped)."""
    bookmark = "".join(texescape.SPECIALS.get(c, c) for c in str(text))
    return f"\\texorpdfstring{{{tex(text)}}}{{{bookmark}}}"


def prose(text):
    """Text from a report or config file for LaTeX: escaped, except mathematics between $...$ kept as written."""
    pieces = str(text).split("$")
    if len(pieces) % 2 == 0:  # an odd number of $: no mathematics, every $ is text
        return tex(text)
    return "".join(f"${piece}$" if i % 2 else tex(piece) for i, piece in enumerate(pieces))


def setting(value, key=None):
    """A hyper-parameter's value in a table or a settings line: numbers compact, flags as yes/no."""
    declared = keys().get(key, {})
    boolean = declared.get("schema", {}).get("type") == "boolean"
    if isinstance(value, bool) or boolean and value in (0, 1):
        return "yes" if value else "no"
    if isinstance(value, str) and value in declared.get("labels", {}):
        return declared["labels"][value]
    if isinstance(value, (list, tuple)):
        return tex("-".join(map(str, value)) or "none")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and value.is_integer() and abs(value) >= 1:
            return str(int(value))
        return mnum(value, 4)
    return tex(value)
