"""The report's text as a reader gets it, without Quarto: ``report/index.qmd`` with its code run on a results folder.

``document(results_dir)`` returns the Markdown the ``.qmd`` yields before pandoc, for one format (HTML by
default): every inline ``{python}`` expression replaced by its value, every cell by what it shows (printed text,
a table as its pipe table and caption, a figure as the texts drawn on it), the conditional blocks resolved with the
metadata the pre-render step writes (``when-meta`` / ``unless-meta``, ``when-format`` / ``unless-format``), the
Typst-only raw blocks left out. It is what the snapshot files under ``tests/snapshots/`` hold.
"""
from __future__ import annotations

import ast
import contextlib
import io
import os
import re
from pathlib import Path

import matplotlib.text
import yaml

ROOT = Path(__file__).resolve().parents[1]
QMD = ROOT / "report" / "index.qmd"

CELL = re.compile(r"^```\{python\}\n(.*?)^```\n", re.S | re.M)
RAW = re.compile(r"^```\{=typst\}\n.*?^```\n", re.S | re.M)
INLINE = re.compile(r"`\{python\} ([^`]+)`")
NUMBER = re.compile(r"^[\s−\-+0-9,.%\u202f×]*$")


def _figure(fig) -> str:
    """A figure as the words drawn on it (titles, axis labels, legends, category ticks); numbers left out."""
    words = []
    for text in fig.findobj(matplotlib.text.Text):
        value = text.get_text().strip()
        if value and not NUMBER.match(value) and value not in words:
            words.append(value)
    from lionpoc.report.markup import escape

    return "[figure : " + " | ".join(escape(w) for w in words) + "]"  # the figure's words, as literal Markdown


def _shown(value, options: dict) -> str:
    if value is None:
        return ""
    if hasattr(value, "savefig"):
        shown = _figure(value)
        if options.get("fig-cap"):
            shown += f"\n\n: {options['fig-cap']} {{#{options.get('label', '')}}}"
        return shown
    text = value._repr_markdown_() if hasattr(value, "_repr_markdown_") else str(value)
    if options.get("tbl-cap"):
        text += f"\n\n: {options['tbl-cap']} {{#{options.get('label', '')}}}"
    return text


def _options(code: str) -> tuple[dict, str]:
    lines = code.splitlines()
    header = [line[3:] for line in lines if line.startswith("#| ")]
    body = "\n".join(line for line in lines if not line.startswith("#|"))
    return (yaml.safe_load("\n".join(header)) or {}), body


def _run(code: str, namespace: dict) -> tuple[str, object]:
    """Run a cell as Jupyter would: what it prints, and the value of its last statement when that is an expression."""
    tree = ast.parse(code)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(tree, "<cell>", "exec"), namespace)
        value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace) if last else None
    return out.getvalue(), value


def _holds(kind: str, when: str, what: str, key: str, meta: dict, fmt: str) -> bool:
    if what == "meta":
        value = meta
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        holds = bool(value)
    else:
        holds = key == fmt
    shown = holds if when == "when" else not holds
    return shown if kind == "visible" else not shown


CONDITION = r'\{\.content-(visible|hidden) (when|unless)-(meta|format)="([^"]+)"\}'


def _conditions(text: str, meta: dict, fmt: str) -> str:
    """Resolve Quarto's conditional content as Quarto does: ``.content-visible`` / ``.content-hidden`` divs and
    spans, by metadata (``when-meta``, ``unless-meta``) or format; nested ones too."""
    opening = re.compile(r"^(:{3,}) " + CONDITION + r"\n", re.M)
    while found := opening.search(text):
        depth, position = 1, None
        for line in re.finditer(r"^(:{3,})(.*)\n", text[found.end():], re.M):
            depth += 1 if line.group(2).strip() else -1
            if depth == 0:
                body = text[found.end():found.end() + line.start()]
                position = found.end() + line.end()
                break
        if position is None:
            raise ValueError(f"unclosed conditional block at {found.group(0)!r}")
        shown = _holds(*found.groups()[1:], meta, fmt)
        text = text[:found.start()] + (body if shown else "") + text[position:]
    span = re.compile(r"\]" + CONDITION)
    while found := span.search(text):
        depth, start = 0, None
        for i in range(found.start(), -1, -1):  # the "[" that opens this span, across nested brackets
            depth += {"]": 1, "[": -1}.get(text[i], 0)
            if depth == 0:
                start = i
                break
        if start is None:
            raise ValueError(f"a conditional span without its opening bracket: {found.group(0)!r}")
        shown = _holds(*found.groups(), meta, fmt)
        # As pandoc reads it: a span's leading spaces are dropped ("mot[ suite]" gives "motsuite"), and "\\ " is
        # a no-break space, the way to begin a span with a space.
        inner = re.sub(r"^[ \t\n]+", "", text[start + 1:found.start()]).replace("\\ ", "\u00a0")
        text = text[:start] + (inner if shown else "") + text[found.end():]
    return text


