"""Per-image outcomes of the runs (``predictions.csv``): correctness, loss, confidence; calibration error.

Each run's ``predictions.csv`` holds, per test image, ``correct`` (0/1), ``confidence`` (the predicted
class's probability) and, since the true class's probability is recorded, ``p_true``. The image's loss
is its negative log-likelihood ``-log(p_true)`` (natural log, the training loss's units); the expected
calibration error (ECE) bins the images by confidence into ``BINS`` equal-width bins and averages
``|mean confidence − accuracy|`` over the bins, weighted by their share of images (Guo et al. 2017).
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd

from lionpoc.study.resampling import Draws

BINS = 15
TINY = 1e-12   # a probability recorded as 0 (float underflow) counts as this, not as an infinite loss


def per_image(runs: pd.DataFrame, optimizer: str, column: str = "correct",
              file: str = "predictions.csv") -> pd.DataFrame:
    """Test images (rows, by file) x seeds (columns): ``column`` of each of the optimizer's runs."""
    columns = {}
    for run in runs[runs["optimizer"] == optimizer].itertuples():
        predictions = read(Path(run.path) / file)
        if column not in predictions.columns:
            raise KeyError(f"{Path(run.path) / file} has no column {column!r}")
        columns[int(run.seed)] = predictions[column]
    return pd.DataFrame(columns).sort_index()


def read(path: Path) -> pd.DataFrame:
    """A run's predictions file, indexed by file; read once per version of the file (tables ask for several
    of its columns, pair after pair)."""
    stat = Path(path).stat()
    return _read(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=512)
def _read(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    return pd.read_csv(path, index_col="file")


def has_column(runs: pd.DataFrame, column: str, file: str = "predictions.csv") -> bool:
    """True when every run's ``file`` has ``column`` (older runs did not record ``p_true``)."""
    for run in runs.itertuples():
        if column not in read(Path(run.path) / file).columns:
            return False
    return len(runs) > 0


def image_loss(p_true) -> np.ndarray:
    """Negative log-likelihood of each image, ``-log(p_true)`` (``p_true`` floored at ``TINY``)."""
    return -np.log(np.clip(np.asarray(p_true, dtype=float), TINY, 1.0))


def bin_index(confidence, bins: int = BINS) -> np.ndarray:
    """The confidence bin of each image: ``(j/bins, (j+1)/bins]``, the first bin closed at 0."""
    c = np.asarray(confidence, dtype=float)
    return np.clip(np.ceil(c * bins).astype(int) - 1, 0, bins - 1)


def ece(confidence, correct, bins: int = BINS) -> float:
    """Expected calibration error of one run (``bins`` equal-width confidence bins)."""
    gap = np.asarray(confidence, dtype=float) - np.asarray(correct, dtype=float)
    sums = np.bincount(bin_index(confidence, bins), weights=gap, minlength=bins)
    return float(np.abs(sums).sum() / len(gap))


def ece_replicates(confidence, correct, d: Draws, bins: int = BINS) -> np.ndarray:
    """Replicates x seeds: the ECE of each seed on each replicate's images (counted as drawn).

    ``confidence`` and ``correct`` are seeds x images. The seeds' own draws are applied afterwards
    (``resampling.replicate_per_seed``).
    """
    conf = np.atleast_2d(np.asarray(confidence, dtype=float))
    gap = conf - np.atleast_2d(np.asarray(correct, dtype=float))
    n_images = conf.shape[1]
    out = np.empty((d.n_resamples, conf.shape[0]))
    for s in range(conf.shape[0]):
        membership = np.zeros((n_images, bins))
        membership[np.arange(n_images), bin_index(conf[s], bins)] = gap[s]
        out[:, s] = np.abs(d.images @ membership).sum(axis=1) / n_images
    return out
