"""The report's content, on results written by the real run steps: tables, figures, sentences."""
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from lionpoc import aggregate, breeds, french, report
from lionpoc.errors import LionpocError

QMD = Path(__file__).resolve().parents[1] / "report" / "index.qmd"


@pytest.fixture(scope="module")
def r(results_dir):
    return report.load(results_dir)


def test_french_number_formats():
    assert french.percent(0.8414) == "84,1\u202f%"
    assert french.number(3254, 0) == "3\u202f254"
    assert french.seconds(75) == "1\u202fmin 15\u202fs"
    assert french.scientific(3e-4) == "3·10⁻⁴" and french.scientific(0.1) == "0,1"
    assert french.points(-0.012) == "−1,2\u202fpoint"


def test_split_table_counts_every_image(r, results_dir):
    table = r.split_table().frame
    split = pd.read_csv(results_dir / "split.csv")
    assert list(table.columns) == ["Race", "Entraînement", "Validation", "Test", "Total"]
    assert table["Race"].tolist()[:15] == list(breeds.NAMES)
    assert table.iloc[-1]["Total"] == french.integer(len(split))
    assert table.iloc[0]["Test"] == str(((split["breed"] == breeds.FOLDERS[0]) & (split["split"] == "test")).sum())


def test_summary_table_shows_each_optimizer_means(r, results_dir):
    table = r.summary_table().frame.set_index("Optimiseur")
    runs = aggregate.load_runs(results_dir)
    assert list(table.index) == ["Adam", "AdamW", "Lion"]
    lion_mean = runs[runs["optimizer"] == "lion"]["test_accuracy"].mean()
    assert table.loc["Lion", "Exactitude"] == french.percent(lion_mean)
    assert table.loc["Adam", "Graines"] == "2"
    assert r.metric("lion") == french.percent(lion_mean)


def test_class_tables_and_placeholders(r):
    table = r.class_table("adamw").frame
    assert len(table) == 15 and list(table.columns) == ["Race", "Précision", "Rappel", "F1", "Images"]
    assert all(value.endswith("%") for value in table["F1"])


def test_figures_have_the_expected_axes(r):
    fig = r.histories_figure()
    assert len(fig.axes) == 6 and fig.axes[0].get_xlabel() == "" and fig.axes[-1].get_xlabel() == "Époque"
    assert "Lion" in fig.axes[4].get_ylabel()
    confusion = r.confusion_figure("lion")
    ax = confusion.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(breeds.NAMES)
    assert ax.get_xlabel() == "Race prédite"
    timing = r.timing_figure()
    assert [t.get_text() for t in timing.axes[0].get_xticklabels()] == ["Adam", "AdamW", "Lion"]


def test_robustness_pairs_speed_memory_tables(r):
    robust = r.robustness_table().frame
    assert len(robust) == 3 and "±" in robust.iloc[0]["Exactitude (moyenne ± é.-t.)"]
    pairs = r.pairs_table().frame
    assert pairs["Comparaison"].tolist() == ["Adam − AdamW", "Adam − Lion", "AdamW − Lion"]
    assert all(v.endswith("/2") for v in pairs["Graines p < 0,05"])
    speed = r.time_to_accuracy_table().frame
    assert list(speed["Optimiseur"]) == ["Adam", "AdamW", "Lion"]
    memory = r.memory_table().frame
    slots = memory.set_index(["Modèle", "Optimiseur"])["Tenseurs par poids"]
    assert slots[("Tête seule", "Lion")] == "1" and slots[("Tête seule", "AdamW")] == "2"
    assert "n'a pas pu être calculée" in r.baseline_text()


def test_warnings_flag_synthetic_data_and_missing_optimizers(results_dir, tmp_path):
    assert "Données synthétiques" in report.load(results_dir).warnings()
    partial = tmp_path / "results"
    shutil.copytree(results_dir, partial)
    shutil.rmtree(partial / "adamw")
    r = report.load(partial)
    assert r.missing == ["adamw"]
    assert "lionpoc study --optimizers adamw" in r.warnings()
    assert "Résultats absents" in r.class_table("adamw").frame.iloc[0, 0]
    assert r.metric("adamw") == "n.d."
    r.confusion_figure("adamw")  # a placeholder, not a crash
    assert len(r.summary_table().frame) == 2


