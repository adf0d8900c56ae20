"""Markup injection: every user-given text (an optimizer's label, the backbone's label, a file name, the machine's
name) reaches the report as literal text, in Markdown, HTML, Typst and the figures (issue 26, item 1)."""
import io
import json
import re
import shutil
import subprocess

import pytest
import yaml

import report_fixtures
from lionpoc import report
from lionpoc.report import markup, plots, prose, tables, title
from lionpoc.report import sensitivity as report_sensitivity
from report_text import document

LABEL = "<script>alert(1)</script><img src=x onerror=alert(2)> @chen2023lion \\textbf{x} $\\foo$ `tick` | *a* #h"
BACKBONE = "<b>Mobile</b> @kingma2015adam $x$"
CPU = "<i>CPU</i> @holm1979simple"
WEIGHTS = "/tmp/we`ird <w> @x.weights.h5"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A recorded study (two optimizers, the sensitivity study) whose texts were written by an adversary."""
    folder = report_fixtures.write(tmp_path_factory.mktemp("hostile") / "results",
                                   report_fixtures.Regime(optimizers=("adam", "lion"), sensitivity=True, seeds=2,
                                                          accuracy={"adam": 0.84, "lion": 0.86}))
    record = json.loads((folder / "study.json").read_text())
    record["optimizer_specs"]["lion"]["label"] = LABEL
    record["backbone_label"] = BACKBONE
    record["machine"]["cpu"] = CPU
    record["weights"] = WEIGHTS
    (folder / "study.json").write_text(json.dumps(record))
    for metrics in folder.glob("*/seed-*/metrics.json"):
        values = json.loads(metrics.read_text())
        values["machine"]["cpu"] = CPU
        values["params"]["weights"] = WEIGHTS
        metrics.write_text(json.dumps(values))
    return report.load(folder)


def test_escape_and_code_spans():
    assert markup.escape("a<b>@c $d$ |e") == "a\\<b\\>\\@c \\$d\\$ \\|e"
    assert markup.code("a`b") == "``a`b``" and markup.code("`a") == "`` `a ``"
    assert markup.code_block("x\n```\ny", "sh").startswith("````sh\n")
    assert markup.in_figure("$\\foo$") == "\\$\\foo\\$"
    # An escaped pipe inside a table cell stays one cell.
    table = str(markup.Table(__import__("pandas").DataFrame({"A": [markup.escape("x|y")], "B": ["z|w"]})))
    assert table.splitlines()[-1] == "| x\\|y | z\\|w |"


def test_the_markdown_never_holds_the_users_markup(hostile):
    assert hostile.label("lion") == markup.escape(LABEL)
    text = document(hostile)
    outside_code = re.sub(r"^(`{3,}).*?^\1", "", text, flags=re.S | re.M)  # code shows its text as typed
    outside_code = re.sub(r"(`+).*?\1", "", outside_code)
    for raw in ("<script", "<img", "<b>", "<i>", "$\\foo", "$x$", "@x.weights"):
        assert not re.search(r"(?<!\\)" + re.escape(raw), outside_code), raw  # only ever escaped
    # The document's own citations are its own: a label's "@key" is escaped wherever it is written.
    assert "\\@chen2023lion" in text and "\\@kingma2015adam" in text and "\\@holm1979simple" in text
    assert markup.escape(LABEL) in text and markup.escape(BACKBONE) in text
    assert markup.code("we`ird <w> @x.weights.h5") in text  # the weights file, in a code span that holds it
    assert "\\<script\\>" in title.metadata(hostile)["title"]


def _pandoc(markdown: str, to: str, standalone: bool = False) -> str:
    quarto = shutil.which("quarto")
    if quarto is None:
        pytest.skip("quarto (and its pandoc) is not installed")
    command = [quarto, "pandoc", "-f", "markdown", "-t", to] + (["-s"] if standalone else [])
    return subprocess.run(command, input=markdown, capture_output=True, text=True, check=True).stdout


def _labelled(d) -> str:
    """Report parts that carry the labels and no citation of their own."""
    return "\n\n".join([str(tables.summary(d)), str(tables.pairs(d)), str(prose.short_answer(d)),
                        str(prose.notebook_links(d)), str(tables.environment(d)), str(prose.setting(d, "weights")),
                        str(report_sensitivity.section(d)), document(d).split("# Reproduire cette étude")[1]])


def test_html_shows_the_labels_as_text(hostile):
    html = _pandoc(_labelled(hostile), "html")
    assert "<script" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and 'data-cites="chen2023lion"' not in html
    head = _pandoc("---\n" + yaml.safe_dump(title.metadata(hostile), allow_unicode=True) + "---\n", "html", True)
    assert "<script>" not in head and "&lt;script&gt;" in head  # the <title> and the title block


def test_typst_shows_the_labels_as_text(hostile):
    typst = _pandoc(_labelled(hostile), "typst")
    assert "<chen2023lion>" not in typst and "<holm1979simple>" not in typst  # no citation made of a label
    assert not re.search(r"(?<!\\)\$", typst)  # every dollar escaped: no mathematics


def test_figures_draw_the_labels_literally(hostile):
    figures = [plots.differences(hostile), plots.histories(hostile), plots.confusions(hostile), plots.timing(hostile),
               report_sensitivity.figure(hostile)]
    for fig in figures:
        fig.savefig(io.BytesIO(), format="png")  # mathtext would fail on $\foo$
    drawn = [t.get_text() for fig in figures for t in fig.findobj(__import__("matplotlib").text.Text)]
    assert any(markup.in_figure(LABEL) in t for t in drawn)
