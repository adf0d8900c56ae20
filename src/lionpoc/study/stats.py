"""Statistics for comparing optimizers: confidence intervals, McNemar's exact test, paired bootstrap."""
from __future__ import annotations

import math

import numpy as np
from scipy import stats


def mean_ci(values, level: float = 0.95) -> tuple[float, float, float, float]:
    """Mean, sample standard deviation and Student-t confidence interval of the mean.

    With a single value the deviation and the interval are undefined (NaN): one run says nothing
    about the spread.
    """
    x = np.asarray(values, dtype=float)
    mean = float(x.mean())
    if len(x) < 2:
        return mean, math.nan, math.nan, math.nan
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, len(x) - 1) * sd / math.sqrt(len(x)))
    return mean, sd, mean - half, mean + half


def wilson_ci(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion (e.g. an accuracy on n test images)."""
    if n == 0:
        return math.nan, math.nan
    z = stats.norm.ppf(0.5 + level / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def mcnemar_exact(correct_a, correct_b) -> dict:
    """McNemar's exact test on paired outcomes (1 = correct) of two classifiers on the same images.

    Only the discordant images matter: ``b`` right for A only, ``c`` right for B only. Under the
    null hypothesis each discordant image is a fair coin, so ``p = P(Binomial(b + c, 1/2) as extreme)``.
    """
    a = np.asarray(correct_a, dtype=bool)
    b_ = np.asarray(correct_b, dtype=bool)
    if a.shape != b_.shape:
        raise ValueError(f"paired outcomes must have the same length, got {a.shape} and {b_.shape}.")
    b = int(np.sum(a & ~b_))
    c = int(np.sum(~a & b_))
    p = 1.0 if b + c == 0 else float(stats.binomtest(b, b + c, 0.5).pvalue)
    return {"b": b, "c": c, "p_value": p}


def bootstrap_diff_ci(correct_a, correct_b, n_resamples: int = 10_000, level: float = 0.95,
                      seed: int = 0) -> tuple[float, float, float]:
    """Accuracy difference A - B and its paired percentile bootstrap interval (images resampled).

    ``correct_a`` and ``correct_b`` may be 1-D (one run each) or 2-D (runs x images, e.g. seeds):
    rows are averaged per image, so the interval reflects the test images' sampling noise.
    """
    a = np.atleast_2d(np.asarray(correct_a, dtype=float)).mean(axis=0)
    b = np.atleast_2d(np.asarray(correct_b, dtype=float)).mean(axis=0)
    diff = a - b
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(diff), size=(n_resamples, len(diff)))
    samples = diff[idx].mean(axis=1)
    low, high = np.quantile(samples, [(1 - level) / 2, (1 + level) / 2])
    return float(diff.mean()), float(low), float(high)


def first_reach(values, fraction: float) -> int:
    """1-based index of the first value reaching ``fraction`` of the maximum (for time-to-accuracy)."""
    x = np.asarray(values, dtype=float)
    return int(np.argmax(x >= fraction * x.max())) + 1


def bootstrap_mean_ci(correct, n_resamples: int = 10_000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of an accuracy, resampling test images.

    ``correct`` is 1-D (one run) or 2-D (seeds x images, averaged per image). The interval of a
    proportion resampled this way always lies within [0, 1], even with a single seed.
    """
    per_image = np.atleast_2d(np.asarray(correct, dtype=float)).mean(axis=0)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(per_image), size=(n_resamples, len(per_image)))
    low, high = np.quantile(per_image[idx].mean(axis=1), [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def sign_flip_test(correct_a, correct_b, n_resamples: int = 100_000, seed: int = 0) -> float:
    """Two-sided paired permutation test of "A and B are equally accurate", using every seed at once.

    Per test image, the difference of the two optimizers' correctness averaged over seeds; under
    the null hypothesis its sign is a coin toss, so the p-value is the share of random sign flips
    whose mean difference is at least as far from zero as the observed one. With a single seed
    this is McNemar's test, computed by simulation.
    """
    a = np.atleast_2d(np.asarray(correct_a, dtype=float)).mean(axis=0)
    b = np.atleast_2d(np.asarray(correct_b, dtype=float)).mean(axis=0)
    diff = (a - b)[(a - b) != 0]
    if len(diff) == 0:
        return 1.0
    observed = abs(diff.sum())
    rng = np.random.default_rng(seed)
    hits, done = 0, 0
    while done < n_resamples:  # in chunks, to bound memory
        size = min(10_000, n_resamples - done)
        signs = rng.integers(0, 2, size=(size, len(diff)), dtype=np.int8) * 2 - 1
        hits += int(np.sum(np.abs(signs @ diff) >= observed - 1e-12))
        done += size
    return (hits + 1) / (n_resamples + 1)


def holm(p_values) -> list[float]:
    """Holm's step-down adjustment of a family of p-values (Holm 1979): the family-wise error rate
    stays at the nominal level, whatever the dependence between the tests."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    adjusted = np.empty_like(p)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        adjusted[i] = running
    return [float(v) for v in adjusted]
