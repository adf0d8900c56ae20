"""The report's title, subtitle and regime flags, written from the results before Quarto reads the document.

Quarto runs ``report/prerender.py`` (``_quarto.yml``'s ``pre-render``) before every render, so that
``quarto render`` and ``lionpoc render`` alike get a title that names the optimizers and the backbone
that ran: the script writes ``report/_metadata.yml``, which Quarto merges into ``report/index.qmd``.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from lionpoc import files
from lionpoc import project
from lionpoc.report import data as report_data
from lionpoc.report import findings
from lionpoc.report import prose

METADATA = "_metadata.yml"  # in report/ (project.report_dir), which Quarto merges into index.qmd


def metadata(d: report_data.ReportData) -> dict:
    """The title, the subtitle and the regime's flags (``lionpoc:``), which ``index.qmd``'s conditional blocks
    read (``when-meta="lionpoc.pretrained"``)."""
    return {"title": prose.title(d), "subtitle": prose.subtitle(d), "lionpoc": findings.regime(d).flags()}


def write(results_dir=None, target: Path | None = None) -> dict:
    """Write the title of the results in ``results_dir`` (default: as ``load`` finds them) to ``target``."""
    values = metadata(report_data.load(results_dir))
    target = target or project.report_dir() / METADATA
    files.atomic_write_text(target, "# Written by report/prerender.py before each render; never edit.\n"
                     + yaml.safe_dump(values, allow_unicode=True, sort_keys=False))
    return values
