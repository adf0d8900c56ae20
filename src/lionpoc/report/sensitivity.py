"""What the report says about the tuning budget (grids that bracket) and the sensitivity study.

Two parts, each a table or figure plus sentences generated from the numbers:
- the tuning budget: per optimizer, configurations tried, extensions, choices left on an edge, inert
  axes (from each seed's ``metrics.json``), and why two optimizers can predict identically;
- the "Sensibilité" section: test accuracy against the batch size, the schedule's effect, and the
  answers to two questions (does the focus optimizer's standing change with the batch size, as the
  Lion paper suggests? what does the cosine schedule do to it?), from ``results/sensitivity.csv``.
  Every comparison there is paired by seed (same seed, same test images): the per-seed differences and
  their Student interval over the seeds (``paired_interval``), never one run's binomial noise.

Every "number -> words" decision is a small rule with its threshold stated (``verdict``, ``trend``,
``coincide``).
"""
from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from lionpoc.report import french
from lionpoc.report.data import ReportData
from lionpoc.report.markup import Table, Text
from lionpoc.study import sensitivity as study_sensitivity
from lionpoc.study import stats

Z95 = 1.96
AGREE = 0.99          # two optimizers "coincide" when they predict the same class for >= 99 % of test images
MONOTONE = 0.8        # |Spearman rho| of a gap against the batch size above which it "grows" or "shrinks"
COMMAND = "lionpoc study --sensitivity"




# ---------------------------------------------------------------------------------- names






def decoupled(d: ReportData, name: str) -> bool:
    """Whether the optimizer's decay is decoupled (its parameter file says ``decay: decoupled``)."""
    return d.fact(name, "decay") == "decoupled"






# ---------------------------------------------------------------------------------- rules
TIE = 1e-9  # mean accuracies (or differences) this close are the same count of correct images: a tie


def paired_interval(differences) -> tuple[float, float, float]:
    """Mean of per-seed differences and its Student 95 % interval over the seeds (``stats.mean_ci``, NaN bounds
    with one seed). The runs are paired by seed (same seed, same test images): the interval covers the seeds'
    chance, the test images held fixed, not the unpaired noise of one run on a few hundred images."""
    mean, _, low, high = stats.mean_ci(np.asarray(differences, float))
    return mean, low, high


def verdict(low: float, high: float) -> str:
    """``significant`` when a paired interval excludes zero (beyond ``TIE``), ``noise`` when it holds it,
    ``untested`` without an interval (one seed)."""
    if math.isnan(low) or math.isnan(high):
        return "untested"
    return "significant" if low > TIE or high < -TIE else "noise"


def trend(leads: pd.DataFrame) -> str:
    """How the focus's gap (rows: seeds, columns: batch sizes, ascending) moves with the batch size, judged on
    paired differences: one batch size's gap minus another's, per seed, with its interval (``paired_interval``).
    ``untested`` with fewer than two seeds; ``flat`` when no change between two batch sizes excludes zero;
    ``grows`` / ``shrinks`` when the change from the smallest to the largest batch size excludes zero in that
    direction and the mean gaps
    follow the batch size (Spearman |rho| >= ``MONOTONE``); ``varies`` otherwise."""
    if len(leads) < 2 or leads.shape[1] < 2:
        return "untested"
    sizes = list(leads.columns)
    pairs = [verdict(*paired_interval(leads[b] - leads[a])[1:]) for i, a in enumerate(sizes) for b in sizes[i + 1:]]
    if "significant" not in pairs:
        return "flat"
    means = leads.mean().to_numpy()
    rho = scipy_stats.spearmanr(sizes, means).statistic if len(sizes) > 2 else np.sign(means[-1] - means[0])
    _, low, high = paired_interval(leads[sizes[-1]] - leads[sizes[0]])
    if low > TIE and rho >= MONOTONE:
        return "grows"
    if high < -TIE and rho <= -MONOTONE:
        return "shrinks"
    return "varies"


def coincide(agreement: float) -> bool:
    return agreement >= AGREE


# ---------------------------------------------------------------------------------- tuning budget
def tuning_rows(d: ReportData) -> pd.DataFrame:
    """Per optimizer: configurations tried (mean, min, max over seeds), extensions per axis, seeds whose
    choice stayed on an edge (and on which axes), inert axes; empty without the bracketing record."""
    if d.empty or "configurations_tried" not in d.runs:
        return pd.DataFrame()
    rows = []
    for name in d.optimizers:
        group = d.runs[d.runs["optimizer"] == name]
        axes = [c.removeprefix("extensions_") for c in group.columns
                if c.startswith("extensions_") and group[c].notna().all()]
        edges = group["edge_axes"].fillna("").astype(str)
        inert = [a for a in axes if f"inert_{a}" in group and group[f"inert_{a}"].astype(bool).any()]
        rows.append({"optimizer": name, "seeds": len(group), "grid_size": int(group["grid_size"].iloc[0]),
                     "tried_mean": float(group["configurations_tried"].mean()),
                     "tried_min": int(group["configurations_tried"].min()),
                     "tried_max": int(group["configurations_tried"].max()),
                     "extensions": {a: int(group[f"extensions_{a}"].sum()) for a in axes},
                     "edge_seeds": int((edges != "").sum()),
                     "edge_axes": sorted({a for e in edges for a in e.split(",") if a}),
                     "inert_axes": inert,
                     "inert_seeds": {a: int(group[f"inert_{a}"].astype(bool).sum()) for a in inert},
                     "extend": bool(group["extend_grid"].astype(bool).all()) if "extend_grid" in group else True})
    return pd.DataFrame(rows)


