"""Figures shared by the notebook and the report (matplotlib; returned, never shown or saved here)."""
from __future__ import annotations

import matplotlib.pyplot as plt  # without a screen matplotlib falls back to Agg; Jupyter uses inline
import numpy as np
import pandas as pd
from collections.abc import Mapping
from matplotlib.ticker import MaxNLocator


class _Registry(Mapping):
    """An optimizer's label or colour, read from its parameter file (``analysis/params/<name>.yaml``);
    a name without a file shows as itself, in matplotlib's default colour."""

    def __init__(self, key: str, fallback):
        self.key, self.fallback = key, fallback

    def __getitem__(self, name: str):
        from lionpoc.model import optimizers

        try:
            return getattr(optimizers.load(name), self.key)
        except Exception:  # an optimizer whose file is gone or broken still gets a name and a colour
            return self.fallback(name)

    def get(self, name, default=None):
        return self[name]

    def __iter__(self):
        from lionpoc.model import optimizers

        return iter(optimizers.available())

    def __len__(self):
        return len(list(iter(self)))


COLOURS = _Registry("colour", lambda name: "C0")
LABELS = _Registry("label", lambda name: name)
FEW_EPOCHS = 5  # a curve this short shows its points, and its axis one tick per epoch


def history(history: pd.DataFrame, best_epoch: int, title: str = ""):
    """Loss and accuracy per epoch, train and validation, with the kept (best) epoch marked."""
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(9, 3.4), constrained_layout=True)
    for ax, key, label in ((loss_ax, "loss", "Perte (entropie croisée)"), (acc_ax, "accuracy", "Exactitude")):
        ax.plot(history["epoch"], history[key], label="entraînement", color="#555555")
        ax.plot(history["epoch"], history[f"val_{key}"], label="validation", color="#d62728")
        ax.axvline(best_epoch, color="#888888", linestyle="--", linewidth=1, label=f"époque retenue ({best_epoch})")
        ax.set_xlabel("Époque")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        epoch_axis(ax, history["epoch"])
    acc_ax.legend(loc="lower right", fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def epoch_axis(ax, epochs: pd.Series) -> None:
    """Whole epochs on the horizontal axis; a run of a few epochs gets half an epoch of margin each side
    instead of matplotlib's fractional ticks around a single point."""
    if len(epochs) <= FEW_EPOCHS:
        ax.set_xticks(range(int(epochs.min()), int(epochs.max()) + 1))
        ax.set_xlim(epochs.min() - 0.5, epochs.max() + 0.5)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 5, 10], integer=True))


def histories(runs: dict[str, tuple[pd.DataFrame, int]]):
    """One column per optimizer, loss above and accuracy below (train and validation), best epoch marked;
    each row shares its vertical scale so that the optimizers compare at a glance."""
    n = len(runs)
    fig, axes = plt.subplots(2, n, figsize=(3.1 * n + 0.6, 4.6), constrained_layout=True, squeeze=False,
                             sharey="row")
    for col, (name, (hist, best)) in enumerate(runs.items()):
        for row, (key, label) in enumerate((("loss", "Perte"), ("accuracy", "Exactitude"))):
            ax = axes[row, col]
            marker = "o" if len(hist) <= FEW_EPOCHS else None  # a curve of one or two epochs must still show
            ax.plot(hist["epoch"], hist[key], color="#555555", label="entraînement", marker=marker)
            ax.plot(hist["epoch"], hist[f"val_{key}"], color=COLOURS.get(name, "C0"), label="validation",
                    marker=marker)
            ax.axvline(best, color="#888888", linestyle="--", linewidth=1, label="époque retenue")
            ax.grid(alpha=0.3)
            epoch_axis(ax, hist["epoch"])
            if col == 0:
                ax.set_ylabel(label)
        axes[0, col].set_title(LABELS.get(name, name))
        axes[1, col].set_xlabel("Époque")
        axes[1, col].legend(loc="lower right", fontsize=7)
    return fig


