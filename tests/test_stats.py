"""Statistics against values computed by hand or known in closed form."""
import math

import numpy as np
import pytest

from lionpoc.study import stats


def test_mcnemar_exact_on_a_hand_made_table():
    # 10 discordant images, 8 right for A only and 2 for B only:
    # p = 2 * P(X <= 2), X ~ Binomial(10, 1/2) = 2 * (1 + 10 + 45) / 1024 = 0.109375.
    a = np.array([1] * 8 + [0] * 2 + [1] * 30 + [0] * 5)
    b = np.array([0] * 8 + [1] * 2 + [1] * 30 + [0] * 5)
    result = stats.mcnemar_exact(a, b)
    assert (result["b"], result["c"]) == (8, 2)
    assert result["p_value"] == pytest.approx(0.109375)
    assert stats.mcnemar_exact(a, a)["p_value"] == 1.0


def test_mean_ci_matches_student_t():
    mean, sd, low, high = stats.mean_ci([0.80, 0.82, 0.84])
    assert mean == pytest.approx(0.82) and sd == pytest.approx(0.02)
    assert high - mean == pytest.approx(4.302653 * 0.02 / math.sqrt(3), rel=1e-5)
    assert math.isnan(stats.mean_ci([0.8])[2])


def test_ci_coverage_on_simulated_data():
    rng = np.random.default_rng(0)
    covered = 0
    for _ in range(2000):
        low, high = stats.mean_ci(rng.normal(0.85, 0.01, size=5))[2:]
        covered += low <= 0.85 <= high
    assert 0.93 <= covered / 2000 <= 0.97


def test_wilson_interval_known_value():
    # 274/326 (the 2023 study's 84 %), z = 1.96, worked by hand: centre 0.84639 / 1.011784 = 0.83653,
    # half-width 1.96 * sqrt(0.8405 * 0.1595 / 326 + 1.96**2 / (4 * 326**2)) / 1.011784 = 0.03971.
    low, high = stats.wilson_ci(274, 326)
    assert (low, high) == pytest.approx((0.79682, 0.87624), abs=2e-4)


def test_bootstrap_interval_covers_the_difference_and_shrinks_with_seeds():
    rng = np.random.default_rng(1)
    a = rng.random((3, 326)) < 0.86
    b = rng.random((3, 326)) < 0.80
    diff, low, high = stats.bootstrap_diff_ci(a, b, n_resamples=4000)
    assert low < diff < high
    assert diff == pytest.approx(a.mean() - b.mean())
    same = stats.bootstrap_diff_ci(a[0], a[0], n_resamples=500)
    assert same == (0.0, 0.0, 0.0)


def test_first_reach():
    assert stats.first_reach([0.1, 0.5, 0.96, 0.99, 1.0], 0.95) == 3
    assert stats.first_reach([0.1, 0.5, 0.96, 0.99, 1.0], 0.99) == 4


def test_sign_flip_test_when_one_image_or_none_tells_the_optimizers_apart():
    """Pretrained features: two optimizers can disagree on a single test image (or none); both signs of one
    difference are equally extreme, so p = 1 (scipy refuses a one-observation sample)."""
    a = np.ones(326)
    b = a.copy()
    assert stats.sign_flip_test(a, b) == 1.0
    b[0] = 0
    assert stats.sign_flip_test(a, b) == 1.0
    b[1] = 0
    assert stats.sign_flip_test(a, b) == pytest.approx(0.5, abs=0.01)  # 2 of the 4 sign flips are as extreme