def initial_grids(d: ReportData) -> dict[str, dict[str, list[float]]]:
    """Each optimizer's initial grid as its parameter file gave it (``{axis: values}``, learning rate first)."""
    grids = {}
    for name in d.optimizers:
        grid = (d.first(name).get("params") or {}).get("grid") or {}
        if grid:
            grids[name] = {k: [float(v) for v in values] for k, values in grid.items()}
    return grids


def _ratio(values: list[float], reference: list[float]) -> float | None:
    """The one factor that turns ``reference`` into ``values`` (within 1 %), or None."""
    if len(values) != len(reference) or not values or any(v <= 0 for v in values + reference):
        return None
    ratios = [v / r for v, r in zip(sorted(values), sorted(reference))]
    return ratios[0] if all(abs(r / ratios[0] - 1) < 0.01 for r in ratios) else None


def _factor(axis_symbol: str, ratio: float) -> str:
    """``η ÷ 10`` or ``λ × 10``."""
    if ratio >= 1:
        return f"{axis_symbol} × {french.short(ratio)}"
    return f"{axis_symbol} ÷ {french.short(1 / ratio)}"


SYMBOLS = {"learning_rate": "η", "weight_decay": "λ", "l2": "L2"}


def shifts(d: ReportData) -> dict[str, list[str]]:
    """Per optimizer whose learning rates are those most optimizers share, moved by one factor: the factors
    (``["η ÷ 10", "λ × 10"]``), the second axis compared with an optimizer of the shared rates and the same axis."""
    grids = initial_grids(d)
    rates = [tuple(g.get("learning_rate", [])) for g in grids.values()]
    common = max(set(rates), key=rates.count) if rates else ()
    if rates.count(common) < 2:
        return {}
    out = {}
    for name, grid in grids.items():
        ratio = _ratio(grid.get("learning_rate", []), list(common))
        if tuple(grid.get("learning_rate", [])) == common or ratio is None:
            continue
        factors = [_factor("η", ratio)]
        for axis, values in grid.items():
            peers = [g[axis] for g in grids.values() if tuple(g.get("learning_rate", [])) == common and axis in g]
            if axis != "learning_rate" and peers:
                other = _ratio(values, peers[0])
                if other is not None and abs(other - 1) > 0.01:
                    factors.append(_factor(SYMBOLS.get(axis, axis), other))
        out[name] = factors
    return out


def same_grid(d: ReportData) -> str:
    """The grids as they are: their shape, the ones shifted (Lion's as its authors advise), the extension rule
    and the configurations each optimizer actually tried per seed."""
    grids = initial_grids(d)
    if not grids:
        return "la même grille de réglage"
    shapes = {" × ".join(str(len(v)) for v in g.values()) for g in grids.values()}
    many = len(grids) > 1
    if many:
        text = (f"des grilles de même forme ({shapes.pop()} configurations)" if len(shapes) == 1 else
                "des grilles de formes différentes")
    else:
        text = f"une grille de {shapes.pop()} configurations"
    moved = shifts(d) if many else {}
    for name, factors in moved.items():
        advice = " comme le conseillent ses auteurs" if name == "lion" else ""
        text += f", celle {french.de(d.label(name))} décalée{advice} ({', '.join(factors)})"
    rows = tuning_rows(d)
    if rows.empty:
        return text
    if not rows["extend"].all():
        return text + (", entraînées telles quelles" if many else ", entraînée telle quelle")
    text += (", prolongées à leurs bords selon la même règle" if many else ", prolongée à ses bords")
    tried = [f"{french.number(r.tried_mean, 1)} pour {d.label(r.optimizer)}" for r in rows.itertuples()]
    return text + f" (configurations essayées par graine, en moyenne : {french.enumeration(tried)})"


def selection_rule(d: ReportData) -> str:
    """The selection criterion as the study recorded it (``tuning_rule.csv``), in French."""
    rule = d.table("tuning_rule.csv")
    words = {"val_accuracy": "plus haute exactitude de validation", "val_loss": "plus faible perte de validation"}
    if rule.empty or not set(rule["key"]) <= set(words):
        return "la meilleure sur la validation"
    keys = list(rule.sort_values("order")["key"])
    text = f"celle de {words[keys[0]]}"
    for key in keys[1:]:
        text += f", départagée à égalité par la {words[key]}"
    return text


