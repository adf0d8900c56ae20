"""Loading what the report needs from ``results/`` (and the published 2023 figures), once."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from lionpoc.study import aggregate
from lionpoc.study import layout
from lionpoc import files

STUDY_2023_FILE = Path(__file__).resolve().parents[3] / "report" / "study_2023.yaml"


def _csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path) if path.is_file() else pd.DataFrame()
    except (OSError, ValueError, pd.errors.EmptyDataError):
        return pd.DataFrame()


def _json(path: Path) -> dict | None:
    try:
        return files.read_json(path) if path.is_file() else None
    except (OSError, ValueError):
        return None


def study_2023(path: Path = STUDY_2023_FILE) -> dict:
    """The 2023 proof of concept's published figures (``report/study_2023.yaml``)."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@dataclass
class ReportData:
    """Everything the report shows, read from one results folder."""

    results_dir: Path
    runs: pd.DataFrame = field(repr=False)
    damaged: list = field(default_factory=list)
    summary: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    pairs: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    pairs_by_seed: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    time_to_accuracy: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    memory: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    split: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    baseline: dict | None = None
    study: dict | None = None
    benchmark: dict | None = None
    fine_tune: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    fine_tune_pairs: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    fine_tune_time: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    old: dict = field(default_factory=study_2023, repr=False)

    # ------------------------------------------------------------------ status
    @property
    def optimizers(self) -> list[str]:
        """Optimizers with results, in the study's order."""
        present = list(dict.fromkeys(self.runs["optimizer"])) if not self.runs.empty else []
        return [name for name in self.planned if name in present] + [n for n in present if n not in self.planned]

    @property
    def planned(self) -> list[str]:
        """The optimizers the study set out to compare (``study.json``), in its order."""
        return [str(n) for n in (self.study or {}).get("optimizers", [])]

    @property
    def missing(self) -> list[str]:
        return [name for name in self.planned if name not in self.optimizers]

    @property
    def empty(self) -> bool:
        return self.runs.empty

    @property
    def synthetic(self) -> bool:
        return not self.empty and bool((self.runs["data_kind"] == "synthetic").any())

    @property
    def weights(self) -> str:
        return str(self.runs["weights"].iloc[0]) if not self.empty else "imagenet"

    @property
    def tables_stale(self) -> bool:
        """The study tables are absent or describe other runs than the ones in the folder."""
        if self.empty:
            return False
        if self.summary.empty:
            return True
        counts = self.runs.groupby("optimizer").size().to_dict()
        return counts != dict(zip(self.summary["optimizer"], self.summary["n_seeds"]))

    def first(self, optimizer: str | None = None) -> dict:
        """``metrics.json`` of the first run (of an optimizer, or of the study)."""
        rows = self.runs if optimizer is None else self.runs[self.runs["optimizer"] == optimizer]
        return files.read_json(Path(rows["path"].iloc[0]) / "metrics.json")

    def run_paths(self, optimizer: str) -> list[Path]:
        return [Path(p) for p in self.runs.loc[self.runs["optimizer"] == optimizer, "path"]]

    def paired(self, which: str = "head") -> pd.DataFrame:
        """The paired comparisons after training the head (``pairs.csv``) or after fine-tuning."""
        return self.pairs if which == "head" else self.fine_tune_pairs

    def row(self, optimizer: str):
        """The optimizer's row of the summary table."""
        return self.summary.set_index("optimizer").loc[optimizer]


def load(results_dir: str | Path | None = None) -> ReportData:
    """The report's data: ``results_dir``, else ``$LIONPOC_RESULTS``, else ``<project>/results``."""
    folder = layout.results_dir(results_dir)
    damaged: list = []
    runs = aggregate.load_runs(folder, damaged) if folder.is_dir() else pd.DataFrame()
    data = ReportData(folder, runs, damaged,
                      summary=_csv(folder / "summary.csv"), pairs=_csv(folder / "pairs.csv"),
                      pairs_by_seed=_csv(folder / "pairs_by_seed.csv"),
                      time_to_accuracy=_csv(folder / "time_to_accuracy.csv"), memory=_csv(folder / "memory.csv"),
                      split=_csv(folder / "split.csv"), baseline=_json(folder / "baseline.json"),
                      study=_json(folder / "study.json"), benchmark=_json(folder / "benchmark.json"),
                      fine_tune=_csv(folder / "fine_tune_summary.csv"), fine_tune_pairs=_csv(folder / "fine_tune_pairs.csv"),
                      fine_tune_time=_csv(folder / "fine_tune_time_to_accuracy.csv"))
    if not data.empty:
        # Only optimizers whose runs are present: a table never describes runs that are gone.
        for name in ("summary", "fine_tune", "fine_tune_time"):
            frame = getattr(data, name)
            if not frame.empty:
                setattr(data, name, frame[frame["optimizer"].isin(data.optimizers)].reset_index(drop=True))
    return data
