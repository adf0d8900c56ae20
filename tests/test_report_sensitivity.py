"""The report's tuning-budget and sensitivity parts: each rule's branches, and the sentences they build."""
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from lionpoc import files
from lionpoc.report import load
from lionpoc.report import french
from lionpoc.report import sensitivity as S
from report_text import document
from lionpoc.study import layout

BATCHES = [32, 64, 128, 256]


def _leads(means, spread=(-0.004, 0.0, 0.004)):
    """Per-seed gaps (rows: 3 seeds, columns: the batch sizes) around ``means``: the seeds move every batch size
    alike, so that the paired changes between batch sizes are exact."""
    return pd.DataFrame([[m + e for m in means] for e in spread], columns=BATCHES)


def test_rules_and_their_thresholds():
    # The seeds shift every batch size alike: a change of 0.5 point between two batch sizes is significant.
    assert S.trend(_leads([0.01, 0.01, 0.01, 0.01])) == "flat"
    assert S.trend(_leads([0.0, 0.02, 0.05, 0.09])) == "grows"
    assert S.trend(_leads([0.09, 0.05, 0.02, 0.0])) == "shrinks"
    assert S.trend(_leads([0.0, 0.09, 0.0, 0.0])) == "varies"
    # The same mean gaps, but seeds that disagree from one batch size to the next: no change is beyond their noise.
    noisy = pd.DataFrame([[0.0, 0.06, 0.0, 0.10], [0.0, -0.02, 0.10, 0.0], [0.0, 0.02, 0.05, 0.17]], columns=BATCHES)
    assert S.trend(noisy) == "flat"
    assert S.trend(_leads([0.0, 0.02, 0.05, 0.09], spread=(0.0,))) == "untested"  # one seed: no interval
    assert S.verdict(0.001, 0.02) == "significant" and S.verdict(-0.02, -0.001) == "significant"
    assert S.verdict(-0.001, 0.02) == "noise" and S.verdict(float("nan"), float("nan")) == "untested"
    assert S.coincide(0.99) and not S.coincide(0.985)
    assert french.typeset("a : b ; c ?") == "a\u202f: b\u202f; c\u202f?"


def test_a_paired_interval_is_students_over_the_per_seed_differences():
    """Differences 0.01, 0.02, 0.06 (mean 0.03, sd 0.0265): half-width t(0.975, 2) x sd / sqrt(3) = 0.0657."""
    mean, low, high = S.paired_interval([0.01, 0.02, 0.06])
    sd = np.std([0.01, 0.02, 0.06], ddof=1)
    half = scipy_stats.t.ppf(0.975, 2) * sd / np.sqrt(3)
    assert mean == pytest.approx(0.03) and half == pytest.approx(0.0657, abs=1e-4)
    assert (low, high) == pytest.approx((0.03 - half, 0.03 + half))
    mean, low, high = S.paired_interval([0.02])
    assert mean == 0.02 and np.isnan(low) and np.isnan(high)  # one seed: no interval
    assert S.interval_words((0.03, low, high)) == f"+3,0{french.NNBSP}points"
    # A bound that one decimal would round to zero keeps a second one: −0,03, not 0,0.
    assert S.interval_words((0.006, -0.0003, 0.012)) == f"+0,6{french.NNBSP}point [\u22120,03 ; 1,2]"


def test_without_sensitivity_results_one_sentence_says_how_to_get_them(results_dir):
    d = load(results_dir)
    text = document(d)
    assert S.section(d) == "" and "`lionpoc study --sensitivity` la lance" in text
    assert "Étude de sensibilité :" not in text and "l'étude de sensibilité montre" not in text
    assert S.schedule_effect(d) is None and S.figure(d) is None and S.schedule_table(d) is None


def test_the_tuning_budget_is_read_from_each_seeds_record(results_dir):
    d = load(results_dir)
    rows = S.tuning_rows(d).set_index("optimizer")
    for name in d.optimizers:
        tried = [files.read_json(p / "metrics.json")["configurations_tried"] for p in d.run_paths(name)]
        assert rows.loc[name, "tried_min"] == min(tried) and rows.loc[name, "tried_max"] == max(tried)
    text = S.tuning(d)
    assert "Adam a essayé " in text and "(grille initiale de 2)" in text
    assert "prolongé d'un pas de grille" in document(d).replace("\n", " ")
    table = S.tuning_table(d).frame
    assert list(table["Optimiseur"]) == ["Adam", "AdamW", "Lion"]


