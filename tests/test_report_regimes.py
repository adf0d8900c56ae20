"""The report's rules that can regress: sentences conditioned on the recorded weights and backbone, the
sign of every paired difference, no number typed in the prose, French numbers on the figures' axes, the
common targets of time to accuracy, and a report that reads right for any subset of optimizers."""
import ast
import dataclasses
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lionpoc import report
from lionpoc.data import breeds
from lionpoc.study import figures
from lionpoc.report import display, french, plots, prose, tables
from lionpoc.study import aggregate, stats, timing
from report_text import document

PROSE = Path(prose.__file__)
QMD = Path(__file__).resolve().parents[1] / "report" / "index.qmd"


@pytest.fixture(scope="module")
def d(results_dir):
    return report.load(results_dir)


def regime(d, pretrained: bool, backbone: str = "xception", label: str = "Xception", dim: int = 2048):
    """The same results, recorded as real photos with the given weights and backbone."""
    runs = d.runs.copy()
    runs["data_kind"] = "stanford_dogs"
    runs["weights"] = "imagenet" if pretrained else "none"
    study = {**d.study, "data_kind": "stanford_dogs", "smoke": False, "pretrained": pretrained, "backbone": backbone,
             "backbone_label": label, "feature_dim": dim}
    return dataclasses.replace(d, runs=runs, study=study)


def subset(results_dir, tmp_path, keep):
    """A copy of the study with only ``keep`` optimizers, its tables and study.json redone as a study would."""
    out = tmp_path / "results"
    shutil.copytree(results_dir, out)
    record = json.loads((out / "study.json").read_text())
    for name in record["optimizers"]:
        if name not in keep:
            shutil.rmtree(out / name)
    record["optimizers"] = list(keep)
    record["executions"] = [e for e in record["executions"] if e["optimizer"] in keep]
    (out / "study.json").write_text(json.dumps(record))
    aggregate.write_tables(out)
    timing_table = pd.read_csv(out / "timing.csv")
    timing_table[timing_table["optimizer"].isin(keep)].to_csv(out / "timing.csv", index=False)
    return out


def flat(text) -> str:
    """Every run of spaces and line ends made one space, as in ``every_text``."""
    return re.sub(r"[ \n]+", " ", str(text))


def every_text(d) -> str:
    """The whole report as its reader gets it (every cell and inline expression run, the regime's conditional
    blocks chosen), before pandoc (``tests/report_text.py``), every run of spaces and line ends made one space."""
    return re.sub(r"[ \n]+", " ", document(d, spaces=False))


# ---------------------------------------------------------------------------------- weights and backbone
def test_a_pretrained_backbone_reads_as_pretrained(d):
    p = regime(d, pretrained=True, backbone="mobilenet_v2", label="MobileNetV2", dim=1280)
    assert prose.backbone_section(p).startswith("## MobileNetV2")
    text = every_text(p)
    assert not any(w in text for w in ("Essais endommagés", "Résultats incomplets"))  # no warning when none applies
    assert "Lion fait-il mieux qu'Adam et AdamW pour adapter un MobileNetV2 pré-entraîné sur ImageNet à quinze races" \
        in text.split("# Introduction")[0]
    assert "1\u202f280 caractéristiques" in text and "2\u202f048" not in text
    # ImageNet holds these breeds: said in the abstract, where the results are read, and in the limits.
    abstract, results = text.split("# Introduction")[0], text.split("# Résultats {")[1].split(" # ")[0]
    assert "viennent d'ImageNet, sur lequel MobileNetV2 a été pré-entraîné" in abstract
    assert "sur lequel MobileNetV2 a été pré-entraîné" in results.split("## Résultats par race")[0]
    assert "ImageNet, d'où viennent ces photos" in text.split("# Conclusion")[1]
    assert prose.conclusion(p).startswith("Réponse à la question posée : ")
    assert "un autre réseau de base (MobileNetV2 au lieu de Xception)" in prose.differs_2023_reasons(p)
    # 2023's per-breed scores are not known: never shown, whatever the backbone
    x = regime(d, pretrained=True)
    assert "2023" not in " ".join(tables.classes(x).frame.columns) and "F1 publiés" not in every_text(x)
    assert "Ici, le réseau de base est un MobileNetV2 pré-entraîné sur ImageNet" in text
    assert prose.title(p) == "Lion face à Adam et AdamW pour l'apprentissage par transfert"
    assert prose.subtitle(p).startswith("MobileNetV2 et quinze races")
    assert "Adam et AdamW viennent de Keras [@chollet2015keras]. Lion est notre propre implémentation, vérifiée" in text
    assert "régularisation : une pénalité L2 pour Adam et une décroissance découplée des poids pour AdamW et Lion." \
        in text
    assert prose.of(p.fine_tune_part).startswith("de la fin de MobileNetV2 (bloc 16")


