"""The report's French toolkit and the sentences built with it, on recorded results folders (no training)."""
import json
import re
from pathlib import Path

import pytest

import report_fixtures
from report_text import document
from lionpoc import report
from lionpoc.report import french, prose
from lionpoc.report import sensitivity as report_sensitivity

NNBSP = "\u202f"


# ---------------------------------------------------------------------------------- the toolkit
def test_a_sentence_raises_its_first_letter_and_never_lowers_a_name():
    assert french.sentence("lion fait mieux", "qu'Adam") == "Lion fait mieux qu'Adam."
    assert french.sentence("réponse :", "Lion fait mieux qu'AdamW") == "Réponse : Lion fait mieux qu'AdamW."
    assert french.sentence("", "AdamW gagne ?") == "AdamW gagne ?"  # its own mark kept, no full stop added
    assert french.sentence("", "") == ""


@pytest.mark.parametrize("name, de, que", [("Adam", "d'Adam", "qu'Adam"), ("Lion", "de Lion", "que Lion"),
                                           ("SGD", "de SGD", "que SGD"), ("Éva", "d'Éva", "qu'Éva"),
                                           ("heavy-ball", "d'heavy-ball", "qu'heavy-ball")])
def test_elision(name, de, que):
    assert french.de(name) == de and french.que(name) == que


def test_a_capital_never_lowers_the_rest_and_numbers_are_cut_by_the_toolkit():
    assert french.capital("classe IRM") == "Classe IRM" and french.capital("") == ""
    assert [french.short(x) for x in (0.5, 10.0, 0.25, 3254.0)] == ["0,5", "10", "0,25", "3\u202f254"]
    assert french.points(0.012, unit=False) == "+1,2" and french.points(-0.025, unit=False) == "\u22122,5"
    assert french.points(0.0001, unit=False) == "0,0"


def test_enumeration_nouns_and_quotes():
    assert french.enumeration(["A"]) == "A" and french.enumeration(["A", "B", "C"]) == "A, B et C"
    assert french.enumeration(["A", "B"], "ni") == "A ni B"
    assert [french.noun(x, "époque") for x in (0, 1, 1.5, 2, 27)] == ["époque"] * 3 + ["époques"] * 2
    assert french.quoted("Shih tzu") == "«\u00a0Shih tzu\u00a0»"
    assert french.typeset("a : b ; c ? d !") == f"a{NNBSP}: b{NNBSP}; c{NNBSP}? d{NNBSP}!"


# ---------------------------------------------------------------------------------- sentences, per regime
@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return tmp_path_factory.mktemp("words")


def _load(folders, name, regime=None):
    path = folders / name
    if not path.exists():
        report_fixtures.write(path, regime or report_fixtures.REGIMES[name])
    return report.load(path)


def test_the_conclusion_keeps_the_focus_capitalised_when_every_comparison_is_significant(folders):
    d = _load(folders, "pretrained_significant")
    assert all(prose.verdict(p) == "significant" for p in prose.focus_pairs(d))
    text = prose.conclusion(d)
    # The exact clause after the colon: the first comparison names Adam, then AdamW.
    assert "Réponse à la question posée : Lion fait significativement mieux qu'Adam (" in text
    assert "Lion fait significativement mieux qu'AdamW (" in text
    assert "lion fait" not in text


def test_a_focus_other_than_lion_is_named_with_its_elision_in_the_sensitivity_sentences(folders):
    regime = report_fixtures.Regime(optimizers=("adam", "lion"), focus="adam", sensitivity=True, seeds=2,
                                    accuracy={"adam": 0.86, "lion": 0.85})
    d = _load(folders, "sensitivity_adam", regime)
    assert d.focus == "adam"
    text = " ".join(document(d).split())
    abstract, conclusion = text.split("# Introduction")[0], text.split("# Conclusion")[1]
    finding = re.search(r"Étude de sensibilité : à taux constant, (.*?)\.", abstract).group(1)
    assert "Adam" in finding and "Lion" not in finding
    assert f"l'étude de sensibilité montre qu'à taux constant, {finding} (voir la @sec-sensibilite)" in conclusion
    assert not re.search(r"\bde Adam", text)


def test_the_sensitivity_section_names_optimizers_as_the_study_recorded_them(folders):
    d = _load(folders, "sensitivity")
    d.study["optimizer_specs"]["lion"]["label"] = "Lion (ours)"
    assert "Lion (ours)" in report_sensitivity.section(d)
    assert "Lion (ours)" in [t.get_text() for t in report_sensitivity.figure(d).axes[0].get_legend().get_texts()]


