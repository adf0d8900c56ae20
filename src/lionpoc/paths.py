"""Where the project's files are: the root holds ``_quarto.yml``, ``analysis/`` and ``report/``."""
from __future__ import annotations

import os
from pathlib import Path

from .errors import LionpocError

RESULTS_ENV = "LIONPOC_RESULTS"


def project_root(start: str | Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: the working directory) holding ``_quarto.yml``,
    else the source checkout this package was installed from in editable mode."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_quarto.yml").is_file() and (folder / "analysis").is_dir():
            return folder
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "_quarto.yml").is_file():
        return checkout
    raise LionpocError("cannot find the lionpoc project (a folder with _quarto.yml and analysis/): "
                       "run the command from inside the project.")


def results_dir(explicit: str | Path | None = None, root: Path | None = None) -> Path:
    """The results folder: the argument, else ``$LIONPOC_RESULTS``, else ``<root>/results``."""
    chosen = explicit or os.environ.get(RESULTS_ENV)
    if chosen:
        return Path(chosen).expanduser().resolve()
    return (root or project_root()) / "results"
