"""The report's content, on results written by the real run steps: tables, figures, sentences, rules."""
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from lionpoc.study import aggregate
from lionpoc.report.data import study_2023
from report_text import document
from lionpoc.data import breeds
from lionpoc.study import figures
from lionpoc.report import findings
from lionpoc.report import french
from lionpoc import report
from lionpoc.report import plots
from lionpoc.report import prose
from lionpoc.report import tables

QMD = Path(__file__).resolve().parents[1] / "report" / "index.qmd"


def every_text(d) -> str:
    """The whole report as its reader gets it (``tests/report_text.py``), every run of spaces made one space."""
    return re.sub(r"[ \n]+", " ", document(d, spaces=False))


@pytest.fixture(scope="module")
def d(results_dir):
    return report.load(results_dir)


def test_french_number_formats():
    assert french.percent(0.8414) == "84,1\u202f%"
    assert french.number(3254, 0) == "3\u202f254"
    assert french.number(-0.001, 2) == "0,00" and french.number(-1.5, 1) == "−1,5"
    assert french.seconds(75) == "1\u202fmin 15\u202fs" and french.seconds(0.016) == "16\u202fms"
    assert french.scientific(3e-4) == "3·10⁻⁴" and french.scientific(0.1) == "0,1"
    # grid values of decoupled decay: 10 and 100 are not "1" (a bug once stripped their zeros)
    assert [french.scientific(x) for x in (1.0, 10.0, 100.0, 0.01, 9.49e-05, 31.6, 1.5)] == \
        ["1", "10", "100", "0,01", "9,5·10⁻⁵", "31,6", "1,5"]
    assert french.points(-0.012) == "−1,2\u202fpoint" and french.points(0.025) == "+2,5\u202fpoints"
    assert french.points(-0.0001) == "0,0\u202fpoint" and french.points(0.02) == "+2,0\u202fpoints"
    assert french.plural(1, "graine") == "1\u00a0graine" and french.plural(3, "graine") == "3\u00a0graines"
    assert french.bytes_(3 * 2**20) == "3,0\u202fMio" and french.bytes_(3 * 2**10) == "3,0\u202fKio"
    assert french.point_word(-0.025, 0.043) == "points" and french.point_word(0.0, 0.009) == "point"
    assert french.counts([27.0, 33.0]) == ["27", "33"]  # one seed: whole epochs, no ",0"
    assert french.counts([27.0, 33.5]) == ["27,0", "33,5"]  # means over seeds: one format for the column
    assert french.durations([0.14, 0.078]) == ["140\u202fms", "78\u202fms"]  # one unit per column
    assert french.durations([1.5, 0.2]) == ["1,50\u202fs", "0,20\u202fs"]


def test_split_table_counts_every_image(d, results_dir):
    table = tables.split(d).frame
    split = pd.read_csv(results_dir / "split.csv")
    assert list(table.columns) == ["Race", "Entraînement", "Validation", "Test", "Total"]
    assert table["Race"].tolist()[:15] == list(breeds.FRENCH)
    assert table.iloc[-1]["Total"] == french.integer(len(split))
    assert table.iloc[0]["Test"] == str(((split["breed"] == breeds.FOLDERS[0]) & (split["split"] == "test")).sum())


def test_summary_table_reads_the_studys_aggregates(d, results_dir):
    table = tables.summary(d).frame.set_index("Optimiseur")
    runs = aggregate.load_runs(results_dir)
    assert list(table.index) == ["Adam", "AdamW", "Lion"]
    lion_mean = runs[runs["optimizer"] == "lion"]["test_accuracy"].mean()
    assert table.loc["Lion", "Exactitude"] == french.percent(lion_mean)
    assert prose.metric(d, "lion") == french.percent(lion_mean)
    summary = pd.read_csv(results_dir / "summary.csv")  # written by the study, read as is
    assert ((summary["test_accuracy_ci_low"] >= 0) & (summary["test_accuracy_ci_high"] <= 1)).all()
    assert (summary["test_accuracy_ci_low"] <= summary["test_accuracy_mean"]).all()


