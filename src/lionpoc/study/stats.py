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
    """Wilson score interval of a proportion (e.g. an accuracy on n test images), from scipy."""
    if n == 0:
        return math.nan, math.nan
    interval = stats.binomtest(int(successes), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return float(interval.low), float(interval.high)


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
    """Accuracy difference A - B and its paired percentile bootstrap interval (``scipy.stats.bootstrap``,
    test images resampled).

    ``correct_a`` and ``correct_b`` may be 1-D (one run each) or 2-D (runs x images, e.g. seeds):
    rows are averaged per image, so the interval reflects the test images' sampling noise.
    """
    a = np.atleast_2d(np.asarray(correct_a, dtype=float)).mean(axis=0)
    b = np.atleast_2d(np.asarray(correct_b, dtype=float)).mean(axis=0)
    diff = a - b
    low, high = _percentile_bootstrap(diff, n_resamples, level, seed)
    return float(diff.mean()), low, high


def first_reach(values, fraction: float) -> int:
    """1-based index of the first value reaching ``fraction`` of the maximum (for time-to-accuracy)."""
    x = np.asarray(values, dtype=float)
    return int(np.argmax(x >= fraction * x.max())) + 1


def bootstrap_mean_ci(correct, n_resamples: int = 10_000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of an accuracy, resampling test images (``scipy.stats.bootstrap``).

    ``correct`` is 1-D (one run) or 2-D (seeds x images, averaged per image). The interval of a
    proportion resampled this way always lies within [0, 1], even with a single seed.
    """
    per_image = np.atleast_2d(np.asarray(correct, dtype=float)).mean(axis=0)
    return _percentile_bootstrap(per_image, n_resamples, level, seed)


def _percentile_bootstrap(values: np.ndarray, n_resamples: int, level: float, seed: int) -> tuple[float, float]:
    if np.all(values == values[0]):  # no spread to resample (scipy would warn and return NaN)
        return float(values[0]), float(values[0])
    result = stats.bootstrap((values,), np.mean, n_resamples=n_resamples, confidence_level=level,
                             method="percentile", vectorized=True, batch=2_000, rng=np.random.default_rng(seed))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def sign_flip_test(correct_a, correct_b) -> float:
    """Two-sided paired sign-flip test of "A and B are equally accurate", using every seed at once; exact.

    Per test image, ``t_i`` = (seeds where A got it right) − (seeds where B did): an integer, so no
    floating point enters the statistic (a mean of ±1/3 values once gave p = 0.906 for two optimizers with
    the same number of correct answers). Under the null hypothesis the sign of each ``t_i`` is a coin
    toss; the p-value is the share of the ``2^m`` sign sets of the ``m`` images with ``t_i != 0`` whose sum
    is at least as far from zero as the observed ``sum(t_i)``. ``sign_flip_distribution`` enumerates them
    exactly. A zero total gives p = 1; with a single seed this is McNemar's exact test.
    """
    t = seed_summed_difference(correct_a, correct_b)
    total = int(t.sum())
    if total == 0:
        return 1.0
    values, probabilities = sign_flip_distribution(t)
    return float(min(1.0, probabilities[np.abs(values) >= abs(total)].sum()))


def seed_summed_difference(correct_a, correct_b) -> np.ndarray:
    """Per test image, the integer ``(A right) − (B right)`` summed over seeds (rows of 2-D inputs)."""
    a = np.atleast_2d(np.asarray(correct_a))
    b = np.atleast_2d(np.asarray(correct_b))
    if a.shape != b.shape:
        raise ValueError(f"paired outcomes must have the same shape, got {a.shape} and {b.shape}.")
    if not (np.isin(a, (0, 1)).all() and np.isin(b, (0, 1)).all()):
        raise ValueError("paired outcomes must be 0 (wrong) or 1 (right) for every image and seed.")
    return (a.astype(np.int64) - b.astype(np.int64)).sum(axis=0)


def sign_flip_distribution(t) -> tuple[np.ndarray, np.ndarray]:
    """The exact null distribution of ``sum(s_i |t_i|)`` over every sign set ``s`` (integers ``t``).

    Returns (values, probabilities). Built by convolving one image at a time (each ``±|t_i|`` with
    probability 1/2): the same numbers as enumerating the ``2^m`` sign sets, in ``m x sum|t|`` steps.
    """
    magnitudes = np.abs(np.asarray(t, dtype=np.int64))
    magnitudes = magnitudes[magnitudes > 0]
    width = int(magnitudes.sum())
    probabilities = np.zeros(2 * width + 1)
    probabilities[width] = 1.0  # index width is the value 0
    for m in magnitudes:
        shifted = np.zeros_like(probabilities)
        shifted[m:] += probabilities[:len(probabilities) - m]
        shifted[:len(probabilities) - m] += probabilities[m:]
        probabilities = shifted / 2
    return np.arange(-width, width + 1), probabilities


def smallest_sign_flip_p(n_discordant: int) -> float:
    """The smallest p the exact sign-flip test can reach with ``n_discordant`` images that differ:
    only the two sign sets "all one way" are as extreme as a unanimous result, so ``2 / 2^m`` (1 when m = 0)."""
    return 1.0 if n_discordant <= 0 else min(1.0, 2.0 ** (1 - int(n_discordant)))


def mean_sign_flip_test(differences, n_resamples: int = 100_000, seed: int = 0) -> tuple[float, str]:
    """Two-sided paired sign-flip test on real-valued per-image differences (e.g. losses averaged over seeds).

    Returns (p, how). With ``m`` nonzero differences, every one of the ``2^m`` sign sets when ``2^m <=
    n_resamples`` (exact), else ``n_resamples`` random sign sets drawn with ``seed`` and ``p = (hits + 1) /
    (n_resamples + 1)`` (the observed set counts once). The same test as ``scipy.stats.permutation_test``
    with ``permutation_type="samples"`` on one sample (tested against it), done as one matrix product: scipy's
    generator takes seconds for 100,000 sets, and the report computes these tables again at every render.
    A zero or absent difference gives p = 1.
    """
    d = np.asarray(differences, dtype=float)
    d = d[d != 0]
    observed = abs(float(d.sum()))
    if len(d) == 0 or observed == 0:
        return 1.0, "exact"
    tolerance = 1e-9 * float(np.abs(d).sum())  # sums equal up to rounding count as "as extreme"
    if 2 ** len(d) <= n_resamples:
        signs = 1 - 2 * ((np.arange(2 ** len(d))[:, None] >> np.arange(len(d))) & 1)
        return float(np.mean(np.abs(signs @ d) >= observed - tolerance)), "exact"
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, n_resamples, 10_000):
        signs = rng.integers(0, 2, size=(min(10_000, n_resamples - start), len(d)), dtype=np.int8) * 2 - 1
        hits += int(np.sum(np.abs(signs @ d) >= observed - tolerance))
    return float(min(1.0, (hits + 1) / (n_resamples + 1))), f"{n_resamples} random sign sets"


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
