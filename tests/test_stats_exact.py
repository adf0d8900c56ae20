"""The exact sign-flip test, its resolution, the two-stage bootstrap and the power computations, on numbers
that can be checked by hand or by brute force."""
import itertools
import math

import numpy as np
import pytest
from scipy import stats as sp

from lionpoc.study import power, predictions, resampling, stats, tuning


def enumerate_p(t):
    t = np.asarray(t)
    nonzero = np.abs(t[t != 0])
    observed = abs(int(t.sum()))
    sums = [abs(int(np.dot(signs, nonzero))) for signs in itertools.product((-1, 1), repeat=len(nonzero))]
    return sum(s >= observed for s in sums) / len(sums)


def outcomes_from_t(t, seeds=3):
    """0/1 seeds x images tables whose per-image seed-summed difference is ``t``."""
    a = np.zeros((seeds, len(t)), dtype=int)
    b = np.zeros((seeds, len(t)), dtype=int)
    for i, v in enumerate(t):
        if v > 0:
            a[:v, i] = 1
        else:
            b[:-v, i] = 1
    return a, b


@pytest.mark.parametrize("t", [[1, 1, 1, -1, 2, 3, -2, 1], [3, 3, 3, 1, 1, 1, 1, 1, 1, 1], [1, -1, 2, 0, 0, 1, 1]])
def test_the_exact_test_equals_enumerating_every_sign_set(t):
    a, b = outcomes_from_t(t)
    assert stats.sign_flip_test(a, b) == pytest.approx(enumerate_p(t), abs=1e-12)


def test_equal_correct_counts_give_p_one_exactly():
    """Adam and AdamW with the same number of correct answers on different images: the seed-averaged
    differences are ±1/3 and ±2/3, whose float sum is not exactly 0; the integer sum is, so p = 1."""
    t = [-3, -2, 3, -3, -2, 3, -3, -1, 1, -1, -1, -3, -3, 1, 2, 3, 1, 3, 1, 2, 3, -1, 2, -1, -1, 0, 0]
    a, b = outcomes_from_t(t)
    assert a.sum() == b.sum()
    assert stats.sign_flip_test(a, b) == 1.0
    means = (a.mean(axis=0) - b.mean(axis=0))
    old = sp.permutation_test((means[means != 0],), lambda x, axis: np.mean(x, axis=axis), permutation_type="samples",
                              vectorized=True, n_resamples=100_000, rng=np.random.default_rng(0)).pvalue
    assert old < 0.99  # what the float statistic of the means gave (5.6e-17, not 0): the artefact fixed here


def test_one_seed_is_mcnemars_exact_test():
    rng = np.random.default_rng(3)
    a = (rng.random(326) < 0.9).astype(int)
    b = (rng.random(326) < 0.86).astype(int)
    assert stats.sign_flip_test(a, b) == pytest.approx(stats.mcnemar_exact(a, b)["p_value"], abs=1e-12)


def test_smallest_reachable_p_is_reached_by_a_unanimous_result():
    assert stats.smallest_sign_flip_p(7) == 1 / 64 and stats.smallest_sign_flip_p(5) == 1 / 16
    assert stats.smallest_sign_flip_p(0) == 1.0
    a, b = outcomes_from_t([1] * 7)
    assert stats.sign_flip_test(a, b) == pytest.approx(1 / 64, abs=1e-15)
    a, b = outcomes_from_t([1] * 4 + [-1])  # 5 discordant images, 4 one way: not significant, and could not be
    assert stats.sign_flip_test(a, b) == pytest.approx(12 / 32, abs=1e-15)


def test_outcomes_other_than_zero_and_one_are_refused():
    with pytest.raises(ValueError, match="0 .wrong. or 1"):
        stats.sign_flip_test(np.array([0.5, 1]), np.array([1, 1]))


