"""What the French report shows, from ``results/``: loading (``data``), tables (``tables``), figures
(``plots``) and sentences (``prose``), each in its own module.

Every ``.qmd`` cell is a one-line call such as ``tables.summary(d)`` on the data loaded once with
``d = load()``. Aggregates (summary, paired tests, bootstrap intervals) are computed once by the
study and only read here; a missing optimizer or a damaged run never crashes the report, a warning
names it and the command that fixes it.
"""
from lionpoc.report.data import ReportData, load
from lionpoc.report.markup import Table, Text

__all__ = ["ReportData", "Table", "Text", "load"]
