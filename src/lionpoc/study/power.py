"""What a comparison could have detected: variance components, minimum detectable difference, seeds needed.

A paired comparison's seeds x images table of differences ``D`` (A right − B right, or a loss
difference) is read as a crossed random-effects design, one observation per cell:
``D[s, i] = mu + seed_s + image_i + residual``. The method of moments (two-way ANOVA without replication)
estimates the three variances from the mean squares of seeds, images and residuals:
``var_seed = (MS_seeds − MS_res) / N``, ``var_image = (MS_images − MS_res) / k``, ``var_residual = MS_res``
(negative estimates set to 0). The mean difference over k seeds and N images then has variance
``var_seed / k + var_image / N + var_residual / (k N)``: what the two-stage bootstrap measures, and what
a study with another number of seeds would face.

The minimum detectable difference (MDD) at power ``1 − beta`` for a two-sided test at ``alpha`` is
``(z_{1-alpha/2} + z_{1-beta}) x standard error`` (normal approximation): a true difference that large
is found significant 80 % of the time. With infinitely many seeds the standard error keeps the images'
part, ``sqrt(var_image / N)``: the floor no number of seeds can go below on this test set.

Two choices keep the MDD consistent with the verdict it qualifies. The standard error is the verdict's own:
``matched`` scales the three components so that, at this study's size, they give the two-stage bootstrap's
variance (which counts the images' variance within each resampled seed again, so it is a little wider than
the moments' estimate); the components then only say how that variance would change with another number of
seeds. And alpha is the family's: Holm tests the smallest of m p-values at ``alpha / m``, so a comparison
is sure to be found significant only if it passes that first step (``family_alpha``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

ALPHA = 0.05
POWER = 0.80
TARGET = 0.01        # "a 1-point difference": the difference whose seed count is reported
MAX_SEEDS = 1000     # beyond this, a number of seeds is reported as out of reach


@dataclass(frozen=True)
class Components:
    """Variance components of a seeds x images table of differences."""

    n_seeds: int
    n_images: int
    var_seed: float       # NaN with one seed: nothing to estimate it from
    var_image: float
    var_residual: float

    def variance(self, n_seeds: int | None = None, n_images: int | None = None) -> float:
        """Variance of the mean difference over ``n_seeds`` seeds and ``n_images`` images (default: this study's)."""
        k = n_seeds or self.n_seeds
        n = n_images or self.n_images
        return self.var_seed / k + self.var_image / n + self.var_residual / (k * n)

    def image_variance(self, n_images: int | None = None) -> float:
        """Variance of the mean difference over images with this study's trained heads held fixed (the
        image-level test's): the seed part is then a fixed offset, the residual averaged over its seeds."""
        n = n_images or self.n_images
        return (self.var_image + self.var_residual / self.n_seeds) / n


def matched(c: Components, se: float) -> Components:
    """``c`` scaled so that its variance at this study's size is ``se ** 2`` (the two-stage bootstrap's); ``c``
    itself when ``se`` is NaN or the variance is 0."""
    v = c.variance()
    if math.isnan(se) or not v > 0:
        return c
    r = se ** 2 / v
    return Components(c.n_seeds, c.n_images, c.var_seed * r, c.var_image * r, c.var_residual * r)


def family_alpha(family_size: int, alpha: float = ALPHA) -> float:
    """The level Holm's first step applies in a family of ``family_size`` comparisons: ``alpha / m``."""
    return alpha / max(1, family_size)


def components(table) -> Components:
    """Method-of-moments variance components of a seeds x images ``table`` (see the module's text)."""
    x = np.asarray(table, dtype=float)
    if x.ndim != 2 or x.shape[1] < 2:
        raise ValueError(f"variance components need a seeds x images table with at least 2 images, got shape "
                         f"{x.shape}.")
    k, n = x.shape
    grand = x.mean()
    seed_means, image_means = x.mean(axis=1), x.mean(axis=0)
    ms_images = k * np.sum((image_means - grand) ** 2) / (n - 1)
    if k == 1:
        # One seed: seed and residual cannot be told apart; the images' spread holds both.
        return Components(1, n, math.nan, float(ms_images), 0.0)
    ms_seeds = n * np.sum((seed_means - grand) ** 2) / (k - 1)
    residuals = x - seed_means[:, None] - image_means[None, :] + grand
    ms_res = np.sum(residuals ** 2) / ((k - 1) * (n - 1))
    return Components(k, n, float(max(0.0, (ms_seeds - ms_res) / n)), float(max(0.0, (ms_images - ms_res) / k)),
                      float(ms_res))


def z_sum(alpha: float = ALPHA, power: float = POWER) -> float:
    """``z_{1-alpha/2} + z_{power}``: 2.80 for alpha 0.05 and power 0.80."""
    return float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))


def mdd(c: Components, n_seeds: int | None = None, n_images: int | None = None, alpha: float = ALPHA,
        power: float = POWER) -> float:
    """Minimum detectable difference with seeds and images both varying (NaN with one seed)."""
    return z_sum(alpha, power) * math.sqrt(c.variance(n_seeds, n_images))


def mdd_images(c: Components, alpha: float = ALPHA, power: float = POWER) -> float:
    """Minimum detectable difference of the image-level test, this study's trained heads held fixed."""
    return z_sum(alpha, power) * math.sqrt(c.image_variance())


def mdd_floor(c: Components, alpha: float = ALPHA, power: float = POWER) -> float:
    """The MDD with infinitely many seeds on this number of test images."""
    return z_sum(alpha, power) * math.sqrt(c.var_image / c.n_images)


def seeds_needed(c: Components, difference: float = TARGET, alpha: float = ALPHA, power: float = POWER) -> float:
    """The fewest seeds whose MDD (this number of test images) is at most ``difference``; NaN when no number
    of seeds up to ``MAX_SEEDS`` reaches it (the images' part alone is too large) or with one seed. At least
    2: a seed-aware interval needs two seeds."""
    if math.isnan(c.var_seed):
        return math.nan
    budget = (difference / z_sum(alpha, power)) ** 2 - c.var_image / c.n_images
    if budget <= 0:
        return math.nan
    k = max(2, math.ceil((c.var_seed + c.var_residual / c.n_images) / budget - 1e-12))
    return float(k) if k <= MAX_SEEDS else math.nan