def test_one_epoch_is_singular(folders):
    d = _load(folders, "random_weights")
    text = prose.epochs_sentence(d)
    assert "1 époques" not in text and "1,0 époques" not in text


@pytest.mark.parametrize("split, said", [
    ("random", "Les images des trois classes sont lues dans l'ordre alphabétique des fichiers, puis découpées de façon "
               "stratifiée (chaque classe garde les mêmes proportions) en entraînement, validation et test, avec une "
               "graine fixe : "),
    ("given", "Le découpage est celui que donne le jeu lui-même, ses dossiers `train/`, `val/` et `test/`, utilisé "
              "tel quel : "),
    ("given, validation drawn from train", "Le jeu donne ses images d'entraînement et de test (dossiers `train/` et "
                                           "`test/`) ; la validation est tirée de l'entraînement, de façon stratifiée "
                                           "(chaque classe y garde sa proportion), avec une graine fixe : ")])
def test_the_split_of_another_data_set_is_told_as_the_study_made_it(folders, split, said):
    """index.qmd's three ways of telling the split, chosen by the recorded split (flags given_split,
    given_validation), each followed by the counts."""
    import copy
    import re

    from report_text import document

    d = report.load(report_fixtures.write(folders / f"split-{split[:5]}-{len(split)}",
                                          report_fixtures.REGIMES["folder_classes"]))
    d.study = copy.deepcopy(d.study)
    d.study["data"]["split"] = split
    d.study["data"]["given_folders"] = ({"train": "train", "val": "val", "test": "test"} if split == "given" else
                                        {"train": "train", "test": "test"} if split != "random" else None)
    text = re.sub(r"[ \n]+", " ", document(d, spaces=False)).split("## Données et découpage")[1]
    assert said in text and f"{prose.count(d)} images au total, dont" in text
    assert sum(s in text for s in ("lues dans l'ordre alphabétique", "que donne le jeu lui-même",
                                   "tirée de l'entraînement")) == 1


@pytest.fixture(scope="module")
def noise(folders):
    return report.load(report_fixtures.write(folders / "noise-words", report_fixtures.REGIMES["pretrained_noise"]))


def _text(d) -> str:
    import re

    from report_text import document

    return re.sub(r"[ \n]+", " ", document(d, spaces=False))


@pytest.mark.parametrize("gaps, said", [
    ({"adam": 0.08, "adamw": 0.09, "lion": 0.07}, "(première graine) : au-delà de 5,0\u202fpoints, la tête apprend en "
                                                  "partie par cœur les images d'entraînement. "),
    ({"adam": 0.01, "adamw": 0.02, "lion": 0.07}, "au-delà de 5,0\u202fpoints, la tête de Lion apprend en partie par "
                                                  "cœur les images d'entraînement. "),
    ({"adam": 0.08, "adamw": 0.02, "lion": 0.07}, "les têtes d'Adam et de Lion apprennent en partie par cœur les "
                                                  "images d'entraînement. "),
    ({"adam": 0.01, "adamw": 0.02, "lion": 0.03}, "les deux courbes sont à moins de 5,0\u202fpoints l'une de "
                                                  "l'autre, et la tête retenue ne surapprend pas. ")])
def test_the_learning_curves_say_which_heads_overfit(noise, gaps, said):
    from lionpoc.report import findings

    d = copy_of(noise)
    d.kept_epoch_gaps = lambda: gaps
    text = _text(d).split("## Courbes d'apprentissage")[1].split("{#fig-courbes}")[0]
    assert said in text and f"vaut {french.points(gaps['adam'])} pour Adam, " in text
    assert findings.Overfit.of(gaps) is findings.regime(d).overfit
    assert sum(w in text for w in ("la tête apprend", "la tête de", "les têtes", "ne surapprend pas")) == 1


def copy_of(d):
    import dataclasses

    return dataclasses.replace(d)


OLD_START = "Elle partait d'un modèle antérieur qui atteignait 77\u202f% d'exactitude."


@pytest.mark.parametrize("record", [
    {"available": False, "reason": "the weights with ImageNet's classifier are not cached and not downloadable"},
    {"available": False, "imagenet_classes": False, "reason": "not ImageNet classes"}, None])
