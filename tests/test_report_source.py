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