AXIS_WORDS = {"learning_rate": "le taux d'apprentissage", "weight_decay": "la décroissance des poids",
              "l2": "la pénalité L2"}


AXIS_SHORT = {"learning_rate": "taux", "weight_decay": "décroissance", "l2": "L2"}


def _axis(axis: str) -> str:
    return AXIS_WORDS.get(axis, axis)


def _short(axis: str) -> str:
    return AXIS_SHORT.get(axis, axis)


def tuning_table(d: ReportData) -> Table:
    rows = tuning_rows(d)
    if rows.empty:
        return Table(pd.DataFrame({"": ["pas d'enregistrement des extensions : relancer `lionpoc study`"]}), "l")
    frame = pd.DataFrame({
        "Optimiseur": [d.label(r.optimizer) for r in rows.itertuples()],
        "Grille": [french.integer(r.grid_size) for r in rows.itertuples()],
        "Essayées": [french.number(r.tried_mean, 0 if r.tried_min == r.tried_max else 1)
                     + ("" if r.tried_min == r.tried_max else f" ({r.tried_min}–{r.tried_max})")
                     for r in rows.itertuples()],
        "Extensions": [" ; ".join(f"{_short(a)} {n}" for a, n in r.extensions.items() if n) or "aucune"
                       for r in rows.itertuples()],
        "Au bord": [f"{r.edge_seeds}/{r.seeds}" + (f" ({', '.join(_short(a) for a in r.edge_axes)})"
                                                  if r.edge_axes else "") for r in rows.itertuples()],
        "Axe inerte": [", ".join(f"{_short(a)} ({r.inert_seeds[a]}/{r.seeds})" for a in r.inert_axes)
                       or "aucun" for r in rows.itertuples()],
    })
    return Table(frame, "lrrlll", [2, 1, 2, 4, 3, 3])


def tuning(d: ReportData) -> Text:
    """Per optimizer: how many configurations were tried and whether any choice stayed on an edge; then
    inert axes, and why two optimizers predicted alike when they did (the rule is written in ``index.qmd``)."""
    rows = tuning_rows(d)
    if rows.empty:
        return Text("")
    text = ["Bilan : " + _balance(d, rows)]
    inert = [(r, a) for r in rows.itertuples() for a in r.inert_axes]
    if inert:
        text.append("Axe inerte (toutes ses valeurs donnent la même exactitude de validation, la même meilleure "
                    "époque et des pertes à 1 % près) : "
                    + " ; ".join(f"{_axis(a)} pour {d.label(r.optimizer)} ({french.plural(r.inert_seeds[a], 'graine')} sur {r.seeds})"
                                 for r, a in inert) + ".")
    text.append(coincidences(d))
    return Text(french.typeset(" ".join(t for t in text if t)))


def _balance(d: ReportData, rows: pd.DataFrame) -> str:
    """'Adam a essayé de 9 à 16 configurations selon la graine, AdamW de 9 à 20 … ; aucun choix n'est resté au bord.'"""
    one_grid = rows["grid_size"].nunique() == 1
    tried = []
    for i, r in enumerate(rows.itertuples()):
        count = (f"de {r.tried_min} à {r.tried_max}" if r.tried_min != r.tried_max else f"{r.tried_min}")
        if i == 0:
            count += (" configurations" if r.tried_max > 1 else " configuration")
            if r.tried_min != r.tried_max:
                count += " selon la graine"
        grid = "" if one_grid else f" (grille initiale de {r.grid_size})"
        tried.append(f"{d.label(r.optimizer)} {'a essayé ' if i == 0 else ''}{count}{grid}")
    text = french.enumeration(tried)
    if one_grid:
        text += f" (grille initiale de {int(rows['grid_size'].iloc[0])})"
    edged = [r for r in rows.itertuples() if r.edge_seeds]
    calm = [d.label(r.optimizer) for r in rows.itertuples() if not r.edge_seeds]
    if not edged:
        return text + " ; aucun choix n'est resté au bord."
    edges = [f"le choix {french.de(d.label(r.optimizer))} est resté au bord de {french.enumeration([_axis(a) for a in r.edge_axes])} "
             f"pour {french.plural(r.edge_seeds, 'graine')} sur {r.seeds}" for r in edged]
    if calm:
        edges.append("aucun choix " + " ni ".join(french.de(n) for n in calm) + " n'est resté au bord")
    return text + " ; " + " ; ".join(edges) + "."


def agreement(d: ReportData, a: str, b: str) -> float | None:
    """Share of test images for which ``a`` and ``b`` predict the same class, over their shared seeds."""
    same, total = 0, 0
    paths_a = dict(zip(d.runs.loc[d.runs["optimizer"] == a, "seed"], d.run_paths(a)))
    paths_b = dict(zip(d.runs.loc[d.runs["optimizer"] == b, "seed"], d.run_paths(b)))
    for seed in sorted(set(paths_a) & set(paths_b)):
        pa = pd.read_csv(paths_a[seed] / "predictions.csv", index_col="file")["predicted"]
        pb = pd.read_csv(paths_b[seed] / "predictions.csv", index_col="file")["predicted"].reindex(pa.index)
        same += int((pa == pb).sum())
        total += len(pa)
    return same / total if total else None