def test_an_untrained_reference_that_did_not_run_is_not_announced(noise, record):
    """F12: without the reference (baseline.json unavailable, or absent), no subsection announces it; 2023's starting
    model is told once, in the 2023 section."""
    d = copy_of(noise)
    d.baseline = record
    text = _text(d)
    assert "Référence sans entraînement" not in text and "référence sans entraînement" not in text
    assert "sans aucun entraînement" not in text.lower()
    assert text.count("77\u202f%") == 1 and OLD_START in text.split("# Comparaison avec l'étude de 2023")[1]


def test_an_untrained_reference_that_ran_has_its_subsection(noise):
    d = copy_of(noise)
    d.baseline = {"accuracy": 0.91, "available": True, "backbone": "mobilenet_v2", "n_test": 150, "reason": ""}
    text = _text(d)
    section = text.split("## Référence sans entraînement")[1].split("# Coûts")[0]
    assert "atteint 91,0\u202f% d'exactitude sur les 150 images de test" in section
    assert text.count("77\u202f%") == 1 and OLD_START in text.split("# Comparaison avec l'étude de 2023")[1]


def _capped(d, runs: list[tuple[str, int]], column: bool = True):
    """``d`` with the chosen heads of ``runs`` (optimizer, seed) trained up to the 100-epoch cap."""
    d = copy_of(d)
    d.runs = d.runs.copy()
    hit = d.runs.apply(lambda r: (r["optimizer"], int(r["seed"])) in runs, axis=1)
    d.runs.loc[hit, "epochs_run"] = 100
    d.runs["stopped_early"] = ~hit
    if not column:
        d.runs = d.runs.drop(columns="stopped_early")
    return d


@pytest.mark.parametrize("runs, protocol, curves", [
    ([], None, "Sur les 9 entraînements des têtes retenues (un par optimiseur et par graine), l'arrêt précoce les a "
               "tous interrompus avant la limite de 100 époques : c'est la validation qui a décidé de l'arrêt."),
    ([("adamw", 0)], "Cette limite a compté : un des 9 entraînements des têtes retenues l'a atteinte avant que "
                     "l'arrêt précoce ne joue (@sec-courbes).",
     "l'arrêt précoce en a interrompu huit avant la limite de 100 époques ; celui d'AdamW (graine 0) a tourné jusqu'à "
     "cette limite\u00a0: les courbes d'AdamW dans la @fig-courbes (première graine) s'étendent donc sur les 100 "
     "époques."),
    ([("lion", 2)], "Cette limite a compté : un des 9 entraînements des têtes retenues l'a atteinte avant que "
                    "l'arrêt précoce ne joue (@sec-courbes).",
     "; celui de Lion (graine 2) a tourné jusqu'à cette limite. "),  # not a seed the figure shows
    ([("adam", 0), ("adam", 2), ("lion", 1)], "Cette limite a compté : trois des 9 entraînements des têtes retenues "
                                              "l'ont atteinte avant que l'arrêt précoce ne joue (@sec-courbes).",
     "l'arrêt précoce en a interrompu six avant la limite de 100 époques ; ceux d'Adam (graines 0 et 2) et de Lion "
     "(graine 1) ont tourné jusqu'à cette limite\u00a0: les courbes d'Adam dans la @fig-courbes (première graine) "
     "s'étendent donc sur les 100 époques."),
    ([(n, s) for n in ("adam", "adamw", "lion") for s in range(3)],
     "Cette limite a compté : aucun des 9 entraînements des têtes retenues ne s'est arrêté avant elle (@sec-courbes).",
     "(un par optimiseur et par graine), aucun ne s'est arrêté avant la limite de 100 époques : l'arrêt précoce n'a "
     "jamais joué.")])
def test_the_trainings_that_reach_the_epoch_cap_are_counted_and_named(noise, runs, protocol, curves):
    """F5: the protocol and the learning curves say how many chosen heads early stopping ended and which ran up to
    the cap; never that validation decided every stop when a training reached the cap."""
    for column in (True, False):  # as the runs recorded it, or from their epochs (results without stopped_early)
        d = _capped(noise, runs, column)
        assert len(d.capped()) == len(runs)
        text = _text(d)
        protocol_text = text.split("## Protocole d'entraînement")[1].split("## Tests appariés")[0]
        curves_text = text.split("## Courbes d'apprentissage")[1].split("{#fig-courbes}")[0]
        assert (protocol in protocol_text) if protocol else "Cette limite" not in protocol_text
        assert curves in curves_text
        assert ("c'est la validation qui a décidé" in text) is (not runs)


