"""The report's figures (matplotlib), built from the results; each is closed before it is returned so
that Jupyter displays it once."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from lionpoc.study import figures
from lionpoc.report import findings
from lionpoc.report import markup
from lionpoc import files
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
    return _shown_once(figures.histories(runs, d.labels(figure=True), d.colours())) if runs else _empty()


def fine_tune_histories(d: ReportData):
    """Fine-tuning curves, or nothing at all when there is no fine-tuning (no empty figure)."""
    return None if d.fine_tune.empty else histories(d, "fine_tune")


def confusions(d: ReportData):
    """The three normalised confusion matrices side by side (summed over seeds), on one figure."""
    if d.empty:
        return _empty()
    return _shown_once(figures.confusions_grid(d.confusions(), d.labels(figure=True),
                                               [markup.in_figure(n) for n in d.dataset.display],
                                               d.dataset.words))


def thumbnails(d: ReportData):
    """The study's few training images of each class (``thumbnails.png``, drawn by the study from the images), or
    nothing when it has none (more than 20 classes, or results without it)."""
    import matplotlib.image

    path = d.results_dir / "thumbnails.png"
    if not path.is_file():
        return None
    pixels = matplotlib.image.imread(path)
    height, width = pixels.shape[:2]
    fig, ax = plt.subplots(figsize=(6.5, 6.5 * height / width))
    ax.imshow(pixels, interpolation="lanczos")
    ax.axis("off")
    fig.subplots_adjust(0, 0, 1, 1)
    return _shown_once(fig)


def timing(d: ReportData):
    """Per-epoch time of each chosen head timed alone (``timing.csv``), epochs run and to the common target."""
    if d.summary.empty:
        return _empty()
    epochs = d.summary.set_index("optimizer")[["epochs_run"]]
    if not d.time_to_accuracy.empty and "epochs_to_95" in d.time_to_accuracy.columns:
        epochs = epochs.join(d.time_to_accuracy.set_index("optimizer")["epochs_to_95"])
    else:
        epochs["epochs_to_95"] = float("nan")
    epochs = epochs.reindex([n for n in d.optimizers if n in epochs.index])
    return _shown_once(figures.timing(findings.timing_samples(d), epochs, d.labels(figure=True), d.colours()))


def differences(d: ReportData):
    """The opening figure: "focus − rival" paired differences with their intervals (None without a pair)."""
    if not d.compared:
        return None
    def shown(p: dict, stage: str) -> dict:  # the interval of the verdict: seeds and test images when recorded
        low, high = findings.bounds(p)
        return {**p, "ci_low": low, "ci_high": high, "stage": stage}

    rows = [shown(p, "head") for p in findings.focus_pairs(d)]
    if not d.fine_tune_pairs.empty:
        rows += [shown(p, "fine_tune") for p in findings.focus_pairs(d, "fine_tune")]
    return _shown_once(figures.differences(rows, d.labels(figure=True), d.colours())) if rows else None