def decay_shrink(metrics: dict) -> float:
    """How much a decoupled decay alone shrinks the weights by the kept epoch: 1 - (1 - lr x wd)^steps."""
    steps = int(metrics["best_epoch"]) * math.ceil(int(metrics["n_train"]) / int(metrics["params"]["batch_size"]))
    return 1 - (1 - float(metrics["learning_rate"]) * float(metrics["weight_decay"])) ** steps


def coincidences(d: ReportData) -> Text:
    """Why two optimizers predicted (almost) identically, when they did: a sentence from the numbers."""
    if d.empty or len(d.optimizers) < 2:
        return Text("")
    sentences = []
    names = d.optimizers
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            share = agreement(d, a, b)
            if share is None or not coincide(share):
                continue
            text = (f"{d.label(a)} et {d.label(b)} prédisent la même {d.dataset.words[0]} pour {french.percent(share)} des images "
                    f"de test (toutes graines confondues). Ils partent de la même tête et voient les lots dans le "
                    f"même ordre avec les mêmes masques de *dropout* (mêmes graines)")
            same = same_rule(d, a, b)
            if same:
                text += ", et suivent la même règle de mise à jour : ils ne diffèrent que par la régularisation."
            else:
                text += f", mais {update_rules(d, a, b)}."
            shrinks = {n: [decay_shrink(_metrics(row)) for row in d.runs[d.runs["optimizer"] == n].itertuples()]
                       for n in (a, b) if decoupled(d, n)}
            shrinks = {n: v for n, v in shrinks.items() if v}
            if shrinks:
                parts = [f"{french.de(d.label(n))} de {french.percent(min(v))} à {french.percent(max(v))}"
                         if len(v) > 1 else f"{french.de(d.label(n))} de {french.percent(v[0])}"
                         for n, v in shrinks.items()]
                several = any(len(v) > 1 for v in shrinks.values())
                text += (f" À elle seule, jusqu'à l'époque retenue, la décroissance découplée aurait réduit les poids "
                         f"{', et ceux '.join(parts)}{' selon la graine' if several else ''} (1 − (1 − ηλ)ⁿ, où η est le pas "
                         f"d'apprentissage, λ le coefficient de décroissance et n le nombre de pas).")
                weak = max(max(v) for v in shrinks.values()) < WEAK_DECAY
                if same and weak:
                    text += (" Un changement d'échelle aussi faible et presque uniforme des poids ne change pas la "
                             "classe prédite : sur une tête linéaire, les deux optimiseurs suivent le même chemin.")
                elif not weak:
                    text += (" D'une graine à l'autre, la décroissance a donc pesé très différemment : l'accord "
                             "ne tient pas à une décroissance négligeable")
                    text += (". Sur les caractéristiques du réseau figé, les deux têtes linéaires aboutissent aux mêmes frontières "
                             f"entre {d.dataset.words[1]} pour presque toutes les images, quel que soit le chemin suivi."
                             if not same else ".")
            elif not same:
                text += (" Sur les caractéristiques du réseau figé, les deux têtes linéaires aboutissent aux mêmes frontières entre "
                         f"{d.dataset.words[1]} pour presque toutes les images, quel que soit le chemin suivi.")
            sentences.append(text)
    return Text(french.typeset(" ".join(sentences)))


# How each kind of update (the parameter file's ``update:``, ``optimizers.UPDATES``) moves a weight.
UPDATE_WORDS = {
    "moments": "un pas adapté à chaque poids par les moments du gradient",
    "sign": "le signe d'une moyenne des gradients, un pas de même taille pour chaque poids",
    "gradient": "un pas proportionnel au gradient, ou à sa somme lissée par le momentum",
}
WEAK_DECAY = 0.1      # a decoupled decay "acts little" when, alone, it would shrink the weights by < 10 % at most


def same_rule(d: ReportData, a: str, b: str) -> bool:
    """Whether two optimizers take the same kind of step with the same fixed arguments, and so differ only by how
    they regularise (Adam and AdamW): their parameter files say so (``update:``, ``arguments:``)."""
    kind = d.fact(a, "update")
    return kind is not None and kind == d.fact(b, "update") and (d.fact(a, "arguments") or {}) == \
        (d.fact(b, "arguments") or {})


def update_rules(d: ReportData, a: str, b: str) -> str:
    """'leurs règles de mise à jour diffèrent (…)', with what each does when its parameter file says."""
    rules = [UPDATE_WORDS.get(d.fact(n, "update")) for n in (a, b)]
    if all(rules):
        return (f"leurs règles de mise à jour diffèrent ({d.label(a)} : {rules[0]} ; "
                f"{d.label(b)} : {rules[1]})")
    return "leurs règles de mise à jour diffèrent"