def test_random_weights_never_speak_as_if_pretrained(d):
    r = regime(d, pretrained=False)
    text = every_text(r)
    assert "## Xception sans pré-entraînement" in text and "Données synthétiques" not in text
    abstract = text.split("# Introduction")[0]
    assert "figé ? Cette étude-ci ne peut que vérifier la chaîne : son Xception a des poids aléatoires, même si" in abstract
    assert "pré-entraîné sur ImageNet à" not in text
    assert "a été pré-entraîné" not in text and "Réserve" not in text and "d'où viennent ces photos" not in text
    assert "Réponse à la question posée" not in prose.conclusion(r)
    assert "son Xception garde des poids aléatoires" in text and "ici ImageNet" not in text
    assert prose.backbone_section(r).startswith("## Xception")
    assert "convolutions 1\u202f×\u202f1 des raccourcis" in prose.backbone_section(r).replace(" × ", "\u202f×\u202f")


def test_box_cropped_photos_are_said(d, tmp_path):
    photos = tmp_path / "dogs"
    (photos / "Images").mkdir(parents=True)
    (photos / "README.md").write_text("each photo was cropped to its annotated dog bounding box")
    p = regime(d, pretrained=True)
    p.study["data_dir"] = str(photos / "Images")
    text = every_text(p)
    assert p.cropped_photos and "copies recadrées sur le chien (d'après les boîtes annotées" in text
    assert "recadrées" in text.split("# Introduction")[0] and "recadrées" in prose.differs_2023_reasons(p)
    assert not regime(d, pretrained=True).cropped_photos


# ---------------------------------------------------------------------------------- the sign, everywhere
def test_every_difference_is_focus_minus_rival_and_agrees_everywhere(d, results_dir):
    raw = pd.read_csv(results_dir / "pairs.csv").set_index(["a", "b"])  # written focus − rival: lion − adam
    rows = {p["b"]: p for p in prose.focus_pairs(d)}
    assert rows["adam"]["diff_accuracy"] == pytest.approx(raw.loc[("lion", "adam"), "diff_accuracy"])
    assert rows["adam"]["ci_low"] == pytest.approx(raw.loc[("lion", "adam"), "ci_low"])
    table = tables.pairs(d).frame.set_index("Paire")
    abstract = every_text(d).split("# Introduction")[0]
    for rival, label in (("adam", "Adam"), ("adamw", "AdamW")):
        p = rows[rival]
        number = french.points(p["diff_accuracy"]).split("\u202f")[0]
        assert table.loc[f"Lion − {label}", "Écart"] == french.points(p["diff_accuracy"])
        assert table.loc[f"Lion − {label}", "IC images"] == tables.interval(p["ci_low"], p["ci_high"], points=True)
        # page 1 and the verdict use the interval in which the seeds vary too (two-stage bootstrap), wider here
        two_stage = tables.interval(p["ci2_low"], p["ci2_high"], points=True)
        assert prose.bounds(p) == (p["ci2_low"], p["ci2_high"]) and p["ci2_high"] - p["ci2_low"] > p["ci_high"] - p["ci_low"]
        assert table.loc[f"Lion − {label}", "IC graines et images"] == two_stage
        assert f"Lion − {label} : {number} {two_stage}" in abstract
    figure = plots.differences(d)
    assert [t.get_text() for t in figure.axes[0].get_yticklabels()] == ["Lion − Adam", "Lion − AdamW"]
    assert f"{label} − Lion" not in every_text(d)