def test_loss_sign_flip_uses_scipy_exactly_when_it_can():
    d = np.array([0.3, -0.1, 0.25, 0.4, 0.05, -0.2])
    p, how = stats.mean_sign_flip_test(d)
    sums = [abs(np.dot(s, d)) for s in itertools.product((-1, 1), repeat=len(d))]
    assert how == "exact"
    assert p == pytest.approx(sum(x >= abs(d.sum()) - 1e-12 for x in sums) / len(sums), abs=1e-12)
    assert stats.mean_sign_flip_test(np.zeros(5)) == (1.0, "exact")


@pytest.mark.parametrize("shift", [0.0, 0.03, 0.08])
def test_loss_sign_flip_agrees_with_scipys_permutation_test(shift):
    d = np.random.default_rng(2).normal(shift, 0.3, 200)
    p, how = stats.mean_sign_flip_test(d, 20_000)
    reference = sp.permutation_test((d,), lambda x, axis: np.sum(x, axis=axis), permutation_type="samples",
                                    vectorized=True, n_resamples=20_000, rng=np.random.default_rng(1)).pvalue
    assert how == "20000 random sign sets"
    assert p == pytest.approx(reference, abs=max(0.006, 0.1 * reference))


# ------------------------------------------------------------------ variance components, two-stage bootstrap
def crossed(k, n, mu, sd_seed, sd_image, sd_res, seed=0):
    rng = np.random.default_rng(seed)
    return (mu + rng.normal(0, sd_seed, (k, 1)) + rng.normal(0, sd_image, (1, n))
            + rng.normal(0, sd_res, (k, n)))


def test_variance_components_recover_a_known_design():
    c = power.components(crossed(60, 3000, 0.01, 0.02, 0.3, 0.2))
    assert c.var_seed == pytest.approx(0.02 ** 2, rel=0.35)
    assert c.var_image == pytest.approx(0.3 ** 2, rel=0.05)
    assert c.var_residual == pytest.approx(0.2 ** 2, rel=0.02)


def test_two_stage_bootstrap_spread_matches_the_components_and_exceeds_the_images_alone():
    table = crossed(10, 326, 0.0, 0.04, 0.15, 0.1, seed=1)
    d = resampling.draws(10, 326, 4000)
    replicates = resampling.replicate_means(table, d)
    c = power.components(table)
    assert replicates.std() == pytest.approx(math.sqrt(c.variance()), rel=0.15)
    images_only = resampling.replicate_means(table, resampling.Draws(np.ones_like(d.seeds), d.images))
    assert replicates.std() > 1.4 * images_only.std()
    assert images_only.std() == pytest.approx(math.sqrt(c.image_variance()), rel=0.15)
    again = resampling.replicate_means(table, resampling.draws(10, 326, 4000))
    assert np.array_equal(replicates, again)  # same seed, same numbers


def test_bonferroni_level_for_a_family():
    assert resampling.joint_level(0.95, 2) == pytest.approx(0.975)
    assert resampling.joint_level(0.95, 1) == pytest.approx(0.95)


def test_minimum_detectable_difference_and_seeds_needed():
    assert power.z_sum() == pytest.approx(1.959964 + 0.841621, abs=1e-5)
    c = power.Components(10, 326, var_seed=4e-5, var_image=0.002, var_residual=0.02)
    se = math.sqrt(4e-5 / 10 + 0.002 / 326 + 0.02 / 3260)
    assert power.mdd(c) == pytest.approx(power.z_sum() * se)
    k = power.seeds_needed(c, 0.01)
    assert power.mdd(c, int(k)) <= 0.01 < power.mdd(c, int(k) - 1)
    assert power.mdd_floor(c) < power.mdd(c, 1000)
    assert math.isnan(power.seeds_needed(c, power.mdd_floor(c) * 0.99))  # below the images' floor: out of reach


