"""The two-stage bootstrap: seeds resampled, then test images, so that an interval covers both.

A study scores every seed's trained head on the same test images: its paired differences form a
seeds x images table ``D``. Two sources of variance move a difference: the seed (initialisation, shuffles,
and through them the configuration chosen on the validation split) and the test images (a sample of the
breeds' photos). An interval over the test images alone holds the trained heads fixed; an interval over
the seeds alone holds the test images fixed. Here each replicate draws ``k`` seeds with replacement and,
for them, ``N`` test images with replacement; because every seed saw the same images, one draw of images
serves every seed drawn (seeds and images are crossed, not nested: resampling images separately within
each seed would average the images' own effect away and understate it). The replicate's statistic is the
mean of ``D`` over the drawn seeds and images, counted with their multiplicities.

Draws depend only on (number of seeds, number of images, resamples, seed): every pair, metric and
optimizer of a study with the same shape uses the same draws, and the same seed gives the same numbers.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

RESAMPLES = 10_000   # replicates of every two-stage interval
LEVEL = 0.95
SEED = 0

# What each kind of interval lets vary (saved beside every interval, read by the report).
COVERS = {
    "images": "test images (the trained heads of these seeds held fixed)",
    "seeds": "seeds (these test images held fixed)",
    "seeds_and_images": "seeds and test images (two-stage bootstrap)",
}


@dataclass(frozen=True)
class Draws:
    """``seeds``: replicates x k counts of each seed drawn; ``images``: replicates x N counts of each image."""

    seeds: np.ndarray
    images: np.ndarray

    @property
    def n_resamples(self) -> int:
        return int(self.seeds.shape[0])


def draws(n_seeds: int, n_images: int, n_resamples: int = RESAMPLES, seed: int = SEED) -> Draws:
    """The two-stage draws for ``n_seeds`` seeds and ``n_images`` test images (counts of each, as floats).

    Kept once computed (read-only arrays): every pair and metric of a study uses the same draws."""
    if n_seeds < 1 or n_images < 1:
        raise ValueError(f"a two-stage bootstrap needs at least one seed and one image, got {n_seeds} and "
                         f"{n_images}.")
    return _draws(int(n_seeds), int(n_images), int(n_resamples), int(seed))


@functools.lru_cache(maxsize=16)
def _draws(n_seeds: int, n_images: int, n_resamples: int, seed: int) -> Draws:
    rng = np.random.default_rng(seed)
    seeds = _counts(rng.integers(0, n_seeds, size=(n_resamples, n_seeds)), n_seeds)
    images = _counts(rng.integers(0, n_images, size=(n_resamples, n_images)), n_images)
    seeds.flags.writeable = False
    images.flags.writeable = False
    return Draws(seeds, images)


def _counts(indices: np.ndarray, n: int) -> np.ndarray:
    """Per row of drawn indices, how many times each of 0..n-1 was drawn."""
    rows = indices.shape[0]
    flat = (indices + n * np.arange(rows)[:, None]).ravel()
    return np.bincount(flat, minlength=rows * n).reshape(rows, n).astype(float)


def replicate_means(table, d: Draws) -> np.ndarray:
    """The mean of a seeds x images ``table`` in each replicate (seeds and images counted as drawn)."""
    x = np.asarray(table, dtype=float)
    k, n = x.shape
    if d.seeds.shape[1] != k or d.images.shape[1] != n:
        raise ValueError(f"draws for {d.seeds.shape[1]} seeds x {d.images.shape[1]} images do not fit a "
                         f"{k} x {n} table.")
    return np.einsum("bi,bi->b", d.seeds @ x, d.images) / (k * n)


def replicate_per_seed(per_seed_values, d: Draws) -> np.ndarray:
    """Mean over the drawn seeds of per-seed replicate values (replicates x k), e.g. a per-seed calibration
    error already computed on each replicate's images."""
    v = np.asarray(per_seed_values, dtype=float)
    return np.einsum("bs,bs->b", d.seeds, v) / d.seeds.shape[1]


def percentile_interval(replicates, level: float = LEVEL) -> tuple[float, float]:
    """The percentile interval of bootstrap replicates at ``level``."""
    low, high = np.quantile(np.asarray(replicates, dtype=float), [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def joint_level(level: float, family_size: int) -> float:
    """Bonferroni: each of ``family_size`` intervals at this level covers all of them at once at ``level`` or more."""
    return 1 - (1 - level) / max(1, family_size)
