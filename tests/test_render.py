"""The real `quarto render` of the report, read as a reader would: on a smoke study and on real photos.

Checks what one sees: the sections, the figure and table counts, no unresolved cross-reference, the
warnings on page 1, no heading printed twice, an HTML file that loads nothing from the network, at
most 13 PDF pages, and no tracked file changed by the render.
"""
import datetime
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("quarto") is None,
                                 reason="the quarto command is not installed here (quarto-cli downloads its binary "
                                        "from GitHub at install time; .ci/run installs the offline kit instead)"),
              pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None,
                                 reason="pdftotext and pdfinfo (poppler-utils) are needed to read the PDF")]

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
SECTIONS = ["Résumé", "Introduction", "Thématique", "État de l'art", "Prototype", "Résultats",
            "Robustesse des résultats", "Coûts", "Comparaison avec l'étude de 2023", "Conclusion",
            "Reproduire cette étude", "Bibliographie"]


def pdf_text(pdf, first=None, last=None):
    args = ["pdftotext", "-layout"] + (["-f", str(first), "-l", str(last)] if first else []) + [str(pdf), "-"]
    text = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return text.replace("\u2019", "'")  # typographic apostrophes, as Typst prints them


def render(results_dir, root):
    before = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True).stdout
    done = subprocess.run([sys.executable, "-m", "lionpoc.cli", "render", "--results-dir", str(results_dir)],
                          cwd=root, capture_output=True, text=True, timeout=900, env={**os.environ})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    after = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True).stdout
    assert after == before, "rendering changed files of the repository"
    assert "IPKernelApp" not in done.stdout + done.stderr and "absl" not in done.stdout + done.stderr
    # A study's report goes under its own results folder (the project's _output/ is for results/ alone).
    html = (results_dir / "_output" / "report" / "index.html").read_text(encoding="utf-8")
    pdf = results_dir / "_output" / "report" / "index.pdf"
    return html, pdf


def empty_bands(pdf) -> list[float]:
    """For each PDF page but the last, the tallest band without ink between the first line and the page number
    (the foot of the page included), as a share of the page's height: a page that stops short or leaves a hole
    before a figure or a table shows a tall one; the spacing around a heading does not."""
    import tempfile

    import numpy as np
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-r", "30", "-gray", "-png", str(pdf), f"{tmp}/p"], check=True)
        pages = sorted(Path(tmp).glob("p-*.png"))
        bands = []
        for page in pages[:-1]:
            ink = (np.asarray(Image.open(page).convert("L")) < 200).any(axis=1)
            height = len(ink)
            foot = int(0.9 * height)  # the page number's line, below the text area
            rows = np.flatnonzero(ink[:foot])
            gaps = np.diff(np.concatenate([rows, [foot]])) if len(rows) else np.array([foot])
            bands.append(float(gaps.max()) / height)
    return bands


def check_reader_view(html, pdf, warning_title):
    text = pdf_text(pdf)
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True,
                                                              text=True).stdout).group(1))
    # 13 pages before tuning was shown in full (heat maps, learning-rate curves, expected best: issue 24);
    # 17 for the smoke study after it. A bound, so that the report cannot bloat unseen.
    assert pages <= 18
    assert "??" not in text
    for section in SECTIONS:
        assert section in text, section
    assert text.count("Bibliographie") == 2  # the table of contents and the heading, once each
    page1 = pdf_text(pdf, 1, 1)
    # The warnings and the abstract on page 1, then the contents (on page 1 or, after a longer abstract, page 2).
    opening = pdf_text(pdf, 1, 2)
    assert warning_title in page1 and "Résumé" in page1 and "Table des matières" in opening
    assert opening.index(warning_title) < opening.index("Résumé") < opening.index("Table des matières")
    # The render's date the French way: the first of the month is an ordinal (« 1er décembre 2026 »).
    today = datetime.date.today()
    day = f"{'1er' if today.day == 1 else today.day} {MONTHS[today.month - 1]} {today.year}"
    assert day in page1 and f'class="date">{day}<' in html
    headings = re.findall(r"^\s*(\d+(?:\.\d+)?)\s+[A-ZÉÀ]", text, flags=re.M)
    assert len(set(headings)) > 20
    # differences, curves, confusions, times, then tuning in full view: heat maps, learning rate, expected best
    assert len(re.findall(r"Figure \d+\. –", text)) == 7
    assert len(re.findall(r"Tableau \d+\. –", text)) >= 12
    # No half-empty page: figures and tables float, the text flows around them. A section heading kept with its
    # subheading and first lines may leave about a ninth of a page; a table pushed whole to the next page left
    # up to a third before floats (0.17 to 0.36 on the renders of the time).
    assert max(empty_bands(pdf)) < 0.14, [round(b, 2) for b in empty_bands(pdf)]
    # HTML: one self-contained file, nothing from the network (links to references may be external).
    for tag in re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", html):
        assert not re.search(r"""(?:src|href)=["']https?://""", tag), tag
    assert "<math" in html and "mathjax" not in html.lower()
    # Figures drawn wider than the column are scaled to it (they used to hide behind a scroll bar).
    assert re.search(r"\.quarto-figure img[^{]*\{\s*max-width:\s*100%", html)
    assert all(int(w) > 700 for w in re.findall(r'<img role="img"[^>]*width="(\d+)"', html))
    assert ">PDF<" in html and ">Typst<" not in html
    assert warning_title in html


