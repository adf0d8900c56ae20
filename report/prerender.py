"""Quarto's pre-render step (``_quarto.yml``): the title of the results about to be reported."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's lionpoc, installed or not

from lionpoc.report import title  # noqa: E402

title.write()