def confusion(matrix: pd.DataFrame, title: str = "", ax=None):
    """Row-normalised confusion matrix (each row sums to 1), readable breed names."""
    values = matrix.to_numpy(dtype=float)
    totals = values.sum(axis=1, keepdims=True)
    normalised = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(7, 6), constrained_layout=True)
    image = ax.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
    ticks = np.arange(len(matrix))
    ax.set_xticks(ticks, list(matrix.columns), rotation=60, ha="right", fontsize=7)
    ax.set_yticks(ticks, list(matrix.index), fontsize=7)
    ax.set_xlabel("Race prédite")
    ax.set_ylabel("Race réelle")
    for i, j in zip(*np.nonzero(normalised >= 0.005)):
        ax.text(j, i, f"{normalised[i, j]:.2f}".replace(".", ","), ha="center", va="center", fontsize=5,
                color="white" if normalised[i, j] > 0.5 else "black")
    if title:
        ax.set_title(title)
    if own:
        fig.colorbar(image, ax=ax, fraction=0.046, label="Proportion de la race réelle")
        return fig
    return image


def confusions_grid(matrices: dict[str, pd.DataFrame]):
    """Several optimizers' row-normalised confusion matrices on one figure, one shared colour scale.

    Breeds are numbered 1-15 (study order) on the axes and named once, in a legend panel: with
    three optimizers the figure is a 2 x 2 grid that fits an A4 page and stays readable.
    """
    from lionpoc.data import breeds

    panels = len(matrices) + 1
    cols = 2 if panels > 2 else panels
    rows = -(-panels // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(8.2, 3.8 * rows), constrained_layout=True, squeeze=False)
    flat = list(axes.flat)
    image = None
    for ax, (name, matrix) in zip(flat, matrices.items()):
        values = matrix.to_numpy(dtype=float)
        totals = values.sum(axis=1, keepdims=True)
        normalised = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)
        image = ax.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
        ticks = np.arange(len(matrix))
        ax.set_xticks(ticks, [str(i + 1) for i in ticks], fontsize=8)
        ax.set_yticks(ticks, [str(i + 1) for i in ticks], fontsize=8)
        ax.set_xlabel("Race prédite")
        ax.set_ylabel("Race réelle")
        ax.set_title(LABELS.get(name, name), fontsize=12)
        for i, j in zip(*np.nonzero((normalised >= 0.15) & ~np.eye(len(matrix), dtype=bool))):
            ax.text(j, i, f"{normalised[i, j]:.2f}"[1:].replace(".", ","), ha="center", va="center", fontsize=6.5,
                    color="black")
    legend = flat[len(matrices)]
    legend.axis("off")
    legend.text(0.02, 1.0, "\n".join(f"{i + 1:>2}  {name}" for i, name in enumerate(breeds.FRENCH)),
                va="top", ha="left", fontsize=8.5, family="DejaVu Sans", linespacing=1.35,
                transform=legend.transAxes)
    for ax in flat[len(matrices) + 1:]:
        ax.axis("off")
    bar = legend.inset_axes([0.04, 0.0, 0.85, 0.05])
    fig.colorbar(image, cax=bar, orientation="horizontal", label="Part des images de la race réelle")
    return fig


def timing(table: pd.DataFrame):
    """Bars: seconds per epoch and total training time per optimizer (``table`` indexed by optimizer)."""
    fig, (per_epoch, total) = plt.subplots(1, 2, figsize=(9, 3.2), constrained_layout=True)
    names = list(table.index)
    colours = [COLOURS.get(n, "C0") for n in names]
    labels = [LABELS.get(n, n) for n in names]
    small = table["seconds_per_epoch"].max() < 1
    per_epoch.bar(labels, table["seconds_per_epoch"] * (1000 if small else 1), color=colours)
    per_epoch.set_ylabel("Millisecondes par époque" if small else "Secondes par époque")
    total.bar(labels, table["train_seconds"], color=colours)
    total.set_ylabel("Durée d'entraînement (s)")
    for ax in (per_epoch, total):
        ax.grid(axis="y", alpha=0.3)
    return fig


def close(fig) -> None:
    """Release a figure once it is saved (a notebook that runs several seeds would otherwise keep them all)."""
    plt.close(fig)