def test_conclusion_follows_the_numbers(results_dir, tmp_path):
    before = report.load(results_dir).conclusion()
    assert before.startswith(tuple(f"{n} obtient" for n in ("Adam", "AdamW", "Lion")))
    changed = tmp_path / "results"
    shutil.copytree(results_dir, changed)
    import json

    for seed in (0, 1):  # make Lion perfect on every test image
        run = changed / "lion" / f"seed-{seed}"
        predictions = pd.read_csv(run / "predictions.csv")
        predictions["predicted"], predictions["correct"] = predictions["true"], 1
        predictions.to_csv(run / "predictions.csv", index=False)
        metrics = json.loads((run / "metrics.json").read_text())
        metrics["test_accuracy"] = metrics["test_macro_f1"] = 1.0
        (run / "metrics.json").write_text(json.dumps(metrics))
    after = report.load(changed).conclusion()
    assert after != before and after.startswith("Lion obtient la meilleure exactitude moyenne sur le test (100,0")
    assert "Lion bat donc nettement" in after


def test_notebook_links_point_to_each_run(r):
    links = r.notebook_links()
    assert links.count("training.html") == 6 and "../results/lion/seed-1/training.ipynb" in links


def test_text_renders_without_quotes():
    text = report.Text("84,1 %")
    assert repr(text) == "84,1 %" and text._repr_markdown_() == "84,1 %"
    table = report.Table(pd.DataFrame({"A": ["x"], "B": ["1"]}))
    assert table._repr_markdown_() == "| A | B |\n|:---|---:|\n| x | 1 |"


def test_qmd_has_no_hard_coded_results_and_one_line_cells():
    text = QMD.read_text(encoding="utf-8")
    cells = re.findall(r"```\{python\}\n(.*?)```", text, flags=re.S)
    for cell in cells:
        code = [line for line in cell.splitlines() if line.strip() and not line.startswith("#|")]
        assert len(code) <= 2, cell
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    prose = re.sub(r"`\{python\}[^`]*`", "", prose)
    prose = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", "", prose, flags=re.S)
    # A result would be a percentage or a decimal number; allowed numbers are structural (15 races, 2 048...).
    assert not re.findall(r"\d+[,.]\d+\s*%|\d+\s*%(?! de la meilleure)", prose.replace("95 %", "").replace("99 %", "")), \
        "percentages must come from inline code"
    for label in re.findall(r"#\| label: ((?:fig|tbl)-[\w-]+)", text):
        assert f"@{label}" in text, f"{label} is never referred to in the text"


def test_load_without_results_reports_it(tmp_path):
    r = report.load(tmp_path / "nothing")
    assert "Aucun résultat" in r.warnings() and r.summary_table().frame.empty
    from lionpoc.render import check_results

    with pytest.raises(LionpocError, match="lionpoc study"):
        check_results(tmp_path / "nothing")


def run_qmd(results_dir, monkeypatch):
    """Execute every cell and inline expression of the .qmd as Quarto would, without Quarto."""
    monkeypatch.setenv("LIONPOC_RESULTS", str(results_dir))
    text = QMD.read_text(encoding="utf-8")
    namespace = {}
    outputs = []
    for cell in re.findall(r"```\{python\}\n(.*?)```", text, flags=re.S):
        code = "\n".join(line for line in cell.splitlines() if not line.startswith("#|"))
        *body, last = [line for line in code.splitlines() if line.strip()]
        exec("\n".join(body), namespace)
        outputs.append(eval(last, namespace) if not last.startswith(("from ", "import ", "r = ")) else
                       exec(last, namespace))
    inline = [eval(expr, namespace) for expr in re.findall(r"`\{python\} ([^`]+)`", text)]
    return outputs, inline


def test_every_qmd_cell_and_inline_expression_runs(results_dir, monkeypatch):
    outputs, inline = run_qmd(results_dir, monkeypatch)
    assert len(inline) >= 15 and all(isinstance(v, str) and v for v in inline[:3])
    tables = [o for o in outputs if isinstance(o, report.Table)]
    assert len(tables) >= 10 and all(t._repr_markdown_().startswith("| ") for t in tables)


def test_qmd_runs_with_an_optimizer_missing(results_dir, tmp_path, monkeypatch):
    partial = tmp_path / "results"
    shutil.copytree(results_dir, partial)
    shutil.rmtree(partial / "lion")
    _, inline = run_qmd(partial, monkeypatch)
    assert "n.d." in inline


def test_notebooks_are_published_where_the_links_point(results_dir, tmp_path):
    from lionpoc.render import publish_notebooks

    copied = publish_notebooks(results_dir, tmp_path / "_output")
    assert (tmp_path / "_output" / "results" / "lion" / "seed-1" / "training.ipynb") in copied
    assert len(copied) == 6