def test_one_per_breed_table_and_no_2023_per_breed_figure(d):
    table = tables.classes(d).frame
    assert len(table) == 15
    # 2023's per-breed scores and split are not known: no column, no sentence about them
    assert list(table.columns) == ["Race", "Images", "Adam", "AdamW", "Lion"]
    text = every_text(d)
    assert "F1 publiés" not in text and "F1 par race publiés" not in text and "réparties autrement" not in text
    assert set(study_2023()) == {"machine", "cores", "baseline_accuracy", "n_test", "total_minutes", "optimizers"}


def test_figures_have_the_expected_axes(d):
    fig = plots.histories(d)
    assert len(fig.axes) == 6 and fig.axes[-1].get_xlabel() == "Époque" and fig.axes[2].get_title() == "Lion"
    assert fig.axes[0].get_ylabel() == "Perte" and fig.axes[3].get_ylabel() == "Exactitude"
    assert all(float(t).is_integer() for ax in fig.axes for t in ax.get_xticks())  # whole epochs only
    short = figures.histories({"lion": (pd.DataFrame({"epoch": [1], "loss": [2.0], "val_loss": [2.1], "accuracy": [0.3],
                                                      "val_accuracy": [0.3]}), 1)})
    assert list(short.axes[0].get_xticks()) == [1] and short.axes[0].get_xlim() == (0.5, 1.5)
    confusion = plots.confusions(d)
    titles = [ax.get_title() for ax in confusion.axes]
    assert titles[:3] == ["Adam", "AdamW", "Lion"]
    legend = "\n".join(t.get_text() for ax in confusion.axes for t in ax.texts)
    assert "13  Montagne des Pyrénées" in legend
    width, height = confusion.get_size_inches()
    assert height / width < 297 / 210  # fits an A4 page at full width
    timing = plots.timing(d)
    assert [t.get_text() for t in timing.axes[0].get_xticklabels()] == ["Adam", "AdamW", "Lion"]


def test_confused_pairs_are_off_diagonal_and_sorted(d):
    table = tables.confused_pairs(d).frame
    assert (table["Race réelle"] != table["Prédite"]).all() and len(table) <= 6


def test_pairs_use_every_seed_and_say_so(d, results_dir):
    frame = tables.pairs(d).frame
    assert frame["Paire"].tolist() == ["Lion − Adam", "Lion − AdamW", "Adam − AdamW"]  # the focus first
    assert all(v.startswith(("0 sur 2", "1 sur 2", "2 sur 2")) for v in frame["McNemar"])
    assert frame["Holm"].iloc[2] == "—" and frame["Holm"].iloc[0] != "—"
    by_seed = pd.read_csv(results_dir / "pairs_by_seed.csv")
    assert set(by_seed["seed"]) == {0, 1} and len(by_seed) == 6
    pairs = pd.read_csv(results_dir / "pairs.csv")
    assert ((pairs["p_value"] > 0) & (pairs["p_value"] <= 1)).all()


def test_robustness_speed_memory_tables(d):
    robust = tables.robustness(d).frame
    assert len(robust) == 3 and "±" in robust.iloc[0]["Exactitude"]
    assert list(tables.time_to_accuracy(d).frame["Optimiseur"]) == ["Adam", "AdamW", "Lion"]
    slots = tables.memory(d).frame.set_index(["Modèle", "Optimiseur"])["Tenseurs"]
    assert slots[("Tête seule", "Lion")] == "1" and slots[("Tête seule", "AdamW")] == "2"
    # A smoke study (random weights) has no untrained reference: nothing announces one (F12).
    assert "Référence sans entraînement" not in every_text(d) and "n'a pas pu être calculée" not in every_text(d)


