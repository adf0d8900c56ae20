"""Tuning in full view: figures and a sentence over the study's tuning tables (``tuning_trials.csv``,
``expected_best.csv``), every configuration a seed actually tried, extended values included.

- ``heatmaps``: per optimizer, the validation accuracy of every configuration tried (mean over the seeds that
  tried it), the cells of the initial grid framed in grey, extensions dashed, the chosen cells in black with
  the number of seeds that chose them;
- ``learning_rates``: validation accuracy against the learning rate at each seed's chosen decay, one line per
  seed, every optimizer on one axis (Lion's grid sits lower: its shift shows);
- ``expected_best``: the expected best validation accuracy after n configurations (Dodge et al. 2019), with its
  bootstrap band and each optimizer's mean number of configurations tried;
- ``budget``: the sentence that compares the optimizers at a common number of configurations.
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from lionpoc.study import figures
from lionpoc.report import french
from lionpoc.report.data import ReportData
from lionpoc.report.markup import Text

DECAY_WORDS = {"weight_decay": "décroissance des poids λ", "l2": "pénalité L2"}


def _shown_once(fig):
    plt.close(fig)
    return fig


def _trials(d: ReportData):
    trials = d.table("tuning_trials.csv")
    if trials.empty:
        return trials
    return trials[trials["optimizer"].isin(d.optimizers)]


def heatmaps(d: ReportData):
    """Validation accuracy over every configuration tried, per optimizer (None without tuning records)."""
    trials = _trials(d)
    if trials.empty:
        return None
    names = [n for n in d.optimizers if n in set(trials["optimizer"])]
    # The colour scale spans the configurations that learned: a few collapsed ones (a rate far too large) would
    # otherwise paint every other cell alike. Cells below the scale take its darkest colour; their value is written.
    per_cell = 100 * trials.groupby(["optimizer", "decay", "learning_rate"])["val_accuracy"].mean()
    high = float(per_cell.max())
    low = max(float(per_cell.min()), float(np.percentile(per_cell, 10)) - 0.5)
    fig, axes = plt.subplots(1, len(names), figsize=(2.6 * len(names) + 0.6, 3.0), squeeze=False, layout="constrained")
    image = None
    for ax, name in zip(axes[0], names):
        group = trials[trials["optimizer"] == name]
        rates = sorted(group["learning_rate"].unique())
        decays = sorted(group["decay"].unique())
        mean = group.pivot_table(index="decay", columns="learning_rate", values="val_accuracy", aggfunc="mean")
        mean = mean.reindex(index=decays, columns=rates) * 100
        image = ax.imshow(mean.to_numpy(), origin="lower", cmap="viridis", vmin=low, vmax=high, aspect="auto")
        chosen = group[group["chosen"]].groupby(["decay", "learning_rate"]).size()
        initial = set(map(tuple, group.loc[group["initial"], ["decay", "learning_rate"]].to_numpy()))
        for i, decay in enumerate(decays):
            for j, rate in enumerate(rates):
                value = mean.iloc[i, j]
                if math.isnan(value):
                    continue
                count = int(chosen.get((decay, rate), 0))
                text = french.number(value, 1) + (f"\n({count})" if count else "")
                ax.text(j, i, text, ha="center", va="center", fontsize=6,
                        color="black" if value > (low + high) / 2 else "white")
                if count:
                    ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=2))
                elif (decay, rate) not in initial:
                    ax.add_patch(Rectangle((j - 0.46, i - 0.46), 0.92, 0.92, fill=False, edgecolor="0.85",
                                           linewidth=1, linestyle="--"))
        ax.set_xticks(range(len(rates)), [french.scientific(r) for r in rates], rotation=45, fontsize=7)
        ax.set_yticks(range(len(decays)), [french.scientific(v) for v in decays], fontsize=7)
        ax.set_xlabel("taux d'apprentissage η", fontsize=8)
        axis = str(group["decay_axis"].iloc[0]) if "decay_axis" in group else ""
        ax.set_ylabel(DECAY_WORDS.get(axis, axis), fontsize=8)
        ax.set_title(figures.name_of(name, d.labels(figure=True) if _figure_labels(d) else d.labels()), fontsize=9)
    if image is not None:
        bar = fig.colorbar(image, ax=list(axes[0]), shrink=0.85, extend="min" if low > per_cell.min() else "neither")
        bar.set_label("exactitude de validation (%)", fontsize=8)
        bar.ax.yaxis.set_major_formatter(plt.FuncFormatter(figures.french_tick))
    return _shown_once(fig)


def _figure_labels(d: ReportData) -> bool:
    """Whether ``ReportData.labels`` knows figures (labels for matplotlib) in this version of the report."""
    try:
        d.labels(figure=True)
        return True
    except TypeError:
        return False


def _one_axis(d: ReportData, present) -> tuple:
    """A figure as wide as the report's others (HTML: over 700 px), its labels, and each optimizer of
    ``present`` that ran, in the study's order, with its colour."""
    labels = d.labels(figure=True) if _figure_labels(d) else d.labels()
    fig, ax = plt.subplots(figsize=(9.0, 3.2))
    shown = set(present)
    ran = [name for name in d.optimizers if name in shown]
    drawn = [(name, figures.colour_of(name, d.colours(), i)) for i, name in enumerate(ran)]
    return fig, ax, labels, drawn