def sensitivity_results(results_dir, tmp_path, accuracy):
    """A copy of the study with a sensitivity table whose test accuracies are ``accuracy(optimizer, batch,
    schedule, seed)``: the sentences must follow these numbers."""
    out = tmp_path / "results"
    shutil.copytree(results_dir, out)
    rows = []
    for run in layout.find_runs(out).itertuples():
        for batch in BATCHES:
            for schedule in ("constant", "cosine"):
                rows.append({"optimizer": run.optimizer, "seed": run.seed, "batch_size": batch, "schedule": schedule,
                             "learning_rate": 1e-3, "test_accuracy": accuracy(run.optimizer, batch, schedule, run.seed),
                             "epochs_run": 10 if schedule == "constant" else 12})
    pd.DataFrame(rows).to_csv(out / "sensitivity.csv", index=False)
    return load(out)


def test_a_gap_that_grows_with_the_batch_size_and_a_schedule_that_changes_the_ranking(results_dir, tmp_path):
    def accuracy(name, batch, schedule, seed):
        if name == "lion":  # Lion gains with the batch size; with the cosine it falls behind the others
            return {32: 0.62, 64: 0.80, 128: 0.95, 256: 1.0}[batch] - (0.4 if schedule == "cosine" else 0) - 0.01 * seed
        return 0.70 + 0.01 * seed

    d = sensitivity_results(results_dir, tmp_path, accuracy)
    g = S.gaps(d)
    assert list(g["batch_size"]) == BATCHES and g["gap"].iloc[0] == pytest.approx(-0.09)
    assert g["gap"].iloc[-1] == pytest.approx(0.29)
    # Seed by seed, the gap moves by exactly 18, 33 and 38 points from batch 32: beyond the seeds' noise (none).
    assert list(S.leads(d)[256] - S.leads(d)[32]) == pytest.approx([0.38, 0.38])
    section = re.sub(r"[ \n\u202f]+", " ", document(d, spaces=False))
    assert "cet écart varie de 64 : +18,0 points [18,0 ; 18,0], 128 : +33,0 points [33,0 ; 33,0] et 256 : +38,0 " \
        "points [38,0 ; 38,0] : il grandit avec la taille de lot, au-delà du bruit des graines" in section
    assert "l'ordre des moyennes change" in section and "le cosinus le déplace de −40,0 points [−40,0 ; −40,0]" in section
    assert "En moyenne, Lion n'est donc plus devant avec le cosinus" in section
    assert "Ce déplacement dépasse le bruit des graines." in section and "il dépasse le bruit des graines pour Lion." in section
    abstract, conclusion = section.split("# Introduction")[0], section.split("# Conclusion")[1]
    finding = ("à taux constant, Lion devance en moyenne le meilleur des autres optimiseurs, au-delà du bruit des "
               "graines, et cet écart grandit avec la taille de lot, au-delà de ce bruit ; avec le cosinus, l'écart "
               "moyen en faveur de Lion mesuré à taux constant n'apparaît plus, et l'effet du cosinus sur cet écart "
               "dépasse le bruit des graines")
    assert f"Étude de sensibilité : {finding}." in abstract
    assert (S.batch_trend(d), S.lead_state(d), S.schedule_effect(d), S.schedule_shift(d)) == \
        ("grows", "ahead", "lost", "significant")
    assert f"Enfin, l'étude de sensibilité montre qu'{finding} (voir la @sec-sensibilite)." in conclusion
    figure = S.figure(d)
    lines = figure.axes[0].get_lines()
    assert len(figure.axes[0].containers) == 3 and len(lines) >= 3
    table = S.schedule_table(d).frame.set_index("Optimiseur")
    assert table.loc["Lion", "Écart"].startswith("\u221240,0")


