"""What the report's Markdown sources may not hold, because pandoc reads it otherwise than it looks."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [ROOT / "report" / "index.qmd", *sorted((ROOT / "report").rglob("*.md"))]
# "[" then a space, closed by "]{...}": a span (conditional content included) that begins with a space.
SPAN_WITH_LEADING_SPACE = re.compile(r"\[[ \t]+[^\[\]]*\]\{")


def test_no_span_begins_with_a_space():
    """Pandoc drops the spaces a span begins with: "mémoire.[ Une preuve]{.content-visible ...}" rendered as
    "mémoire.Une preuve" in both formats. A span that must begin with a space writes it "[\\ " (no-break)."""
    found = [f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)[:40]}"
             for path in SOURCES for text in [path.read_text(encoding="utf-8")]
             for m in SPAN_WITH_LEADING_SPACE.finditer(text)]
    assert found == []


def test_the_check_catches_the_case_it_is_for():
    assert SPAN_WITH_LEADING_SPACE.search('mémoire.[ Une preuve]{.content-visible when-meta="x"}')
    assert not SPAN_WITH_LEADING_SPACE.search('mémoire.[\\ Une preuve]{.content-visible when-meta="x"}')


def test_the_report_finds_its_sources_through_the_project_not_its_own_path(tmp_path, monkeypatch):
    """``project.report_dir``: the report/ being rendered (a private copy, as ``lionpoc render`` makes one, whose
    kernel runs in its report/), else the project's; no module reaches the checkout with ``parents[N]``."""
    import shutil

    from lionpoc import project
    from lionpoc.report import data

    copy = tmp_path / "copy"
    shutil.copytree(ROOT / "report", copy / "report")
    shutil.copy(ROOT / "_quarto.yml", copy / "_quarto.yml")
    (copy / "report" / "study_2023.yaml").write_text("optimizers: {}\nbaseline_accuracy: 0.5\n")
    monkeypatch.chdir(copy / "report")
    assert project.report_dir() == copy / "report" and data.study_2023()["baseline_accuracy"] == 0.5
    monkeypatch.chdir(tmp_path)  # outside any copy: the project's own report/
    assert project.report_dir() == ROOT / "report" and data.study_2023()["baseline_accuracy"] == 0.77
    reaching = [f"{p.relative_to(ROOT)}:{i}" for p in sorted((ROOT / "src").rglob("*.py"))
                for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                if "__file__" in line and "parents[" in line]
    assert reaching == []


# Issue 23: the French held in Python string literals was 27,435 characters (tests/french_share.py); "done" was at
# most half of it. A sentence moved back into Python pushes the count up and fails here.
PYTHON_FRENCH_LIMIT = 27_435 // 2


def test_the_french_held_in_python_stays_under_half_of_what_it_was(tmp_path):
    from french_share import python_french

    assert python_french() <= PYTHON_FRENCH_LIMIT
    # The count is real: a French literal counts whole, a docstring, an English literal and an f-string's code do not.
    (tmp_path / "m.py").write_text('"""Le module."""\nA = "la tête"\nB = "head"\nC = f"{A} et {B}"\n', encoding="utf-8")
    assert python_french(tmp_path) == len("la tête") + len(" et ")