def test_what_the_data_exclude_comes_first_and_holm_adjusts_the_family(d):
    said = prose.short_answer(d)
    p = prose.focus_pairs(d)
    if all(prose.bounds(x)[0] <= 0 <= prose.bounds(x)[1] for x in p):  # the answer is open: the joint bounds first
        assert said.startswith("Avec une confiance de 95\u202f% qui tient compte des graines comme des images de test "
                               "et vaut pour tous les rivaux à la fois, les données excluent")
        assert prose.unsigned_points(max(x["ci2_joint_high"] for x in p)) in said
        assert "aucun écart n'est significatif" in said and "quatre fois sur cinq" in said
    elif all(prose.verdict(x) == "noise" for x in p):  # intervals clear of zero, tests not significant after Holm
        assert "l'intervalle exclut zéro mais le test ne conclut pas" in said
    # Holm's p is the study's (pairs.csv's p_holm), read, not recomputed at render time
    assert [x["p_adjusted"] for x in p] == pytest.approx(stats.holm([x["p_value"] for x in p]))
    assert [x["p_adjusted"] for x in p] == [x["p_holm"] for x in p]
    method = every_text(d).split("## Tests appariés")[1].split(" # ")[0]
    assert "Holm" in method and "10\u202f000" in method and "est exact" in method
    better = {"a": "lion", "b": "adam", "diff_accuracy": 0.03, "ci_low": 0.012, "ci_high": 0.048, "p_value": 0.001,
              "p_adjusted": 0.002}
    assert prose.verdict(better) == "significant"
    assert prose.clause(d, better).startswith("Lion fait mieux qu'Adam : Lion − Adam = +3,0\u202fpoints")
    assert prose.verdict({**better, "p_adjusted": 0.08}) == "noise"  # significant alone, not after Holm
    # with two seeds or more, the interval that decides is the two-stage one: the seeds can leave zero inside it
    seeded = {**better, "n_seeds": 3, "ci2_low": -0.004, "ci2_high": 0.064}
    assert prose.verdict(seeded) == "noise" and prose.verdict({**seeded, "ci2_low": 0.004}) == "significant"


def test_holm_adjustment():
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert stats.holm([0.6, 0.9]) == pytest.approx([1.0, 1.0]) and stats.holm([0.5]) == [0.5]


# ---------------------------------------------------------------------------------- speed and targets
def test_speed_is_said_only_beyond_the_spread(d):
    assert prose.faster([1.0, 1.1, 1.2, 1.05], [2.0, 2.1, 1.9, 2.2]) == "faster"
    assert prose.faster([2.0, 2.1, 1.9, 2.2], [1.0, 1.1, 1.2, 1.05]) == "slower"
    assert prose.faster([1.0, 1.5, 2.0, 1.2], [1.4, 1.9, 1.1, 1.6]) == "same"
    table = pd.read_csv(d.results_dir / "timing.csv")
    assert set(table["optimizer"]) == {"adam", "adamw", "lion"}
    assert (table.groupby("optimizer").size() == table["repeat"].nunique()).all()
    assert (table.groupby("repeat")["order"].apply(sorted).apply(list) == [[0, 1, 2]] * table["repeat"].nunique()).all()
    first = table.sort_values(["repeat", "order"]).groupby("repeat")["optimizer"].first().tolist()
    assert len(set(first)) > 1  # the order rotates: no optimizer is always timed first
    words = every_text(d).split("## Temps d'entraînement")[1].split("## Mémoire")[0]
    assert "médiane" in words and "étendues des répétitions" in every_text(d)
    # Why the summary table's durations differ from the ones measured alone, with both numbers.
    during = french.seconds(float(d.row("lion")["seconds_per_epoch"]))
    alone = french.seconds(float(table[table["optimizer"] == "lion"]["seconds_per_epoch"].median()))
    assert f"Pendant l'étude, la même époque durait en moyenne {during} avec Lion, contre {alone} seule" in words
    # The reason follows the direction: a grid trained in one block makes the study faster, shared cores slower.
    slower = float(d.row("lion")["seconds_per_epoch"]) > float(table[table["optimizer"] == "lion"]["seconds_per_epoch"].median())
    assert ("l'écart tient à sa grille entraînée d'un bloc" in words) != slower
    assert d.study["jobs"] == 1 and "partag" not in prose.and_shared_cores(d) + words  # one notebook at a time
    shared = dataclasses.replace(d, study={**d.study, "jobs": 3, "machine": {**d.study["machine"], "cores": 2}})
    assert "trois carnets se partageaient les deux cœurs de la machine" in prose.and_shared_cores(shared)
    told = every_text(shared).split("## Temps d'entraînement")[1].split("## Mémoire")[0]
    assert ("l'écart tient à sa grille entraînée d'un bloc, dont chaque pas répartit ses frais fixes entre les "
            "configurations, malgré les cœurs partagés, non à l'optimiseur" in told) != slower
    assert ("l'écart tient aux cœurs partagés entre les carnets pendant l'étude, non à l'optimiseur" in told) == slower
    assert "cœurs partagés" in told  # "aux cœurs partagés" or "malgré les cœurs partagés"
    column = tables.time_to_accuracy(d).frame["Époque seule"]
    assert len({value.split("\u202f")[-1] for value in column}) == 1  # one unit for the whole column


