"""The statistics now come from scipy.stats; these are the hand-written versions they replaced, kept as
references: on fixed seeds, scipy's bootstrap, permutation test and Wilson interval give the same values
(within the Monte Carlo noise of 10,000 resamples for the resampled ones, exactly for Wilson)."""
import math

import numpy as np
import pytest
from scipy import stats as sp

from lionpoc.study import stats


def old_wilson(successes, n, level=0.95):
    z = sp.norm.ppf(0.5 + level / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def old_bootstrap_diff(a, b, n_resamples=10_000, level=0.95, seed=0):
    diff = np.atleast_2d(a).mean(axis=0) - np.atleast_2d(b).mean(axis=0)
    idx = np.random.default_rng(seed).integers(0, len(diff), size=(n_resamples, len(diff)))
    low, high = np.quantile(diff[idx].mean(axis=1), [(1 - level) / 2, (1 + level) / 2])
    return float(diff.mean()), float(low), float(high)


def old_sign_flip(a, b, n_resamples=100_000, seed=0):
    diff = np.atleast_2d(a).mean(axis=0) - np.atleast_2d(b).mean(axis=0)
    diff = diff[diff != 0]
    if len(diff) == 0:
        return 1.0
    rng = np.random.default_rng(seed)
    signs = rng.integers(0, 2, size=(n_resamples, len(diff))) * 2 - 1
    return (int(np.sum(np.abs(signs @ diff) >= abs(diff.sum()) - 1e-12)) + 1) / (n_resamples + 1)


def paired_outcomes(seed, p_a, p_b, seeds=3, n=326):
    rng = np.random.default_rng(seed)
    return (rng.random((seeds, n)) < p_a).astype(float), (rng.random((seeds, n)) < p_b).astype(float)


@pytest.mark.parametrize("k, n", [(274, 326), (0, 30), (30, 30), (17, 90)])
def test_wilson_from_scipy_equals_the_hand_written_formula(k, n):
    assert stats.wilson_ci(k, n) == pytest.approx(old_wilson(k, n), abs=1e-9)


@pytest.mark.parametrize("seed, p_a, p_b", [(0, 0.86, 0.80), (1, 0.95, 0.95), (2, 0.40, 0.38)])
def test_bootstrap_from_scipy_agrees_with_the_hand_written_one(seed, p_a, p_b):
    a, b = paired_outcomes(seed, p_a, p_b)
    new, old = stats.bootstrap_diff_ci(a, b), old_bootstrap_diff(a, b)
    assert new[0] == pytest.approx(old[0], abs=1e-12)           # the difference itself is exact
    assert new[1:] == pytest.approx(old[1:], abs=0.004)         # bounds: within the resampling noise
    low, high = stats.bootstrap_mean_ci(a)
    per_image = a.mean(axis=0)
    idx = np.random.default_rng(0).integers(0, len(per_image), size=(10_000, len(per_image)))
    old_low, old_high = np.quantile(per_image[idx].mean(axis=1), [0.025, 0.975])
    assert (low, high) == pytest.approx((old_low, old_high), abs=0.004)


@pytest.mark.parametrize("seed, p_a, p_b", [(0, 0.86, 0.80), (3, 0.90, 0.88), (4, 0.60, 0.60)])
def test_permutation_test_from_scipy_agrees_with_the_hand_written_sign_flip(seed, p_a, p_b):
    a, b = paired_outcomes(seed, p_a, p_b)
    new, old = stats.sign_flip_test(a, b), old_sign_flip(a, b)
    assert new == pytest.approx(old, abs=max(0.01, 0.05 * old))


def test_degenerate_cases_keep_their_meaning():
    a = np.ones((2, 50))
    assert stats.bootstrap_diff_ci(a, a) == (0.0, 0.0, 0.0)   # identical predictions: no difference, no spread
    assert stats.sign_flip_test(a, a) == 1.0
    assert stats.bootstrap_mean_ci(a) == (1.0, 1.0)           # every image right in every seed
