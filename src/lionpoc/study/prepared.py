"""What one optimizer's runs hold before training: the split and the features of each split.

Made by ``runs.prepare`` (from the images and the cache, or from a cluster's bundle); read by the seeds'
training and by ``run_files`` when it saves what a seed leaves.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lionpoc import data
from lionpoc.data import datasets
from lionpoc.model import features
from lionpoc.study.config import RunConfig


@dataclass
class Prepared:
    """Everything a run needs before training: the split table and the features of each split."""

    cfg: RunConfig
    data_dir: Path
    kind: str
    table: pd.DataFrame                      # file, breed (the class folder), label, split (readable images only)
    features: features.Features
    notes: list[str] = field(default_factory=list)
    dataset: datasets.DataSet = datasets.STANFORD_DOGS_15   # the classes (folders, names, display names...)
    listing: data.Listing | None = field(default=None, repr=False)  # the data folder as read (not in a worker)
    trainers: dict = field(default_factory=dict, repr=False)  # compiled trainers by configurations, reused by seeds

    def part(self, name: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
        rows = self.table[self.table["split"] == name]
        return features.align(self.features, rows), rows["label"].to_numpy(), rows["file"].tolist()
