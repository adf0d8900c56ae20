"""Where a study's files are: one ``Layout`` knows every path and file name of a results folder.

The project root holds ``_quarto.yml``, ``analysis/`` and ``report/``. A results folder holds, per
optimizer, ``<optimizer>/training.ipynb`` (its executed notebook, all seeds) and one folder per seed
``<optimizer>/seed-<k>/`` (``metrics.json`` last, ``history.csv``, ``tuning.csv``, ``predictions.csv``,
``confusion.csv``, ``classification_report.csv``, figures, and ``fine_tune_*`` when it fine-tuned); beside
them the study-level tables (``STUDY_TABLES``), ``study.json`` and ``logs/``. The study, the notebook,
the aggregation, the report, the render clean-up and the tests all ask this module, never a literal path.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from lionpoc.files import read_json
from lionpoc.project import project_root  # noqa: F401 - layout.project_root() is how the study asks

RESULTS_ENV = "LIONPOC_RESULTS"
RUN_FILES = ("metrics.json", "history.csv", "tuning.csv", "predictions.csv", "confusion.csv",
             "classification_report.csv")
FINE_TUNE_RUN_FILES = ("fine_tune_history.csv", "fine_tune_tuning.csv", "fine_tune_predictions.csv")
# Study-level files: they describe the runs in the folder, so they go when those runs go.
STUDY_TABLES = ("split.csv", "summary.csv", "runs.csv", "pairs.csv", "pairs_by_seed.csv", "time_to_accuracy.csv",
                "intervals.csv", "power.csv", "calibration.csv", "calibration_pairs.csv", "tuning_trials.csv",
                "tuning_runs.csv", "tuning_rule.csv", "expected_best.csv", "costs.csv", "fine_tune_calibration.csv",
                "fine_tune_calibration_pairs.csv",
                "memory.csv", "baseline.json", "fine_tune_summary.csv", "fine_tune_runs.csv", "fine_tune_pairs.csv",
                "fine_tune_pairs_by_seed.csv", "fine_tune_time_to_accuracy.csv", "sensitivity.csv", "study.json",
                "class_scores.csv", "confusions.csv", "thumbnails.png")
# Fields of metrics.json that measure time or the machine: everything else is reproducible.
TIMING_KEYS = ("created_at", "train_seconds", "seconds_per_epoch", "tuning_seconds", "feature_seconds", "machine",
               "ft_train_seconds", "ft_seconds_per_epoch", "ft_all_seconds", "ft_wall_seconds", "ft_estimated_seconds",
               "ft_peak_memory_bytes")


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


# What the study's tables and the report read from a run's metrics.json: a file without them is damaged.
METRICS_KEYS = ("optimizer", "seed", "run_key", "test_accuracy", "test_macro_f1", "n_test", "epochs_run",
                "best_epoch", "train_seconds", "seconds_per_epoch", "tuning_seconds", "learning_rate", "weight_decay",
                "l2", "data_kind", "weights", "image_size")


def damage(run: Path) -> tuple[str, str] | None:
    """``(file, why)`` when a run folder holding a ``metrics.json`` cannot be used: the file unreadable, lacking
    keys the tables need, or predictions that do not match it; None when it is sound (or has no ``metrics.json``)."""
    path = Path(run) / "metrics.json"
    if not path.is_file():
        return None
    try:
        metrics = read_json(path)
    except (OSError, ValueError):
        return "metrics.json", "not readable as JSON"
    if not isinstance(metrics, dict):
        return "metrics.json", "not a JSON object"
    lacking = [key for key in METRICS_KEYS if key not in metrics]
    if lacking:
        return "metrics.json", f"it lacks {', '.join(lacking[:4])}{', ...' if len(lacking) > 4 else ''}"
    # A folder copied or renamed by hand (a backup `lion-old/`, seed-0 copied to seed-1) would count one run
    # twice, or under another name.
    where = (Path(run).parent.name, Path(run).name)
    if where != (metrics["optimizer"], f"seed-{metrics['seed']}"):
        return "metrics.json", (f"it belongs to {metrics['optimizer']} seed {metrics['seed']}, not to the folder "
                                f"{where[0]}/{where[1]} (copied or renamed by hand)")
    predictions = Path(run) / "predictions.csv"
    if predictions.is_file():
        try:
            correct = pd.read_csv(predictions, usecols=["file", "correct"])["correct"]
        except (OSError, ValueError) as exc:
            return "predictions.csv", str(exc).splitlines()[0][:80]
        if len(correct) != metrics["n_test"]:
            return "predictions.csv", f"{len(correct)} rows for {metrics['n_test']} test images"
        if abs(float(correct.mean()) - float(metrics["test_accuracy"])) > 1e-6:
            return "metrics.json", (f"its test accuracy {metrics['test_accuracy']:.4f} is not that of its predictions "
                                    f"({correct.mean():.4f}): one of them was edited")
    return None


def is_damaged(run: Path) -> bool:
    """A run whose ``metrics.json`` exists but cannot be used (see ``damage``)."""
    return damage(run) is not None


def find_runs(results_dir: str | Path) -> pd.DataFrame:
    """One row per complete run: optimizer, seed, path (sorted by optimizer then seed)."""
    rows = []
    for metrics in sorted(Path(results_dir).glob("*/seed-*/metrics.json")):
        run = metrics.parent
        if is_complete(run):
            rows.append((run.parent.name, int(run.name.removeprefix("seed-")), run))
    return pd.DataFrame(rows, columns=["optimizer", "seed", "path"]).sort_values(
        ["optimizer", "seed"], ignore_index=True)


class Layout:
    """Every path of one results folder (absolute), and what is in it."""

    def __init__(self, results_dir: str | Path):
        self.root = Path(results_dir).expanduser().resolve()

    def __repr__(self) -> str:
        return f"Layout({str(self.root)!r})"

    # ------------------------------------------------------------------ per optimizer and seed
    def optimizer_dir(self, optimizer: str) -> Path:
        return self.root / optimizer

    def run_dir(self, optimizer: str, seed: int) -> Path:
        return self.optimizer_dir(optimizer) / f"seed-{seed}"

    def notebook(self, optimizer: str) -> Path:
        """The executed notebook of one optimizer, all its seeds (its HTML copy beside it)."""
        return self.optimizer_dir(optimizer) / "training.ipynb"

    def metrics(self, optimizer: str, seed: int) -> Path:
        return self.run_dir(optimizer, seed) / "metrics.json"

    # ------------------------------------------------------------------ study level
    def table(self, name: str) -> Path:
        """A study-level file (``summary.csv``, ``pairs.csv``, ``study.json``...), by its name in STUDY_TABLES."""
        if name not in STUDY_TABLES and name != "benchmark.json":
            raise ValueError(f"{name} is not a study-level file of the layout")
        return self.root / name

    @property
    def study_record(self) -> Path:
        return self.root / "study.json"

    @property
    def split(self) -> Path:
        return self.root / "split.csv"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def log(self, name: str) -> Path:
        """``logs/<name>.log``: an optimizer's kernel, ``study`` or ``render``."""
        return self.logs / f"{name}.log"

    # ------------------------------------------------------------------ contents
    def optimizers_present(self) -> list[str]:
        """Folders holding at least one seed folder (complete or not), sorted."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and not p.name.startswith(".") and any(p.glob("seed-*")))

    def runs(self) -> pd.DataFrame:
        return find_runs(self.root)

    def remove_study(self) -> None:
        """Remove every run, notebook and study-level table (the logs stay)."""
        import shutil

        for name in self.optimizers_present():
            shutil.rmtree(self.optimizer_dir(name), ignore_errors=True)
        for name in STUDY_TABLES:
            (self.root / name).unlink(missing_ok=True)