def _metrics(row) -> dict:
    from lionpoc import files

    return files.read_json(Path(row.path) / "metrics.json")


# ---------------------------------------------------------------------------------- sensitivity data
def table(d: ReportData) -> pd.DataFrame:
    """``results/sensitivity.csv`` restricted to the optimizers with runs (empty when absent)."""
    path = Path(d.results_dir) / study_sensitivity.FILE
    if d.empty or not path.is_file():
        return pd.DataFrame()
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.EmptyDataError):
        return pd.DataFrame()
    return frame[frame["optimizer"].isin(d.optimizers)].reset_index(drop=True)


def summary(d: ReportData) -> pd.DataFrame:
    """Per optimizer, batch size and schedule: mean test accuracy, Student interval over seeds, epochs."""
    frame = table(d)
    if frame.empty:
        return frame
    rows = []
    for (name, batch, schedule), group in frame.groupby(["optimizer", "batch_size", "schedule"], sort=False):
        mean, sd, low, high = stats.mean_ci(group["test_accuracy"])
        rows.append({"optimizer": name, "batch_size": int(batch), "schedule": schedule, "n_seeds": len(group),
                     "test_accuracy": mean, "sd": sd, "ci_low": low, "ci_high": high,
                     "epochs_run": float(group["epochs_run"].mean()),
                     "learning_rate": float(group["learning_rate"].mean())})
    order = {n: i for i, n in enumerate(d.optimizers)}
    return pd.DataFrame(rows).sort_values(["optimizer", "schedule", "batch_size"],
                                          key=lambda c: c.map(order) if c.name == "optimizer" else c,
                                          ignore_index=True)


def exists(d: ReportData) -> bool:
    return not summary(d).empty


def _per_seed(d: ReportData, schedule: str) -> pd.DataFrame:
    """Test accuracies under ``schedule``: one row per seed, one column per (batch size, optimizer)."""
    frame = table(d)
    frame = frame[frame["schedule"] == schedule]
    return frame.pivot_table(index="seed", columns=["batch_size", "optimizer"], values="test_accuracy")


def gaps(d: ReportData, schedule: str = "constant") -> pd.DataFrame:
    """Per batch size: the focus's accuracy minus the best other optimizer's (the rival, by mean over seeds),
    paired by seed (``paired_interval``: mean, interval, ``verdict``), and the focus's rank by mean."""
    s = summary(d)
    if s.empty:
        return pd.DataFrame()
    s = s[s["schedule"] == schedule]
    name = d.focus
    per_seed = _per_seed(d, schedule)
    rows = []
    for batch, group in s.groupby("batch_size"):
        g = group.set_index("optimizer")["test_accuracy"]
        if name not in g.index or len(g) < 2:
            continue
        rival = g.drop(index=name).idxmax()
        differences = (per_seed[(batch, name)] - per_seed[(batch, rival)]).dropna()
        if differences.empty:
            continue
        mean, low, high = paired_interval(differences)
        rows.append({"batch_size": int(batch), "gap": mean, "low": low, "high": high, "verdict": verdict(low, high),
                     "n_seeds": len(differences), "rival": rival, "rank": int((g > g[name] + TIE).sum()) + 1,
                     "accuracy": float(g[name]), "n": len(g)})
    return pd.DataFrame(rows)


def leads(d: ReportData, schedule: str = "constant") -> pd.DataFrame:
    """The focus's gap of ``gaps`` seed by seed: one row per seed that ran every batch size, one column per batch
    size (ascending); empty without gaps."""
    g = gaps(d, schedule)
    if g.empty:
        return pd.DataFrame()
    per_seed = _per_seed(d, schedule)
    return pd.DataFrame({int(r.batch_size): per_seed[(r.batch_size, d.focus)] - per_seed[(r.batch_size, r.rival)]
                         for r in g.itertuples()}).dropna()


def mean_lead(d: ReportData, schedule: str = "constant") -> tuple[float, float, float] | None:
    """The focus's gap averaged over the batch sizes, seed by seed, with its interval over the seeds."""
    per_seed = leads(d, schedule)
    return paired_interval(per_seed.mean(axis=1)) if not per_seed.empty else None


def lead_shift(d: ReportData) -> tuple[float, float, float] | None:
    """What the cosine does to the focus's mean gap (cosine minus constant, over the batch sizes both ran), seed by
    seed, with its interval over the seeds; None without both schedules."""
    constant, cosine = leads(d, "constant"), leads(d, "cosine")
    sizes = [b for b in constant.columns if b in cosine.columns]
    seeds = constant.index.intersection(cosine.index)
    if not sizes or seeds.empty:
        return None
    return paired_interval(cosine.loc[seeds, sizes].mean(axis=1) - constant.loc[seeds, sizes].mean(axis=1))