def test_chosen_configuration_is_the_seeds_choice():
    runs = pd.DataFrame({"optimizer": ["x"] * 3, "learning_rate": [1e-3, 1e-3, 1e-4], "l2": [0.0, 0.0, 1e-3]})
    assert timing.chosen(runs, "x", ["learning_rate", "l2"]) == {"learning_rate": 1e-3, "l2": 0.0}


def test_time_to_accuracy_uses_targets_common_to_every_optimizer(d, results_dir):
    table = aggregate.time_to_accuracy(d.runs)
    assert table["target_95"].nunique() == 1 and table["target_99"].nunique() == 1
    best = max(pd.read_csv(Path(p) / "history.csv")["val_accuracy"].max() for p in d.runs[d.runs.seed == 0].path)
    for run in d.runs[d.runs.seed == 0].itertuples():
        history = pd.read_csv(Path(run.path) / "history.csv")
        reached = np.flatnonzero(history["val_accuracy"].to_numpy() >= 0.95 * best - 1e-12)
        per_seed = aggregate.time_to_accuracy(d.runs[d.runs.seed == 0]).set_index("optimizer")
        assert per_seed.loc[run.optimizer, "epochs_to_95"] == (reached[0] + 1 if len(reached) else pytest.approx(np.nan,
                                                                                                             nan_ok=True))
    text = every_text(d)
    assert "cibles communes à tous les optimiseurs" in text  # the caption, in index.qmd
    assert f"les deux cibles valent en moyenne {prose.targets(d)}" in text


# ---------------------------------------------------------------------------------- typing and formatting
def test_no_number_is_typed_in_the_prose():
    """Every number in a sentence comes from the results, a record or a named constant: the string
    literals of prose.py hold no digit (but the year of the 2023 study the report compares with)."""
    tree = ast.parse(PROSE.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef)) and ast.get_docstring(node) is not None}
    sentences = [node.value for node in ast.walk(tree)
                 if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
                 and " " in node.value]  # fragments of sentences, not keys or formats
    names = r"@[\w-]+|\bF1\b|\bL2\b|\b2023\b"  # citations, the F1 score, the L2 penalty, the year of the old study
    typed = [text for text in sentences if re.search(r"\d", re.sub(names, "", text))]
    assert typed == []
    assert "minute et demie" not in PROSE.read_text(encoding="utf-8")


def test_figures_write_numbers_the_french_way(d):
    assert figures.french_tick(0.2) == "0,2" and figures.french_tick(-1.5) == "−1,5" and figures.french_tick(1000) == "1\u202f000"
    for fig in (plots.histories(d), plots.timing(d), plots.differences(d), plots.confusions(d)):
        fig.canvas.draw()
        for ax in fig.axes:
            for label in ax.get_xticklabels() + ax.get_yticklabels():
                text = label.get_text()
                assert "." not in text and not re.search(r"(^|\s)-\d", text), text
            for note in ax.texts:
                assert not re.match(r"^,\d", note.get_text()) and "." not in note.get_text().split()[0], note.get_text()


