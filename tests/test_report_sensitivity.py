"""The report's tuning-budget and sensitivity parts: each rule's branches, and the sentences they build."""
import re
import shutil

import pandas as pd
import pytest

from lionpoc import files
from lionpoc.report import load
from lionpoc.report import french
from lionpoc.report import sensitivity as S
from report_text import document
from lionpoc.study import layout

BATCHES = [32, 64, 128, 256]


def test_rules_and_their_thresholds():
    assert S.trend(BATCHES, [0.01, 0.0, 0.02, 0.01], threshold=0.03) == "flat"
    assert S.trend(BATCHES, [0.0, 0.02, 0.05, 0.09], threshold=0.03) == "grows"
    assert S.trend(BATCHES, [0.09, 0.05, 0.02, 0.0], threshold=0.03) == "shrinks"
    assert S.trend(BATCHES, [0.0, 0.09, 0.0, 0.01], threshold=0.03) == "varies"
    # 95 % half-width of a difference of two accuracies of 90 % on 326 images: 4.6 points.
    assert S.noise_level(0.9, 326) == pytest.approx(0.0461, abs=1e-4)
    assert S.within_noise(0.04, 0.9, 326) and not S.within_noise(0.05, 0.9, 326)
    assert S.coincide(0.99) and not S.coincide(0.985)
    assert french.typeset("a : b ; c ?") == "a\u202f: b\u202f; c\u202f?"


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
    section = re.sub(r"[ \n]+", " ", document(d, spaces=False))
    assert "Cet écart grandit avec la taille de lot, au-delà du bruit" in section and "le classement change" in section
    assert "dépasse le bruit de mesure pour Lion" in section
    abstract, conclusion = section.split("# Introduction")[0], section.split("# Conclusion")[1]
    assert "Étude de sensibilité : l'écart de Lion sur les autres grandit avec la taille de lot, et le cosinus change " \
        "le classement moyen." in abstract and S.schedule_effect(d) == "changes"
    assert "Enfin, l'étude de sensibilité montre que l'écart de Lion sur les autres grandit avec la taille de lot, et " \
        "que le cosinus change le classement moyen (voir la @sec-sensibilite)." in conclusion
    figure = S.figure(d)
    lines = figure.axes[0].get_lines()
    assert len(figure.axes[0].containers) == 3 and len(lines) >= 3
    table = S.schedule_table(d).frame.set_index("Optimiseur")
    assert table.loc["Lion", "Écart"].startswith("\u221240,0")


def test_a_flat_gap_and_an_unchanged_ranking(results_dir, tmp_path):
    def accuracy(name, batch, schedule, seed):
        return {"adam": 0.80, "adamw": 0.82, "lion": 0.84}[name] + 0.005 * (batch == 64) + 0.01 * seed

    d = sensitivity_results(results_dir, tmp_path, accuracy)
    section = re.sub(r"[ \n]+", " ", document(d, spaces=False))
    assert "la taille de lot ne change pas la place de Lion" in section and "il reste premier" in section
    assert "le classement est le même avec les deux planifications" in section
    assert "reste dans le bruit de mesure" in section
    assert "Étude de sensibilité : la place de Lion ne change pas avec la taille de lot (de 32 à 256), et le cosinus " \
        "ne change pas le classement." in section.split("# Introduction")[0] and S.schedule_effect(d) == "same"


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
