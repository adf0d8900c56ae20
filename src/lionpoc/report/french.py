"""Numbers written the French way: decimal comma, narrow no-break space before %, thousands spaced."""
from __future__ import annotations

import math

NNBSP = "\u202f"  # narrow no-break space: "84,1 %", "3 254"
MINUS = "\u2212"  # the minus sign, not a hyphen


def number(x: float, digits: int = 2) -> str:
    """``0.8414`` -> ``0,84``; ``3254`` -> ``3 254``; ``-1.5`` -> ``−1,50``; ``-0.001`` -> ``0,00``.

    A value that rounds to zero carries no sign; negatives take the typographic minus sign.
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n.d."
    rounded = round(float(x), digits)
    if rounded == 0:
        rounded = 0.0  # no "-0,00"
    text = f"{abs(rounded):,.{digits}f}".replace(",", NNBSP).replace(".", ",")
    return f"{MINUS}{text}" if rounded < 0 else text


def short(x: float, digits: int = 2) -> str:
    """A setting as people write it, without trailing zeros: ``0.5`` -> ``0,5``, ``10.0`` -> ``10``, ``0.25`` ->
    ``0,25`` (at most ``digits`` decimals)."""
    text = number(x, digits)
    return text.rstrip("0").rstrip(",") if "," in text else text


def counts(values, digits: int = 1) -> list[str]:
    """Means of counts (epochs, images) of one column: whole numbers when every one is whole (a single
    seed), otherwise ``digits`` decimals for all, so that the column reads evenly."""
    values = [float(v) for v in values]
    whole = all(math.isnan(v) or v.is_integer() for v in values)
    return [number(v, 0 if whole else digits) for v in values]


def integer(x: float) -> str:
    return number(round(x), 0)


def percent(x: float, digits: int = 1) -> str:
    """A proportion as a percentage: ``0.8414`` -> ``84,1 %``."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n.d."
    return f"{number(100 * x, digits)}{NNBSP}%"


def bound_points(x: float) -> str:
    """An interval's bound in points, one decimal, except that a bound under a tenth of a point which one decimal
    would push away from zero (or round to zero) keeps its second decimal (0.0006 -> ``0,06``, not ``0,1``): the
    bound a sentence says a difference "exceeds" is printed the same way in its interval."""
    value = 100 * x
    digits = 2 if abs(value) < 0.1 and abs(round(value, 1)) != abs(value) else 1
    return number(value, digits)


def points(x: float, digits: int = 1, unit: bool = True) -> str:
    """A difference of proportions in percentage points, signed: ``0.012`` -> ``+1,2 point``,
    ``-0.025`` -> ``−2,5 points``, ``0.0001`` -> ``0,0 point`` (plural from two, as French wants); without its
    ``unit`` (``+1,2``) where a column or a list says it once."""
    value = number(100 * x, digits)
    sign = "+" if value[0].isdigit() and value.strip("0,") else ""
    return f"{sign}{value}{NNBSP}{point_word(x, digits=digits)}" if unit else f"{sign}{value}"


