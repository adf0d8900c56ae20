"""Quarto's pre-render step (``_quarto.yml``): the title of the results about to be reported.

It writes ``_metadata.yml`` beside itself, in the folder Quarto is rendering (``lionpoc render`` renders a
private copy of ``report/``, so that two studies never share one), never into another checkout's folder.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's lionpoc, installed or not

from lionpoc.report import title  # noqa: E402

title.write(target=Path(__file__).resolve().parent / "_metadata.yml")
