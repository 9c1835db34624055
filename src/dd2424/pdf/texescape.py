"""Any text to pdfLaTeX source that compiles: the escaping behind ``report.tex``.

The output is plain ASCII, so it does not depend on which Unicode characters
``inputenc`` happens to know.  Per character, the first rule that applies:

1. ASCII: the specials escaped (``& % $ # _ { } ~ ^ \\``), the rest as is;
2. a table of text symbols (typographic quotes, dashes, ``§``, ``ß``, ``ø``, ...)
   and one of mathematical ones (Greek letters, ``≥ ≤ ≈ × → ∞ ...``), the
   latter set in math mode, a run of them as one formula: ``λ·η`` is
   ``$\\lambda\\cdot\\eta$``;
3. a letter with diacritics, as its base letter under LaTeX accents
   (``é`` is ``\\'{e}``, ``ệ`` is ``\\^{\\d{e}}``);
4. spaces of every width as spaces, invisible format characters dropped;
5. a compatibility form (``ﬁ`` is ``fi``, a full-width ``Ａ`` is ``A``);
6. anything else (Cyrillic, CJK, emoji, control characters) becomes
   ``\\unshownchar{<code point>}``, which the report's preamble prints as a
   boxed ``U+XXXX`` and reports as a warning in the LaTeX log; ``unshown``
   lists such characters so the caller can warn too.
"""

import unicodedata

# ASCII characters with a meaning to TeX.
SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}