def document(results, fmt: str = "html", spaces: bool = True) -> str:
    """The report's Markdown for ``results``: a results folder, or data already loaded (a ``ReportData``, which
    may have been changed in memory); its pre-render metadata first, then the body. ``spaces``: the narrow
    no-break spaces that ``report/french.lua`` puts before : ; ? ! (off: the text as the code wrote it)."""
    from lionpoc.report import title
    from lionpoc.report.data import ReportData
    from lionpoc.report.values import Values

    loaded = results if isinstance(results, ReportData) else None
    results_dir = Path(loaded.results_dir if loaded else results)
    previous = os.environ.get("LIONPOC_RESULTS")
    os.environ["LIONPOC_RESULTS"] = str(results_dir)
    try:
        d = loaded or title.report_data.load(results_dir)
        meta = title.metadata(d)
        source = QMD.read_text(encoding="utf-8")
        front = re.match(r"^---\n(.*?)\n---\n", source, re.S)
        body = source[front.end():] if front else source
        meta = {**(yaml.safe_load(front.group(1)) if front else {}), **meta}
        body = _conditions(RAW.sub("", body), meta, fmt)
        namespace: dict = {}
        parts, position = [], 0
        for n, cell in enumerate(CELL.finditer(body)):
            parts.append(_inline(body[position:cell.start()], namespace))
            options, code = _options(cell.group(1))
            printed, value = _run(code, namespace)
            if n == 0:  # the setup cell: the data given, not reloaded
                namespace["d"], namespace["v"] = d, Values(d)
            if options.get("include") is not False:
                parts.append(printed if options.get("output") == "asis" else _shown(value, options) + "\n")
            position = cell.end()
        parts.append(_inline(body[position:], namespace))
        header = "".join(f"{key}: {meta[key]}\n" for key in ("title", "subtitle") if meta.get(key))
        text = header + "\n" + "".join(parts)
    finally:
        if previous is None:
            os.environ.pop("LIONPOC_RESULTS", None)
        else:
            os.environ["LIONPOC_RESULTS"] = previous
    text = text.replace(str(results_dir.resolve()), "<résultats>").replace(str(results_dir), "<résultats>")
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    return _french_spaces(text) if spaces else text


def _french_spaces(text: str) -> str:
    """What ``report/french.lua`` does to the document: a narrow no-break space before : ; ? ! in the prose
    (code blocks and inline code left as they are)."""
    lines, fenced = [], False
    for line in text.split("\n"):
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and not line.startswith("```"):
            parts = re.split(r"(`+[^`]*`+)", line)
            line = "".join(p if i % 2 else re.sub(r" (?=[:;?!])", "\u202f", p) for i, p in enumerate(parts))
        lines.append(line)
    return "\n".join(lines)


def _inline(text: str, namespace: dict) -> str:
    """Inline expressions as Quarto shows them: a report ``Text`` as it is, a bare string with its quotes (as
    Jupyter's text/plain has it: a mistake the snapshot then shows), a number as printed."""
    def shown(match):
        value = eval(match.group(1), namespace)
        if hasattr(value, "_repr_markdown_"):
            return str(value)  # an empty Text shows as a zero-width space: nothing a reader sees
        return repr(value) if isinstance(value, str) else str(value)
    return INLINE.sub(shown, text)