def test_the_notebook_shows_french_numbers(d):
    run = d.run_paths("lion")[0]
    shown = display.tuning(pd.read_csv(run / "tuning.csv"))
    assert "Exactitude (validation)" in shown.columns and all("%" in v and "." not in v for v in shown.iloc[:, 2])
    metrics = json.loads((run / "metrics.json").read_text())
    text = display.seed_summary({**metrics, "seed": 0}, False)
    assert french.percent(metrics["test_accuracy"]) in text and "0." not in text


# ---------------------------------------------------------------------------------- confusions
def confusions(results_dir, tmp_path, confused: dict, per_breed: int = 21) -> "report.ReportData":
    """A copy of the study as real photos, each run's confusion matrix replaced by the one of a good head:
    ``per_breed`` test images per breed (as in the real split), all classified right but ``confused``
    ({(true, predicted): images})."""
    out = tmp_path / "results"
    shutil.copytree(results_dir, out)
    for path in out.glob("*/seed-*/confusion.csv"):
        matrix = pd.read_csv(path, index_col=0)
        values = np.diag(np.full(len(matrix), per_breed))
        for (i, j), n in confused.items():
            values[i, j] += n
            values[i, i] -= n
        pd.DataFrame(values, index=matrix.index, columns=matrix.columns).to_csv(path)
    return regime(report.load(out), pretrained=True)


def test_the_confusion_figure_always_writes_the_largest_confusions(results_dir, tmp_path):
    """A well-trained head (pretrained weights) confuses no breed at 15 %: the threshold comes down until
    every matrix shows a number, and the caption says so; the text names the confusions and the breeds
    recognised worst and best."""
    shih_tzu, maltese, pyrenees, leonberg, basenji, afghan = 1, 0, 12, 11, 10, 2
    d = confusions(results_dir, tmp_path / "lookalikes", {(shih_tzu, maltese): 2, (pyrenees, leonberg): 1})
    share = {name: figures.off_diagonal(m) for name, m in d.confusions().items()}
    largest = share["lion"][shih_tzu, maltese]
    assert 0.05 <= largest < 0.15 and all(m.max() == largest for m in share.values())
    level = figures.confusion_level(d.confusions())
    assert level == max(x for x in figures.CONFUSION_LEVELS if x <= largest)
    figure = plots.confusions(d)
    for ax in figure.axes[:3]:
        written = sorted(t.get_text() for t in ax.texts)
        expected = sorted(figures.french_tick(round(100 * v)) for v in share["lion"][share["lion"] >= level])
        assert written and written == expected, (written, expected)
    caption = prose.confusion_caption(d)
    assert f"les confusions d'au moins {french.percent(level, 0)} sont chiffrées" in caption
    assert "au seuil de 15\u202f%, une matrice au moins n'en montrerait aucune" in caption
    text = prose.confusions_text(d)
    text = text.replace("\u00a0", " ")  # the quotation marks hold their words with no-break spaces
    assert f"la race la moins bien reconnue est « Shih tzu » ({french.percent(1 - largest, 0)}" in text
    assert (f"{french.percent(largest, 0)} des photos de Shih tzu sont classées « Bichon maltais » "
            f"(environ 2,0 images par essai)") in text
    assert "Ces confusions opposent des races que l'introduction annonçait proches" in text
    assert "Chaque optimiseur les commet" in text
    # A confusion that the introduction does not announce is said to be one.
    other = prose.confusions_text(confusions(results_dir, tmp_path / "other", {(shih_tzu, maltese): 2,
                                                                                (basenji, afghan): 1}))
    assert "« " not in other and " »" not in other  # no line may start with a closing quotation mark
    assert ("Seule la confusion entre « Shih tzu » et « Bichon maltais » était annoncée en introduction"
            in other.replace("\u00a0", " "))
    assert breeds.lookalikes(breeds.FOLDERS[shih_tzu], breeds.FOLDERS[maltese])
    assert not breeds.lookalikes(breeds.FOLDERS[basenji], breeds.FOLDERS[afghan])