def test_render_a_smoke_study(results_dir, request):
    html, pdf = render(results_dir, request.config.rootpath)
    check_reader_view(html, pdf, "Données synthétiques")
    assert (results_dir / "_output" / "results" / "lion" / "training.ipynb").is_file()


def test_render_real_photos_with_random_weights(real_results_dir, request):
    html, pdf = render(real_results_dir, request.config.rootpath)
    check_reader_view(html, pdf, "Xception sans pré-entraînement")
    assert "Données synthétiques" not in pdf_text(pdf)


def outside_2023(text):
    """The PDF's text without the section on the 2023 study (whose own figures name all three)."""
    start = text.index("Comparaison avec l'étude de 2023\n", text.index("Table des matières") + 200)
    return text[:start] + text[text.index("Conclusion\n", start):]


def test_render_any_subset_names_only_what_ran(results_dir, request, tmp_path):
    """Two optimizers, then one: the title, every sentence, table and caption speak of those only."""
    from test_report_regimes import subset

    root = request.config.rootpath
    # A synthetic study is a check of the chain: "Lion face à Adam : vérification de la chaîne de traitement".
    for keep, title in ((["adam", "lion"], "Lion face à Adam"), (["lion"], "Lion")):
        html, pdf = render(subset(results_dir, tmp_path / "-".join(keep), keep), root)
        text = pdf_text(pdf)
        page1 = " ".join(pdf_text(pdf, 1, 1).replace("\u202f", " ").replace("\u00a0", " ").split())
        assert page1.startswith(f"{title} : vérification de la chaîne de traitement"), page1[:120]
        assert "AdamW" not in outside_2023(text) and "trois optimiseurs" not in text.lower()
        assert "??" not in text and "Traceback" not in text and "{python}" not in text
    assert "Cette étude n'a entraîné que Lion" in text  # the paired part says why it is absent


def test_render_before_any_study_says_so(request, tmp_path):
    """A plain `quarto render` before any study renders the warning instead of crashing."""
    root = request.config.rootpath
    env = {**os.environ, "LIONPOC_RESULTS": str(tmp_path / "none")}
    done = subprocess.run(["quarto", "render", "--to", "html"], cwd=root, capture_output=True, text=True, timeout=900,
                          env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    html = (root / "_output" / "report" / "index.html").read_text(encoding="utf-8")
    assert "Aucun résultat" in html and "Traceback" not in html
    # An earlier report of that (now empty) results folder, where `lionpoc render` publishes it: a refused
    # render must not leave it behind as if it described these results.
    stale = tmp_path / "none" / "_output" / "report" / "index.html"
    stale.parent.mkdir(parents=True)
    stale.write_text(html, encoding="utf-8")
    refused = subprocess.run([sys.executable, "-m", "lionpoc.cli", "render", "--results-dir", str(tmp_path / "none")],
                             cwd=root, capture_output=True, text=True, timeout=300, env={**os.environ})
    assert refused.returncode != 0 and "no results" in refused.stdout + refused.stderr
    assert not stale.exists()  # the earlier report is not left behind


def test_render_a_fourth_optimizer_everywhere_the_others_are(tmp_path_factory, synthetic_dir, request):
    """SGD added to the study (`--optimizers adam,adamw,lion,sgd`): it has a row in every table where AdamW
    has one, a pair with Lion, a panel or bar in every figure (their alt text names it), and the report
    counts four optimizers."""
    from conftest import make_results

    base = tmp_path_factory.mktemp("four")
    results = make_results(base / "results", synthetic_dir, base / "cache", seeds=(0,),
                           optimizers=("adam", "adamw", "lion", "sgd"))
    html, pdf = render(results, request.config.rootpath)
    text = outside_2023(pdf_text(pdf))
    # Table rows (the label, then columns); the 2023 study's own rows (in minutes) have no SGD, rightly.
    # A line that starts "AdamW   −" is the end of a wrapped pair's name ("Adam − AdamW"), not a row of AdamW.
    rows = lambda label: [line for line in re.findall(rf"^[ \t]*{label}[ \t]{{2,}}(?![ \t−]).*$", text, flags=re.M)  # noqa: E731
                          if not re.search(r"\bmin\b", line)]
    assert len(rows("SGD")) == len(rows("AdamW")) >= 4, (rows("SGD"), rows("AdamW"))
    # Pairs counted in the HTML: in the PDF's layout a narrow column may wrap "Lion −" over "AdamW".
    words = re.sub(r"<[^>]+>", " ", html)
    assert words.count("Lion − SGD") == words.count("Lion − AdamW") >= 1
    assert "SGD" in pdf_text(pdf, 1, 2)  # the title or the abstract name it
    # Each figure of the report draws SGD where it draws AdamW (a panel title, a legend entry or a tick).
    from lionpoc import report
    from lionpoc.report import plots

    d = report.load(results)
    for make in (plots.differences, plots.histories, plots.confusions, plots.timing):
        figure = make(d)
        words = [t.get_text() for ax in figure.axes for t in [ax.title, *ax.get_xticklabels(), *ax.get_yticklabels(),
                                                                *(ax.get_legend().get_texts() if ax.get_legend() else [])]]
        words += [t.get_text() for t in figure.texts]
        shown = " ".join(words)
        assert "AdamW" in shown and "SGD" in shown, (make.__name__, shown)