def test_a_flat_gap_and_an_unchanged_ranking(results_dir, tmp_path):
    def accuracy(name, batch, schedule, seed):
        return {"adam": 0.80, "adamw": 0.82, "lion": 0.84}[name] + 0.005 * (batch == 64) + 0.01 * seed

    d = sensitivity_results(results_dir, tmp_path, accuracy)
    section = re.sub(r"[ \n\u202f]+", " ", document(d, spaces=False))
    assert "À taux constant, la taille de lot ne change donc pas la place de Lion au-delà de ce bruit" in section
    assert "il est premier en moyenne à toutes les tailles de lot, et chacun de ces écarts dépasse le bruit" in section
    assert "le classement est le même avec les deux planifications" in section
    assert "il ne dépasse le bruit des graines pour aucun optimiseur" in section
    assert "Étude de sensibilité : à taux constant, Lion devance en moyenne le meilleur des autres optimiseurs, " \
        "au-delà du bruit des graines, et cet écart ne varie pas avec la taille de lot (de 32 à 256) au-delà de ce " \
        "bruit ; avec le cosinus, Lion garde son avance moyenne, et l'effet du cosinus sur cet écart reste dans le " \
        "bruit des graines." in section.split("# Introduction")[0]
    assert (S.batch_trend(d), S.schedule_effect(d), S.schedule_shift(d)) == ("flat", "kept", "noise")


def test_adamw_and_lion_are_never_said_to_differ_only_by_their_regularisation(results_dir):
    """Adam and AdamW share their update rule; AdamW and Lion do not (adaptive step against sign step)."""
    d = load(results_dir)
    assert S.same_rule(d, "adam", "adamw") and not S.same_rule(d, "adamw", "lion") and not S.same_rule(d, "adam", "lion")
    words = S.update_rules(d, "adamw", "lion")
    assert "diffèrent" in words and "signe" in words


def test_the_update_rule_is_what_the_parameter_file_says_not_what_the_class_is_called(results_dir):
    """The recorded ``update:`` decides, whatever the class: an Adam recorded as a sign update is told as one, and
    a record that says nothing of its update (an older study, a file gone) makes no claim."""
    d = load(results_dir)
    specs = d.study["optimizer_specs"]
    specs["adam"] = {**specs["adam"], "update": "sign"}
    assert not S.same_rule(d, "adam", "adamw") and "le signe d'une moyenne" in S.update_rules(d, "adam", "adamw")
    specs["adamw"] = {**specs["adamw"], "update": "sign", "arguments": {"beta_1": 0.5}}
    assert not S.same_rule(d, "adam", "adamw")  # one kind of step, other fixed arguments: not the same rule
    specs["ghost"] = {"name": "ghost", "label": "Ghost"}
    assert d.fact("ghost", "update") is None and S.update_rules(d, "adam", "ghost") == "leurs règles de mise à jour diffèrent"


def test_cosine_trainings_that_outlive_their_schedule_are_counted(results_dir, tmp_path):
    d = sensitivity_results(results_dir, tmp_path, lambda name, batch, schedule, seed: 0.5)
    frame = pd.read_csv(d.results_dir / "sensitivity.csv")
    n_train = int((d.split["split"] == "train").sum())
    steps = np.ceil(n_train / frame["batch_size"])
    # the cosine spans the constant rate's 10 epochs; half of the cosine trainings stop at 10, the others at 12
    frame["schedule_steps"] = 10 * steps
    cosine = frame["schedule"] == "cosine"
    frame.loc[cosine, "epochs_run"] = [10 if i % 2 else 12 for i in range(int(cosine.sum()))]
    frame.to_csv(d.results_dir / "sensitivity.csv", index=False)
    past, total = S.past_schedule_counts(d)
    assert total == int(cosine.sum()) and past == (total + 1) // 2
    assert str(S.past_schedule(d)) == f"{french.integer(past)} des {french.integer(total)}"
    frame.loc[cosine, "epochs_run"] = 10  # every cosine training ends with its schedule
    frame.to_csv(d.results_dir / "sensitivity.csv", index=False)
    assert S.past_schedule_counts(d) == (0, total)
