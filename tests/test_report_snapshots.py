"""Every regime of the report on file: the whole text a reader gets, compared with ``tests/snapshots/<regime>.md``.

The results folders are written by ``tests/report_fixtures.py`` (no training: a few seconds each), the text by
``tests/report_text.py`` (the ``.qmd`` run without Quarto). A change to the report's words shows here as a text diff
to review; once it reads right, regenerate the files on purpose:

    LIONPOC_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_report_snapshots.py
"""
import difflib
import os
from pathlib import Path

import pytest

import report_fixtures
from report_text import document

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE = os.environ.get("LIONPOC_UPDATE_SNAPSHOTS") == "1"


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return tmp_path_factory.mktemp("regimes")


@pytest.mark.parametrize("regime", list(report_fixtures.REGIMES))
def test_the_report_of_each_regime_reads_as_on_file(regime, folders):
    text = document(report_fixtures.write(folders / regime, report_fixtures.REGIMES[regime]))
    path = SNAPSHOTS / f"{regime}.md"
    if UPDATE or not path.is_file():
        path.write_text(text, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"{path.name} did not exist: written now, read it and commit it")
        return
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), f"{path.name} (on file)",
                                            f"{path.name} (now)", n=1))
        pytest.fail(f"the {regime} report changed; if the change is wanted, rerun with LIONPOC_UPDATE_SNAPSHOTS=1\n"
                    + diff[:6000])