def learning_rates(d: ReportData):
    """Validation accuracy against the learning rate at each seed's chosen decay, every optimizer on one axis."""
    trials = _trials(d)
    if trials.empty:
        return None
    fig, ax, labels, drawn = _one_axis(d, trials["optimizer"])
    for name, colour in drawn:
        group = trials[(trials["optimizer"] == name) & trials["at_chosen_decay"]]
        for k, (_, seed) in enumerate(group.groupby("seed")):
            seed = seed.sort_values("learning_rate")
            ax.plot(seed["learning_rate"], 100 * seed["val_accuracy"], color=colour, alpha=0.35, linewidth=0.8,
                    marker="o", markersize=2.5, label=figures.name_of(name, labels) if k == 0 else None)
            picked = seed[seed["chosen"]]
            ax.plot(picked["learning_rate"], 100 * picked["val_accuracy"], linestyle="none", marker="o",
                    markersize=5, markerfacecolor=colour, markeredgecolor="black")
    ax.set_xscale("log")
    ax.set_xlabel("taux d'apprentissage η (échelle logarithmique)")
    ax.set_ylabel("exactitude de validation (%)")
    ax.legend(frameon=False, fontsize=8)
    figures.french_axes(fig)
    return _shown_once(fig)


def expected_best(d: ReportData):
    """Expected best validation accuracy against the number of configurations tried, with its band."""
    curve = d.table("expected_best.csv")
    if curve.empty:
        return None
    fig, ax, labels, drawn = _one_axis(d, curve["optimizer"])
    for name, colour in drawn:
        group = curve[curve["optimizer"] == name]
        ax.plot(group["n_configurations"], 100 * group["expected_best_val_accuracy"], color=colour,
                label=figures.name_of(name, labels))
        ax.fill_between(group["n_configurations"], 100 * group["low"], 100 * group["high"], color=colour, alpha=0.15,
                        linewidth=0)
        ax.axvline(float(group["tried_mean"].iloc[0]), color=colour, linestyle=":", linewidth=1)
    ax.set_xlabel("configurations essayées")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("meilleure exactitude de\nvalidation attendue (%)")
    ax.legend(frameon=False, fontsize=8)
    figures.french_axes(fig)
    return _shown_once(fig)


def budget(d: ReportData) -> Text:
    """The optimizers compared at a common number of configurations, and the numbers each actually tried."""
    curve = d.table("expected_best.csv")
    if curve.empty:
        return Text("")
    names = [n for n in d.optimizers if n in set(curve["optimizer"])]
    curve = curve[curve["optimizer"].isin(names)]
    common = int(curve.groupby("optimizer")["tried_min"].first().min())
    at = curve[curve["n_configurations"] == common].set_index("optimizer")
    tried = curve.groupby("optimizer")["tried_mean"].first()
    seeds = int(curve["n_seeds"].max())
    values = french.enumeration(f"{d.label(n)} {french.percent(at.loc[n, 'expected_best_val_accuracy'], 1)} "
                                f"[{french.percent(at.loc[n, 'low'], 1)}{french.NNBSP};{french.NNBSP}"
                                f"{french.percent(at.loc[n, 'high'], 1)}]" for n in names if n in at.index)
    shown = dict(zip(names, french.counts([tried[n] for n in names])))
    if len({round(float(tried[n]), 9) for n in names}) == 1:
        text = french.sentence(
            f"Chaque optimiseur a essayé le même nombre de configurations, {shown[names[0]]} par graine en moyenne, "
            "extensions comprises")
    else:
        counts = french.enumeration(f"{shown[n]} pour {d.label(n)}" for n in names)
        text = french.sentence(
            f"Les optimiseurs n'ont pas essayé le même nombre de configurations : en moyenne sur "
            f"{french.plural(seeds, 'graine')}, {counts}, extensions comprises")
    text += " " + french.sentence(
        f"À budget égal, après {french.plural(common, 'configuration')}, la meilleure exactitude de validation "
        f"attendue ([@dodge2019show] : le maximum attendu de {french.integer(common)} tirages parmi les "
        f"configurations essayées, intervalle bootstrap à 95 % sur les graines puis les configurations) vaut {values}")
    return Text(french.typeset(text))