def cosine_effect(d: ReportData, name: str, batch_size: int | None = None) -> tuple[float, float, float] | None:
    """Cosine minus constant for one optimizer, seed by seed (at ``batch_size``, or averaged over the batch sizes),
    with its interval over the seeds; None without both schedules."""
    frame = table(d)
    frame = frame[frame["optimizer"] == name]
    if batch_size is not None:
        frame = frame[frame["batch_size"] == batch_size]
    wide = frame.pivot_table(index=["seed", "batch_size"], columns="schedule", values="test_accuracy")
    if not {"constant", "cosine"} <= set(wide.columns):
        return None
    wide = wide.dropna(subset=["constant", "cosine"])
    if wide.empty:
        return None
    return paired_interval((wide["cosine"] - wide["constant"]).groupby(level="seed").mean())


# ---------------------------------------------------------------------------------- sensitivity outputs
def figure(d: ReportData):
    """Test accuracy against the batch size (constant rate), one line per optimizer, Student intervals
    over seeds as error bars; ``None`` without results (no empty figure)."""
    s = summary(d)
    if s.empty:
        return None
    s = s[s["schedule"] == "constant"]
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    offsets = np.linspace(-0.04, 0.04, max(len(d.optimizers), 1))
    for offset, name in zip(offsets, d.optimizers):
        rows = s[s["optimizer"] == name]
        if rows.empty:
            continue
        x = rows["batch_size"].to_numpy() * 2 ** offset  # a small shift so that error bars do not overlap
        y = 100 * rows["test_accuracy"].to_numpy()
        low = 100 * (rows["test_accuracy"] - rows["ci_low"]).fillna(0).to_numpy()
        high = 100 * (rows["ci_high"] - rows["test_accuracy"]).fillna(0).to_numpy()
        ax.errorbar(x, y, yerr=[low, high], marker="o", capsize=3, color=d.colour(name), label=d.figure_label(name))
    ax.set_xscale("log", base=2)
    batches = sorted(s["batch_size"].unique())
    ax.set_xticks(batches, [str(b) for b in batches])
    ax.minorticks_off()
    ax.set_xlabel("Taille de lot (taux d'apprentissage × √(taille / 32))")
    ax.set_ylabel("Exactitude sur le test (%)")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    fig.tight_layout()
    plt.close(fig)
    return fig


def schedule_table(d: ReportData) -> Table | None:
    """Per optimizer, at the reference batch size and averaged over all batch sizes: constant vs cosine, the
    differences paired by seed with their interval over the seeds (``cosine_effect``)."""
    s = summary(d)
    if s.empty:
        return None
    reference = int(s["batch_size"].min())
    rows = []
    for name in d.optimizers:
        mine = s[s["optimizer"] == name]
        if mine.empty:
            continue
        at = mine[mine["batch_size"] == reference].set_index("schedule")
        rows.append({"Optimiseur": d.label(name),
                     f"Constant ({reference})": french.percent(at.loc["constant", "test_accuracy"]),
                     f"Cosinus ({reference})": french.percent(at.loc["cosine", "test_accuracy"]),
                     "Écart": interval_words(cosine_effect(d, name, reference), unit=False),
                     "Époques (const. / cos.)": f"{french.number(at.loc['constant', 'epochs_run'], 1)} / "
                                                f"{french.number(at.loc['cosine', 'epochs_run'], 1)}",
                     "Écart, toutes tailles": interval_words(cosine_effect(d, name), unit=False)})
    return Table(pd.DataFrame(rows), widths=[2, 2, 2, 3, 2, 3])


def ranking(d: ReportData, schedule: str, batch_size: int | None = None) -> list[list[str]]:
    """Optimizers by mean test accuracy (over seeds, and over batch sizes unless one is given), best first,
    as groups: optimizers whose means are equal (``TIE``) share a group."""
    s = summary(d)
    if s.empty:
        return []
    s = s[s["schedule"] == schedule]
    if batch_size is not None:
        s = s[s["batch_size"] == batch_size]
    means = s.groupby("optimizer")["test_accuracy"].mean().sort_values(ascending=False)
    groups: list[list[str]] = []
    for name, value in means.items():
        if groups and abs(means[groups[-1][0]] - value) <= TIE:
            groups[-1].append(name)
        else:
            groups.append([name])
    return [sorted(g, key=d.optimizers.index) for g in groups]


def order_words(d: ReportData, groups: list[list[str]]) -> str:
    """``Adam = AdamW > Lion``."""
    return " > ".join(" = ".join(d.label(n) for n in g) for g in groups)


def batch_trend(d: ReportData) -> str | None:
    """How the focus's gap to the best other optimizer, at a constant rate, moves with the batch size (``trend``,
    paired by seed); None without it."""
    per_seed = leads(d)
    return trend(per_seed) if not per_seed.empty else None


def interval_words(difference: tuple[float, float, float] | None, unit: bool = True) -> str:
    """``+0,6 point [−0,2 ; 1,4]``: a paired difference and its interval over the seeds (the value alone with one
    seed, ``n.d.`` without it); without its ``unit`` where a table's caption says it."""
    if difference is None:
        return "n.d."
    mean, low, high = difference
    if math.isnan(low):
        return french.points(mean, unit=unit)
    return f"{french.points(mean, unit=unit)} [{_bound(low)} ; {_bound(high)}]"


