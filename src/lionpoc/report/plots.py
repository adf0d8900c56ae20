"""The report's figures (matplotlib), built from the results; each is closed before it is returned so
that Jupyter displays it once."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from lionpoc.report import figures
from lionpoc import files
from lionpoc.study import layout
from lionpoc.report.data import ReportData


def _shown_once(fig):
    plt.close(fig)
    return fig


def _empty(message: str = "Aucun résultat"):
    fig, ax = plt.subplots(figsize=(6, 1.2))
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center")
    return _shown_once(fig)


def histories(d: ReportData, which: str = "head"):
    """Learning curves of each optimizer's first seed, best epoch marked (of the head, or of fine-tuning)."""
    runs = {}
    file, key = ("history.csv", "best_epoch") if which == "head" else ("fine_tune_history.csv", "ft_best_epoch")
    for name in d.optimizers:
        run = d.run_paths(name)[0]
        if (run / file).is_file():
            runs[name] = (pd.read_csv(run / file), int(files.read_json(run / "metrics.json")[key]))
    return _shown_once(figures.histories(runs)) if runs else _empty()


def fine_tune_histories(d: ReportData):
    """Fine-tuning curves, or nothing at all when there is no fine-tuning (no empty figure)."""
    return None if d.fine_tune.empty else histories(d, "fine_tune")


def confusions(d: ReportData):
    """The three normalised confusion matrices side by side (summed over seeds), on one figure."""
    if d.empty:
        return _empty()
    matrices = {}
    for name in d.optimizers:
        frames = [pd.read_csv(p / "confusion.csv", index_col=0) for p in d.run_paths(name)]
        matrices[name] = sum(frames[1:], frames[0])
    return _shown_once(figures.confusions_grid(matrices))


def timing(d: ReportData):
    if d.summary.empty:
        return _empty()
    return _shown_once(figures.timing(d.summary.set_index("optimizer")))
