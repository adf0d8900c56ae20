"""The report's views of the seed-aware intervals, the detectable difference and the loss (report/resolution.py),
on a small recorded results folder (no training)."""
import re

import numpy as np
import pandas as pd
import pytest

import report_fixtures
from lionpoc.report import findings, french, load, resolution
from report_text import document

import test_stats_tables as recorded


@pytest.fixture(scope="module")
def d(tmp_path_factory):
    out = tmp_path_factory.mktemp("resolution")
    rng = np.random.default_rng(1)
    hard = (rng.random(recorded.N_TEST) < 0.3).astype(float)
    for name in recorded.ACCURACY:
        for seed in recorded.SEEDS:
            recorded.write_run(out, name, seed, rng, hard)
    (out / "study.json").write_text('{"optimizers": ["adam", "adamw", "lion"], "focus": "lion"}')
    return load(out)


def points(x):
    return french.number(100 * x, 1)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A recorded study with three seeds and two rivals (``tests/report_fixtures.py``), loaded."""
    out = tmp_path_factory.mktemp("seeded") / "results"
    return load(report_fixtures.write(out, report_fixtures.REGIMES["pretrained_noise"]))


def robustness(d) -> str:
    """The Robustesse section as its reader gets it (``index.qmd`` run on ``d``), spaces made one space."""
    text = re.sub(r"[ \n]+", " ", document(d, spaces=False))
    return text.split("# Robustesse des résultats")[1].split("# Coûts")[0]


def test_each_interval_is_named_by_what_it_lets_vary(seeded):
    text = robustness(seeded)
    row = seeded.table("pairs.csv").set_index(["a", "b"]).loc[("lion", "adam")]
    for low, high in (("ci_low", "ci_high"), ("seed_ci_low", "seed_ci_high"), ("ci2_low", "ci2_high"),
                      ("ci2_joint_low", "ci2_joint_high")):
        assert f"[{points(row[low])}\u202f;\u202f{points(row[high])}]" in text
    assert "sur les images de test" in text and "sur les graines" in text and "bootstrap à deux étages" in text
    assert "97,5\u202f%" in text and "Bonferroni" in text
    assert "Avec une seule graine" not in text


def test_what_could_have_been_detected_is_said_with_the_seeds_it_would_take(seeded):
    text = robustness(seeded)
    row = seeded.table("pairs.csv").set_index(["a", "b"]).loc[("lion", "adamw")]
    assert f"de {points(row['mdd'])}\u202f" in text and "Avec 3\u00a0graines et 150 images de test" in text
    assert "avec l'erreur type de l'intervalle sur les graines et les images de test" in text
    # at the level Holm's first step applies to the smallest of the two p
    assert row["mdd_alpha"] == 0.025 and "au seuil de 2,5\u202f%, le seuil que la méthode de Holm applique" in text
    # the seed-level test, Holm-adjusted, is reported with its p
    adam = seeded.table("pairs.csv").set_index(["a", "b"]).loc[("lion", "adam")]
    assert f"p = {french.number(adam['p_seeds_holm'], 3)} face à Adam" in text
    assert f"{int(row['n_discordant'])} face à AdamW" in text
    if not np.isnan(row["seeds_for_1_point"]):
        assert f"{int(row['seeds_for_1_point'])}\u00a0graines face à AdamW" in text
    # how much the seeds weigh, in the words of the recorded widths' ratio
    weight = findings.seed_weight(findings.recorded_focus_rows(seeded))
    said = {"same": "compte à peu près autant que", "more": "compte davantage que",
            "less": "compte moins que celle des images de test, sans être négligeable",
            "little": "compte peu à côté de"}
    assert said[weight.value] in text and sum(words in text for words in said.values()) == 1


def test_a_comparison_that_could_not_be_significant_says_so(seeded):
    pairs = seeded.computed["pairs.csv"]
    saved = pairs.copy()
    try:
        pairs.loc[(pairs["a"] == "lion") & (pairs["b"] == "adamw"), ["n_discordant", "p_min"]] = [5, 1 / 16]
        text = robustness(seeded)
        assert "Face à AdamW, le plus petit p que ce test puisse atteindre vaut 0,062" in text
        assert "ne pouvait pas être significative" in text and "Face à Adam," not in text
    finally:
        seeded.computed["pairs.csv"] = saved


def test_the_loss_is_given_and_a_loss_gap_without_an_accuracy_gap_is_named(d):
    flags = findings.regime(d).flags()
    assert flags["calibration"] and flags["calibration_seeds"]  # index.qmd's paragraph, over seeds and test images
    losses = resolution.losses(d)
    table = d.table("calibration.csv").set_index("optimizer")
    for name, label in (("adam", "Adam"), ("lion", "Lion")):
        assert f"{label} {french.number(table.loc[name, 'nll_mean'], 3)}" in losses
    assert resolution.bins(d) == "15" and "Lion " in resolution.eces(d)
    calibration, pairs = d.computed["calibration_pairs.csv"].copy(), d.computed["pairs.csv"].copy()
    try:
        nll = (d.computed["calibration_pairs.csv"]["metric"] == "nll") & (d.computed["calibration_pairs.csv"]["b"] == "adam")
        d.computed["calibration_pairs.csv"].loc[nll, ["diff", "ci2_low", "ci2_high"]] = [-0.05, -0.08, -0.02]
        acc = (d.computed["pairs.csv"]["a"] == "lion") & (d.computed["pairs.csv"]["b"] == "adam")
        d.computed["pairs.csv"].loc[acc, ["ci2_low", "ci2_high"]] = [-0.01, 0.02]
        said = resolution.loss_gaps(d)
        assert said.startswith("Face à Adam, Lion a une perte plus basse (−0,050 [−0,080\u202f;\u202f−0,020]) sans que "
                               "leur exactitude diffère")
        d.computed["pairs.csv"].loc[acc, ["ci2_low", "ci2_high"]] = [0.01, 0.02]  # accuracy differs too: no such claim
        assert resolution.loss_gaps(d) == ""
    finally:
        d.computed["calibration_pairs.csv"], d.computed["pairs.csv"] = calibration, pairs


def test_one_seed_has_only_the_images_interval(tmp_path):
    one = load(report_fixtures.write(tmp_path / "results", report_fixtures.REGIMES["smoke"]))
    text = robustness(one)
    assert "Avec une seule graine, seul l'intervalle sur les images de test existe (à 95\u202f%, en points)" in text
    assert "Chaque écart a trois intervalles" not in text and "Bonferroni" not in text
    assert "Avec une seule graine et 90 images de test" in text and "la seule variance des images" in text
    assert "demanderait" not in text and "Avec une seule graine, la part du hasard qui vient des graines" in text
    assert "C'est pourquoi le résumé" not in text


def test_nothing_is_said_without_a_comparison(tmp_path):
    rng = np.random.default_rng(3)
    recorded.write_run(tmp_path, "lion", 0, rng, np.zeros(recorded.N_TEST))
    alone = load(tmp_path)
    flags = findings.regime(alone).flags()
    assert not flags["paired"] and not flags["seed_intervals"]
    assert resolution.interval_list(alone) == "" and resolution.mdd_list(alone) == ""
    pd.testing.assert_frame_equal(alone.table("nothing.csv"), pd.DataFrame())


def test_tuning_views_draw_every_configuration_and_compare_at_a_common_budget(d):
    from lionpoc.report import tuning_views

    said = tuning_views.budget(d)
    curve = d.table("expected_best.csv")
    # the recorded grids differ in size (Lion's has 4 rates): counts differ, compared at 7 configurations
    assert "Les optimiseurs n'ont pas essayé le même nombre de configurations" in said
    assert "7 pour Adam, 7 pour AdamW et 9 pour Lion" in said and "après 7\u00a0configurations" in said
    lion = curve[(curve["optimizer"] == "lion") & (curve["n_configurations"] == 7)].iloc[0]
    assert f"Lion {french.percent(lion['expected_best_val_accuracy'], 1)}" in said
    heat = tuning_views.heatmaps(d)
    assert len(heat.axes) == 4  # three optimizers and the colour bar
    texts = [t.get_text() for t in heat.axes[2].texts]
    assert sum("(" in t for t in texts) >= 1  # the chosen cells say how many seeds chose them
    rates = tuning_views.learning_rates(d)
    assert [t.get_text() for t in rates.axes[0].get_legend().get_texts()] == ["Adam", "AdamW", "Lion"]
    assert len(tuning_views.expected_best(d).axes[0].lines) == 6  # a curve and a budget line per optimizer


def test_equal_budgets_are_said_equal(d):
    from lionpoc.report import tuning_views

    curve = d.computed["expected_best.csv"]
    saved = curve.copy()
    try:
        curve["tried_mean"] = 9.0
        assert tuning_views.budget(d).startswith("Chaque optimiseur a essayé le même nombre de configurations, 9 par")
    finally:
        d.computed["expected_best.csv"] = saved


def test_holm_p_is_the_studys_own_never_recomputed_at_render_time(d):
    """The verdict reads pairs.csv's p_holm (the aggregate step's), whatever the raw p values would give."""
    rows = findings.focus_pairs(d)
    saved = {r["b"]: r["p_holm"] for r in rows}
    assert [r["p_adjusted"] for r in rows] == [saved[r["b"]] for r in rows]
    pairs = d.pairs
    original = pairs.copy()
    try:
        focus = (pairs["a"] == "lion") & (pairs["b"] == "adam")
        pairs.loc[focus, "p_holm"] = 0.5  # as if the study had adjusted it over a larger family
        assert {r["b"]: r["p_adjusted"] for r in findings.focus_pairs(d)}["adam"] == 0.5
        pairs.loc[focus, "p_holm"] = np.nan  # a table written before Holm's p was saved: the raw p, unadjusted
        row = {r["b"]: r for r in findings.focus_pairs(d)}["adam"]
        assert row["p_adjusted"] == row["p_value"]
    finally:
        d.pairs = original


def test_a_significant_gap_whose_joint_interval_reaches_zero_says_so(seeded):
    saved = seeded.computed["pairs.csv"], seeded.pairs
    pairs = saved[0].copy()
    seeded.computed["pairs.csv"] = seeded.pairs = pairs  # the one table both views read
    try:
        lion_adamw = (pairs["a"] == "lion") & (pairs["b"] == "adamw")
        # significant by the rule (Holm p and the 95 % two-stage interval), the 97.5 % joint interval reaching zero
        pairs.loc[lion_adamw, ["diff_accuracy", "ci2_low", "ci2_high", "ci2_joint_low", "ci2_joint_high",
                               "p_value", "p_holm"]] = [0.009, 0.0006, 0.018, -0.0006, 0.020, 0.0035, 0.007]
        assert findings.verdict(findings.pair(seeded, "lion", "adamw")) == findings.Verdict.SIGNIFICANT
        caveat = str(resolution.joint_caveat(seeded))
        assert caveat.startswith("L'intervalle simultané face à AdamW contient zéro") and "Adam," not in caveat
        # the same gap with a joint interval above zero needs no caveat
        pairs.loc[lion_adamw, "ci2_joint_low"] = 0.0002
        assert str(resolution.joint_caveat(seeded)) == ""
    finally:
        seeded.computed["pairs.csv"], seeded.pairs = saved


def test_the_seed_that_carries_a_significant_gap_is_named_with_an_odd_choice(seeded):
    saved = seeded.computed["pairs.csv"], seeded.pairs, seeded.computed["pairs_by_seed.csv"], seeded.runs
    pairs, by_seed, runs = saved[0].copy(), saved[2].copy(), saved[3].copy()
    seeded.computed["pairs.csv"] = seeded.pairs = pairs
    seeded.computed["pairs_by_seed.csv"], seeded.runs = by_seed, runs
    try:
        lion_adamw = (pairs["a"] == "lion") & (pairs["b"] == "adamw")
        pairs.loc[lion_adamw, ["diff_accuracy", "ci2_low", "ci2_high", "p_value", "p_holm"]] = \
            [0.02, 0.005, 0.035, 0.001, 0.002]
        rows = (by_seed["a"] == "lion") & (by_seed["b"] == "adamw")
        seeds = by_seed.loc[rows, "seed"].tolist()
        by_seed.loc[rows, "diff_accuracy"] = [0.05] + [0.005] * (len(seeds) - 1)  # the first seed carries the gap
        adamw = runs["optimizer"] == "adamw"
        runs.loc[adamw, "val_loss"] = [0.9 if s == seeds[0] else 0.2 for s in runs.loc[adamw, "seed"]]
        text = str(resolution.seed_influence(seeded))
        mean_without = sum([0.005] * (len(seeds) - 1)) / (len(seeds) - 1)
        assert f"la graine {seeds[0]} (l'écart y vaut +5,0\u202fpoints)" in text
        assert f"sans elle, l'écart moyen vaudrait {french.points(mean_without)}" in text
        assert "AdamW a retenu une configuration à forte perte de validation (0,90, au plus 0,20" in text
        runs.loc[adamw, "val_loss"] = 0.2  # an ordinary choice: no such sentence
        assert "forte perte" not in str(resolution.seed_influence(seeded))
        # Page 1 names that seed when it is the only significant comparison, with the mean with and without it.
        assert [str(resolution.carrying(seeded, w)) for w in ("rival", "seed", "with", "without")] == \
            ["AdamW", str(seeds[0]), "+2,0\u202fpoints", french.points(mean_without)]
        assert findings.regime(seeded).seed_carries and findings.regime(seeded).seed_inflates
        # A seed that holds the gap back is still named on page 1, but the conclusion does not say it carries it.
        by_seed.loc[rows, "diff_accuracy"] = [-0.05] + [0.03] * (len(seeds) - 1)
        assert findings.regime(seeded).seed_carries and not findings.regime(seeded).seed_inflates
        # Every seed alike: no seed moves the mean, none is named, here or on page 1.
        by_seed.loc[rows, "diff_accuracy"] = 0.02
        assert str(resolution.seed_influence(seeded)) == "" and not findings.regime(seeded).seed_carries
        assert str(resolution.carrying(seeded, "seed")) == "n.d."
    finally:
        seeded.computed["pairs.csv"], seeded.pairs, seeded.computed["pairs_by_seed.csv"], seeded.runs = saved


def test_fine_tuned_trainings_whose_validation_fell_are_counted():
    from types import SimpleNamespace
    from lionpoc.report import prose
    runs = pd.DataFrame({"optimizer": ["adam", "adam", "lion", "lion", "lion"],
                         "ft_val_accuracy_before": [0.95, 0.95, 0.96, 0.96, 0.96],
                         "ft_val_accuracy": [0.94, 0.95, 0.97, 0.95, float("nan")]})  # the last one not fine-tuned
    d = SimpleNamespace(runs=runs, optimizers=["adam", "lion"])
    assert str(prose.fine_tune_val_fell(d)) == "2 des 4"
    assert str(prose.fine_tune_val_fell(SimpleNamespace(runs=runs.drop(columns="ft_val_accuracy"),
                                                        optimizers=["adam"]))) == "n.d."


def test_with_three_to_five_seeds_the_verdicts_interval_contains_students():
    pair = {"n_seeds": 3, "ci_low": -0.005, "ci_high": 0.015, "ci2_low": -0.01, "ci2_high": 0.02,
            "ci2_joint_low": -0.012, "ci2_joint_high": 0.022, "seed_ci_low": -0.03, "seed_ci_high": 0.04,
            "level": 0.95, "joint_level": 0.975}
    assert findings.bounds(pair) == pytest.approx((-0.03, 0.04))
    # the joint statement widens Student's interval to the joint level: t(0.9875, 2) / t(0.975, 2) = 6.205 / 4.303
    half = 0.035 * 6.205338 / 4.302653
    assert findings.bounds(pair, joint=True) == pytest.approx((0.005 - half, 0.005 + half), rel=1e-5)
    assert findings.bounds({**pair, "n_seeds": 10}) == (-0.01, 0.02)  # enough seeds: the bootstrap alone
    assert findings.bounds({**pair, "n_seeds": 2}) == (-0.01, 0.02)   # one degree of freedom: Student says nothing
    assert findings.bounds({**pair, "seed_ci_low": -3.0, "seed_ci_high": 2.5}) == (-1.0, 1.0)  # never beyond ±1


def test_a_fine_tuning_that_changed_nothing_is_named():
    from types import SimpleNamespace
    from lionpoc.report import prose
    runs = pd.DataFrame({"optimizer": ["adam", "lion"], "seed": [2, 2], "ft_learning_rate": [1e-5, 3.1633e-7],
                         "test_accuracy": [0.9723926380368099, 0.9723926380368099],
                         "ft_test_accuracy": [0.9601227, 0.972392638],  # float32-rounded as the metrics hold it
                         "ft_val_accuracy_before": [0.954, 0.9601227045], "ft_val_accuracy": [0.948, 0.9601227045]})
    d = SimpleNamespace(runs=runs, optimizers=["adam", "lion"], label={"adam": "Adam", "lion": "Lion"}.get)
    text = str(prose.fine_tune_unchanged(d))
    assert text.startswith("L'ajustement fin n'a rien changé pour Lion (graine 2, η = ") and "Adam" not in text
    assert str(prose.fine_tune_unchanged(SimpleNamespace(runs=runs.iloc[:1], optimizers=["adam"],
                                                         label=d.label))) == ""


def test_fine_tuned_trainings_at_the_low_edge_of_their_grid_are_counted(tmp_path):
    from types import SimpleNamespace
    from lionpoc.report import prose
    rows = []
    for name, chosen in (("adam", 1e-5), ("lion", 1e-5), ("lion", 3.16e-7)):
        run = tmp_path / f"{name}-{len(rows)}"
        run.mkdir()
        head = chosen * 30 if len(rows) != 1 else 3e-5  # lion's first run chose the middle rate of 1e-6, 1e-5, 3e-5
        tried = [head / 30, head / 10, head * 3 / 10] if len(rows) != 1 else [1e-6 * 3.3333, 1e-5, 3e-5]
        pd.DataFrame({"learning_rate": tried}).to_csv(run / "fine_tune_tuning.csv", index=False)
        rows.append({"optimizer": name, "ft_learning_rate": chosen, "path": str(run)})
    d = SimpleNamespace(runs=pd.DataFrame(rows), optimizers=["adam", "lion"])
    assert findings.fine_tune_edges(d) == (2, 3)
    assert str(prose.fine_tune_edge_count(d)) == "2 des 3"