def _bound(x: float) -> str:
    """A bound in points with one decimal, two where one would round it to zero (``−0,03``, not ``0,0``)."""
    return french.number(100 * x, 2 if round(100 * x, 1) == 0 and abs(x) > TIE else 1)


def _by_batch(values: dict) -> str:
    """``32 : +0,6 point [−0,2 ; 1,4], 64 : … et 256 : …``."""
    return french.enumeration([f"{b} : {interval_words(x)}" for b, x in values.items()])


def _standing(g: pd.DataFrame) -> str:
    """The focus's rank by mean at every batch size, and how many of its gaps exceed the seeds' noise."""
    ranks = sorted(set(g["rank"]))
    first = "premier" if ranks == [1] else f"{ranks[0]}e"
    text = (f"il est {first} en moyenne à toutes les tailles de lot" if len(ranks) == 1 else
            f"son rang moyen varie selon la taille de lot (du {'1er' if ranks[0] == 1 else f'{ranks[0]}e'} "
            f"au {ranks[-1]}e)")
    moved = list(g.loc[g["verdict"] == "significant", "batch_size"])
    if (g["verdict"] == "untested").any():
        return text
    if not moved:
        return text + ", et aucun de ces écarts ne dépasse le bruit des graines"
    if len(moved) == len(g):
        return text + ", et chacun de ces écarts dépasse le bruit des graines"
    return text + (f", et {len(moved)} de ces écarts sur {len(g)} {'dépassent' if len(moved) > 1 else 'dépasse'} le "
                   f"bruit des graines ({french.enumeration([str(b) for b in moved])})")


def batch_gaps(d: ReportData) -> Text:
    """The focus's gap to the best other optimizer at each batch size (constant rate), paired by seed, its rank and
    how many gaps exceed the seeds' noise (the verdict on the trend is written in ``index.qmd``)."""
    g = gaps(d)
    if g.empty:
        return Text("")
    values = {int(r.batch_size): (r.gap, r.low, r.high) for r in g.itertuples()}
    return Text(french.typeset(f"Écart entre {d.label(d.focus)} et le meilleur des autres optimiseurs à taux constant, "
                               f"par taille de lot : {_by_batch(values)} ; {_standing(g)}."))


def batch_changes(d: ReportData) -> Text:
    """``64 : 0,0 point [−0,6 ; 0,6], 128 : …``: each batch size's gap (constant rate) minus the smallest one's,
    seed by seed, with its interval."""
    per_seed = leads(d)
    if per_seed.empty:
        return Text("n.d.")
    first = per_seed.columns[0]
    return Text(french.typeset(_by_batch({b: paired_interval(per_seed[b] - per_seed[first])
                                          for b in per_seed.columns[1:]})))


def lead_state(d: ReportData, schedule: str = "constant") -> str | None:
    """The focus's mean gap over the batch sizes: ``ahead`` / ``behind`` when its interval excludes zero, ``level``
    when it holds it, ``untested`` with one seed; None without gaps."""
    lead = mean_lead(d, schedule)
    if lead is None:
        return None
    mean, low, high = lead
    kind = verdict(low, high)
    return {"noise": "level", "untested": "untested"}.get(kind, "ahead" if mean > 0 else "behind")


def schedule_effect(d: ReportData) -> str | None:
    """What the cosine does to the focus's mean gap (over batch sizes), by its sign: ``kept`` (ahead under both
    schedules), ``lost`` (ahead at a constant rate only), ``gained`` (ahead with the cosine only), ``behind``
    (ahead under neither); None without both schedules' gaps, where the report says nothing of the sensitivity's
    findings. Whether the change exceeds the seeds' noise is ``schedule_shift``."""
    constant, cosine = mean_lead(d, "constant"), mean_lead(d, "cosine")
    if constant is None or cosine is None:
        return None
    before, after = constant[0] > TIE, cosine[0] > TIE
    return {(True, True): "kept", (True, False): "lost", (False, True): "gained", (False, False): "behind"}[
        (before, after)]


def schedule_shift(d: ReportData) -> str | None:
    """Whether the cosine's effect on the focus's mean gap (``lead_shift``) exceeds the seeds' noise: ``significant``,
    ``noise`` or ``untested`` (one seed); None without it."""
    shift = lead_shift(d)
    return None if shift is None else verdict(shift[1], shift[2])


def mean_lead_words(d: ReportData, schedule: str) -> Text:
    """``+0,4 point [−0,2 ; 1,1]``: the focus's gap averaged over the batch sizes under ``schedule`` (``mean_lead``)."""
    return Text(french.typeset(interval_words(mean_lead(d, schedule))))


def shift_words(d: ReportData) -> Text:
    """``−0,6 point [−1,3 ; 0,1]``: what the cosine does to the focus's mean gap, seed by seed (``lead_shift``)."""
    return Text(french.typeset(interval_words(lead_shift(d))))


