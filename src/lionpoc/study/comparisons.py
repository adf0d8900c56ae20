"""Paired comparisons of optimizers on the same seeds and test images: accuracy, loss and calibration.

For each pair (oriented focus − rival when the study has a focus), on the seeds both ran:
- the difference, with three intervals that each say what they let vary (``resampling.COVERS``): over the
  test images (the heads held fixed; scipy's percentile bootstrap), over the seeds (Student's t on the
  per-seed differences, the images held fixed) and over both (the two-stage bootstrap), the last also at
  Bonferroni's level for the family, so that a statement about every rival at once holds at 95 % jointly;
- the test: for accuracy, the exact sign-flip test on the per-image, seed-summed integer differences
  (``stats.sign_flip_test``; a zero difference gives p = 1), Holm-adjusted within its family (the focus's
  pairs; the other pairs form a second family); for the loss, scipy's sign-flip permutation test on the
  seed-averaged per-image loss differences; for the calibration error, no test (an interval only);
- resolution and power: images that differ (``n_discordant``), the smallest p the exact test can reach,
  the variance components and the minimum detectable difference at 80 % power (``power``), computed with the
  two-stage interval's own standard error and at the level Holm's first step applies in the family
  (``mdd_alpha``: 0.05 / family size), so that it is the difference the verdict itself would detect.
"""
from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats as sp

from lionpoc.study import power
from lionpoc.study import predictions
from lionpoc.study import resampling
from lionpoc.study import stats
from lionpoc.study.resampling import COVERS, Draws

LEVEL = resampling.LEVEL
PERMUTATIONS = 20_000    # random sign sets of the loss test when an exact enumeration is too long (p's Monte Carlo
                         # standard error at p = 0.05: 0.0015)
POWER_SEEDS = 20         # the power table goes up to this many seeds (or the study's, if more)
FEW_SEEDS = 5            # up to this many seeds the MDD uses the larger of the bootstrap's and Student's errors

PAIR_COLUMNS = ["a", "b", "family", "n_seeds", "n_test", "diff_accuracy", "ci_low", "ci_high", "ci_covers",
                "seed_ci_low", "seed_ci_high", "seed_ci_covers", "ci2_low", "ci2_high", "ci2_covers", "se2", "mdd_se",
                "ci2_joint_low", "ci2_joint_high", "joint_level", "level", "p_value", "p_method", "p_holm",
                "p_seeds", "p_seeds_holm", "n_discordant", "p_min", "mdd", "mdd_images", "mdd_floor", "mdd_alpha", "seeds_for_1_point",
                "var_seed", "var_image", "var_residual", "seed_diff_sd", "only_a_mean", "only_b_mean",
                "p_mcnemar_min", "p_mcnemar_max", "significant_seeds", "n_resamples"]
PAIR_SEED_COLUMNS = ["a", "b", "seed", "diff_accuracy", "only_a", "only_b", "p_mcnemar"]
INTERVAL_COLUMNS = ["a", "b", "metric", "kind", "covers", "level", "joint", "diff", "low", "high"]
POWER_COLUMNS = ["a", "b", "metric", "n_seeds", "n_test", "mdd", "observed"]
CALIBRATION_COLUMNS = ["optimizer", "n_seeds", "n_test", "bins", "accuracy_mean", "confidence_mean", "nll_mean",
                       "nll_sd", "nll_ci_low", "nll_ci_high", "ece_mean", "ece_sd", "ece_ci_low", "ece_ci_high",
                       "ci_covers", "kernel_norm_mean", "kernel_norm_sd"]
CALIBRATION_PAIR_COLUMNS = ["a", "b", "family", "metric", "n_seeds", "n_test", "diff", "ci_low", "ci_high",
                            "ci_covers", "seed_ci_low", "seed_ci_high", "seed_ci_covers", "ci2_low", "ci2_high",
                            "ci2_covers", "ci2_joint_low", "ci2_joint_high", "joint_level", "level", "p_value",
                            "p_method", "p_holm", "mdd", "mdd_images"]