def test_performance_part_comes_from_study_json(d, results_dir):
    study = json.loads((results_dir / "study.json").read_text())
    text = every_text(d).split("# Reproduire cette étude")[1]
    # The study's own duration; the 2023 study's (194 minutes, unrelated conditions) is no longer set beside it.
    assert french.seconds(study["total_seconds"]) in text and "194 minutes" not in text
    assert "Tous les entraînements (le réglage des têtes) ont ensuite pris" in text  # no fine-tuning in this study
    steps = tables.performance(d).frame["Étape"].tolist()
    assert steps[0].startswith("Passage de Xception") and any("Carnet Lion" in s for s in steps)
    assert "Cette étude n'a pas mesuré la durée d'un pas d'optimisation" in text  # no benchmark.json here
    assert "apparaîtront ici" not in text


def test_warnings_flag_synthetic_data_random_weights_and_missing_optimizers(results_dir, tmp_path):
    assert "Données synthétiques" in every_text(report.load(results_dir))
    partial = tmp_path / "results"
    shutil.copytree(results_dir, partial)
    shutil.rmtree(partial / "adamw")
    d = report.load(partial)
    assert d.missing == ["adamw"]
    warnings = every_text(d).split("# Résumé")[0]
    assert "Il manque les résultats de : AdamW." in warnings and "lionpoc study --optimizers adamw" in warnings
    assert len(d.summary) == 2  # the tables are those of the runs present
    assert prose.metric(d, "adamw") == "n.d."
    assert len(tables.summary(d).frame) == 2 and list(tables.classes(d).frame.columns)[2:4] == ["Adam", "Lion"]
    plots.confusions(d)  # two panels and the legend, not a crash
    for run in (partial / "adam").glob("seed-*/metrics.json"):
        text = json.loads(run.read_text())
        text["data_kind"] = "stanford_dogs"
        run.write_text(json.dumps(text))
    for run in (partial / "lion").glob("seed-*/metrics.json"):
        text = json.loads(run.read_text())
        text["data_kind"] = "stanford_dogs"
        run.write_text(json.dumps(text))
    assert "## Xception sans pré-entraînement" in every_text(report.load(partial))


def test_a_damaged_run_is_named_not_fatal(results_dir, tmp_path):
    damaged = tmp_path / "results"
    shutil.copytree(results_dir, damaged)
    (damaged / "lion" / "seed-1" / "metrics.json").write_text("{ not json")
    d = report.load(damaged)
    assert [x["seed"] for x in d.damaged] == [1] and "Essais endommagés" in every_text(d).split("# Résumé")[0]
    # summary.csv still counts two Lion seeds; the report's tables are those of the runs it can read
    assert d.summary.set_index("optimizer").loc["lion", "n_seeds"] == 1
    assert pd.read_csv(damaged / "summary.csv").set_index("optimizer").loc["lion", "n_seeds"] == 2


@pytest.mark.parametrize("pair, expected", [
    ({"ci_low": 0.01, "ci_high": 0.05, "p_value": 0.01}, "significant"),
    ({"ci_low": -0.05, "ci_high": -0.01, "p_value": 0.02}, "significant"),
    ({"ci_low": -0.01, "ci_high": 0.05, "p_value": 0.01}, "noise"),
    ({"ci_low": 0.01, "ci_high": 0.05, "p_value": 0.2}, "noise"),
])
def test_verdict_rule(pair, expected):
    assert prose.verdict(pair) == expected


def test_decoding_and_elision_rules():
    assert [findings.Decoding.of(f).value for f in (0.96, 0.8, 0.5)] == ["negligible", "some", "strong"]
    assert prose.de("AdamW") == "d'AdamW" and prose.de("Lion") == "de Lion" and prose.que("AdamW") == "qu'AdamW"
    assert prose.of("le bloc 14 de Xception") == "du bloc 14 de Xception" and prose.of("Lion") == "de Lion"
    assert prose.enumeration(["A", "B", "C"]) == "A, B et C" and prose.in_words(3) == "trois"


def test_fine_tuning_rules():
    assert prose.collapsed(0.08) and not prose.collapsed(0.2)
    assert prose.separates(0.01, 0.015, True) == "yes"
    assert prose.separates(0.01, 0.025, False) == "wider" and prose.separates(0.01, 0.015, False) == "no"