def cosine_gaps(d: ReportData) -> Text:
    """The focus's gap to the best other optimizer at each batch size with the cosine, paired by seed, its rank
    and how many gaps exceed the seeds' noise."""
    g = gaps(d, "cosine")
    if g.empty:
        return Text("n.d.")
    values = {int(r.batch_size): (r.gap, r.low, r.high) for r in g.itertuples()}
    return Text(french.typeset(f"{_by_batch(values)} ; {_standing(g)}"))


def schedule_answer(d: ReportData) -> str:
    """Does the cosine schedule change the mean ranking (at every batch size, and on average), and its effect on
    each optimizer, paired by seed: does it exceed the seeds' noise?"""
    s = summary(d)
    if s.empty or len(d.optimizers) < 2:
        return ""
    constant, cosine = ranking(d, "constant"), ranking(d, "cosine")
    words = lambda order: order_words(d, order)  # noqa: E731
    changed = [b for b in sorted(s["batch_size"].unique())
               if ranking(d, "constant", b) != ranking(d, "cosine", b)]
    if constant == cosine:
        lead = f"En moyenne sur les tailles de lot, le classement est le même avec les deux planifications ({words(constant)})"
    else:
        lead = (f"En moyenne sur les tailles de lot, l'ordre des moyennes change : {words(constant)} à taux constant, "
                f"{words(cosine)} avec le cosinus")
    by_batch = ("il ne change à aucune taille de lot" if not changed else
                f"il change à {french.plural(len(changed), 'taille')} de lot ({french.enumeration([str(b) for b in changed])})")
    effects = {n: cosine_effect(d, n) for n in d.optimizers}
    effects = {n: e for n, e in effects.items() if e is not None}
    listed = french.enumeration([f"{d.label(n)} {interval_words(e)}" for n, e in effects.items()])
    moved = [d.label(n) for n, e in effects.items() if verdict(e[1], e[2]) == "significant"]
    if any(verdict(e[1], e[2]) == "untested" for e in effects.values()):
        size = ""
    elif moved:
        size = f" : il dépasse le bruit des graines pour {french.enumeration(moved)}"
    else:
        size = " : il ne dépasse le bruit des graines pour aucun optimiseur"
    return (f"{lead} ; {by_batch}. Effet moyen du cosinus sur chaque optimiseur (cosinus − constant, en moyenne sur "
            f"les tailles de lot) : {listed}{size}.")


def batches(d: ReportData) -> Text:
    """``32, 64, 128 et 256``: the batch sizes of the sensitivity study."""
    s = summary(d)
    return Text(french.enumeration([str(b) for b in sorted(s["batch_size"].unique())]) if not s.empty else "n.d.")


def batch(d: ReportData, index: int) -> Text:
    """One batch size of the study, by its rank (0: the smallest, the reference of the square-root rule)."""
    s = summary(d)
    return Text(str(sorted(s["batch_size"].unique())[index]) if not s.empty else "n.d.")


def batch_ratio(d: ReportData) -> Text:
    """The largest batch over the smallest: what the linear rule would multiply Lion's step by."""
    s = summary(d)
    sizes = sorted(s["batch_size"].unique()) if not s.empty else []
    return Text(str(sizes[-1] // sizes[0]) if sizes else "n.d.")


def past_schedule_counts(d: ReportData) -> tuple[int, int]:
    """(cosine trainings that went on after their schedule ended, cosine trainings): a training of ``epochs_run``
    epochs took ``ceil(train images / batch)`` steps per epoch, its schedule ``schedule_steps`` steps."""
    frame = table(d)
    if frame.empty or "schedule_steps" not in frame or d.split.empty:
        return 0, 0
    cosine = frame[frame["schedule"] == "cosine"]
    n_train = int((d.split["split"] == "train").sum())
    steps = cosine["epochs_run"] * np.ceil(n_train / cosine["batch_size"])
    return int((steps > cosine["schedule_steps"]).sum()), len(cosine)


def past_schedule(d: ReportData) -> Text:
    """``77 des 120``: the cosine trainings that outlived their schedule."""
    past, total = past_schedule_counts(d)
    return Text(f"{french.integer(past)} des {french.integer(total)}")


def warmup(d: ReportData) -> Text:
    return Text(french.percent(study_sensitivity.WARMUP_FRACTION, 0))


def seeds_words(d: ReportData) -> Text:
    """``2 graines, intervalles de Student sur les graines`` or ``une seule graine : pas d'intervalle``."""
    s = summary(d)
    n = int(s["n_seeds"].max()) if not s.empty else 0
    return Text(f"{french.plural(n, 'graine')}, intervalles de Student sur les graines" if n > 1 else
                "une seule graine : pas d'intervalle")


def section(d: ReportData) -> Text:
    """The section's answer on the ranking under each schedule (the method and the verdicts on the focus's gap are
    in ``index.qmd``)."""
    if summary(d).empty:
        return Text("")
    return Text(french.typeset(schedule_answer(d)))