def oriented_pairs(names: list[str], focus: str | None) -> list[tuple[str, str, str]]:
    """Every pair of ``names`` as (a, b, family): the focus's pairs as (focus, rival) in family "focus", the
    others in family "others" (without a focus, every pair in family "all")."""
    out = []
    for a, b in combinations(names, 2):
        if focus in (a, b):
            out.append((focus, b if a == focus else a, "focus"))
        else:
            out.append((a, b, "others" if focus in names else "all"))
    return out


def _seed_interval(per_seed) -> tuple[float, float, float]:
    """(sd, low, high) of the per-seed differences' mean (Student's t; NaN with one seed)."""
    _, sd, low, high = stats.mean_ci(per_seed, LEVEL)
    return sd, low, high


def _holm_by_family(rows: list[dict], key: str = "p_value", group=("family",), out: str = "p_holm") -> None:
    families: dict = {}
    for i, row in enumerate(rows):
        if not math.isnan(row[key]):
            families.setdefault(tuple(row[g] for g in group), []).append(i)
    for row in rows:
        row[out] = math.nan
    for members in families.values():
        for i, adjusted in zip(members, stats.holm([rows[i][key] for i in members])):
            rows[i][out] = adjusted


def _family_sizes(pairs: list[tuple[str, str, str]]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for _, _, family in pairs:
        sizes[family] = sizes.get(family, 0) + 1
    return sizes


def _intervals(a, b, metric, diff, image, seed, two_stage, joint, joint_level) -> list[dict]:
    rows = [{"a": a, "b": b, "metric": metric, "kind": "images", "covers": COVERS["images"], "level": LEVEL,
             "joint": False, "diff": diff, "low": image[0], "high": image[1]},
            {"a": a, "b": b, "metric": metric, "kind": "seeds", "covers": COVERS["seeds"], "level": LEVEL,
             "joint": False, "diff": diff, "low": seed[0], "high": seed[1]},
            {"a": a, "b": b, "metric": metric, "kind": "seeds_and_images", "covers": COVERS["seeds_and_images"],
             "level": LEVEL, "joint": False, "diff": diff, "low": two_stage[0], "high": two_stage[1]}]
    if joint is not None:
        rows.append({"a": a, "b": b, "metric": metric, "kind": "seeds_and_images",
                     "covers": COVERS["seeds_and_images"], "level": joint_level, "joint": True, "diff": diff,
                     "low": joint[0], "high": joint[1]})
    return rows


def _power_rows(a, b, metric, c: power.Components, alpha: float = power.ALPHA) -> list[dict]:
    if c.n_seeds < 2:
        return []
    return [{"a": a, "b": b, "metric": metric, "n_seeds": k, "n_test": c.n_images,
             "mdd": power.mdd(c, k, alpha=alpha), "observed": k == c.n_seeds}
            for k in range(2, max(POWER_SEEDS, c.n_seeds) + 1)]


def accuracy_pairs(runs: pd.DataFrame, focus: str | None = None, file: str = "predictions.csv",
                   n_resamples: int = resampling.RESAMPLES) -> dict[str, pd.DataFrame]:
    """The accuracy comparisons: ``pairs`` (one row per pair, ``PAIR_COLUMNS``), ``by_seed`` (McNemar per
    seed), ``intervals`` (every interval with what it covers) and ``power`` (MDD by number of seeds)."""
    names = list(dict.fromkeys(runs["optimizer"])) if len(runs) else []
    pairs = oriented_pairs(names, focus)
    sizes = _family_sizes(pairs)
    rows, by_seed, intervals, powers = [], [], [], []
    for a, b, family in pairs:
        ca, cb = predictions.per_image(runs, a, "correct", file), predictions.per_image(runs, b, "correct", file)
        seeds = sorted(set(ca.columns) & set(cb.columns))
        if not seeds or not ca.index.equals(cb.index):
            continue
        xa = ca[seeds].T.to_numpy().astype(np.int64)
        xb = cb[seeds].T.to_numpy().astype(np.int64)
        d = xa - xb
        k, n = d.shape
        diff = float(d.mean())
        _, low, high = stats.bootstrap_diff_ci(xa, xb, n_resamples)
        per_seed = d.mean(axis=1)
        sd, seed_low, seed_high = _seed_interval(per_seed)
        level_joint = resampling.joint_level(LEVEL, sizes[family])
        if k >= 2:
            replicates = resampling.replicate_means(d, resampling.draws(k, n, n_resamples))
            two_stage = resampling.percentile_interval(replicates, LEVEL)
            joint = resampling.percentile_interval(replicates, level_joint)
            se2 = float(replicates.std(ddof=1))
        else:
            two_stage, joint, se2 = (math.nan, math.nan), (math.nan, math.nan), math.nan
        t = stats.seed_summed_difference(xa, xb)
        discordant = int(np.count_nonzero(t))
        # With few seeds the bootstrap understates the seeds' part; the report then widens the verdict's interval
        # to Student's over the seeds (report.findings.bounds), and the MDD takes the larger standard error.
        se_power = se2
        if 3 <= k <= FEW_SEEDS and not math.isnan(seed_low):
            se_power = max(se2, (seed_high - seed_low) / (2 * sp.norm.ppf(0.5 + LEVEL / 2)))
        c = power.matched(power.components(d), se_power) if n >= 2 else None
        alpha = power.family_alpha(sizes[family])
        tests = []
        for s in seeds:
            test = stats.mcnemar_exact(ca[s], cb[s])
            tests.append(test)
            by_seed.append({"a": a, "b": b, "seed": s, "diff_accuracy": float(ca[s].mean() - cb[s].mean()),
                            "only_a": test["b"], "only_b": test["c"], "p_mcnemar": test["p_value"]})
        rows.append({
            "a": a, "b": b, "family": family, "n_seeds": k, "n_test": n, "diff_accuracy": diff,
            "ci_low": low, "ci_high": high, "ci_covers": COVERS["images"],
            "seed_ci_low": seed_low, "seed_ci_high": seed_high, "seed_ci_covers": COVERS["seeds"],
            "ci2_low": two_stage[0], "ci2_high": two_stage[1], "ci2_covers": COVERS["seeds_and_images"], "se2": se2, "mdd_se": se_power,
            "ci2_joint_low": joint[0], "ci2_joint_high": joint[1], "joint_level": level_joint, "level": LEVEL,
            "p_value": stats.sign_flip_test(xa, xb), "p_method": "exact sign-flip (all 2^m sign sets)",
            "p_seeds": _seed_p(per_seed), "n_discordant": discordant, "p_min": stats.smallest_sign_flip_p(discordant),
            "mdd": power.mdd(c, alpha=alpha) if c and k >= 2 else math.nan,
            "mdd_images": power.mdd_images(c, alpha) if c else math.nan,
            "mdd_floor": power.mdd_floor(c, alpha) if c else math.nan, "mdd_alpha": alpha,
            "seeds_for_1_point": power.seeds_needed(c, alpha=alpha) if c else math.nan,
            "var_seed": c.var_seed if c else math.nan, "var_image": c.var_image if c else math.nan,
            "var_residual": c.var_residual if c else math.nan, "seed_diff_sd": sd,
            "only_a_mean": float(np.mean([x["b"] for x in tests])), "only_b_mean": float(np.mean([x["c"] for x in tests])),
            "p_mcnemar_min": min(x["p_value"] for x in tests), "p_mcnemar_max": max(x["p_value"] for x in tests),
            "significant_seeds": sum(x["p_value"] < 0.05 for x in tests), "n_resamples": n_resamples})
        intervals += _intervals(a, b, "accuracy", diff, (low, high), (seed_low, seed_high), two_stage,
                                joint if sizes[family] > 1 else None, level_joint)
        if c:
            powers += _power_rows(a, b, "accuracy", c, alpha)
    _holm_by_family(rows)
    _holm_by_family(rows, key="p_seeds", out="p_seeds_holm")
    return {"pairs": pd.DataFrame(rows, columns=PAIR_COLUMNS), "by_seed": pd.DataFrame(by_seed, columns=PAIR_SEED_COLUMNS),
            "intervals": pd.DataFrame(intervals, columns=INTERVAL_COLUMNS),
            "power": pd.DataFrame(powers, columns=POWER_COLUMNS)}


def _seed_p(per_seed) -> float:
    """Student's one-sample t-test of the per-seed differences (NaN with one seed or no spread, unless all are 0)."""
    x = np.asarray(per_seed, dtype=float)
    if np.all(x == 0):
        return 1.0
    if len(x) < 2 or np.all(x == x[0]):
        return math.nan
    return float(sp.ttest_1samp(x, 0.0).pvalue)


def calibration(runs: pd.DataFrame, file: str = "predictions.csv", n_resamples: int = resampling.RESAMPLES,
                norm_column: str | None = "head_kernel_norm") -> pd.DataFrame:
    """Per optimizer: mean test loss (NLL) and ECE over its seeds, with their two-stage intervals, and the
    chosen heads' kernel norm (``CALIBRATION_COLUMNS``); the loss is NaN for runs that did not record
    ``p_true``, the norm when ``norm_column`` is None or the runs did not record it."""
    with_loss = predictions.has_column(runs, "p_true", file)
    rows = []
    for name in dict.fromkeys(runs["optimizer"]):
        correct = predictions.per_image(runs, name, "correct", file).T.to_numpy(float)
        confidence = predictions.per_image(runs, name, "confidence", file).T.to_numpy(float)
        k, n = correct.shape
        d = resampling.draws(k, n, n_resamples)
        per_seed_ece = [predictions.ece(confidence[s], correct[s]) for s in range(k)]
        ece_reps = resampling.replicate_per_seed(predictions.ece_replicates(confidence, correct, d), d)
        row = {"optimizer": name, "n_seeds": k, "n_test": n, "bins": predictions.BINS,
               "accuracy_mean": float(correct.mean()), "confidence_mean": float(confidence.mean()),
               "nll_mean": math.nan, "nll_sd": math.nan, "nll_ci_low": math.nan, "nll_ci_high": math.nan,
               "ece_mean": float(np.mean(per_seed_ece)),
               "ece_sd": float(np.std(per_seed_ece, ddof=1)) if k > 1 else math.nan,
               "ci_covers": COVERS["seeds_and_images"] if k > 1 else COVERS["images"]}
        row["ece_ci_low"], row["ece_ci_high"] = resampling.percentile_interval(ece_reps)
        norms = (runs.loc[runs["optimizer"] == name, norm_column] if norm_column in runs
                 else pd.Series(dtype=float))
        row["kernel_norm_mean"] = float(norms.mean()) if norms.notna().any() else math.nan
        row["kernel_norm_sd"] = float(norms.std(ddof=1)) if norms.notna().sum() > 1 else math.nan
        if with_loss:
            loss = predictions.image_loss(predictions.per_image(runs, name, "p_true", file).T.to_numpy(float))
            row.update({"nll_mean": float(loss.mean()),
                        "nll_sd": float(loss.mean(axis=1).std(ddof=1)) if k > 1 else math.nan})
            row["nll_ci_low"], row["nll_ci_high"] = resampling.percentile_interval(resampling.replicate_means(loss, d))
        rows.append(row)
    return pd.DataFrame(rows, columns=CALIBRATION_COLUMNS)


def calibration_pairs(runs: pd.DataFrame, focus: str | None = None, file: str = "predictions.csv",
                      n_resamples: int = resampling.RESAMPLES) -> dict[str, pd.DataFrame]:
    """Paired differences of test loss (NLL) and calibration error (ECE): ``pairs``
    (``CALIBRATION_PAIR_COLUMNS``), ``intervals`` and ``power`` (loss only), as for accuracy."""
    names = list(dict.fromkeys(runs["optimizer"])) if len(runs) else []
    pairs = oriented_pairs(names, focus)
    sizes = _family_sizes(pairs)
    with_loss = predictions.has_column(runs, "p_true", file)
    rows, intervals, powers = [], [], []
    ece_cache: dict = {}  # (optimizer, seeds) -> replicates x seeds: each optimizer's ECE replicates once
    for a, b, family in pairs:
        frames = {name: {c: predictions.per_image(runs, name, c, file) for c in
                         ("correct", "confidence") + (("p_true",) if with_loss else ())} for name in (a, b)}
        seeds = sorted(set(frames[a]["correct"].columns) & set(frames[b]["correct"].columns))
        if not seeds or not frames[a]["correct"].index.equals(frames[b]["correct"].index):
            continue
        get = lambda name, c: frames[name][c][seeds].T.to_numpy(float)  # noqa: E731
        k, n = len(seeds), len(frames[a]["correct"])
        d = resampling.draws(k, n, n_resamples)
        fixed_seeds = Draws(np.ones(d.seeds.shape), d.images)
        level_joint = resampling.joint_level(LEVEL, sizes[family])
        base = {"a": a, "b": b, "family": family, "n_seeds": k, "n_test": n, "level": LEVEL,
                "joint_level": level_joint, "ci_covers": COVERS["images"], "seed_ci_covers": COVERS["seeds"],
                "ci2_covers": COVERS["seeds_and_images"]}
        measured = []
        if with_loss:
            diff_table = predictions.image_loss(get(a, "p_true")) - predictions.image_loss(get(b, "p_true"))
            p, how = stats.mean_sign_flip_test(diff_table.mean(axis=0), PERMUTATIONS)
            two_stage_reps = resampling.replicate_means(diff_table, d)
            alpha = power.family_alpha(sizes[family])
            c = power.matched(power.components(diff_table),
                              float(two_stage_reps.std(ddof=1)) if k > 1 else math.nan)
            measured.append(("nll", diff_table.mean(axis=1), resampling.replicate_means(diff_table, fixed_seeds),
                             two_stage_reps, p, f"sign-flip, {how}",
                             power.mdd(c, alpha=alpha) if k > 1 else math.nan, power.mdd_images(c, alpha)))
            powers += _power_rows(a, b, "nll", c, alpha)
        for name in (a, b):
            if (name, tuple(seeds)) not in ece_cache:
                ece_cache[(name, tuple(seeds))] = predictions.ece_replicates(get(name, "confidence"),
                                                                             get(name, "correct"), d)
        ece_a, ece_b = ece_cache[(a, tuple(seeds))], ece_cache[(b, tuple(seeds))]
        per_seed = np.array([predictions.ece(get(a, "confidence")[s], get(a, "correct")[s])
                             - predictions.ece(get(b, "confidence")[s], get(b, "correct")[s]) for s in range(k)])
        measured.append(("ece", per_seed, resampling.replicate_per_seed(ece_a - ece_b, fixed_seeds),
                         resampling.replicate_per_seed(ece_a - ece_b, d), math.nan, "none (interval only)",
                         math.nan, math.nan))
        for metric, per_seed_diff, image_reps, two_stage_reps, p, how, mdd, mdd_images in measured:
            diff = float(np.mean(per_seed_diff))
            _, seed_low, seed_high = _seed_interval(per_seed_diff)
            image = resampling.percentile_interval(image_reps)
            two_stage = resampling.percentile_interval(two_stage_reps) if k > 1 else (math.nan, math.nan)
            joint = resampling.percentile_interval(two_stage_reps, level_joint) if k > 1 else (math.nan, math.nan)
            rows.append({**base, "metric": metric, "diff": diff, "ci_low": image[0], "ci_high": image[1],
                         "seed_ci_low": seed_low, "seed_ci_high": seed_high, "ci2_low": two_stage[0],
                         "ci2_high": two_stage[1], "ci2_joint_low": joint[0], "ci2_joint_high": joint[1],
                         "p_value": p, "p_method": how, "mdd": mdd, "mdd_images": mdd_images})
            intervals += _intervals(a, b, metric, diff, image, (seed_low, seed_high), two_stage,
                                    joint if sizes[family] > 1 else None, level_joint)
    _holm_by_family(rows, group=("metric", "family"))
    return {"pairs": pd.DataFrame(rows, columns=CALIBRATION_PAIR_COLUMNS),
            "intervals": pd.DataFrame(intervals, columns=INTERVAL_COLUMNS),
            "power": pd.DataFrame(powers, columns=POWER_COLUMNS)}
