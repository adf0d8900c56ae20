"""Figures shared by the notebook and the report (matplotlib; returned, never shown or saved here)."""
from __future__ import annotations

import matplotlib.pyplot as plt  # without a screen matplotlib falls back to Agg; Jupyter uses inline
import numpy as np
import pandas as pd
from collections.abc import Mapping
from matplotlib.ticker import FuncFormatter, MaxNLocator, ScalarFormatter


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
MINUS = "\u2212"


def french_tick(value: float, _position=None) -> str:
    """An axis label the French way: ``0,2``, ``1,4``, ``−3``, ``1 000`` (no decimal point, no hyphen)."""
    text = f"{value:,.6f}".rstrip("0").rstrip(".")
    text = text.replace(",", "\u202f").replace(".", ",")
    if text in ("-0", ""):
        text = "0"
    return text.replace("-", MINUS)


def french_axes(fig):
    """Every numeric axis of ``fig`` labelled with decimal commas (category and log axes untouched)."""
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if type(axis.get_major_formatter()) is ScalarFormatter:
                axis.set_major_formatter(FuncFormatter(french_tick))
    return fig


def name_of(name: str, labels: dict | None) -> str:
    return (labels or LABELS).get(name, name)


def colour_of(name: str, colours: dict | None, index: int = 0) -> str:
    return (colours or COLOURS).get(name) or f"C{index % 10}"


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
    return french_axes(fig)


def epoch_axis(ax, epochs: pd.Series) -> None:
    """Whole epochs on the horizontal axis; a run of a few epochs gets half an epoch of margin each side
    instead of matplotlib's fractional ticks around a single point."""
    if len(epochs) <= FEW_EPOCHS:
        ax.set_xticks(range(int(epochs.min()), int(epochs.max()) + 1))
        ax.set_xlim(epochs.min() - 0.5, epochs.max() + 0.5)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins="auto", steps=[1, 2, 5, 10], integer=True))


def histories(runs: dict[str, tuple[pd.DataFrame, int]], labels: dict | None = None, colours: dict | None = None):
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
            ax.plot(hist["epoch"], hist[f"val_{key}"], color=colour_of(name, colours, col), label="validation",
                    marker=marker)
            ax.axvline(best, color="#888888", linestyle="--", linewidth=1, label="époque retenue")
            ax.grid(alpha=0.3)
            epoch_axis(ax, hist["epoch"])
            if col == 0:
                ax.set_ylabel(label)
        axes[0, col].set_title(name_of(name, labels))
        axes[1, col].set_xlabel("Époque")
        axes[1, col].legend(loc="lower right", fontsize=7)
    return french_axes(fig)


def _literal(name) -> str:
    """A class name as matplotlib draws it literally (a ``$`` would open mathtext)."""
    return str(name).replace("$", r"\$")


def confusion(matrix: pd.DataFrame, title: str = "", ax=None, words: tuple[str, str] = ("race", "races")):
    """Row-normalised confusion matrix (each row sums to 1), readable class names (``words``: what a class is
    called); beyond 20 classes the figure grows, its names shrink and its cells carry no numbers."""
    normalised = shares(matrix)
    own = ax is None
    many = len(matrix) > 20
    if own:
        side = max(7, 0.14 * len(matrix) + 2)
        fig, ax = plt.subplots(figsize=(side, side * 6 / 7), constrained_layout=True)
    image = ax.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
    ticks = np.arange(len(matrix))
    size = 7 if not many else max(3, 7 - len(matrix) // 25)
    ax.set_xticks(ticks, [_literal(c) for c in matrix.columns], rotation=60 if not many else 90, ha="right",
                  fontsize=size)
    ax.set_yticks(ticks, [_literal(c) for c in matrix.index], fontsize=size)
    race = words[0]
    ax.set_xlabel(f"{race.capitalize()} prédite")
    ax.set_ylabel(f"{race.capitalize()} réelle")
    for i, j in zip(*np.nonzero(normalised >= 0.005)) if not many else ():
        ax.text(j, i, french_tick(round(normalised[i, j], 2)), ha="center", va="center", fontsize=5,
                color="white" if normalised[i, j] > 0.5 else "black")
    if title:
        ax.set_title(title)
    if own:
        fig.colorbar(image, ax=ax, fraction=0.046, label=f"Proportion de la {race} réelle")
        return french_axes(fig)
    return image


CONFUSION_LEVELS = (0.15, 0.10, 0.05, 0.02)  # shares from which a confusion is written, tried in turn


def shares(matrix: pd.DataFrame) -> np.ndarray:
    """A confusion matrix normalised by true breed: each row gives the share of that breed's images
    predicted as each breed (a row without images stays zero)."""
    values = matrix.to_numpy(dtype=float)
    totals = values.sum(axis=1, keepdims=True)
    return np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)


