"""How report values reach Quarto: text shown as is, tables as Markdown pipe tables, callouts."""
from __future__ import annotations

import re

import pandas as pd


EMPTY = "\u200b"  # what an empty sentence shows: Quarto prints the expression itself for an empty result


class Text(str):
    """A string shown as is by Quarto's inline code, whether it reads text/plain or text/markdown.

    An empty text shows as a zero-width space: for an inline expression whose result is empty, Quarto
    would print the expression's source instead.
    """

    def __repr__(self):
        return str(self) or EMPTY

    def _repr_markdown_(self):
        return str(self) or EMPTY


class Table:
    """A DataFrame displayed as a Markdown pipe table, so HTML and Typst both get a native table.

    ``widths`` are relative column widths: pandoc reads them from the dashes of the separator line
    (used when a line is longer than 72 characters, which the separator then is).
    """

    def __init__(self, frame: pd.DataFrame, align: str | None = None, widths: list[int] | None = None):
        self.frame = frame
        self.align = align
        self.widths = widths
        self.caption = self.label = None

    def captioned(self, caption: str, label: str) -> "Table":
        """The same table with a caption written from the results and a cross-reference label: printed
        from a cell with ``output: asis``, pandoc reads ``: caption {#tbl-label}`` under the table."""
        self.caption, self.label = caption, label
        return self

    def _repr_markdown_(self):
        return str(self)

    def __repr__(self):
        return str(self)

    def __str__(self):
        table = markdown_table(self.frame, self.align, self.widths)
        return f"{table}\n\n: {self.caption} {{#{self.label}}}" if self.label else table


def markdown_table(frame: pd.DataFrame, align: str | None = None, widths: list[int] | None = None) -> str:
    """Pipe table; first column left-aligned, others right-aligned unless ``align`` says otherwise."""
    columns = [str(c) for c in frame.columns]
    align = align or "l" + "r" * (len(columns) - 1)
    widths = widths or [1] * len(columns)
    dashes = [max(3, round(80 * w / sum(widths))) for w in widths]
    rule = {"l": lambda n: ":" + "-" * n, "r": lambda n: "-" * n + ":", "c": lambda n: ":" + "-" * n + ":"}
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join(rule[a](n) for a, n in zip(align, dashes)) + "|"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(re.sub(r"(?<!\\)\|", r"\\|", str(v)) for v in row) + " |")
    return "\n".join(lines)


def callout(kind: str, title: str, body: str) -> str:
    return f"::: {{.callout-{kind}}}\n## {title}\n\n{body}\n:::"


# ---------------------------------------------------------------------------------- user-given text
# Every text that comes from a user (an optimizer's label, a backbone's label, a path, a file name, a machine's
# name) reaches the report through one of these, never raw: Markdown would read ``<script>`` as HTML, ``@key`` as
# a citation, ``$...$`` as mathematics, ``|`` as a table's column, and matplotlib ``$...$`` as mathtext.
MARKDOWN_SPECIALS = "\\`*_[]{}<>#|~^@$&!"


def escape(text) -> str:
    """``text`` as literal Markdown: every character pandoc could read as markup is backslash-escaped, so that
    HTML and Typst both show it as typed (``<b>`` stays ``<b>``, ``@key`` is no citation)."""
    return "".join(f"\\{c}" if c in MARKDOWN_SPECIALS else c for c in str(text)).replace("\n", " ")


def code(text) -> str:
    """``text`` as inline code, whatever backticks it holds: the fence is one backtick longer than its longest run."""
    text = str(text).replace("\n", " ")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def code_block(text: str, language: str = "") -> str:
    """A fenced code block whose fence no line of ``text`` can close."""
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}{language}\n{text}\n{fence}"


def in_figure(text) -> str:
    """``text`` as matplotlib draws it literally: a ``$`` would open mathtext (``$\\foo$`` fails the render)."""
    return str(text).replace("$", r"\$")