def test_without_fine_tuning_the_section_says_how_to_get_it(d):
    section = every_text(d).split("# Ajustement fin")[1].split(" # ")[0]
    assert "@sec-reproduire" in section and "minute" not in section
    assert "\n--fine-tune " in QMD.read_text(encoding="utf-8").split("# Reproduire cette étude")[1]  # a code block line
    assert tables.fine_tune(d) is None and plots.fine_tune_histories(d) is None
    assert "reste à lancer" in every_text(d).split("# Conclusion")[1]
    assert "ajustement fin" not in every_text(d).split("# Introduction")[0]


def test_abstract_and_conclusion_follow_the_numbers(results_dir, tmp_path):
    before = prose.conclusion(report.load(results_dir))
    assert before.startswith("Sur ces caractéristiques sans pré-entraînement")  # no "answer" from random weights
    assert "Réponse à la question posée" not in before
    changed = tmp_path / "results"
    shutil.copytree(results_dir, changed)
    for seed in (0, 1):  # make Lion perfect on every test image
        run = changed / "lion" / f"seed-{seed}"
        predictions = pd.read_csv(run / "predictions.csv")
        predictions["predicted"], predictions["correct"] = predictions["true"], 1
        predictions.to_csv(run / "predictions.csv", index=False)
        metrics = json.loads((run / "metrics.json").read_text())
        metrics["test_accuracy"] = metrics["test_macro_f1"] = 1.0
        (run / "metrics.json").write_text(json.dumps(metrics))
    aggregate.write_tables(changed)  # as the study does after its runs
    d = report.load(changed)
    after = prose.conclusion(d)
    assert after != before and "Lion fait significativement mieux qu'Adam " in after  # Adam, not AdamW's prefix
    assert "Lion fait significativement mieux qu'AdamW" in after and "lion fait" not in after
    abstract = every_text(d).split("# Introduction")[0]
    assert "Lion 100,0" in abstract and "significativement mieux" in abstract and "2\u00a0graines" in abstract


def test_notebook_links_point_to_each_optimizer(d):
    links = prose.notebook_links(d)
    assert links.count("training.html") == 3 and "../results/lion/training.ipynb" in links
    assert "(2\u00a0graines)" in links


def test_the_2023_study_is_described_by_what_is_known(d):
    text = every_text(d).split("# Comparaison avec l'étude de 2023")[1].split(" # ")[0]
    assert "Adam et AdamW y ont tourné 100 époques (on ne sait pas s'ils avaient un arrêt précoce)" in text  # inferred, said so
    assert "règle d'arrêt" in text and "semble-t-il" in text  # an inference is said as one
    assert "on ne sait pas ce que comprenait une époque" in text and "sans cache" not in text  # no guess at all
    assert "50 secondes par époque" in text and "Le découpage n'est pas celui de 2023 : son test comptait 326 images, contre" in text
    assert "des poids aléatoires au lieu de poids pré-entraînés et des images synthétiques" in text


def test_every_cell_and_inline_expression_of_the_qmd_runs(results_dir):
    """Execute the report's code as Quarto would, on real results: no cell may fail."""
    source = QMD.read_text(encoding="utf-8")
    cells = re.findall(r"```\{python\}\n(.*?)```", source, flags=re.S)
    inline = re.findall(r"`\{python\} ([^`]+)`", source)
    namespace = {}
    exec(cells[0].replace("load()", f"load({str(results_dir)!r})"), namespace)
    for cell in cells[1:]:
        code = "\n".join(line for line in cell.splitlines() if not line.startswith("#|"))
        exec(code, namespace)
    for expression in inline:
        assert repr(eval(expression, namespace)) != ""  # an empty sentence still shows (as nothing visible)
    assert len(inline) > 15


def test_text_renders_without_quotes():
    text = report.Text("84,1 %")
    assert repr(text) == "84,1 %" and text._repr_markdown_() == "84,1 %"
