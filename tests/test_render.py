"""The real `quarto render` of the whole project, where the quarto command exists."""
import os
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(shutil.which("quarto") is None,
                                reason="the quarto command is not installed here (quarto-cli downloads its binary "
                                       "from GitHub at install time, which this machine cannot reach)")


def test_lionpoc_render_makes_html_and_pdf(results_dir, request):
    root = request.config.rootpath
    done = subprocess.run([sys.executable, "-m", "lionpoc.cli", "render", "--results-dir", str(results_dir)],
                          cwd=root, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    html = root / "_output" / "report" / "index.html"
    pdf = root / "_output" / "report" / "index.pdf"
    assert html.is_file() and "Conclusion" in html.read_text(encoding="utf-8")
    assert pdf.is_file() and pdf.read_bytes().count(b"/Type /Page") >= 5
    assert (root / "_output" / "results" / "lion" / "seed-0" / "training.ipynb").is_file()
