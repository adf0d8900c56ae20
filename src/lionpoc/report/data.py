"""Loading what the report needs from ``results/`` (and the published 2023 figures), once."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from lionpoc.study import aggregate
from lionpoc.study import layout
from lionpoc import files
from lionpoc import project
from lionpoc.model import optimizers as registry
from lionpoc.report import markup

# What the report assumes of results written before the study recorded its backbone: Xception, 2,048 features.
FALLBACK_BACKBONE = {"backbone": "xception", "backbone_label": "Xception", "feature_dim": 2048}

STUDY_2023_FILE = "study_2023.yaml"  # in report/ (project.report_dir)


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


def study_2023(path: Path | None = None) -> dict:
    """The 2023 proof of concept's published figures (``report/study_2023.yaml``)."""
    return yaml.safe_load((path or project.report_dir() / STUDY_2023_FILE).read_text(encoding="utf-8"))


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
    timing: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    old: dict = field(default_factory=study_2023, repr=False)
    computed: dict = field(default_factory=dict, repr=False)  # every study-level table by file name (aggregate.tables)

    # ------------------------------------------------------------------ what ran
    def _recorded(self, key: str, default=None):
        """A value recorded by the study (``study.json``), else by the first run (``metrics.json``)."""
        if self.study and self.study.get(key) is not None:
            return self.study[key]
        if not self.empty and key in self.runs.columns and self.runs[key].notna().any():
            return self.runs[key].dropna().iloc[0]
        return default

    @property
    def planned(self) -> list[str]:
        """The optimizers the study set out to compare (``study.json``), in its order; before any study,
        the registry's default study."""
        recorded = (self.study or {}).get("optimizers")
        if recorded:
            return [str(n) for n in recorded]
        if not self.empty:
            return []  # results without study.json: only what is there
        try:
            return registry.default_study()
        except Exception:  # no parameter files: nothing planned
            return []

    @property
    def optimizers(self) -> list[str]:
        """Optimizers with results, in the study's order (then any other found in the folder)."""
        present = list(dict.fromkeys(self.runs["optimizer"])) if not self.empty else []
        return [n for n in self.planned if n in present] + [n for n in present if n not in self.planned]

    @property
    def missing(self) -> list[str]:
        return [name for name in self.planned if name not in self.optimizers]

    @property
    def focus(self) -> str:
        """The optimizer the question is about: ``study.json``'s ``focus``, else the registry's choice among
        the optimizers that ran (the one whose file says ``focus: true``, else the last)."""
        recorded = (self.study or {}).get("focus")
        if recorded:
            return str(recorded)
        names = self.optimizers or self.planned
        try:
            return registry.default_focus(names) if names else ""
        except Exception:  # an optimizer the registry does not know: the last one named
            return names[-1] if names else ""

    @property
    def rivals(self) -> list[str]:
        """The optimizers with results that the focus is compared with, in the study's order."""
        return [name for name in self.optimizers if name != self.focus]

    @property
    def compared(self) -> bool:
        """The focus and at least one rival have results: the paired part of the report exists."""
        return self.focus in self.optimizers and bool(self.rivals)

    def fact(self, name: str, key: str):
        """What an optimizer's parameter file says of it for the report (``update``, ``implementation``, ``decay``,
        ``arguments``): as the study recorded it (``study.json``'s ``optimizer_specs``), else as the registry reads
        its file today; None when neither says (an older record, a parameter file gone)."""
        record = ((self.study or {}).get("optimizer_specs") or {}).get(name)
        if isinstance(record, dict) and record.get(key) is not None:
            return record[key]
        try:
            return getattr(registry.load(name), {"class": "keras_class"}.get(key, key))
        except Exception:  # an optimizer whose parameter file is gone: nothing known
            return None

    def _spec(self, name: str, key: str):
        """An optimizer's ``label`` or ``colour``: as the study recorded it, else from the optimizer
        registry, else from the tables the report used before the registry."""
        study = self.study or {}
        record = (study.get("optimizer_specs") or {}).get(name)
        if isinstance(record, dict) and isinstance(record.get(key), str):
            return record[key]
        table = study.get(f"{key}s")  # {"labels": {<name>: <label>, ...}}, as older records kept them
        if isinstance(table, dict) and isinstance(table.get(name), str):
            return table[name]
        try:
            return getattr(registry.load(name), key)
        except Exception:  # an optimizer whose parameter file is gone: its name, and a colour by position
            return name if key == "label" else None

    def label(self, name: str) -> str:
        """How the report's text names an optimizer (``Adam``, ``AdamW``, ``Lion``, ...): its recorded label as
        literal Markdown (``markup.escape``: a label is user-given, it never becomes markup)."""
        return markup.escape(self._spec(name, "label"))

    def figure_label(self, name: str) -> str:
        """The optimizer's label as a figure draws it: the recorded text, ``$`` kept literal for matplotlib."""
        return markup.in_figure(self._spec(name, "label"))

    def colour(self, name: str) -> str:
        """The optimizer's colour in every figure."""
        return self._spec(name, "colour") or f"C{self.optimizers.index(name) % 10 if name in self.optimizers else 0}"

    def labels(self, names: list[str] | None = None, figure: bool = False) -> dict[str, str]:
        """Each optimizer's label, for the text (escaped Markdown) or for a ``figure`` (matplotlib)."""
        label = self.figure_label if figure else self.label
        return {name: label(name) for name in (self.optimizers if names is None else names)}

    def colours(self, names: list[str] | None = None) -> dict[str, str]:
        return {name: self.colour(name) for name in (self.optimizers if names is None else names)}

    @property
    def backbone(self) -> str:
        """The backbone's registry name (``xception`` for results that predate the record)."""
        return str(self._recorded("backbone", FALLBACK_BACKBONE["backbone"]))

    @property
    def backbone_label(self) -> str:
        """How the report names the backbone (``Xception``, ``MobileNetV2``)."""
        label = self._recorded("backbone_label")
        if label:
            return markup.escape(label)
        return FALLBACK_BACKBONE["backbone_label"] if self.backbone == FALLBACK_BACKBONE["backbone"] else self.backbone

    @property
    def xception(self) -> bool:
        return self.backbone == FALLBACK_BACKBONE["backbone"]

    @property
    def fine_tune_part(self) -> str:
        """What fine-tuning opens, in words, from the backbone registry: ``la fin de Xception (bloc 14)``."""
        try:
            from lionpoc.model import backbones

            return f"la fin de {self.backbone_label} ({backbones.spec(self.backbone).fine_tune_label})"
        except Exception:  # a backbone the registry no longer knows
            return f"la fin de {self.backbone_label}"

    @property
    def feature_dim(self) -> int:
        """Width of the feature vector the heads read."""
        recorded = self._recorded("feature_dim")
        if recorded:
            return int(recorded)
        return FALLBACK_BACKBONE["feature_dim"] if self.xception else 0

    @property
    def weights(self) -> str:
        """``imagenet``, ``none`` or a weights file, as given to the study."""
        if not self.empty and "weights" in self.runs.columns:
            return str(self.runs["weights"].iloc[0])
        return str((self.study or {}).get("weights", "imagenet"))

    @property
    def pretrained(self) -> bool:
        """The backbone carried pretrained (ImageNet) weights: recorded, else any weights but ``none``."""
        recorded = self._recorded("pretrained")
        if recorded is not None and not (isinstance(recorded, float) and recorded != recorded):
            return bool(recorded)
        return self.weights != "none"

    @property
    def real_photos(self) -> bool:
        return not self.empty and not self.synthetic

    @property
    def cropped_photos(self) -> bool:
        """The photos are copies cropped to the dog's box (the data folder's README says so)."""
        if not self.real_photos:
            return False
        folder = self._recorded("data_dir") or (self.first().get("params", {}).get("data_dir") if not self.empty else None)
        if not folder:
            return False
        for place in (Path(folder), *Path(folder).parents[:2]):
            readme = place / "README.md"
            try:
                if readme.is_file() and "bounding box" in readme.read_text(encoding="utf-8", errors="replace"):
                    return True
            except OSError:
                continue
        return False

    # ------------------------------------------------------------------ the data set
    @property
    def dataset(self):
        """The data set the study recorded (``study.json``'s ``data``); for results without that record, the 15
        breeds, or a data set of the class folders in ``split.csv`` when the runs say they came from another folder."""
        from lionpoc.data import datasets

        record = (self.study or {}).get("data")
        if isinstance(record, dict) and record.get("folders"):
            try:
                return datasets.from_record(record)
            except (KeyError, TypeError, ValueError):
                pass
        other = not self.empty and "dataset" in self.runs.columns and (self.runs["dataset"] == "folder").any()
        if other and not self.split.empty:
            folders = self.split.drop_duplicates("label").sort_values("label")["breed"].astype(str).tolist()
            return datasets.for_folders(folders, "") if len(folders) > 1 else datasets.STANFORD_DOGS_15
        return datasets.STANFORD_DOGS_15

    @property
    def stanford_dogs(self) -> bool:
        """The 15 Stanford Dogs breeds of the registry (their photos, or ``lionpoc synth``'s shapes in their folders)."""
        from lionpoc.data import datasets

        return self.dataset.key == datasets.STANFORD_DOGS_15.key

    @property
    def class_names(self) -> list[str]:
        """The classes as the text names them: the data set's display names as literal Markdown (a user's folder
        or description file may hold ``*``, ``_``, ``<``...)."""
        from lionpoc.report.markup import escape

        return [escape(name) for name in self.dataset.display]

    @property
    def dataset_name(self) -> str:
        from lionpoc.report.markup import escape

        return escape(self.dataset.name)

    @property
    def data_record(self) -> dict:
        """``study.json``'s ``data`` (empty for results that predate it)."""
        record = (self.study or {}).get("data")
        return record if isinstance(record, dict) else {}

    def class_scores(self) -> pd.DataFrame:
        """Per optimizer and class: mean precision, recall and F1 over the runs present, rank by F1."""
        from lionpoc.study import classes

        return classes.class_scores(self.results_dir, self.dataset, self.optimizers) if not self.empty else \
            pd.DataFrame()

    def frequent_confusions(self, top: int = 20) -> pd.DataFrame:
        """Per optimizer, the most frequent confusions over the runs present (``study.classes.confusions``)."""
        from lionpoc.study import classes

        return classes.confusions(self.results_dir, self.dataset, self.optimizers, top) if not self.empty else \
            pd.DataFrame()

    # ------------------------------------------------------------------ status
    @property
    def empty(self) -> bool:
        return self.runs.empty

    @property
    def synthetic(self) -> bool:
        return not self.empty and bool((self.runs["data_kind"] == "synthetic").any())

    def first(self, optimizer: str | None = None) -> dict:
        """``metrics.json`` of the first run (of an optimizer, or of the study)."""
        rows = self.runs if optimizer is None else self.runs[self.runs["optimizer"] == optimizer]
        return files.read_json(Path(rows["path"].iloc[0]) / "metrics.json")

    def run_paths(self, optimizer: str) -> list[Path]:
        return [Path(p) for p in self.runs.loc[self.runs["optimizer"] == optimizer, "path"]]

    def kept_epoch_gaps(self) -> dict[str, float]:
        """Training minus validation accuracy at the kept epoch, per optimizer, for its first seed's run (the runs
        whose ``history.csv`` is missing are left out)."""
        gaps = {}
        for name in self.optimizers:
            run = self.run_paths(name)[0]
            if not (run / "history.csv").is_file():
                continue
            history = pd.read_csv(run / "history.csv")
            best = int(files.read_json(run / "metrics.json")["best_epoch"])
            row = history[history["epoch"] == best].iloc[0]
            gaps[name] = float(row["accuracy"] - row["val_accuracy"])
        return gaps

    @property
    def epoch_cap(self) -> int | None:
        """The most epochs a head may train (the runs' ``params.epochs``); None without results."""
        if self.empty:
            return None
        epochs = self.first().get("params", {}).get("epochs")
        return int(epochs) if epochs is not None else None

    def capped(self) -> pd.DataFrame:
        """The runs whose chosen head trained up to the epoch cap, early stopping never triggered (``optimizer``,
        ``seed``, ``best_epoch``): as each run recorded it (``stopped_early``), else from its epochs."""
        if self.empty:
            return pd.DataFrame(columns=["optimizer", "seed", "best_epoch"])
        runs = self.runs
        if "stopped_early" in runs.columns and runs["stopped_early"].notna().all():
            reached = ~runs["stopped_early"].astype(bool)
        else:
            reached = runs["epochs_run"] >= (self.epoch_cap or float("inf"))
        return runs.loc[reached, ["optimizer", "seed", "best_epoch"]].reset_index(drop=True)

    def capped_shown(self) -> list[str]:
        """The optimizers whose first seed, the one the learning curves show, ran up to the epoch cap."""
        capped = self.capped()
        return [name for name in self.optimizers
                if ((capped["optimizer"] == name) & (capped["seed"] == self.runs.loc[
                    self.runs["optimizer"] == name, "seed"].iloc[0])).any()]

    def chosen_fine_tune_rates(self, optimizer: str) -> pd.Series:
        """How many fine-tuned seeds of ``optimizer`` chose each learning rate on validation (most chosen first,
        then the larger rate): the rate chosen per seed, as each run recorded it."""
        if self.empty or not {"ft_learning_rate", "ft_test_accuracy"} <= set(self.runs.columns):
            return pd.Series(dtype=int)
        rates = self.runs.loc[(self.runs["optimizer"] == optimizer) & self.runs["ft_test_accuracy"].notna(),
                              "ft_learning_rate"].dropna().astype(float)
        rates = rates.map(lambda r: float(f"{r:.6g}"))  # the same rate written twice is one rate
        counts = rates.value_counts()
        order = sorted(counts.index, key=lambda r: (-counts[r], -r))
        return counts.loc[order]

    def confusions(self) -> dict[str, pd.DataFrame]:
        """Each optimizer's test confusion matrix (true breed in rows), summed over its seeds."""
        matrices = {}
        for name in self.optimizers:
            frames = [pd.read_csv(p / "confusion.csv", index_col=0) for p in self.run_paths(name)]
            matrices[name] = sum(frames[1:], frames[0])
        return matrices

    def paired(self, which: str = "head") -> pd.DataFrame:
        """The paired comparisons after training the head (``pairs.csv``) or after fine-tuning."""
        return self.pairs if which == "head" else self.fine_tune_pairs

    def table(self, name: str) -> pd.DataFrame:
        """A study-level table computed from the runs (``pairs.csv``, ``calibration.csv``...); empty when absent."""
        return self.computed.get(name, pd.DataFrame())

    def row(self, optimizer: str):
        """The optimizer's row of the summary table."""
        return self.summary.set_index("optimizer").loc[optimizer]


