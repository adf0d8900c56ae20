"""Numbers written the French way: decimal comma, narrow no-break space before %, thousands spaced."""
from __future__ import annotations

import math

NNBSP = "\u202f"  # narrow no-break space: "84,1 %", "3 254"


def number(x: float, digits: int = 2) -> str:
    """``0.8414`` -> ``0,84``; ``3254`` -> ``3 254`` (thousands separated)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n.d."
    text = f"{x:,.{digits}f}".replace(",", NNBSP).replace(".", ",")
    return "0" if text in ("-0", "-0,00") else text


def integer(x: float) -> str:
    return number(round(x), 0)


def percent(x: float, digits: int = 1) -> str:
    """A proportion as a percentage: ``0.8414`` -> ``84,1 %``."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n.d."
    return f"{number(100 * x, digits)}{NNBSP}%"


def points(x: float, digits: int = 1) -> str:
    """A difference of proportions in percentage points, signed: ``0.012`` -> ``+1,2 point``."""
    value = number(100 * x, digits)
    sign = "+" if x > 0 and not value.startswith("-") else ""
    unit = "point" if abs(100 * x) < 2 else "points"
    return f"{sign}{value}{NNBSP}{unit}".replace("-", "−")


def seconds(x: float) -> str:
    """A duration: ``0.42`` -> ``0,42 s``; ``75`` -> ``1 min 15 s``; ``5400`` -> ``1 h 30 min``."""
    if x < 10:
        return f"{number(x, 2)}{NNBSP}s"
    if x < 60:
        return f"{number(x, 0)}{NNBSP}s"
    minutes, secs = divmod(round(x), 60)
    if minutes < 60:
        return f"{minutes}{NNBSP}min {secs:02d}{NNBSP}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}{NNBSP}h {minutes:02d}{NNBSP}min"


def scientific(x: float) -> str:
    """A small hyper-parameter: ``0.0003`` -> ``3·10⁻⁴``; ``0.1`` -> ``0,1``; ``0`` -> ``0``."""
    if x == 0:
        return "0"
    exponent = math.floor(math.log10(abs(x)))
    if -2 <= exponent <= 2:
        return number(x, max(0, -exponent)).rstrip("0").rstrip(",") if "." in f"{x}" else number(x, 0)
    mantissa = x / 10**exponent
    sup = str(exponent).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    m = number(mantissa, 1).rstrip("0").rstrip(",")
    return f"10{sup}" if m == "1" else f"{m}·10{sup}"


def bytes_(n: float) -> str:
    """``1234567`` -> ``1,2 Mo``."""
    for unit, size in (("Go", 2**30), ("Mo", 2**20), ("ko", 2**10)):
        if n >= size:
            return f"{number(n / size, 1)}{NNBSP}{unit}"
    return f"{integer(n)}{NNBSP}o"