def test_mdd_means_80_percent_power_by_simulation():
    """Studies whose true difference is the MDD are found significant (two-sided z-test at 0.05 on the mean,
    with the design's true standard error) about 80 % of the time."""
    c = power.Components(5, 300, var_seed=1e-4, var_image=0.01, var_residual=0.02)
    delta = power.mdd(c)
    rng = np.random.default_rng(5)
    se = math.sqrt(c.variance())
    hits = 0
    for _ in range(600):
        table = (delta + rng.normal(0, 0.01, (5, 1)) + rng.normal(0, 0.1, (1, 300))
                 + rng.normal(0, math.sqrt(0.02), (5, 300)))
        hits += abs(table.mean() / se) > 1.959964
    assert hits / 600 == pytest.approx(0.80, abs=0.05)


# ------------------------------------------------------------------ loss, calibration, expected best
def test_image_loss_and_ece_by_hand():
    assert predictions.image_loss([0.5, 1.0, 0.0]) == pytest.approx([math.log(2), 0.0, -math.log(1e-12)])
    confidence = [0.95, 0.95, 0.95, 0.95, 0.5, 0.5]
    correct = [1, 1, 1, 0, 1, 1]
    # bin (14/15, 1]: 4 images, confidence 0.95, accuracy 0.75; bin (7/15, 8/15]: 2 images, 0.5 vs 1.0
    assert predictions.ece(confidence, correct) == pytest.approx((4 * 0.20 + 2 * 0.5) / 6)
    assert predictions.bin_index([0.0, 1 / 15, 1 / 15 + 1e-9, 1.0]).tolist() == [0, 0, 1, 14]


def test_calibrated_predictions_have_small_ece():
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.3, 1.0, 20_000)
    correct = (rng.random(20_000) < confidence).astype(int)
    assert predictions.ece(confidence, correct) < 0.015
    assert predictions.ece(np.full(1000, 0.99), np.r_[np.ones(800), np.zeros(200)]) == pytest.approx(0.19)


def test_expected_best_of_n_draws_by_enumeration():
    values = [0.80, 0.90, 0.85, 0.70]
    curve = tuning.expected_max(values, 6)
    for n in (1, 2, 3):
        draws = list(itertools.product(values, repeat=n))
        assert curve[n - 1] == pytest.approx(np.mean([max(d) for d in draws]), abs=1e-12)
    assert curve[0] == pytest.approx(np.mean(values))
    assert np.all(np.diff(curve) >= 0) and curve[-1] < max(values)


def test_two_stage_interval_covers_the_true_difference_at_about_its_level():
    """Studies drawn from a crossed design with a known mean (seed, image and residual variance): the two-stage
    interval holds the true mean in about 95 % of them, the image-only interval in far fewer (it leaves the
    seeds' variance out)."""
    k, n, mu = 5, 200, 0.01
    d = resampling.draws(k, n, 1000)
    fixed = resampling.Draws(np.ones(d.seeds.shape), d.images)
    two_stage = images_only = 0
    studies = 300
    for i in range(studies):
        table = crossed(k, n, mu, 0.03, 0.15, 0.2, seed=100 + i)
        low, high = resampling.percentile_interval(resampling.replicate_means(table, d))
        two_stage += low <= mu <= high
        low, high = resampling.percentile_interval(resampling.replicate_means(table, fixed))
        images_only += low <= mu <= high
    assert 0.90 <= two_stage / studies <= 0.995
    assert images_only / studies < 0.85


def test_matched_components_give_the_verdicts_standard_error_and_keep_their_shares():
    c = power.Components(10, 300, var_seed=2e-4, var_image=3e-2, var_residual=6e-2)
    m = power.matched(c, se=0.006)
    assert math.sqrt(m.variance()) == pytest.approx(0.006)
    assert m.var_seed / m.var_image == pytest.approx(c.var_seed / c.var_image)
    # Holm's first step in a family of two tests at 0.025: a wider MDD than at 0.05
    assert power.mdd(m, alpha=power.family_alpha(2)) == pytest.approx((2.241403 + 0.841621) * 0.006, rel=1e-5)
    assert power.matched(c, math.nan) is c
