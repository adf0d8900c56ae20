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
    assert "Étude de sensibilité : la place d'Adam" in abstract or "Étude de sensibilité : l'écart d'Adam" in abstract
    assert "l'étude de sensibilité montre que la place d'Adam" in conclusion \
        or "l'étude de sensibilité montre que l'écart d'Adam" in conclusion
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
                                                  "partie par cœur les images d'entraînement, et l'arrêt précoce "
                                                  "l'interrompt"),
    ({"adam": 0.01, "adamw": 0.02, "lion": 0.07}, "au-delà de 5,0\u202fpoints, la tête de Lion apprend en partie par "
                                                  "cœur les images d'entraînement, et l'arrêt précoce l'interrompt"),
    ({"adam": 0.08, "adamw": 0.02, "lion": 0.07}, "les têtes d'Adam et de Lion apprennent en partie par cœur les "
                                                  "images d'entraînement, et l'arrêt précoce les interrompt"),
    ({"adam": 0.01, "adamw": 0.02, "lion": 0.03}, "les deux courbes restent à moins de 5,0\u202fpoints l'une de "
                                                  "l'autre : la tête ne surapprend pas")])
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


@pytest.mark.parametrize("record, said", [
    ({"available": False, "reason": "the weights with ImageNet's classifier are not cached and not downloadable"},
     "(elle exige les poids de MobileNetV2 avec son classifieur ImageNet, ni présents dans `~/.keras/models` ni "
     "téléchargeables ; copiez-les là puis relancez `lionpoc study`)"),
    ({"available": False, "reason": "this study's weights are not ImageNet's"},
     "(elle exige les poids ImageNet du classifieur de MobileNetV2, que cette étude n'utilise pas)"),
    ({"available": False, "reason": "disk full"}, "(disk full)"),
    ({"available": False, "imagenet_classes": False, "reason": "not ImageNet classes"},
     "(les races de ce jeu ne sont pas toutes des classes d'ImageNet : le classifieur d'origine de MobileNetV2 ne "
     "sait pas les nommer)")])
def test_why_the_untrained_reference_is_missing(noise, record, said):
    d = copy_of(noise)
    d.baseline = record
    assert f"La référence sans entraînement n'a pas pu être calculée ici {said}." in _text(d)


def test_accuracies_beyond_2023_are_explained_and_within_them_are_not(noise):
    text = _text(noise).split("# Comparaison avec l'étude de 2023")[1].split("# Conclusion")[0]
    assert "L'écart a plusieurs causes possibles, que cette étude ne sépare pas : les photos sont ici recadrées" in text
    assert "MobileNetV2 a été pré-entraîné sur ImageNet, d'où viennent ces photos" in text
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