# Text-mode replacements; a command ends in {} so that a following letter is not swallowed.
TEXT = {
    "\u201c": "``",  # “
    "\u201d": "''",  # ”
    "\u2018": "`",  # ‘
    "\u2019": "'",  # ’
    "\u201a": r"\quotesinglbase{}",  # ‚
    "\u201e": r"\quotedblbase{}",  # „
    "\u00ab": r"\guillemotleft{}",  # «
    "\u00bb": r"\guillemotright{}",  # »
    "\u2039": r"\guilsinglleft{}",  # ‹
    "\u203a": r"\guilsinglright{}",  # ›
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "--",  # figure dash
    "\u2013": "--",  # en dash
    "\u2014": "---",  # em dash
    "\u2015": "---",  # horizontal bar
    "\u2026": r"\ldots{}",  # …
    "\u00a7": r"\S{}",  # §
    "\u00b6": r"\P{}",  # ¶
    "\u2020": r"\dag{}",  # †
    "\u2021": r"\ddag{}",  # ‡
    "\u2022": r"\textbullet{}",  # •
    "\u00a9": r"\textcopyright{}",  # ©
    "\u00ae": r"\textregistered{}",  # ®
    "\u2122": r"\texttrademark{}",  # ™
    "\u20ac": r"\texteuro{}",  # €
    "\u00a3": r"\pounds{}",  # £
    "\u00a5": r"\textyen{}",  # ¥
    "\u00a2": r"\textcent{}",  # ¢
    "\u00a4": r"\textcurrency{}",  # ¤
    "\u00a6": r"\textbrokenbar{}",  # ¦
    "\u00b0": r"\textdegree{}",  # °
    "\u2030": r"\textperthousand{}",  # ‰
    "\u00a1": r"\textexclamdown{}",  # ¡
    "\u00bf": r"\textquestiondown{}",  # ¿
    "\u00aa": r"\textordfeminine{}",  # ª
    "\u00ba": r"\textordmasculine{}",  # º
    "\u00bd": r"\textonehalf{}",  # ½
    "\u00bc": r"\textonequarter{}",  # ¼
    "\u00be": r"\textthreequarters{}",  # ¾
    "\u00df": r"\ss{}",  # ß
    "\u00e6": r"\ae{}",  # æ
    "\u00c6": r"\AE{}",  # Æ
    "\u0153": r"\oe{}",  # œ
    "\u0152": r"\OE{}",  # Œ
    "\u00f8": r"\o{}",  # ø
    "\u00d8": r"\O{}",  # Ø
    "\u0142": r"\l{}",  # ł
    "\u0141": r"\L{}",  # Ł
    "\u0111": r"\dj{}",  # đ
    "\u0110": r"\DJ{}",  # Đ
    "\u00f0": r"\dh{}",  # ð
    "\u00d0": r"\DH{}",  # Ð
    "\u00fe": r"\th{}",  # þ
    "\u00de": r"\TH{}",  # Þ
    "\u0131": r"\i{}",  # ı
    "\u0237": r"\j{}",  # ȷ
    "\u014b": r"\ng{}",  # ŋ
    "\u014a": r"\NG{}",  # Ŋ
    "\u00a0": "~",  # no-break space
    "\u202f": r"\,",  # narrow no-break space
    "\u2009": r"\,",  # thin space
    "\u00ad": r"\-",  # soft hyphen
    "\u2044": "/",  # fraction slash
    "\u2254": ":=",  # ≔
    **{sup: rf"\textsuperscript{{{d}}}" for sup, d in zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻", "0123456789+-")},
    **{sub: rf"\textsubscript{{{d}}}" for sub, d in zip("₀₁₂₃₄₅₆₇₈₉₊₋", "0123456789+-")},
}

# Math-mode replacements (set between $...$).
MATH = {
    **dict(
        zip(
            "αβγδεζηθικλμνξπρςστυφχψωϵϑϕϱϖ",
            r"\alpha \beta \gamma \delta \varepsilon \zeta \eta \theta \iota \kappa \lambda \mu \nu \xi \pi \rho "
            r"\varsigma \sigma \tau \upsilon \varphi \chi \psi \omega \epsilon \vartheta \phi \varrho \varpi".split(),
            strict=True,
        )
    ),
    "ο": "o",
    **dict(
        zip(
            "ΓΔΘΛΞΠΣΥΦΨΩ", r"\Gamma \Delta \Theta \Lambda \Xi \Pi \Sigma \Upsilon \Phi \Psi \Omega".split(), strict=True
        )
    ),
    # Capitals that look like Latin ones.
    **{greek: rf"\mathrm{{{latin}}}" for greek, latin in zip("ΑΒΕΖΗΙΚΜΝΟΡΤΧ", "ABEZHIKMNOPTX", strict=True)},
    "\u00b5": r"\mu",  # micro sign
    "\u00b1": r"\pm",
    "\u2213": r"\mp",
    "\u00d7": r"\times",
    "\u00f7": r"\div",
    "\u00b7": r"\cdot",
    "\u22c5": r"\cdot",
    "\u2219": r"\bullet",
    "\u2218": r"\circ",
    "\u2217": r"\ast",
    "\u2212": "-",  # minus sign
    "\u2264": r"\leq",
    "\u2265": r"\geq",
    "\u2a7d": r"\leqslant",
    "\u2a7e": r"\geqslant",
    "\u2260": r"\neq",
    "\u2248": r"\approx",
    "\u2243": r"\simeq",
    "\u2245": r"\cong",
    "\u223c": r"\sim",
    "\u2261": r"\equiv",
    "\u226a": r"\ll",
    "\u226b": r"\gg",
    "\u2272": r"\lesssim",
    "\u2273": r"\gtrsim",
    "\u221d": r"\propto",
    "\u2192": r"\to",
    "\u2190": r"\leftarrow",
    "\u2194": r"\leftrightarrow",
    "\u21d2": r"\Rightarrow",
    "\u21d0": r"\Leftarrow",
    "\u21d4": r"\Leftrightarrow",
    "\u21a6": r"\mapsto",
    "\u2191": r"\uparrow",
    "\u2193": r"\downarrow",
    "\u221e": r"\infty",
    "\u2208": r"\in",
    "\u2209": r"\notin",
    "\u220b": r"\ni",
    "\u2282": r"\subset",
    "\u2286": r"\subseteq",
    "\u2283": r"\supset",
    "\u2287": r"\supseteq",
    "\u222a": r"\cup",
    "\u2229": r"\cap",
    "\u2216": r"\setminus",
    "\u2205": r"\emptyset",
    "\u2200": r"\forall",
    "\u2203": r"\exists",
    "\u00ac": r"\neg",
    "\u2227": r"\wedge",
    "\u2228": r"\vee",
    "\u2211": r"\sum",
    "\u220f": r"\prod",
    "\u222b": r"\int",
    "\u221a": r"\surd",
    "\u2202": r"\partial",
    "\u2207": r"\nabla",
    "\u2032": "'",  # prime
    "\u2033": "''",  # double prime
    "\u2016": r"\|",
    "\u2225": r"\parallel",
    "\u22a5": r"\perp",
    "\u2223": r"\mid",
    "\u27e8": r"\langle",
    "\u27e9": r"\rangle",
    "\u230a": r"\lfloor",
    "\u230b": r"\rfloor",
    "\u2308": r"\lceil",
    "\u2309": r"\rceil",
    "\u2113": r"\ell",
    "\u2295": r"\oplus",
    "\u2297": r"\otimes",
    "\u2713": r"\checkmark",
    **{c: rf"\mathbb{{{letter}}}" for c, letter in zip("ℕℤℚℝℂ", "NZQRC", strict=True)},
}

# Combining diacritics (after NFD) as LaTeX text accents.
ACCENTS = {
    "\u0300": "\\`",
    "\u0301": "\\'",
    "\u0302": "\\^",
    "\u0303": "\\~",
    "\u0304": "\\=",
    "\u0306": "\\u",
    "\u0307": "\\.",
    "\u0308": '\\"',
    "\u030a": "\\r",
    "\u030b": "\\H",
    "\u030c": "\\v",
    "\u0323": "\\d",
    "\u0326": "\\textcommabelow",
    "\u0327": "\\c",
    "\u0328": "\\k",
    "\u0331": "\\b",
}
# Accents set below the letter keep the dot of i and j.
BELOW = {"\u0323", "\u0326", "\u0327", "\u0328", "\u0331"}


def placeholder(char):
    return rf"\unshownchar{{{ord(char):04X}}}"


def _piece(char):
    """(mode, LaTeX) of one character: mode 'text' or 'math'; None if nothing but the placeholder shows it."""
    if char in SPECIALS:
        return "text", SPECIALS[char]
    if " " <= char <= "~" or char in "\n\t\r":
        return "text", char
    if char in TEXT:
        return "text", TEXT[char]
    if char in MATH:
        return "math", MATH[char]
    base, *marks = unicodedata.normalize("NFD", char)
    if marks and all(m in ACCENTS for m in marks) and (inner := _piece(base)) is not None:
        mode, latex = inner
        if mode == "math":
            latex = f"${latex}$"
        if base in ("i", "j") and any(m not in BELOW for m in marks):
            latex = rf"\{base}"  # dotless: the accent takes the dot's place
        for m in marks:
            latex = f"{ACCENTS[m]}{{{latex}}}"
        return "text", latex
    category = unicodedata.category(char)
    if category == "Zs":
        return "text", " "
    if category == "Cf":
        return "text", ""
    compatible = unicodedata.normalize("NFKC", char)
    if compatible != char and all(_piece(c) is not None for c in compatible):
        return "text", latex_text(compatible)
    return None


def latex_text(text):
    """``text`` as LaTeX source for text mode, ASCII only; see the module's docstring."""
    out, math = [], []
    for char in str(text):
        piece = _piece(char)
        mode, latex = piece if piece is not None else ("text", placeholder(char))
        if mode == "math":
            math.append(latex)
            continue
        if math:
            out.append(_formula(math))
            math = []
        out.append(latex)
    if math:
        out.append(_formula(math))
    return "".join(out)


def _formula(commands):
    # Spaced, so that \lambda and a following o (omicron) do not read as \lambdao.
    return "$" + " ".join(commands) + "$"


def unshown(text):
    """The characters of ``text`` that become placeholders, in order of first appearance."""
    return list(dict.fromkeys(c for c in str(text) if _piece(c) is None))