def test_accuracies_beyond_2023_are_explained_and_within_them_are_not(noise):
    text = _text(noise).split("# Comparaison avec l'étude de 2023")[1].split("# Conclusion")[0]
    assert "L'écart a plusieurs causes possibles, que cette étude ne sépare pas : les photos sont ici recadrées" in text
    # 2023's Xception was pretrained on ImageNet too: the overlap is no cause of a difference between the two
    assert "d'où viennent ces photos" not in text
    assert "le réseau de base n'est pas le même (MobileNetV2 ici, Xception en 2023) ; le réglage diffère" in text
    d = copy_of(noise)
    d.summary = noise.summary.assign(test_accuracy_mean=0.80)
    low = _text(d).split("# Comparaison avec l'étude de 2023")[1].split("# Conclusion")[0]
    assert "; ici, de 80\u202f% en moyenne sur les graines." in low and "causes possibles" not in low


@pytest.mark.parametrize("sizes, left, said", [
    ((120, 120), 0, "Les classes ont toutes 120 images."),
    ((100, 120), 1, "Les classes sont de tailles comparables (de 100 à 120 images). 1\u00a0fichier présent à "
                    "l'identique dans deux classes ou plus a été écarté : une image n'a qu'une classe."),
    ((100, 120), 3, "3\u00a0fichiers présents à l'identique dans deux classes ou plus ont été écartés : une image "
                    "n'a qu'une classe.")])
def test_the_classes_sizes_and_the_files_left_out_are_told(folders, sizes, left, said):
    import copy

    d = report.load(report_fixtures.write(folders / f"sizes-{sizes[0]}-{left}", report_fixtures.REGIMES["folder_classes"]))
    d.study = copy.deepcopy(d.study)
    record = d.study["data"]
    record["imbalance"] = {**record["imbalance"], "ratio": sizes[1] / sizes[0], "imbalanced": False,
                           "smallest": {**record["imbalance"]["smallest"], "images": sizes[0]},
                           "largest": {**record["imbalance"]["largest"], "images": sizes[1]}}
    record["same_bytes_across_classes"] = {"files_left_out": left}
    text = _text(d)
    assert said in text and "déséquilibrées" not in text
    assert ("à l'identique dans deux" in text) == bool(left)


def test_unreadable_images_are_counted_with_the_verb_agreeing(folders):
    d = _load(folders, "two_optimizers")
    assert "Toutes les images ont pu être lues." in document(d)
    for files, said in (([{"file": "a.jpg"}], "1\u00a0fichier illisible a été écarté\u202f: `a.jpg`."),
                        ([{"file": "a.jpg"}, {"file": "b.jpg"}],
                         "2\u00a0fichiers illisibles ont été écartés\u202f: `a.jpg`, `b.jpg`.")):
        for path in d.runs["path"]:
            record = json.loads((Path(path) / "metrics.json").read_text())
            record["skipped_files"] = files
            (Path(path) / "metrics.json").write_text(json.dumps(record))
        text = re.sub(r"[ \n]+", " ", document(report.load(d.results_dir)))
        assert said in text and "Toutes les images ont pu être lues" not in text


def test_the_fine_tuning_table_shows_the_rate_each_seed_chose(folders):
    """F6: two fine-tuned seeds of Lion chose 10⁻⁴ and 3·10⁻⁴ (0.1 and 0.3 times its head's 10⁻³): the table shows
    both, never one rate standing for the other seed; where the seeds agree, the one rate."""
    from lionpoc.report import tables

    d = _load(folders, "fine_tune")
    tuned = d.runs[d.runs["ft_test_accuracy"].notna()]
    assert sorted(tuned.loc[tuned["optimizer"] == "lion", "ft_learning_rate"]) == pytest.approx([1e-4, 3e-4])
    shown = tables.fine_tune(d).frame.set_index("Optimiseur")["Taux η"]
    assert shown["Lion"] == "3·10⁻⁴\u00a0(1×) ; 10⁻⁴\u00a0(1×)" and shown["Adam"] == shown["AdamW"] == "10⁻⁴"
    d.runs = d.runs.copy()
    d.runs.loc[d.runs["optimizer"] == "adam", "ft_test_accuracy"] = 0.9  # three seeds: 10⁻⁴ twice, 10⁻⁵ once
    d.runs.loc[d.runs["optimizer"] == "adam", "ft_learning_rate"] = [1e-4, 1e-5, 1.0000001e-4]
    assert tables.fine_tune_rates(d, "adam") == "10⁻⁴\u00a0(2×) ; 10⁻⁵\u00a0(1×)"
    assert "le taux d'apprentissage retenu sur la validation par chaque graine" in _text(_load(folders, "fine_tune"))
