"""`lionpoc study --smoke --sensitivity` then `lionpoc render`: the report gains its Sensibilité section."""
import re
import subprocess
import sys

import pandas as pd

from test_render import pdf_text, pytestmark as render_marks  # noqa: F401 (same skips: quarto, poppler)

pytestmark = render_marks


def test_a_smoke_study_with_sensitivity_renders_the_section(tmp_path, project_root):
    out = tmp_path / "results"
    study = subprocess.run([sys.executable, "-m", "lionpoc.cli", "study", "--smoke", "--sensitivity", "--seeds", "2",
                            "--optimizers", "adamw,lion", "--results-dir", str(out), "--no-render"],
                           cwd=project_root, capture_output=True, text=True, timeout=1200)
    assert study.returncode == 0, study.stdout[-3000:] + study.stderr[-3000:]
    table = pd.read_csv(out / "sensitivity.csv")
    assert len(table) == 2 * 2 * 4 * 2  # optimizers x seeds x batch sizes x schedules
    assert {"batch_size", "schedule", "test_accuracy", "epochs_run"} <= set(table.columns)

    render = subprocess.run([sys.executable, "-m", "lionpoc.cli", "render", "--results-dir", str(out)],
                            cwd=project_root, capture_output=True, text=True, timeout=900)
    assert render.returncode == 0, render.stdout[-3000:] + render.stderr[-3000:]
    text = pdf_text(out / "_output" / "report" / "index.pdf")
    assert "Sensibilité" in text and "Budget de réglage" in text and "??" not in text
    assert "Écart entre Lion et le meilleur des autres optimiseurs" in re.sub(r"\s+", " ", text)
    assert "Étude de sensibilité" in re.sub(r"\s+", " ", pdf_text(out / "_output" / "report" / "index.pdf", 1, 2))
    assert re.search(r"Figure \d+\. – Exactitude sur le test selon la taille de lot", text)
    html = (out / "_output" / "report" / "index.html").read_text(encoding="utf-8")
    assert 'id="fig-sensibilite"' in html and 'id="tbl-planification"' in html