def test_the_confusion_threshold_rule():
    def matrix(confused: int, of: int = 63):  # one breed: ``confused`` of its ``of`` images taken for another
        values = np.diag(np.full(15, of))
        values[1, 0], values[1, 1] = confused, of - confused
        return pd.DataFrame(values)
    assert figures.confusion_level({"a": matrix(20), "b": matrix(10)}) == 0.15  # 32 % and 16 %
    assert figures.confusion_level({"a": matrix(20), "b": matrix(4)}) == 0.05   # 6 %: lowered for b
    assert figures.confusion_level({"a": matrix(1)}) == 0.02  # 2 %: the lowest level, reached by none
    assert figures.confusion_level({"a": matrix(0), "b": matrix(0)}) is None  # nothing confused: nothing to write


# ---------------------------------------------------------------------------------- any subset of optimizers
def test_two_optimizers_say_nothing_of_a_third(results_dir, tmp_path):
    d = report.load(subset(results_dir, tmp_path, ["adam", "lion"]))
    assert d.optimizers == ["adam", "lion"] and d.rivals == ["adam"] and not d.missing
    text = every_text(d)
    outside_2023 = text.replace(flat(every_text(d).split("# Comparaison avec l'étude de 2023")[1].split(" # ")[0]), "").replace(flat(tables.comparison_2023(d)), "")
    assert "AdamW" not in outside_2023 and "trois optimiseurs" not in outside_2023 and "deux autres" not in outside_2023
    assert "meilleur de ses rivaux" not in text
    assert prose.title(d) == "Lion face à Adam : vérification de la chaîne de traitement"  # random weights
    assert list(tables.memory(d).frame["Optimiseur"].unique()) == ["Adam", "Lion"]
    assert tables.pairs(d).frame["Paire"].tolist() == ["Lion − Adam"]
    assert "Holm" not in prose.short_answer(d)  # one comparison: nothing to adjust


def test_one_optimizer_says_why_there_is_no_comparison(results_dir, tmp_path):
    d = report.load(subset(results_dir, tmp_path, ["lion"]))
    assert d.optimizers == ["lion"] and not d.compared
    text = every_text(d)  # every cell and inline expression of the report runs
    assert "AdamW" not in text.replace(flat(every_text(d).split("# Comparaison avec l'étude de 2023")[1].split(" # ")[0]), "").replace(flat(tables.comparison_2023(d)), "")
    assert prose.alone(d).startswith("Cette étude n'a entraîné que Lion")
    assert flat(prose.alone(d)) in text.split("# Introduction")[0] and plots.differences(d) is None
    assert "tbl-paires" not in text  # no table of comparisons: the text says why
    assert prose.title(d) == "Lion : vérification de la chaîne de traitement"  # random weights: no transfer


def test_no_results_render_nothing_but_the_warning(tmp_path):
    d = report.load(tmp_path / "nothing")
    text = every_text(d)  # no cell crashes before any study
    assert "## Aucun résultat" in text and "Aucun résultat n'est encore disponible" in text


def test_the_report_gives_the_command_that_remakes_this_study(results_dir, tmp_path):
    """Read from study.json: the study's own optimizers, seeds, data kind and backbone, never a default study."""
    block = str(prose.rerun_command(report.load(results_dir)))
    assert "```sh\nlionpoc study \\\n    --optimizers adam,adamw,lion \\\n    --smoke \\\n" in block  # an option a line
    command = re.sub(r" \\\n +", " ", block)  # as the shell reads it
    assert "lionpoc study --optimizers adam,adamw,lion --smoke --seeds 2" in command
    assert "--results-dir" not in command
    copy = subset(results_dir, tmp_path / "pre", ["adam", "lion"])
    record = json.loads((copy / "study.json").read_text())
    record.update(smoke=False, backbone="mobilenet_v2", weights="/w/mobilenet.weights.h5", data_dir="/d/dogs",
                  image_size=224)
    (copy / "study.json").write_text(json.dumps(record))
    command = re.sub(r" \\\n +", " ", str(prose.rerun_command(report.load(copy))))
    assert "--optimizers adam,lion --seeds 2 --data-dir /d/dogs --weights /w/mobilenet.weights.h5" in command
    assert "--image-size 224 --backbone mobilenet_v2" in command and "--smoke" not in command
    assert prose.rerun_command(report.load(tmp_path / "nothing")) == ""