def point_word(*values: float, digits: int = 1) -> str:
    """``point`` or ``points`` for differences of proportions as printed: plural from two, and for a
    range (an interval's bounds) as soon as one bound reaches two."""
    return "points" if max(abs(round(100 * v, digits)) for v in values) >= 2 else "point"


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 graine``, ``3 graines``, ``0 graine`` (French: singular below two), joined by a no-break space."""
    return f"{integer(n)}\u00a0{word if abs(n) < 2 else (words or word + 's')}"


def noun(x: float, word: str, words: str | None = None) -> str:
    """The noun after a number as printed: singular below two (``1 époque``, ``1,5 époque``), plural from two."""
    return word if abs(float(x)) < 2 else (words or word + "s")


def seconds(x: float) -> str:
    """A duration: ``0.016`` -> ``16 ms``; ``0.42`` -> ``0,42 s``; ``75`` -> ``1 min 15 s``; ``5400`` -> ``1 h 30 min``."""
    if x < 0.1:
        return f"{number(1000 * x, 0 if x >= 0.01 else 1)}{NNBSP}ms"
    if x < 10:
        return f"{number(x, 2)}{NNBSP}s"
    if x < 60:
        return f"{number(x, 0)}{NNBSP}s"
    minutes, secs = divmod(round(x), 60)
    if minutes < 60:
        return f"{minutes}{NNBSP}min {secs:02d}{NNBSP}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}{NNBSP}h {minutes:02d}{NNBSP}min"


def durations(values) -> list[str]:
    """Durations of one table column in one unit: all in milliseconds when every one is under a second
    (``0.14, 0.078`` -> ``140 ms``, ``78 ms``, not ``0,14 s`` beside ``78 ms``), otherwise as ``seconds``."""
    values = [float(v) for v in values]
    known = [v for v in values if not math.isnan(v)]
    if known and max(known) < 1:
        digits = 1 if max(known) < 0.01 else 0
        return ["n.d." if math.isnan(v) else f"{number(1000 * v, digits)}{NNBSP}ms" for v in values]
    return ["n.d." if math.isnan(v) else seconds(v) for v in values]


def scientific(x: float) -> str:
    """A hyper-parameter: ``0.0003`` -> ``3·10⁻⁴``; ``0.1`` -> ``0,1``; ``10`` -> ``10``; ``0`` -> ``0``
    (three significant digits at most)."""
    if x == 0:
        return "0"
    exponent = math.floor(math.log10(abs(x)))
    if -2 <= exponent <= 2:
        return f"{x:.3g}".replace(".", ",").replace("-", "\u2212")
    mantissa = x / 10**exponent
    sup = str(exponent).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    m = short(mantissa, 1)
    return f"10{sup}" if m == "1" else f"{m}·10{sup}"


def bytes_(n: float) -> str:
    """``1234567`` -> ``1,2 Mio`` (binary units, as for the machine's memory)."""
    for unit, size in (("Gio", 2**30), ("Mio", 2**20), ("Kio", 2**10)):
        if n >= size:
            return f"{number(n / size, 1)}{NNBSP}{unit}"
    return f"{integer(n)}{NNBSP}o"


# ---------------------------------------------------------------------------------- words and sentences
NBSP = "\u00a0"      # no-break space: inside « », around = in ``p = 0,642``
VOWELS = "aeiouyhéèêëâàäîïôöûùü"
NUMBERS = ("zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix")


def _elides(word: str) -> bool:
    return bool(word) and word[0].lower() in VOWELS


def de(name: str) -> str:
    """"de" + a name with the elision: ``de Lion``, ``d'Adam``, ``d'AdamW``."""
    return f"d'{name}" if _elides(name) else f"de {name}"


def que(name: str) -> str:
    """"que" + a name with the elision: ``qu'AdamW``, ``que Lion``."""
    return f"qu'{name}" if _elides(name) else f"que {name}"


def of(phrase: str) -> str:
    """"de" + a noun phrase with its article contracted: ``du bloc 14``, ``des derniers blocs``, ``de la fin``."""
    for article, contracted in (("le ", "du "), ("les ", "des ")):
        if phrase.startswith(article):
            return contracted + phrase[len(article):]
    return de(phrase)


def enumeration(items, last: str = "et") -> str:
    """``A``, ``A et B``, ``A, B et C`` (``last``: ``ou``, ``ni``...)."""
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def in_words(n: int) -> str:
    """Small counts in words, as French prose writes them (``trois``); digits from eleven."""
    return NUMBERS[n] if 0 <= n < len(NUMBERS) else integer(n)


def quoted(text: str) -> str:
    """``« Shih tzu »`` with no-break spaces inside the quotation marks, so that no line starts with ``»``."""
    return f"«{NBSP}{text}{NBSP}»"


def equals(name: str, value: str) -> str:
    """``p = 0,642`` with no-break spaces, so that a line never breaks inside it."""
    return f"{name}{NBSP}={NBSP}{value}"


def sentence(*clauses: str, end: str = ".") -> str:
    """Clauses joined into one sentence: a capital at its start (a lower-case letter raised; a name, already
    capitalised, left as it is, never lowered) and one final mark. Empty clauses are left out."""
    text = capital(" ".join(c.strip() for c in clauses if c and c.strip()))
    if not text:
        return ""
    return text if text[-1] in ".?!…" else text + end


def capital(text: str) -> str:
    """``race`` -> ``Race``: the first letter raised, the rest left as it is (``str.capitalize`` would lower
    ``Classe IRM`` to ``Classe irm``)."""
    return text[:1].upper() + text[1:]


def typeset(text: str) -> str:
    """French punctuation: a narrow no-break space, not a breakable one, before ``:``, ``;``, ``?`` and ``!``
    (the report's Lua filter does the same to every sentence of the document, written or generated)."""
    for mark in ":;?!":
        text = text.replace(f" {mark}", f"{NNBSP}{mark}")
    return text