def off_diagonal(matrix: pd.DataFrame) -> np.ndarray:
    """The shares of confusions only (the diagonal, the images classified right, set to zero)."""
    values = shares(matrix)
    np.fill_diagonal(values, 0)
    return values


def confusion_level(matrices: dict[str, pd.DataFrame]) -> float | None:
    """The share from which a confusion is written on the figure: the highest of ``CONFUSION_LEVELS``
    that every matrix reaches somewhere off its diagonal, so that no panel is left without a number
    (a well-trained head rarely confuses 15 % of a breed); the lowest level when some matrix reaches
    none; ``None`` when no image is confused at all."""
    highest = [float(off_diagonal(m).max()) if len(m) else 0.0 for m in matrices.values()]
    if not highest or max(highest) == 0:
        return None
    for level in CONFUSION_LEVELS:
        if min(highest) >= level:
            return level
    return CONFUSION_LEVELS[-1]


def confusions_grid(matrices: dict[str, pd.DataFrame], labels: dict | None = None, names=None,
                    words: tuple[str, str] = ("race", "races")):
    """Several optimizers' row-normalised confusion matrices on one figure, one shared colour scale.

    Breeds (``names``, the 15 breeds' French names by default) are numbered 1-15 (study order) on the axes and named
    once, in a legend panel: with
    three optimizers the figure is a 2 x 2 grid that fits an A4 page and stays readable. Shares are in
    percent; every confusion of at least ``confusion_level(matrices)`` is written in its cell.
    """
    from lionpoc.data import breeds

    panels = len(matrices) + 1
    cols = 2 if panels > 2 else panels
    rows = -(-panels // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(8.2, 3.8 * rows), constrained_layout=True, squeeze=False)
    flat = list(axes.flat)
    image = None
    level = confusion_level(matrices)
    for ax, (name, matrix) in zip(flat, matrices.items()):
        image = ax.imshow(100 * shares(matrix), cmap="Blues", vmin=0, vmax=100)
        ticks = np.arange(len(matrix))
        ax.set_xticks(ticks, [str(i + 1) for i in ticks], fontsize=8)
        ax.set_yticks(ticks, [str(i + 1) for i in ticks], fontsize=8)
        ax.set_xlabel(f"{words[0].capitalize()} prédite")
        ax.set_ylabel(f"{words[0].capitalize()} réelle")
        ax.set_title(name_of(name, labels), fontsize=12)
        confused = off_diagonal(matrix)
        for i, j in zip(*np.nonzero(confused >= level)) if level is not None else ():
            ax.text(j, i, french_tick(round(100 * confused[i, j])), ha="center", va="center", fontsize=7,
                    color="black")
    legend = flat[len(matrices)]
    legend.axis("off")
    legend.text(0.02, 1.0, "\n".join(f"{i + 1:>2}  {name}" for i, name in enumerate(names or breeds.FRENCH)),
                va="top", ha="left", fontsize=8.5, family="DejaVu Sans", linespacing=1.35,
                transform=legend.transAxes)
    for ax in flat[len(matrices) + 1:]:
        ax.axis("off")
    bar = legend.inset_axes([0.04, 0.0, 0.85, 0.05])
    fig.colorbar(image, cax=bar, orientation="horizontal", label=f"Part des images de la {words[0]} réelle (%)")
    return french_axes(fig)


def timing(samples: dict[str, np.ndarray], epochs: pd.DataFrame, labels: dict | None = None,
           colours: dict | None = None):
    """Left: seconds per epoch of each optimizer's chosen head timed alone, one dot per repetition and
    the median as a bar. Right: epochs run and epochs to the common 95 % target (``epochs``, indexed by
    optimizer, columns ``epochs_run`` and ``epochs_to_95``)."""
    fig, (per_epoch, count) = plt.subplots(1, 2, figsize=(9, 3.2), constrained_layout=True)
    names = list(epochs.index)
    positions = np.arange(len(names))
    scale = 1000 if samples and max(np.median(v) for v in samples.values()) < 1 else 1
    for i, name in enumerate(names):
        colour = colour_of(name, colours, i)
        if name in samples:
            values = np.asarray(samples[name]) * scale
            per_epoch.bar(i, np.median(values), color=colour, alpha=0.35, width=0.6)
            per_epoch.plot(np.full(len(values), i) + np.linspace(-0.15, 0.15, len(values)), values, "o", color=colour,
                           markersize=4)
        count.bar(i - 0.2, epochs.loc[name, "epochs_run"], width=0.4, color=colour, label="effectuées" if i == 0 else None)
        reached = epochs.loc[name, "epochs_to_95"]
        count.bar(i + 0.2, 0 if pd.isna(reached) else reached, width=0.4, color=colour, alpha=0.4, hatch="//",
                  label="jusqu'à la cible 95 %" if i == 0 else None)
        if pd.isna(reached):  # never reached: said on the chart, not left as an empty slot
            count.text(i + 0.2, 0, "jamais", rotation=90, ha="center", va="bottom", fontsize=8, color=colour,
                       fontweight="bold")
    for ax in (per_epoch, count):
        ax.set_xticks(positions, [name_of(n, labels) for n in names])
        ax.grid(axis="y", alpha=0.3)
    per_epoch.set_ylabel(("Millisecondes" if scale == 1000 else "Secondes") + " par époque (seule)")
    per_epoch.set_ylim(bottom=0)
    if not samples:
        per_epoch.text(0.5, 0.5, "mesure isolée absente", ha="center", va="center", transform=per_epoch.transAxes)
    count.set_ylabel("Époques (moyenne des graines)")
    count.legend(fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    return french_axes(fig)


def differences(rows: list[dict], labels: dict | None = None, colours: dict | None = None):
    """The answer in one figure: for each rival, the paired difference "focus − rival" in points of test
    accuracy with its 95 % interval, after the head (and after fine-tuning when given), and the zero line.

    ``rows``: dicts with ``a`` (the focus), ``b`` (the rival), ``stage`` (``head`` or ``fine_tune``),
    ``diff_accuracy``, ``ci_low``, ``ci_high``.
    """
    rivals = list(dict.fromkeys(r["b"] for r in rows))
    stages = list(dict.fromkeys(r["stage"] for r in rows))
    fig, ax = plt.subplots(figsize=(7.5, 1.1 + 0.32 * len(rivals) * len(stages)), constrained_layout=True)
    offsets = {stage: (k - (len(stages) - 1) / 2) * 0.3 for k, stage in enumerate(stages)}
    styles = {"head": ("o", "#333333", "tête seule"), "fine_tune": ("s", "#e67e22", "après ajustement fin")}
    for row in rows:
        y = rivals.index(row["b"]) + offsets[row["stage"]]
        marker, colour, text = styles.get(row["stage"], ("o", "#333333", row["stage"]))
        d, low, high = (100 * row[k] for k in ("diff_accuracy", "ci_low", "ci_high"))
        ax.errorbar(d, y, xerr=[[d - low], [high - d]], fmt=marker, color=colour, capsize=4,
                    label=text if rivals.index(row["b"]) == 0 else None)
    ax.axvline(0, color="#888888", linewidth=1)
    focus = rows[0]["a"] if rows else ""
    ax.set_yticks(range(len(rivals)), [f"{name_of(focus, labels)} − {name_of(r, labels)}" for r in rivals])
    ax.set_xlabel("Écart d'exactitude sur le test (points), intervalle à 95 %")
    span = max([abs(100 * r[k]) for r in rows for k in ("ci_low", "ci_high")] + [1.0])
    ax.set_xlim(-1.1 * span, 1.1 * span)
    ax.set_ylim(len(rivals) - 0.5, -0.5)
    ax.grid(axis="x", alpha=0.3)
    if len(stages) > 1:
        ax.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(stages), frameon=False)
    return french_axes(fig)


def close(fig) -> None:
    """Release a figure once it is saved (a notebook that runs several seeds would otherwise keep them all)."""
    plt.close(fig)


def seeds_history(runs: dict, title: str = "", colour: str = "#d62728"):
    """Validation loss and accuracy per epoch of every seed's chosen configuration in one pair of panels
    (``runs``: seed -> (history, best epoch)), each seed's kept epoch marked by a dot: one figure per
    optimizer, however many seeds it ran."""
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(9, 3.4), constrained_layout=True)
    longest = pd.Series(dtype=float)
    for seed, (hist, best) in runs.items():
        for ax, key in ((loss_ax, "val_loss"), (acc_ax, "val_accuracy")):
            ax.plot(hist["epoch"], hist[key], color=colour, alpha=0.55, linewidth=1)
            kept = hist[hist["epoch"] == best]
            ax.plot(kept["epoch"], kept[key], "o", color=colour, markersize=3)
        longest = hist["epoch"] if len(hist) > len(longest) else longest
    for ax, label in ((loss_ax, "Perte de validation"), (acc_ax, "Exactitude de validation")):
        ax.set_xlabel("Époque")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        if len(longest):
            epoch_axis(ax, longest)
    acc_ax.plot([], [], "o", color=colour, markersize=3, label="époque retenue")
    acc_ax.legend(loc="lower right", fontsize=8)
    if title:
        fig.suptitle(title)
    return french_axes(fig)