def load(results_dir: str | Path | None = None) -> ReportData:
    """The report's data: ``results_dir``, else ``$LIONPOC_RESULTS``, else ``<project>/results``.

    The study-level tables are computed here from the runs present (the same functions wrote the CSV
    files, with the same seeds, so the numbers are the same): a run deleted, redone or added by hand since
    the study never leaves a table that describes other runs.
    """
    folder = layout.results_dir(results_dir)
    damaged: list = []
    runs = aggregate.load_runs(folder, damaged) if folder.is_dir() else pd.DataFrame()
    computed = aggregate.tables(runs) if not runs.empty else {}
    table = lambda name: computed.get(name, pd.DataFrame())  # noqa: E731
    data = ReportData(folder, runs, damaged,
                      summary=table("summary.csv"), pairs=table("pairs.csv"),
                      pairs_by_seed=table("pairs_by_seed.csv"),
                      time_to_accuracy=table("time_to_accuracy.csv"), memory=_csv(folder / "memory.csv"),
                      split=_csv(folder / "split.csv"), baseline=_json(folder / "baseline.json"),
                      study=_json(folder / "study.json"), benchmark=_json(folder / "benchmark.json"),
                      fine_tune=table("fine_tune_summary.csv"), fine_tune_pairs=table("fine_tune_pairs.csv"),
                      fine_tune_time=table("fine_tune_time_to_accuracy.csv"), timing=_csv(folder / "timing.csv"),
                      computed=computed)
    if not data.empty and not data.timing.empty:  # only optimizers whose runs are present
        data.timing = data.timing[data.timing["optimizer"].isin(data.optimizers)].reset_index(drop=True)
    return data
