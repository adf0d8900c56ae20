"""Where the project's files are: the root holds ``_quarto.yml``, ``analysis/`` and ``report/``."""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from lionpoc.errors import LionpocError
from lionpoc.files import read_json

RESULTS_ENV = "LIONPOC_RESULTS"
RUN_FILES = ("metrics.json", "history.csv", "tuning.csv", "predictions.csv", "confusion.csv",
             "classification_report.csv")
# Fields of metrics.json that measure time or the machine: everything else is reproducible.
TIMING_KEYS = ("created_at", "train_seconds", "seconds_per_epoch", "tuning_seconds", "epoch_seconds", "machine")


def project_root(start: str | Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: the working directory) holding ``_quarto.yml``,
    else the source checkout this package was installed from in editable mode."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_quarto.yml").is_file() and (folder / "analysis").is_dir():
            return folder
    checkout = Path(__file__).resolve().parents[3]
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


def notebook_path(results_dir: str | Path, optimizer: str) -> Path:
    return Path(results_dir) / optimizer / "training.ipynb"


def run_dir(results_dir: str | Path, optimizer: str, seed: int) -> Path:
    return Path(results_dir) / optimizer / f"seed-{seed}"


def is_complete(run: Path) -> bool:
    """A run is complete when all its files exist (``metrics.json`` is written last)."""
    return all((run / name).is_file() for name in RUN_FILES)


def is_damaged(run: Path) -> bool:
    """A run whose ``metrics.json`` exists but cannot be read as a JSON object."""
    path = Path(run) / "metrics.json"
    if not path.is_file():
        return False
    try:
        return not isinstance(read_json(path), dict)
    except (OSError, ValueError):
        return True


def find_runs(results_dir: str | Path) -> pd.DataFrame:
    """One row per complete run: optimizer, seed, path (sorted by optimizer then seed)."""
    rows = []
    for metrics in sorted(Path(results_dir).glob("*/seed-*/metrics.json")):
        run = metrics.parent
        if is_complete(run):
            rows.append((run.parent.name, int(run.name.removeprefix("seed-")), run))
    return pd.DataFrame(rows, columns=["optimizer", "seed", "path"]).sort_values(
        ["optimizer", "seed"], ignore_index=True)
